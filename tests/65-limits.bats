#!/usr/bin/env bats
# Abuse limits and the logged-in session's sandbox.

load helper

setup() {
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	max_sessions = ${MAX:-0}
	max_sessions_per_ip = ${PER_IP:-0}
	[user alice]
	password = pw
	root = $ROOT
	EOF
	start_server
}

# hold N sessions open (logged in) for S seconds in the background;
# their pids in HELD (a bare wait would wait for the server too)
HELD=()
hold() {
	local i
	for i in $(seq "$1"); do
		python3 "$FTPCHAT" "$PORT" "USER alice" "PASS pw" "sleep:$2" >/dev/null &
		HELD+=($!)
	done
	for i in $(seq 60); do
		[ "$(sessions | wc -l)" -ge "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

@test "max_sessions: one more session is answered 421 and logged" {
	require_root
	stop_server
	MAX=2 setup
	hold 2 3
	sleep 0.5
	run chat "NOOP"
	assert_output "421 Too many sessions; try again later
EOF"
	run server_log
	assert_output --partial "127.0.0.1 -: max_sessions (2) reached"
	wait "${HELD[@]}"
	wait_sessions_gone
	run chat "NOOP"
	assert_output "220 FTP server ready
200 NOOP ok"
}

@test "max_sessions_per_ip: the same address is refused, another is not" {
	require_root
	stop_server
	PER_IP=1 setup
	hold 1 3
	sleep 0.5
	run chat "NOOP"
	assert_output "421 Too many sessions; try again later
EOF"
	FTP_SOURCE=127.0.0.2 run chat "NOOP"
	assert_output "220 FTP server ready
200 NOOP ok"
	run server_log
	assert_output --partial "max_sessions_per_ip (1) reached"
	wait "${HELD[@]}"
}

@test "a thousand pipelined commands are all answered, at a bounded pace" {
	start=$(date +%s%N)
	run python3 - "$PORT" <<-'PY'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
	f = s.makefile("rb")
	f.readline()
	s.sendall(b"NOOP\r\n" * 1000)
	n = sum(1 for _ in range(1000) if f.readline().startswith(b"200 NOOP ok"))
	print(n)
	PY
	end=$(date +%s%N)
	assert_output "1000"
	# 400 at once, then 200 a second: at least 3 s
	[ $(((end - start) / 1000000)) -ge 2500 ]
}

@test "after login the session runs under seccomp, without core dumps or children" {
	require_production_build
	require_root
	python3 "$FTPCHAT" "$PORT" "USER alice" "PASS pw" "sleep:3" >/dev/null &
	chat_pid=$!
	sleep 1
	pid=$(sessions | head -1)
	[ -n "$pid" ]
	run grep -E '^(Seccomp|NoNewPrivs):' "/proc/$pid/status"
	assert_line --regexp '^Seccomp:[[:space:]]+2$'
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	run cat "/proc/$pid/limits"
	assert_line --regexp '^Max core file size +0 +0 +bytes'
	assert_line --regexp '^Max processes +0 +0 +processes'
	assert_line --regexp '^Max open files +128 +128 +files'
	wait "$chat_pid"
	run server_log
	refute_output --partial "not applied"
	refute_output --partial "seccomp:"
}

@test "-t reports the sandbox layers this machine provides" {
	require_production_build
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line --regexp '^sandbox: openat2 yes, Landlock ABI [0-9]+, seccomp yes$'
}
