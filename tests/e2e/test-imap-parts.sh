#!/usr/bin/env bash
# End-to-end: a big IMAP message read part by part, the real facteur in
# tmux against the private Dovecot of tests/servers. Opening a message
# with a 5 MB attachment shows its text at once while the attachment
# stays on the server (the cached copy is small); the attachment list
# says "on server"; saving it downloads it then and the saved file equals
# the original bytes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

e2e_start_servers
export XDG_CACHE_HOME=$HOME/.cache XDG_DATA_HOME=$HOME/.local/share

blob=$E2E_TMP/blob.bin
head -c 5242880 /dev/urandom > "$blob"

# Delivers the message with the blob attached into bob's INBOX.
put_big() {
	local f="$MAILDIR_BOB/tmp/1700000001.M1P$$.e2e"
	{
		printf 'From: Alice <alice@example.org>\nTo: bob@localhost\n'
		printf 'Subject: Big blob\nMessage-ID: <big.%d@test>\n' "$$"
		printf 'Date: Mon, 1 Jan 2024 10:00:00 +0000\nMIME-Version: 1.0\n'
		printf 'Content-Type: multipart/mixed; boundary=sep\n\n'
		printf -- '--sep\nContent-Type: text/plain; charset=utf-8\n\n'
		printf 'Here is the blob, Bob.\n'
		printf -- '--sep\nContent-Type: application/octet-stream; name=blob.bin\n'
		printf 'Content-Disposition: attachment; filename=blob.bin\n'
		printf 'Content-Transfer-Encoding: base64\n\n'
		base64 -w 76 "$blob"
		printf -- '--sep--\n'
	} > "$f"
	chown "$MAIL_UID:$MAIL_GID" "$f"
	mv "$f" "$MAILDIR_BOB/new/"
}

# Bytes of the cached copies of messages (0 when none).
cached_bytes() {
	local n=0 f
	for f in "$XDG_CACHE_HOME"/facteur/bob/msg-*.eml; do
		[ -f "$f" ] && n=$((n + $(stat -c %s "$f")))
	done
	echo "$n"
}

cat > "$E2E_TMP/imap.conf" <<EOF2
account bob
  imap imaps://$MAILTEST_HOST:$IMAPS_PORT
  user bob
  tls_ca_file $CA_FILE
  password_cmd "echo bobpw"
EOF2
put_big

t_attachment_stays_on_the_server_until_saved() {
	start -F "$E2E_TMP/imap.conf"
	wait_for 'Big blob' || return
	keys Enter
	wait_for 'Here is the blob, Bob' || return
	local n
	n=$(cached_bytes)
	[ "$n" -gt 0 ] && [ "$n" -lt 65536 ] ||
		fail "the cached copy has $n bytes: the attachment came too"
	keys v
	wait_for 'blob\.bin' || return
	expect_screen 'blob\.bin +application/octet-stream +5\.0 MB +on server'
	keys Down s
	wait_for 'Save to file: ' || return
	expect_screen "Save to file: .*blob\\.bin"
	keys Enter
	wait_for 'Saved .*blob\.bin' || return
	cmp -s "$blob" "$HOME/blob.bin" ||
		fail "the saved attachment differs from the original"
	expect_no_screen 'on server'
	expect_screen 'blob\.bin +application/octet-stream +5\.0 MB +base64'
	n=$(cached_bytes)
	[ "$n" -gt 5242880 ] ||
		fail "the cached copy has $n bytes after the save"
	keys q q q
}

for t in $(declare -F | awk '{print $3}' | grep '^t_'); do
	run_test "$t"
done
finish
