#!/usr/bin/env python3
"""COMPRESS=DEFLATE (RFC 4978) through Python's imaplib against imapd: after the
tagged OK, raw deflate (zlib with wbits=-15) on imaplib's own socket, in both
directions, the client sync-flushing each command as RFC 4978 asks. Over plain
TCP or implicit TLS (TRANSPORT), on a mailbox of COUNT messages delivered before.

Checks: COMPRESS before login is refused, the compressed session answers every
command as an uncompressed one does (FETCH of the whole mailbox compared octet
by octet), a second COMPRESS is NO [COMPRESSIONACTIVE], an IDLE push (an MTA
delivery) arrives compressed without the client sending anything, LOGOUT.

Usage: imaplib_compress.py PORT USER PASSWORD MODE CAFILE TRANSPORT COUNT DELIVER INBOX

Prints "checks N", then "wire plain P compressed C" (octets received for
FETCH 1:COUNT (ENVELOPE BODYSTRUCTURE) without and with COMPRESS), and
"idle S" (seconds from delivery to the pushed EXISTS).
"""
import imaplib
import select
import ssl
import subprocess
import sys
import time
import zlib

PORT, USER, PASSWORD, MODE, CAFILE, TRANSPORT, COUNT, DELIVER, INBOX = sys.argv[1:10]
PORT, COUNT = int(PORT), int(COUNT)
checks = 0

# NONAUTH too, so that the server's refusal before login can be seen.
imaplib.Commands["COMPRESS"] = ("NONAUTH", "AUTH", "SELECTED")
imaplib.Commands.setdefault("IDLE", ("SELECTED",))


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        print("FAIL:", what, file=sys.stderr)
        sys.exit(1)


class Wire:
    """imaplib's read side and write side, counted; deflated once started."""

    def __init__(self, m):
        self.m = m
        self.sock = m.sock
        self.received = 0
        self.inflate = None
        self.deflate = None
        self.buf = b""
        # What imaplib's file object had read ahead stays first in line.
        m.readline = self.readline
        m.read = self.read
        m.send = self.send

    def start(self):
        self.inflate = zlib.decompressobj(wbits=-15)
        self.deflate = zlib.compressobj(wbits=-15)

    def send(self, data):
        if self.deflate:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise imaplib.IMAP4.abort("connection closed")
        self.received += len(chunk)
        if self.inflate:
            # Bounded: at most 1 MiB inflated per call, the rest stays pending.
            chunk = self.inflate.decompress(chunk)
            while self.inflate.unconsumed_tail:
                chunk += self.inflate.decompress(self.inflate.unconsumed_tail, 1 << 20)
        self.buf += chunk

    def readline(self):
        while b"\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\n") + 1
        line, self.buf = self.buf[:i], self.buf[i:]
        return line

    def read(self, size):
        while len(self.buf) < size:
            self.fill()
        data, self.buf = self.buf[:size], self.buf[size:]
        return data

    def pending(self, timeout):
        if self.buf:
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        return bool(select.select([self.sock], [], [], timeout)[0])


def connect():
    if TRANSPORT == "tls":
        ctx = ssl.create_default_context(cafile=CAFILE)
        ctx.check_hostname = False
        m = imaplib.IMAP4_SSL("127.0.0.1", PORT, ssl_context=ctx, timeout=30)
    else:
        m = imaplib.IMAP4("127.0.0.1", PORT, timeout=30)
    if MODE == "login":
        check("COMPRESS=DEFLATE" in m.capabilities, m.capabilities)
        try:
            typ, data = m._simple_command("COMPRESS", "DEFLATE")
            check(False, "COMPRESS before login: %s %r" % (typ, data))
        except imaplib.IMAP4.error as e:
            check("log in first" in str(e), e)
        m.login(USER, PASSWORD)
    check(m.state == "AUTH", m.state)
    return m


def fetch_all(m, wire):
    before = wire.received
    typ, data = m.fetch("1:%d" % COUNT, "(ENVELOPE BODYSTRUCTURE)")
    check(typ == "OK", (typ, data[-1:]))
    check(len([d for d in data if d != b")"]) == COUNT, len(data))
    return data, wire.received - before


# Uncompressed first: the reference answers and the octets they take.
m = connect()
plain_wire = Wire(m)
check(m.select("INBOX")[0] == "OK", "SELECT")
plain_data, plain_octets = fetch_all(m, plain_wire)
m.logout()

m = connect()
wire = Wire(m)
caps = m.capability()[1][0].split()
check(b"COMPRESS=DEFLATE" in caps, caps)
typ, data = m._simple_command("COMPRESS", "DEFLATE")
check(typ == "OK", "COMPRESS: %s %r" % (typ, data))
wire.start()
# Everything from here on is deflated both ways.
typ, data = m._simple_command("COMPRESS", "DEFLATE")
check(typ == "NO" and data and b"[COMPRESSIONACTIVE]" in data[0],
      "second COMPRESS: %s %r" % (typ, data))
check(m.noop()[0] == "OK", "NOOP")
typ, data = m.select("INBOX")
check(typ == "OK" and data == [str(COUNT).encode()], (typ, data))
data, octets = fetch_all(m, wire)
check(data == plain_data, "compressed FETCH differs from the plain one")
check(octets < plain_octets / 3, "compressed %d plain %d" % (octets, plain_octets))
typ, data = m.fetch("1", "(BODY.PEEK[])")
check(typ == "OK" and b"Subject: " in data[0][1], data[:1])

# IDLE: a delivery is pushed, compressed, with nothing sent by the client.
tag = m._new_tag()
m.send(tag + b" IDLE\r\n")
check(m.readline().startswith(b"+ "), "IDLE continuation")
start = time.time()
subprocess.run([sys.executable, DELIVER, INBOX, str(COUNT + 1), "1", "0", "mbox"], check=True)
pushed = None
while time.time() - start < 10:
    if wire.pending(0.5):
        line = m.readline()
        if line.strip() == b"* %d EXISTS" % (COUNT + 1):
            pushed = time.time() - start
            break
check(pushed is not None, "no EXISTS pushed during IDLE")
m.send(b"DONE\r\n")
while True:
    line = m.readline()
    if line.startswith(tag):
        check(b" OK " in line, line)
        break
check(m.noop()[0] == "OK", "NOOP after IDLE")
typ, data = m.logout()
check(typ == "BYE", (typ, data))
print("checks %d" % checks)
print("wire plain %d compressed %d" % (plain_octets, octets))
print("idle %.2f" % pushed)
