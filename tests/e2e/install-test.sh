#!/bin/sh
# make install / make uninstall into a scratch DESTDIR, as any user: the files
# go where the variables say, paths inside etc/ files follow sbindir, a second
# install keeps the configuration, and uninstall removes everything but a
# configuration file the administrator changed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

say() { printf 'install-test: %s\n' "$*"; }
fail() { printf 'install-test: FAIL: %s\n' "$*" >&2; exit 1; }

d=$(mktemp -d /tmp/pullmail-install-test.XXXXXX)
trap 'rm -rf "$d"' EXIT

make -s install DESTDIR="$d" PREFIX=/opt/pm PAM_VARIANT=redhat >"$d.log" 2>&1 \
    || { cat "$d.log"; rm -f "$d.log"; fail "make install"; }
rm -f "$d.log"
servers=""
for s in imapd ipop3d ipop2d; do
    [ -f "bin/$s/Cargo.toml" ] && servers="$servers $s"
done
for s in $servers; do
    [ -x "$d/opt/pm/sbin/$s" ] || fail "/opt/pm/sbin/$s missing"
done
for f in /opt/pm/share/man/man5/pullmail.conf.5 /opt/pm/share/man/man5/pullmail-mailbox.5 \
    /opt/pm/share/man/man8/imapd.8 /opt/pm/share/man/man8/ipopd.8 \
    /etc/pullmail.conf /etc/pam.d/imap /etc/pam.d/pop /etc/xinetd.d/imap /etc/xinetd.d/pop2 \
    /opt/pm/lib/systemd/system/imapd.socket /opt/pm/lib/systemd/system/pop3sd@.service \
    /opt/pm/share/doc/pullmail/examples/inetd.conf /opt/pm/share/doc/pullmail/README.md; do
    [ -f "$d$f" ] || fail "$f missing"
done
[ "$(readlink "$d/opt/pm/share/man/man8/ipop3d.8")" = ipopd.8 ] || fail "ipop3d.8 is no link to ipopd.8"
grep -q 'system-auth' "$d/etc/pam.d/imap" || fail "PAM_VARIANT=redhat not honoured"
grep -q '^ExecStart=-/opt/pm/sbin/ipop3d -t$' "$d/opt/pm/lib/systemd/system/pop3sd@.service" \
    || fail "the units do not run /opt/pm/sbin"
grep -q 'server[[:space:]]*= /opt/pm/sbin/imapd' "$d/etc/xinetd.d/imap" || fail "xinetd.d does not run /opt/pm/sbin"
grep -q '/opt/pm/sbin/ipop2d' "$d/opt/pm/share/doc/pullmail/examples/inetd.conf" || fail "inetd.conf example"
cmp -s etc/pullmail.conf "$d/etc/pullmail.conf" || fail "pullmail.conf differs from etc/"

echo "login_timeout = 60" >>"$d/etc/pullmail.conf"
make -s install DESTDIR="$d" PREFIX=/opt/pm PAM_VARIANT=redhat >"$d.log" 2>&1 || true
grep -q "keeping $d/etc/pullmail.conf" "$d.log" || { cat "$d.log"; rm -f "$d.log"; fail "a second install did not keep pullmail.conf"; }
rm -f "$d.log"
grep -q '^login_timeout = 60$' "$d/etc/pullmail.conf" || fail "pullmail.conf was overwritten"

make -s uninstall DESTDIR="$d" PREFIX=/opt/pm PAM_VARIANT=redhat >/dev/null
left=$(cd "$d" && find . ! -type d | sort)
[ "$left" = "./etc/pullmail.conf" ] || fail "uninstall left: $left"
say "install (PREFIX=/opt/pm, DESTDIR) and uninstall: ok"
