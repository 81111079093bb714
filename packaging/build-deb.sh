#!/bin/sh
# make deb: builds pullmail_VERSION_ARCH.deb into DISTDIR (argument 1).
#
# dpkg-buildpackage wants debian/ at the top of the source tree, and the tree
# is kept free of build products; so the sources are copied to
# $CARGO_TARGET_DIR/deb-build/pullmail-VERSION/ and packaging/debian becomes
# its debian/.  `make deb` has built the servers in the tree already; the
# package takes those binaries from the same cargo target directory
# (PULLMAIL_PREBUILT, see debian/rules).  Needs dpkg-dev and debhelper; -d
# because cargo comes from rustup, not from a Debian package.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
distdir=${1:?usage: build-deb.sh DISTDIR}
target=${CARGO_TARGET_DIR:-$here/target}
version=$(dpkg-parsechangelog -l "$here/packaging/debian/changelog" -S Version)
cargo_version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -n 1)
[ "$version" = "$cargo_version" ] || {
    echo "packaging/debian/changelog says $version, Cargo.toml $cargo_version" >&2; exit 1; }
for tool in dpkg-buildpackage dh; do
    command -v $tool >/dev/null 2>&1 || {
        echo "make deb needs $tool (apt-get install dpkg-dev debhelper)" >&2; exit 1; }
done

build=$target/deb-build
src=$build/pullmail-$version
rm -rf "$build"
mkdir -p "$src" "$distdir"
# The tracked and new files of a git checkout, else everything but target/.
if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$here" && git ls-files -z --cached --others --exclude-standard) \
        | (cd "$here" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh) \
        | tar -C "$here" -cf - -T - | tar -C "$src" -xf -
else
    tar -C "$here" --exclude=./target --exclude=./.git -cf - . | tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -r "$here/packaging/debian" "$src/debian"

export CARGO_TARGET_DIR="$target"
# Built by `make deb` already (see debian/rules).
export PULLMAIL_PREBUILT=1
(cd "$src" && dpkg-buildpackage -b -uc -us -d)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=pullmail_${version}_${arch}.deb
mv "$build/$deb" "$distdir/$deb"
echo "built $distdir/$deb"
