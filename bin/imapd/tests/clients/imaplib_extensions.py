#!/usr/bin/env python3
"""The IMAP extensions through Python's imaplib against imapd: what a client
sees of NAMESPACE, ID, ENABLE, UIDPLUS, MULTIAPPEND, BINARY, SORT, THREAD,
CONDSTORE and QRESYNC (a second session's changes, and nothing else, told to a
client that comes back with SELECT (QRESYNC ...)),
ESEARCH, SEARCHRES, WITHIN, MOVE, UNSELECT, CHILDREN, SPECIAL-USE,
LIST-EXTENDED, LIST-STATUS, SASL-IR and I18NLEVEL=1; and IDLE, sent raw through
imaplib's socket, with a second session and an MTA delivery changing the mailbox.

Usage: imaplib_extensions.py PORT USER PASSWORD MODE CAFILE FORMAT DELIVER INBOX

Prints "checks N" and the slowest IDLE push, exits 0 when everything held.
"""
import base64
import imaplib
import re
import ssl
import subprocess
import sys
import time

PORT, USER, PASSWORD, MODE, CAFILE, FORMAT, DELIVER, INBOX = sys.argv[1:9]
PORT = int(PORT)
checks = 0

EXTENSIONS = (
    "IDLE NAMESPACE UIDPLUS UNSELECT CHILDREN BINARY MULTIAPPEND CATENATE ESEARCH WITHIN SORT "
    "SORT=DISPLAY ESORT CONTEXT=SEARCH CONTEXT=SORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES "
    "I18NLEVEL=1 MOVE ENABLE ID SPECIAL-USE LIST-EXTENDED LIST-STATUS SEARCHRES NOTIFY QUOTA QUOTA=RES-STORAGE CONDSTORE QRESYNC STATUS=SIZE APPENDLIMIT=67108864 COMPRESS=DEFLATE"
).split()


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


def tls_context():
    ctx = ssl.create_default_context(cafile=CAFILE)
    ctx.check_hostname = False
    return ctx


def connect():
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    if MODE == "login":
        m.starttls(ssl_context=tls_context())
        m.login(USER, PASSWORD)
    check(m.state == "AUTH", m.state)
    return m


def raw(m, command, payloads=()):
    """Sends `command` (bytes) with LITERAL+ literals in place of each %s."""
    tag = m._new_tag()
    parts = command.split(b"%s")
    wire = tag + b" " + parts[0]
    for payload, rest in zip(payloads, parts[1:]):
        wire += b"{%d+}\r\n" % len(payload) + payload + rest
    m.send(wire + b"\r\n")
    return m._command_complete(command.split(b" ")[0].decode(), tag)


def untagged(m, name):
    return m.untagged_responses.pop(name, [])


def message(subject, body, extra=""):
    return ("From: Alice <alice@example.org>\r\nTo: bob@example.com\r\nSubject: %s\r\n"
            "Message-ID: <%s@example.org>\r\n%s\r\n%s\r\n"
            % (subject, re.sub(r"\W", "", subject), extra, body)).encode()


# --------------------------------------------------------------------------
# CAPABILITY, SASL-IR (with MODE login: AUTHENTICATE PLAIN with its response).

if MODE == "login":
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    m.starttls(ssl_context=tls_context())
    check("SASL-IR" in m.capabilities, m.capabilities)
    ir = base64.b64encode(("\0%s\0%s" % (USER, PASSWORD)).encode())
    typ, data = m._simple_command("AUTHENTICATE", "PLAIN", ir.decode())
    check(typ == "OK", "SASL-IR: %s %r" % (typ, data))
    m.state = "AUTH"
    m.logout()

m = connect()
caps = [c.decode() for c in ok(m.capability(), "CAPABILITY")[0].split()]
for ext in EXTENSIONS:
    check(ext in caps, "%s advertised: %r" % (ext, caps))
check("SASL-IR" not in caps and "STARTTLS" not in caps, caps)

# NAMESPACE, ID, ENABLE.
check(ok(m.namespace(), "NAMESPACE") == [b'(("" "/")) NIL NIL'], "NAMESPACE")
typ, data = m.xatom("ID", '("name" "imaplib" "version" "%s")' % sys.version.split()[0])
check(typ == "OK", (typ, data))
ident = untagged(m, "ID")
check(ident and ident[0].startswith(b'("name" "pullmail" "version" '), ident)
typ, data = m.enable("CONDSTORE")
check(typ == "OK" and "ENABLED" in m.untagged_responses, (typ, data, m.untagged_responses))
untagged(m, "ENABLED")

# --------------------------------------------------------------------------
# SPECIAL-USE, CHILDREN, LIST-EXTENDED, LIST-STATUS.

for name in ["Sent", "Trash", "box", "arch/2024"]:
    ok(m.create(name), "CREATE " + name)
listing = b"\n".join(ok(m.list(), "LIST"))
check(b'\\Sent) "/" "Sent"' in listing and b'\\Trash) "/" "Trash"' in listing, listing)
check(b'(\\Noselect \\HasChildren) "/" "arch"' in listing, listing)
ok(m.subscribe("box"), "SUBSCRIBE")
ok(m.subscribe("gone"), "SUBSCRIBE a name that does not exist")
typ, data = m._simple_command("LIST", "(SUBSCRIBED)", '""', '"*"')
sub = b"\n".join(m._untagged_response(typ, data, "LIST")[1])
check(b'\\Subscribed) "/" "box"' in sub and b'(\\NonExistent \\Subscribed) "/" "gone"' in sub, sub)
typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', '"*"', "RETURN", "(SPECIAL-USE)")
special = m._untagged_response(typ, data, "LIST")[1]
check(len(special) == 2, special)

# --------------------------------------------------------------------------
# UIDPLUS and MULTIAPPEND (all or nothing), BINARY.

data = ok(m.append("box", r"(\Seen)", None, message("kickoff", "one")), "APPEND")
match = re.search(rb"\[APPENDUID (\d+) 1\]", data[0])
check(match, data)
uidvalidity = match.group(1)
bodies = [message("Re: kickoff", "two", "In-Reply-To: <kickoff@example.org>\r\n"),
          message("agenda", "three"),
          message("Re: agenda", "four", "References: <agenda@example.org>\r\n")]
typ, data = raw(m, b"APPEND box %s (\\Flagged) %s %s", bodies)
check(typ == "OK" and b"[APPENDUID %s 2:4]" % uidvalidity in data[0], (typ, data))
try:
    raw(m, b"APPEND box %s (\\Bogus) %s", bodies[:2])
    check(False, "MULTIAPPEND with a bad flag succeeded")
except imaplib.IMAP4.error as e:
    check("BAD" in str(e), e)
typ, data = m.status("box", "(MESSAGES UIDNEXT)")
check(data == [b'"box" (MESSAGES 4 UIDNEXT 5)'], data)
typ, data = m._simple_command("LIST", '""', '"%"', "RETURN", "(STATUS (MESSAGES UNSEEN))")
check(typ == "OK", (typ, data))
statuses = b"\n".join(untagged(m, "STATUS"))
check(b'"box" (MESSAGES 4 UNSEEN 3)' in statuses, statuses)

ok(m.select("box"), "SELECT box")
data = ok(m.fetch("1", "(BINARY.SIZE[1] BINARY.PEEK[1])"), "FETCH BINARY")
check(data[0][0].endswith(b"BINARY.SIZE[1] 5 BINARY[1] {5}") and data[0][1] == b"one\r\n", data)

# --------------------------------------------------------------------------
# SORT, THREAD, ESEARCH, SEARCHRES, WITHIN, I18NLEVEL=1.

check(ok(m.sort("(SUBJECT)", "UTF-8", "ALL"), "SORT") == [b"3 4 1 2"], "SORT SUBJECT")
check(ok(m.uid("SORT", "(REVERSE SUBJECT)", "UTF-8", "ALL"), "UID SORT") == [b"1 2 3 4"], "UID SORT")
check(ok(m.thread("REFERENCES", "UTF-8", "ALL"), "THREAD") == [b"(1 2)(3 4)"], "THREAD")
check(ok(m.thread("ORDEREDSUBJECT", "UTF-8", "ALL"), "THREAD") == [b"(1 2)(3 4)"], "THREAD OS")
typ, data = m._simple_command("SEARCH", "RETURN", "(MIN MAX COUNT)", "UNSEEN")
esearch = untagged(m, "ESEARCH")
check(typ == "OK" and esearch and esearch[0].endswith(b"MIN 2 MAX 4 COUNT 3"), esearch)
typ, data = m._simple_command("SEARCH", "RETURN", "(SAVE)", "SUBJECT", "agenda")
check(typ == "OK" and not untagged(m, "ESEARCH"), "SAVE alone answers no ESEARCH")
data = ok(m.fetch("$", "(UID)"), "FETCH $")
check(data == [b"3 (UID 3)", b"4 (UID 4)"], data)
check(ok(m.search(None, "YOUNGER", "3600"), "WITHIN") == [b"1 2 3 4"], "YOUNGER")
check(ok(m.search(None, "OLDER", "3600"), "WITHIN") == [b""], "OLDER")
m.literal = "KICKOFF".encode()
check(ok(m.search("UTF-8", "SUBJECT"), "SEARCH CHARSET UTF-8") == [b"1 2"], "case-folded")

# --------------------------------------------------------------------------
# MOVE, UID EXPUNGE, UNSELECT.

typ, data = m.uid("MOVE", "3:4", "Trash")
check(typ == "OK", (typ, data))
copyuid = untagged(m, "OK")
check(copyuid and re.match(rb"\[COPYUID \d+ 3:4 1:2\]", copyuid[0]), copyuid)
check(untagged(m, "EXPUNGE") == [b"3", b"3"], "MOVE expunges")
ok(m.store("1:2", "+FLAGS.SILENT", r"\Deleted"), "STORE")
typ, data = m.uid("EXPUNGE", "2")
check(typ == "OK" and untagged(m, "EXPUNGE") == [b"2"], (typ, data))
check(ok(m.search(None, "DELETED"), "SEARCH") == [b"1"], "UID EXPUNGE kept UID 1")
ok(m.unselect(), "UNSELECT")
check(m.status("box", "(MESSAGES)")[1] == [b'"box" (MESSAGES 1)'], "UNSELECT expunged nothing")
check(m.status("Trash", "(MESSAGES)")[1] == [b'"Trash" (MESSAGES 2)'], "moved")

# --------------------------------------------------------------------------
# IDLE: changes by another session and by the MTA reach the idler in 3 s.

ok(m.select("INBOX"), "SELECT INBOX")
ok(m.append("INBOX", None, None, message("idle one", "x")), "APPEND")
ok(m.append("INBOX", None, None, message("idle two", "y")), "APPEND")
ok(m.noop(), "NOOP")
other = connect()
ok(other.select("INBOX"), "second session SELECT")

tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
check(m.readline().startswith(b"+ "), "IDLE continuation")
m.sock.settimeout(3.0)
slowest = 0.0


def pushed(pattern, what):
    """Reads lines until one matches `pattern`; fails past 3 seconds."""
    global slowest
    start = time.monotonic()
    while True:
        try:
            line = m.readline()
        except OSError:
            check(False, "%s not pushed within 3 s" % what)
        if not line:
            check(False, "connection closed while idling")
        if re.match(pattern, line):
            break
        check(time.monotonic() - start < 3.0, "%s not pushed within 3 s" % what)
    slowest = max(slowest, time.monotonic() - start)


ok(other.store("1", "+FLAGS", r"\Flagged"), "second session STORE")
pushed(rb"\* 1 FETCH \(FLAGS \(.*\\Flagged", "a flag change")
ok(other.store("2", "+FLAGS", r"\Deleted"), "second session STORE")
ok(other.expunge(), "second session EXPUNGE")
pushed(rb"\* 2 EXPUNGE", "an expunge")
subprocess.run([sys.executable, DELIVER, INBOX, "1", "1", "0", FORMAT], check=True)
pushed(rb"\* 2 EXISTS", "an MTA delivery")
ok(other.append("INBOX", None, None, message("idle three", "z")), "second session APPEND")
pushed(rb"\* 3 EXISTS", "an APPEND")
m.send(b"DONE\r\n")
while True:
    line = m.readline()
    if line.startswith(tag):
        check(line.startswith(tag + b" OK"), line)
        break
m.sock.settimeout(30)
ok(m.noop(), "NOOP after IDLE")
other.logout()
m.logout()

# --------------------------------------------------------------------------
# CONDSTORE and QRESYNC (RFC 7162): a client that comes back after another
# changed the mailbox hears of exactly those changes.

def enable_qresync(c):
    typ, data = c._simple_command("ENABLE", "QRESYNC")
    check(typ == "OK" and untagged(c, "ENABLED") == [b"QRESYNC"], (typ, data))


q = connect()
enable_qresync(q)
ok(q.select("INBOX"), "SELECT")
uidvalidity = int(untagged(q, "UIDVALIDITY")[0])
highest = int(untagged(q, "HIGHESTMODSEQ")[0])
q.logout()
other = connect()
ok(other.select("INBOX"), "second session SELECT")
uids = ok(other.uid("SEARCH", "ALL"), "UID SEARCH ALL")[0].split()
check(len(uids) >= 2, uids)
ok(other.uid("STORE", uids[0], "+FLAGS", r"(\Answered)"), "UID STORE")
ok(other.uid("STORE", uids[1], "+FLAGS", r"(\Deleted)"), "UID STORE")
ok(other.expunge(), "EXPUNGE")
other.logout()
q = connect()
enable_qresync(q)
typ, data = q._simple_command("SELECT", "INBOX", "(QRESYNC (%d %d))" % (uidvalidity, highest))
check(typ == "OK", (typ, data))
check(int(untagged(q, "HIGHESTMODSEQ")[0]) > highest, "HIGHESTMODSEQ moved")
check(untagged(q, "VANISHED") == [b"(EARLIER) " + uids[1]], q.untagged_responses)
changed = untagged(q, "FETCH")
check(len(changed) == 1 and b"UID " + uids[0] + b" " in changed[0]
      and b"\\Answered" in changed[0] and b"MODSEQ (" in changed[0], changed)
q.logout()
print("checks %d idle %.2f" % (checks, slowest))
