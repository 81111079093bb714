#!/usr/bin/env python3
"""A mail delivery agent the way procmail and Postfix `local` deliver to an mbox:
dot-lock (NAME.lock, created exclusively), then a classic POSIX fcntl lock on the
file, append one message with a From_ line and a blank line after it, fsync,
unlock. Usage: deliver.py MAILBOX FIRST COUNT [PAUSE_SECONDS] [mbox|mmdf]"""
import fcntl
import os
import sys
import time

path, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
fmt = sys.argv[5] if len(sys.argv) > 5 else "mbox"
lock = path + ".lock"

def dotlock():
    deadline = time.time() + 60
    while True:
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, b"%d\n" % os.getpid())
            os.close(fd)
            return
        except FileExistsError:
            if time.time() > deadline:
                sys.exit("deliver.py: dot-lock timeout")
            time.sleep(0.005)

for n in range(first, first + count):
    body = (
        "From: delivery@example.net\n"
        "To: user@example.org\n"
        "Subject: delivered %d\n"
        "Message-ID: <delivered.%d@example.net>\n"
        "\n"
        "Delivered message number %d.\n"
        ">From a quoted line.\n" % (n, n, n)
    )
    ctime = time.strftime("%a %b %e %H:%M:%S %Y", time.gmtime())
    if fmt == "mmdf":
        data = "\x01\x01\x01\x01\nFrom delivery@example.net  %s\n%s\x01\x01\x01\x01\n" % (ctime, body)
    else:
        data = "From delivery@example.net  %s\n%s\n" % (ctime, body)
    dotlock()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        fcntl.lockf(fd, fcntl.LOCK_EX)
        os.write(fd, data.encode())
        os.fsync(fd)
        fcntl.lockf(fd, fcntl.LOCK_UN)
        os.close(fd)
    finally:
        os.unlink(lock)
    if pause:
        time.sleep(pause)
