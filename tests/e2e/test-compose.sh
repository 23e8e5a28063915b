#!/usr/bin/env bash
# End-to-end compose: the real facteur in tmux with a scripted $EDITOR,
# sending through the private Postfix of tests/servers. m writes and y
# sends: the status line says so, carol's Maildir gets the body and the
# local Sent folder a copy; r quotes the message and sets In-Reply-To; a
# refused recipient keeps the message in the outbox, shown by O.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_start_servers

TOKEN=e2e-$$-$RANDOM
MD=$E2E_TMP/Mail

# A local Maildir with one message from Alice, and a sending account.
write_setup() {
	rm -rf "$MD" "$HOME/.local/share/facteur"
	mkdir -p "$HOME/.local/share"
	mkdir -p "$MD"/{cur,new,tmp}
	cat > "$MD/cur/1000.a1.test:2,S" <<-'M'
	From: Alice Martin <alice@example.org>
	To: Bob <bob@localhost>
	Subject: Re: Re: Lunch plans
	Date: Fri, 10 Jan 2025 09:00:00 +0000
	Message-ID: <lunch-1@example.org>
	References: <lunch-0@example.org>

	Shall we meet at noon?

	Alice
	M
	cat > "$E2E_TMP/compose.conf" <<-EOF
	account bob
	  maildir $MD
	  from "Bob <bob@localhost>"
	  smtp submission://bob@$MAILTEST_HOST:${1:-$SUB_PORT}
	  tls_ca_file $CA_FILE
	  password_cmd "echo bobpw"
	EOF
}

# The scripted editor: keeps a copy of what it was given, then replaces
# the To, Subject and body when asked to (NEW_TO set).
cat > "$E2E_TMP/editor" <<EOF
#!/bin/sh
cp "\$1" "$E2E_TMP/given.txt"
[ -n "\${NEW_TO:-}" ] || exit 0
printf 'From: Bob <bob@localhost>\nTo: %s\nSubject: Hello %s\n\nBody line %s\nÇa marche.\n' \
    "\$NEW_TO" "$TOKEN" "$TOKEN" > "\$1"
EOF
chmod +x "$E2E_TMP/editor"
export EDITOR=$E2E_TMP/editor VISUAL=

# Waits up to 10 s for a file under $1 that holds $2; prints its name.
wait_file() {
	local i f
	for i in $(seq 1 100); do
		f=$(grep -rl -- "$2" "$1" 2>/dev/null | head -n 1)
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

t_m_sends_and_postfix_delivers_to_carol() {
	write_setup
	export NEW_TO=carol@localhost
	start -F "$E2E_TMP/compose.conf"
	wait_for 'Lunch plans' || return
	keys m
	wait_for "Subject: Hello $TOKEN" || return
	expect_screen 'To: carol@localhost'
	expect_screen "Body line $TOKEN"
	keys y
	wait_for 'Message sent\.' || return
	f=$(wait_file "$MAILDIR_CAROL" "Body line $TOKEN") ||
		{ fail "carol did not get the message"; return; }
	grep -q 'Subject: Hello' "$f" || fail "no subject in $f"
	sent=$(wait_file "$MD/.Sent" "$TOKEN") ||
		{ fail "no copy in .Sent"; return; }
	[ -z "$(ls "$HOME/.local/share/facteur/outbox/new")" ] ||
		fail "the outbox is not empty"
	keys q
	wait_for '\[exit 0\]'
}

t_r_quotes_and_sets_in_reply_to_and_a_refusal_stays_in_the_outbox() {
	write_setup
	unset NEW_TO
	start -F "$E2E_TMP/compose.conf"
	wait_for 'Lunch plans' || return
	keys r
	wait_for 'Subject: Re: Lunch plans' || return
	expect_screen 'To: Alice Martin <alice@example.org>'
	expect_screen '> Shall we meet at noon\?'
	grep -q '^In-Reply-To: <lunch-1@example.org>$' "$E2E_TMP/given.txt" ||
		fail "no In-Reply-To in the editor file"
	grep -q '^References: <lunch-0@example.org> <lunch-1@example.org>$' \
	    "$E2E_TMP/given.txt" || fail "no References in the editor file"
	grep -q '^From: Bob <bob@localhost>$' "$E2E_TMP/given.txt" ||
		fail "wrong identity"
	# Postfix relays nothing to example.org: the message stays.
	keys y
	wait_for 'Not sent, kept in the outbox: .*alice@example.org' || return
	keys O
	wait_for 'failed +alice@example.org +Re: Lunch plans' || return
	expect_screen 'refused: 5[0-9][0-9] 5\.7\.1'
	keys q
	keys q
	wait_for '\[exit 0\]'
}

t_abort_asks_first() {
	write_setup
	export NEW_TO=carol@localhost
	start -F "$E2E_TMP/compose.conf"
	wait_for 'Lunch plans' || return
	keys m
	wait_for "Subject: Hello $TOKEN" || return
	keys q
	wait_for 'Abort this message\? \(y/n\)' || return
	keys n Enter
	expect_screen "Subject: Hello $TOKEN"
	keys q
	wait_for 'Abort this message' || return
	keys y Enter
	wait_for 'Message aborted' || return
	keys q
	wait_for '\[exit 0\]'
}

t_a_deferred_message_is_sent_when_facteur_starts_again() {
	# Nothing listens on port 1: the message waits in the outbox.
	write_setup 1
	export NEW_TO=carol@localhost
	start -F "$E2E_TMP/compose.conf"
	wait_for 'Lunch plans' || return
	keys m
	wait_for "Subject: Hello $TOKEN" || return
	keys y
	wait_for 'Not sent, kept in the outbox: .*(refused|connect)' || return
	keys O
	wait_for "deferred +carol@localhost +Hello $TOKEN" || return
	keys q q
	wait_for '\[exit 0\]' || return
	tmux -L "$SOCK" kill-server 2>/dev/null
	# The right port: opening the account sends what waits.
	sed -i "s/:1\$/:$SUB_PORT/" "$E2E_TMP/compose.conf"
	start -F "$E2E_TMP/compose.conf"
	wait_for 'Message sent\.' || return
	wait_file "$MAILDIR_CAROL" "Body line $TOKEN" >/dev/null ||
		fail "carol did not get the message"
	[ -z "$(ls "$HOME/.local/share/facteur/outbox/new")" ] ||
		fail "the outbox is not empty"
	keys q
	wait_for '\[exit 0\]'
}

t_dash_s_sends_without_the_interface() {
	write_setup
	printf 'attached bytes %s\n' "$TOKEN" > "$E2E_TMP/notes.txt"
	printf 'CLI body %s\n' "$TOKEN" | "$FACTEUR" -F "$E2E_TMP/compose.conf" \
	    -s "CLI $TOKEN" -a "$E2E_TMP/notes.txt" carol@localhost
	rc=$?
	[ "$rc" = 0 ] || { fail "facteur -s exited $rc"; return; }
	f=$(wait_file "$MAILDIR_CAROL" "CLI body $TOKEN") ||
		{ fail "carol did not get the CLI message"; return; }
	grep -q 'filename="notes.txt"' "$f" || fail "no attachment in $f"
	wait_file "$MD/.Sent" "CLI body $TOKEN" >/dev/null ||
		fail "no copy of the -s message in .Sent"
	# Without the CA the certificate is refused, until its key is pinned
	# in known_hosts, as the interface pins it.
	sed -i '/tls_ca_file/d' "$E2E_TMP/compose.conf"
	printf 'pinned %s\n' "$TOKEN" | "$FACTEUR" -F "$E2E_TMP/compose.conf" \
	    -s "pin $TOKEN" carol@localhost 2>"$E2E_TMP/err"
	rc=$?
	[ "$rc" != 0 ] || fail "an untrusted certificate was accepted"
	grep -qi 'certificate' "$E2E_TMP/err" ||
		fail "no certificate error: $(cat "$E2E_TMP/err")"
	rm -rf "$HOME/.local/share/facteur/outbox"
	key=$(openssl x509 -in "$SRV/tls/server-chain.pem" -pubkey -noout |
	    openssl pkey -pubin -outform DER | base64 -w0)
	printf '|g0|%s|smtp|0|%s\n' "$MAILTEST_HOST" "$key" \
	    > "$HOME/.local/share/facteur/known_hosts"
	printf 'pinned %s\n' "$TOKEN" | "$FACTEUR" -F "$E2E_TMP/compose.conf" \
	    -s "pin $TOKEN" carol@localhost 2>"$E2E_TMP/err"
	rc=$?
	[ "$rc" = 0 ] ||
		fail "the pinned key was refused ($rc): $(cat "$E2E_TMP/err")"
	wait_file "$MAILDIR_CAROL" "pinned $TOKEN" >/dev/null ||
		fail "carol did not get the message sent to a pinned key"
	echo x | "$FACTEUR" -F "$E2E_TMP/compose.conf" -s x not-an-address \
	    2>"$E2E_TMP/err"
	rc=$?
	[ "$rc" = 78 ] || fail "a bad address exited $rc"
	grep -q 'bad address "not-an-address": no @' "$E2E_TMP/err" ||
		fail "no clear error: $(cat "$E2E_TMP/err")"
	write_setup 1
	echo x | "$FACTEUR" -F "$E2E_TMP/compose.conf" -s later \
	    carol@localhost 2>"$E2E_TMP/err"
	rc=$?
	[ "$rc" = 75 ] || fail "an unreachable server exited $rc"
	[ -n "$(ls "$HOME/.local/share/facteur/outbox/new")" ] ||
		fail "the message is not in the outbox"
}

# Tab completes an alias in To and a file name in the attach prompt; the
# message goes through Postfix to bob's own Dovecot Maildir, which is the
# local account's store, and $ shows it in the INBOX with its attachment.
t_tab_completes_attach_send_and_it_arrives_in_the_inbox() {
	rm -rf "$HOME/.local/share/facteur"
	mkdir -p "$HOME/.local/share" "$E2E_TMP/files"
	printf 'attached bytes %s\n' "$TOKEN" > \
	    "$E2E_TMP/files/report-$TOKEN.txt"
	: > "$E2E_TMP/files/other.txt"
	printf 'alias myself Bob <bob@localhost>\nalias carol carol@localhost\n' \
	    > "$E2E_TMP/aliases"
	cat > "$E2E_TMP/self.conf" <<-EOF
	set alias_file = $E2E_TMP/aliases
	account bob
	  maildir $MAILDIR_BOB
	  from "Bob <bob@localhost>"
	  smtp submission://bob@$MAILTEST_HOST:$SUB_PORT
	  tls_ca_file $CA_FILE
	  password_cmd "echo bobpw"
	EOF
	cat > "$E2E_TMP/editor-self" <<-EOF
	#!/bin/sh
	printf 'From: Bob <bob@localhost>\nTo:\nSubject: Self %s\n\nSee the report.\n' \
	    "$TOKEN" > "\$1"
	EOF
	chmod +x "$E2E_TMP/editor-self"
	EDITOR=$E2E_TMP/editor-self start -F "$E2E_TMP/self.conf"
	wait_for 'bob' || return
	keys m
	wait_for "Subject: Self $TOKEN" || return
	keys t
	wait_for '^To:$' || return
	type_text "my"
	keys Tab
	wait_for 'To: myself$' || return
	keys Enter
	wait_for ' To: myself' || return
	keys a
	wait_for '^Attach file:$' || return
	type_text "$E2E_TMP/files/"
	keys Tab
	wait_for '^2 matches: +other\.txt +report-' || return
	type_text "r"
	keys Tab
	wait_for "Attach file: .*/files/report-$TOKEN\\.txt$" || return
	keys Enter
	wait_for "report-$TOKEN\\.txt +text/plain" || return
	keys y
	wait_for 'Message sent\.' || return
	wait_file "$MAILDIR_BOB/new" "Subject: Self $TOKEN" >/dev/null ||
		{ fail "bob did not get the message"; return; }
	keys '$'
	wait_for "Self $TOKEN" || return
	keys Enter
	wait_for 'See the report\.' || return
	expect_screen "report-$TOKEN\\.txt"
	keys q q
	wait_for '\[exit 0\]'
}

# A draft resumed with edit-as-new (Esc e) leaves .Drafts once it is sent.
t_a_resumed_draft_is_removed_once_sent() {
	write_setup
	unset NEW_TO
	mkdir -p "$MD/.Drafts/cur" "$MD/.Drafts/new" "$MD/.Drafts/tmp"
	cat > "$MD/.Drafts/cur/2000.d1.test:2,DS" <<-EOF
	From: Bob <bob@localhost>
	To: carol@localhost
	Subject: Draft $TOKEN
	Date: Fri, 10 Jan 2025 10:00:00 +0000
	Message-ID: <draft-$TOKEN@localhost>

	Draft body $TOKEN
	EOF
	start -F "$E2E_TMP/compose.conf"
	wait_for 'Lunch plans' || return
	keys c
	wait_for 'Drafts' || return
	keys j Enter
	wait_for "Draft $TOKEN" || return
	keys Escape e
	wait_for "Subject: Draft $TOKEN" || return
	expect_screen 'To: carol@localhost'
	keys y
	wait_for 'Message sent\.' || return
	wait_file "$MAILDIR_CAROL" "Draft body $TOKEN" >/dev/null ||
		fail "carol did not get the draft"
	for i in $(seq 1 50); do
		[ -z "$(ls "$MD/.Drafts/cur")" ] && break
		sleep 0.1
	done
	[ -z "$(ls "$MD/.Drafts/cur")" ] ||
		fail "the draft is still in .Drafts: $(ls "$MD/.Drafts/cur")"
	keys q q
	wait_for '\[exit 0\]'
}

run_test t_m_sends_and_postfix_delivers_to_carol
run_test t_dash_s_sends_without_the_interface
run_test t_a_deferred_message_is_sent_when_facteur_starts_again
run_test t_r_quotes_and_sets_in_reply_to_and_a_refusal_stays_in_the_outbox
run_test t_abort_asks_first
run_test t_tab_completes_attach_send_and_it_arrives_in_the_inbox
run_test t_a_resumed_draft_is_removed_once_sent
finish
