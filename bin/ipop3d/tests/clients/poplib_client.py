#!/usr/bin/env python3
"""Python's poplib against a running ipop3d.

Usage: poplib_client.py MODE PORT USER PASSWORD CAFILE MSGDIR STRICT

MSGDIR holds 1.eml .. N.eml, each message exactly as RETR must send it (CRLF).
STRICT is "strict" when the server checks passwords (started as root), else
"lenient" (run by the developer: any password logs in). Prints one line per
check; exits non-zero at the first failure. The UIDL listing is printed last,
as "UIDL " + space-separated values, for the caller to compare across sessions.
"""
import os
import poplib
import ssl
import sys

# poplib refuses lines over 2048 octets; message 086 of the corpus has a longer
# one (RFC 5322 asks for 998, but servers pass what the mailbox holds).
poplib._MAXLINE = 1 << 20

mode, port, user, password, cafile, msgdir, strict = sys.argv[1:8]
port = int(port)
strict = strict == "strict"
names = sorted(os.listdir(msgdir), key=lambda n: int(n.split(".")[0]))
expected = [open(os.path.join(msgdir, n), "rb").read() for n in names]


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)
    print("ok:", what)


def joined(lines):
    return b"".join(line + b"\r\n" for line in lines)


def context():
    return ssl.create_default_context(cafile=cafile)


def refused(call, code):
    try:
        call()
    except poplib.error_proto as e:
        return code.encode() in e.args[0]
    return False


def transaction(p):
    count, size = p.stat()
    check(count == len(expected), "STAT count %d" % count)
    check(size == sum(len(m) for m in expected), "STAT size is the sum of CRLF sizes")
    _, listing, _ = p.list()
    sizes = [int(line.split()[1]) for line in listing]
    check(sizes == [len(m) for m in expected], "LIST sizes are the real sizes")
    check(p.list(2).split()[2] == str(len(expected[1])).encode(), "LIST 2")
    _, uidl, _ = p.uidl()
    uids = [line.split()[1] for line in uidl]
    check(len(set(uids)) == len(uids), "UIDL values are unique")
    check(all(len(u) == 16 and int(u, 16) >= 0 for u in uids), "UIDL is 16 hex digits")
    check(p.uidl(1).split()[2] == uids[0], "UIDL 1")
    head = expected[0][: expected[0].index(b"\r\n\r\n") + 4]
    _, lines, _ = p.top(1, 0)
    check(joined(lines) == head, "TOP 1 0 is the header and the blank line")
    _, lines, _ = p.top(1, 2)
    body = expected[0][len(head):].split(b"\r\n")
    check(joined(lines) == head + joined(body[:2]), "TOP 1 2 adds two body lines")
    for i, m in enumerate(expected, 1):
        resp, lines, octets = p.retr(i)
        check(joined(lines) == m, "RETR %d byte-identical (%d octets)" % (i, len(m)))
        check(resp == b"+OK %d octets" % len(m), "RETR %d announces its size" % i)
    p.dele(1)
    p.dele(2)
    check(p.stat()[0] == len(expected) - 2, "DELE hides messages")
    check(refused(lambda: p.retr(1), "deleted"), "RETR of a deleted message fails")
    check(refused(lambda: p.dele(1), "deleted"), "DELE twice fails")
    p.rset()
    check(p.stat()[0] == len(expected), "RSET brings them back")
    p.dele(len(expected))
    p.noop()
    check(p.quit().startswith(b"+OK"), "QUIT")
    return uids


if mode == "user":
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    check(p.getwelcome().startswith(b"+OK POP3 localhost pullmail"), "greeting")
    caps = p.capa()
    for c in ["TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER", "SASL", "STLS"]:
        check(c in caps, "CAPA has " + c)
    check("CRAM-MD5" in caps["SASL"], "SASL offers CRAM-MD5")
    if strict:
        p.user(user)
        check(refused(lambda: p.pass_("wrong"), "[AUTH]"), "a wrong password is [AUTH]")
    p.user(user)
    p.pass_(password)
    check(refused(lambda: p.user(user), "-ERR"), "USER after login fails")
    uids = transaction(p)
    # A second session: the same UIDL values, one message fewer.
    q = poplib.POP3("127.0.0.1", port, timeout=20)
    q.user(user)
    q.pass_(password)
    _, uidl, _ = q.uidl()
    again = [line.split()[1] for line in uidl]
    check(again == uids[:-1], "UIDL is stable across sessions")
    q.quit()
    print("UIDL " + " ".join(u.decode() for u in again))
elif mode == "apop":
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    check(b"<" in p.getwelcome() and b"@localhost>" in p.getwelcome(), "greeting has a timestamp")
    if strict:
        check(refused(lambda: p.apop(user, "wrong"), "[AUTH]"), "a wrong APOP digest is [AUTH]")
    p.apop(user, password)
    check(p.stat()[0] == len(expected), "APOP logged in")
    check(p.quit().startswith(b"+OK"), "QUIT")
elif mode == "stls":
    p = poplib.POP3("127.0.0.1", port, timeout=20)
    check("STLS" in p.capa(), "STLS offered")
    p.stls(context())
    caps = p.capa()
    check("STLS" not in caps and "USER" in caps, "after STLS: no STLS, USER still")
    check(refused(lambda: p._shortcmd("STLS"), "-ERR"), "a second STLS fails")
    p.user(user)
    p.pass_(password)
    _, lines, _ = p.retr(1)
    check(joined(lines) == expected[0], "RETR over TLS byte-identical")
    check(p.quit().startswith(b"+OK"), "QUIT")
elif mode == "ssl":
    p = poplib.POP3_SSL("127.0.0.1", port, context=context(), timeout=20)
    check("STLS" not in p.capa(), "implicit TLS: no STLS")
    p.user(user)
    p.pass_(password)
    check(p.stat()[0] == len(expected), "logged in over implicit TLS")
    check(p.quit().startswith(b"+OK"), "QUIT")
else:
    sys.exit("unknown mode " + mode)
