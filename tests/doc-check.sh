#!/bin/sh
# Every option, account key and action is documented in the man pages,
# and the man pages format without warnings.
cd "${top_srcdir:-.}" || exit 1
n=0 fail=0
need() {	# need WORD FILE
	n=$((n + 1))
	if ! grep -q -- "$1" "$2"; then
		echo "doc-check: '$1' is not documented in $2"
		fail=$((fail + 1))
	fi
}
for o in $(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", CONFIG_.*/\1/p' src/config/options.c); do
	need "Ic $o" doc/facteur.conf.5
done
for k in $(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", offsetof(struct config_account.*/\1/p' src/config/parse.c); do
	need "Ic $k" doc/facteur.conf.5
done
for a in $(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", ".*/\1/p' ui/actions.c); do
	need "$a" doc/facteur.conf.5
done
for f in doc/facteur.1 doc/facteur.conf.5; do
	n=$((n + 1))
	if ! command -v mandoc >/dev/null 2>&1; then
		out="mandoc is not installed (contrib/deps --test installs it)"
	else
		out=$(LC_ALL=C.UTF-8 mandoc -T lint -W warning "$f" 2>&1 || true)
	fi
	if [ -n "$out" ]; then
		echo "doc-check: $out"
		fail=$((fail + 1))
	fi
done
echo "[====] Synthesis: Tested: $n | Passing: $((n - fail)) | Failing: $fail | Crashing: 0"
exit $((fail > 0))
