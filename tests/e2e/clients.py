#!/usr/bin/env python3
"""Real clients for the end-to-end tests: Python's imaplib and poplib, and a
POP2 conversation on a raw socket.  Each mode logs in, reads every message
of INBOX and compares it, octet for octet, with the expected message files
(NNN.eml, CRLF line ends, in order).  Exit status 0 when all matched.

  clients.py imap  HOST PORT USER PASSWORD EXPECTED_DIR [--tls CAFILE | --starttls CAFILE]
  clients.py pop3  HOST PORT USER PASSWORD EXPECTED_DIR [--tls CAFILE | --starttls CAFILE]
  clients.py pop2  HOST PORT USER PASSWORD EXPECTED_DIR
  clients.py pop3-delete-first HOST PORT USER PASSWORD
"""

import imaplib
import os
import poplib
import socket
import ssl
import sys

TIMEOUT = 20


def expected(directory):
    names = sorted(n for n in os.listdir(directory) if n.endswith(".eml"))
    out = []
    for name in names:
        with open(os.path.join(directory, name), "rb") as f:
            out.append(f.read())
    return out


def context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    # The test certificate names "localhost"; the tests connect to 127.0.0.1.
    ctx.check_hostname = False
    return ctx


def fail(what):
    print("FAIL: " + what, file=sys.stderr)
    sys.exit(1)


def same(kind, n, got, want):
    if got != want:
        fail("%s message %d differs:\n got  %r\n want %r" % (kind, n, got[:300], want[:300]))


def imap(host, port, user, password, messages, tls, starttls):
    if tls:
        conn = imaplib.IMAP4_SSL(host, port, ssl_context=context(tls), timeout=TIMEOUT)
    else:
        conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
        if starttls:
            conn.starttls(ssl_context=context(starttls))
    typ, _ = conn.login(user, password)
    if typ != "OK":
        fail("IMAP LOGIN: " + typ)
    typ, data = conn.select("INBOX", readonly=True)
    if typ != "OK" or int(data[0]) != len(messages):
        fail("IMAP SELECT INBOX: %s %r, want %d messages" % (typ, data, len(messages)))
    for n, want in enumerate(messages, 1):
        typ, data = conn.fetch(str(n), "(BODY.PEEK[])")
        if typ != "OK":
            fail("IMAP FETCH %d: %s" % (n, typ))
        same("IMAP", n, data[0][1], want)
    conn.logout()
    print("imap: LOGIN, SELECT, FETCH of %d messages: ok%s" % (
        len(messages), " (TLS)" if tls else " (STARTTLS)" if starttls else ""))


def pop3_connect(host, port, tls, starttls):
    if tls:
        return poplib.POP3_SSL(host, port, context=context(tls), timeout=TIMEOUT)
    conn = poplib.POP3(host, port, timeout=TIMEOUT)
    if starttls:
        conn.stls(context=context(starttls))
    return conn


def pop3(host, port, user, password, messages, tls, starttls):
    conn = pop3_connect(host, port, tls, starttls)
    conn.user(user)
    conn.pass_(password)
    count, _ = conn.stat()
    if count != len(messages):
        fail("POP3 STAT: %d messages, want %d" % (count, len(messages)))
    for n, want in enumerate(messages, 1):
        _, lines, _ = conn.retr(n)
        got = b"".join(line + b"\r\n" for line in lines)
        same("POP3", n, got, want)
    conn.quit()
    print("pop3: USER, PASS, RETR of %d messages: ok%s" % (
        len(messages), " (TLS)" if tls else " (STLS)" if starttls else ""))


def pop3_delete_first(host, port, user, password):
    conn = poplib.POP3(host, port, timeout=TIMEOUT)
    conn.user(user)
    conn.pass_(password)
    conn.dele(1)
    conn.quit()
    print("pop3: DELE 1, QUIT: ok")


def pop2(host, port, user, password, messages):
    sock = socket.create_connection((host, port), timeout=TIMEOUT)
    f = sock.makefile("rwb")

    def line():
        text = f.readline()
        if not text.endswith(b"\r\n"):
            fail("POP2: no line: %r" % text)
        return text[:-2]

    def send(command):
        f.write(command.encode() + b"\r\n")
        f.flush()

    if not line().startswith(b"+ "):
        fail("POP2 greeting")
    send("HELO %s %s" % (user, password))
    answer = line()
    if answer != b"#%d messages in INBOX" % len(messages) and not answer.startswith(b"#%d " % len(messages)):
        fail("POP2 HELO: %r" % answer)
    for n, want in enumerate(messages, 1):
        send("READ %d" % n)
        answer = line()
        if not answer.startswith(b"="):
            fail("POP2 READ %d: %r" % (n, answer))
        size = int(answer[1:].split()[0])
        send("RETR")
        got = f.read(size)
        # UW's ipop2d sends the message and one CRLF more, counted in the size.
        same("POP2", n, got, want + b"\r\n")
        send("NACK")
        line()
    send("QUIT")
    if not line().startswith(b"+"):
        fail("POP2 QUIT")
    print("pop2: HELO, READ, RETR of %d messages: ok" % len(messages))


def main(argv):
    if len(argv) < 6:
        print(__doc__, file=sys.stderr)
        return 64
    mode, host, port, user, password = argv[1], argv[2], int(argv[3]), argv[4], argv[5]
    if mode == "pop3-delete-first":
        pop3_delete_first(host, port, user, password)
        return 0
    messages = expected(argv[6])
    tls = starttls = None
    if len(argv) >= 9 and argv[7] == "--tls":
        tls = argv[8]
    elif len(argv) >= 9 and argv[7] == "--starttls":
        starttls = argv[8]
    if mode == "imap":
        imap(host, port, user, password, messages, tls, starttls)
    elif mode == "pop3":
        pop3(host, port, user, password, messages, tls, starttls)
    elif mode == "pop2":
        pop2(host, port, user, password, messages)
    else:
        print(__doc__, file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
