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
