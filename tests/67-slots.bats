#!/usr/bin/env bats
# The slot files behind max_sessions and max_sessions_per_ip: a bounded
# pool whatever the number of client addresses, and a directory that
# cannot be written lets clients in and says why.
#
# RUN_DIR is fixed at build time, so each server here runs in a mount
# namespace of its own (held by $NS_PID) with a fresh tmpfs on
# /run/cellftpd/sessions: the suites that run at the same time keep
# theirs, and nothing is left to restore.

load helper

# private_sessions [MOUNT OPTIONS]: the namespace, its tmpfs mounted
private_sessions() {
	require_root
	mkdir -p /run/cellftpd/sessions
	unshare -m --propagation private sh -c \
		"mount -t tmpfs -o mode=700,${1:-rw} cellftpd-test /run/cellftpd/sessions && exec sleep 120" &
	NS_PID=$!
	local _
	for _ in $(seq 100); do
		nsenter -t "$NS_PID" -m findmnt -n /run/cellftpd/sessions 2>/dev/null |
			grep -q cellftpd-test && return 0
		sleep 0.05
	done
	echo "no private sessions directory" >&2
	return 1
}

# serve_private MAX PER_IP [MOUNT OPTIONS]
serve_private() {
	private_sessions "${3:-}"
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	max_sessions = $1
	max_sessions_per_ip = $2
	[user alice]
	password = pw
	root = $ROOT
	EOF
	launch nsenter -t "$NS_PID" -m -- "$CELLFTPD" -c "$CONF"
}

slot_files() {
	nsenter -t "$NS_PID" -m ls -A /run/cellftpd/sessions
}

cleanup() {
	if [ -n "${NS_PID:-}" ]; then
		kill "$NS_PID" 2>/dev/null
		wait "$NS_PID" 2>/dev/null || true
	fi
}

@test "500 client addresses leave no more slot files than max_sessions" {
	serve_private 10 2
	# 500 connections from 127.0.0.0/8, 4 at a time; each one waits for
	# its reply (220 or 421) and quits
	run timeout 50 python3 - "$PORT" <<-'PY'
	import socket, sys
	from concurrent.futures import ThreadPoolExecutor
	port = int(sys.argv[1])
	def one(n):
	    addr = "127.%d.%d.%d" % (1 + n // 250, n % 250 + 1, 7)
	    s = socket.socket()
	    s.settimeout(20)
	    s.bind((addr, 0))
	    s.connect(("127.0.0.1", port))
	    f = s.makefile("rb")
	    line = f.readline()
	    if line.startswith(b"220"):
	        s.sendall(b"QUIT\r\n")
	        f.readline()
	    s.close()
	    return line[:3]
	with ThreadPoolExecutor(4) as ex:
	    codes = list(ex.map(one, range(500)))
	print("220:", codes.count(b"220"), "other:", len(codes) - codes.count(b"220"))
	PY
	assert_success
	echo "$output"
	# nearly every one is let in (a few may meet 10 sessions still ending)
	[ "$(echo "$output" | sed -n 's/^220: \([0-9]*\) .*/\1/p')" -ge 400 ]
	run slot_files
	echo "$(echo "$output" | wc -l) files, the first: $(echo "$output" | head -12 | tr '\n' ' ')"
	[ "$(echo "$output" | wc -l)" -le 10 ]
	refute_output --partial "127."
}

@test "a slot that an ended session named does not count for its address" {
	serve_private 5 1
	FTP_SOURCE=127.0.0.5 run chat "NOOP"
	assert_output "220 FTP server ready
200 NOOP ok"
	wait_sessions_gone
	# slot.0 still names 127.0.0.5, unlocked: the same address is let in
	FTP_SOURCE=127.0.0.5 run chat "NOOP"
	assert_output "220 FTP server ready
200 NOOP ok"
	wait_sessions_gone
	run slot_files
	assert_output "slot.0"
}

@test "a sessions directory that cannot be written lets clients in and logs why" {
	serve_private 2 1 ro
	run chat "NOOP"
	assert_output "220 FTP server ready
200 NOOP ok"
	run server_log
	assert_output --partial "session limits not counted: cannot create /run/cellftpd/sessions/slot.0: Read-only file system"
	refute_output --partial "reached"
}
