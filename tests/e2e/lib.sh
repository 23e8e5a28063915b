# End-to-end helpers: the real facteur binary in tmux on a private
# socket, keys sent with send-keys, the screen read with capture-pane
# and waited for with a bound (no fixed sleeps): 30 s, which only a
# failing test ever reaches, so a loaded machine does not fail a good one.
: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(pwd)}"
FACTEUR=${FACTEUR:-$top_builddir/facteur}
export LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=tmux-256color
export NOTMUCH_CONFIG=/dev/null

E2E_TMP=$(mktemp -d /tmp/facteur-e2e.XXXXXX)
SOCK="facteur-e2e-$$-0"
starts=0
export HOME=$E2E_TMP/home XDG_CONFIG_HOME=$E2E_TMP/home/.config
mkdir -p "$HOME"
tests_run=0 tests_failed=0
current=

cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	rm -rf "$E2E_TMP"
}
trap cleanup EXIT

# Starts facteur with the given arguments in an 80x24 pane. Each start
# gets a tmux server on a socket of its own: kill-server returns before
# the old server has gone, and a new session sent to the same socket can
# land in the dying server ("server exited unexpectedly").
start() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	starts=$((starts + 1))
	SOCK="facteur-e2e-$$-$starts"
	tmux -L "$SOCK" -f /dev/null new-session -d -s e2e -x "${COLS:-80}" -y "${ROWS:-24}" \
		"env LANG=C.UTF-8 TERM=tmux-256color HOME=$HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME ASAN_OPTIONS=\${ASAN_OPTIONS:-} LSAN_OPTIONS=\${LSAN_OPTIONS:-} $FACTEUR $*; echo \"[exit \$?]\"; sleep 30"
	tmux -L "$SOCK" set-option -t e2e remain-on-exit on >/dev/null
}

screen() {
	tmux -L "$SOCK" capture-pane -p -t e2e
}

keys() {
	tmux -L "$SOCK" send-keys -t e2e "$@"
}

# Types text literally (no key-name lookup).
type_text() {
	tmux -L "$SOCK" send-keys -t e2e -l "$1"
}

# Waits until the screen matches the extended regular expression.
wait_for() {
	local pat=$1 i
	for i in $(seq 1 ${E2E_WAIT_STEPS:-600}); do
		screen | grep -Eq -- "$pat" && return 0
		sleep 0.05
	done
	fail "timed out waiting for /$pat/"
	return 1
}

# Waits until screen row N (1-based) matches.
wait_row() {
	local row=$1 pat=$2 i
	for i in $(seq 1 ${E2E_WAIT_STEPS:-600}); do
		screen | sed -n "${row}p" | grep -Eq -- "$pat" && return 0
		sleep 0.05
	done
	fail "timed out waiting for row $row to match /$pat/"
	return 1
}

# Waits until the screen no longer matches.
wait_gone() {
	local pat=$1 i
	for i in $(seq 1 ${E2E_WAIT_STEPS:-600}); do
		screen | grep -Eq -- "$pat" || return 0
		sleep 0.05
	done
	fail "timed out waiting for /$pat/ to go away"
	return 1
}

expect_screen() {
	screen | grep -Eq -- "$1" || fail "screen does not show /$1/"
}

expect_no_screen() {
	! screen | grep -Eq -- "$1" || fail "screen shows /$1/"
}

# The line of the screen that matches, for order checks.
line_of() {
	screen | grep -nE -- "$1" | head -n 1 | cut -d: -f1
}

fail() {
	if [ -n "$current" ]; then
		echo "  FAIL [$current]: $*"
		echo "  --- screen:"
		screen | sed 's/^/  | /'
		current_failed=1
	fi
}

run_test() {
	current=$1
	current_failed=0
	tests_run=$((tests_run + 1))
	"$1"
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	if [ "$current_failed" -ne 0 ]; then
		tests_failed=$((tests_failed + 1))
		echo "FAIL: $1"
	else
		echo "PASS: $1"
	fi
	current=
}

finish() {
	echo "[====] Synthesis: Tested: $tests_run | Passing: $((tests_run - tests_failed)) | Failing: $tests_failed | Crashing: 0"
	[ "$tests_failed" -eq 0 ]
}

# Starts the private servers of tests/servers for this script (exit 77,
# a skip, without root or Dovecot; 99 when they do not start) and loads
# their env (ports, CA, users). They are stopped when the script exits;
# servers_stop stops them earlier.
e2e_start_servers() {
	if [ "$(id -u)" != 0 ] || ! command -v dovecot >/dev/null 2>&1; then
		echo "SKIP: the test servers need root and dovecot"
		exit 77
	fi
	# Not under E2E_TMP (0700): Postfix and Dovecot drop root.
	SRV=$(mktemp -d /tmp/facteur-e2e-srv.XXXXXX) || exit 99
	trap 'servers_stop; cleanup' EXIT
	trap 'exit 130' INT TERM HUP
	if ! "$top_srcdir/tests/servers/start" "$SRV" >"$E2E_TMP/start.log" 2>&1; then
		tail -n 20 "$E2E_TMP/start.log" "$SRV"/log/* 2>/dev/null
		exit 99
	fi
	. "$SRV/env"
}

servers_stop() {
	[ -n "${SRV:-}" ] || return 0
	"$top_srcdir/tests/servers/stop" "$SRV" >/dev/null 2>&1 || true
	rm -rf "$SRV"
	SRV=
}
