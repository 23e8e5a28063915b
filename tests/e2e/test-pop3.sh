#!/usr/bin/env bash
# End-to-end POP3: the real facteur against the private Dovecot of
# tests/servers. In tmux, G fetches with progress or a summary in the
# status line and the new messages appear in the index; a wrong password
# says so; ^C cancels. Without a terminal, facteur --fetch exits 0, 75
# (server down), 77 (bad password) and 78 (bad configuration); an
# untrusted certificate shows its fingerprint and is pinned on "yes".
# Last, with the servers stopped, the fetched mail is browsed offline.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_start_servers

# Puts messages FIRST..LAST ("Fetched message N") into bob's server
# Maildir, owned by the mail user as Dovecot expects.
server_put() {
	local i
	for i in $(seq "$1" "$2"); do
		printf 'From: Alice <alice@example.org>\nTo: bob@localhost\nSubject: Fetched message %d\nMessage-ID: <e2e%d.%d@test>\nDate: Mon, 1 Jan 2024 10:%02d:00 +0000\n\nbody %d\n' \
			"$i" "$i" "$$" "$((i % 60))" "$i" \
			> "$MAILDIR_BOB/tmp/$((1700000000 + i)).M${i}P$$.e2e"
	done
	chown "$MAIL_UID:$MAIL_GID" "$MAILDIR_BOB"/tmp/*.e2e
	mv "$MAILDIR_BOB"/tmp/*.e2e "$MAILDIR_BOB/new/"
}

# Presses G once the fetch that started with facteur has ended.
press_G_when_idle() {
	local i
	for i in $(seq 1 50); do
		keys G
		sleep 0.1
		screen | grep -q 'already fetching' || return 0
	done
	fail "the fetch on start never ended"
	return 1
}

# POP3 sessions of bob that Dovecot saw end.
pop3_logouts() {
	grep -c 'pop3(bob).*Logged out' "$DOVECOT_MAIN_LOG"
}

server_clear() {
	rm -f "$MAILDIR_BOB"/new/* "$MAILDIR_BOB"/cur/*
}

# A config with one POP3 account; $1 is its password_cmd.
write_config() {
	rm -rf "$E2E_TMP/Mail" "$HOME/.local/share/facteur"
	mkdir -p "$E2E_TMP/Mail/cur" "$E2E_TMP/Mail/new" "$E2E_TMP/Mail/tmp"
	cat > "$E2E_TMP/pop3.conf" <<-EOF
	set sync_on_start = no
	account bob
	  pop3 pop3s://bob@$MAILTEST_HOST:${2:-$POP3S_PORT}
	  tls_ca_file $CA_FILE
	  password_cmd "$1"
	  maildir $E2E_TMP/Mail
	  keep_on_server yes
	EOF
}

t_G_fetches_with_a_summary_and_the_index_shows_the_mail() {
	server_clear
	write_config "echo bobpw"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'No messages' || return
	# The fetch on start finds an empty mailbox and says nothing.
	press_G_when_idle || return
	wait_for 'bob: no new mail' || return
	server_put 1 3
	keys G
	wait_for 'bob: (Fetching [0-9]+/3|connecting|checking|3 new messages)' || return
	wait_for 'bob: 3 new messages' || return
	wait_for 'Fetched message 3' || return
	expect_screen 'Fetched message 1'
	expect_screen 'Fetched message 2'
	keys G
	wait_for 'bob: no new mail' || return
	server_put 4 4
	keys G
	wait_for 'Fetched message 4' || return
	expect_screen 'bob: 1 new message '
	keys q
	wait_for '\[exit 0\]' || return
}

t_progress_shows_count_and_rate() {
	local before=$(pop3_logouts)
	server_clear
	write_config "echo bobpw"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'No messages' || return
	for i in $(seq 1 100); do
		[ "$(pop3_logouts)" -gt "$before" ] && break
		sleep 0.1
	done
	server_put 100 1099
	keys G
	wait_for 'bob: Fetching [0-9]+/1000, [0-9]+\.[0-9] MB/s' || return
	wait_for 'bob: 1000 new messages' || return
}

t_fetch_on_start_shows_mail_without_a_key() {
	server_clear
	server_put 10 11
	write_config "echo bobpw"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'Fetched message 11' || return
	expect_screen 'Fetched message 10'
}

t_wrong_password_says_so_and_fetches_nothing() {
	server_clear
	server_put 20 20
	write_config "echo wrongpw"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'login refused for bob \(wrong user or password\?\)' || return
	expect_no_screen 'Fetched message 20'
	expect_no_screen 'wrongpw'
	[ -z "$(ls "$E2E_TMP/Mail/new")" ] || fail "a message was delivered"
}

t_password_prompt_hides_what_is_typed() {
	server_clear
	server_put 30 30
	write_config "" 
	sed -i '/password_cmd/d' "$E2E_TMP/pop3.conf"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'Password for bob@127\.0\.0\.1:' || return
	type_text "bobpw"
	wait_for 'Password for bob@127\.0\.0\.1: \*\*\*\*\*' || return
	expect_no_screen 'bobpw'
	keys Enter
	wait_for 'Fetched message 30' || return
}

t_password_cmd_errors_stay_off_the_screen() {
	server_clear
	write_config "echo secret-noise >&2; exit 3"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'password_cmd failed \(exit status 3\)' || return
	expect_no_screen 'secret-noise'
}

t_ctrl_c_cancels_a_fetch() {
	local i
	server_clear
	write_config "sleep 20; echo bobpw"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'bob: connecting' || return
	keys C-c
	wait_for 'bob: fetch cancelled' || return
	# Still running: q quits at once.
	keys q
	wait_for '\[exit 0\]' || return
}

t_poll_interval_fetches_in_the_background() {
	local i
	server_clear
	write_config "echo bobpw"
	echo "  poll_interval 10s" >> "$E2E_TMP/pop3.conf"
	local before=$(pop3_logouts)
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'No messages' || return
	# Once the fetch on start has logged out, the next one is 10 s later.
	for i in $(seq 1 100); do
		[ "$(pop3_logouts)" -gt "$before" ] && break
		sleep 0.1
	done
	server_put 50 50
	for i in $(seq 1 300); do
		screen | grep -q 'Fetched message 50' && break
		sleep 0.1
	done
	expect_screen 'Fetched message 50'
	expect_screen 'bob: 1 new message '
	keys q
	wait_for '\[exit 0\]' || return
}

# --fetch without a terminal: exit statuses a cron job can act on.
fetch_status() {	# fetch_status WANT PATTERN
	local out st
	out=$("$FACTEUR" -F "$E2E_TMP/pop3.conf" --fetch 2>&1 </dev/null); st=$?
	[ "$st" -eq "$1" ] || fail "--fetch exited $st, wanted $1: $out"
	grep -Eq -- "$2" <<<"$out" || fail "--fetch said: $out"
}

t_fetch_option_exit_statuses() {
	server_clear
	server_put 40 41
	write_config "echo bobpw"
	fetch_status 0 'bob: 2 new messages'
	[ "$(ls "$E2E_TMP/Mail/new" | wc -l)" -eq 2 ] || fail "not 2 files"
	fetch_status 0 'bob: 0 new messages'
	write_config "echo wrongpw"
	fetch_status 77 'login refused'
	# A closed port: nothing listens on this one (below the servers').
	write_config "echo bobpw" "$((POP3S_PORT + 49))"
	fetch_status 75 'connection refused'
	write_config "echo bobpw"
	sed -i 's|pop3 pop3s://|pop3 imaps://|' "$E2E_TMP/pop3.conf"
	fetch_status 78 'pop3s://user@host'
}

# --fetch and an untrusted certificate: the fingerprint and how to trust
# it; from a terminal, "no" refuses and "yes" pins the key (0600) and the
# fetch goes on.
t_fetch_untrusted_certificate_shows_the_fingerprint_then_pins() {
	local out st
	server_clear
	server_put 60 60
	write_config "echo bobpw" "$UNKNOWNCA_POP3S_PORT"
	sed -i '/tls_ca_file/d' "$E2E_TMP/pop3.conf"
	fetch_status 77 'SHA-256: ([0-9A-F]{2}:){31}[0-9A-F]{2}'
	fetch_status 77 'in a terminal and answer yes'
	[ ! -e "$HOME/.local/share/facteur/known_hosts" ] ||
	    fail "pinned without asking"
	out=$(printf 'no\n' | script -qec "$FACTEUR -F $E2E_TMP/pop3.conf --fetch" /dev/null 2>&1)
	st=$?
	grep -q 'Trust this certificate for 127.0.0.1? (yes/no)' <<<"$out" ||
	    fail "no question on a terminal: $out"
	grep -Eq 'SHA-256: ([0-9A-F]{2}:){31}[0-9A-F]{2}' <<<"$out" ||
	    fail "no fingerprint on a terminal: $out"
	[ "$st" -ne 0 ] || fail "after no: exit 0: $out"
	[ ! -e "$HOME/.local/share/facteur/known_hosts" ] || fail "pinned on no"
	[ -z "$(ls "$E2E_TMP/Mail/new")" ] || fail "fetched on no"
	out=$(printf 'yes\n' | script -qec "$FACTEUR -F $E2E_TMP/pop3.conf --fetch" /dev/null 2>&1)
	st=$?
	[ "$st" -eq 0 ] || fail "after yes: exit $st: $out"
	grep -q 'certificate pinned in' <<<"$out" || fail "no pin: $out"
	[ "$(stat -c %a "$HOME/.local/share/facteur/known_hosts")" = 600 ] ||
	    fail "known_hosts is not 0600"
	fetch_status 0 'bob: 0 new messages'
	[ "$(ls "$E2E_TMP/Mail/new" | wc -l)" -eq 1 ] || fail "not delivered"
}

# In the interface: an untrusted certificate shows its fingerprint and
# asks; "no" refuses (nothing pinned, nothing fetched), "yes" on the next
# G pins the key (0600) and the fetch goes on.
t_ui_untrusted_certificate_no_refuses_yes_pins() {
	local kh=$HOME/.local/share/facteur/known_hosts
	server_clear
	server_put 70 70
	write_config "echo bobpw" "$UNKNOWNCA_POP3S_PORT"
	sed -i '/tls_ca_file/d' "$E2E_TMP/pop3.conf"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'Trust this certificate\? \(yes/no\)' || return
	expect_screen 'SHA-256: +([0-9A-F]{2}:){15}[0-9A-F]{2}'
	expect_screen 'Server: +pop3s://127\.0\.0\.1:'
	expect_screen 'issuer is unknown|not trusted'
	type_text no
	keys Enter
	wait_for 'bob: certificate not trusted; not fetched' || return
	[ ! -e "$kh" ] || fail "pinned on no"
	expect_no_screen 'Fetched message 70'
	[ -z "$(ls "$E2E_TMP/Mail/new")" ] || fail "fetched on no"
	keys G
	wait_for 'Trust this certificate\? \(yes/no\)' || return
	type_text yes
	keys Enter
	wait_for 'Fetched message 70' || return
	[ -e "$kh" ] || fail "not pinned on yes"
	[ "$(stat -c %a "$kh" 2>/dev/null)" = 600 ] ||
	    fail "known_hosts is not 0600"
	grep -q "127.0.0.1" "$kh" 2>/dev/null || fail "no pin for the host"
	keys q
	wait_for '\[exit 0\]' || return
}

# Last (it stops the servers): fetch with progress, then offline, open,
# read, limit, flag (seen by notmuch, and a tag notmuch sets seen here);
# G reports the network error and changes nothing.
t_zz_offline_browsing_after_the_servers_stop() {
	local n
	server_clear
	server_put 100 399
	write_config "echo bobpw"
	start -F "$E2E_TMP/pop3.conf"
	wait_for 'bob: (Fetching [0-9]+/300|300 new messages)' || return
	wait_for 'bob: 300 new messages' || return
	"$top_srcdir/tests/servers/stop" "$SRV" >/dev/null 2>&1
	keys Enter
	wait_for 'body [0-9]+' || return
	keys q
	keys l
	wait_for 'Limit to' || return
	type_text 'subject:"Fetched message 250"'
	keys Enter
	wait_for '\[1/1 messages\]' || return
	keys F
	wait_for '^[ N]! ' || return
	# Shown at once; written to the index by the account's worker.
	for n in $(seq 1 100); do
		n=$(NOTMUCH_DATABASE=$E2E_TMP/Mail notmuch --config='' count \
		    tag:flagged and subject:"Fetched message 250")
		[ "$n" = 1 ] && break
		sleep 0.1
	done
	[ "$n" = 1 ] || fail "the flag did not reach the index ($n)"
	# And the other way: a tag set by notmuch's own tools shows here.
	NOTMUCH_DATABASE=$E2E_TMP/Mail notmuch --config='' tag +flagged -- \
	    subject:"Fetched message 260" ||
	    fail "notmuch tag could not write the index facteur made"
	keys l
	wait_for 'Limit to' || return
	keys C-u
	type_text 'subject:"Fetched message 260"'
	keys Enter
	keys '$'
	wait_for '^[ N]! .*Fetched message 260' || return
	keys l C-u Enter
	wait_for '\[[0-9]+/300 messages\]' || return
	keys G
	wait_for '(refused|unreachable|[Cc]onnection)' || return
	expect_screen '300 messages'
	[ "$(find "$E2E_TMP/Mail/new" "$E2E_TMP/Mail/cur" -type f | wc -l)" = 300 ] ||
	    fail "the failed fetch changed the Maildir"
	keys q
	wait_for '\[exit 0\]' || return
}

# E2E_ONLY=PATTERN runs the matching cases only (while debugging).
for t in $(declare -F | awk '{print $3}' | grep '^t_' | grep -E -- "${E2E_ONLY:-.}"); do
	run_test "$t"
done
finish
