#!/usr/bin/env bats
# Transfers at their edges: a full disk, ABOR queued behind another
# command, uploads onto directories and resumed uploads written in place.

load helper

setup() {
	require_root
	make_root
	add_account ${ACCOUNT_PREFIX}e-user
	chown ${ACCOUNT_PREFIX}e-user: "$ROOT"
	write_conf <<-EOF
	[server]
	log = stderr
	passive_ports = $((PASSIVE_BASE + 1000))-$((PASSIVE_BASE + 1999))
	atomic_uploads = ${ATOMIC:-yes}
	[user alice]
	password = pw
	system_user = ${ACCOUNT_PREFIX}e-user
	root = $ROOT
	allow_write = yes
	EOF
	start_server
}

cleanup() {
	if mountpoint -q "$ROOT/small" 2>/dev/null; then
		umount "$ROOT/small"
	fi
	remove_accounts
}

# A python client: login, then the commands of the test.
py() {
	python3 - "$PORT" "$@" <<-'PY'
	import ftplib, socket, sys, time
	port = int(sys.argv[1])
	c = ftplib.FTP()
	c.connect("127.0.0.1", port, timeout=20)
	c.login("alice", "pw")
	exec(sys.argv[2])
	PY
}

@test "a full disk is 452, the old file stays and no temporary file is left" {
	mkdir "$ROOT/small"
	mount -t tmpfs -o size=1m,mode=0755 tmpfs "$ROOT/small"
	chown ${ACCOUNT_PREFIX}e-user: "$ROOT/small"
	head -c 1000 /dev/urandom >"$ROOT/small/keep"
	chown ${ACCOUNT_PREFIX}e-user: "$ROOT/small/keep"
	sum=$(sha256sum <"$ROOT/small/keep")
	head -c 3000000 /dev/urandom >"$BATS_TEST_TMPDIR/big"
	run curl -sS --max-time 20 -T "$BATS_TEST_TMPDIR/big" "ftp://alice:pw@127.0.0.1:$PORT/small/keep"
	assert_failure
	assert_output --partial "got 452"
	assert_equal "$(sha256sum <"$ROOT/small/keep")" "$sum"
	run ls -A "$ROOT/small"
	assert_output "keep"
	run server_log
	assert_output --partial "upload /small/keep"
	assert_output --partial "failed: disk full"
}

@test "a full disk with atomic_uploads = no says the file is incomplete" {
	stop_server
	ATOMIC=no setup
	mkdir "$ROOT/small"
	mount -t tmpfs -o size=1m,mode=0755 tmpfs "$ROOT/small"
	chown ${ACCOUNT_PREFIX}e-user: "$ROOT/small"
	run py '
import io
try:
    c.storbinary("STOR small/new", io.BytesIO(b"x" * 3000000))
except ftplib.error_temp as e:
    print(e)
'
	assert_output "452 Insufficient storage space; the file is incomplete"
}

@test "ABOR queued behind another command still stops a transfer" {
	truncate -s 300M "$ROOT/huge"
	run py '
c.voidcmd("TYPE I")
d = c.transfercmd("RETR huge")
d.recv(65536)
c.sock.sendall(b"NOOP\r\nABOR\r\n")
print(c.getresp() if False else c.getline())
print(c.getline())
print(c.getline())
d.close()
print(c.sendcmd("PWD"))
'
	assert_output "426 Transfer aborted
226 Abort successful
200 NOOP ok
257 \"/\" is the current directory"
}

@test "-d logs ABOR received during a transfer" {
	stop_server
	start_server -d
	truncate -s 300M "$ROOT/huge"
	run py '
d = c.transfercmd("RETR huge")
d.recv(65536)
c.sock.sendall(b"ABOR\r\n")
print(c.getline()); print(c.getline())
'
	assert_output "426 Transfer aborted
226 Abort successful"
	run server_log
	assert_output --partial "<- ABOR"
}

@test "STOR onto a directory is refused before any data moves" {
	mkdir "$ROOT/dir"
	run py '
import io
try:
    c.storbinary("STOR dir", io.BytesIO(b"data"))
except ftplib.error_perm as e:
    print(e)
print(c.sendcmd("NOOP"))
'
	assert_output "550 /dir: Is a directory
200 NOOP ok"
	[ -d "$ROOT/dir" ]
}

@test "atomic_uploads = no: REST + STOR continues in place and ends the file there" {
	stop_server
	ATOMIC=no setup
	printf '0123456789ABCDEF' >"$ROOT/f"
	chown ${ACCOUNT_PREFIX}e-user: "$ROOT/f"
	run py '
import io
c.storbinary("STOR f", io.BytesIO(b"xyz"), rest=4)
try:
    c.storbinary("STOR f", io.BytesIO(b"xyz"), rest=100)
except ftplib.error_perm as e:
    print(e)
'
	assert_output "554 Restart position 100 is past the end of /f"
	run cat "$ROOT/f"
	assert_output "0123xyz"
}
