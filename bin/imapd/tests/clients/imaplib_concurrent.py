#!/usr/bin/env python3
"""Two imaplib sessions on one mailbox, and an MTA delivering into INBOX.

Usage: imaplib_concurrent.py PORT USER PASSWORD MODE CAFILE FORMAT DELIVER INBOX

Each session sees the other's flag changes, appends and expunges at its next
command; no EXPUNGE arrives during FETCH, STORE or SEARCH (RFC 3501 §7.4.1);
a delivery appears as EXISTS at the next NOOP. Prints "checks N" on success.
"""
import imaplib
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


def connect():
    m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    if MODE == "login":
        ctx = ssl.create_default_context(cafile=CAFILE)
        ctx.check_hostname = False
        m.starttls(ssl_context=ctx)
        m.login(USER, PASSWORD)
    return m


def untagged(m, name):
    return m.untagged_responses.pop(name, [])


MSG = b"From: a@example.org\r\nSubject: %d\r\n\r\nbody %d\r\n"
a, b = connect(), connect()
check(a.create("shared")[0] == "OK", "CREATE")
for i in range(1, 4):
    check(a.append("shared", None, None, MSG % (i, i))[0] == "OK", "APPEND")
check(a.select("shared") == ("OK", [b"3"]), "A SELECT")
check(b.select("shared") == ("OK", [b"3"]), "B SELECT")
for m in (a, b):
    m.untagged_responses.clear()

# Flags: A stores, B sees FETCH FLAGS at its next command.
check(a.store("2", "+FLAGS", r"(\Flagged)")[0] == "OK", "A STORE")
b.noop()
check(untagged(b, "FETCH") == [b"2 (FLAGS (\\Flagged))"], "B sees A's flag")
check(b.store("3", "+FLAGS.SILENT", r"(\Answered)")[0] == "OK", "B STORE")
a.noop()
check(untagged(a, "FETCH") == [b"3 (FLAGS (\\Recent \\Answered))"], "A sees B's flag")

# Appends: B sees EXISTS.
check(a.append("shared", None, None, MSG % (4, 4))[0] == "OK", "A APPEND")
b.noop()
check(untagged(b, "EXISTS") == [b"4"], "B sees EXISTS 4")
a.noop()

# Expunges: none during B's FETCH, STORE, SEARCH; at NOOP.
check(a.store("1", "+FLAGS.SILENT", r"(\Deleted)")[0] == "OK", "A delete")
typ, data = a.expunge()
check(data == [b"1"], ("A EXPUNGE", data))
typ, data = b.fetch("1:4", "(FLAGS)")
check(typ == "OK" and len(data) == 4, ("B FETCH keeps numbering", data))
check(untagged(b, "EXPUNGE") == [], "no EXPUNGE during FETCH")
typ, data = b.search(None, "ALL")
check(data == [b"2 3 4"], ("B SEARCH skips the expunged one", data))
check(untagged(b, "EXPUNGE") == [], "no EXPUNGE during SEARCH")
typ, data = b.store("2", "+FLAGS.SILENT", r"(\Seen)")
check(untagged(b, "EXPUNGE") == [], "no EXPUNGE during STORE")
b.noop()
check(untagged(b, "EXPUNGE") == [b"1"], "B sees EXPUNGE at NOOP")
typ, data = b.fetch("1", "(UID FLAGS)")
check(data == [b"1 (UID 2 FLAGS (\\Seen \\Flagged))"], data)
a.noop()
check(untagged(a, "FETCH") == [b"1 (FLAGS (\\Recent \\Seen \\Flagged))"], "A sees B's \\Seen")

# An MTA delivery during the session: EXISTS at the next command.
check(a.select("INBOX")[0] == "OK", "A SELECT INBOX")
before = int(a.untagged_responses.get("EXISTS", [b"0"])[-1])
a.untagged_responses.clear()
subprocess.run([sys.executable, DELIVER, INBOX, "1", "2", "0", FORMAT], check=True)
a.noop()
check(untagged(a, "EXISTS") == [str(before + 2).encode()], "delivery seen as EXISTS")
typ, data = a.fetch(str(before + 2), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
check(b"Subject: delivered 2" in data[0][1], data)

for m in (a, b):
    check(m.logout()[0] == "BYE", "LOGOUT")
print("checks", checks)
