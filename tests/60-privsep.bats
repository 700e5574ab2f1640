#!/usr/bin/env bats
# Privilege separation before login: the process that reads the network
# is unprivileged; the root parent only decides on credentials.

load helper

cleanup() {
	remove_accounts
}

setup() {
	require_root
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	max_login_failures = 2
	[user alice]
	password = pw
	root = $ROOT
	[user bob]
	password = Sekr1t-xyz-4711-distinct
	root = $ROOT
	EOF
	start_server
}

@test "before login, the network-facing process runs as nobody in an empty chroot" {
	python3 "$FTPCHAT" "$PORT" "USER alice" "sleep:3" >/dev/null &
	chat_pid=$!
	run wait_session_tree
	assert_equal "${#lines[@]}" 2
	read -r parent parent_uid <<<"${lines[0]}"
	read -r child child_uid <<<"${lines[1]}"
	assert_equal "$parent_uid" 0
	assert_equal "$child_uid" "$(id -u nobody)"
	run grep -E '^(Uid|Gid|Groups|NoNewPrivs):' "/proc/$child/status"
	assert_line --regexp "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]+$(id -u nobody)[[:space:]]+$(id -u nobody)[[:space:]]+$(id -u nobody)$"
	assert_line --regexp "^Gid:[[:space:]]+$(id -g nobody)[[:space:]]+$(id -g nobody)"
	assert_line --regexp "^Groups:[[:space:]]*$"
	assert_line --regexp "^NoNewPrivs:[[:space:]]+1$"
	assert_equal "$(readlink "/proc/$child/root")" /run/cellftpd/empty
	run ls -A /run/cellftpd/empty
	assert_output ""
	assert_equal "$(stat -c '%U %a' /run/cellftpd/empty)" "root 755"
	# the parent has no socket but the client's and the socketpair
	run bash -c "ls -l /proc/$parent/fd | grep -c 'socket:'"
	assert_output 2
	wait "$chat_pid"
}

@test "after login one process remains: the parent, as the account" {
	run chat "USER alice" "PASS pw" "PWD" "sleep:1"
	run session_tree
	assert_equal "${#lines[@]}" 0
	python3 "$FTPCHAT" "$PORT" "USER alice" "PASS pw" "sleep:3" >/dev/null &
	chat_pid=$!
	sleep 1
	run session_tree
	assert_equal "${#lines[@]}" 1
	read -r _ uid <<<"${lines[0]}"
	assert_equal "$uid" "$(id -u nobody)"
	wait "$chat_pid"
}

@test "commands pipelined behind PASS reach the logged-in session" {
	run chat "raw:USER alice\r\nPASS pw\r\nPWD\r\nNOOP\r\nQUIT\r\n" "replies:5"
	assert_output "220 FTP server ready
331 Please specify the password
230 Login successful
257 \"/\" is the current directory
200 NOOP ok
221 Goodbye"
	wait_sessions_gone
}

@test "the parent counts failures: the cap closes the session" {
	run chat "USER alice" "PASS no" "USER alice" "PASS no" "close?"
	assert_output "220 FTP server ready
331 Please specify the password
530 Login incorrect
331 Please specify the password
421 Too many failed logins; closing control connection
CLOSED"
	wait_sessions_gone
}

@test "the pre-login process holds no password material" {
	require_production_build
	python3 "$FTPCHAT" "$PORT" "USER alice" "sleep:3" >/dev/null &
	chat_pid=$!
	sleep 1
	child=$(session_tree | sed -n 2p | cut -d' ' -f1)
	[ -n "$child" ]
	# bob's plaintext password appears nowhere in its memory
	run memory_holds "$child" "$(printf %s "Sekr1t-xyz-4711" | od -An -tx1 | tr -d ' \n')"
	assert_output "found 0"
	wait "$chat_pid"
}

@test "no shadow hash of a failed system login stays in the session's memory" {
	require_production_build
	add_account cfp-shadow
	usermod -p "$(openssl passwd -6 'the right one')" cfp-shadow
	hash=$(getent shadow cfp-shadow | cut -d: -f2)
	stop_server
	write_conf <<-EOF
	[server]
	log = stderr
	all_users = yes
	[user anonymous]
	root = $ROOT
	EOF
	start_server
	python3 "$FTPCHAT" "$PORT" "USER cfp-shadow" "PASS wrong" "USER anonymous" "PASS x" \
		"sleep:3" >/dev/null &
	chat_pid=$!
	for _ in $(seq 60); do
		grep -q "anonymous login" "$SERVER_LOG" && break
		sleep 0.05
	done
	sleep 0.3
	pid=$(sessions | head -1)
	[ -n "$pid" ]
	run memory_holds "$pid" "$(printf %s "${hash:20}" | od -An -tx1 | tr -d ' \n')"
	assert_output "found 0"
	wait "$chat_pid"
}
