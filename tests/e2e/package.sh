#!/bin/sh
# The packaging end-to-end test (root only; `make package-test`, and part of
# `make test` when run as root, as in CI):
#
#  1. make deb; lintian; the package's files and conffiles are the expected ones.
#     Then the .deb in a container running this host's system under systemd,
#     with the socket units enabled and used (tests/e2e/systemd-test.sh).
#  2. dpkg -i: the inetd entries are registered disabled, the xinetd services
#     are disabled, no systemd unit is enabled; systemd-analyze verify passes on
#     the installed units; the manual pages are found by man.
#  3. A real user with a password and a real spool file in /var/mail; a
#     certificate made the way README.md says.  openbsd-inetd runs the
#     registered entries, enabled and moved to loopback ports, and real clients
#     log in through PAM (pam_unix, /etc/pam.d/imap and pop as packaged):
#     imaplib LOGIN/SELECT/FETCH (plain, STARTTLS, imaps), poplib USER/PASS/RETR
#     (plain, STLS, pop3s), POP2, fetchmail over POP3 and IMAP, then a POP3
#     DELE that rewrites /var/mail/USER through the dot-lock helper.
#  4. xinetd (installed, or unpacked from its Debian package) runs the packaged
#     xinetd.d files, enabled and moved to loopback ports, for the same clients.
#  5. dpkg --purge leaves nothing behind: the same files as before under /etc,
#     /lib/systemd, /usr/sbin, /usr/share/{man,doc}, and /etc/inetd.conf as it was.
#  6. make rpm; rpmlint; rpm -qpl lists the expected files.
#
# Everything listens on 127.0.0.1 only.  Whatever the test added is removed on
# the way out, failed or not.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

say() { printf 'package-test: %s\n' "$*"; }
fail() { printf 'package-test: FAIL: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" != 0 ]; then
    say "SKIPPED: needs root (dpkg -i, a real user, inetd); CI runs it"
    exit 0
fi

missing=""
for tool in dpkg-buildpackage dh lintian rpmbuild rpmlint fetchmail python3 \
    update-inetd systemd-analyze openssl curl useradd chpasswd; do
    command -v $tool >/dev/null 2>&1 || missing="$missing $tool"
done
[ -x /usr/sbin/inetd ] || missing="$missing inetd(openbsd-inetd)"
[ -z "$missing" ] || fail "missing:$missing (make deps installs tests/debian-packages.txt)"

if dpkg-query -W -f='${Status}' pullmail 2>/dev/null | grep -q 'ok installed\|config-files'; then
    say "SKIPPED: a pullmail package is installed on this host; this test would purge it"
    exit 0
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
dist=${CARGO_TARGET_DIR:-$top/target}/dist
user=pmpkg$(($$ % 100000))
password="Pm-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d /tmp/pullmail-package-test.XXXXXX)
chmod 755 "$work"
pids=""
certs=""
installed=no
made_user=no

cleanup() {
    status=$?
    trap - EXIT INT TERM
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    if [ $made_user = yes ]; then
        userdel -r "$user" >/dev/null 2>&1 || true
        rm -f "/var/mail/$user" "/var/mail/$user.lock"
    fi
    for f in $certs; do rm -f "$f"; done
    if [ $installed = yes ]; then
        dpkg --purge pullmail >/dev/null 2>&1 || true
    fi
    if [ $status != 0 ]; then
        for log in "$work"/*.log; do
            [ -s "$log" ] || continue
            echo "--- $log" >&2
            tail -n 40 "$log" >&2
        done
    fi
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What the system looked like before, to compare after the purge.  Files that
# useradd/userdel touch are left out; the test user is removed before the purge.
snapshot() {
    find /etc /lib/systemd /usr/lib/systemd /usr/sbin /usr/share/man /usr/share/doc \
        /usr/share/lintian/overrides /var/lib/systemd /var/lib/dpkg/info \
        -xdev 2>/dev/null \
        | grep -v -e '^/etc/\(passwd\|group\|shadow\|gshadow\|subuid\|subgid\)-\?$' \
            -e '^/etc/ld.so.cache$' -e '^/var/lib/dpkg/info/\(format\|triggers\)' \
        | LC_ALL=C sort
}

# ---------------------------------------------------------------- 1. the .deb
say "make deb"
make -s deb >"$work/deb.log" 2>&1 || { tail -n 30 "$work/deb.log"; fail "make deb"; }
deb=$dist/pullmail_${version}_${arch}.deb
[ -f "$deb" ] || fail "$deb was not built"

say "lintian $(basename "$deb")"
# Every tag fails the test, at every level, but one: the override of chance
# spellings in machine code (see pullmail.lintian-overrides) is unused in a
# build that happens to spell none. Exit 2 is "tags found"; anything else is
# lintian failing.
lintian_status=0
lintian -I --pedantic --fail-on error,warning,info,pedantic "$deb" >"$work/lintian.log" 2>&1 \
    || lintian_status=$?
if [ $lintian_status -ne 0 ] && [ $lintian_status -ne 2 ]; then
    cat "$work/lintian.log"; fail "lintian exited with $lintian_status"
fi
if grep -E '^[EWIPX]: ' "$work/lintian.log" \
        | grep -v ' unused-override spelling-error-in-binary ' | grep -q .; then
    cat "$work/lintian.log"; fail "lintian"
fi
grep -v 'running with root privileges' "$work/lintian.log" || true

dpkg-deb -c "$deb" >"$work/deb-listing"
has_imapd=no
grep -q ' \./usr/sbin/imapd$' "$work/deb-listing" && has_imapd=yes
# Files and links, not directories.
# dh_compress gzips documentation over 4 KiB: README.md may be either.
awk '$1 !~ /^d/ {print $6}' "$work/deb-listing" | sed 's|^\./|/|; s|/README\.md\.gz$|/README.md|' \
    | LC_ALL=C sort >"$work/deb-files"
{
    printf '%s\n' /etc/pam.d/imap /etc/pam.d/pop /etc/pullmail.conf
    for x in imap imaps pop2 pop3 pop3s; do echo "/etc/xinetd.d/$x"; done
    for u in imapd imapsd pop2d pop3d pop3sd; do
        echo "/lib/systemd/system/$u.socket"
        echo "/lib/systemd/system/$u@.service"
    done
    [ $has_imapd = yes ] && echo /usr/sbin/imapd
    printf '%s\n' /usr/sbin/ipop2d /usr/sbin/ipop3d \
        /usr/share/doc/pullmail/README.md /usr/share/doc/pullmail/changelog.gz \
        /usr/share/doc/pullmail/copyright /usr/share/doc/pullmail/examples/inetd.conf \
        /usr/share/lintian/overrides/pullmail \
        /usr/share/man/man5/pullmail-mailbox.5.gz /usr/share/man/man5/pullmail.conf.5.gz \
        /usr/share/man/man8/imapd.8.gz /usr/share/man/man8/ipop2d.8.gz \
        /usr/share/man/man8/ipop3d.8.gz /usr/share/man/man8/ipopd.8.gz
} | LC_ALL=C sort >"$work/deb-expected"
diff -u "$work/deb-expected" "$work/deb-files" || fail "the .deb's files are not the expected ones"
dpkg-deb -f "$deb" Package Version Architecture | tr '\n' ' '
echo
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
printf '%s\n' /etc/pam.d/imap /etc/pam.d/pop /etc/pullmail.conf /etc/xinetd.d/imap \
    /etc/xinetd.d/imaps /etc/xinetd.d/pop2 /etc/xinetd.d/pop3 /etc/xinetd.d/pop3s \
    | diff -u - "$work/control/conffiles" || fail "conffiles"
[ $has_imapd = yes ] || say "NOTE: imapd is not in the package (not built yet): the IMAP parts are skipped"

# The systemd units under a real systemd, in a container (tmpfs-backed).
sh "$here/systemd-test.sh" "$deb"

# ------------------------------------------------------------- 2. dpkg -i
snapshot >"$work/before"
cp /etc/inetd.conf "$work/inetd.conf.before"
say "dpkg -i"
installed=yes
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
for entry in "imap2 /usr/sbin/imapd imapd" "imaps /usr/sbin/imapd imapd -t" \
    "pop3 /usr/sbin/ipop3d ipop3d" "pop3s /usr/sbin/ipop3d ipop3d -t" "109 /usr/sbin/ipop2d ipop2d"; do
    set -- $entry
    name=$1 program=$2
    shift 2
    grep -q "^#<off># $name	stream	tcp	nowait	root	$program	$*\$" /etc/inetd.conf \
        || fail "/etc/inetd.conf: no disabled entry for $name"
done
if grep -E '^(imap2|imaps|pop3|pop3s|109)[[:space:]]' /etc/inetd.conf; then
    fail "an inetd entry is enabled"
fi
for x in imap imaps pop2 pop3 pop3s; do
    grep -q '^[[:space:]]*disable[[:space:]]*= yes' "/etc/xinetd.d/$x" || fail "/etc/xinetd.d/$x is not disabled"
done
if ls /etc/systemd/system/*.wants/ 2>/dev/null | grep -E '^(imapd|imapsd|pop3d|pop3sd|pop2d)\.socket$'; then
    fail "a socket unit is enabled"
fi
units=""
for u in imapd imapsd pop2d pop3d pop3sd; do
    units="$units /lib/systemd/system/$u.socket /lib/systemd/system/$u@.service"
done
# shellcheck disable=SC2086
systemd-analyze verify $units >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "systemd-analyze verify"; }
[ -s "$work/verify.log" ] && { cat "$work/verify.log"; fail "systemd-analyze verify complains"; }
say "installed units pass systemd-analyze verify"
for page in imapd ipopd ipop3d ipop2d pullmail.conf pullmail-mailbox; do
    man -w "$page" >/dev/null 2>&1 || fail "man cannot find $page"
done
man ipop3d 2>/dev/null | grep -q 'POP3 and POP2 servers' || fail "man ipop3d does not show ipopd(8)"

# ----------------------------------------------------- 3. a user and inetd
getent passwd "$user" >/dev/null && fail "user $user exists already"
say "user $user with a password; /var/mail/$user"
made_user=yes
useradd -m -s /bin/sh "$user"
printf '%s:%s\n' "$user" "$password" | chpasswd
mkdir "$work/expected"
python3 - "$work/expected" "/var/mail/$user" <<'EOF'
import sys
expected, spool = sys.argv[1], sys.argv[2]
messages = []
for n, (who, subject, body) in enumerate([
        ("alice@example.org", "First", "Hello.\n"),
        ("bob@example.net", "Second, with a dot line", "Line one\n.\n..two dots\nFrom inside, quoted below\n"),
        ("carol@example.com", "Third", ("x" * 70 + "\n") * 80)], 1):
    text = ("From: %s\nTo: test@localhost\nSubject: %s\nDate: Mon, 05 Jan 2026 09:%02d:00 +0000\n"
            "Message-ID: <m%d@example.org>\n\n%s") % (who, subject, n, n, body)
    messages.append(text)
    with open("%s/%03d.eml" % (expected, n), "wb") as f:
        f.write(text.encode().replace(b"\n", b"\r\n"))
with open(spool, "w") as f:
    for n, text in enumerate(messages, 1):
        body = text.replace("\nFrom inside", "\n>From inside")
        f.write("From %s Mon Jan  5 09:%02d:00 2026\n%s\n" % ("sender@example.org", n, body))
EOF
# The .eml of the quoted line: POP and IMAP serve what is on disk, ">From".
sed -i 's/^From inside/>From inside/' "$work/expected/002.eml"
chown "$user:mail" "/var/mail/$user"
chmod 660 "/var/mail/$user"

# The certificate, as README.md tells: a self-signed one for this host's name.
say "TLS certificates for imapd and ipop3d (README.md's openssl command)"
for program in imapd ipop3d; do
    for f in "/etc/ssl/certs/$program.pem" "/etc/ssl/private/$program.pem"; do
        [ -e "$f" ] && fail "$f exists already"
        certs="$certs $f"
    done
    openssl req -new -x509 -nodes -days 3650 -newkey rsa:2048 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "/etc/ssl/private/$program.pem" -out "/etc/ssl/certs/$program.pem" \
        >"$work/openssl.log" 2>&1 || { cat "$work/openssl.log"; fail "openssl"; }
    chmod 600 "/etc/ssl/private/$program.pem"
done
ca=/etc/ssl/certs/imapd.pem
ca_pop=/etc/ssl/certs/ipop3d.pem

port_free() { ! (ss -Hltn "sport = :$1" 2>/dev/null | grep -q .); }
free_port() {
    p=$1
    while ! port_free "$p"; do p=$((p + 1)); done
    echo "$p"
}
wait_port() {
    i=0
    while port_free "$1"; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "nothing listens on 127.0.0.1:$1"
        sleep 0.1
    done
}

p_imap=$(free_port 20143)
p_imaps=$(free_port 20993)
p_pop3=$(free_port 20110)
p_pop3s=$(free_port 20995)
p_pop2=$(free_port 20109)

# The registered entries, enabled, on loopback ports (inetd's ADDRESS:PORT).
sed -n 's/^#<off># \(imap2\|imaps\|pop3\|pop3s\|109\)\(\t.*\/usr\/sbin\/i[a-z0-9]*d\t.*\)$/\1\2/p' \
    /etc/inetd.conf >"$work/registered"
[ "$(wc -l <"$work/registered")" = 5 ] || fail "expected 5 registered entries"
awk -v imap="$p_imap" -v imaps="$p_imaps" -v pop3="$p_pop3" -v pop3s="$p_pop3s" -v pop2="$p_pop2" '
    BEGIN { OFS = "\t"; port["imap2"] = imap; port["imaps"] = imaps; port["pop3"] = pop3
            port["pop3s"] = pop3s; port["109"] = pop2 }
    { $1 = "127.0.0.1:" port[$1]; print }' "$work/registered" >"$work/inetd.conf"
say "openbsd-inetd with the registered entries on 127.0.0.1 ports $p_imap $p_imaps $p_pop3 $p_pop3s $p_pop2"
/usr/sbin/inetd -d -i "$work/inetd.conf" >"$work/inetd.log" 2>&1 &
pids="$pids $!"
for p in $p_imap $p_imaps $p_pop3 $p_pop3s $p_pop2; do wait_port "$p"; done

clients() { # label imap-port imaps-port pop3-port pop3s-port pop2-port
    label=$1
    if [ $has_imapd = yes ]; then
        python3 "$here/clients.py" imap 127.0.0.1 "$2" "$user" "$password" "$work/expected" \
            || fail "$label: imaplib"
        python3 "$here/clients.py" imap 127.0.0.1 "$2" "$user" "$password" "$work/expected" --starttls "$ca" \
            || fail "$label: imaplib STARTTLS"
        python3 "$here/clients.py" imap 127.0.0.1 "$3" "$user" "$password" "$work/expected" --tls "$ca" \
            || fail "$label: imaplib on imaps"
    fi
    python3 "$here/clients.py" pop3 127.0.0.1 "$4" "$user" "$password" "$work/expected" \
        || fail "$label: poplib"
    python3 "$here/clients.py" pop3 127.0.0.1 "$4" "$user" "$password" "$work/expected" --starttls "$ca_pop" \
        || fail "$label: poplib STLS"
    python3 "$here/clients.py" pop3 127.0.0.1 "$5" "$user" "$password" "$work/expected" --tls "$ca_pop" \
        || fail "$label: poplib on pop3s"
    python3 "$here/clients.py" pop2 127.0.0.1 "$6" "$user" "$password" "$work/expected" \
        || fail "$label: POP2"
}

clients inetd "$p_imap" "$p_imaps" "$p_pop3" "$p_pop3s" "$p_pop2"

# fetchmail, as a user would run it: keep the mail, deliver to a file.
fetch() { # protocol port
    out=$work/fetchmail-$1.mbox
    rc=$work/fetchmailrc-$1
    : >"$out"
    cat >"$rc" <<EOF
set no bouncemail
poll localhost protocol $1 port $2
    user "$user" there with password "$password" is root here
    keep fetchall
    sslcertck sslcertfile "$ca"
    mda "/bin/sh -c 'cat >> $out'"
EOF
    [ "$1" = POP3 ] && sed -i "s|sslcertfile \"$ca\"|sslcertfile \"$ca_pop\"|" "$rc"
    chmod 600 "$rc"
    HOME=$work fetchmail --nosyslog -v -f "$rc" >"$work/fetchmail-$1.log" 2>&1 \
        || { cat "$work/fetchmail-$1.log"; fail "fetchmail $1"; }
    for n in 1 2 3; do
        grep -q "^Message-ID: <m$n@example.org>" "$out" || fail "fetchmail $1 did not deliver message $n"
    done
    grep -q "> [A-Z0-9]* *\(STLS\|STARTTLS\)" "$work/fetchmail-$1.log" \
        || { cat "$work/fetchmail-$1.log"; fail "fetchmail $1 did not upgrade to TLS"; }
    say "fetchmail over $1 (TLS upgrade, certificate checked): 3 messages"
}
fetch POP3 "$p_pop3"
[ $has_imapd = yes ] && fetch IMAP "$p_imap"

# A deletion: QUIT rewrites /var/mail/USER in place, as the user, through the
# setgid dotlockfile helper in the root:mail 2775 spool.
python3 "$here/clients.py" pop3-delete-first 127.0.0.1 "$p_pop3" "$user" "$password" \
    || fail "poplib DELE"
rm "$work/expected/001.eml"
python3 "$here/clients.py" pop3 127.0.0.1 "$p_pop3" "$user" "$password" "$work/expected" \
    || fail "poplib after DELE"
[ "$(stat -c '%U:%G %a' "/var/mail/$user")" = "$user:mail 660" ] \
    || fail "/var/mail/$user is now $(stat -c '%U:%G %a' "/var/mail/$user")"
[ -e "/var/mail/$user.lock" ] && fail "a dot-lock was left behind"
grep -q '^X-UID:\|^X-IMAP' "/var/mail/$user" || fail "the rewrite did not record UIDs"
say "POP3 DELE applied at QUIT; /var/mail/$user still $user:mail 660, no lock left"

# ----------------------------------------------------------- 4. xinetd
xinetd=$(command -v xinetd || true)
if [ -z "$xinetd" ]; then
    # openbsd-inetd and xinetd conflict as packages; the binary runs unpacked.
    mkdir "$work/xinetd"
    if (cd "$work/xinetd" && apt-get download xinetd >"$work/apt.log" 2>&1) \
        && dpkg-deb -x "$work"/xinetd/xinetd_*.deb "$work/xinetd/root"; then
        xinetd=$work/xinetd/root/usr/sbin/xinetd
    fi
fi
if [ -n "$xinetd" ] && [ -x "$xinetd" ]; then
    x_imap=$(free_port $((p_imap + 1000)))
    x_imaps=$(free_port $((p_imaps + 1000)))
    x_pop3=$(free_port $((p_pop3 + 1000)))
    x_pop3s=$(free_port $((p_pop3s + 1000)))
    x_pop2=$(free_port $((p_pop2 + 1000)))
    : >"$work/xinetd.conf"
    for x in imap:$x_imap imaps:$x_imaps pop3:$x_pop3 pop3s:$x_pop3s pop2:$x_pop2; do
        name=${x%%:*} port=${x#*:}
        # As packaged, but enabled, on a loopback port, IPv4.
        sed -e 's/^\([[:space:]]*disable[[:space:]]*=\).*/\1 no/' \
            -e "s/^\\([[:space:]]*port[[:space:]]*=\\).*/\\1 $port\\n\\tbind\\t\\t= 127.0.0.1/" \
            -e '/^[[:space:]]*flags[[:space:]]*=/d' "/etc/xinetd.d/$name" >>"$work/xinetd.conf"
    done
    say "xinetd with the packaged xinetd.d files on 127.0.0.1 ports $x_imap $x_imaps $x_pop3 $x_pop3s $x_pop2"
    "$xinetd" -dontfork -f "$work/xinetd.conf" -pidfile "$work/xinetd.pid" >"$work/xinetd.log" 2>&1 &
    pids="$pids $!"
    for p in $x_imap $x_imaps $x_pop3 $x_pop3s $x_pop2; do wait_port "$p"; done
    clients xinetd "$x_imap" "$x_imaps" "$x_pop3" "$x_pop3s" "$x_pop2"
else
    say "NOTE: xinetd neither installed nor downloadable (apt-get download xinetd): its part is skipped"
fi

for pid in $pids; do kill "$pid" 2>/dev/null || true; done
for pid in $pids; do wait "$pid" 2>/dev/null || true; done
pids=""

# ------------------------------------------------------------- 5. purge
userdel -r "$user" >/dev/null 2>&1 || fail "userdel"
rm -f "/var/mail/$user"
made_user=no
for f in $certs; do rm -f "$f"; done
certs=""
say "dpkg --purge"
dpkg --purge pullmail >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
installed=no
snapshot >"$work/after"
diff -u "$work/before" "$work/after" || fail "dpkg --purge left files behind (or took some)"
cmp -s "$work/inetd.conf.before" /etc/inetd.conf \
    || { diff -u "$work/inetd.conf.before" /etc/inetd.conf; fail "/etc/inetd.conf changed"; }
say "purged: no file left, /etc/inetd.conf as before"

# --------------------------------------------------------------- 6. the .rpm
say "make rpm"
make -s rpm >"$work/rpm.log" 2>&1 || { tail -n 30 "$work/rpm.log"; fail "make rpm"; }
rpm=$dist/pullmail-$version-1.x86_64.rpm
[ -f "$rpm" ] || fail "$rpm was not built"
rpmlint -c packaging/rpm/rpmlint.toml "$rpm" packaging/rpm/pullmail.spec >"$work/rpmlint.log" 2>&1 \
    || { cat "$work/rpmlint.log"; fail "rpmlint"; }
grep -q ' 0 errors, 0 warnings' "$work/rpmlint.log" || { cat "$work/rpmlint.log"; fail "rpmlint warns"; }
rpm -qpl "$rpm" | LC_ALL=C sort >"$work/rpm-files"
{
    printf '%s\n' /etc/pam.d/imap /etc/pam.d/pop /etc/pullmail.conf
    for x in imap imaps pop2 pop3 pop3s; do echo "/etc/xinetd.d/$x"; done
    for u in imapd imapsd pop2d pop3d pop3sd; do
        echo "/usr/lib/systemd/system/$u.socket"
        echo "/usr/lib/systemd/system/$u@.service"
    done
    printf '%s\n' /usr/sbin/imapd /usr/sbin/ipop2d /usr/sbin/ipop3d \
        /usr/share/doc/pullmail/README.md /usr/share/doc/pullmail/examples/inetd.conf \
        /usr/share/man/man5/pullmail-mailbox.5.gz /usr/share/man/man5/pullmail.conf.5.gz \
        /usr/share/man/man8/imapd.8.gz /usr/share/man/man8/ipop2d.8.gz \
        /usr/share/man/man8/ipop3d.8.gz /usr/share/man/man8/ipopd.8.gz
} | LC_ALL=C sort >"$work/rpm-expected"
diff -u "$work/rpm-expected" "$work/rpm-files" || fail "rpm -qpl: not the expected files"
rpm -qpc "$rpm" | grep -q '^/etc/pam.d/imap$' || fail "rpm: /etc/pam.d/imap is not %config"
grep -q 'system-auth' "$top/etc/pam.d/redhat/imap" || fail "the RPM's PAM files must use system-auth"
say "rpm -qpl lists the expected files; rpmlint clean"

say "passed: $(basename "$deb"), $(basename "$rpm")"
