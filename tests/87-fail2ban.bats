#!/usr/bin/env bats
# The fail2ban filter and jails of conf/fail2ban/, with Debian's
# fail2ban: a real server logs failed logins, a refused PORT bounce and a
# refused passive hijack through syslog and through a real journald,
# each inside a private mount namespace (so nothing of the machine is
# touched), and fail2ban-regex must find exactly those, with the address
# to ban, and no successful login.

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
	return 0
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
# 127.0.0.1 (the second, by a user name that reads like an address, also
# ends the session: "2 failed logins; closing"), a PORT bounce from
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
	print("fail", cmd(s, f, "USER 10.1.2.3"), cmd(s, f, "PASS wrong"))
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

# what fail2ban must find: "ADDRESS | MESSAGE"
MATCHED="127.0.0.1 | 127.0.0.1 alice: login failed: wrong password
127.0.0.1 | 127.0.0.1 10.1.2.3: login failed: unknown user
127.0.0.9 | 127.0.0.9 alice: PORT to 10.0.0.1 port 80 refused (bounce attempt: not the client's address or a privileged port)
127.0.0.66 | 127.0.0.1 alice: passive data connection from 127.0.0.66 refused: not the control connection's address"

# regex LOG [fail2ban-regex options]: each failure as "ADDRESS | MESSAGE"
# (the message after "cellftpd[PID]: "), through the installed filter
regex() {
	local log=$1
	shift
	inside fail2ban-regex -c "$F2B" "$@" -o '<ip> | <msg>' "$log" cellftpd |
		sed -E 's/\| .* cellftpd\[[0-9]+\]: /| /'
}

# the log must hold the lines that must not match, or the test proves
# nothing: LOG-TEXT
assert_decoys() {
	assert_output --partial "127.0.0.1 10.1.2.3: 2 failed logins; closing"
	assert_output --regexp "127\.0\.0\.9 alice: logged in as"
	assert_output --regexp "127\.0\.0\.1 alice: logged in as"
	assert_output --partial "127.0.0.1 alice: download /a 10.6.6.6 x: login failed: b, 5 bytes"
}

@test "fail2ban-regex on the syslog file: the failed logins, the bounce and the hijacker, nothing else" {
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
		assert_output --regexp "Lines: [0-9]+ lines, 0 ignored, 4 matched, [0-9]+ missed"
	done
}

@test "fail2ban-regex on a real journal, with the jail's journalmatch: the same, and not other programs' lines" {
	[ -x /lib/systemd/systemd-journald ] || fail "no /lib/systemd/systemd-journald"
	namespace journal
	serve journal
	run events
	assert_output "$EVENTS"
	wait_sessions_gone
	# another program that calls itself cellftpd
	inside logger -t cellftpd "10.7.7.7 mallory: login failed: forged"
	# the journal match the jail gives fail2ban-server
	match=$(fail2ban-client -c "$F2B" -d 2>/dev/null |
		sed -n "s/^\['set', 'cellftpd', 'addjournalmatch', \(.*\)\]\$/\1/p" | tr -d "',")
	[ -n "$match" ]
	run inside journalctl --no-pager -o cat -t cellftpd
	assert_decoys
	assert_output --partial "10.7.7.7 mallory: login failed: forged"
	run regex systemd-journal -m "$match"
	assert_success
	assert_output "$MATCHED"
}

@test "fail2ban-client accepts the jails: the journal's by default, the syslog file's on /var/log/syslog" {
	run fail2ban-client -c "$F2B" -t
	assert_success
	assert_output --partial "OK: configuration test is successful"
	run fail2ban-client -c "$F2B" -d
	assert_success
	assert_line "['add', 'cellftpd', 'systemd']"
	assert_line "['set', 'cellftpd', 'addjournalmatch', 'SYSLOG_IDENTIFIER=cellftpd', '_COMM=cellftpd']"
	assert_output --partial "['port', 'ftp,ftp-data,ftps,49152:65535']"
	assert_output --partial "['start', 'cellftpd']"
	refute_output --partial "'cellftpd-syslog'"
	# the other jail instead, on Debian's /var/log/syslog (a file of a
	# private /var/log here)
	printf '[cellftpd]\nenabled = false\n[cellftpd-syslog]\nenabled = true\n' \
		>"$F2B/jail.d/cellftpd.local"
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
