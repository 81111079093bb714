#!/bin/sh
# Runs inside the container that inetd-test.sh makes (root there; every write
# goes to a tmpfs).  The container starts as a copy of the host, and the test
# first makes it a host that ran UW imapd, on purpose, whatever the real host
# has:
#  - no pullmail package; uw-imapd and ipopd removed as apt removes a package
#    that pullmail conflicts with (their configuration files stay);
#  - /etc/pam.d/imap and /etc/pam.d/pop as an administrator edited them (pam_unix
#    and a deny list, /etc/imap.deny), not the package's;
#  - UW's certificates: key and certificate in one file, /etc/ssl/certs/imapd.pem
#    and ipop3d.pem, no separate key;
#  - UW's inetd entries (imap2, imaps, pop3, pop3s running /usr/sbin/imapd and
#    ipop3d, through tcpd where it is installed) enabled, and UW-style
#    /etc/xinetd.d/imap and pop3 enabled.
# Then:
#  1. dpkg -i with an explicit conffile policy (--force-confdef
#     --force-confold: keep what the administrator has, install what is new,
#     never ask): the administrator's PAM files, certificates and xinetd files
#     are kept unchanged; UW's inetd entries stay as they were and now run
#     pullmail's programs; the one service UW had no entry for (POP2, port 109)
#     is registered disabled; no systemd unit is enabled; systemd-analyze verify
#     passes on the installed units; the manual pages are found by man.
#  2. A real user with a password and a spool file in /var/mail.  openbsd-inetd
#     runs the entries (UW's, and pullmail's for 109, enabled), moved to
#     loopback ports, and real clients log in through PAM with the kept
#     /etc/pam.d files (the deny list refuses a second user with a right
#     password: the administrator's file is the one in use) and TLS with the
#     kept certificates: imaplib LOGIN/SELECT/FETCH (plain, STARTTLS, imaps),
#     poplib USER/PASS/RETR (plain, STLS, pop3s), POP2, fetchmail over POP3 and
#     IMAP, then a POP3 DELE that rewrites /var/mail/USER through the dot-lock
#     helper.
#  3. xinetd runs the xinetd.d files (UW's kept imap and pop3, the package's
#     imaps, pop3s and pop2), enabled and moved to loopback ports, for the same
#     clients.
#  4. dpkg --purge leaves no file of the package behind and the administrator's
#     files as they were.
#
#   sh inetd-in-container.sh DEB XINETD
set -eu

deb=$1
xinetd=$2
here=$(cd "$(dirname "$0")" && pwd)
name=inetd-test
. "$here/lib.sh"

missing=""
for tool in dpkg fetchmail python3 update-inetd systemd-analyze openssl useradd chpasswd ss; do
    command -v $tool >/dev/null 2>&1 || missing="$missing $tool"
done
[ -x /usr/sbin/inetd ] || missing="$missing inetd(openbsd-inetd)"
[ -z "$missing" ] || fail "missing:$missing (make deps installs tests/debian-packages.txt)"

user=pmpkg$(($$ % 100000))
denied=pmdeny$(($$ % 100000))
password="Pm-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d /var/tmp/pullmail-inetd.XXXXXX)
chmod 755 "$work"
pids=""
cleanup() {
    status=$?
    trap - EXIT INT TERM
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do wait "$pid" 2>/dev/null || true; done
    if [ $status != 0 ]; then
        for log in "$work"/*.log; do
            [ -s "$log" ] || continue
            echo "--- $log" >&2
            tail -n 40 "$log" >&2
        done
    fi
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------- 0. a host that ran UW imapd
for p in pullmail; do
    if dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'installed\|config-files'; then
        dpkg --purge $p >"$work/prepurge.log" 2>&1 || fail "purging the host's own $p in the container"
    fi
done
for p in uw-imapd ipopd; do
    if dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'ok installed'; then
        dpkg --remove $p >"$work/preremove.log" 2>&1 || fail "removing $p in the container"
    fi
done
for f in /etc/pam.d/imap /etc/pam.d/pop; do
    cat >"$f" <<'PAM'
# UW imapd's PAM service, as this site's administrator edited it.
auth     requisite  pam_listfile.so item=user sense=deny file=/etc/imap.deny onerr=succeed
auth     required   pam_unix.so
account  required   pam_unix.so
session  required   pam_unix.so
PAM
done
echo "$denied" >/etc/imap.deny
for program in imapd ipop3d; do
    rm -f "/etc/ssl/private/$program.pem"
    openssl req -new -x509 -nodes -days 30 -newkey rsa:2048 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "$work/$program.key" -out "$work/$program.crt" >"$work/openssl.log" 2>&1 \
        || fail "openssl"
    # UW's form: the key and the certificate in one file under certs/.
    cat "$work/$program.key" "$work/$program.crt" >"/etc/ssl/certs/$program.pem"
    chmod 600 "/etc/ssl/certs/$program.pem"
done
tcpd=""
[ -x /usr/sbin/tcpd ] && tcpd="/usr/sbin/tcpd	"
[ -f /etc/inetd.conf ] || : >/etc/inetd.conf
sed -i -E '/^(#<off># )?(imap2|imaps|pop3|pop3s|pop2|109)[[:space:]]/d' /etc/inetd.conf
{
    echo "#:MAIL: Mail, news and uucp services."
    printf 'imap2\tstream\ttcp\tnowait\troot\t%s/usr/sbin/imapd\n' "$tcpd"
    printf 'imaps\tstream\ttcp\tnowait\troot\t%s/usr/sbin/imapd\n' "$tcpd"
    printf 'pop3\tstream\ttcp\tnowait\troot\t%s/usr/sbin/ipop3d\n' "$tcpd"
    printf 'pop3s\tstream\ttcp\tnowait\troot\t%s/usr/sbin/ipop3d\n' "$tcpd"
} >>/etc/inetd.conf
mkdir -p /etc/xinetd.d
for s in imap:imapd pop3:ipop3d; do
    printf 'service %s\n{\n\tsocket_type\t= stream\n\twait\t\t= no\n\tuser\t\t= root\n\tserver\t\t= /usr/sbin/%s\n\tdisable\t\t= no\n}\n' \
        "${s%%:*}" "${s#*:}" >"/etc/xinetd.d/${s%%:*}"
done
rm -f /etc/xinetd.d/imaps /etc/xinetd.d/pop3s /etc/xinetd.d/pop2
kept="/etc/pam.d/imap /etc/pam.d/pop /etc/ssl/certs/imapd.pem /etc/ssl/certs/ipop3d.pem \
    /etc/xinetd.d/imap /etc/xinetd.d/pop3"
# shellcheck disable=SC2086
sha256sum $kept >"$work/kept.sha256"
cp /etc/inetd.conf "$work/inetd.conf.uw"
say "a UW host: edited /etc/pam.d/imap and pop, UW's imapd.pem and ipop3d.pem, UW's inetd and xinetd entries${tcpd:+ (through tcpd)}"

snapshot() {
    find /etc /lib/systemd /usr/lib/systemd /usr/sbin /usr/share/man /usr/share/doc \
        /usr/share/lintian/overrides /var/lib/systemd /var/lib/dpkg/info \
        -xdev 2>/dev/null \
        | grep -v -e '^/etc/\(passwd\|group\|shadow\|gshadow\|subuid\|subgid\)-\?$' \
            -e '^/etc/ld.so.cache$' -e '^/var/lib/dpkg/info/\(format\|triggers\)' \
        | LC_ALL=C sort
}
snapshot >"$work/before"

# ------------------------------------------------------------- 1. dpkg -i
say "dpkg -i --force-confdef --force-confold $(basename "$deb")"
dpkg -i --force-confdef --force-confold "$deb" >"$work/dpkg.log" 2>&1 </dev/null \
    || { cat "$work/dpkg.log"; fail "dpkg -i"; }
has_imapd=no
[ -x /usr/sbin/imapd ] && has_imapd=yes
sha256sum -c --quiet "$work/kept.sha256" || fail "dpkg -i changed the administrator's files"
say "kept as they were: $(echo $kept)"
grep -q '^auth .*pam_listfile' /etc/pam.d/imap || fail "/etc/pam.d/imap is not the administrator's"
# UW's entries are untouched (and now run pullmail's programs); the package
# adds, disabled, only the entry UW had none for.
grep -v '^#<off># 109	' /etc/inetd.conf | diff -u "$work/inetd.conf.uw" - \
    || fail "dpkg -i changed UW's inetd entries"
grep -q "^#<off># 109	stream	tcp	nowait	root	/usr/sbin/ipop2d	ipop2d\$" /etc/inetd.conf \
    || fail "/etc/inetd.conf: no disabled entry for 109 (POP2)"
for x in imaps pop2 pop3s; do
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

# ----------------------------------------------------- 2. a user and inetd
for u in "$user" "$denied"; do
    getent passwd "$u" >/dev/null && fail "user $u exists already"
    useradd -m -s /bin/sh "$u"
    printf '%s:%s\n' "$u" "$password" | chpasswd
done
say "users $user and $denied (in /etc/imap.deny) with a password; /var/mail/$user"
mkdir "$work/expected"
python3 - "$work/expected" "/var/mail/$user" <<'PY'
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
PY
# The .eml of the quoted line: POP and IMAP serve what is on disk, ">From".
sed -i 's/^From inside/>From inside/' "$work/expected/002.eml"
chown "$user:mail" "/var/mail/$user"
chmod 660 "/var/mail/$user"
# Clients check the server against the certificate part of UW's files.
ca=$work/imapd.crt
ca_pop=$work/ipop3d.crt

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

# UW's entries and the package's 109, enabled, on loopback ports (inetd's
# ADDRESS:PORT).  imaps and pop3s are UW's lines, which say nothing of TLS:
# UW's servers found it by the port they were started on, pullmail needs -t
# (the package's own entries have it), as imapd(8) says; the test adds it the
# way the administrator must.
sed -n -e 's/^\(imap2\|imaps\|pop3\|pop3s\)\(\t.*\)$/\1\2/p' \
    -e 's/^#<off># \(109\t.*\/usr\/sbin\/ipop2d\t.*\)$/\1/p' /etc/inetd.conf >"$work/registered"
[ "$(wc -l <"$work/registered")" = 5 ] || { cat "$work/registered"; fail "expected 5 entries"; }
awk -v imap="$p_imap" -v imaps="$p_imaps" -v pop3="$p_pop3" -v pop3s="$p_pop3s" -v pop2="$p_pop2" '
    BEGIN { FS = OFS = "\t"; port["imap2"] = imap; port["imaps"] = imaps; port["pop3"] = pop3
            port["pop3s"] = pop3s; port["109"] = pop2 }
    { if (($1 == "imaps" || $1 == "pop3s") && $NF !~ / -t$/) {
          prog = $NF; sub(/.*\//, "", prog)
          $NF = $NF; if ($(NF-1) ~ /tcpd$/) { $NF = $NF " -t" } else { $(NF+1) = prog " -t" }
      }
      $1 = "127.0.0.1:" port[$1]; print }' "$work/registered" >"$work/inetd.conf"
say "openbsd-inetd with UW's entries and pullmail's 109 on 127.0.0.1 ports $p_imap $p_imaps $p_pop3 $p_pop3s $p_pop2"
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
        if python3 "$here/clients.py" imap 127.0.0.1 "$2" "$denied" "$password" "$work/expected" \
            >"$work/denied.log" 2>&1; then
            fail "$label: $denied logged in: /etc/pam.d/imap is not the administrator's file"
        fi
    fi
    python3 "$here/clients.py" pop3 127.0.0.1 "$4" "$user" "$password" "$work/expected" \
        || fail "$label: poplib"
    python3 "$here/clients.py" pop3 127.0.0.1 "$4" "$user" "$password" "$work/expected" --starttls "$ca_pop" \
        || fail "$label: poplib STLS"
    python3 "$here/clients.py" pop3 127.0.0.1 "$5" "$user" "$password" "$work/expected" --tls "$ca_pop" \
        || fail "$label: poplib on pop3s"
    python3 "$here/clients.py" pop2 127.0.0.1 "$6" "$user" "$password" "$work/expected" \
        || fail "$label: POP2"
    say "$label: imaplib, poplib (plain, STARTTLS/STLS, implicit TLS with UW's certificates), POP2; the deny list of the kept PAM file refused $denied"
}

clients inetd "$p_imap" "$p_imaps" "$p_pop3" "$p_pop3s" "$p_pop2"

# fetchmail, as a user would run it: keep the mail, deliver to a file.
fetch() { # protocol port
    out=$work/fetchmail-$1.mbox
    rc=$work/fetchmailrc-$1
    : >"$out"
    cat >"$rc" <<RC
set no bouncemail
poll localhost protocol $1 port $2
    user "$user" there with password "$password" is root here
    keep fetchall
    sslcertck sslcertfile "$ca"
    mda "/bin/sh -c 'cat >> $out'"
RC
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

for pid in $pids; do kill "$pid" 2>/dev/null || true; done
for pid in $pids; do wait "$pid" 2>/dev/null || true; done
pids=""

# ----------------------------------------------------------- 3. xinetd
x_imap=$(free_port $((p_imap + 1000)))
x_imaps=$(free_port $((p_imaps + 1000)))
x_pop3=$(free_port $((p_pop3 + 1000)))
x_pop3s=$(free_port $((p_pop3s + 1000)))
x_pop2=$(free_port $((p_pop2 + 1000)))
: >"$work/xinetd.conf"
for x in imap:$x_imap imaps:$x_imaps pop3:$x_pop3 pop3s:$x_pop3s pop2:$x_pop2; do
    svc=${x%%:*} port=${x#*:}
    # As installed (UW's kept files and the package's), enabled, on a loopback
    # port, IPv4; off its /etc/services port, a service is UNLISTED to xinetd.
    sed -e 's/^\([[:space:]]*disable[[:space:]]*=\).*/\1 no/' \
        -e '/^[[:space:]]*\(port\|bind\|flags\|type\|protocol\)[[:space:]]*=/d' \
        -e "s/^{/{\\n\\ttype\\t\\t= UNLISTED\\n\\tprotocol\\t= tcp\\n\\tport\\t\\t= $port\\n\\tbind\\t\\t= 127.0.0.1/" \
        "/etc/xinetd.d/$svc" >>"$work/xinetd.conf"
done
say "xinetd with UW's imap and pop3 and the package's imaps, pop3s, pop2 on 127.0.0.1 ports $x_imap $x_imaps $x_pop3 $x_pop3s $x_pop2"
"$xinetd" -dontfork -f "$work/xinetd.conf" -pidfile "$work/xinetd.pid" >"$work/xinetd.log" 2>&1 &
pids="$pids $!"
for p in $x_imap $x_imaps $x_pop3 $x_pop3s $x_pop2; do wait_port "$p"; done
clients xinetd "$x_imap" "$x_imaps" "$x_pop3" "$x_pop3s" "$x_pop2"

for pid in $pids; do kill "$pid" 2>/dev/null || true; done
for pid in $pids; do wait "$pid" 2>/dev/null || true; done
pids=""

# ------------------------------------------------------------- 4. purge
for u in "$user" "$denied"; do userdel -r "$u" >/dev/null 2>&1 || fail "userdel $u"; done
rm -f "/var/mail/$user" "/var/mail/$denied"
say "dpkg --purge"
dpkg --purge pullmail >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; fail "dpkg --purge"; }
snapshot >"$work/after"
# The administrator's files are conffiles of pullmail now (dpkg took them over
# at installation): a purge removes them, as it would the package's own, and
# /etc/xinetd.d with them when nothing else is in it.
grep -v -x -e /etc/pam.d/imap -e /etc/pam.d/pop -e /etc/xinetd.d/imap -e /etc/xinetd.d/pop3 \
    "$work/before" | { [ -d /etc/xinetd.d ] && cat || grep -v -x /etc/xinetd.d; } \
    | diff -u - "$work/after" || fail "dpkg --purge left files behind (or took some)"
grep -v '^#<off># 109	' /etc/inetd.conf | diff -u "$work/inetd.conf.uw" - >/dev/null \
    || { diff -u "$work/inetd.conf.uw" /etc/inetd.conf; fail "/etc/inetd.conf is not UW's after the purge"; }
say "purged: no file of the package left; UW's inetd entries as before"
