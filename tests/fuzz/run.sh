#!/bin/sh
# Builds the libFuzzer harnesses with clang and runs each on its seed
# corpus for a fixed number of iterations: tests/fuzz/run.sh [RUNS].
# BUILD (default /tmp/facteur-fuzz) holds the binaries and the corpora
# the runs grow; the seeds in the tree are never written to.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=${1:-2000}
build=${BUILD:-/tmp/facteur-fuzz}
cc=${CLANG:-clang}
command -v "$cc" >/dev/null || { echo "fuzz: $cc not found (contrib/deps --test)"; exit 77; }
mkdir -p "$build"
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined
    -fno-sanitize-recover=undefined -I$top/src -I$top"
libs="$top/src/mime/sanitize.c $top/src/mime/decode.c $top/src/mime/html.c
    $top/src/mime/render.c $top/src/mime/parts.c $top/src/mime/mailcap.c
    $top/src/core/buf.c $top/src/core/xmalloc.c $top/src/core/error.c
    $top/src/core/log.c"
fail=0 n=0
for h in render decode html; do
	n=$((n + 1))
	# shellcheck disable=SC2086
	$cc $flags -o "$build/fuzz-$h" "$top/tests/fuzz/fuzz-$h.c" $libs \
	    -letpan -lpthread
	mkdir -p "$build/corpus-$h"
	case $h in
	render)	seeds=$top/tests/data/mime ;;
	*)	seeds=$top/tests/fuzz/seeds/$h ;;
	esac
	if ! LANG=C.UTF-8 "$build/fuzz-$h" -runs="$runs" -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 "$build/corpus-$h" "$seeds" \
	    >"$build/fuzz-$h.log" 2>&1; then
		echo "fuzz-$h: FAILED, see $build/fuzz-$h.log"
		tail -n 30 "$build/fuzz-$h.log"
		fail=$((fail + 1))
	else
		echo "fuzz-$h: $runs runs, no crash"
	fi
done
echo "[====] Synthesis: Tested: $n | Passing: $((n - fail)) | Failing: $fail | Crashing: 0"
[ "$fail" -eq 0 ]
