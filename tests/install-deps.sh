#!/bin/sh
# Installs the Debian packages listed in tests/debian-packages.txt that are not yet
# installed. Only root can; anyone else gets a list of what is missing, and the tests
# that need a missing tool say so and skip.
set -eu
here=$(dirname "$0")
missing=""
for pkg in $(grep -v '^#' "$here/debian-packages.txt" | tr -s ' \n' ' '); do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }
else
    echo "not root: cannot install$missing; tests needing them will be skipped" >&2
fi
