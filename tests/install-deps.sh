#!/bin/sh
# Installs the Debian packages listed in tests/debian-packages.txt that are not yet
# installed. Only root can; anyone else gets a list of what is missing, and the tests
# that need a missing tool say so and skip.
#
# They are test tools, not services for this host: some of them ship daemons
# (openbsd-inetd, fail2ban, krb5-kdc, krb5-admin-server), which the tests run
# themselves, in the foreground, on files of their own.  So nothing a package
# installed here ships is started now (policy-rc.d answers "no" while apt runs)
# or at the next boot (its units and init scripts are disabled): a mail host
# that runs `make test` does not find fail2ban reading its logs or a KDC
# starting afterwards.
set -eu
here=$(dirname "$0")
list=${1:-$here/debian-packages.txt}
missing=""
for pkg in $(grep -v '^#' "$list" | tr -s ' \n' ' '); do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "not root: cannot install$missing; tests needing them will be skipped" >&2
    exit 0
fi

before=$(dpkg-query -W -f='${Package} ${Status}\n' | sed -n 's/ install ok installed$//p' | sort)
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
    trap 'rm -f $policy' EXIT
    trap 'exit 130' INT TERM
    printf '#!/bin/sh\n# make deps (pullmail): no service starts while test tools install\nexit 101\n' >$policy
    chmod 755 $policy
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 \
    || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; }

# Every package new on this host (dependencies too): its services stay off.
after=$(dpkg-query -W -f='${Package} ${Status}\n' | sed -n 's/ install ok installed$//p' | sort)
new=$(printf '%s\n' "$after" | grep -vxF "$before" || true)
for pkg in $new; do
    dpkg-query -L "$pkg" 2>/dev/null | while read -r f; do
        case "$f" in
        /lib/systemd/system/*.service | /lib/systemd/system/*.socket | /lib/systemd/system/*.timer | \
            /usr/lib/systemd/system/*.service | /usr/lib/systemd/system/*.socket | /usr/lib/systemd/system/*.timer)
            u=$(basename "$f")
            case "$u" in *@.*) continue ;; esac
            if [ -d /run/systemd/system ]; then
                systemctl disable --quiet "$u" 2>/dev/null || true
            elif command -v deb-systemd-helper >/dev/null; then
                deb-systemd-helper disable "$u" >/dev/null 2>&1 || true
            fi
            ;;
        /etc/init.d/*)
            update-rc.d "$(basename "$f")" disable >/dev/null 2>&1 || true
            ;;
        esac
    done
done
[ -z "$new" ] || echo "installed, services left off: $(echo $new)"
