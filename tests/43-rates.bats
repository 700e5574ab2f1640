#!/usr/bin/env bats
# Transfer rate limits: max_rate_download and max_rate_upload, in
# [server] and per [user] (anonymous included), on RETR, STOR, APPE,
# conversions and listings, with and without TLS. A limiter makes a
# transfer last at least BYTES/RATE however fast the machine is, so the
# tests check that lower bound from the server's own log line, never an
# upper one; how close the rate comes is measured by `make bench`.

load helper

SYSUSER=${ACCOUNT_PREFIX}g-rates
# shellcheck disable=SC2034 # the passive ports, read by alice_conf (helper.bash)
RANGE_LO=$((PASSIVE_BASE + 7000)) RANGE_HI=$((PASSIVE_BASE + 7099))

cleanup() {
	remove_accounts
}

# at_least_rate upload|download PATH RATE: the log's line for PATH says
# it took no less than its bytes at RATE bytes per second
at_least_rate() {
	wait_log "alice: $1 $2, "
	local line bytes ms
	line=$(grep -E -- "alice: $1 $2, [0-9]+ bytes in [0-9]+ ms\$" "$SERVER_LOG" | tail -1)
	[ -n "$line" ] || { server_log >&2; return 1; }
	bytes=$(sed -E 's/.*, ([0-9]+) bytes in ([0-9]+) ms$/\1/' <<<"$line")
	ms=$(sed -E 's/.*, ([0-9]+) bytes in ([0-9]+) ms$/\2/' <<<"$line")
	if [ "$ms" -lt $((bytes * 1000 / $3 - 2)) ]; then
		echo "$2: $bytes bytes in $ms ms, faster than $3 bytes/s" >&2
		return 1
	fi
}

@test "-t takes rates with K, M and G, in [server] and [user], and names a bad one" {
	own_root
	alice_conf "server:max_rate_download = 10M" "server:max_rate_upload = 512K" \
		"max_rate_download = 1G" "max_rate_upload = 0"
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	alice_conf "server:max_rate_download = fast"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure
	assert_output --partial "max_rate_download: 'fast' is not a size in bytes"
	alice_conf "max_rate_upload = -1"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure
	assert_output --partial "max_rate_upload: '-1' is not a size in bytes"
}

@test "RETR and STOR keep to the server's rates, and a user's own rate wins" {
	own_root
	mkfile down.bin 1500000
	local_file up.bin 600000
	alice_conf "server:max_rate_download = 4M" "server:max_rate_upload = 400K" \
		"max_rate_download = 1M"
	start_server
	run ftp_curl -u alice:pw -o "$BATS_TEST_TMPDIR/got.bin" down.bin
	assert_success
	assert_equal "$(checksum "$BATS_TEST_TMPDIR/got.bin")" "$(checksum "$ROOT/down.bin")"
	at_least_rate download /down.bin $((1 << 20))
	run ftp_curl -u alice:pw -T "$BATS_TEST_TMPDIR/up.bin" up.bin
	assert_success
	assert_equal "$(checksum "$ROOT/up.bin")" "$(checksum "$BATS_TEST_TMPDIR/up.bin")"
	at_least_rate upload /up.bin $((400 << 10))
	# APPE continues under the upload rate
	run ftp_curl -u alice:pw --append -T "$BATS_TEST_TMPDIR/up.bin" up.bin
	assert_success
	[ "$(stat -c %s "$ROOT/up.bin")" -eq 1200000 ]
	run grep -c "alice: upload /up.bin, 600000 bytes in " "$SERVER_LOG"
	assert_output 2
}

@test "anonymous has its own rate; conversions and listings keep to it too" {
	make_root
	mkdir -p "$ROOT/tree"
	head -c 700000 /dev/urandom >"$ROOT/tree/a.bin"
	local i
	for i in $(seq 600); do : >"$ROOT/tree/name-with-some-length-$i"; done
	chmod -R a+rX "$ROOT"
	write_conf <<-EOF
	[server]
	log = stderr
	conversions = yes
	max_rate_download = 8M
	passive_ports = $RANGE_LO-$RANGE_HI
	[user anonymous]
	root = $ROOT
	max_rate_download = 500K
	EOF
	start_server
	run ftp_curl --ignore-content-length -u anonymous:guest \
		-o "$BATS_TEST_TMPDIR/tree.tar" tree.tar
	assert_success
	run tar -tf "$BATS_TEST_TMPDIR/tree.tar"
	assert_line "tree/a.bin"
	wait_log "anonymous: download /tree.tar"
	local line bytes ms
	line=$(grep -E "download /tree\.tar, [0-9]+ bytes in [0-9]+ ms" "$SERVER_LOG")
	bytes=$(sed -E 's/.*, ([0-9]+) bytes in ([0-9]+) ms.*/\1/' <<<"$line")
	ms=$(sed -E 's/.*, ([0-9]+) bytes in ([0-9]+) ms.*/\2/' <<<"$line")
	[ "$bytes" -gt 700000 ]
	[ "$ms" -ge $((bytes * 1000 / (500 << 10) - 2)) ]
	# a listing of about 50 kB at 500 KiB/s: at least its bytes' time
	run env PORT="$PORT" PYTHONPATH="$BATS_TEST_DIRNAME" python3 - <<-'EOF'
	import time, ftpclient
	c = ftpclient.Control(show=False)
	c.login("anonymous", "guest")
	t = time.monotonic()
	r, final, data = c.data_command("LIST tree")
	took = time.monotonic() - t
	print(final[:3], data.count(b"\r\n"))
	print("slow enough" if took >= len(data) / (500 * 1024) - 0.002 else
	      "too fast: %d bytes in %.3f s" % (len(data), took))
	EOF
	assert_line "226 601"
	assert_line "slow enough"
}

@test "FTPS: PROT P transfers keep to the rates" {
	own_root
	local certs="$BATS_TEST_TMPDIR/certs"
	test_cert "$certs"
	mkfile down.bin 800000
	local_file up.bin 500000
	alice_conf "server:tls = explicit" "server:tls_certificate = $certs/cert.pem" \
		"server:tls_key = $certs/key.pem" "max_rate_download = 1M" "max_rate_upload = 500K"
	start_server
	run ftp_curl -k --ssl-reqd -u alice:pw -o "$BATS_TEST_TMPDIR/got.bin" down.bin
	assert_success
	assert_equal "$(checksum "$BATS_TEST_TMPDIR/got.bin")" "$(checksum "$ROOT/down.bin")"
	at_least_rate download /down.bin $((1 << 20))
	run ftp_curl -k --ssl-reqd -u alice:pw -T "$BATS_TEST_TMPDIR/up.bin" up.bin
	assert_success
	assert_equal "$(checksum "$ROOT/up.bin")" "$(checksum "$BATS_TEST_TMPDIR/up.bin")"
	at_least_rate upload /up.bin $((500 << 10))
}

@test "ABOR and STAT are answered while a rate-limited transfer waits" {
	own_root
	mkfile slow.bin 2000000
	alice_conf "max_rate_download = 100K"
	start_server
	run env PORT="$PORT" PYTHONPATH="$BATS_TEST_DIRNAME" python3 - <<-'EOF'
	import socket, ftpclient
	c = ftpclient.Control(show=False)
	c.login("alice", "pw")
	c.quiet("TYPE I")
	d = socket.create_connection(("127.0.0.1", c.epsv_port()), 20)
	print(c.cmd("RETR slow.bin")[:3])
	got = d.recv(65536)
	print(c.cmd("STAT")[:29])
	print(c.cmd("ABOR")[:3], c.reply()[:3])
	d.close()
	print(c.cmd("NOOP")[:3])
	EOF
	assert_success
	assert_line "150"
	assert_line --partial "213 Transfer in progress: "
	assert_line --regexp "^(426 226|226 225|426 225)$"
	assert_line "200"
	wait_log "alice: download /slow.bin"
	run grep "alice: download /slow.bin" "$SERVER_LOG"
	assert_output --partial "failed"
}
