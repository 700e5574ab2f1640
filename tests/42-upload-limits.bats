#!/usr/bin/env bats
# Upload bounds and full disks: max_upload_size per server and per user
# (552, refused up front or aborted, the old file intact, the temporary
# file gone, xferlog "i"); a full tmpfs (452) and an exceeded quota (552,
# a btrfs qgroup on a loop device), each in a mount namespace of its own,
# and a file size rlimit (552, the session lives on);
# ABOR outside a transfer (226, RFC 959 4.1.3).

load helper

SYSUSER=${ACCOUNT_PREFIX}d-limits
# shellcheck disable=SC2034 # the passive ports, read by alice_conf (helper.bash)
RANGE_LO=$((PASSIVE_BASE + 4000)) RANGE_HI=$((PASSIVE_BASE + 4499))

# wu-ftpd xferlog: DOW MON DD HH:MM:SS YYYY secs host
XF='^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9]{4} [0-9]+ 127\.0\.0\.1 '

setup() {
	XFERLOG="$BATS_TEST_TMPDIR/xferlog"
}

cleanup() {
	if [ -n "${NS_PID:-}" ]; then
		kill "$NS_PID" 2>/dev/null
		wait "$NS_PID" 2>/dev/null || true
	fi
	remove_accounts
}

# conf [server:LINE | section:LINE | LINE]...: alice_conf (helper.bash)
# with an xferlog.
conf() {
	alice_conf "server:xferlog = $XFERLOG" "$@"
}

# py: a Python script on stdin with tests/ftpclient.py importable.
py() {
	PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$BATS_TEST_DIRNAME" \
		PORT="$PORT" ROOT="$ROOT" python3 - "$@"
}

curl_alice() {
	ftp_curl -u alice:pw "$@"
}

# private_mount TYPE OPTIONS SOURCE: $ROOT/small, in a mount namespace
# held by $NS_PID, so that nothing is left when the test ends; the server
# is started there by serve_private. $SMALL is the directory as the test
# sees it.
private_mount() {
	own_root
	mkdir "$ROOT/small"
	unshare -m --propagation private sh -c \
		"mount -t $1 -o $2 $3 '$ROOT/small' && chown $SYSUSER: '$ROOT/small' && exec sleep 120" &
	NS_PID=$!
	SMALL="/proc/$NS_PID/root$ROOT/small"
	local _
	for _ in $(seq 100); do
		nsenter -t "$NS_PID" -m mountpoint -q "$ROOT/small" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing mounted on $ROOT/small" >&2
	return 1
}

serve_private() {
	conf "$@"
	launch nsenter -t "$NS_PID" -m -- "$CELLFTPD" -c "$CONF"
}

# ---- the key ----

@test "max_upload_size: -t takes bytes with K, M, G, T and names a bad value" {
	make_root
	write_conf <<-EOF
	[server]
	max_upload_size = 10M
	[user alice]
	password_hash = $(printf x | sha256sum | cut -d' ' -f1)
	root = $ROOT
	max_upload_size = 0
	[user bob]
	password_hash = $(printf x | sha256sum | cut -d' ' -f1)
	root = $ROOT
	max_upload_size = 1T
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	for bad in 12X 1.5G -1 2000T "10 M" K; do
		write_conf <<-EOF
		[server]
		max_upload_size = $bad
		EOF
		run "$CELLFTPD" -t -c "$CONF"
		assert_failure
		assert_output --partial "cellftpd.conf:2: max_upload_size: '$bad' is not a size in bytes up to 1024T (a number, optionally followed by K, M, G or T)"
	done
}

# ---- max_upload_size ----

@test "a STOR past max_upload_size is 552: nothing stored, the old file stays; one at the limit is whole" {
	serve "server:max_upload_size = 1K"
	mkfile keep.bin 100
	local old
	old=$(checksum "$ROOT/keep.bin")
	local_file big.bin 1025
	local_file fits.bin 1024
	run curl_alice -T "$BATS_TEST_TMPDIR/big.bin" keep.bin
	assert_failure
	assert_output "curl: (70) Exceeded storage allocation"
	assert_equal "$(checksum "$ROOT/keep.bin")" "$old"
	no_temp_files
	run curl_alice -v -T "$BATS_TEST_TMPDIR/fits.bin" fits.bin
	assert_success
	assert_output --partial "< 226 Transfer complete (1024 bytes)"
	assert_equal "$(checksum "$ROOT/fits.bin")" "$(checksum "$BATS_TEST_TMPDIR/fits.bin")"
	# what the client is told, in full
	run py <<-'EOF'
	import os
	from ftpclient import Control
	c = Control()
	c.login()
	c.data_command("STOR keep.bin", os.urandom(5000))
	EOF
	assert_output "220 FTP server ready
150 Ok to send data for /keep.bin
552 Exceeded storage allocation: files uploaded here may have at most 1024 bytes; nothing stored"
	assert_equal "$(checksum "$ROOT/keep.bin")" "$old"
	no_temp_files
	wait_sessions_gone
	run server_log
	assert_output --regexp "alice: upload /keep\.bin, 1025 bytes in [0-9]+ ms, failed: over max_upload_size \(1024 bytes\)"
	assert_output --regexp "alice: upload /keep\.bin, 5000 bytes in [0-9]+ ms, failed: over max_upload_size \(1024 bytes\)"
	run cat "$XFERLOG"
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp "${XF}1025 /keep\.bin b _ i r alice ftp 0 \* i$"
	assert_line --index 1 --regexp "${XF}1024 /fits\.bin b _ i r alice ftp 0 \* c$"
	assert_line --index 2 --regexp "${XF}5000 /keep\.bin b _ i r alice ftp 0 \* i$"
}

@test "a user's max_upload_size overrides the server's, [user anonymous] too" {
	own_root
	mkdir -m 777 "$ROOT/in"
	conf "server:max_upload_size = 1K" "max_upload_size = 0" \
		"section:[user anonymous]" "section:root = $ROOT" \
		"section:allow_write = upload" "section:max_upload_size = 2K"
	start_server
	local_file up.bin 3000
	# alice: no limit (0), whatever the server's
	run curl_alice -T "$BATS_TEST_TMPDIR/up.bin" in/alice.bin
	assert_success
	assert_equal "$(checksum "$ROOT/in/alice.bin")" "$(checksum "$BATS_TEST_TMPDIR/up.bin")"
	# anonymous: 2K, not the server's 1K
	run ftp_curl -T "$BATS_TEST_TMPDIR/up.bin" in/anon.bin
	assert_failure
	assert_output "curl: (70) Exceeded storage allocation"
	head -c 2048 "$BATS_TEST_TMPDIR/up.bin" >"$BATS_TEST_TMPDIR/two.bin"
	run ftp_curl -T "$BATS_TEST_TMPDIR/two.bin" in/two.bin
	assert_success
	assert_equal "$(checksum "$ROOT/in/two.bin")" "$(checksum "$BATS_TEST_TMPDIR/two.bin")"
	run ls -A "$ROOT/in"
	assert_output "alice.bin
two.bin"
}

@test "APPE onto a file at the limit and REST at or past it are 552 before any data connection" {
	serve "server:max_upload_size = 1000"
	mkfile full.bin 1000
	mkfile part.bin 600
	local full part
	full=$(checksum "$ROOT/full.bin")
	part=$(checksum "$ROOT/part.bin")
	run py <<-'EOF'
	import os
	from ftpclient import Control
	c = Control()
	c.login()
	c.data_command("APPE full.bin", b"x")
	c.cmd("REST 1000")
	c.data_command("STOR part.bin", b"x")
	c.cmd("REST 1001")
	c.data_command("STOR part.bin", b"x")
	# the REST is spent: a whole new upload within the limit works
	c.data_command("STOR part.bin", b"y" * 999)
	EOF
	assert_output "220 FTP server ready
552 Exceeded storage allocation: /full.bin has 1000 bytes, files uploaded here may have at most 1000 bytes
350 Restarting at 1000; send STOR or RETR
552 Exceeded storage allocation: restart position 1000, files uploaded here may have at most 1000 bytes
350 Restarting at 1001; send STOR or RETR
552 Exceeded storage allocation: restart position 1001, files uploaded here may have at most 1000 bytes
150 Ok to send data for /part.bin
226 Transfer complete (999 bytes)"
	assert_equal "$(checksum "$ROOT/full.bin")" "$full"
	no_temp_files
	run server_log
	assert_output --partial "alice: upload /full.bin refused: already 1000 bytes, max_upload_size 1000"
	assert_output --partial "alice: upload /part.bin refused: restart position 1001, max_upload_size 1000"
}

@test "without atomic uploads a refused upload is cut back: APPE to the old file, REST to its offset, STOU to nothing" {
	serve "server:max_upload_size = 1000" "server:atomic_uploads = no"
	mkfile app.bin 600
	mkfile rest.bin 900
	local app
	app=$(checksum "$ROOT/app.bin")
	head -c 300 "$ROOT/rest.bin" >"$BATS_TEST_TMPDIR/rest.head"
	run py <<-'EOF'
	from ftpclient import Control
	c = Control()
	c.login()
	c.data_command("APPE app.bin", b"a" * 401)
	c.cmd("REST 300")
	c.data_command("STOR rest.bin", b"r" * 701)
	c.data_command("STOU", b"u" * 1001)
	c.data_command("STOR new.bin", b"n" * 2000)
	EOF
	assert_line --index 2 "552 Exceeded storage allocation: files uploaded here may have at most 1000 bytes; the file is cut back to 600 bytes"
	assert_line --index 5 "552 Exceeded storage allocation: files uploaded here may have at most 1000 bytes; the file is cut back to 300 bytes"
	assert_line --index 6 --regexp '^150 FILE: /file\.[0-9a-f]{12}$'
	assert_line --index 7 "552 Exceeded storage allocation: files uploaded here may have at most 1000 bytes; nothing stored"
	assert_line --index 9 "552 Exceeded storage allocation: files uploaded here may have at most 1000 bytes; the file is cut back to 0 bytes"
	assert_equal "$(checksum "$ROOT/app.bin")" "$app"
	assert_equal "$(checksum "$ROOT/rest.bin")" "$(checksum "$BATS_TEST_TMPDIR/rest.head")"
	assert_equal "$(stat -c %s "$ROOT/new.bin")" 0
	run ls -A "$ROOT"
	assert_output "app.bin
new.bin
rest.bin"
}

@test "an upload far past the limit is cut off after 16 MiB more, and its reply is still 552" {
	serve "server:max_upload_size = 1K"
	run py <<-'EOF'
	from ftpclient import Control, out
	c = Control()
	c.login()
	d = c.data()
	c.cmd("STOR big.bin")
	sent, chunk = 0, b"z" * (1 << 20)
	try:
	    while sent < (64 << 20):
	        d.sendall(chunk)
	        sent += len(chunk)
	    out("all 64 MiB sent")
	except OSError:
	    out("cut off after", sent >> 20, "MiB")
	c.reply()
	EOF
	assert_line --index 1 "150 Ok to send data for /big.bin"
	assert_line --index 2 --regexp "^cut off after (1[6-9]|2[0-9]) MiB$"
	assert_line --index 3 "552 Exceeded storage allocation: files uploaded here may have at most 1024 bytes; nothing stored"
	no_temp_files
}

# ---- full disks and quotas, on real file systems ----

@test "a full tmpfs is 452; without atomic uploads the bytes that fit stay, and xferlog says incomplete" {
	require_root
	private_mount tmpfs size=1m,mode=0755 tmpfs
	serve_private "server:atomic_uploads = no"
	local_file big.bin 3000000
	run curl_alice -T "$BATS_TEST_TMPDIR/big.bin" small/big.bin
	assert_failure
	assert_output --partial "got 452"
	run py <<-'EOF'
	from ftpclient import Control
	c = Control()
	c.login()
	c.data_command("STOR small/again.bin", b"x" * 100)
	EOF
	assert_line --index 2 "452 Insufficient storage space; the file is incomplete"
	# what fitted: a prefix of the upload, as a resume would want it
	local size
	size=$(stat -c %s "$SMALL/big.bin")
	[ "$size" -gt 0 ] && [ "$size" -lt 3000000 ]
	assert_equal "$(checksum "$SMALL/big.bin")" "$(head -c "$size" "$BATS_TEST_TMPDIR/big.bin" | sha256sum | cut -d' ' -f1)"
	wait_sessions_gone
	run server_log
	assert_output --regexp "alice: upload /small/big\.bin, 3000000 bytes in [0-9]+ ms, failed: disk full"
	run cat "$XFERLOG"
	assert_line --index 0 --regexp "${XF}3000000 /small/big\.bin b _ i r alice ftp 0 \* i$"
}

@test "an exceeded quota (a btrfs qgroup) is 552: the old file stays, no temporary file, xferlog says incomplete" {
	require_root
	if ! command -v mkfs.btrfs >/dev/null || [ ! -e /dev/loop-control ]; then
		skip "needs btrfs-progs and loop devices (tests/deps.sh installs btrfs-progs)"
	fi
	truncate -s 120M "$BATS_TEST_TMPDIR/btrfs.img"
	mkfs.btrfs -q "$BATS_TEST_TMPDIR/btrfs.img" >/dev/null
	private_mount btrfs loop "$BATS_TEST_TMPDIR/btrfs.img"
	nsenter -t "$NS_PID" -m sh -ec "
		btrfs quota enable '$ROOT/small'
		btrfs subvolume create '$ROOT/small/q' >/dev/null
		chown $SYSUSER: '$ROOT/small/q'
		btrfs qgroup limit 1M '$ROOT/small/q'"
	head -c 100000 /dev/urandom >"$SMALL/q/keep.bin"
	chown "$SYSUSER:" "$SMALL/q/keep.bin"
	local old
	old=$(checksum "$SMALL/q/keep.bin")
	serve_private
	local_file big.bin 3000000
	run curl_alice -T "$BATS_TEST_TMPDIR/big.bin" small/q/keep.bin
	assert_failure
	assert_output "curl: (70) Exceeded storage allocation"
	run py <<-'EOF'
	import os
	from ftpclient import Control
	c = Control()
	c.login()
	c.data_command("STOR small/q/keep.bin", os.urandom(2000000))
	EOF
	assert_line --index 2 "552 Exceeded storage allocation (disk quota exceeded); nothing stored"
	assert_equal "$(checksum "$SMALL/q/keep.bin")" "$old"
	run ls -A "$SMALL/q"
	assert_output "keep.bin"
	wait_sessions_gone
	run server_log
	assert_output --regexp "alice: upload /small/q/keep\.bin, 3000000 bytes in [0-9]+ ms, failed: disk quota exceeded"
	run cat "$XFERLOG"
	assert_line --index 0 --regexp "${XF}3000000 /small/q/keep\.bin b _ i r alice ftp 0 \* i$"
}

@test "past the session's file size limit (RLIMIT_FSIZE) an upload is 552, not a killed session" {
	own_root
	mkfile keep.bin 1000
	local old
	old=$(checksum "$ROOT/keep.bin")
	conf
	# as pam_limits' fsize would set it: 100000 bytes
	launch prlimit --fsize=100000 "$CELLFTPD" -c "$CONF"
	local_file big.bin 300000
	run curl_alice -T "$BATS_TEST_TMPDIR/big.bin" keep.bin
	assert_failure
	assert_output "curl: (70) Exceeded storage allocation"
	run py <<-'EOF'
	from ftpclient import Control
	c = Control()
	c.login()
	c.data_command("STOR keep.bin", b"x" * 200000)
	c.cmd("NOOP")
	EOF
	assert_line --index 2 "552 Exceeded storage allocation (file too large); nothing stored"
	assert_line --index 3 "200 NOOP ok"
	assert_equal "$(checksum "$ROOT/keep.bin")" "$old"
	no_temp_files
	wait_sessions_gone
	run server_log
	assert_output --regexp "alice: upload /keep\.bin, 300000 bytes in [0-9]+ ms, failed: file too large"
}

# ---- ABOR ----

@test "ABOR after a transfer that ended, or with none, is 226 (RFC 959 4.1.3)" {
	serve
	mkfile f.bin 200000
	run py <<-'EOF'
	from ftpclient import Control, recv_all, out
	c = Control()
	c.login()
	c.cmd("ABOR")
	# the whole file is in, then ABOR before the transfer's reply is read
	d = c.data()
	c.cmd("RETR f.bin")
	out(len(recv_all(d)), "bytes")
	d.close()
	c.send("ABOR")
	c.reply()
	c.reply()
	# a prepared data connection is closed, and REST forgotten
	c.cmd("REST 100")
	c.quiet("PASV")
	c.cmd("ABOR")
	c.data_command("RETR f.bin")
	EOF
	assert_output "220 FTP server ready
226 Abort successful: no transfer was running
150 Opening BINARY mode data connection for /f.bin (200000 bytes)
200000 bytes
226 Transfer complete (200000 bytes)
226 Abort successful: no transfer was running
350 Restarting at 100; send STOR or RETR
226 Abort successful: no transfer was running
150 Opening BINARY mode data connection for /f.bin (200000 bytes)
226 Transfer complete (200000 bytes)"
}
