#!/bin/sh
# The packaged systemd units under a real systemd (root only; run by
# package.sh): boots this host's own system in a container (systemd-nspawn on
# an overlay of /, with a tmpfs taking every write, and a network of its own),
# installs the .deb there and checks that
#  - installing enables no unit;
#  - the five sockets, once enabled, serve real clients through PAM with the
#    hardened @.service units (capability bounding set, seccomp filter,
#    ProtectSystem=, no NoNewPrivileges=): imaplib, poplib, POP2, TLS on 993
#    and 995, IMAP IDLE (inotify under the filter), and a POP3 DELE that
#    rewrites /var/mail/USER through the setgid dotlockfile helper;
#  - the journal shows the logins with the IPv4 address, no dot-lock failure
#    and no failed unit;
#  - purge leaves no unit enabled.
# Nothing of it touches the host: the container's writes go to a tmpfs.
# systemd-nspawn comes from the package systemd-container, installed or else
# unpacked from its Debian package (apt-get download) beside the test
# (tests/e2e/container.sh).  Where no container can be booted (no overlayfs, no
# nspawn, no network for the download) the test is a skip (tests/e2e/lib.sh:
# a failure under CI and as root after make deps); once it boots, any failure
# fails.
#
#   sh tests/e2e/systemd-test.sh DEB
set -eu

here=$(cd "$(dirname "$0")" && pwd)
deb=${1:?usage: systemd-test.sh DEB}
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
name=systemd-test
. "$here/lib.sh"
. "$here/container.sh"

[ "$(id -u)" = 0 ] || skip "needs root"
command -v nsenter >/dev/null 2>&1 || skip "nsenter is missing (util-linux)"

work=$(mktemp -d /tmp/pullmail-systemd-test.XXXXXX)
nspawn_pid=""
cleanup() {
    status=$?
    trap - EXIT INT TERM
    if [ -n "$nspawn_pid" ]; then
        kill -TERM "$nspawn_pid" 2>/dev/null || true
        i=0
        while kill -0 "$nspawn_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$nspawn_pid" 2>/dev/null || true
    fi
    container_cleanup
    if [ $status != 0 ] && [ -f "$work/boot.log" ]; then
        echo "--- container console" >&2
        tail -n 30 "$work/boot.log" >&2
    fi
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

container_root
LD_LIBRARY_PATH=$container_libpath setsid "$nspawn" -D "$root" --register=no --keep-unit \
    --private-network --machine=pullmail-test \
    --bind-ro="$(dirname "$deb"):/mnt/dist" --bind-ro="$here:/mnt/e2e" -b \
    >"$work/boot.log" 2>&1 </dev/null &
nspawn_pid=$!
leader=""
i=0
while [ $i -lt 600 ]; do
    kill -0 "$nspawn_pid" 2>/dev/null || skip "systemd-nspawn did not boot: $(tail -n 3 "$work/boot.log" | tr '\n' ' ')"
    leader=$(pgrep -P "$nspawn_pid" -x systemd | head -n 1 || true)
    if [ -n "$leader" ]; then
        state=$(nsenter -t "$leader" -m -u -i -n -p systemctl is-system-running 2>/dev/null || true)
        case "$state" in running|degraded) break ;; esac
    fi
    sleep 0.1
    i=$((i + 1))
done
[ $i -lt 600 ] || skip "the container did not finish booting within 60 s (state: ${state:-none})"
say "booted this host's system in a container (systemd $(nsenter -t "$leader" -m systemctl --version | sed -n '1s/^systemd \([0-9]*\).*/\1/p'), state $state)"
ct() { nsenter -t "$leader" -m -u -i -n -p "$@"; }

# The container is a copy of this host, which may have a pullmail of its own,
# or UW's PAM files (kept without a question: the conffile policy is explicit).
ct sh -c 'if dpkg-query -W -f="\${Status}" pullmail 2>/dev/null | grep -q "installed\|config-files"; then dpkg --purge pullmail; fi' \
    >"$work/prepurge.log" 2>&1 || { cat "$work/prepurge.log"; fail "purging the host's pullmail in the container"; }
ct dpkg -i --force-confdef --force-confold /mnt/dist/"$(basename "$deb")" >"$work/dpkg.log" 2>&1 </dev/null \
    || { cat "$work/dpkg.log"; fail "dpkg -i"; }
for s in imapd imapsd pop3d pop3sd pop2d; do
    [ "$(ct systemctl is-enabled $s.socket 2>/dev/null || true)" = disabled ] || fail "$s.socket is enabled by the package"
    [ "$(ct systemctl is-active $s.socket 2>/dev/null || true)" = inactive ] || fail "$s.socket was started by the package"
done
say "installed: no socket enabled or started"

user=pmsd$$
password="Sd-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
ct sh -e -c "
    useradd -m -s /bin/sh $user
    printf '%s:%s\n' $user '$password' | chpasswd
    printf 'From a@example.org Mon Jan  5 09:14:03 2026\nFrom: a@example.org\nSubject: one\n\nbody one\n\nFrom b@example.org Mon Jan  5 09:15:03 2026\nFrom: b@example.org\nSubject: two\n\nbody two\n\n' >/var/mail/$user
    chown $user:mail /var/mail/$user
    chmod 660 /var/mail/$user
    for p in imapd ipop3d; do
        openssl req -new -x509 -nodes -days 30 -newkey rsa:2048 -subj /CN=localhost \
            -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
            -keyout /etc/ssl/private/\$p.pem -out /etc/ssl/certs/\$p.pem 2>/dev/null
        chmod 600 /etc/ssl/private/\$p.pem
    done
    systemctl enable --now imapd.socket imapsd.socket pop3d.socket pop3sd.socket pop2d.socket 2>/dev/null
" || fail "setting up the user, the certificates and the sockets"
mkdir "$work/expected"
printf 'From: a@example.org\r\nSubject: one\r\n\r\nbody one\r\n' >"$work/expected/001.eml"
printf 'From: b@example.org\r\nSubject: two\r\n\r\nbody two\r\n' >"$work/expected/002.eml"
# The container sees the host's /tmp only through its overlay: copy them in.
ct mkdir -p /run/pullmail-test/expected
for f in "$work"/expected/*.eml; do ct sh -c "cat > /run/pullmail-test/expected/$(basename "$f")" <"$f"; done
c() { ct python3 /mnt/e2e/clients.py "$@"; }
e=/run/pullmail-test/expected
ca=/etc/ssl/certs/imapd.pem
ca_pop=/etc/ssl/certs/ipop3d.pem
if ct test -x /usr/sbin/imapd; then
    c imap 127.0.0.1 143 "$user" "$password" "$e" || fail "imaplib through imapd.socket"
    c imap 127.0.0.1 143 "$user" "$password" "$e" --starttls "$ca" || fail "imaplib STARTTLS"
    c imap 127.0.0.1 993 "$user" "$password" "$e" --tls "$ca" || fail "imaplib through imapsd.socket"
    # IDLE: a delivery during IDLE is reported (inotify under the seccomp filter).
    ct python3 - "$user" "$password" <<'EOF' || fail "IMAP IDLE"
import socket, subprocess, sys, time
user, password = sys.argv[1], sys.argv[2]
s = socket.create_connection(("127.0.0.1", 143), timeout=20)
f = s.makefile("rwb")
def send(line):
    f.write(line.encode() + b"\r\n"); f.flush()
def until(tag):
    while True:
        line = f.readline()
        if not line:
            sys.exit("connection closed")
        if line.startswith(tag):
            return line
f.readline()
send("a LOGIN %s %s" % (user, password)); until(b"a ")
send("b SELECT INBOX"); until(b"b OK")
send("c IDLE"); until(b"+")
subprocess.run(["sh", "-c", "printf 'From c@example.org Mon Jan  5 09:16:03 2026\\nFrom: c@example.org\\nSubject: three\\n\\nbody three\\n\\n' >> /var/mail/" + user], check=True)
start = time.time()
line = until(b"* ")
if line.strip() != b"* 3 EXISTS":
    sys.exit("IDLE said %r" % line)
send("DONE"); until(b"c OK")
send("d LOGOUT"); until(b"d OK")
print("imap: IDLE reported a delivery in %.2f s" % (time.time() - start))
EOF
    printf 'From: c@example.org\r\nSubject: three\r\n\r\nbody three\r\n' \
        | ct sh -c "cat > $e/003.eml"
else
    say "NOTE: imapd is not in the package: IMAP skipped"
    ct sh -c "printf 'From c@example.org Mon Jan  5 09:16:03 2026\nFrom: c@example.org\nSubject: three\n\nbody three\n\n' >> /var/mail/$user"
    printf 'From: c@example.org\r\nSubject: three\r\n\r\nbody three\r\n' | ct sh -c "cat > $e/003.eml"
fi
c pop3 127.0.0.1 110 "$user" "$password" "$e" || fail "poplib through pop3d.socket"
c pop3 127.0.0.1 110 "$user" "$password" "$e" --starttls "$ca_pop" || fail "poplib STLS"
c pop3 127.0.0.1 995 "$user" "$password" "$e" --tls "$ca_pop" || fail "poplib through pop3sd.socket"
c pop2 127.0.0.1 109 "$user" "$password" "$e" || fail "POP2 through pop2d.socket"
c pop3-delete-first 127.0.0.1 110 "$user" "$password" || fail "poplib DELE"
ct rm "$e/001.eml"
c pop3 127.0.0.1 110 "$user" "$password" "$e" || fail "poplib after DELE"
[ "$(ct stat -c '%U:%G %a' "/var/mail/$user")" = "$user:mail 660" ] || fail "/var/mail/$user changed owner or mode"

ct journalctl --no-pager -o cat -t imapd -t ipop3d -t ipop2d >"$work/journal" 2>&1 || true
grep -q "^Login user=$user auth=USER host=\[127.0.0.1\]$" "$work/journal" \
    || { tail -n 20 "$work/journal"; fail "no POP3 login of $user from [127.0.0.1] in the journal"; }
if grep -q "no dot-lock" "$work/journal"; then
    grep "no dot-lock" "$work/journal"
    fail "the dot-lock helper did not work under the sandbox"
fi
failed=$(ct systemctl --failed --no-legend --plain 2>/dev/null | grep -E '^(imapd|imapsd|pop3d|pop3sd|pop2d)' || true)
[ -z "$failed" ] || fail "failed units: $failed"
say "five sockets enabled: imaplib, poplib, POP2, TLS, IDLE and a DELE rewrite through the hardened units; journal clean"

ct userdel -r "$user" >/dev/null 2>&1 || true
ct dpkg --purge pullmail >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
left=$(ct sh -c 'ls /etc/systemd/system/sockets.target.wants/ 2>/dev/null' | grep -E '^(imapd|imapsd|pop3d|pop3sd|pop2d)\.socket$' || true)
[ -z "$left" ] || fail "purge left enabled sockets: $left"
say "purged: no socket left enabled"
