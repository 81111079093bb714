#!/bin/sh
# make e2e: the end-to-end tests of the distribution, in order: install and
# uninstall into a scratch directory, make demo with the commands it prints,
# (as root) the packages with real clients through inetd and xinetd, and (as
# root) two back ends behind nginx's mail proxy (users over several hosts).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/install-test.sh"
sh "$here/demo-test.sh"
sh "$here/package.sh"
sh "$here/cluster-test.sh"
