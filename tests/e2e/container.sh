# Sourced by the package tests: a container that runs this host's own system
# with every write going to a tmpfs, so that installing, configuring and
# purging the package changes nothing on the host.
#
#   container_root          makes $work/ovl/root: an overlay of / over a tmpfs
#   container_nspawn ARGS   runs systemd-nspawn on it (LD_LIBRARY_PATH set when
#                           nspawn was unpacked rather than installed)
#   container_cleanup       unmounts (call from the EXIT trap)
#
# Needs $work (a directory of the caller's) and lib.sh's skip.  systemd-nspawn
# comes from the package systemd-container, installed or else unpacked from its
# Debian package (apt-get download, into $work) beside the test: nothing is
# installed on the host for it.

container_mounted=""
container_libpath=""
nspawn=""

container_root() {
    nspawn=$(command -v systemd-nspawn || true)
    if [ -z "$nspawn" ]; then
        mkdir -p "$work/pkg"
        (cd "$work/pkg" && apt-get download systemd-container libsystemd-shared >"$work/apt.log" 2>&1) \
            || skip "systemd-nspawn is not installed and apt-get download systemd-container failed"
        for p in "$work"/pkg/*.deb; do dpkg-deb -x "$p" "$work/pkg/root"; done
        nspawn=$work/pkg/root/usr/bin/systemd-nspawn
        container_libpath=$work/pkg/root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/systemd
    fi
    mkdir -p "$work/ovl"
    mount -t tmpfs -o size=2G tmpfs "$work/ovl" || skip "cannot mount a tmpfs"
    container_mounted="$work/ovl"
    mkdir "$work/ovl/upper" "$work/ovl/work" "$work/ovl/root"
    mount -t overlay overlay -o "lowerdir=/,upperdir=$work/ovl/upper,workdir=$work/ovl/work" "$work/ovl/root" \
        || skip "cannot mount an overlay of / (overlayfs)"
    container_mounted="$work/ovl/root $container_mounted"
    root=$work/ovl/root
}

container_nspawn() {
    LD_LIBRARY_PATH=$container_libpath "$nspawn" -D "$root" --register=no --keep-unit \
        --private-network "$@"
}

container_cleanup() {
    for m in $container_mounted; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    container_mounted=""
}
