#!/bin/sh
# The arrows go one way: ui -> mail, core -> backend, send, mime ->
# libraries. Nothing below the UI includes a UI header; no protocol or
# index library is included above the backends.
cd "${top_srcdir:-.}" || exit 1
fail=0	# not `! grep`: a negated command never trips `set -e`
n=0
check() {
	n=$((n + 1))
	if grep -rnE "$2" $3 2>/dev/null; then
		echo "layering: $1"
		fail=$((fail + 1))
	fi
}
check "src/ includes a UI header" '#include "ui/' src/
check "UI, core or model includes libetpan or notmuch" \
	'#include <(libetpan|notmuch)' "ui/ src/core src/mail"
check "UI includes a backend's private header" \
	'#include "backend/[a-z0-9]+/' ui/
check "a backend includes curses" '#include <n?curses' "src/backend src/mime src/config src/core src/mail src/net"
check "core includes anything above it" \
	'#include "(mail|backend|mime|config|net)/' src/core
echo "[====] Synthesis: Tested: $n | Passing: $((n - fail)) | Failing: $fail | Crashing: 0"
exit $((fail > 0))
