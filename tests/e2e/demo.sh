#!/bin/sh
# `make demo`: serves a generated demo mailbox with the built imapd, ipop3d and
# ipop2d on loopback ports, the inetd way, and prints a client command per
# protocol.  Nothing on the system changes: the demo user, its home, its spool
# and its PAM configuration live in a temporary directory that goes away on
# Ctrl-C.
#
#   sh tests/e2e/demo.sh BINDIR      (BINDIR holds imapd, ipop3d, ipop2d)
#
# How a login works here:
#  - run as root, each server starts as root and logs "demo" in through the
#    real libpam, with pam_wrapper and pam_matrix (package libpam-wrapper)
#    answering from a password file of the demo's own; then it becomes the demo
#    user's uid (an unused one) for good, as under inetd;
#  - run as anyone else, a server cannot log anyone in and serves the user who
#    started it (IMAP PREAUTH; POP accepts that user's name with any password).
# In both cases nss_wrapper (package libnss-wrapper) shows the servers a passwd
# file in which "demo" is that uid, with its home in the temporary directory.
#
# Environment: DEMO_IMAP_PORT, DEMO_POP3_PORT, DEMO_POP2_PORT (default 10143,
# 10110, 10109; a port in use is replaced by a free one); DEMO_READY_FILE, if
# set, receives the client commands once every server listens (for tests).
set -eu

bindir=${1:?usage: demo.sh BINDIR}
bindir=$(cd "$bindir" && pwd)
user=demo
password=demo

say() { printf '%s\n' "$*"; }
die() { printf 'make demo: %s\n' "$*" >&2; exit 1; }

for program in imapd ipop3d ipop2d; do
    [ -x "$bindir/$program" ] || die "$bindir/$program is missing (cargo build --release)"
done

libdir() {
    for d in "/usr/lib/$(uname -m)-linux-gnu" /usr/lib64 /usr/lib; do
        [ -e "$d/$1" ] && { printf '%s\n' "$d/$1"; return 0; }
    done
    return 1
}

root=no
[ "$(id -u)" = 0 ] && root=yes

# What the demo needs, and how to get it.
need=""
command -v systemd-socket-activate >/dev/null 2>&1 || need="$need systemd"
libdir libnss_wrapper.so >/dev/null || need="$need libnss-wrapper"
if [ $root = yes ]; then
    libdir libpam_wrapper.so >/dev/null && libdir pam_wrapper/pam_matrix.so >/dev/null \
        || need="$need libpam-wrapper"
fi
if [ -n "$need" ]; then
    if [ $root = yes ] && command -v apt-get >/dev/null 2>&1; then
        say "make demo: installing the test libraries it needs:$need"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 \
                 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need >/dev/null; } \
            || die "could not install:$need"
    else
        die "needs the Debian packages:$need (apt-get install$need)"
    fi
fi
nss=$(libdir libnss_wrapper.so)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pullmail-demo.XXXXXX")
chmod 755 "$tmp"
pids=""
cleanup() {
    trap - EXIT INT TERM HUP
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    # The /tmp/pam.X directories pam_wrapper made for the sessions, which cannot
    # remove them themselves once they dropped root (only those of our sessions,
    # which the logs name, and only once they are gone).
    spawned=$(sed -n 's/.* as PID \([0-9]*\)\.$/\1/p' "$tmp"/*.log 2>/dev/null)
    for d in /tmp/pam.?; do
        [ -f "$d/pid" ] || continue
        p=$(cat "$d/pid" 2>/dev/null)
        for s in $spawned; do
            if [ "$p" = "$s" ] && [ ! -d "/proc/$p" ]; then rm -rf "$d"; fi
        done
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'say ""; say "make demo: stopped; $tmp removed."; exit 0' INT TERM HUP

if [ $root = yes ]; then
    # A uid no account on this host has, so the demo owns nothing of anyone's.
    uid=61500
    while getent passwd "$uid" >/dev/null 2>&1 || getent group "$uid" >/dev/null 2>&1; do
        uid=$((uid + 1))
    done
    gid=$uid
else
    uid=$(id -u)
    gid=$(id -g)
fi

home=$tmp/home
spool=$tmp/spool
mkdir -p "$home/mail" "$spool"
printf '%s:x:%s:%s:pullmail demo:%s:/bin/sh\n' "$user" "$uid" "$gid" "$home" >"$tmp/passwd"
printf '%s:x:%s:\n' "$user" "$gid" >"$tmp/group"

# The INBOX: three messages as Postfix's local(8) delivers them (mbox, no
# IMAP bookkeeping yet), and an MMDF folder in ~/mail as UW imapd wrote them.
cat >"$spool/$user" <<'EOF'
From alice@example.org Mon Jan  5 09:14:03 2026
Return-Path: <alice@example.org>
From: Alice <alice@example.org>
To: demo@localhost
Subject: Welcome to pullmail
Date: Mon, 05 Jan 2026 09:14:03 +0000
Message-ID: <welcome@example.org>

Hello!

This message sits in an mbox file, the way the MTA delivered it.
pullmail serves it over IMAP, POP3 and POP2 without converting anything.

From bob@example.net Tue Jan  6 17:40:55 2026
Return-Path: <bob@example.net>
From: Bob <bob@example.net>
To: demo@localhost
Subject: Lunch on Friday?
Date: Tue, 06 Jan 2026 17:40:55 +0100
Message-ID: <lunch@example.net>

Are you free on Friday at noon?

From carol@example.com Wed Jan  7 08:02:11 2026
Return-Path: <carol@example.com>
From: Carol <carol@example.com>
To: demo@localhost
Subject: =?UTF-8?Q?Caf=C3=A9_menu?=
Date: Wed, 07 Jan 2026 08:02:11 -0500
Message-ID: <menu@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: 8bit

Soup of the day: crème de légumes.

EOF
printf '\001\001\001\001\nFrom: Dave <dave@example.org>\nTo: demo@localhost\nSubject: An old message, in MMDF\nDate: Thu, 02 Jan 2025 10:00:00 +0000\n\nKept in ~/mail/archive.\n\001\001\001\001\n' \
    >"$home/mail/archive"
chmod 600 "$spool/$user" "$home/mail/archive"
chown -R "$uid:$gid" "$home" "$spool"

cat >"$tmp/pullmail.conf" <<EOF
# The demo's configuration: see pullmail.conf(5).
spool_directory = $spool
dotlock_helper =
tls = no
server_name = localhost
login_failure_delay = 1
cram_md5_file = $tmp/cram-md5.pwd
EOF

# HOME and MAIL as a login would set them (a server run by a user honours them).
env_args="-E NSS_WRAPPER_PASSWD=$tmp/passwd -E NSS_WRAPPER_GROUP=$tmp/group"
env_args="$env_args -E HOME=$home -E MAIL=$spool/$user"
preload=$nss
if [ $root = yes ]; then
    mkdir "$tmp/pam.d"
    matrix=$(libdir pam_wrapper/pam_matrix.so)
    for service in imap pop; do
        printf '%s:%s:%s\n' "$user" "$password" "$service" >"$tmp/passdb.$service"
        for stage in auth account password session; do
            printf '%s required %s passdb=%s\n' "$stage" "$matrix" "$tmp/passdb.$service"
        done >"$tmp/pam.d/$service"
    done
    preload="$(libdir libpam_wrapper.so):$nss"
    env_args="$env_args -E PAM_WRAPPER=1 -E PAM_WRAPPER_SERVICE_DIR=$tmp/pam.d"
fi
env_args="$env_args -E LD_PRELOAD=$preload"

port_free() {
    ! (ss -Hltn "sport = :$1" 2>/dev/null | grep -q .)
}

# serve NAME PORT PROGRAM: one systemd-socket-activate, as inetd would run it.
serve() {
    name=$1 port=$2 program=$3
    tries=0
    while :; do
        if port_free "$port"; then
            log=$tmp/$name.log
            # shellcheck disable=SC2086
            systemd-socket-activate --inetd -a -l "127.0.0.1:$port" $env_args \
                "$bindir/$program" -c "$tmp/pullmail.conf" >"$log" 2>&1 &
            pid=$!
            i=0
            while [ $i -lt 100 ]; do
                grep -q '^Listening on' "$log" 2>/dev/null && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
                i=$((i + 1))
            done
            if grep -q '^Listening on' "$log"; then
                pids="$pids $pid"
                eval "${name}_port=$port"
                return 0
            fi
            kill "$pid" 2>/dev/null || true
        fi
        tries=$((tries + 1))
        [ $tries -lt 20 ] || die "no free port for $name"
        port=$(( (port + 1000) % 30000 + 20000 ))
    done
}

serve imap "${DEMO_IMAP_PORT:-10143}" imapd
serve pop3 "${DEMO_POP3_PORT:-10110}" ipop3d
serve pop2 "${DEMO_POP2_PORT:-10109}" ipop2d

if [ $root = yes ]; then
    how="logged in through PAM (pam_wrapper) as \"$user\", password \"$password\""
else
    how="served as you (uid $uid, shown to the servers as \"$user\"); any password"
fi
commands=$(cat <<EOF
# Retrieve the first demo message over POP3:
curl 'pop3://$user:$password@127.0.0.1:$pop3_port/1'
# The same message over IMAP (UID 1 of INBOX), and the mailbox list:
curl 'imap://$user:$password@127.0.0.1:$imap_port/INBOX;UID=1'
curl 'imap://$user:$password@127.0.0.1:$imap_port/'
# POP2 (RFC 937) has no curl; a shell can speak it:
bash -c 'exec 3<>/dev/tcp/127.0.0.1/$pop2_port; printf "HELO $user $password\r\nREAD 1\r\nRETR\r\nACKS\r\nQUIT\r\n" >&3; cat <&3'
EOF
)

say "pullmail demo: imapd on 127.0.0.1:$imap_port, ipop3d on 127.0.0.1:$pop3_port, ipop2d on 127.0.0.1:$pop2_port"
say "  started per connection by systemd-socket-activate --inetd, as inetd does;"
say "  $how."
say "  INBOX: $spool/$user (mbox, 3 messages); ~/mail/archive (MMDF, 1 message)."
say ""
say "$commands"
say ""
say "Press Ctrl-C to stop (the demo directory is removed)."
if [ -n "${DEMO_READY_FILE:-}" ]; then
    printf '%s\n' "$commands" >"$DEMO_READY_FILE.tmp"
    mv "$DEMO_READY_FILE.tmp" "$DEMO_READY_FILE"
fi
# Wait for a signal; `wait` returns as soon as one arrives and its trap runs.
while :; do
    wait || true
    sleep 1
done
