#!/bin/sh
# make deb-check: the Debian package, built, linted, installed, used and
# purged on this machine, as root.
#   tests/deb/run.sh          the whole check; last line
#                             "deb-check: N passed, N failed"
#   tests/deb/run.sh build    only build it, into build-deb/ (make deb)
# The package is built with dpkg-buildpackage from a fresh clone of the
# repository's HEAD (what is committed, not the work tree), so the check
# sees what a clean clone of main builds.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
mode=${1:-check}

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
notok() { fail=$((fail + 1)); echo "not ok - $*"; }
# check NAME COMMAND...: one assertion
check() {
	name=$1
	shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}
# none COMMAND...: COMMAND prints nothing (what it prints is shown)
none() {
	"$@" >"$work/none.out" 2>/dev/null || true
	[ ! -s "$work/none.out" ] || { sed 's/^/# found: /' "$work/none.out"; return 1; }
}
# say_why LOG COMMAND...: COMMAND succeeds, else LOG is shown
say_why() {
	log=$1
	shift
	"$@" >>"$log" 2>&1 || { sed 's/^/# /' "$log"; return 1; }
}
same_sum() { [ -f "$2" ] && [ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ]; }
no_lintian_error() { [ "$1" -eq 0 ] && ! grep -q '^E: ' "$2"; }
# shipped -f|-d PATH: dpkg -L lists PATH and it is a file (directory)
shipped() { grep -qx "$2" "$work/files" && test "$1" "$2"; }
all_exist() {
	while read -r p; do
		[ "$p" != /. ] || continue
		[ -e "$p" ] || { echo "# missing: $p"; return 1; }
	done <"$work/files"
}
# after the purge: every path dpkg -L listed is gone, but for
# directories another package has
nothing_left() {
	while read -r p; do
		[ "$p" != /. ] || continue
		[ -e "$p" ] || [ -L "$p" ] || continue
		# (a directory, or /lib as a link to one on merged-/usr systems)
		if [ -d "$p" ] && dpkg-query -S "$p" >/dev/null 2>&1; then
			continue
		fi
		echo "# left: $p"
		return 1
	done <"$work/files"
}
die() {
	echo "deb-check: $*" >&2
	notok "$*"
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "deb-check: must run as root (it installs and purges the package)" >&2
	exit 1
fi

work=$(mktemp -d /tmp/cellftpd-deb.XXXXXX)
# there while the package this script installed is: a package without
# it is the administrator's, which this script never purges
marker=/var/lib/cellftpd-deb-check.installed
launcher=""
installed=""
cleanup() {
	rc=$?
	if [ -n "$launcher" ]; then
		pkill -P "$launcher" 2>/dev/null || true
		kill "$launcher" 2>/dev/null || true
		wait "$launcher" 2>/dev/null || true
	fi
	rm -f /etc/cellftpd.conf.d/deb-check.conf
	if [ -n "$installed" ]; then
		dpkg --purge cellftpd >/dev/null 2>&1 || true
		if dpkg-query -W -f='${Status}' cellftpd 2>/dev/null | grep -qv 'not-installed'; then
			echo "deb-check: the package cellftpd is still installed: dpkg --purge cellftpd" >&2
			rc=1
		else
			rm -f "$marker"
		fi
	fi
	rm -rf "$work"
	if [ "$mode" = check ]; then
		echo "deb-check: $pass passed, $fail failed"
		[ "$fail" -eq 0 ] || rc=1
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- build -----------------------------------------------------------
git clone -q "$repo" "$work/src" || die "cannot clone $repo"
version=$(dpkg-parsechangelog -l "$work/src/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
deb="$work/cellftpd_${version}_$arch.deb"

(cd "$work/src" && dpkg-checkbuilddeps) ||
	die "build dependencies missing: tests/deps.sh package must install debian/control's Build-Depends"
echo "# dpkg-buildpackage -us -uc -b (log: build.log)"
if ! (cd "$work/src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	tail -40 "$work/build.log" >&2
	die "dpkg-buildpackage -us -uc -b failed"
fi
ok "dpkg-buildpackage -us -uc -b builds $(basename "$deb")"

if [ "$mode" = build ]; then
	mkdir -p "$repo/build-deb"
	cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$repo/build-deb/"
	echo "deb: build-deb/cellftpd_${version}_$arch.deb"
	exit 0
fi

# lintian on the binary upload and on the source package (built from a
# second clean clone): no error; warnings and notes are printed
git clone -q "$repo" "$work/srcpkg" || die "cannot clone $repo"
if ! (cd "$work/srcpkg" && dpkg-buildpackage -us -uc -S -d) >"$work/source.log" 2>&1; then
	tail -40 "$work/source.log" >&2
	die "dpkg-buildpackage -S failed"
fi
for changes in "$work/cellftpd_${version}_$arch.changes" "$work/cellftpd_${version}_source.changes"; do
	# exit 0: no error; 1: errors; 2 and up: lintian itself failed
	lrc=0
	lintian --pedantic --display-info "$changes" >"$work/lintian.log" 2>&1 || lrc=$?
	grep -E '^[A-Z]: ' "$work/lintian.log" | sed 's/^/# lintian: /' || true
	[ "$lrc" -lt 2 ] || { cat "$work/lintian.log" >&2; die "lintian failed on $(basename "$changes")"; }
	check "lintian finds no error in $(basename "$changes")" \
		no_lintian_error "$lrc" "$work/lintian.log"
done

# --- install ---------------------------------------------------------
# A package left by an interrupted run goes first; files of a
# "make install" are someone's and stay untouched.
if dpkg-query -W -f='${Status}' cellftpd 2>/dev/null | grep -qv 'not-installed'; then
	[ -e "$marker" ] || die "a cellftpd package is installed here, not by deb-check: run it elsewhere"
	echo "# purging the cellftpd package an earlier run left"
	dpkg --purge cellftpd >/dev/null
	rm -f "$marker"
fi
for f in /etc/cellftpd.conf /usr/sbin/cellftpd /usr/local/sbin/cellftpd /etc/pam.d/cellftpd; do
	[ ! -e "$f" ] || die "$f exists outside the package (make install?); remove it or run elsewhere"
done

# an account cellftpd of before stays after the purge; one the package
# made goes
had_account=$(getent passwd cellftpd || true)

# sessions make /run/cellftpd when it is missing: gone, it shows that
# the package's tmpfiles.d entry made it
rm -rf /run/cellftpd

# its dependencies from the archive first, then dpkg -i alone
deps=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep -v '^$' | tr '\n' ' ')
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # one word per package
apt-get install -y -qq --no-install-recommends $deps >"$work/apt.log" 2>&1 || {
	apt-get update -qq >>"$work/apt.log" 2>&1
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $deps >>"$work/apt.log" 2>&1
} || { cat "$work/apt.log" >&2; die "apt-get install $deps failed"; }
installed=yes
: >"$marker"
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; die "dpkg -i $(basename "$deb") failed"; }
ok "dpkg -i installs it (with its Depends: $deps)"

dpkg -L cellftpd >"$work/files"
# what the package ships, as installed
for f in /usr/sbin/cellftpd /usr/sbin/cellftpd-migrate \
	/usr/share/man/man8/cellftpd.8.gz /usr/share/man/man5/cellftpd.conf.5.gz \
	/usr/share/man/man8/cellftpd-migrate.8.gz \
	/lib/systemd/system/cellftpd.socket /lib/systemd/system/cellftpd@.service \
	/lib/systemd/system/cellftps.socket /lib/systemd/system/cellftps@.service \
	/etc/cellftpd.conf /etc/pam.d/cellftpd \
	/etc/xinetd.d/cellftpd /etc/xinetd.d/cellftps \
	/etc/fail2ban/filter.d/cellftpd.conf /etc/fail2ban/jail.d/cellftpd.conf \
	/etc/logrotate.d/cellftpd \
	/usr/lib/sysusers.d/cellftpd.conf /usr/lib/tmpfiles.d/cellftpd.conf \
	/usr/share/doc/cellftpd/copyright /usr/share/doc/cellftpd/README.md.gz \
	/usr/share/doc/cellftpd/examples/haproxy.cfg; do
	check "installs $f" shipped -f "$f"
done
check "installs the directory /etc/cellftpd.conf.d" shipped -d /etc/cellftpd.conf.d
check "every path of dpkg -L exists" all_exist

dpkg-query -W -f='${Conffiles}\n' cellftpd >"$work/conffiles"
for f in /etc/cellftpd.conf /etc/pam.d/cellftpd /etc/xinetd.d/cellftpd /etc/xinetd.d/cellftps \
	/etc/logrotate.d/cellftpd /etc/fail2ban/jail.d/cellftpd.conf; do
	check "$f is a conffile" grep -q "^ $f [0-9a-f]*\$" "$work/conffiles"
done
check "/etc/cellftpd.conf is mode 600 root:root" \
	[ "$(stat -c '%a %U:%G' /etc/cellftpd.conf)" = "600 root:root" ]
for f in /etc/xinetd.d/cellftpd /etc/xinetd.d/cellftps; do
	check "$f ships disabled" grep -Eq '^[[:space:]]*disable[[:space:]]*=[[:space:]]*yes' "$f"
done

wants=/etc/systemd/system/sockets.target.wants
check "cellftpd.socket is enabled" \
	[ "$(readlink "$wants/cellftpd.socket")" = /lib/systemd/system/cellftpd.socket ]
check "cellftps.socket is not enabled (it needs a certificate)" test ! -e "$wants/cellftps.socket"
check "no @ template is enabled" none find /etc/systemd/system -name 'cellftp*@*'

check "the pre-login account cellftpd exists (home /, no shell)" \
	[ "$(getent passwd cellftpd | cut -d: -f6-)" = "/:/usr/sbin/nologin" ]
check "the anonymous account ftp exists" eval 'getent passwd ftp >/dev/null'
check "/run/cellftpd/empty exists, mode 755 root (tmpfiles.d)" \
	[ "$(stat -c '%a %U' /run/cellftpd /run/cellftpd/empty 2>&1)" = "755 root
755 root" ]

check "cellftpd -V prints the package's version" [ "$(/usr/sbin/cellftpd -V)" = "cellftpd $version" ]
zcat /usr/share/man/man8/cellftpd.8.gz >"$work/page"
check "man page cellftpd.8 names /usr/sbin/cellftpd" grep -q /usr/sbin/cellftpd "$work/page"
for page in man8/cellftpd.8 man5/cellftpd.conf.5 man8/cellftpd-migrate.8; do
	zcat "/usr/share/man/$page.gz" >"$work/page" 2>/dev/null || true
	check "man page ${page#*/} never names /usr/local/sbin" none grep /usr/local/sbin "$work/page"
done

# --- a login through the installed configuration ---------------------
# The command line of the installed unit, behind systemd's launcher as
# the socket runs it, with the shipped /etc/cellftpd.conf and one
# drop-in that adds an anonymous user.
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/cellftpd@.service)
check "the unit runs /usr/sbin/cellftpd -c /etc/cellftpd.conf" \
	[ "$exec_start" = "/usr/sbin/cellftpd -c /etc/cellftpd.conf" ]
tree="$work/tree"
mkdir -p "$tree/pub"
chmod 755 "$work" "$tree" "$tree/pub"
head -c 300000 /dev/urandom >"$tree/pub/file.bin"
chmod 644 "$tree/pub/file.bin"
mkdir -p /etc/cellftpd.conf.d
(umask 077 && cat >/etc/cellftpd.conf.d/deb-check.conf <<EOF
[user anonymous]
system_user = ftp
root = $tree
EOF
)
check "cellftpd -t accepts /etc/cellftpd.conf with the drop-in" \
	say_why "$work/t.log" /usr/sbin/cellftpd -t -c /etc/cellftpd.conf

port=""
for _ in 1 2 3 4 5; do
	p=$(shuf -i 20000-59999 -n 1)
	ss -Hltn "sport = :$p" | grep -q . && continue
	# shellcheck disable=SC2086 # the unit's command line, word by word
	systemd-socket-activate --accept --inetd -l "127.0.0.1:$p" $exec_start \
		2>>"$work/launcher.log" 3>&- &
	launcher=$!
	i=0
	while [ $i -lt 50 ]; do
		if ss -Hltn "sport = :$p" | grep -q LISTEN; then port=$p; break 2; fi
		kill -0 "$launcher" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	kill "$launcher" 2>/dev/null || true
	wait "$launcher" 2>/dev/null || true
	launcher=""
done
[ -n "$port" ] || { cat "$work/launcher.log" >&2; die "systemd-socket-activate did not listen"; }

curl -sS --max-time 30 -o "$work/got.bin" "ftp://127.0.0.1:$port/pub/file.bin" 2>"$work/curl.log" || true
check "an anonymous login downloads a file through the installed configuration" \
	say_why "$work/curl.log" same_sum "$tree/pub/file.bin" "$work/got.bin"
# the session ends after curl's QUIT: wait for it (5 s at most), so that
# nothing of the package runs during the purge
i=0
while [ $i -lt 50 ] && pgrep -P "$launcher" >/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
check "the session ended after QUIT" none pgrep -P "$launcher"
pkill -P "$launcher" 2>/dev/null || true
kill "$launcher" 2>/dev/null || true
wait "$launcher" 2>/dev/null || true
launcher=""
rm -f /etc/cellftpd.conf.d/deb-check.conf

# --- install again, over an edited configuration ---------------------
# as an upgrade does: the administrator's edits and mode stay, nothing
# is asked, and the accounts and the enabled socket are as they were
echo "# edited by deb-check" >>/etc/cellftpd.conf
sed -i 's/^\([[:space:]]*disable[[:space:]]*=[[:space:]]*\)yes/\1no/' /etc/xinetd.d/cellftpd
dpkg -i "$deb" </dev/null >"$work/dpkg2.log" 2>&1 ||
	{ cat "$work/dpkg2.log" >&2; die "a second dpkg -i $(basename "$deb") failed"; }
ok "dpkg -i again over an edited configuration"
check "the edited /etc/cellftpd.conf is kept" \
	[ "$(tail -1 /etc/cellftpd.conf)" = "# edited by deb-check" ]
check "/etc/cellftpd.conf is still mode 600 root:root" \
	[ "$(stat -c '%a %U:%G' /etc/cellftpd.conf)" = "600 root:root" ]
check "the edited xinetd entry is kept" \
	grep -Eq '^[[:space:]]*disable[[:space:]]*=[[:space:]]*no' /etc/xinetd.d/cellftpd
check "no .dpkg-new or .dpkg-old file is left" \
	none find /etc -maxdepth 3 -name '*cellftp*.dpkg-*'
check "cellftpd.socket is still enabled" \
	[ "$(readlink "$wants/cellftpd.socket")" = /lib/systemd/system/cellftpd.socket ]
check "the pre-login account cellftpd is still there" eval 'getent passwd cellftpd >/dev/null'

# --- purge -----------------------------------------------------------
# Nothing of the package stays: none of its files, no directory of its
# own, no configuration, no /run/cellftpd, no account cellftpd, no
# enabled socket, no trace in systemd's or dpkg's state. (The account
# ftp stays: other FTP servers share it.)
dpkg --purge cellftpd >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; die "dpkg --purge cellftpd failed"; }
installed=""
rm -f "$marker"
ok "dpkg --purge cellftpd"
check "dpkg --purge warns of nothing" say_why "$work/purge.log" none grep -i warning "$work/purge.log"
check "no file of the package is left" nothing_left
check "no /etc/cellftpd*" none find /etc -maxdepth 1 -name 'cellftpd*'
check "no /run/cellftpd" none find /run/cellftpd
if [ -z "$had_account" ]; then
	check "no account cellftpd" none getent passwd cellftpd
	check "no group cellftpd" none getent group cellftpd
else
	check "the account cellftpd of before is kept" [ "$(getent passwd cellftpd || true)" = "$had_account" ]
fi
check "no /var/lib/cellftpd" [ ! -e /var/lib/cellftpd ]
check "no enabled socket" none find /etc/systemd -name 'cellftp*'
check "no deb-systemd-helper state" none find /var/lib/systemd -name '*cellftp*'
check "dpkg keeps nothing of it" none find /var/lib/dpkg/info -name 'cellftpd.*'
