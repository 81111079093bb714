#!/bin/sh
# The .deb under inetd and xinetd, on a host that ran UW imapd (root only; run
# by package.sh).  Everything happens in a container (tests/e2e/container.sh:
# this host's system on an overlay whose writes go to a tmpfs, a network of its
# own, no init), so the host's packages, users and /etc are the same after the
# test, whatever they were before — an installed pullmail or uw-imapd, UW's PAM
# files and certificates, inetd lines.  What runs inside: inetd-in-container.sh.
#
#   sh tests/e2e/inetd-test.sh DEB
set -eu

here=$(cd "$(dirname "$0")" && pwd)
deb=${1:?usage: inetd-test.sh DEB}
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
name=inetd-test
. "$here/lib.sh"
. "$here/container.sh"

[ "$(id -u)" = 0 ] || skip "needs root (a container, dpkg -i inside it)"

work=$(mktemp -d /tmp/pullmail-inetd-test.XXXXXX)
cleanup() {
    status=$?
    trap - EXIT INT TERM
    container_cleanup
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# xinetd conflicts with openbsd-inetd as a package; its binary runs unpacked.
# The container has no network: fetch it here, into $work.
mkdir "$work/xinetd"
xinetd=$(command -v xinetd || true)
if [ -n "$xinetd" ]; then
    cp "$xinetd" "$work/xinetd/xinetd"
elif (cd "$work/xinetd" && apt-get download xinetd >"$work/apt-xinetd.log" 2>&1) \
    && dpkg-deb -x "$work"/xinetd/xinetd_*.deb "$work/xinetd/root"; then
    cp "$work/xinetd/root/usr/sbin/xinetd" "$work/xinetd/xinetd"
else
    skip "xinetd is neither installed nor downloadable (apt-get download xinetd)"
fi

container_root
# nspawn exits with the status of the script it ran.
container_nspawn --quiet --as-pid2 \
    --setenv=CI="${CI:-}" --setenv=PULLMAIL_NO_SKIP="${PULLMAIL_NO_SKIP:-}" \
    --bind-ro="$(dirname "$deb"):/mnt/dist" --bind-ro="$here:/mnt/e2e" \
    --bind-ro="$work/xinetd:/mnt/xinetd" \
    sh /mnt/e2e/inetd-in-container.sh "/mnt/dist/$(basename "$deb")" /mnt/xinetd/xinetd \
    </dev/null || fail "in the container (see above)"
