"""The clients and the map service of cluster-test.sh (users over several hosts).

Every client connects from the address in $CLIENT_ADDR (127.0.0.9 in the test):
that is the "real client address" the back ends must log, while the proxy in
front of them connects from 127.0.0.1. $CLIENT_TLS chooses TLS (below).

  cluster.py auth-http PORT MAPFILE BACKENDS   nginx's auth_http: USER -> host
  cluster.py imap-read HOST PORT USER PASS     UIDVALIDITY, UID FLAGS SUBJECT, INBOX
                                               and each subscribed folder
  cluster.py imap-flag HOST PORT USER PASS     flags on INBOX's first three; a
                                               folder Work, subscribed, two of them
  cluster.py imap-fail HOST PORT USER PASS     a refused LOGIN; prints its seconds
  cluster.py imap-referral HOST PORT USER PASS follows a LOGIN-REFERRAL, then reads
  cluster.py imap-forged HOST PORT USER PASS   a PROXY line sent by a mere client
  cluster.py pop-read HOST PORT USER PASS      UIDL lines, then each Subject
  cluster.py pop-drop HOST PORT USER PASS      DELE 1, then the socket closes
"""

import email.parser
import http.server
import imaplib
import os
import poplib
import re
import socket
import ssl
import sys
import time

CLIENT = os.environ.get("CLIENT_ADDR", "127.0.0.1")
TIMEOUT = 30


# CLIENT_TLS: "" (plain), "implicit" (993/995 style) or "starttls"; the
# certificate is checked against CLIENT_CA.
TLS = os.environ.get("CLIENT_TLS", "")


def tls_context():
    return ssl.create_default_context(cafile=os.environ["CLIENT_CA"])


def connect(host, port):
    return socket.create_connection((host, port), TIMEOUT, source_address=(CLIENT, 0))


class IMAPPlain(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return connect(self.host, self.port)


class IMAPImplicit(imaplib.IMAP4_SSL):
    def _create_socket(self, timeout):
        return self.ssl_context.wrap_socket(connect(self.host, self.port), server_hostname=self.host)


def IMAP(host, port, timeout=TIMEOUT):
    if TLS == "implicit":
        return IMAPImplicit(host, port, ssl_context=tls_context(), timeout=timeout)
    m = IMAPPlain(host, port, timeout=timeout)
    if TLS == "starttls":
        typ, data = m.starttls(ssl_context=tls_context())
        assert typ == "OK", (typ, data)
    return m


class POPPlain(poplib.POP3):
    def _create_socket(self, timeout):
        return connect(self.host, self.port)


class POPImplicit(poplib.POP3_SSL):
    def _create_socket(self, timeout):
        return self.context.wrap_socket(connect(self.host, self.port), server_hostname=self.host)


def POP(host, port, timeout=TIMEOUT):
    if TLS == "implicit":
        return POPImplicit(host, port, context=tls_context(), timeout=timeout)
    p = POPPlain(host, port, timeout=timeout)
    if TLS == "starttls":
        p.stls(context=tls_context())
    return p


def subject(raw):
    msg = email.parser.BytesHeaderParser().parsebytes(raw)
    return msg.get("Subject", "")


def imap_read(host, port, user, password):
    """UIDVALIDITY and UID [FLAGS] SUBJECT of INBOX, then of every subscribed folder."""
    m = IMAP(host, int(port), timeout=TIMEOUT)
    m.login(user, password)
    show(m, "INBOX")
    typ, data = m.lsub('""', "*")
    assert typ == "OK", (typ, data)
    for line in data:
        if line:
            folder = line.decode().rsplit(" ", 1)[1].strip('"')
            print(f"subscribed {folder}")
            show(m, folder)
    m.logout()


def show(m, mailbox):
    typ, _ = m.select(mailbox, readonly=True)
    assert typ == "OK", typ
    uidvalidity = m.response("UIDVALIDITY")[1][0].decode()
    print(f"{mailbox} UIDVALIDITY {uidvalidity}")
    typ, data = m.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert typ == "OK", (typ, data)
    for item in data:
        if not isinstance(item, tuple):
            continue
        meta = item[0].decode()
        uid = re.search(r"UID (\d+)", meta).group(1)
        flags = re.search(r"FLAGS \(([^)]*)\)", meta).group(1)
        flags = " ".join(sorted(f for f in flags.split() if f != "\\Recent"))
        print(f"{mailbox} {uid} [{flags}] {subject(item[1])}")
    m.close()


def imap_flag(host, port, user, password):
    m = IMAP(host, int(port), timeout=TIMEOUT)
    m.login(user, password)
    m.select("INBOX")
    for seq, flag in (("1", "\\Seen"), ("2", "\\Flagged"), ("3", "$Work")):
        typ, data = m.store(seq, "+FLAGS", flag)
        assert typ == "OK", (typ, data)
    # A folder in the home directory, subscribed, with two messages (and a
    # hole in its UIDs: the first is expunged).
    for command, args in (
        ("create", ("Work",)),
        ("subscribe", ("Work",)),
        ("copy", ("1:3", "Work")),
    ):
        typ, data = getattr(m, command)(*args)
        assert typ == "OK", (command, typ, data)
    m.close()
    m.select("Work")
    m.store("1", "+FLAGS", "\\Deleted")
    m.expunge()
    m.close()
    m.logout()
    print("flagged")


def imap_fail(host, port, user, password):
    m = IMAP(host, int(port), timeout=TIMEOUT)
    start = time.monotonic()
    try:
        m.login(user, password)
    except imaplib.IMAP4.error as e:
        print(f"refused after {time.monotonic() - start:.1f} s: {e}")
        return
    except (ConnectionError, imaplib.IMAP4.abort) as e:
        print(f"refused after {time.monotonic() - start:.1f} s (closed: {e})")
        return
    sys.exit("LOGIN with a wrong password succeeded")


def imap_referral(host, port, user, password):
    """RFC 2221: a NO [REFERRAL imap://user;AUTH=*@host:port/] to LOGIN means
    "log in over there instead"; a client that follows it goes there directly."""
    m = IMAP(host, int(port), timeout=TIMEOUT)
    try:
        m.login(user, password)
        sys.exit(f"{host}:{port} let {user} in instead of referring")
    except imaplib.IMAP4.error as e:
        text = str(e)
    found = re.search(r"\[REFERRAL imap://([^;@/]+)(?:;AUTH=\*)?@([^/:\]]+)(?::(\d+))?/\]", text)
    if not found:
        sys.exit(f"no referral in: {text}")
    to_host, to_port = found.group(2), found.group(3) or "143"
    print(f"referred to {to_host}:{to_port}")
    try:
        m.shutdown()
    except OSError:
        pass
    imap_read(to_host, to_port, user, password)


def imap_forged(host, port, user, password):
    """A client (not a trusted proxy) sends a PROXY line: it must be just a bad
    command, and the log must keep the client's own address."""
    s = socket.create_connection((host, int(port)), TIMEOUT, source_address=(CLIENT, 0))
    f = s.makefile("rwb")
    greeting = f.readline()
    assert greeting.startswith(b"* OK"), greeting
    f.write(b"PROXY TCP4 203.0.113.66 192.0.2.1 4000 143\r\n")
    f.flush()
    answer = f.readline()
    print(f"PROXY line answered: {answer.decode().strip()}")
    assert answer.startswith(b"PROXY BAD"), answer
    f.write(f'a1 LOGIN "{user}" "{password}"\r\n'.encode())
    f.flush()
    line = f.readline()
    while line.startswith(b"*"):
        line = f.readline()
    assert line.startswith(b"a1 OK"), line
    f.write(b"a2 LOGOUT\r\n")
    f.flush()
    while not f.readline().startswith(b"a2 "):
        pass
    print("logged in directly")


def pop_read(host, port, user, password):
    p = POP(host, int(port), timeout=TIMEOUT)
    p.user(user)
    p.pass_(password)
    _, listing, _ = p.uidl()
    for line in listing:
        number, uidl = line.decode().split()
        _, lines, _ = p.top(int(number), 0)
        header = b"\r\n".join(lines) + b"\r\n"
        print(f"{number} {uidl} {subject(header)}")
    p.quit()


def pop_drop(host, port, user, password):
    p = POP(host, int(port), timeout=TIMEOUT)
    p.user(user)
    p.pass_(password)
    print(p.dele(1).decode())
    # No QUIT: RFC 1939 §6, the deletion must not happen.
    p.sock.close()


def auth_http(port, mapfile, backends):
    """nginx's auth_http (ngx_mail_auth_http_module): nginx asks with the
    user and protocol in Auth-* headers; the answer names the back end.
    The password is not checked here: the back end checks it (and waits
    login_failure_delay when it is wrong), so each failure is delayed once.
    Unknown users get the same delay here, as Auth-Wait."""

    def table(path):
        rows = {}
        with open(path) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 2 and not fields[0].startswith("#"):
                    rows[fields[0]] = fields[1:]
        return rows

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            user = self.headers.get("Auth-User", "")
            protocol = self.headers.get("Auth-Protocol", "")
            hosts = table(backends)
            where = table(mapfile).get(user, [None])[0]
            self.send_response(200)
            if where == "hold":
                self.send_header("Auth-Status", "Mailbox being moved, try again in a minute")
                self.send_header("Auth-Wait", "2")
            elif where in hosts:
                address, imap_port, pop_port = hosts[where]
                self.send_header("Auth-Status", "OK")
                self.send_header("Auth-Server", address)
                self.send_header("Auth-Port", imap_port if protocol == "imap" else pop_port)
            else:
                self.send_header("Auth-Status", "Invalid login or password")
                self.send_header("Auth-Wait", os.environ.get("AUTH_WAIT", "2"))
            self.end_headers()
            sys.stderr.write(
                f"auth: user={user} protocol={protocol} client={self.headers.get('Client-IP')} -> {where}\n"
            )
            sys.stderr.flush()

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


COMMANDS = {
    "imap-read": imap_read,
    "imap-flag": imap_flag,
    "imap-fail": imap_fail,
    "imap-referral": imap_referral,
    "imap-forged": imap_forged,
    "pop-read": pop_read,
    "pop-drop": pop_drop,
    "auth-http": auth_http,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
