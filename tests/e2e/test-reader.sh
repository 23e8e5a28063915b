#!/usr/bin/env bash
# End-to-end: read a local Maildir the way a user does, in a real
# terminal (tmux): open, move, read, search, limit, tag, resize, quit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/fixture.sh"

new_maildir() {
	MD=$E2E_TMP/mail-$1
	rm -rf "$MD"
	fixture_maildir "$MD"
}

t_open_shows_newest_first_with_status() {
	new_maildir open
	start -n -f "$MD"
	wait_for 'Long report' || return
	wait_for '\[1/6 messages\]  1 unread' || return
	expect_screen 'facteur: local: INBOX'
	expect_screen 'Quarterly budget'
	# Newest first: Long report (Jan 15) above Quarterly budget (Jan 10).
	[ "$(line_of 'Long report')" -lt "$(line_of ' Quarterly budget')" ] ||
		fail "not newest first"
	# Decoded RFC 2047 subjects and names, wide characters aligned.
	expect_screen 'Zoë Dupont +Café ☕ demain'
	expect_screen '田中太郎 +日本語の件名'
	# The unread message is marked N.
	expect_screen '^N +2025-01-10 +Alice Martin +Quarterly budget'
	keys q
	wait_for '\[exit 0\]'
}

t_moving_the_cursor() {
	new_maildir move
	start -n -f "$MD"
	wait_for '\[1/6 messages\]' || return
	keys j j
	wait_for '\[3/6 messages\]' || return
	keys k
	wait_for '\[2/6 messages\]' || return
	keys End
	wait_for '\[6/6 messages\]' || return
	keys Home
	wait_for '\[1/6 messages\]' || return
	keys Down Down Up
	wait_for '\[2/6 messages\]' || return
	keys q
	wait_for '\[exit 0\]'
}

t_read_a_message_marks_it_read() {
	new_maildir read
	start -n -f "$MD"
	wait_for 'Quarterly budget' || return
	keys End
	wait_for '\[6/6' || return
	# Alice's message is the oldest of the inbox (row 7).
	keys Enter
	wait_for '^Subject: Quarterly budget' || return
	expect_screen '^From: Alice Martin <alice@example.org>'
	expect_screen 'The total is 12,400 euros.'
	keys q
	wait_for '\[6/6 messages\]  0 unread' || return
	expect_no_screen '^N +2025-01-10'
	expect_screen '^ +2025-01-10 +Alice Martin'
	# Durable: the Maildir file now carries the S flag.
	for i in $(seq 1 100); do
		ls "$MD"/cur/ | grep -q '^1000\.a1\.test:2,.*S' && break
		sleep 0.05
	done
	ls "$MD"/cur/ | grep -q '^1000\.a1\.test:2,.*S' || fail "file not marked seen: $(ls "$MD"/new "$MD"/cur)"
	keys q
	wait_for '\[exit 0\]'
}

t_pager_decodes_and_scrolls() {
	new_maildir pager
	start -n -f "$MD"
	wait_for 'Long report' || return
	keys Enter
	wait_for 'Report line 001' || return
	expect_no_screen 'Report line 100'
	keys End
	wait_for 'Report line 120' || return
	keys Home
	wait_for 'Report line 001' || return
	# Next message: Tanaka's, in UTF-8.
	keys J
	wait_for 'こんにちは' || return
	keys J
	wait_for 'Body with' || return
	keys J
	wait_for 'On se retrouve au café demain à 9h' || return
	keys q
	wait_for '\[4/6 messages\]' || return
	keys q
	wait_for '\[exit 0\]'
}

t_hostile_subject_never_reaches_the_terminal() {
	new_maildir hostile
	start -n -f "$MD"
	wait_for 'RED ALERT' || return
	# Shown visibly, as caret notation, not obeyed.
	expect_screen '\^\[\]0;pwned\^G\^\[\[31mRED ALERT'
	keys j j
	wait_for '\[3/6' || return
	keys Enter
	wait_for 'Body with' || return
	expect_screen 'Body with \^\[\[2Jclear screen'
	expect_screen 'facteur: '
	title=$(tmux -L "$SOCK" display-message -p -t e2e '#{pane_title}')
	case "$title" in *pwned*|*title*) fail "the pane title was changed to '$title'";; esac
	keys q q
	wait_for '\[exit 0\]'
}

t_search_finds_in_the_index() {
	new_maildir search
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys /
	wait_for 'Search:' || return
	type_text 'budget'
	keys Enter
	wait_for '\[5/6 messages\]' || return
	keys n
	wait_for '\[6/6 messages\]' || return
	keys /
	type_text 'nothing-like-this'
	keys Enter
	wait_for 'Not found: nothing-like-this' || return
	keys q
	wait_for '\[exit 0\]'
}

t_limit_with_a_notmuch_query() {
	new_maildir limit
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys l
	wait_for 'Limit to' || return
	type_text 'from:alice or from:bob'
	keys Enter
	wait_for 'limit: from:alice or from:bob' || return
	wait_for '\[1/2 messages\]' || return
	expect_screen 'Quarterly budget'
	expect_no_screen 'Long report'
	keys l C-u Enter
	wait_for '\[1/6 messages\]' || return
	expect_screen 'Long report'
	keys q
	wait_for '\[exit 0\]'
}

t_flag_delete_undelete_are_instant_and_durable() {
	new_maildir flags
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys F
	wait_for '^ ! +2025-01-15 +Dave' || return
	keys d
	wait_for '\[2/6' || return
	expect_screen '^D! +2025-01-15 +Dave'
	for i in $(seq 1 100); do
		ls "$MD"/cur | grep -q '^1007\.a8\.test:2,FST$' && break
		sleep 0.05
	done
	ls "$MD"/cur | grep -q '^1007\.a8\.test:2,FST$' || fail "flags not on disk: $(ls "$MD"/cur)"
	keys k u
	wait_for '^ ! +2025-01-15 +Dave' || return
	for i in $(seq 1 100); do
		ls "$MD"/cur | grep -q '^1007\.a8\.test:2,FS$' && break
		sleep 0.05
	done
	ls "$MD"/cur | grep -q '^1007\.a8\.test:2,FS$' || fail "undelete not on disk: $(ls "$MD"/cur)"
	# N marks unread again.
	keys k N
	wait_for '^N! +2025-01-15 +Dave' || return
	expect_screen '2 unread'
	keys q
	wait_for '\[exit 0\]'
}

t_deleted_messages_disappear_after_sync() {
	new_maildir sync
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys d
	wait_for '^D +2025-01-15' || return
	sleep 0.3
	keys '$'
	wait_for '\[1/5 messages\]' || return
	expect_no_screen 'Long report'
	# Mail is never lost: the file is still there, marked trashed.
	ls "$MD"/cur | grep -q '^1007\.a8\.test:2,ST$' || fail "file gone or unflagged: $(ls "$MD"/cur)"
	keys q
	wait_for '\[exit 0\]'
}

t_new_mail_appears_on_sync() {
	new_maildir newmail
	start -n -f "$MD"
	wait_for '\[1/6' || return
	printf 'From: Eve <eve@example.org>\nTo: Bob <bob@example.org>\nSubject: Fresh news\nDate: Thu, 16 Jan 2025 07:00:00 +0000\nMessage-ID: <fresh-9@example.org>\n\nHello.\n' > "$MD/new/1008.a9.test"
	keys '$'
	wait_for 'Fresh news' || return
	# The cursor stays on the message it was on.
	wait_for '\[2/7 messages\]' || return
	expect_screen '^N +2025-01-16 +Eve +Fresh news'
	keys q
	wait_for '\[exit 0\]'
}

t_save_moves_to_another_folder() {
	new_maildir save
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys s
	wait_for 'Move to folder:' || return
	# Tab completes the folder name, case folded.
	type_text 'ar'
	keys Tab
	wait_for 'Move to folder: Archive' || return
	keys Enter
	wait_for 'Moved 1 message to Archive' || return
	wait_for '\[1/5 messages\]' || return
	expect_no_screen 'Long report'
	ls "$MD"/.Archive/cur | grep -q '^1007\.a8\.test:2,S$' || fail "not in .Archive: $(ls "$MD"/.Archive/cur)"
	keys s
	type_text 'Nowh'
	keys Tab
	wait_for 'No folder starts with that' || return
	type_text 'ere'
	keys Enter
	wait_for "no folder named 'Nowhere'" || return
	keys q
	wait_for '\[exit 0\]'
}

t_folders_and_sidebar() {
	new_maildir folders
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys c
	wait_for 'Folders and saved searches' || return
	expect_screen 'INBOX +1 unread +6'
	expect_screen 'Archive +1 unread +2'
	keys j Enter
	wait_for 'facteur: local: Archive' || return
	wait_for 'Archived notes' || return
	expect_screen 'Old minutes'
	keys B
	wait_for '│' || return
	expect_screen '^ INBOX +1'
	keys q
	wait_for '\[exit 0\]'
}

t_help_lists_active_bindings() {
	new_maildir help
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys ?
	wait_for 'Keys of the index screen' || return
	expect_screen 'd +delete-message +mark the message deleted'
	# The generic bindings follow the screen's own, a page or two down.
	for i in 1 2 3; do
		screen | grep -Eq 'j, <Down> +next-entry' && break
		keys PageDown
		sleep 0.2
	done
	expect_screen 'j, <Down> +next-entry +move to the next entry'
	keys q
	wait_for '\[1/6' || return
	keys q
	wait_for '\[exit 0\]'
}

t_threads_view_collapses_and_expands() {
	new_maildir threads
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys o
	wait_for '\[1/5 threads\]' || return
	expect_screen '\+\(2\) Re: Quarterly budget|\+\(2\) Quarterly budget'
	keys End Enter
	wait_for '\[5/7 threads\]' || return
	expect_screen '└>'
	keys q
	wait_for '\[exit 0\]'
}

t_resize_redraws() {
	new_maildir resize
	start -n -f "$MD"
	wait_for '\[1/6' || return
	tmux -L "$SOCK" resize-window -t e2e -x 120 -y 30
	wait_row 29 'facteur: local: INBOX' || return
	[ "$(screen | wc -l)" -eq 30 ] || fail "not 30 lines"
	tmux -L "$SOCK" resize-window -t e2e -x 18 -y 4
	wait_for 'Terminal too small' || return
	tmux -L "$SOCK" resize-window -t e2e -x 80 -y 24
	wait_row 23 'facteur: local: INBOX' || return
	expect_screen 'Long report'
	keys q
	wait_for '\[exit 0\]'
}

t_vim_keymap() {
	new_maildir vim
	mkdir -p "$XDG_CONFIG_HOME/facteur"
	printf 'set keymap = vim\n' > "$E2E_TMP/vim.conf"
	start -F "$E2E_TMP/vim.conf" -f "$MD"
	wait_for '\[1/6' || return
	keys G
	wait_for '\[6/6' || return
	keys g g
	wait_for '\[1/6' || return
	keys C-d
	wait_for '\[[2-6]/6' || return
	keys q
	wait_for '\[exit 0\]'
}

t_suspend_and_resume() {
	new_maildir suspend
	start -n -f "$MD"
	wait_for '\[1/6' || return
	pid=$(pgrep -f "^$FACTEUR -n -f $MD\$" | head -n 1)
	[ -n "$pid" ] || { fail "no facteur process"; return; }
	for n in 1 2; do
		keys C-z
		for i in $(seq 1 100); do
			[ "$(ps -o stat= -p "$pid" | cut -c1)" = T ] && break
			sleep 0.05
		done
		[ "$(ps -o stat= -p "$pid" | cut -c1)" = T ] || fail "not stopped after ^Z ($n)"
		kill -CONT "$pid"
		wait_for 'facteur: local: INBOX' || return
	done
	keys j
	wait_for '\[2/6' || return
	keys q
	wait_for '\[exit 0\]'
}

t_unbound_key_says_so() {
	new_maildir unbound
	start -n -f "$MD"
	wait_for '\[1/6' || return
	keys '%'
	wait_for 'Key % is not bound. Press \? for help.' || return
	keys q
	wait_for '\[exit 0\]'
}

t_enter_on_an_empty_folder_says_so() {
	MD=$E2E_TMP/empty
	mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
	start -n -f "$MD"
	wait_for '\[0/0 messages\]' || return
	keys Enter
	wait_for 'No messages here\.' || return
	keys q
	wait_for '\[exit 0\]'
}

t_corrupt_index_is_reported_not_destroyed() {
	new_maildir corrupt
	mkdir -p "$MD/.notmuch/xapian"
	echo garbage > "$MD/.notmuch/xapian/iamglass"
	start -n -f "$MD"
	wait_for 'local: .*(damaged|corrupt|cannot|error|Error)' || return
	keys q
	wait_for '\[exit 0\]'
	[ -f "$MD/.notmuch/xapian/iamglass" ] || fail "the damaged index was removed"
	[ "$(ls "$MD/cur" | wc -l)" -eq 5 ] || fail "mail files changed"
}

t_unreadable_files_are_skipped_and_the_rest_shown() {
	new_maildir unreadable
	ln -s "$MD/cur/does-not-exist" "$MD/cur/2000.dangling.test:2,S"
	head -c 3000 /dev/urandom > "$MD/cur/2001.binary.test:2,S"
	start -n -f "$MD"
	wait_for 'Long report' || return
	expect_screen 'Quarterly budget'
	keys q
	wait_for '\[exit 0\]'
	[ -L "$MD/cur/2000.dangling.test:2,S" ] || fail "the dangling link was touched"
}

t_message_gone_from_disk_is_a_clear_error() {
	new_maildir gone
	start -n -f "$MD"
	wait_for 'Long report' || return
	rm -f "$MD"/cur/1007.a8.test*
	keys Enter
	wait_for '1007\.a8\.test.*(No such file|not found|cannot)' || return
	keys q
	wait_for 'Long report' || return
	keys q
	wait_for '\[exit 0\]'
}

t_demo_maildir_opens() {
	MD=$E2E_TMP/demo
	python3 "$top_srcdir/contrib/gen-maildir" --count 300 --quiet "$MD" >/dev/null ||
		{ fail "gen-maildir failed"; return; }
	newest=$(python3 "$top_srcdir/contrib/gen-maildir" --newest-subject "$MD")
	start -n -f "$MD"
	wait_for "$newest" || return
	wait_for 'messages\]' || return
	keys c
	wait_for 'Lists/dev|Lists\.dev' || return
	keys q q
	wait_for '\[exit 0\]'
}

for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	run_test "$t"
done
finish
