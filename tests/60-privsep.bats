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

@test "before login, the network-facing process runs as unprivileged_user in an empty chroot" {
	python3 "$FTPCHAT" "$PORT" "USER alice" "sleep:3" >/dev/null &
	chat_pid=$!
	assert_session_tree 0 "$(id -u "$PRELOGIN_USER")"
	parent=$PARENT child=$CHILD
	run grep -E '^(Uid|Gid|Groups|NoNewPrivs):' "/proc/$child/status"
	assert_line --regexp "^Uid:[[:space:]]+$(id -u "$PRELOGIN_USER")[[:space:]]+$(id -u "$PRELOGIN_USER")[[:space:]]+$(id -u "$PRELOGIN_USER")[[:space:]]+$(id -u "$PRELOGIN_USER")$"
	assert_line --regexp "^Gid:[[:space:]]+$(id -g "$PRELOGIN_USER")[[:space:]]+$(id -g "$PRELOGIN_USER")"
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
	add_account ${ACCOUNT_PREFIX}p-shadow
	usermod -p "$(openssl passwd -6 'the right one')" ${ACCOUNT_PREFIX}p-shadow
	hash=$(getent shadow ${ACCOUNT_PREFIX}p-shadow | cut -d: -f2)
	stop_server
	write_conf <<-EOF
	[server]
	log = stderr
	all_users = yes
	[user anonymous]
	root = $ROOT
	EOF
	start_server
	python3 "$FTPCHAT" "$PORT" "USER ${ACCOUNT_PREFIX}p-shadow" "PASS wrong" "USER anonymous" "PASS x" \
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

@test "before login, the network-facing process runs under its own seccomp allow-list" {
	require_production_build
	python3 "$FTPCHAT" "$PORT" "USER alice" "sleep:2" "PASS no" "USER alice" "PASS pw" "NOOP" >"$BATS_TEST_TMPDIR/chat.out" &
	chat_pid=$!
	run wait_session_tree
	assert_equal "${#lines[@]}" 2
	read -r child _ <<<"${lines[1]}"
	run grep -E '^Seccomp:' "/proc/$child/status"
	assert_output --regexp '^Seccomp:[[:space:]]+2$'
	wait "$chat_pid"
	# the dialogue, a failed login and a good one all went through it
	run cat "$BATS_TEST_TMPDIR/chat.out"
	assert_line "530 Login incorrect"
	assert_line "230 Login successful"
	assert_line "200 NOOP ok"
	run server_log
	refute_output --partial "seccomp:"
	refute_output --partial "not applied"
}

@test "with TLS the relay stays under the pre-login allow-list: PROT P both ways, failed logins, its end" {
	require_production_build
	stop_server
	local certs="$BATS_TEST_TMPDIR/certs"
	test_cert "$certs"
	chmod -R a+rwX "$ROOT"
	head -c 3000000 /dev/urandom >"$ROOT/big.bin"
	chmod a+r "$ROOT/big.bin"
	write_conf <<-EOF
	[server]
	log = stderr
	tls = explicit
	tls_certificate = $certs/cert.pem
	tls_key = $certs/key.pem
	max_login_failures = 2
	[user alice]
	password = pw
	root = $ROOT
	allow_write = yes
	EOF
	local mode
	for mode in "" -i; do
		# shellcheck disable=SC2086 # no option or one
		start_server $mode
		local url="ftp://127.0.0.1:$PORT" tls=(--ssl-reqd)
		[ "$mode" = -i ] && url="ftps://127.0.0.1:$PORT" tls=()
		# a download slow enough to look at the relay meanwhile
		curl -sS -k --max-time 20 --limit-rate 1M "${tls[@]}" \
			-o "$BATS_TEST_TMPDIR/slow.bin" "$url/big.bin" -u alice:pw &
		local client=$!
		wait_log "logged in as system user"
		run wait_session_tree
		[ "${#lines[@]}" -eq 2 ] || { ps -eo pid,ppid,stat,args --forest >&2; false; }
		local relay
		read -r relay _ <<<"${lines[1]}"
		run grep -E '^Seccomp:' "/proc/$relay/status"
		assert_output --regexp '^Seccomp:[[:space:]]+2$'
		wait "$client"
		cmp "$ROOT/big.bin" "$BATS_TEST_TMPDIR/slow.bin"
		# PROT P data both ways through the filtered relay
		run curl -sS -k --max-time 20 "${tls[@]}" -u alice:pw -T "$ROOT/big.bin" \
			"$url/up$mode.bin"
		assert_success
		run curl -sS -k --max-time 20 "${tls[@]}" -u alice:pw \
			-o "$BATS_TEST_TMPDIR/down.bin" "$url/up$mode.bin"
		assert_success
		cmp "$ROOT/big.bin" "$BATS_TEST_TMPDIR/down.bin"
		# failed logins up to the cap
		run curl -sS -k --max-time 20 "${tls[@]}" -u alice:no "$url/"
		assert_failure
		wait_sessions_gone
		run server_log
		refute_output --partial "seccomp:"
		refute_output --partial "not applied"
		stop_server
	done
}
