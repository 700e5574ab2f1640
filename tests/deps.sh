#!/bin/sh
# Brings in the Debian packages that `make demo` or `make check` needs:
# installs them when run as root, otherwise says what to install.
#   tests/deps.sh build|demo|test|package
set -eu

build="gcc make pkg-config libinih-dev libcrypt-dev libmd-dev libsystemd-dev libssl-dev libseccomp-dev
       libarchive-dev libpam0g-dev"
demo="systemd"
tests="bats bats-support bats-assert curl lftp wget tnftp python3 openssl iproute2 procps passwd
       xinetd man-db mandoc haproxy strace
       libpam-modules db-util
       libnss-systemd
       clang libclang-rt-14-dev"
# make deb / make deb-check (tests/deb/run.sh): debian/control's
# Build-Depends are the build set, build-essential (gcc, make) and
# debhelper; the check also lints, launches and downloads
package="build-essential dpkg-dev debhelper fakeroot lintian git systemd curl"
# tests/42-upload-limits.bats: a real quota (EDQUOT) is a btrfs qgroup
tests="$tests btrfs-progs"
# tests/87-fail2ban.bats, tests/89-system-files.bats: Debian's fail2ban
# (with the journal reader) and logrotate on the shipped files
tests="$tests fail2ban python3-systemd logrotate"

case "${1:-build}" in
build) want=$build ;;
demo)  want="$build $demo" ;;
test)  want="$build $demo $tests" ;;
package) want="$build $package" ;;
*)     echo "usage: tests/deps.sh build|demo|test|package" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "tests/deps.sh: not a Debian system; make sure these are installed: $want" >&2
	exit 0
fi
missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "missing Debian packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing
}
