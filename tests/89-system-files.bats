#!/usr/bin/env bats
# The files a system keeps around cellftpd, run by the real tools:
# logrotate.d/cellftpd by logrotate, with sessions before, across and
# after a rotation; sysusers.d/cellftpd.conf by systemd-sysusers, and
# tmpfiles.d/cellftpd.conf by systemd-tmpfiles, on a root of their own.

load helper

CONFDIR="$BATS_TEST_DIRNAME/../conf"

setup() {
	T=$BATS_TEST_TMPDIR
	chmod 755 "$T"
}

cleanup() {
	[ -n "${HELD:-}" ] && kill "$HELD" 2>/dev/null
	if [ -n "${PRELOGIN:-}" ]; then
		userdel "$PRELOGIN" >/dev/null 2>&1
		groupdel "$PRELOGIN" >/dev/null 2>&1
	fi
	return 0
}

# write_alice_conf [SERVER-LINE]...: $CONF with alice (password pw, root
# $ROOT), logging to stderr, this file's passive ports and the lines
# given in [server]
write_alice_conf() {
	local extra
	extra=$(printf '%s\n' "$@")
	write_conf <<-EOF
	[server]
	log = stderr
	$extra
	passive_ports = $((PASSIVE_BASE + 7300))-$((PASSIVE_BASE + 7399))
	[user alice]
	password = pw
	root = $ROOT
	EOF
}

# xferlog_has FILE PATH: FILE has a complete download line of PATH
xferlog_has() {
	grep -qE " [0-9]+ $2 b _ o r alice ftp 0 \* c$" "$1"
}

@test "logrotate rotates the xferlog with no signal: later sessions write the new file, a running one the rotated file" {
	require_root
	make_root
	for f in before held-1 held-2 after; do echo "$f" >"$ROOT/$f.txt"; done
	chmod a+r "$ROOT"/*
	mkdir -m 755 "$T/log"
	XFERLOG="$T/log/cellftpd.xferlog"
	write_alice_conf "xferlog = $XFERLOG"
	start_server
	# the shipped file, on this test's log
	grep -qF /var/log/cellftpd.xferlog "$CONFDIR/logrotate.d/cellftpd"
	sed "s|/var/log/cellftpd.xferlog|$XFERLOG|" "$CONFDIR/logrotate.d/cellftpd" >"$T/logrotate.conf"
	run ftp_curl -u alice:pw before.txt
	assert_output before
	# a session that stays logged in across the rotation
	python3 - "$PORT" "$T" >"$T/held.out" 2>&1 <<-'PY' &
	import ftplib, os, sys, time
	port, t = int(sys.argv[1]), sys.argv[2]
	c = ftplib.FTP()
	c.connect("127.0.0.1", port, timeout=20)
	c.login("alice", "pw")
	c.retrbinary("RETR held-1.txt", lambda b: None)
	open(t + "/held-1.done", "w").close()
	for _ in range(200):
	    if os.path.exists(t + "/rotated"):
	        break
	    time.sleep(0.05)
	c.retrbinary("RETR held-2.txt", lambda b: None)
	c.quit()
	print("held done")
	PY
	HELD=$!
	for _ in $(seq 100); do [ -e "$T/held-1.done" ] && break; sleep 0.05; done
	[ -e "$T/held-1.done" ]
	run logrotate -f -s "$T/state" "$T/logrotate.conf"
	assert_success
	touch "$T/rotated"
	wait "$HELD"
	HELD=
	run cat "$T/held.out"
	assert_output "held done"
	run ftp_curl -u alice:pw after.txt
	assert_output after
	# the new file: created by logrotate as the file says, then only the
	# line of the session that started after the rotation
	run stat -c '%a %U %G' "$XFERLOG"
	assert_output "640 root adm"
	run wc -l <"$XFERLOG"
	assert_output 1
	xferlog_has "$XFERLOG" /after.txt
	# the rotated file: the lines before it, and the running session's
	# last one, uncompressed (delaycompress)
	run wc -l <"$XFERLOG.1"
	assert_output 3
	xferlog_has "$XFERLOG.1" /before.txt
	xferlog_has "$XFERLOG.1" /held-1.txt
	xferlog_has "$XFERLOG.1" /held-2.txt
	# the next rotation compresses it
	run logrotate -f -s "$T/state" "$T/logrotate.conf"
	assert_success
	run zcat "$XFERLOG.2.gz"
	assert_line --index 0 --regexp " /before\.txt b _ o r alice "
	assert_equal "${#lines[@]}" 3
	xferlog_has "$XFERLOG.1" /after.txt
}

# SYS_UID_MAX of /etc/login.defs (999 when it is left commented out)
sys_uid_max() {
	awk '$1 == "SYS_UID_MAX" { v = $2 } END { print v ? v : 999 }' /etc/login.defs
}

@test "systemd-sysusers creates the cellftpd and ftp system accounts, locked, with nologin" {
	require_root
	R="$T/sysroot"
	mkdir -p "$R/etc"
	run systemd-sysusers --root="$R" "$(realpath "$CONFDIR/sysusers.d/cellftpd.conf")"
	assert_success
	run cat "$R/etc/passwd"
	assert_equal "${#lines[@]}" 2
	assert_line --regexp '^cellftpd:x:[0-9]+:[0-9]+:cellftpd pre-login:/:/usr/sbin/nologin$'
	assert_line --regexp '^ftp:x:[0-9]+:[0-9]+:FTP anonymous:/srv/ftp:/usr/sbin/nologin$'
	local max name uid gid
	max=$(sys_uid_max)
	for name in cellftpd ftp; do
		IFS=: read -r _ _ uid gid _ < <(grep "^$name:" "$R/etc/passwd")
		# a system account, with a group of its own of the same number
		[ "$uid" -ge 1 ] && [ "$uid" -le "$max" ]
		run grep "^$name:" "$R/etc/group"
		assert_output "$name:x:$gid:"
		[ "$gid" -eq "$uid" ]
		# no password can ever match
		run grep "^$name:" "$R/etc/shadow"
		assert_output --regexp "^$name:!\*:"
	done
	[ "$(grep -c ':' "$R/etc/group")" -eq 2 ]
}

@test "systemd-sysusers leaves an ftp account that exists (Debian's vsftpd makes one) as it is" {
	require_root
	R="$T/sysroot"
	mkdir -p "$R/etc"
	echo "ftp:x:120:65534::/srv/ftp:/usr/sbin/nologin" >"$R/etc/passwd"
	echo "nogroup:x:65534:" >"$R/etc/group"
	run systemd-sysusers --root="$R" "$(realpath "$CONFDIR/sysusers.d/cellftpd.conf")"
	assert_success
	run grep -c '^ftp:' "$R/etc/passwd"
	assert_output 1
	run grep '^ftp:' "$R/etc/passwd"
	assert_output "ftp:x:120:65534::/srv/ftp:/usr/sbin/nologin"
	run grep -c '^cellftpd:' "$R/etc/passwd"
	assert_output 1
}

@test "the sysusers account serves as unprivileged_user: the pre-login process runs as it" {
	require_root
	# the shipped line under a test name, created on this machine and
	# removed again by cleanup
	PRELOGIN=${ACCOUNT_PREFIX}s-prelogin
	userdel "$PRELOGIN" >/dev/null 2>&1 || true
	groupdel "$PRELOGIN" >/dev/null 2>&1 || true
	grep -q '^u cellftpd ' "$CONFDIR/sysusers.d/cellftpd.conf"
	sed -n "s/^u cellftpd /u $PRELOGIN /p" "$CONFDIR/sysusers.d/cellftpd.conf" >"$T/sysusers.conf"
	run systemd-sysusers "$T/sysusers.conf"
	assert_success
	run getent passwd "$PRELOGIN"
	assert_output --regexp "^$PRELOGIN:x:[0-9]+:[0-9]+:cellftpd pre-login:/:/usr/sbin/nologin$"
	make_root
	echo data >"$ROOT/f.txt"
	chmod a+r "$ROOT/f.txt"
	write_alice_conf "unprivileged_user = $PRELOGIN"
	start_server
	python3 "$FTPCHAT" "$PORT" "USER alice" "sleep:2" >/dev/null &
	HELD=$!
	run wait_session_tree
	assert_equal "${#lines[@]}" 2
	read -r _ child_uid <<<"${lines[1]}"
	assert_equal "$child_uid" "$(id -u "$PRELOGIN")"
	wait "$HELD"
	HELD=
	run ftp_curl -u alice:pw f.txt
	assert_output data
}

@test "systemd-tmpfiles makes /run/cellftpd and the pre-login chroot, owned by root, and mends their mode" {
	require_root
	R="$T/tmproot"
	mkdir -p "$R"
	file=$(realpath "$CONFDIR/tmpfiles.d/cellftpd.conf")
	run systemd-tmpfiles --create --root="$R" "$file"
	assert_success
	run stat -c '%n %F %a %U %G' "$R/run/cellftpd" "$R/run/cellftpd/empty"
	assert_output "$R/run/cellftpd directory 755 root root
$R/run/cellftpd/empty directory 755 root root"
	# a chroot someone made writable, which cellftpd would refuse
	chmod 777 "$R/run/cellftpd/empty"
	chown nobody "$R/run/cellftpd/empty"
	run systemd-tmpfiles --create --root="$R" "$file"
	assert_success
	run stat -c '%a %U %G' "$R/run/cellftpd/empty"
	assert_output "755 root root"
}

@test "make install runs systemd-sysusers and systemd-tmpfiles on the files it installed, only without DESTDIR" {
	# the two tools as stand-ins that say how they were called: the real
	# ones would make the accounts on this machine
	mkdir -p "$T/bin"
	for tool in systemd-sysusers systemd-tmpfiles; do
		printf '#!/bin/sh\necho "%s $*" >>"%s"\n' "$tool" "$T/calls" >"$T/bin/$tool"
		chmod 755 "$T/bin/$tool"
	done
	repo="$BATS_TEST_DIRNAME/.."
	run env PATH="$T/bin:$PATH" make -s -C "$repo" install PREFIX="$T/usr" SYSCONFDIR="$T/etc"
	assert_success
	run cat "$T/calls"
	assert_output "systemd-sysusers $T/usr/lib/sysusers.d/cellftpd.conf
systemd-tmpfiles --create $T/usr/lib/tmpfiles.d/cellftpd.conf"
	cmp "$T/usr/lib/sysusers.d/cellftpd.conf" "$CONFDIR/sysusers.d/cellftpd.conf"
	cmp "$T/usr/lib/tmpfiles.d/cellftpd.conf" "$CONFDIR/tmpfiles.d/cellftpd.conf"
	# no fail2ban here: its files stay out
	[ ! -e "$T/etc/fail2ban" ]
	rm "$T/calls"
	run env PATH="$T/bin:$PATH" make -s -C "$repo" install DESTDIR="$T/dest" PREFIX=/usr
	assert_success
	[ ! -e "$T/calls" ]
	[ -e "$T/dest/usr/lib/sysusers.d/cellftpd.conf" ]
}
