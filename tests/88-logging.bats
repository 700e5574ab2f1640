#!/usr/bin/env bats
# Where log lines go: syslog (facility ftp) and the journal (native
# fields), each received by a listener of the test on the real socket
# path, inside a private mount namespace so that nothing of the machine
# is touched; and log = auto choosing between them.

load helper

setup() {
	require_root
	make_root
	echo data >"$ROOT/f.txt"
	chmod a+r "$ROOT/f.txt"
	T=$BATS_TEST_TMPDIR
	cat >"$T/listen.py" <<-'PY'
	import os, socket, sys
	path, out = sys.argv[1], sys.argv[2]
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.bind(path)
	os.chmod(path, 0o666)
	with open(out, "ab", buffering=0) as f:
	    while True:
	        f.write(s.recv(65536) + b"\n---\n")
	PY
	# the namespace: /dev and /run of its own, a listener on /dev/log and
	# on the journal's socket; it lives as long as the holder process
	{ ns_private_dev_run; cat <<-'SH'; } >"$T/ns.sh"
	python3 "$T/listen.py" /dev/log "$T/syslog.out" &
	echo $! >"$T/listen1.pid"
	python3 "$T/listen.py" /run/systemd/journal/socket "$T/journal.out" &
	echo $! >"$T/listen2.pid"
	while [ ! -S /dev/log ] || [ ! -S /run/systemd/journal/socket ]; do sleep 0.05; done
	touch "$T/ready"
	exec sleep 600
	SH
	unshare --mount --propagation private -- sh "$T/ns.sh" "$T" &
	HOLDER=$!
	for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
	[ -e "$T/ready" ]
}

cleanup() {
	kill "$(cat "$T/listen1.pid")" "$(cat "$T/listen2.pid")" "$HOLDER" 2>/dev/null || true
}

serve() {	# serve LOG-MODE [extra launcher prefix...]
	write_conf <<-EOF
	[server]
	log = $1
	[user alice]
	password = pw
	root = $ROOT
	EOF
	shift
	launch nsenter -t "$HOLDER" -m -- "$@" "$CELLFTPD" -c "$CONF"
}

@test "log = syslog: lines reach /dev/log with facility ftp and ident cellftpd" {
	serve syslog
	run curl -sS "ftp://alice:pw@127.0.0.1:$PORT/f.txt"
	assert_output "data"
	run chat "raw:GET / HTTP/1.0\r\n" "close?"
	sleep 0.5
	run cat "$T/syslog.out"
	# <94> is facility ftp (11) at info (6), <92> at warning (4)
	assert_output --regexp "<94>[A-Z][a-z]{2} [ 0-9]{2} [0-9:]{8} cellftpd\[[0-9]+\]: 127\.0\.0\.1 alice: logged in as system user nobody"
	assert_output --regexp "<94>.*cellftpd\[[0-9]+\]: 127\.0\.0\.1 alice: download /f\.txt, 5 bytes in [0-9]+ ms"
	assert_output --regexp "<92>.*cellftpd\[[0-9]+\]: 127\.0\.0\.1 -: HTTP request line on the FTP port; closing"
	run cat "$T/journal.out"
	assert_output ""
}

@test "log = journal: native fields, and the pre-login process falls back to syslog" {
	serve journal
	run curl -sS "ftp://alice:pw@127.0.0.1:$PORT/f.txt"
	assert_output "data"
	run chat "raw:GET / HTTP/1.0\r\n" "close?"
	sleep 0.5
	run cat "$T/journal.out"
	assert_line "MESSAGE=127.0.0.1 alice: download /f.txt, 5 bytes in $(grep -o 'download /f.txt, 5 bytes in [0-9]* ms' "$T/journal.out" | grep -o '[0-9]* ms$')"
	assert_line "SYSLOG_IDENTIFIER=cellftpd"
	assert_line "SYSLOG_FACILITY=11"
	assert_line "PRIORITY=6"
	assert_line "REMOTE_ADDR=127.0.0.1"
	assert_line --regexp "^REMOTE_PORT=[0-9]+$"
	assert_line "FTP_USER=alice"
	assert_line "FTP_EVENT=login"
	assert_line "FTP_EVENT=download"
	assert_line "FTP_PATH=/f.txt"
	assert_line "FTP_BYTES=5"
	assert_line --regexp "^FTP_DURATION_MS=[0-9]+$"
	assert_line "FTP_EVENT=logout"
	# the chrooted pre-login process cannot reach the journal's socket
	run cat "$T/syslog.out"
	assert_output --regexp "<92>.*cellftpd\[[0-9]+\]: 127\.0\.0\.1 -: HTTP request line on the FTP port; closing"
}

@test "log = auto: the journal when standard error is the journal's stream, else syslog" {
	serve auto sh -c 'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' sh
	run curl -sS "ftp://alice:pw@127.0.0.1:$PORT/f.txt"
	assert_output "data"
	run grep -c "^FTP_EVENT=download$" "$T/journal.out"
	assert_output 1
	stop_server
	serve auto
	run curl -sS "ftp://alice:pw@127.0.0.1:$PORT/f.txt"
	sleep 0.3
	run grep -c "alice: download /f.txt" "$T/syslog.out"
	assert_output 1
}
