#!/usr/bin/env bats
# The fail2ban filter and jails of conf/fail2ban/, with Debian's
# fail2ban: a real server logs failed logins, a refused PORT bounce and a
# refused passive hijack through syslog and through a real journald,
# each inside a private mount namespace (so nothing of the machine is
# touched), and fail2ban-regex must find exactly those, with the address
# to ban, and no successful login; from the journal only lines of
# processes in cellftpd's control groups (made by the test in the
# cgroup2 hierarchy and removed again), not a local user's forgeries.

load helper

# passive ports of this file's own in the test range (helper.bash)
RANGE_LO=$((PASSIVE_BASE + 7200)) RANGE_HI=$((PASSIVE_BASE + 7299))

setup() {
	require_root
	make_root
	echo hello >"$ROOT/f.txt"
	# a file whose name reads like a failure: its download must not match
	echo bait >"$ROOT/a 10.6.6.6 x: login failed: b"
	chmod a+r "$ROOT"/*
	T=$BATS_TEST_TMPDIR
	# fail2ban's own configuration with the shipped files and no other
	# jail (Debian's sshd jail wants /var/log/auth.log)
	F2B="$T/fail2ban"
	cp -a /etc/fail2ban "$F2B"
	rm -f "$F2B"/jail.d/*
	cp "$BATS_TEST_DIRNAME/../conf/fail2ban/filter.d/cellftpd.conf" "$F2B/filter.d/"
	cp "$BATS_TEST_DIRNAME/../conf/fail2ban/jail.d/cellftpd.conf" "$F2B/jail.d/"
}

cleanup() {
	local f
	for f in "$T"/*.pid; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	# the control groups of the journal's test, once their processes
	# are gone (the parents only when no other run uses them)
	for f in ${CGROUPS:-}; do
		for _ in $(seq 100); do
			[ -n "$(cat "$f/cgroup.procs" 2>/dev/null)" ] || break
			sleep 0.05
		done
		rmdir "$f" 2>/dev/null
		rmdir "${f%/*}" 2>/dev/null
		rmdir "${f%/*/*}" 2>/dev/null
	done
	return 0
}

# cgroup_dir UNIT-PATH: the directory of the control group UNIT-PATH
# (as in /proc/PID/cgroup, under system.slice) in the hierarchy that
# journald reads _SYSTEMD_UNIT and _SYSTEMD_SLICE from: the cgroup2
# one, /sys/fs/cgroup/unified beside v1's (hybrid, as here) or
# /sys/fs/cgroup itself; made, and removed by cleanup
cgroup_dir() {
	local top=/sys/fs/cgroup
	[ "$(stat -f -c %T "$top/unified" 2>/dev/null)" = cgroup2fs ] && top=$top/unified
	[ "$(stat -f -c %T "$top")" = cgroup2fs ] || {
		echo "no cgroup2 hierarchy at /sys/fs/cgroup or /sys/fs/cgroup/unified" >&2
		return 1
	}
	mkdir -p "$top/$1"
	CGROUPS="${CGROUPS:-} $top/$1"
	CGDIR=$top/$1
}

# in_cgroup UNIT-PATH COMMAND [ARGS...]: COMMAND (a function of this
# file too) in that control group
in_cgroup() {
	local path=$1
	shift
	cgroup_dir "$path" || return 1
	(
		sh -c 'echo $PPID >"$1/cgroup.procs"' sh "$CGDIR"
		"$@"
	)
}

# forge_syslog NAME MESSAGE: MESSAGE to the namespace's syslog socket as
# "cellftpd", by nobody, from a process named NAME (unless empty)
forge_syslog() {
	inside setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/python3 - "$1" "$2" <<-'PY'
	import ctypes, syslog, sys, time
	if sys.argv[1]:
	    ctypes.CDLL(None).prctl(15, sys.argv[1].encode())	# PR_SET_NAME
	syslog.openlog("cellftpd", syslog.LOG_PID, 11 << 3)	# LOG_FTP
	syslog.syslog(syslog.LOG_WARNING, sys.argv[2])
	time.sleep(0.5)	# alive while journald reads its /proc entries
	PY
}

# into_cgroup UNIT-PATH PID: PID into that control group, and with it
# every process it starts from now on
into_cgroup() {
	cgroup_dir "$1" && echo "$2" >"$CGDIR/cgroup.procs"
}

# namespace syslog|journal: /dev and /run of its own, with a syslog
# listener on /dev/log, or the real systemd-journald (volatile, in
# /run/log/journal) with /dev/log its syslog socket. Sets HOLDER.
namespace() {
	cat >"$T/listen.py" <<-'PY'
	# what Debian's rsyslog makes of a datagram in /var/log/syslog (every
	# facility but auth and authpriv): bookworm's traditional format, and
	# the RFC 3339 one of newer releases
	import datetime, os, re, socket, sys
	path, trad, rfc = sys.argv[1:4]
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(path)
	os.chmod(path, 0o666)
	host = socket.gethostname().split(".")[0]
	with open(trad, "ab", 0) as t, open(rfc, "ab", 0) as r:
	    while True:
	        d = s.recv(65536).decode("utf-8", "replace").rstrip("\n")
	        m = re.match(r"<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (.*)$", d, re.S)
	        if not m or int(m[1]) >> 3 in (4, 10):
	            continue
	        now = datetime.datetime.now().astimezone().isoformat(timespec="microseconds")
	        t.write(f"{m[2]} {host} {m[3]}\n".encode())
	        r.write(f"{now} {host} {m[3]}\n".encode())
	PY
	{ ns_private_dev_run; cat <<-'SH'; } >"$T/ns.sh"
	mkdir -p /run/systemd/journald.conf.d
	if [ "$2" = syslog ]; then
		python3 "$T/listen.py" /dev/log "$T/syslog" "$T/syslog-rfc3339" &
		echo $! >"$T/listen.pid"
		while [ ! -S /dev/log ]; do sleep 0.05; done
	else
		# volatile (and a private /var/log/journal all the same), no
		# kernel log, and Audit= empty: Debian's default would switch the
		# kernel's auditing off, for the whole machine
		[ ! -d /var/log/journal ] || mount -t tmpfs tmpfs /var/log/journal
		printf '%s\n' '[Journal]' Storage=volatile ReadKMsg=no Audit= ForwardToSyslog=no \
			ForwardToKMsg=no ForwardToConsole=no ForwardToWall=no RateLimitBurst=0 \
			>/run/systemd/journald.conf.d/zz-cellftpd-test.conf
		ln -s /run/systemd/journal/dev-log /dev/log
		/lib/systemd/systemd-journald >"$T/journald.out" 2>&1 &
		echo $! >"$T/journald.pid"
		while [ ! -S /run/systemd/journal/socket ] || [ ! -S /dev/log ]; do
			sleep 0.05
		done
	fi
	touch "$T/ready"
	exec sleep 600
	SH
	unshare --mount --propagation private -- sh "$T/ns.sh" "$T" "$1" &
	HOLDER=$!
	echo "$HOLDER" >"$T/holder.pid"
	for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
	[ -e "$T/ready" ]
}

# forge_cellftpd ADDRESS: a failed login from ADDRESS in the journal of
# the namespace, by cellftpd run by nobody with a configuration of its
# own (in the namespace's /run) that takes a PROXY header from 127.0.0.1
forge_cellftpd() {
	inside sh -c 'cat >/run/forger.conf && chmod 644 /run/forger.conf' <<-EOF
	[server]
	log = journal
	proxy_protocol = v1
	proxy_from = 127.0.0.1
	[user alice]
	password = pw
	root = /run
	EOF
	inside setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/python3 - "$CELLFTPD" "$(free_port)" "$1" <<-'PY'
	import socket, subprocess, sys
	cellftpd, port, address = sys.argv[1], int(sys.argv[2]), sys.argv[3]
	l = socket.socket()
	l.bind(("127.0.0.1", port))
	l.listen(1)
	c = socket.create_connection(("127.0.0.1", port), timeout=20)
	a, _ = l.accept()
	p = subprocess.Popen([cellftpd, "-c", "/run/forger.conf"], stdin=a, stdout=a)
	a.close()
	f = c.makefile("rb")
	c.sendall(f"PROXY TCP4 {address} 127.0.0.1 40021 21\r\n".encode())
	f.readline()
	c.sendall(b"USER mallory\r\n")
	f.readline()
	c.sendall(b"PASS forged\r\n")
	f.readline()
	c.sendall(b"QUIT\r\n")
	f.readline()
	p.wait(timeout=20)
	PY
}

# in the namespace
inside() {
	nsenter -t "$HOLDER" -m -- "$@"
}

serve() {	# serve syslog|journal
	write_conf <<-EOF
	[server]
	log = $1
	max_login_failures = 2
	passive_ports = $RANGE_LO-$RANGE_HI
	[user alice]
	password = pw
	root = $ROOT
	EOF
	launch nsenter -t "$HOLDER" -m -- "$CELLFTPD" -c "$CONF"
}

# The events, and lines that must not count: two failed logins from
# 127.0.0.1 (the second, by a user name that reads like an address and
# a failure, also ends the session: "2 failed logins; closing"), a PORT bounce from
# 127.0.0.9, logged in, and a passive hijack by 127.0.0.66 in a session
# of alice's from 127.0.0.1; then a download of the bait file.
events() {
	python3 - "$PORT" <<-'PY'
	import re, socket, sys
	port = int(sys.argv[1])
	def conn(src="127.0.0.1"):
	    s = socket.create_connection(("127.0.0.1", port), timeout=20, source_address=(src, 0))
	    f = s.makefile("rb")
	    reply(f)
	    return s, f
	def reply(f):
	    line = f.readline().decode()
	    while len(line) >= 4 and line[3] == "-":
	        line = f.readline().decode()
	    return line
	def cmd(s, f, line):
	    s.sendall(line.encode() + b"\r\n")
	    return reply(f)[:3]
	s, f = conn()
	print("fail", cmd(s, f, "USER alice"), cmd(s, f, "PASS wrong"))
	print("fail", cmd(s, f, "USER 10.1.2.3 x: login failed: y"), cmd(s, f, "PASS wrong"))
	s.close()
	s, f = conn("127.0.0.9")
	print("login", cmd(s, f, "USER alice"), cmd(s, f, "PASS pw"))
	print("bounce", cmd(s, f, "PORT 10,0,0,1,0,80"), cmd(s, f, "QUIT"))
	s.close()
	s, f = conn()
	print("login", cmd(s, f, "USER alice"), cmd(s, f, "PASS pw"))
	s.sendall(b"PASV\r\n")
	r = reply(f)
	n = [int(x) for x in re.search(r"\((\d+,\d+,\d+,\d+,\d+,\d+)\)", r).group(1).split(",")]
	thief = socket.create_connection(("127.0.0.1", n[4] * 256 + n[5]), timeout=20,
	                                 source_address=("127.0.0.66", 0))
	s.sendall(b"RETR f.txt\r\n")
	print("thief got", len(thief.recv(100)))
	thief.close()
	d = socket.create_connection(("127.0.0.1", n[4] * 256 + n[5]), timeout=20)
	first = reply(f)[:3]
	data = b""
	while True:
	    b = d.recv(1000)
	    if not b:
	        break
	    data += b
	d.close()
	print("retr", first, reply(f)[:3], data.decode().strip(), cmd(s, f, "QUIT"))
	PY
	curl -sS --max-time 20 "ftp://alice:pw@127.0.0.1:$PORT/a%2010.6.6.6%20x:%20login%20failed:%20b"
}

EVENTS="fail 331 530
fail 331 421
login 331 230
bounce 500 221
login 331 230
thief got 0
retr 150 226 hello 221
bait"

# what fail2ban must find: "ADDRESS | MESSAGE"; the passive hijacker
# only in the filter's mode data (jail cellftpd-data)
MATCHED="127.0.0.1 | 127.0.0.1 alice: login failed: wrong password
127.0.0.1 | 127.0.0.1 10.1.2.3?x:?login?failed:?y: login failed: unknown user
127.0.0.9 | 127.0.0.9 alice: PORT to 10.0.0.1 port 80 refused (bounce attempt: not the client's address or a privileged port)"
DATA_MATCHED="127.0.0.66 | 127.0.0.1 alice: passive data connection from 127.0.0.66 refused: not the control connection's address"

# regex LOG [fail2ban-regex options]: each failure as "ADDRESS | MESSAGE"
# (the message after "cellftpd[PID]: "), through the installed filter,
# in the mode of $MODE if set
regex() {
	local log=$1
	shift
	inside fail2ban-regex -c "$F2B" "$@" -o '<ip> | <msg>' "$log" "cellftpd${MODE:+[mode=$MODE]}" |
		sed -E 's/\| .* cellftpd\[[0-9]+\]: /| /'
}

# the log must hold the lines that must not match, or the test proves
# nothing: LOG-TEXT
assert_decoys() {
	assert_output --partial "127.0.0.1 10.1.2.3?x:?login?failed:?y: 2 failed logins; closing"
	assert_output --regexp "127\.0\.0\.9 alice: logged in as"
	assert_output --regexp "127\.0\.0\.1 alice: logged in as"
	assert_output --partial "127.0.0.1 alice: download /a 10.6.6.6 x: login failed: b, 5 bytes"
	assert_output --partial "127.0.0.1 alice: passive data connection from 127.0.0.66 refused"
}

@test "fail2ban-regex on the syslog file: the failed logins and the bounce, the hijacker in mode data, nothing else" {
	namespace syslog
	serve syslog
	run events
	assert_output "$EVENTS"
	wait_sessions_gone
	for log in syslog syslog-rfc3339; do
		run cat "$T/$log"
		assert_decoys
		run regex "$T/$log"
		assert_success
		assert_output "$MATCHED"
		# and the summary counts every line once
		run inside fail2ban-regex -c "$F2B" "$T/$log" cellftpd
		assert_output --regexp "Lines: [0-9]+ lines, 0 ignored, 3 matched, [0-9]+ missed"
		MODE=data run regex "$T/$log"
		assert_success
		assert_output "$DATA_MATCHED"
	done
}

@test "fail2ban-regex on a real journal, with the jail's journalmatch: the same, and not other programs' lines" {
	[ -x /lib/systemd/systemd-journald ] || fail "no /lib/systemd/systemd-journald"
	namespace journal
	serve journal
	# the sessions in the control group where systemd would start them:
	# an instance of cellftpd@.service (the launcher's, as from here on
	# each session is its child)
	u=$ACCOUNT_PREFIX-87-$$
	into_cgroup "system.slice/system-cellftpd.slice/cellftpd@$u.service" "$SERVER_PID"
	run events
	assert_output "$EVENTS"
	wait_sessions_gone
	# then one failed login each from a cellftps@.service instance, from
	# xinetd's and from inetd's unit (in a group of its own in there)
	local unit src=2
	for unit in system-cellftps.slice/cellftps@$u.service xinetd.service/$u inetd.service/$u; do
		into_cgroup "system.slice/$unit" "$SERVER_PID"
		FTP_SOURCE=127.0.0.$src chat "USER alice" "PASS wrong" >/dev/null
		src=$((src + 1))
	done
	wait_sessions_gone
	# what local users can send as "cellftpd", from their own session's
	# control group: a program that names its process cellftpd, and
	# cellftpd itself, run by nobody with a configuration of its own
	# whose PROXY header names another address; and another program
	# than cellftpd in xinetd's unit
	session="user.slice/user-65534.slice/session-$u.scope"
	in_cgroup "$session" forge_syslog cellftpd "10.7.7.7 mallory: login failed: prctl"
	in_cgroup "$session" forge_cellftpd 10.7.7.7
	in_cgroup "system.slice/xinetd.service/$u" forge_syslog "" \
		"10.7.7.8 mallory: login failed: in xinetd"
	# the journal match the jail, enabled, gives fail2ban-server
	printf '[cellftpd]\nenabled = true\n' >"$F2B/jail.d/cellftpd.local"
	match=$(fail2ban-client -c "$F2B" -d 2>/dev/null |
		sed -n "s/^\['set', 'cellftpd', 'addjournalmatch', \(.*\)\]\$/\1/p" | tr -d "'," | tr '\n' ' ')
	[ -n "$match" ]
	run inside journalctl --no-pager -o cat -t cellftpd
	assert_decoys
	# the forged lines are there, with cellftpd's process name (and its
	# executable) outside its units, or in xinetd's as another program
	run inside journalctl --no-pager -o json -t cellftpd --grep 'mallory: login failed'
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --partial '"MESSAGE":"10.7.7.7 mallory: login failed: prctl"'
	assert_line --index 0 --partial '"_COMM":"cellftpd"'
	assert_line --index 0 --partial "\"_SYSTEMD_SLICE\":\"user-65534.slice\""
	assert_line --index 1 --partial '"MESSAGE":"10.7.7.7 mallory: login failed: unknown user"'
	assert_line --index 1 --partial '"_COMM":"cellftpd"'
	assert_line --index 1 --partial "\"_EXE\":\"$(realpath "$CELLFTPD")\""
	assert_line --index 1 --partial "\"_SYSTEMD_SLICE\":\"user-65534.slice\""
	assert_line --index 2 --partial '"MESSAGE":"10.7.7.8 mallory: login failed: in xinetd"'
	assert_line --index 2 --partial '"_SYSTEMD_UNIT":"xinetd.service"'
	refute_line --index 2 --partial '"_COMM":"cellftpd"'
	# and the real ones have the slice
	run inside journalctl --no-pager -o cat -t cellftpd _SYSTEMD_SLICE=system-cellftpd.slice
	assert_output --partial "127.0.0.9 alice: PORT to 10.0.0.1 port 80 refused"
	run regex systemd-journal -m "$match"
	assert_success
	assert_output "$MATCHED
127.0.0.2 | 127.0.0.2 alice: login failed: wrong password
127.0.0.3 | 127.0.0.3 alice: login failed: wrong password
127.0.0.4 | 127.0.0.4 alice: login failed: wrong password"
	MODE=data run regex systemd-journal -m "$match"
	assert_success
	assert_output "$DATA_MATCHED"
}

@test "fail2ban-client accepts the jails, all off as shipped: the journal's, the syslog file's on /var/log/syslog, the data one" {
	# as shipped, nothing starts
	run fail2ban-client -c "$F2B" -d
	assert_success
	refute_output --partial "'cellftpd"
	# the journal's jail, enabled
	printf '[cellftpd]\nenabled = true\n' >"$F2B/jail.d/cellftpd.local"
	run fail2ban-client -c "$F2B" -t
	assert_success
	assert_output --partial "OK: configuration test is successful"
	run fail2ban-client -c "$F2B" -d
	assert_success
	assert_line "['add', 'cellftpd', 'systemd']"
	assert_line "['set', 'cellftpd', 'addjournalmatch', 'SYSLOG_IDENTIFIER=cellftpd', '_SYSTEMD_SLICE=system-cellftpd.slice']"
	assert_line "['set', 'cellftpd', 'addjournalmatch', '+', 'SYSLOG_IDENTIFIER=cellftpd', '_SYSTEMD_SLICE=system-cellftps.slice']"
	assert_line "['set', 'cellftpd', 'addjournalmatch', '+', 'SYSLOG_IDENTIFIER=cellftpd', '_SYSTEMD_UNIT=xinetd.service', '_COMM=cellftpd']"
	assert_line "['set', 'cellftpd', 'addjournalmatch', '+', 'SYSLOG_IDENTIFIER=cellftpd', '_SYSTEMD_UNIT=inetd.service', '_COMM=cellftpd']"
	assert_output --partial "['port', 'ftp,ftp-data,ftps,49152:65535']"
	assert_output --partial "['start', 'cellftpd']"
	refute_output --partial "'cellftpd-syslog'"
	refute_output --partial "'cellftpd-data'"
	# the passive hijackers' jail, when enabled: the journal's too, with
	# the filter in mode data
	printf '[cellftpd]\nenabled = true\n[cellftpd-data]\nenabled = true\n' \
		>"$F2B/jail.d/cellftpd.local"
	run fail2ban-client -c "$F2B" -t
	assert_success
	run fail2ban-client -c "$F2B" -d
	assert_success
	assert_line "['add', 'cellftpd-data', 'systemd']"
	assert_line "['set', 'cellftpd-data', 'addjournalmatch', 'SYSLOG_IDENTIFIER=cellftpd', '_SYSTEMD_SLICE=system-cellftpd.slice']"
	assert_output --partial "['set', 'cellftpd-data', 'addfailregex', \"^\\\\S+ \\\\S+: passive data connection from <HOST> refused"
	refute_output --regexp "'cellftpd-data', 'addfailregex', .*login failed"
	assert_output --partial "['start', 'cellftpd-data']"
	assert_output --partial "['start', 'cellftpd']"
	# the other jail instead, on Debian's /var/log/syslog (a file of a
	# private /var/log here)
	printf '[cellftpd-syslog]\nenabled = true\n' >"$F2B/jail.d/cellftpd.local"
	# shellcheck disable=SC2016 # expanded by the inner shell
	run unshare --mount --propagation private -- sh -c '
		mount -t tmpfs tmpfs /var/log && touch /var/log/syslog &&
		fail2ban-client -c "$1" -t && fail2ban-client -c "$1" -d' sh "$F2B"
	assert_success
	assert_line "['add', 'cellftpd-syslog', 'auto']"
	assert_line "['set', 'cellftpd-syslog', 'addlogpath', '/var/log/syslog', 'head']"
	assert_output --partial "['port', 'ftp,ftp-data,ftps,49152:65535']"
	assert_output --partial "['start', 'cellftpd-syslog']"
	refute_output --partial "['start', 'cellftpd']"
}

@test "without python3-systemd, the journal's jail enabled makes fail2ban start no jail, as the jail file says" {
	grep -q 'starts none at all, not sshd' "$F2B/jail.d/cellftpd.conf"
	printf '[cellftpd]\nenabled = true\n' >"$F2B/jail.d/cellftpd.local"
	# python3-systemd hidden by a module of the same name that fails
	mkdir -p "$T/py/systemd"
	echo 'raise ImportError("No module named systemd")' >"$T/py/systemd/__init__.py"
	# a server of the test's own, and another jail on a file
	printf '[Definition]\nlogtarget = %s\nsocket = %s\npidfile = %s\ndbfile = :memory:\n' \
		"$T/f2b.log" "$T/f2b.sock" "$T/f2b.pid" >"$F2B/fail2ban.local"
	touch "$T/auth.log"
	printf '[other]\nenabled = true\nfilter = sshd\nbackend = polling\nlogpath = %s\n' \
		"$T/auth.log" >"$F2B/jail.d/other.conf"
	run env PYTHONPATH="$T/py" fail2ban-client -c "$F2B" -t
	assert_success
	# in a network namespace of its own: no ban can reach the machine's
	# firewall
	# shellcheck disable=SC2016 # expanded by the inner shell
	run env PYTHONPATH="$T/py" unshare --net -- sh -c '
		fail2ban-client -c "$1" start; echo "start $?"
		fail2ban-client -c "$1" status; fail2ban-client -c "$1" stop' sh "$F2B"
	assert_line "start 255"
	assert_line --partial "Number of jail:	0"
	run cat "$T/f2b.log"
	assert_output --partial "Backend 'systemd' failed to initialize"
	# the jail off, as shipped: the other one starts
	rm "$F2B/jail.d/cellftpd.local"
	# shellcheck disable=SC2016 # expanded by the inner shell
	run env PYTHONPATH="$T/py" unshare --net -- sh -c '
		fail2ban-client -c "$1" start; echo "start $?"
		fail2ban-client -c "$1" status; fail2ban-client -c "$1" stop' sh "$F2B"
	assert_line "start 0"
	assert_line --partial "Jail list:	other"
}
