#!/usr/bin/env bats
# The transfer log: one wu-ftpd xferlog line per completed or failed
# transfer, and the log lines with their sizes and durations.

load helper

setup() {
	make_root
	head -c 5000 /dev/urandom >"$ROOT/five.bin"
	printf 'a\nb\n' >"$ROOT/text.txt"
	mkdir "$ROOT/in"
	chmod -R a+rwX "$ROOT"
	XFERLOG="$BATS_TEST_TMPDIR/xferlog"
	write_conf <<-EOF
	[server]
	log = stderr
	xferlog = $XFERLOG
	[user anonymous]
	root = $ROOT
	allow_write = upload
	[user alice]
	password = pw
	root = $ROOT
	EOF
	start_server
}

# wu-ftpd: DOW MON DD HH:MM:SS YYYY secs host size name type action dir mode user ftp 0 * status
XF='^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4} [0-9]+ 127\.0\.0\.1 '

@test "downloads and uploads are logged in the xferlog format" {
	run curl -sS -o /dev/null "ftp://127.0.0.1:$PORT/five.bin"
	assert_success
	run curl -sS -B -o /dev/null "ftp://alice:pw@127.0.0.1:$PORT/text.txt"
	assert_success
	run curl -sS -T "$ROOT/five.bin" "ftp://anonymous:me%40example.org@127.0.0.1:$PORT/in/up.bin"
	assert_success
	run cat "$XFERLOG"
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp "${XF}5000 /five\.bin b _ o a [^ ]+ ftp 0 \* c$"
	assert_line --index 1 --regexp "${XF}6 /text\.txt a _ o r alice ftp 0 \* c$"
	assert_line --index 2 --regexp "${XF}5000 /in/up\.bin b _ i a me@example\.org ftp 0 \* c$"
}

@test "a failed transfer is logged as incomplete; names with spaces stay one field" {
	printf 'x' >"$ROOT/with space.txt"
	truncate -s 300M "$ROOT/huge.bin"
	chmod a+r "$ROOT/with space.txt" "$ROOT/huge.bin"
	run chat "USER alice" "PASS pw" "RETR nothing" "RETR with space.txt"
	# RETR without a data connection: 425, nothing logged
	run curl -sS -o /dev/null "ftp://alice:pw@127.0.0.1:$PORT/with%20space.txt"
	assert_success
	run python3 - "$PORT" <<-'PY'
	import ftplib, io, socket, sys
	c = ftplib.FTP()
	c.connect("127.0.0.1", int(sys.argv[1]), timeout=20)
	c.login("alice", "pw")
	c.voidcmd("TYPE I")
	d = c.transfercmd("RETR huge.bin")
	d.recv(100)
	c.sock.sendall(b"ABOR\r\n")
	print(c.getline()); print(c.getline())
	d.close()
	PY
	assert_output "426 Transfer aborted
226 Abort successful"
	run cat "$XFERLOG"
	assert_line --regexp "${XF}1 /with_space\.txt b _ o r alice ftp 0 \* c$"
	assert_line --regexp "${XF}[0-9]+ /huge\.bin b _ o r alice ftp 0 \* i$"
	refute_output --partial "nothing"
}

@test "the log line of a transfer has its size and duration" {
	run curl -sS -o /dev/null "ftp://alice:pw@127.0.0.1:$PORT/five.bin"
	run server_log
	assert_output --regexp "127\.0\.0\.1 alice: download /five\.bin, 5000 bytes in [0-9]+ ms"
	assert_output --regexp "alice: logout: 1 file \(5000 bytes\) down, 0 files \(0 bytes\) up"
}

@test "an xferlog that cannot be opened is logged, and sessions go on" {
	stop_server
	write_conf <<-EOF
	[server]
	log = stderr
	xferlog = $BATS_TEST_TMPDIR/no/such/dir/xferlog
	[user alice]
	password = pw
	root = $ROOT
	EOF
	start_server
	run curl -sS "ftp://alice:pw@127.0.0.1:$PORT/text.txt"
	assert_success
	assert_output "a
b"
	run server_log
	assert_output --partial "cannot open xferlog '$BATS_TEST_TMPDIR/no/such/dir/xferlog': No such file or directory"
}

# The session's processes: its own pid first, then its children's.
session_and_children() {
	local top
	top=$(sessions | head -1)
	[ -n "$top" ] || return 1
	echo "$top"
	pgrep -P "$top" || true
}

# holds_xferlog PID: whether any descriptor of PID is the xferlog
holds_xferlog() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = "$XFERLOG" ] && return 0
	done
	return 1
}

@test "the session holds no descriptor of the xferlog: its writer, as the account, does" {
	require_root
	python3 - "$PORT" >"$BATS_TEST_TMPDIR/client.out" 2>&1 <<-'PY' &
	import ftplib, io, sys, time
	c = ftplib.FTP()
	c.connect("127.0.0.1", int(sys.argv[1]), timeout=20)
	c.login("alice", "pw")
	c.retrbinary("RETR five.bin", io.BytesIO().write)
	time.sleep(3)
	c.quit()
	PY
	client=$!
	wait_log "alice: download /five.bin, 5000 bytes in "
	run session_and_children
	assert_success
	session=${lines[0]}
	assert_equal "${#lines[@]}" 2
	writer=${lines[1]}
	# the session runs as the account and has no descriptor of the file
	assert_equal "$(awk '/^Uid:/ {print $2}' "/proc/$session/status")" "$(id -u nobody)"
	run holds_xferlog "$session"
	assert_failure
	# its one child, the writer, has it, as the same account, confined
	run holds_xferlog "$writer"
	assert_success
	run grep -E '^(Uid|NoNewPrivs|Seccomp):' "/proc/$writer/status"
	assert_line --regexp "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]+$(id -u nobody)[[:space:]]"
	assert_line --regexp '^NoNewPrivs:[[:space:]]+1$'
	if ! "$CELLFTPD" -t -c "$CONF" | grep -q "not in this build"; then
		assert_line --regexp '^Seccomp:[[:space:]]+2$'
	fi
	assert_equal "$(readlink "/proc/$writer/root")" /run/cellftpd/empty
	# and the line is written before the reply that ends the transfer
	run cat "$XFERLOG"
	assert_equal "${#lines[@]}" 1
	assert_line --index 0 --regexp "${XF}5000 /five\.bin b _ o r alice ftp 0 \* c$"
	wait "$client"
	wait_sessions_gone
	# the writer ends with the session
	for _ in $(seq 100); do
		kill -0 "$writer" 2>/dev/null || break
		sleep 0.05
	done
	run kill -0 "$writer"
	assert_failure
	run server_log
	refute_output --partial "seccomp:"
	refute_output --partial "xferlog writer"
}
