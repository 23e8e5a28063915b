# Writes a small, fixed Maildir for the end-to-end tests: $1 is the
# directory. Dates are in 2025 so they show as YYYY-MM-DD.
fixture_maildir() {
	local d=$1
	mkdir -p "$d"/{cur,new,tmp} "$d"/.Archive/{cur,new,tmp}
	cat > "$d/new/1000.a1.test" <<'M'
From: Alice Martin <alice@example.org>
To: Bob <bob@example.org>
Subject: Quarterly budget
Date: Fri, 10 Jan 2025 09:00:00 +0000
Message-ID: <budget-1@example.org>
Content-Type: text/plain; charset=utf-8

Hi Bob,

here are the numbers for the quarterly budget.
The total is 12,400 euros.

Alice
M
	cat > "$d/cur/1001.a2.test:2,S" <<'M'
From: Bob <bob@example.org>
To: Alice Martin <alice@example.org>
Subject: Re: Quarterly budget
Date: Sat, 11 Jan 2025 10:00:00 +0000
Message-ID: <budget-2@example.org>
In-Reply-To: <budget-1@example.org>
References: <budget-1@example.org>
Content-Type: text/plain; charset=utf-8

> The total is 12,400 euros.

Looks fine to me.
-- 
Bob
M
	cat > "$d/cur/1002.a3.test:2,S" <<'M'
From: =?UTF-8?Q?Zo=C3=AB_Dupont?= <zoe@example.fr>
To: Bob <bob@example.org>
Subject: =?UTF-8?Q?Caf=C3=A9_=E2=98=95_demain?=
Date: Sun, 12 Jan 2025 08:30:00 +0000
Message-ID: <cafe-3@example.fr>
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

On se retrouve au caf=E9 demain =E0 9h ?
M
	printf 'From: Mallory <mallory@example.net>\nTo: Bob <bob@example.org>\nSubject: \033]0;pwned\007\033[31mRED ALERT\nDate: Mon, 13 Jan 2025 12:00:00 +0000\nMessage-ID: <evil-4@example.net>\nContent-Type: text/plain\n\nBody with \033[2Jclear screen and \033]0;title\007 inside.\n' \
		> "$d/cur/1003.a4.test:2,S"
	cat > "$d/cur/1004.a5.test:2,S" <<'M'
From: =?UTF-8?B?55Sw5Lit5aSq6YOO?= <tanaka@example.jp>
To: Bob <bob@example.org>
Subject: =?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN?=
Date: Tue, 14 Jan 2025 07:00:00 +0000
Message-ID: <jp-5@example.jp>
Content-Type: text/plain; charset=utf-8

こんにちは
M
	cat > "$d/.Archive/cur/1005.a6.test:2,S" <<'M'
From: Carol <carol@example.org>
To: Bob <bob@example.org>
Subject: Old minutes
Date: Wed, 01 Jan 2025 07:00:00 +0000
Message-ID: <old-6@example.org>

The minutes of the last meeting.
M
	cat > "$d/.Archive/new/1006.a7.test" <<'M'
From: Carol <carol@example.org>
To: Bob <bob@example.org>
Subject: Archived notes
Date: Thu, 02 Jan 2025 07:00:00 +0000
Message-ID: <old-7@example.org>

Notes.
M
	# A long message for paging.
	{
		printf 'From: Dave <dave@example.org>\nTo: Bob <bob@example.org>\nSubject: Long report\nDate: Wed, 15 Jan 2025 07:00:00 +0000\nMessage-ID: <long-8@example.org>\n\n'
		for i in $(seq 1 120); do printf 'Report line %03d\n' "$i"; done
	} > "$d/cur/1007.a8.test:2,S"
}
