#!/bin/sh
# The packaging end-to-end test (root only; `make package-test`, and part of
# `make test` when run as root, as in CI).  It installs nothing on this host:
# every dpkg -i runs in a container whose writes go to a tmpfs
# (tests/e2e/container.sh), and the test checks at the end that the host's
# packages and mail-server files are as they were.
#
#  1. make deb; lintian; the package's files and conffiles are the expected ones.
#  2. tests/e2e/inetd-test.sh: in a container made a host that ran UW imapd
#     (the administrator's /etc/pam.d/imap and pop, UW's imapd.pem, UW's inetd
#     and xinetd entries), dpkg -i keeps them and uses them; real clients log
#     in through PAM under openbsd-inetd and xinetd (imaplib, poplib, POP2,
#     fetchmail, TLS); dpkg --purge leaves nothing of the package.
#  3. tests/e2e/systemd-test.sh: the host's system booted under systemd in a
#     container, the .deb installed there, the socket units enabled and used.
#  4. make rpm; rpmlint; rpm -qpl lists the expected files.
#
# Everything listens on 127.0.0.1 only (or in the containers' own networks).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

name=package-test
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (containers, dpkg -i inside them); CI runs it"

missing=""
for tool in dpkg-buildpackage dh lintian rpmbuild rpmlint fetchmail python3 \
    update-inetd systemd-analyze openssl curl useradd chpasswd nsenter; do
    command -v $tool >/dev/null 2>&1 || missing="$missing $tool"
done
[ -x /usr/sbin/inetd ] || missing="$missing inetd(openbsd-inetd)"
[ -z "$missing" ] || fail "missing:$missing (make deps installs tests/debian-packages.txt)"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
arch=$(dpkg --print-architecture)
dist=${CARGO_TARGET_DIR:-$top/target}/dist
work=$(mktemp -d /tmp/pullmail-package-test.XXXXXX)

# What of the host the containers must leave alone, to compare at the end:
# the packages, and every file a mail server, PAM or inetd keeps in /etc.
host_state() {
    dpkg-query -W -f='${Package} ${Version} ${Status}\n' | LC_ALL=C sort
    find /etc/pam.d /etc/ssl /etc/xinetd.d /etc/inetd.conf /etc/passwd /etc/group \
        /etc/shadow /etc/pullmail.conf /lib/systemd/system /etc/systemd/system /usr/sbin \
        -xdev \( -type f -o -type l \) 2>/dev/null | LC_ALL=C sort \
        | while read -r f; do
            if [ -f "$f" ] && [ ! -L "$f" ]; then
                printf '%s %s\n' "$(sha256sum <"$f" | cut -c1-64)" "$f"
            else
                printf 'link %s -> %s\n' "$f" "$(readlink "$f")"
            fi
        done
}

cleanup() {
    status=$?
    trap - EXIT INT TERM
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
host_state >"$work/host-before"

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
        /usr/share/doc/pullmail/examples/fail2ban-pullmail.conf \
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

# ------------------------------------------- 2. inetd and xinetd, a UW host
sh "$here/inetd-test.sh" "$deb"

# ---------------------------------------------- 3. systemd, in a container
sh "$here/systemd-test.sh" "$deb"

# --------------------------------------------------------------- 4. the .rpm
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
        /usr/share/doc/pullmail/examples/fail2ban-pullmail.conf \
        /usr/share/man/man5/pullmail-mailbox.5.gz /usr/share/man/man5/pullmail.conf.5.gz \
        /usr/share/man/man8/imapd.8.gz /usr/share/man/man8/ipop2d.8.gz \
        /usr/share/man/man8/ipop3d.8.gz /usr/share/man/man8/ipopd.8.gz
} | LC_ALL=C sort >"$work/rpm-expected"
diff -u "$work/rpm-expected" "$work/rpm-files" || fail "rpm -qpl: not the expected files"
rpm -qpc "$rpm" | grep -q '^/etc/pam.d/imap$' || fail "rpm: /etc/pam.d/imap is not %config"
grep -q 'system-auth' "$top/etc/pam.d/redhat/imap" || fail "the RPM's PAM files must use system-auth"
say "rpm -qpl lists the expected files; rpmlint clean"

host_state >"$work/host-after"
diff -u "$work/host-before" "$work/host-after" || fail "the host changed (see above): a test left the container"
say "the host's packages and mail-server files are as before"
say "passed: $(basename "$deb"), $(basename "$rpm")"
