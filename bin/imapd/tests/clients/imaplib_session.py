#!/usr/bin/env python3
"""Every IMAP4rev1 command through Python's imaplib against imapd.

Usage: imaplib_session.py PORT USER PASSWORD MODE CAFILE FORMAT DELIVER INBOX

MODE is "login" (the server greets * OK: STARTTLS, LOGIN, AUTHENTICATE are
run) or "preauth" (it greets * PREAUTH). FORMAT is the format new mailboxes
get (mbox or mmdf); DELIVER is the MTA stand-in that fills INBOX. Prints
"checks N" and exits 0 when everything held; exits 1 with the failed check.
"""
import datetime
import email
import imaplib
import re
import ssl
import subprocess
import sys

PORT, USER, PASSWORD, MODE, CAFILE, FORMAT, DELIVER, INBOX = sys.argv[1:9]
PORT = int(PORT)
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


def ok(result, what):
    typ, data = result
    check(typ == "OK", "%s: %s %r" % (what, typ, data))
    return data


def refused(fn, what):
    try:
        typ, data = fn()
    except imaplib.IMAP4.error as e:
        return str(e)
    check(typ == "NO", "%s should fail: %s %r" % (what, typ, data))
    return data


def blob(data):
    """A FETCH answer as imaplib returns it, flattened to bytes."""
    out = b""
    for d in data:
        if isinstance(d, tuple):
            out += d[0] + d[1]
        elif d is not None:
            out += d
    return out


def tls_context():
    ctx = ssl.create_default_context(cafile=CAFILE)
    ctx.check_hostname = False
    return ctx


def connect():
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    if MODE == "login":
        check(m.welcome.startswith(b"* OK [CAPABILITY IMAP4rev1 LITERAL+ STARTTLS"), m.welcome)
        m.starttls(ssl_context=tls_context())
        check("STARTTLS" not in m.capabilities, "STARTTLS gone after TLS: %r" % (m.capabilities,))
        m.login(USER, PASSWORD)
        check(m.state == "AUTH", m.state)
    else:
        check(m.welcome.startswith(b"* PREAUTH [CAPABILITY IMAP4rev1 LITERAL+ IDLE "), m.welcome)
        check(m.state == "AUTH", m.state)
    return m


def literal_plus(m, command, payloads):
    """Sends `command` with LITERAL+ literals ({n+}) in place of each `%s`."""
    tag = m._new_tag()
    parts = command.split(b"%s")
    wire = tag + b" " + parts[0]
    for payload, rest in zip(payloads, parts[1:]):
        wire += b"{%d+}\r\n" % len(payload) + payload + rest
    m.send(wire + b"\r\n")
    return m._command_complete(command.split(b" ")[0].decode(), tag)


# --------------------------------------------------------------------------
# Logging in: STARTTLS, LOGIN (quoted, with escapes), AUTHENTICATE PLAIN.

if MODE == "login":
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    caps = ok(m.capability(), "CAPABILITY")[0].split()
    check(b"STARTTLS" in caps and b"AUTH=PLAIN" in caps, caps)
    ok(m.noop(), "NOOP before login")
    m.starttls(ssl_context=tls_context())
    try:
        m.login(USER, "wrong password")
        check(False, "a wrong password logged in")
    except imaplib.IMAP4.error as e:
        check("AUTHENTICATIONFAILED" in str(e), e)
    typ, data = m.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (USER, PASSWORD)).encode())
    check(typ == "OK" and m.state == "AUTH", (typ, data))
    check(m.logout()[0] == "BYE", "LOGOUT")
    # LOGIN with the password in a synchronizing literal.
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    m.starttls(ssl_context=tls_context())
    m.literal = PASSWORD.encode()
    typ, data = m._simple_command("LOGIN", USER)
    check(typ == "OK" and m.response("CAPABILITY")[1][0].startswith(b"IMAP4rev1"), (typ, data))
    m.logout()

m = connect()
caps = ok(m.capability(), "CAPABILITY")[0].split()
check(caps[:2] == [b"IMAP4rev1", b"LITERAL+"], caps)
ok(m.noop(), "NOOP")

# --------------------------------------------------------------------------
# Mailboxes: CREATE, LIST, LSUB, SUBSCRIBE, UNSUBSCRIBE, STATUS, DELETE.

check(ok(m.list('""', '""'), "LIST delimiter")[0] == b'(\\Noselect) "/" ""', "delimiter")
ok(m.create("work"), "CREATE work")
ok(m.create("projects/"), "CREATE holder")
ok(m.create("projects/2024"), "CREATE nested")
ok(m.create("Entw&APw-rfe"), "CREATE modified UTF-7")
refused(lambda: m.create("work"), "CREATE existing")
names = ok(m.list(), "LIST *")
text = b"\n".join(names)
for want in [b'"INBOX"', b'"work"', b'"projects"', b'"projects/2024"', b'"Entw&APw-rfe"']:
    check(want in text, "LIST shows %r: %r" % (want, text))
check(b'(\\Noselect \\HasChildren) "/" "projects"' in text, text)
top = b"\n".join(ok(m.list('""', "%"), "LIST %"))
check(b"2024" not in top, top)
ok(m.subscribe("work"), "SUBSCRIBE")
ok(m.subscribe("projects/2024"), "SUBSCRIBE nested")
lsub = b"\n".join(ok(m.lsub(), "LSUB"))
check(b'"work"' in lsub and b'"projects/2024"' in lsub, lsub)
ok(m.unsubscribe("work"), "UNSUBSCRIBE")
lsub = b"\n".join(d for d in ok(m.lsub(), "LSUB") if d)
check(b'"work"' not in lsub, lsub)
st = ok(m.status("work", "(MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN)"), "STATUS")[0]
check(re.match(rb'"work" \(MESSAGES 0 RECENT 0 UIDNEXT 1 UIDVALIDITY \d+ UNSEEN 0\)', st), st)
refused(lambda: m.status("nothere", "(MESSAGES)"), "STATUS of a missing mailbox")
ok(m.delete("projects/2024"), "DELETE")
ok(m.delete("projects"), "DELETE holder")
refused(lambda: m.delete("INBOX"), "DELETE INBOX")

# --------------------------------------------------------------------------
# APPEND: flags, date, synchronizing literal; LITERAL+.

PLAIN = (b"From: Alice Archer <alice@example.org>\r\n"
         b"To: Bob Baker <bob@example.com>\r\n"
         b"Cc: Carol Chen <carol@example.net>\r\n"
         b"Subject: Quarterly figures\r\n"
         b"Date: Tue, 02 Jan 2024 09:15:00 +0000\r\n"
         b"Message-ID: <figures@example.org>\r\n"
         b"\r\n"
         b"The quarterly figures arrived this morning.\r\n"
         b"Revenue is up in every region.\r\n")
NESTED = (b"From: Dora <dora@example.com>\r\nSubject: inner\r\n\r\ninnermost text\r\n")
MIME = (b"From: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\r\n"
        b"To: alice@example.org\r\n"
        b"Bcc: secret@example.com\r\n"
        b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Berlin\r\n"
        b"Date: Thu, 22 Feb 2024 23:59:59 -1200\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"XyZ\"\r\n"
        b"\r\n"
        b"This is a MIME message.\r\n"
        b"--XyZ\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"K=C3=A4se, Br=C3=B6tchen und Gr=C3=BC=C3=9Fe.\r\n"
        b"--XyZ\r\n"
        b"Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=\"data.bin\"\r\n"
        b"\r\n"
        b"AAECAwQFBgc=\r\n"
        b"--XyZ\r\n"
        b"Content-Type: message/rfc822\r\n"
        b"\r\n" + NESTED +
        b"--XyZ--\r\n")
BIG = (b"From: Gina <gina@example.net>\r\nTo: bob@example.com\r\nSubject: budget\r\n"
       b"Date: Mon, 04 Mar 2024 12:00:00 +0100\r\n\r\n" + b"budget line\r\n" * 400)

tz2 = datetime.timezone(datetime.timedelta(hours=2))
date1 = imaplib.Time2Internaldate(datetime.datetime(2024, 7, 14, 8, 30, 0, tzinfo=tz2))
resp = ok(m.append("work", r"(\Seen $Forwarded)", date1, PLAIN), "APPEND with flags and date")
check(b"APPENDUID" in resp[0] and resp[0].endswith(b" 1] APPEND completed"), resp)
ok(m.append("work", None, '"15-Jan-2024 23:30:00 -0500"', MIME), "APPEND MIME")
ok(literal_plus(m, b'APPEND work (\\Draft) " 6-Mar-2024 10:00:00 +0000" %s', [BIG]), "APPEND LITERAL+")
typ, data = m.append("nothere", None, None, PLAIN)
check(typ == "NO" and b"TRYCREATE" in data[0], (typ, data))

# --------------------------------------------------------------------------
# SELECT, EXAMINE.

typ, data = m.select("work")
check(typ == "OK" and data == [b"3"], (typ, data))
check(m.response("RECENT")[1] == [b"3"], m.response("RECENT"))
check("READ-WRITE" in m.untagged_responses, "read-write")
uidvalidity = int(m.response("UIDVALIDITY")[1][0])
check(m.response("UIDNEXT")[1] == [b"4"], "UIDNEXT")
perm = m.response("PERMANENTFLAGS")[1][0]
check(b"\\*" in perm and b"$Forwarded" in perm, perm)
check(m.response("UNSEEN")[1] == [b"2"], "UNSEEN")

# --------------------------------------------------------------------------
# FETCH: every attribute, every section form, partials, macros.

def fetch(seq, items, uid=False):
    if uid:
        return blob(ok(m.uid("FETCH", seq, items), "UID FETCH %s %s" % (seq, items)))
    return blob(ok(m.fetch(seq, items), "FETCH %s %s" % (seq, items)))


header, text = PLAIN.split(b"\r\n\r\n", 1)
header += b"\r\n\r\n"
b = fetch("1", "(ENVELOPE)")
check(b'ENVELOPE ("Tue, 02 Jan 2024 09:15:00 +0000" "Quarterly figures" (("Alice Archer" NIL "alice" "example.org"))' in b, b)
b = fetch("1", "(BODYSTRUCTURE)")
check(b'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" %d 2 NIL NIL NIL NIL)' % len(text) in b, b)
b = fetch("1", "(BODY)")
check(b'BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" %d 2)' % len(text) in b, b)
b = fetch("1", "(RFC822.SIZE INTERNALDATE FLAGS UID)")
check(b"RFC822.SIZE %d" % len(PLAIN) in b, b)
check(b'INTERNALDATE "14-Jul-2024 08:30:00 +0200"' in b, b)
check(b"FLAGS (\\Recent \\Seen $Forwarded)" in b and b"UID 1" in b, b)
check(fetch("1", "(BODY.PEEK[])") == b"1 (BODY[] {%d}" % len(PLAIN) + PLAIN + b")", "BODY[]")
check(fetch("1", "(BODY.PEEK[HEADER])").endswith(header + b")"), "HEADER")
check(fetch("1", "(BODY.PEEK[TEXT])").endswith(text + b")"), "TEXT")
b = fetch("1", "(BODY.PEEK[HEADER.FIELDS (Subject From)])")
check(b.endswith(b"From: Alice Archer <alice@example.org>\r\nSubject: Quarterly figures\r\n\r\n)"), b)
check(b"BODY[HEADER.FIELDS (SUBJECT FROM)]" in b, b)
b = fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (To Cc Date Message-ID)])")
check(b.endswith(b"From: Alice Archer <alice@example.org>\r\nSubject: Quarterly figures\r\n\r\n)"), b)
b = fetch("1", "(BODY.PEEK[TEXT]<4.9> BODY.PEEK[]<0.4>)")
check(b"BODY[TEXT]<4> {9}" + text[4:13] in b and b'BODY[]<0> "From"' in b, b)
b = fetch("1", "(BODY.PEEK[1] BODY.PEEK[1.MIME])")
check(b"BODY[1] {%d}" % len(text) + text in b, b)
b = fetch("1", "(RFC822.HEADER)")
check(b"RFC822.HEADER {%d}" % len(header) + header in b, b)
b = fetch("1", "(RFC822)")
check(b"RFC822 {%d}" % len(PLAIN) + PLAIN in b, b)
for macro, items in [("ALL", [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE"]),
                     ("FAST", [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE"]),
                     ("FULL", [b"FLAGS", b"INTERNALDATE", b"RFC822.SIZE", b"ENVELOPE", b"BODY ("])]:
    b = fetch("1", macro)
    check(all(i in b for i in items), (macro, b))
check(b"ENVELOPE" not in fetch("1", "FAST"), "FAST has no ENVELOPE")

# The MIME message: parts, MIME headers, nested message, BINARY.
mime = email.message_from_bytes(MIME)
part1, part2, part3 = mime.get_payload()
b = fetch("2", "(BODYSTRUCTURE)")
check(b'("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE"' in b, b)
check(b'"MESSAGE" "RFC822" NIL NIL NIL "7BIT"' in b and b'"MIXED" ("BOUNDARY" "XyZ")' in b, b)
b = fetch("2", "(BODY.PEEK[1])")
check(b"K=C3=A4se, Br=C3=B6tchen und Gr=C3=BC=C3=9Fe." in b, b)
b = fetch("2", "(BODY.PEEK[1.MIME])")
check(b.endswith(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n)"), b)
b = fetch("2", "(BODY.PEEK[2])")
check(b'BODY[2] "AAECAwQFBgc="' in b, b)
b = fetch("2", "(BINARY.PEEK[2] BINARY.SIZE[2])")
check(b"BINARY[2] ~{8}\x00\x01\x02\x03\x04\x05\x06\x07" in b, b)
check(b"BINARY.SIZE[2] 8" in b, b)
b = fetch("2", "(BINARY.PEEK[1])")
check("Käse, Brötchen und Grüße.".encode() in b, b)
b = fetch("2", "(BODY.PEEK[3] BODY.PEEK[3.HEADER] BODY.PEEK[3.TEXT] BODY.PEEK[3.1])")
nested_header = NESTED.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
check(b"BODY[3] {%d}" % (len(NESTED) - 2) + NESTED[:-2] in b, b)
check(b"BODY[3.HEADER] {%d}" % len(nested_header) + nested_header in b, b)
check(b"BODY[3.TEXT] {14}innermost text" in b, b)
check(b"BODY[3.1]" in b, b)
b = fetch("2", "(BODY.PEEK[3.HEADER.FIELDS (SUBJECT)] BODY.PEEK[3.HEADER.FIELDS.NOT (SUBJECT)])")
check(b"Subject: inner\r\n\r\n" in b and b"From: Dora <dora@example.com>\r\n\r\n" in b, b)
b = fetch("2", "(BODY.PEEK[9])")
check(b'BODY[9] ""' in b, b)

# Non-PEEK sets \Seen (and says so).
b = fetch("2", "(BODY[TEXT])")
check(b"FLAGS (\\Recent \\Seen)" in b, b)
b = fetch("3", "(RFC822.TEXT)")
check(b"FLAGS (\\Recent \\Seen \\Draft)" in b or b"FLAGS (\\Recent \\Draft \\Seen)" in b, b)
ok(m.store("3", "-FLAGS.SILENT", r"(\Seen)"), "unsee 3")

# --------------------------------------------------------------------------
# STORE: FLAGS, +FLAGS, -FLAGS, .SILENT, keywords.

b = blob(ok(m.store("1", "+FLAGS", r"(\Flagged)"), "+FLAGS"))
check(b == b"1 (FLAGS (\\Recent \\Seen \\Flagged $Forwarded))", b)
b = blob(ok(m.store("1", "-FLAGS", r"(\Seen)"), "-FLAGS"))
check(b == b"1 (FLAGS (\\Recent \\Flagged $Forwarded))", b)
b = blob(ok(m.store("2", "FLAGS", r"(\Answered \Seen Project)"), "FLAGS"))
check(b == b"2 (FLAGS (\\Recent \\Seen \\Answered Project))", b)
flags = m.response("FLAGS")[1]
check(b"Project" in flags[-1], flags)
typ, data = m.store("1", "+FLAGS.SILENT", r"(\Seen)")
check(typ == "OK" and data == [None], data)
check(fetch("1", "FLAGS") == b"1 (FLAGS (\\Recent \\Seen \\Flagged $Forwarded))", "after SILENT")
try:
    m.store("1", "+FLAGS", r"(\Recent)")
    check(False, "STORE \\Recent accepted")
except imaplib.IMAP4.error as e:
    check("BAD" in str(e), e)

# --------------------------------------------------------------------------
# SEARCH: every key.

def search(*criteria, charset=None, literal=None, uid=False):
    if literal is not None:
        m.literal = literal
    if uid:
        data = ok(m.uid("SEARCH", *criteria) if charset is None else m.uid("SEARCH", "CHARSET", charset, *criteria), criteria)
    else:
        data = ok(m.search(charset, *criteria), criteria)
    return data[0].split()


cases = [
    (["ALL"], b"1 2 3"),
    (["ANSWERED"], b"2"), (["UNANSWERED"], b"1 3"),
    (["FLAGGED"], b"1"), (["UNFLAGGED"], b"2 3"),
    (["SEEN"], b"1 2"), (["UNSEEN"], b"3"),
    (["DRAFT"], b"3"), (["UNDRAFT"], b"1 2"),
    (["DELETED"], b""), (["UNDELETED"], b"1 2 3"),
    (["RECENT"], b"1 2 3"), (["OLD"], b""), (["NEW"], b"3"),
    (["KEYWORD", "$Forwarded"], b"1"), (["UNKEYWORD", "Project"], b"1 3"),
    (["FROM", '"alice archer"'], b"1"), (["FROM", "gina"], b"3"),
    (["TO", "bob@example.com"], b"1 3"), (["CC", "carol"], b"1"), (["BCC", "secret"], b"2"),
    (["SUBJECT", "figures"], b"1"), (["SUBJECT", '"aus berlin"'], b"2"),
    (["BODY", "revenue"], b"1"), (["BODY", "innermost"], b"2"),
    (["TEXT", "joerg@example.de"], b"2"), (["TEXT", "budget"], b"3"),
    (["HEADER", "Message-ID", "figures@"], b"1"), (["HEADER", "MIME-Version", '""'], b"2"),
    (["BEFORE", "15-Jan-2024"], b""), (["BEFORE", "16-Jan-2024"], b"2"),
    (["ON", "15-Jan-2024"], b"2"), (["SINCE", "1-Mar-2024"], b"1 3"),
    (["SENTBEFORE", "3-Jan-2024"], b"1"), (["SENTON", "22-Feb-2024"], b"2"),
    (["SENTSINCE", "1-Mar-2024"], b"3"),
    (["LARGER", "3000"], b"3"), (["SMALLER", "3000"], b"1 2"),
    (["UID", "2:*"], b"2 3"), (["2:3"], b"2 3"), (["*"], b"3"),
    (["NOT", "SEEN"], b"3"), (["OR", "DRAFT", "FLAGGED"], b"1 3"),
    (["(OR", "ANSWERED", "DRAFT)", "UNFLAGGED"], b"2 3"),
    (["NOT", "(OR", "1", "2)"], b"3"),
]
for criteria, want in cases:
    got = search(*criteria)
    check(got == want.split(), "SEARCH %s: %r, want %r" % (" ".join(criteria), got, want))
check(search("SUBJECT", literal="Grüße".encode(), charset="UTF-8") == [b"2"], "SEARCH UTF-8 literal")
check(search("BODY", literal="Käse".encode("latin-1"), charset="ISO-8859-1") == [b"2"], "SEARCH latin-1")
data = ok(literal_plus(m, b"SEARCH CHARSET UTF-8 TEXT %s", ["brötchen".encode()]), "SEARCH LITERAL+")
check(m.response("SEARCH")[1] == [b"2"], m.response("SEARCH"))
typ, data = m.search("X-BOGUS", "ALL")
check(typ == "NO" and b"BADCHARSET" in data[0], (typ, data))

# --------------------------------------------------------------------------
# COPY, UID variants, CHECK, EXPUNGE, CLOSE.

ok(m.create("archive"), "CREATE archive")
b = ok(m.copy("1:2", "archive"), "COPY")[0]
check(b.startswith(b"[COPYUID "), b)
typ, data = m.copy("1", "nothere")
check(typ == "NO" and b"TRYCREATE" in data[0], (typ, data))
b = fetch("2:3", "(FLAGS)", uid=True)
check(b"UID 2" in b and b"UID 3" in b and b"UID 1 " not in b, b)
check(search("UID", "1,3", uid=True) == [b"1", b"3"], "UID SEARCH")
check(search("DRAFT", uid=True) == [b"3"], "UID SEARCH DRAFT")
b = blob(ok(m.uid("STORE", "3", "+FLAGS", r"(\Deleted)"), "UID STORE"))
check(b == b"3 (FLAGS (\\Recent \\Deleted \\Draft) UID 3)", b)
ok(m.uid("COPY", "3", "archive"), "UID COPY")
b = m.response("COPYUID")[1][-1]
check(b.endswith(b" 3 3"), b)
ok(m.check(), "CHECK")
typ, data = m.expunge()
check(typ == "OK" and data == [b"3"], (typ, data))
ok(m.store("1", "+FLAGS.SILENT", r"(\Deleted)"), "delete 1")
ok(m.close(), "CLOSE")
st = ok(m.status("work", "(MESSAGES UIDNEXT)"), "STATUS after CLOSE")[0]
check(st == b'"work" (MESSAGES 1 UIDNEXT 4)', st)
st = ok(m.status("archive", "(MESSAGES)"), "STATUS archive")[0]
check(st == b'"archive" (MESSAGES 3)', st)

typ, data = m.select("archive", readonly=True)
check(typ == "OK" and data == [b"3"], (typ, data))
typ, data = m.store("1", "+FLAGS", r"(\Seen)")
check(typ == "NO", (typ, data))
b = fetch("3", "(FLAGS INTERNALDATE)")
check(b'INTERNALDATE " 6-Mar-2024 10:00:00 +0000"' in b and b"\\Deleted" in b, b)
ok(m.close(), "CLOSE read-only")

# --------------------------------------------------------------------------
# RENAME, and RENAME INBOX with mail the MTA delivered.

ok(m.rename("archive", "old/archive"), "RENAME into a new hierarchy")
check(b"old/archive" in b"\n".join(ok(m.list(), "LIST")), "renamed")
subprocess.run([sys.executable, DELIVER, INBOX, "1", "2", "0", FORMAT], check=True)
typ, data = m.select("INBOX")
check(data == [b"2"], data)
b = fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
check(b"Subject: delivered 2" in b, b)
ok(m.close(), "CLOSE INBOX")
ok(m.rename("INBOX", "inbox-2024"), "RENAME INBOX")
check(ok(m.status("INBOX", "(MESSAGES)"), "STATUS INBOX")[0] == b'"INBOX" (MESSAGES 0)', "INBOX empty")
check(ok(m.status("inbox-2024", "(MESSAGES)"), "STATUS moved")[0] == b'"inbox-2024" (MESSAGES 2)', "moved")
ok(m.delete("old/archive"), "DELETE renamed")

typ, data = m.logout()
check(typ == "BYE", (typ, data))
print("checks", checks)
