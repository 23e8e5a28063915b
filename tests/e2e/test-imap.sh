#!/usr/bin/env bash
# End-to-end IMAP: the real facteur in tmux against the private Dovecot of
# tests/servers. The INBOX opens, a message is read and flagged (checked on
# the server with doveadm), a message delivered behind facteur's back
# shows up through IDLE without a key, another folder's count follows a
# delivery there (NOTIFY) and subscriptions reach the server, an untrusted
# certificate is shown with its fingerprint and pinned, and the password is
# asked without echo.
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

# Another client delivers message N into bob's FOLDER through Dovecot.
server_save() {
	printf 'From: Carol <carol@example.org>\nTo: bob@localhost\nSubject: elsewhere %d\nMessage-ID: <save%d.%d@test>\n\nbody\n' \
		"$2" "$2" "$$" |
		doveadm -c "$SRV/dovecot-main.conf" save -u bob -m "$1"
}

# Whether bob is subscribed to FOLDER on the server.
server_subscribed() {
	doveadm -c "$SRV/dovecot-main.conf" mailbox list -s -u bob 2>/dev/null |
		grep -qx -- "$1"
}

t_folder_list_counts_follow_other_clients_and_subscriptions() {
	doveadm -c "$SRV/dovecot-main.conf" mailbox create -u bob Lists
	server_save Lists 1
	conf "$IMAPS_PORT" '  password_cmd "echo bobpw"'
	start -F "$E2E_TMP/imap.conf"
	wait_for 'Hello 3' || return
	keys c
	wait_row 3 'Lists +1 unread +1' || return
	# Another client delivers there while INBOX is open: no key pressed.
	server_save Lists 2
	wait_row 3 'Lists +2 unread +2' || return
	# Subscribing marks the folder and reaches the server.
	keys j
	type_text +
	wait_row 3 '^ *\+Lists' || return
	wait_for 'subscribed to Lists' || return
	server_subscribed Lists || fail "the server has no subscription to Lists"
	type_text -
	wait_row 3 '^ +Lists' || return
	wait_for 'unsubscribed from Lists' || return
	server_subscribed Lists && fail "the server still has Lists subscribed"
	keys q q
}

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

# An account NAME on PORT with PASSWORD_CMD, for the warm-path cases.
warm_conf() {
	cat > "$E2E_TMP/warm.conf" <<EOF
account $1
  imap imaps://$MAILTEST_HOST:$2
  user bob
  tls_ca_file $CA_FILE
  password_cmd "$3"
EOF
}

# A first run of account NAME against the trusted server leaves its
# header cache.
warm_cache() {
	warm_conf "$1" "$IMAPS_PORT" "echo bobpw"
	start -F "$E2E_TMP/warm.conf"
	wait_for 'Hello 1' || return 1
	keys q
	wait_for '\[exit 0\]' || return 1
	[ -d "$XDG_CACHE_HOME/facteur/$1" ] || { fail "no header cache"; return 1; }
}

t_warm_refused_login_asks_the_password_over_the_cached_rows() {
	warm_cache warmpw || return
	warm_conf warmpw "$IMAPS_PORT" "echo wrongpw"
	start -F "$E2E_TMP/warm.conf"
	wait_for 'Login refused; password for bob' || return
	expect_screen 'Hello 1'
	# Mail arrives while facteur is offline; the typed password brings
	# the session up and it shows.
	server_put 5 "Fresh"
	type_text bobpw
	expect_no_screen 'bobpw'
	keys Enter
	wait_row 2 'Fresh 5' || return
	expect_no_screen 'password for bob'
	keys q
	wait_for '\[exit 0\]' || return
	# A password_cmd that fails says so, and the prompt still comes.
	warm_conf warmpw "$IMAPS_PORT" "exit 3"
	start -F "$E2E_TMP/warm.conf"
	wait_for 'password_cmd failed \(exit 3\); password for bob' || return
	expect_screen 'Fresh 5'
	keys C-g
	wait_for 'no password given' || return
	expect_screen 'Fresh 5'
	keys q
}

t_warm_untrusted_certificate_shows_the_trust_page_over_the_cached_rows() {
	rm -f "$XDG_DATA_HOME/facteur/known_hosts"
	warm_cache warmtls || return
	warm_conf warmtls "$UNKNOWNCA_IMAPS_PORT" "echo bobpw"
	start -F "$E2E_TMP/warm.conf"
	wait_for 'Trust this certificate' || return
	expect_screen 'SHA-256: +[0-9A-F]{2}:'
	expect_screen 'Issuer: +CN=facteur unknown CA'
	type_text no
	keys Enter
	wait_for 'not trusted' || return
	wait_gone 'SHA-256' || return
	expect_screen 'Hello 1'
	expect_screen 'offline'
	[ ! -e "$XDG_DATA_HOME/facteur/known_hosts" ] ||
		fail "a key was pinned after no"
	# The sync key offers it again.
	keys '$'
	wait_for 'Trust this certificate' || return
	expect_screen 'SHA-256: +[0-9A-F]{2}:'
	server_put 6 "Trusted"
	type_text yes
	keys Enter
	wait_row 2 'Trusted 6' || return
	[ "$(stat -c %a "$XDG_DATA_HOME/facteur/known_hosts" 2>/dev/null)" = 600 ] ||
		fail "known_hosts is not 0600"
	keys q
}

for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	run_test "$t"
done
finish
