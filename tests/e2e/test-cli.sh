#!/usr/bin/env bash
# End-to-end without a terminal: command-line errors, configuration
# errors and a missing Maildir give a clear message and an exit status.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

expect() {	# expect STATUS PATTERN -- command...
	local want=$1 pat=$2; shift 3
	local out st
	out=$("$@" 2>&1 </dev/null); st=$?
	[ "$st" -eq "$want" ] || fail "exit $st, wanted $want: $out"
	grep -Eq -- "$pat" <<<"$out" || fail "output does not match /$pat/: $out"
}

t_help_and_version() {
	expect 0 'usage: facteur' -- "$FACTEUR" --help
	expect 0 '-f DIR' -- "$FACTEUR" -h
	expect 0 '^facteur [0-9]+\.[0-9]+' -- "$FACTEUR" --version
	expect 64 'usage: facteur' -- "$FACTEUR" --bogus
}

t_config_error_names_file_and_line() {
	printf '# ok\nset sort = threads\nset sortt = date\n' > "$E2E_TMP/bad.conf"
	expect 78 "bad.conf:3: .*sortt" -- "$FACTEUR" -F "$E2E_TMP/bad.conf" -C
	printf 'bind index x no-such-action\n' > "$E2E_TMP/bad2.conf"
	expect 78 "bad2.conf:1: .*no-such-action" -- "$FACTEUR" -F "$E2E_TMP/bad2.conf" -f /tmp
	expect 78 "nope.conf" -- "$FACTEUR" -F "$E2E_TMP/nope.conf" -C
	printf 'set sort = threads\ncolor index_unread bold brightwhite default\n' > "$E2E_TMP/good.conf"
	expect 0 'valid' -- "$FACTEUR" -F "$E2E_TMP/good.conf" -C
}

t_default_config_is_read_from_xdg() {
	mkdir -p "$XDG_CONFIG_HOME/facteur"
	printf 'set nosuchoption = 1\n' > "$XDG_CONFIG_HOME/facteur/config"
	expect 78 "facteur/config:1:" -- "$FACTEUR" -C
	expect 0 'valid' -- "$FACTEUR" -n -C
	rm -f "$XDG_CONFIG_HOME/facteur/config"
}

t_missing_maildir_is_a_clear_error() {
	expect 66 "/nonexistent/Mail: no such Maildir" -- "$FACTEUR" -n -f /nonexistent/Mail
	MAILDIR=/nonexistent/env expect 66 "/nonexistent/env" -- env MAILDIR=/nonexistent/env "$FACTEUR" -n
}

t_not_a_terminal() {
	mkdir -p "$E2E_TMP/md/cur" "$E2E_TMP/md/new" "$E2E_TMP/md/tmp"
	expect 64 "must be a terminal" -- "$FACTEUR" -n -f "$E2E_TMP/md"
}

for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	run_test "$t"
done
finish
