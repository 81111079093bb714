#!/bin/sh
# Builds small seed corpora for the fuzz targets in fuzz/corpus/TARGET (not
# committed; libFuzzer adds what it finds there). Seeds come from the conformance
# messages and a few lines of each protocol.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
c="$here/corpus"
mkdir -p "$c"
for t in imap_command imap_receiver message address date encoded_words mailbox_file \
    state_journal pop_commands sasl; do
    mkdir -p "$c/$t"
done
i=0
for f in "$top"/tests/conformance/messages/*.eml; do
    i=$((i + 1))
    cp "$f" "$c/message/eml$i"
    # As a one-message mbox file, and as MMDF.
    { printf 'From a@b Mon Jan  1 00:00:01 2024\n'; tr -d '\r' <"$f"; printf '\n'; } >"$c/mailbox_file/mbox$i"
    [ $((i % 8)) -eq 0 ] && { printf '\001\001\001\001\nFrom a@b Mon Jan  1 00:00:01 2024\n'; tr -d '\r' <"$f"; printf '\001\001\001\001\n'; } >"$c/mailbox_file/mmdf$i"
    grep -a -i -m 3 -E '^(from|to|cc|reply-to):' "$f" | cut -d: -f2- >"$c/address/eml$i" || true
    grep -a -i -m 1 -E '^date:' "$f" | cut -d: -f2- >"$c/date/eml$i" || true
    grep -a -i -m 2 -E '^(subject|content-type):' "$f" | cut -d: -f2- >"$c/encoded_words/eml$i" || true
done
n=0
while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" >"$c/imap_command/line$n"
    printf '\000%s\r\n' "$line" >"$c/imap_receiver/line$n"
done <<'LINES'
a LOGIN fred "secret pass"
a SELECT INBOX
a FETCH 1:* (FLAGS UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (Subject From)] BODYSTRUCTURE)
a UID FETCH 1,3:5 (BODY[1.2.MIME] BINARY.PEEK[1]<0.100>)
a STORE 1:* +FLAGS.SILENT (\Seen $Forwarded)
a SEARCH CHARSET UTF-8 OR SUBJECT "x" NOT FROM y SINCE 1-Jan-2024 UID 1:*
a UID SORT (REVERSE ARRIVAL SUBJECT) UTF-8 ALL
a THREAD REFERENCES UTF-8 UNDELETED
a LIST "" "%" RETURN (SUBSCRIBED CHILDREN)
a STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)
a APPEND INBOX (\Seen) " 1-Jan-2024 10:00:00 +0000" {5+}
a AUTHENTICATE PLAIN AGZyZWQAc2VjcmV0
a ID ("name" "fuzz" "version" NIL)
a COPY 1:3 "Other box"
a UID MOVE 4 &AOQ-
LINES
printf 'a APPEND x {5+}\r\nhello\r\nb NOOP\r\nc LOGIN {3}\r\nbob {4+}\r\npass\r\n' >"$c/imap_receiver/literals"
for l in 'USER fred' 'PASS secret' 'APOP fred c4c9334bac560ecc979e58001b3e22fb' 'RETR 1' 'TOP 1 10' \
    'UIDL' 'LIST 2' 'AUTH PLAIN AGZyZWQAc2VjcmV0' 'HELO fred secret' 'FOLD work/2024' 'READ 3' 'ACKD'; do
    n=$((n + 1))
    printf '%s' "$l" >"$c/pop_commands/line$n"
done
printf '\000AGZyZWQAc2VjcmV0\n' >"$c/sasl/plain"
printf '\001ZnJlZA==\nc2VjcmV0\n' >"$c/sasl/login"
printf '\002ZnJlZCBhYmNkZWY=\n' >"$c/sasl/cram"
printf '\000pullmail-state 1\nuidvalidity 7\nrecent 2\nlastuid 9\ngeneration 3\nappendable 1 2 3 4 5 6 7 0 0\n' >"$c/state_journal/state"
head -c 120 /dev/zero | tr '\0' '\001' >"$c/state_journal/journal"
{ printf "\002"; head -c 200 /dev/zero; } >"$c/state_journal/index"
printf 'Mon, 1 Jan 2024 10:00:00 +0100' >"$c/date/rfc5322"
printf ' 1-Jan-2024 10:00:00 +0000' >"$c/date/internal"
printf '=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?iso-8859-1?b?5OQ=?=' >"$c/encoded_words/rfc2047"
printf "boundary=b; title*0*=us-ascii'en'This%%20is; title*1=\" more\"" >"$c/encoded_words/rfc2231"
echo "seeds in $c"
