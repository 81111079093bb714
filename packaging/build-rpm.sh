#!/bin/sh
# make rpm: builds pullmail-VERSION-RELEASE.ARCH.rpm into DISTDIR (argument 1)
# with rpmbuild, from a tarball of the source tree, in
# $CARGO_TARGET_DIR/rpm-build, taking the servers `make rpm` has built in the
# tree from the same cargo target directory (PULLMAIL_PREBUILT, see the spec).
# On Debian the package rpm provides rpmbuild; --nodeps because the build
# requirements are Debian packages there, which rpm's database does not know.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
distdir=${1:?usage: build-rpm.sh DISTDIR}
target=${CARGO_TARGET_DIR:-$here/target}
spec=$here/packaging/rpm/pullmail.spec
command -v rpmbuild >/dev/null 2>&1 || {
    echo "make rpm needs rpmbuild (Debian: apt-get install rpm)" >&2; exit 1; }
version=$(sed -n 's/^Version: *//p' "$spec")
cargo_version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$here/Cargo.toml" | head -n 1)
[ "$version" = "$cargo_version" ] || {
    echo "pullmail.spec says $version, Cargo.toml $cargo_version" >&2; exit 1; }

top=$target/rpm-build
rm -rf "$top"
mkdir -p "$top/SOURCES" "$top/stage/pullmail-$version" "$distdir"
stage=$top/stage/pullmail-$version
# The tracked and new files of a git checkout, else everything but target/.
if git -C "$here" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$here" && git ls-files -z --cached --others --exclude-standard) \
        | (cd "$here" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh) \
        | tar -C "$here" -cf - -T - | tar -C "$stage" -xf -
else
    tar -C "$here" --exclude=./target --exclude=./.git -cf - . | tar -C "$stage" -xf -
fi
tar -C "$top/stage" -czf "$top/SOURCES/pullmail-$version.tar.gz" "pullmail-$version"

# PULLMAIL_PREBUILT: `make rpm` built the servers already (see the spec).
CARGO_TARGET_DIR=$target PULLMAIL_PREBUILT=1 rpmbuild -bb --nodeps \
    --define "_topdir $top" \
    --define "_build_id_links none" \
    "$spec"
find "$top/RPMS" -name 'pullmail-*.rpm' -exec mv {} "$distdir/" \; -exec sh -c \
    'echo "built '"$distdir"'/$(basename "$1")"' sh {} \;
