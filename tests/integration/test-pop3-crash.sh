#!/usr/bin/env bash
# Crash safety and disk full for `facteur --fetch` against the real Dovecot
# (started by tests/integration/run-pop3-crash). A 500-message download is
# SIGKILLed again and again (at random wall-clock offsets, and through the
# test-only hook FACTEUR_TEST_KILL_AT=PHASE:N at the dangerous points:
# between delivery and UIDL record, between DELE and QUIT) and restarted;
# after each kill no message may be gone from the server that is not
# complete locally, and at the end of each download every message exists
# exactly once locally (bytes compared) and in the notmuch index, with
# tmp/ empty. Then the Maildir is put on a tiny tmpfs: the fetch stops with
# "No space left", deletes nothing, keeps what it recorded, and completes
# once there is room. Last, a file size limit (ulimit -f, what is left
# where no tmpfs can be mounted) stops the fetch the same way.
set -u
: "${top_builddir:=$(pwd)}"
FACTEUR=${FACTEUR:-$top_builddir/facteur}
KILLS=${POP3_CRASH_KILLS:-52}
SEED=${POP3_CRASH_SEED:-20240501}
N=500

[ -n "${MAILTEST_ENV:-}" ] || { echo "SKIP: run via run-pop3-crash"; exit 77; }
. "$MAILTEST_ENV"
command -v notmuch >/dev/null 2>&1 || { echo "SKIP: no notmuch"; exit 77; }

W=$(mktemp -d /tmp/facteur-pop3-crash.XXXXXX) || exit 99
# The local side on a tmpfs: a SIGKILL tests the order of the steps, not
# the disk's fsync, and the 50 restarts then fit in the time budget.
FAST=
mount -t tmpfs -o size=64m tmpfs "$W" 2>/dev/null && FAST=$W
MNT=
cleanup() {
	[ -z "$MNT" ] || umount "$MNT" 2>/dev/null
	[ -z "$FAST" ] || umount "$FAST" 2>/dev/null
	rm -rf "$W"
	rm -f "$MAILDIR_BOB"/new/* "$MAILDIR_BOB"/cur/* "$MAILDIR_BOB"/tmp/*
}
trap cleanup EXIT
export HOME=$W/home XDG_DATA_HOME=$W/data NOTMUCH_CONFIG=/dev/null
export LANG=C.UTF-8 LC_ALL=C.UTF-8
mkdir -p "$HOME" "$W/src"
failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}

# The corpus: small messages with dot lines, distinct bytes each.
for i in $(seq 1 $N); do
	printf 'From: a@example.org\nTo: bob@localhost\nSubject: crash %d\nMessage-ID: <c%d.%d@crash>\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n\n.\n..two dots\nbody %d\n' \
	    "$i" "$i" "$$" "$i" > "$W/src/$i.eml"
done
(cd "$W/src" && md5sum -- *.eml) |
    sed 's/^\([0-9a-f]*\)  \([0-9]*\)\.eml$/\2 \1/' | sort > "$W/src.idmd5"
cut -d' ' -f2 "$W/src.idmd5" | sort > "$W/src.md5"
cut -d' ' -f1 "$W/src.idmd5" > "$W/all.ids"

# Puts the corpus on the server under names never used before (Dovecot
# remembers expunged names), in one tar and one mv.
round=0
server_fill() {
	round=$((round + 1))
	rm -f "$MAILDIR_BOB"/new/* "$MAILDIR_BOB"/cur/*
	(cd "$W/src" && tar -cf - --owner="$MAIL_UID" --group="$MAIL_GID" \
	    --numeric-owner -- *.eml) |
	    tar -C "$MAILDIR_BOB/tmp" --transform "s/\\.eml\$/.r$round.crash/" \
	    -xf -
	mv "$MAILDIR_BOB"/tmp/*.crash "$MAILDIR_BOB/new/"
	# Dovecot rescans only when the directory's mtime moved.
	touch -d "@$(($(date +%s) + 1000 + round))" "$MAILDIR_BOB/new"
}

# A fresh local side: Maildir, index and UIDL state.
local_reset() {
	rm -rf "$MD" "$XDG_DATA_HOME"
	mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
}

write_config() {
	MD=$1
	cat > "$W/conf" <<-EOF
	set sync_on_start = no
	account bob
	  pop3 pop3s://bob@$MAILTEST_HOST:$POP3S_PORT
	  tls_ca_file $CA_FILE
	  password_cmd "echo bobpw"
	  maildir $MD
	  keep_on_server no
	EOF
}

nm() {	# notmuch on the test Maildir, never a user's config
	NOTMUCH_DATABASE=$MD notmuch --config='' "$@"
}

md5_of() (	# md5_of DIR... : sorted content hashes of the files
	set -o pipefail
	find "$@" -type f -print0 2>/dev/null | xargs -0r md5sum |
	    cut -d' ' -f1 | sort
)

# Numbers of the corpus messages still on the server (from file names).
server_ids() {
	ls "$MAILDIR_BOB/new" "$MAILDIR_BOB/cur" 2>/dev/null |
	    sed -n 's/^\([0-9]*\)\.r[0-9]*\.crash.*/\1/p' | sort -u
}

# After a kill: whatever left the server is complete locally (Dovecot may
# still be moving files from new/ to cur/: a listing that misses one is
# taken again), and no message is twice in the Maildir.
check_safe() {
	local try
	md5_of "$MD/new" "$MD/cur" > "$W/loc.md5"
	for try in 1 2 3 4 5; do
		server_ids > "$W/srv.ids"
		comm -23 "$W/all.ids" "$W/srv.ids" > "$W/gone.ids"
		join "$W/gone.ids" "$W/src.idmd5" | cut -d' ' -f2 | sort |
		    comm -23 - "$W/loc.md5" > "$W/lost.md5"
		# Gone and safe locally is fine; gone and not here, look again.
		[ -s "$W/lost.md5" ] || break
		sleep 0.2
	done
	[ ! -s "$W/lost.md5" ] || fail "$1: $(wc -l < "$W/lost.md5")" \
	    "messages deleted on the server are not safe locally"
	if [ -n "$(grep -rh -m1 '^Message-ID:' "$MD/new" "$MD/cur" |
	    sort | uniq -d)" ]; then
		fail "$1: a message is twice in the Maildir"
	fi
}

# After a complete run: every message once, byte for byte, indexed.
check_complete() {
	local what=$1 n ids
	check_safe "$what"
	md5_of "$MD/new" "$MD/cur" > "$W/loc.md5"
	if ! cmp -s "$W/src.md5" "$W/loc.md5"; then
		fail "$what: local messages differ from the server's" \
		    "($(wc -l < "$W/loc.md5") files)"
	fi
	n=$(nm count --output=files '*')
	[ "$n" = $N ] || fail "$what: $n files in the index, not $N"
	ids=$(nm search --output=messages \
	    'tag:inbox and tag:unread and tag:bob' | sort -u | wc -l)
	[ "$ids" = $N ] || fail "$what: $ids messages indexed, not $N"
	[ -z "$(find "$MD/tmp" -type f)" ] || fail "$what: files left in tmp/"
	n=$(find "$MAILDIR_BOB/new" "$MAILDIR_BOB/cur" -type f | wc -l)
	[ "$n" = 0 ] || fail "$what: $n messages still on the server"
}

fetch() {
	"$FACTEUR" -F "$W/conf" --fetch </dev/null >>"$W/fetch.log" 2>&1
}

# --- crash safety ---------------------------------------------------------
write_config "$W/Mail"
local_reset
server_fill
start=$(date +%s.%N)
fetch || fail "the uninterrupted fetch failed: $(tail -n 3 "$W/fetch.log")"
T=$(echo "$(date +%s.%N) - $start" | bc)
check_complete "uninterrupted"
# Wall-clock kills land anywhere in [0, T/2] (in milliseconds): a restart
# has less to do than the first run.
TMS=$(echo "$T * 500 / 1" | bc)
[ "$TMS" -gt 50 ] || TMS=50

RANDOM=$SEED
phases=(wall wall retr deliver deliver index record dele dele)
kills=0 rounds=0 completed=0
declare -A per_phase
local_reset
server_fill
while [ $kills -lt "$KILLS" ]; do
	# Each phase once first, then at random.
	if [ $kills -lt ${#phases[@]} ]; then
		phase=${phases[$kills]}
	else
		phase=${phases[$((RANDOM % ${#phases[@]}))]}
	fi
	# Once all is recorded only DELE is left to interrupt.
	recorded=0
	[ ! -f "$XDG_DATA_HOME/facteur/pop3/bob.uidl" ] ||
	    recorded=$(($(wc -l < "$XDG_DATA_HOME/facteur/pop3/bob.uidl") - 1))
	case $phase in
	retr|deliver|index|record)
		[ "$recorded" -lt $N ] || phase=dele ;;
	esac
	if [ "$phase" = wall ]; then
		off=$((RANDOM % TMS))
		"$FACTEUR" -F "$W/conf" --fetch </dev/null >>"$W/fetch.log" 2>&1 &
		pid=$!
		sleep "$(printf '0.%03d' "$off")" 2>/dev/null ||
		    sleep "$(echo "$off / 1000" | bc -l)"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		rc=$?
		what="wall +${off}ms"
	else
		case $phase in
		# The first commit holds message 1 alone; then batches.
		index|record)	n=$((1 + RANDOM % 3)) ;;
		*)		n=$((1 + RANDOM % 60)) ;;
		esac
		FACTEUR_TEST_KILL_AT=$phase:$n fetch
		rc=$?
		what="$phase:$n"
	fi
	case $rc in
	0)	# it finished before the kill: a complete download
		completed=$((completed + 1))
		check_complete "round $rounds ($what finished)"
		rounds=$((rounds + 1))
		local_reset
		server_fill
		;;
	137)
		kills=$((kills + 1))
		per_phase[$phase]=$(( ${per_phase[$phase]:-0} + 1 ))
		check_safe "kill $kills ($what)"
		# A kill among the DELEs leaves only DELEs to kill: finish
		# this round (the restart completes it) and start another,
		# so that the kills spread over all the phases.
		if [ "$phase" = dele ] && [ $failed = 0 ]; then
			fetch || fail "after $what: $(tail -n 2 "$W/fetch.log")"
			check_complete "round $rounds (after $what)"
			rounds=$((rounds + 1))
			local_reset
			server_fill
		fi
		;;
	*)	fail "fetch exited $rc ($what): $(tail -n 2 "$W/fetch.log")" ;;
	esac
	[ $failed = 0 ] || break
done
# The last round: restart until it completes.
for i in 1 2; do
	fetch && break
done
check_complete "final round"
summary=
for p in "${!per_phase[@]}"; do
	summary="$summary $p=${per_phase[$p]}"
done
echo "crash: seed $SEED, $kills kills ($summary ), $((rounds + 1)) downloads" \
    "of $N completed, T=${T}s"

# --- disk full ------------------------------------------------------------
MNT=$W/small
mkdir -p "$MNT"
if mount -t tmpfs -o size=8m tmpfs "$MNT" 2>/dev/null; then
	write_config "$MNT/Mail"
	rm -rf "$XDG_DATA_HOME"
	mkdir -p "$MD/cur" "$MD/new" "$MD/tmp"
	server_fill
	# Leave the 4 MB facteur keeps free for the index, and room for
	# about 100 messages (a page each) and their index.
	big=$(df --output=avail -k "$MNT" | tail -n 1)
	dd if=/dev/zero of="$MNT/filler" bs=1k count=$((big - 4096 - 1200)) \
	    status=none 2>/dev/null
	: > "$W/fetch.log"
	fetch
	rc=$?
	[ $rc = 74 ] || fail "disk full: exit status $rc, wanted 74 (EX_IOERR)"
	grep -q 'No space left' "$W/fetch.log" ||
	    fail "disk full: no clear message: $(cat "$W/fetch.log")"
	n=$(find "$MAILDIR_BOB/new" "$MAILDIR_BOB/cur" -type f | wc -l)
	[ "$n" = $N ] || fail "disk full: $n of $N messages left on the server"
	state=$XDG_DATA_HOME/facteur/pop3/bob.uidl
	recorded=$(($(wc -l < "$state" 2>/dev/null || echo 1) - 1))
	md5_of "$MD/new" "$MD/cur" > "$W/loc.md5"
	[ -z "$(comm -13 "$W/src.md5" "$W/loc.md5")" ] ||
	    fail "disk full: a delivered message is incomplete"
	[ "$(wc -l < "$W/loc.md5")" -ge "$recorded" ] ||
	    fail "disk full: $recorded recorded but fewer files"
	head -n 1 "$state" 2>/dev/null | grep -q '^facteur-pop3-uidl 1$' ||
	    [ "$recorded" -le 0 ] || fail "disk full: state file damaged"
	echo "disk full: stopped after $(wc -l < "$W/loc.md5") messages," \
	    "$recorded recorded: $(grep -m1 'No space' "$W/fetch.log")"
	rm -f "$MNT/filler"
	fetch || fail "after freeing space: $(tail -n 2 "$W/fetch.log")"
	check_complete "disk full, then room"
else
	echo "disk full: SKIP (mount -t tmpfs not permitted)"
fi

# --- a file size limit ----------------------------------------------------
# Where no tmpfs can be mounted, a full disk looks like this: with ulimit
# -f, the write of a message too big fails (EFBIG; SIGXFSZ is ignored, so
# the process is not killed): the fetch stops with a clear message and
# deletes nothing on the server; with the limit gone it completes.
write_config "$W/Mail"
local_reset
server_fill
head -c 6000000 /dev/zero | tr '\0' 'x' | fold -w 76 |
    sed '1i From: a@example.org\nTo: bob@localhost\nSubject: big\nMessage-ID: <big.'"$$"'@crash>\n' \
    > "$MAILDIR_BOB/tmp/big.r$round.crash"
chown "$MAIL_UID:$MAIL_GID" "$MAILDIR_BOB/tmp/big.r$round.crash"
mv "$MAILDIR_BOB/tmp/big.r$round.crash" "$MAILDIR_BOB/new/"
touch -d "@$(($(date +%s) + 2000 + round))" "$MAILDIR_BOB/new"
: > "$W/fetch.log"
(ulimit -f 2048; exec "$FACTEUR" -F "$W/conf" --fetch </dev/null \
    >>"$W/fetch.log" 2>&1)
rc=$?
[ $rc = 74 ] || fail "file size limit: exit status $rc, wanted 74" \
    "(EX_IOERR; 153 is a SIGXFSZ death): $(tail -n 2 "$W/fetch.log")"
grep -q 'File too large (nothing was deleted on the server)' \
    "$W/fetch.log" ||
    fail "file size limit: no clear message: $(cat "$W/fetch.log")"
n=$(find "$MAILDIR_BOB/new" "$MAILDIR_BOB/cur" -type f | wc -l)
[ "$n" = $((N + 1)) ] ||
    fail "file size limit: $n of $((N + 1)) messages left on the server"
md5_of "$MD/new" "$MD/cur" > "$W/loc.md5"
[ -z "$(comm -13 "$W/src.md5" "$W/loc.md5")" ] ||
    fail "file size limit: a delivered message is incomplete"
[ -z "$(find "$MD/tmp" -type f)" ] || fail "file size limit: tmp/ not empty"
echo "file size limit: stopped after $(wc -l < "$W/loc.md5") messages:" \
    "$(grep -m1 'too large' "$W/fetch.log")"
rm -f "$MAILDIR_BOB"/new/big.* "$MAILDIR_BOB"/cur/big.*
fetch || fail "after the limit: $(tail -n 2 "$W/fetch.log")"
check_complete "file size limit, then none"

[ $failed = 0 ] && echo "PASS" && exit 0
exit 1
