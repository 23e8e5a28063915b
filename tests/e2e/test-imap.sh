#!/usr/bin/env bash
# End-to-end IMAP: the real facteur in tmux against the private Dovecot of
# tests/servers. The INBOX opens, a message is read and flagged (checked on
# the server with doveadm), a message delivered behind facteur's back
# shows up through IDLE without a key, an untrusted certificate is shown
# with its fingerprint and pinned, and the password is asked without echo.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_start_servers
export XDG_CACHE_HOME=$HOME/.cache XDG_DATA_HOME=$HOME/.local/share

# Delivers message N ("Subject: SUBJECT N") into bob's INBOX on the server.
server_put() {
	local f="$MAILDIR_BOB/tmp/$((1700000000 + $1)).M$1P$$.e2e"
	printf 'From: Alice <alice@example.org>\nTo: bob@localhost\nSubject: %s %d\nMessage-ID: <imap%d.%d@test>\nDate: Mon, 1 Jan 2024 10:%02d:00 +0000\n\nbody of %d\n' \
		"$2" "$1" "$1" "$$" "$(($1 % 60))" "$1" > "$f"
	chown "$MAIL_UID:$MAIL_GID" "$f"
	mv "$f" "$MAILDIR_BOB/new/"
}

# The flags Dovecot has for the message with this subject.
server_flags() {
	doveadm -c "$SRV/dovecot-main.conf" fetch -u bob 'flags hdr.subject' \
		mailbox INBOX 2>/dev/null | awk -v s="$1" '
		/^flags:/ { f = $0 }
		/^hdr.subject:/ { sub(/^hdr.subject: /, ""); if ($0 == s) print f }'
}

conf() {
	cat > "$E2E_TMP/imap.conf" <<EOF
account bob
  imap imaps://$MAILTEST_HOST:$1
  user bob
  tls_ca_file $CA_FILE
$2
EOF
}

for i in 1 2 3; do server_put "$i" "Hello"; done

t_open_read_flag_and_idle_push() {
	conf "$IMAPS_PORT" '  password_cmd "echo bobpw"'
	start -F "$E2E_TMP/imap.conf"
	wait_for 'Hello 3' || return
	wait_row 2 'Hello 3' || return
	expect_screen 'Hello 1'
	keys Enter
	wait_for 'body of 3' || return
	keys q
	wait_for 'Hello 2' || return
	keys F
	wait_row 2 '!' || return
	local i
	for i in $(seq 1 50); do
		server_flags 'Hello 3' | grep -q Flagged && break
		sleep 0.1
	done
	server_flags 'Hello 3' | grep -q 'Flagged' ||
		fail "the server does not have \\Flagged: $(server_flags 'Hello 3')"
	server_flags 'Hello 3' | grep -q 'Seen' ||
		fail "reading did not set \\Seen on the server"
	# New mail behind facteur's back, no key pressed: IDLE brings it.
	server_put 4 "Pushed"
	wait_row 2 'Pushed 4' || return
	# Counted again from the folder: Hello 1, Hello 2 and Pushed 4.
	wait_for '4 messages\]  3 unread' || return
	keys q
}

t_untrusted_certificate_is_shown_then_pinned_and_password_asked() {
	conf "$UNKNOWNCA_IMAPS_PORT" ''
	start -F "$E2E_TMP/imap.conf"
	wait_for 'Trust this certificate' || return
	expect_screen 'SHA-256: +[0-9A-F]{2}:'
	expect_screen 'issuer is unknown'
	expect_screen 'Issuer: +CN=facteur unknown CA'
	type_text yes
	keys Enter
	wait_for 'Password for bob' || return
	type_text bobpw
	expect_no_screen 'bobpw'
	keys Enter
	wait_for 'Hello 1' || return
	[ "$(stat -c %a "$XDG_DATA_HOME/facteur/known_hosts")" = 600 ] ||
		fail "known_hosts is not 0600"
	keys q
	# Pinned: the next start does not ask about the certificate again.
	start -F "$E2E_TMP/imap.conf"
	wait_for 'Password for bob' || return
	expect_no_screen 'Trust this certificate'
	type_text wrongpw
	keys Enter
	wait_for 'Login refused; password for bob' || return
	type_text bobpw
	keys Enter
	wait_for 'Hello 1' || return
	keys q
}

for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	run_test "$t"
done
finish
