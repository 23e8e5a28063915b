#!/usr/bin/env bash
# End-to-end: MIME in a real terminal (tmux): an HTML-only message, a
# multilingual one, attachments listed and saved byte for byte, quotes
# folded, URLs listed, the message piped and saved, a huge message that
# renders in the background while the keyboard still works.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
corpus=$top_srcdir/tests/data/mime

# A Maildir holding the given corpus messages, and a configuration that
# uses no mailcap (the built-in HTML converter) and saves into $SAVE.
new_mime_maildir() {
	local name=$1 m
	shift
	MD=$E2E_TMP/mail-$name
	SAVE=$E2E_TMP/save-$name
	CONF=$E2E_TMP/conf-$name
	rm -rf "$MD" "$SAVE"
	mkdir -p "$MD"/cur "$MD"/new "$MD"/tmp "$SAVE"
	for m in "$@"; do
		cp "$corpus/$m.eml" "$MD/cur/$m.test:2,S"
	done
	{
		echo 'set mailcap_path = ""'
		echo "set attach_save_dir = \"$SAVE\""
		echo "${EXTRA_CONF:-}"
	} > "$CONF"
}

t_html_only_message_is_readable() {
	new_mime_maildir html html-only
	start -F "$CONF" -f "$MD"
	wait_for 'HTML only' || return
	keys Enter
	wait_for '^Subject: HTML only' || return
	wait_for 'Hello & welcome, see our site\[1\] and this\[2\]\.' || return
	expect_screen '^\* Second € ☺'
	expect_screen '^\[1\] https://example.org/a'
	expect_no_screen '<p>|<script|&amp;'
	keys q q
	wait_for '\[exit 0\]'
}

t_multilingual_message_shows_every_script() {
	new_mime_maildir multi multilingual
	start -F "$CONF" -f "$MD"
	wait_for 'Приветκόσμε世界' || return
	keys Enter
	wait_for '^Subject: Приветκόσμε世界' || return
	expect_screen '^Здравствуй, мир!'
	expect_screen '^シフトJISの本文です。'
	expect_screen '^Καλημέρα κόσμε'
	expect_screen '^你好，世界'
	expect_screen 'שלום עולם'
	keys q q
	wait_for '\[exit 0\]'
}

t_attachments_listed_and_saved_byte_for_byte() {
	new_mime_maildir attach rfc2231-filenames
	start -F "$CONF" -f "$MD"
	wait_for 'RFC 2231 file names' || return
	keys Enter
	wait_for 'Attachment #2: € rates 2025.pdf' || return
	keys v
	wait_for 'Attachments of: RFC 2231 file names' || return
	wait_for '^ +2 € rates 2025\.pdf +application/pdf +9 B +base64' ||
		return
	expect_screen '^ +4 café menu\.bin +application/octet-stream +3 B +base64'
	keys j
	wait_for '\[2/5\]' || return
	keys s
	wait_for "Save to file: $SAVE/€ rates 2025\.pdf" || return
	keys Enter
	wait_for 'Saved .*€ rates 2025\.pdf \(9 bytes\)' || return
	printf '%%PDF-1.4\n' | cmp - "$SAVE/€ rates 2025.pdf" ||
		fail "saved file differs"
	# Saving again asks before replacing.
	keys s
	wait_for 'Save to file:' || return
	keys Enter
	wait_for 'File exists, overwrite\? \(y/n\)' || return
	keys n Enter
	wait_for 'Not saved\.' || return
	# Save all: the others are created, the first is left alone.
	keys S
	wait_for "Save all attachments to directory: $SAVE" || return
	keys Enter
	wait_for 'Saved 3 to .*; 1 already there' || return
	[ -f "$SAVE/café menu.bin" ] || fail "café menu.bin not saved"
	printf '\0\1\2' | cmp - "$SAVE/café menu.bin" ||
		fail "café menu.bin differs"
	# A text attachment is shown inline.
	keys j
	wait_for '\[3/5\]' || return
	keys Enter
	wait_for '^continued' || return
	keys q
	wait_for 'Attachments of' || return
	keys q q q
	wait_for '\[exit 0\]'
}

t_hostile_attachment_name_cannot_escape() {
	new_mime_maildir evil
	cat > "$MD/cur/evil.test:2,S" <<'M'
From: x@example.org
Subject: Evil name
Date: Tue, 7 Jan 2025 08:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=b

--b
Content-Type: text/plain

body
--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="../../escape.txt"

payload
--b--
M
	start -F "$CONF" -f "$MD"
	wait_for 'Evil name' || return
	keys Enter
	wait_for '^body' || return
	keys v
	wait_for 'escape\.txt' || return
	keys S
	wait_for 'Save all attachments to directory' || return
	keys Enter
	wait_for 'Saved 1 to' || return
	[ -f "$SAVE/escape.txt" ] || fail "not saved inside the directory"
	[ ! -e "$E2E_TMP/escape.txt" ] || fail "path traversal"
	keys q q q
	wait_for '\[exit 0\]'
}

t_quotes_fold_and_urls_list() {
	new_mime_maildir fold html-only
	start -F "$CONF" -f "$MD"
	wait_for 'HTML only' || return
	keys Enter
	wait_for '^> Quoted text' || return
	keys T
	wait_for '2 quoted lines hidden: T shows them' || return
	expect_no_screen '^> Quoted text'
	keys T
	wait_for '^> Quoted text' || return
	keys u
	wait_for 'URLs \(Enter opens' || return
	expect_screen '^ +1 https://example.org/a'
	expect_screen '^ +2 https://example.org/b'
	keys q q q
	wait_for '\[exit 0\]'
}

t_url_opens_with_browser_without_a_shell() {
	new_mime_maildir url html-only
	# $BROWSER gets the URL as one argument; nothing is interpreted.
	cat > "$E2E_TMP/browser" <<B
#!/bin/sh
printf '%s\n' "\$@" > "$E2E_TMP/opened"
B
	chmod +x "$E2E_TMP/browser"
	# The tmux server passes its environment on to facteur.
	BROWSER=$E2E_TMP/browser start -F "$CONF" -f "$MD"
	wait_for 'HTML only' || return
	keys Enter
	wait_for '^Subject: HTML only' || return
	keys u
	wait_for 'https://example.org/b' || return
	keys j Enter
	wait_for '^Subject: HTML only|URLs' || return
	for i in $(seq 1 100); do
		[ -s "$E2E_TMP/opened" ] && break
		sleep 0.05
	done
	[ "$(cat "$E2E_TMP/opened" 2>/dev/null)" = "https://example.org/b" ] ||
		fail "browser got '$(cat "$E2E_TMP/opened" 2>/dev/null)'"
	keys q q q
	wait_for '\[exit 0\]'
}

t_pipe_and_save_the_message() {
	new_mime_maildir pipe plain-ascii
	start -F "$CONF" -f "$MD"
	# The row, not the status line: "[0/0 messages]" shows while the
	# Maildir is still being indexed, and Enter there opens nothing.
	wait_for 'Lunch on Friday' || return
	keys Enter
	wait_for '^Subject:' || return
	keys '|'
	wait_for 'Pipe message to command:' || return
	type_text "wc -c > $E2E_TMP/piped"
	keys Enter
	wait_for 'Press any key to continue' || return
	keys x
	wait_for '^Subject:' || return
	[ "$(tr -d ' ' < "$E2E_TMP/piped")" = "$(wc -c < "$corpus/plain-ascii.eml" | tr -d ' ')" ] ||
		fail "the command did not get the whole message"
	keys S
	wait_for 'Save to file:' || return
	keys C-u
	type_text "$SAVE/copy.eml"
	keys Enter
	wait_for 'Saved .*copy\.eml' || return
	cmp "$corpus/plain-ascii.eml" "$SAVE/copy.eml" || fail "saved message differs"
	keys q q
	wait_for '\[exit 0\]'
}

t_html_through_a_mailcap_filter() {
	new_mime_maildir mailcap html-only
	printf 'text/html; tr a-z A-Z < %%s; copiousoutput\n' > "$E2E_TMP/mailcap"
	sed -i "s|^set mailcap_path.*|set mailcap_path = \"$E2E_TMP/mailcap\"|" "$CONF"
	start -F "$CONF" -f "$MD"
	wait_for 'HTML only' || return
	keys Enter
	wait_for 'text/html shown by mailcap: tr a-z A-Z' || return
	wait_for '<P>HELLO +&AMP; WELCOME' || return
	keys q q
	wait_for '\[exit 0\]'
}

# Waits until the first screen row matching $1 compares ($2: -le, -gt) to
# $3 (a missing row counts as 0).
wait_row() {
	local i r
	for i in $(seq 1 200); do
		r=$(line_of "$1")
		[ "${r:-0}" "$2" "$3" ] && return 0
		sleep 0.05
	done
	fail "row of /$1/ is ${r:-none}, not $2 $3"
	return 1
}

t_fifty_megabyte_message_keeps_the_keyboard() {
	new_mime_maildir huge
	python3 - "$MD/cur/huge.test:2,S" <<'P'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: big@example.org\nSubject: Huge message\n"
            "Date: Tue, 7 Jan 2025 08:00:00 +0000\n"
            "Content-Type: text/plain; charset=utf-8\n\n")
    line = "All work and no play makes a very long message. " * 2 + "\n"
    n = 50 * 1024 * 1024 // len(line)
    f.write("FIRST LINE\n")
    f.write(line * (n // 2))
    f.write("MIDDLE MARKER at https://example.org/middle\n")
    f.write(line * (n - n // 2))
    f.write("LAST LINE\n")
P
	start -F "$CONF" -f "$MD"
	wait_for 'Huge message' || return
	keys Enter
	# A render that takes more than 50 ms says so.
	wait_for '^Loading message\.\.\.' || return
	# While it renders, the keyboard answers: help opens and closes.
	keys '?'
	wait_for 'help|Help' || return
	keys q
	wait_for '^FIRST LINE' || return
	# The whole text is there: its true last line, nothing cut.
	keys End
	wait_for '^LAST LINE' || return
	expect_screen 'Huge message +-- 100%'
	expect_no_screen 'too long|not shown'
	keys Home
	wait_for '^FIRST LINE' || return
	# A search runs over all 50 MB (on the worker) and lands in the middle.
	keys /
	type_text 'MIDDLE MARKER'
	keys Enter
	wait_for '^MIDDLE MARKER' || return
	expect_screen 'Huge message +-- [45][0-9]%'
	# The window starts just above the match: paging up leaves it.
	wait_row '^MIDDLE MARKER' -le 3 || return
	keys PageUp
	wait_row '^MIDDLE MARKER' -gt 15 || return
	keys PageDown
	wait_row '^MIDDLE MARKER' -le 3 || return
	# Back to the first line, searching backwards from the end.
	keys End
	wait_for '^LAST LINE' || return
	keys M-/
	type_text 'FIRST LINE'
	keys Enter
	wait_for '^FIRST LINE' || return
	# 200 pages down and up again: across windows both ways.
	keys -N 200 PageDown
	wait_row '^FIRST LINE' -le 0 || return
	expect_screen '^All work'
	keys -N 200 PageUp
	wait_for '^FIRST LINE' || return
	keys u
	wait_for 'https://example.org/middle' || return
	keys q q q
	wait_for '\[exit 0\]'
}

# A message bigger than one pager window (4096 lines): 5000 text lines,
# a quoted run of 6000 lines, then three lines.
long_quote_message() {
	python3 - "$1" <<'P'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: q@example.org\nSubject: Long quote\n"
            "Date: Tue, 7 Jan 2025 08:00:00 +0000\n\n")
    for i in range(5000):
        f.write("line %d\n" % i)
    for i in range(6000):
        f.write("> quoted %d\n" % i)
    f.write("AFTER QUOTE\nfoo bar foo baz foo\nend\n")
P
}

# "ROW COL" (1-based) of the first underlined cell: the current match.
underlined() {
	tmux -L "$SOCK" capture-pane -e -p -t e2e | python3 -c '
import re, sys
for y, line in enumerate(sys.stdin.read().split("\n")):
    x, ul = 0, False
    for m in re.finditer(r"\x1b\[([0-9;:]*)m|\x1b[^m]*?[A-Za-z]|(.)", line):
        if m.group(2) is not None:
            if ul:
                print(y + 1, x + 1)
                sys.exit(0)
            x += 1
        elif m.group(1) is not None:
            for c in (m.group(1) or "0").split(";"):
                if c in ("0", ""):
                    ul = False
                elif c == "4" or c.startswith("4:"):
                    ul = c != "4:0"
                elif c == "24":
                    ul = False
print("none")'
}

# Waits until the current match is at "ROW COL".
wait_match() {
	local i got
	for i in $(seq 1 200); do
		got=$(underlined)
		[ "$got" = "$1" ] && return 0
		sleep 0.05
	done
	fail "current match at ${got:-none}, not $1"
	return 1
}

t_folded_quote_over_two_windows_is_one_block() {
	new_mime_maildir longquote
	long_quote_message "$MD/cur/longquote.test:2,S"
	start -F "$CONF" -f "$MD"
	wait_for 'Long quote' || return
	keys Enter
	wait_for '^line 0$' || return
	# Unfolded, page down until the window that splits the run shows
	# its first quoted lines, then fold: the block is counted whole.
	keys -N 238 PageDown
	wait_for '^line 4999$' || return
	keys T
	wait_for '^\[-- 6000 quoted lines hidden: T shows them --\]$' || return
	[ "$(line_of 'quoted lines hidden')" = \
	    "$(($(line_of '^line 4999$') + 1))" ] ||
		fail "the block is not right under line 4999"
	expect_screen '^AFTER QUOTE$'
	# From the end: one block, right above the last lines; up line by
	# line, one row down per key.
	keys End
	wait_for '^end$' || return
	[ "$(screen | grep -c 'quoted lines hidden')" = 1 ] ||
		fail "the block is shown twice"
	expect_screen '^\[-- 6000 quoted lines hidden'
	r=$(line_of 'quoted lines hidden')
	[ "$r" = 19 ] || fail "the block is on row $r, not 19"
	keys -N 2 Up
	wait_row 'quoted lines hidden' -eq $((r + 2)) || return
	# From the top, paging down reaches it folded, once, whole.
	keys Home
	wait_for '^line 0$' || return
	keys -N 300 PageDown
	wait_for '^end$' || return
	expect_screen '^\[-- 6000 quoted lines hidden'
	[ "$(screen | grep -c 'quoted lines hidden')" = 1 ] ||
		fail "the block is shown twice"
	# Unfolded again: the quoted lines are back.
	keys T
	wait_for '^> quoted' || return
	keys q q
	wait_for '\[exit 0\]'
}

t_search_visits_every_match_of_a_line() {
	new_mime_maildir matches
	long_quote_message "$MD/cur/matches.test:2,S"
	start -F "$CONF" -f "$MD"
	wait_for 'Long quote' || return
	keys Enter
	wait_for '^line 0$' || return
	# The message is bigger than a window: the search runs on the spool.
	keys /
	type_text 'foo'
	keys Enter
	wait_for '^foo bar foo baz foo$' || return
	r=$(line_of '^foo bar foo baz foo$')
	wait_match "$r 1" || return
	# n: the next match on the same line, then the next one.
	keys n
	wait_match "$r 9" || return
	keys n
	wait_match "$r 17" || return
	keys n
	wait_for 'Not found: foo' || return
	# And back, one match at a time.
	keys Escape n
	wait_match "$r 9" || return
	keys Escape n
	wait_match "$r 1" || return
	keys q q
	wait_for '\[exit 0\]' || return
	# The same in a message held whole in the pager's window.
	new_mime_maildir matches-small
	printf 'From: q@example.org\nSubject: Few lines\n\nfirst\n%s\n' \
	    'foo bar foo baz foo' > "$MD/cur/small.test:2,S"
	start -F "$CONF" -f "$MD"
	wait_for 'Few lines' || return
	keys Enter
	wait_for '^first$' || return
	keys /
	type_text 'FOO'
	keys Enter
	r=$(line_of '^foo bar foo baz foo$')
	wait_match "$r 1" || return
	keys n
	wait_match "$r 9" || return
	keys n
	wait_match "$r 17" || return
	keys Escape n
	wait_match "$r 9" || return
	keys q q
	wait_for '\[exit 0\]'
}

for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	run_test "$t"
done
finish
