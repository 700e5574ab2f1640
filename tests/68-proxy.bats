#!/usr/bin/env bats
# The PROXY protocol (issue 14): a load balancer in proxy_from sends a v1
# or v2 header first, naming the client, and that client is the session's
# everywhere (log, xferlog, max_sessions_per_ip, [passive_addresses],
# PORT/EPRT, passive data connections); a peer outside proxy_from is
# refused or, when told, served directly; bad headers are closed with one
# log line, health checks quietly. No HAProxy here (tests/8x-fleet.bats
# has it): tests/proxysend.py plays the balancer on 127.0.0.1, and the
# clients it names are other loopback addresses (127.0.0.21, 127.0.0.22)
# or documentation ones (2001:db8::/32, 192.0.2.0/24).

load helper

SYSUSER=${ACCOUNT_PREFIX}x-proxy
# shellcheck disable=SC2034 # the passive ports, read by alice_conf (helper.bash)
RANGE_LO=$((PASSIVE_BASE + 6000)) RANGE_HI=$((PASSIVE_BASE + 6099))
PROXYSEND="$BATS_TEST_DIRNAME/proxysend.py"

# The test certificate, for the two FTPS tests (test_cert, tests/helper.bash).
setup_file() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	test_cert "$CERTS"
}

setup() {
	BG_PIDS=()
}

cleanup() {
	stop_background
	remove_accounts
}

# conf [server:LINE | section:LINE | LINE]...: alice_conf (helper.bash)
# with proxy_protocol = any and proxy_from = 127.0.0.1 unless the lines
# set them. serve (helper.bash) writes it and starts the server.
conf() {
	local given proxy=()
	given=$'\n'$(printf '%s\n' "$@")
	[[ $given == *$'\n'"server:proxy_protocol ="* ]] ||
		proxy+=("server:proxy_protocol = any")
	[[ $given == *$'\n'"server:proxy_from ="* ]] ||
		proxy+=("server:proxy_from = 127.0.0.1")
	alice_conf "${proxy[@]}" "$@"
}

# pchat SPEC LINE...: a dialogue behind the header SPEC (tests/proxysend.py)
pchat() {
	python3 "$PROXYSEND" "$PORT" "$@"
}

# py [ARGS]: the Python script on stdin, with tests/proxysend.py and
# tests/ftpclient.py importable and PORT, ROOT, CERT set.
py() {
	PORT=$PORT ROOT=$ROOT CERT=$CERTS/cert.pem PYTHONPATH=$BATS_TEST_DIRNAME \
		python3 - "$@"
}

# The server's own log lines (the launcher writes its own to the file too).
own_log() {
	grep -F 'cellftpd[' "$SERVER_LOG" || true
}

# wait_ended N: up to 5 s for the launcher to see N sessions end
wait_ended() {
	local _
	for _ in $(seq 100); do
		[ "$(grep -c '^Child [0-9]* died' "$SERVER_LOG")" -ge "$1" ] && return 0
		sleep 0.05
	done
	echo "fewer than $1 sessions ended" >&2
	server_log >&2
	return 1
}

# A -t configuration, mode 0600, with the [server] lines given:
# tconf LINE...  (line 3 is the first of them)
tconf() {
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	$(printf '%s\n' "$@")
	[user alice]
	password_hash = $(printf '%s' "pw12345678" | sha256sum | cut -d' ' -f1)
	password_salt = 12345678
	root = $ROOT
	EOF
	chmod 600 "$CONF"
}

@test "-t: proxy_protocol needs proxy_from, every entry must parse, and without the protocol it is a warning" {
	tconf "proxy_protocol = v2"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_output --partial "cellftpd.conf:3: proxy_protocol = v2 needs proxy_from"
	assert_output --partial "not usable"

	tconf "proxy_protocol = any" "proxy_from = 10.0.0.0/33"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_output --partial "cellftpd.conf:4: proxy_from: '10.0.0.0/33' is not an address or a network"

	tconf "proxy_protocol = v1" "proxy_from = 127.0.0.1, nonsense"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_output --partial "cellftpd.conf:4: proxy_from: 'nonsense' is not an address or a network"
	refute_output --partial "'127.0.0.1'"

	tconf "proxy_from = 127.0.0.1"
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_output --partial "cellftpd.conf:3: warning: proxy_from has no effect with proxy_protocol = no"
	assert_output --partial "usable, 1 user, 0 errors, 1 warning"

	tconf "proxy_protocol = any" "proxy_from = 10.0.0.0/8, 127.0.0.1, 2001:db8::/32" \
		"proxy_untrusted = direct"
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_output --partial "usable, 1 user, 0 errors, 0 warnings"
}

@test "a v1 header names the client: the greeting, then connect and login lines carry its address" {
	serve
	run pchat "v1,127.0.0.21,127.0.0.1,40021,2121" "USER alice" "PASS pw" "QUIT"
	assert_output "220 FTP server ready
331 Please specify the password
230 Login successful
221 Goodbye"
	wait_log "127.0.0.21 -: connect to 127.0.0.1 port 2121 through 127.0.0.1"
	wait_log "127.0.0.21 alice: logged in as system user $SYSUSER"
	wait_log "127.0.0.21 alice: logout"
	run own_log
	refute_output --regexp "cellftpd\[[0-9]+\]: 127\.0\.0\.1 "
}

@test "a v2 header with TLVs names the client: passive transfers through the balancer, log and xferlog name it" {
	serve "server:xferlog = $BATS_TEST_TMPDIR/xferlog"
	mkfile down.bin 300000
	local_file up.bin 200000
	run py "$BATS_TEST_TMPDIR/up.bin" <<-'PY'
	import sys, proxysend
	from ftpclient import sha, disk
	c = proxysend.Proxied("v2tlv,127.0.0.21,127.0.0.1", show=False)
	c.login()
	c.quiet("TYPE I")
	d = c.data(spec="v2tlv,127.0.0.21,127.0.0.1,40022,21")
	_, end, data = c.data_command("RETR down.bin", d=d)
	print(end, "same" if sha(data) == sha(disk("down.bin")) else "DIFFERENT")
	d = c.data(spec="v1,127.0.0.21,127.0.0.1,40023,21")
	_, end, _ = c.data_command("STOR up.bin", d=d, send=open(sys.argv[1], "rb").read())
	print(end)
	print(c.cmd("QUIT"))
	PY
	assert_output "226 Transfer complete (300000 bytes) same
226 Transfer complete (200000 bytes)
221 Goodbye"
	assert_equal "$(checksum "$ROOT/up.bin")" "$(checksum "$BATS_TEST_TMPDIR/up.bin")"
	wait_log "127.0.0.21 alice: logout"
	run own_log
	assert_output --regexp "127\.0\.0\.21 alice: download /down\.bin, 300000 bytes in [0-9]+ ms"
	assert_output --regexp "127\.0\.0\.21 alice: upload /up\.bin, 200000 bytes in [0-9]+ ms"
	refute_output --partial "refused"
	run cat "$BATS_TEST_TMPDIR/xferlog"
	assert_line --index 0 --regexp " [0-9]+ 127\.0\.0\.21 300000 /down\.bin b _ o r alice ftp 0 \* c$"
	assert_line --index 1 --regexp " [0-9]+ 127\.0\.0\.21 200000 /up\.bin b _ i r alice ftp 0 \* c$"
}

@test "a passive data connection from the balancer needs a header naming the session's client" {
	serve "server:data_timeout = 1"
	mkfile f.bin 100000
	run py <<-'PY'
	import proxysend
	from ftpclient import sha, disk
	c = proxysend.Proxied("v1,127.0.0.21,127.0.0.1", show=False)
	c.login()
	c.quiet("TYPE I")
	# straight from 127.0.0.1, a balancer's address, file data first
	d = c.data()
	d.sendall(b"not a PROXY header\r\n")
	r, end, _ = c.data_command("STOR no-header.bin", d=d)
	print(r, end)
	# a header that names another client
	d = c.data(spec="v2,127.0.0.22,127.0.0.1")
	r, end, _ = c.data_command("RETR f.bin", d=d)
	print(r, end)
	# the session's client
	d = c.data(spec="v2,127.0.0.21,127.0.0.1")
	_, end, data = c.data_command("RETR f.bin", d=d)
	print(end, "same" if sha(data) == sha(disk("f.bin")) else "DIFFERENT")
	PY
	assert_output "425 Cannot open data connection None
425 Cannot open data connection None
226 Transfer complete (100000 bytes) same"
	[ ! -e "$ROOT/no-header.bin" ]
	run own_log
	assert_output --partial "127.0.0.21 alice: passive data connection through 127.0.0.1 refused: no PROXY header"
	assert_output --partial "127.0.0.21 alice: passive data connection through 127.0.0.1 refused: its PROXY header names 127.0.0.22, not the control connection's client"
	assert_output --regexp "127\.0\.0\.21 alice: download /f\.bin, 100000 bytes"
}

@test "a data connection straight from the header's client needs no header" {
	serve "server:data_timeout = 1"
	mkfile f.bin 50000
	run py <<-'PY'
	import proxysend
	from ftpclient import sha, disk
	c = proxysend.Proxied("v1,127.0.0.21,127.0.0.1", show=False)
	c.login()
	c.quiet("TYPE I")
	_, end, data = c.data_command("RETR f.bin", d=c.data(src="127.0.0.21"))
	print(end, "same" if sha(data) == sha(disk("f.bin")) else "DIFFERENT")
	# from an address that is neither the client nor a balancer
	r, end, _ = c.data_command("RETR f.bin", d=c.data(src="127.0.0.22"))
	print(r)
	PY
	assert_line --index 0 "226 Transfer complete (50000 bytes) same"
	assert_line --index 1 --partial "425 "
	wait_log "passive data connection from 127.0.0.22 refused: not the control connection's address"
}

@test "active mode goes to the header's client only: PORT to it is served, to the balancer it is a bounce attempt" {
	serve
	mkfile f.bin 70000
	run py <<-'PY'
	import socket, proxysend
	from ftpclient import sha, disk, recv_all
	lst = socket.socket()
	lst.bind(("127.0.0.21", 0))
	lst.listen(1)
	lst.settimeout(20)
	p = lst.getsockname()[1]
	c = proxysend.Proxied("v1,127.0.0.21,127.0.0.1", show=False)
	c.login()
	c.quiet("TYPE I")
	print(c.cmd("PORT 127,0,0,21,%d,%d" % (p >> 8, p & 255)))
	print(c.cmd("RETR f.bin")[:3])
	d, _ = lst.accept()
	data = recv_all(d)
	d.close()
	print(c.reply(), "same" if sha(data) == sha(disk("f.bin")) else "DIFFERENT")
	print(c.cmd("PORT 127,0,0,1,%d,%d" % (p >> 8, p & 255))[:4])
	print(c.cmd("EPRT |1|127.0.0.1|%d|" % p)[:4])
	print(c.cmd("EPRT |1|127.0.0.21|%d|" % p)[:4])
	PY
	assert_output "200 PORT command successful
150
226 Transfer complete (70000 bytes) same
500 
500 
200 "
	run own_log
	assert_output --regexp "127\.0\.0\.21 alice: PORT to 127\.0\.0\.1 port [0-9]+ refused \(bounce attempt"
	assert_output --regexp "127\.0\.0\.21 alice: EPRT to 127\.0\.0\.1 port [0-9]+ refused \(bounce attempt"
	assert_output --regexp "127\.0\.0\.21 alice: download /f\.bin, 70000 bytes"
}

@test "PASV offers the header's destination address; the data connection reaches this host" {
	serve
	mkfile f.bin 40000
	run py <<-'PY'
	import re, proxysend
	from ftpclient import sha, disk
	c = proxysend.Proxied("v1,127.0.0.21,192.0.2.10", show=False)
	c.login()
	c.quiet("TYPE I")
	r = c.quiet("PASV")
	m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
	print(".".join(m.group(1, 2, 3, 4)))
	d = proxysend.data(int(m.group(5)) * 256 + int(m.group(6)), "v1,127.0.0.21,192.0.2.10")
	_, end, data = c.data_command("RETR f.bin", d=d)
	print(end, "same" if sha(data) == sha(disk("f.bin")) else "DIFFERENT")
	PY
	assert_output "192.0.2.10
226 Transfer complete (40000 bytes) same"
	wait_log "127.0.0.21 -: connect to 192.0.2.10 port 21 through 127.0.0.1"
}

@test "[passive_addresses] chooses by the header's client, not by the balancer" {
	serve "section:[passive_addresses]" "section:127.0.0.21 = 198.51.100.21" \
		"section:127.0.0.22 = 198.51.100.22"
	run pchat "v1,127.0.0.21,127.0.0.1" "USER alice" "PASS pw" "PASV" "QUIT"
	assert_line --index 3 --regexp '^227 Entering Passive Mode \(198,51,100,21,[0-9]+,[0-9]+\)'
	run pchat "v2,127.0.0.22,127.0.0.1" "USER alice" "PASS pw" "PASV" "QUIT"
	assert_line --index 3 --regexp '^227 Entering Passive Mode \(198,51,100,22,[0-9]+,[0-9]+\)'
}

@test "max_sessions_per_ip counts the header's client, not the balancer" {
	serve "server:max_sessions_per_ip = 1"
	local first="$BATS_TEST_TMPDIR/first"
	pchat "v1,127.0.0.21,127.0.0.1" "USER alice" "sleep:5" >"$first" &
	BG_PIDS+=($!)
	for _ in $(seq 100); do
		grep -q '^331' "$first" && break
		sleep 0.05
	done
	run cat "$first"
	assert_output --partial "331 "
	run pchat "v2,127.0.0.21,127.0.0.1" "close?"
	assert_output "421 Too many sessions; try again later
CLOSED"
	run pchat "v1,127.0.0.22,127.0.0.1" "USER alice" "PASS pw" "QUIT"
	assert_output "220 FTP server ready
331 Please specify the password
230 Login successful
221 Goodbye"
}

@test "IPv6: a TCP6 v1 header and an AF_INET6 v2 header name v6 clients, and EPSV works" {
	serve
	mkfile f.bin 60000
	run py <<-'PY'
	import proxysend
	from ftpclient import sha, disk
	for spec in ("v1,2001:db8::21,2001:db8::1", "v2tlv,2001:db8::22,2001:db8::1"):
	    c = proxysend.Proxied(spec, show=False)
	    c.login()
	    c.quiet("TYPE I")
	    print(c.quiet("PASV"))
	    _, end, data = c.data_command("RETR f.bin", d=c.data(spec=spec))
	    print(end, "same" if sha(data) == sha(disk("f.bin")) else "DIFFERENT")
	    c.quiet("QUIT")
	PY
	assert_output "522 PASV needs IPv4; use EPSV
226 Transfer complete (60000 bytes) same
522 PASV needs IPv4; use EPSV
226 Transfer complete (60000 bytes) same"
	wait_log "2001:db8::22 alice: logout"
	run own_log
	assert_output --partial "2001:db8::21 -: connect to 2001:db8::1 port 21 through 127.0.0.1"
	assert_output --regexp "2001:db8::21 alice: download /f\.bin, 60000 bytes"
	assert_output --regexp "2001:db8::22 alice: download /f\.bin, 60000 bytes"
}

@test "a header sent in pieces, or with commands behind it in one segment, loses nothing" {
	serve
	run pchat "pieces:4:v2tlv,127.0.0.21,127.0.0.1" "USER alice" "PASS pw" "QUIT"
	assert_output "220 FTP server ready
331 Please specify the password
230 Login successful
221 Goodbye"
	run pchat "pieces:3:v1,127.0.0.22,127.0.0.1" "USER alice" "QUIT"
	assert_output "220 FTP server ready
331 Please specify the password
221 Goodbye"
	run pchat "v2,127.0.0.23,127.0.0.1+USER alice\r\nPASS pw\r\nPWD\r\n" "replies:3" "QUIT"
	assert_output "220 FTP server ready
331 Please specify the password
230 Login successful
257 \"/\" is the current directory
221 Goodbye"
	run pchat "v1,127.0.0.24,127.0.0.1+USER alice\r\n" "replies:1" "QUIT"
	assert_output "220 FTP server ready
331 Please specify the password
221 Goodbye"
	run own_log
	assert_output --partial "127.0.0.21 alice: logged in"
	assert_output --partial "127.0.0.22 -: connect to 127.0.0.1 port 21 through 127.0.0.1"
	assert_output --partial "127.0.0.23 alice: logged in"
	assert_output --partial "127.0.0.24 -: connect to 127.0.0.1 port 21 through 127.0.0.1"
	refute_output --partial "refused"
}

@test "health checks (v2 LOCAL, v1 UNKNOWN, a bare connect) get the banner or nothing: no log line, no process" {
	serve "server:banner = fleet host one"
	run pchat v2local "close?"
	assert_output "220 fleet host one
CLOSED"
	run pchat v1unknown "close?"
	assert_output "220 fleet host one
CLOSED"
	run pchat "raw:PROXY UNKNOWN ff::1 ff::2 1 2\r\n" "close?"
	assert_output "220 fleet host one
CLOSED"
	python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5).close()' "$PORT"
	wait_ended 4
	wait_sessions_gone
	run own_log
	assert_output ""
}

@test "a header naming the balancer's own end of the connection is a health check; another port is a client" {
	serve "server:banner = fleet host one"
	# as HAProxy 2.6 checks: the source is this very connection's
	run py <<-'EOF'
	import os, socket
	port = int(os.environ["PORT"])
	for v in (1, 2):
	    s = socket.create_connection(("127.0.0.1", port), 5)
	    me = s.getsockname()[1]
	    if v == 1:
	        s.sendall(b"PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\n" % (me, port))
	    else:
	        s.sendall(b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c" + bytes([127, 0, 0, 1]) * 2
	                  + me.to_bytes(2, "big") + port.to_bytes(2, "big"))
	    out = b""
	    while True:
	        b = s.recv(4096)
	        if not b:
	            break
	        out += b
	    print(v, out.decode().strip())
	EOF
	assert_output "1 220 fleet host one
2 220 fleet host one"
	wait_ended 2
	run own_log
	assert_output ""
	# the balancer's address with another port: a client of its own
	run py <<-'EOF'
	import os, socket
	port = int(os.environ["PORT"])
	s = socket.create_connection(("127.0.0.1", port), 5)
	me = s.getsockname()[1]
	s.sendall(b"PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\nQUIT\r\n" % (me ^ 1, port))
	print(s.recv(4096).decode().strip())
	EOF
	assert_output --partial "220 fleet host one"
	wait_ended 3
	run own_log
	assert_output --partial "127.0.0.1 -: connect to 127.0.0.1 port $PORT through 127.0.0.1"
}

@test "malformed, truncated and over-long headers: closed without a reply, one log line each, no process" {
	serve
	local sig='\r\n\r\n\x00\r\nQUIT\n' addrs='\x7f\x00\x00\x15\x7f\x00\x00\x01\x9c\x55\x00\x15'
	local cases=(
		"raw:PROXY TCP5 127.0.0.21 127.0.0.1 40021 21\r\n|v1 header with an unknown protocol"
		"raw:PROXY TCP4 127.0.0.21 127.0.0.1 40021\r\n|v1 header without exactly four addresses and ports"
		"raw:PROXY TCP4 127.0.0.21  127.0.0.1 40021 21\r\n|v1 header without exactly four addresses and ports"
		"raw:PROXY TCP4 127.0.0.321 127.0.0.1 40021 21\r\n|v1 header with an address that does not parse"
		"raw:PROXY TCP6 127.0.0.21 127.0.0.1 40021 21\r\n|v1 header with an address that does not parse"
		"raw:PROXY TCP4 127.0.0.21 127.0.0.1 40021 65536\r\n|v1 header with a port that does not parse"
		"raw:PROXY TCP4 127.0.0.21 127.0.0.1 40021 21\n|v1 header with a byte that is not printable"
		"raw:PROXY TCP4 $(printf '%0100d' 0)|v1 header longer than 107 bytes"
		"raw:${sig}\x21\x11\x04\x00|v2 header longer than 1024 bytes"
		"raw:${sig}\x31\x11\x00\x0c${addrs}|v2 header of an unknown version"
		"raw:${sig}\x22\x11\x00\x0c${addrs}|v2 header with an unknown command"
		"raw:${sig}\x21\x12\x00\x0c${addrs}|v2 header for a client that is not TCP over IP"
		"raw:${sig}\x21\x11\x00\x08${addrs:0:32}|v2 header shorter than its addresses"
		"raw:${sig}\x21\x11\x00\x0f${addrs}\x01\x00\x05|v2 header with a broken TLV"
		"raw:USER alice\r\n|no PROXY header"
	)
	local c
	for c in "${cases[@]}"; do
		run pchat "${c%%|*}"
		assert_output "EOF"
		wait_log "PROXY header refused: ${c#*|}"
	done
	# the balancer goes away in the middle of a header
	run py <<-'PY'
	import socket
	from ftpclient import PORT, connect, recv_all
	s = connect(PORT)
	s.sendall(b"PROXY TCP4 127.0.0.21 ")
	s.shutdown(socket.SHUT_WR)
	print(recv_all(s) or "EOF")
	PY
	assert_output "EOF"
	wait_log "PROXY header refused: connection closed before a whole PROXY header"
	wait_sessions_gone
	run own_log
	assert_equal "${#lines[@]}" $((${#cases[@]} + 1))
	refute_output --partial "connect to"
	refute_output --partial "127.0.0.21"
}

@test "a header that does not come whole within 3000 ms: closed, one log line, no process" {
	serve
	SECONDS=0
	run pchat "raw:PROXY TCP4 127.0.0.21 127.0.0.1 "
	assert_output "EOF"
	[ "$SECONDS" -ge 2 ]
	wait_log "PROXY header refused: no whole PROXY header within 3000 ms"
	wait_sessions_gone
	run own_log
	assert_equal "${#lines[@]}" 1
}

@test "proxy_protocol = v1 refuses a v2 header, v2 a v1 header" {
	serve "server:proxy_protocol = v1"
	run pchat "v2,127.0.0.21,127.0.0.1" "QUIT"
	assert_output "EOF"
	wait_log "PROXY header refused: no PROXY v1 header"
	run pchat "v1,127.0.0.21,127.0.0.1" "QUIT"
	assert_output "220 FTP server ready
221 Goodbye"
	stop_server
	conf "server:proxy_protocol = v2"
	start_server
	run pchat "v1,127.0.0.22,127.0.0.1" "QUIT"
	assert_output "EOF"
	wait_log "PROXY header refused: no PROXY v2 header"
	run pchat "v2,127.0.0.22,127.0.0.1" "QUIT"
	assert_output "220 FTP server ready
221 Goodbye"
	wait_sessions_gone
}

@test "a peer outside proxy_from is refused with 421, and the header it sends is not believed" {
	serve
	FTP_SOURCE=127.0.0.21 run pchat "v1,10.9.8.7,127.0.0.1" "close?"
	assert_output "421 Service not available: connect through the load balancer
CLOSED"
	FTP_SOURCE=127.0.0.21 run pchat none "close?"
	assert_output "421 Service not available: connect through the load balancer
CLOSED"
	wait_sessions_gone
	run own_log
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --partial "127.0.0.21 -: connection refused: 127.0.0.21 is not in proxy_from"
	assert_line --index 1 --partial "127.0.0.21 -: connection refused: 127.0.0.21 is not in proxy_from"
	refute_output --partial "10.9.8.7"
}

@test "proxy_untrusted = direct: a peer outside proxy_from is served as itself; its header is an unknown command" {
	serve "server:proxy_untrusted = direct"
	FTP_SOURCE=127.0.0.21 run pchat "v1,10.9.8.7,127.0.0.1" "replies:1" "USER alice" "PASS pw" "QUIT"
	assert_output "220 FTP server ready
500 Unknown command PROXY
331 Please specify the password
230 Login successful
221 Goodbye"
	# the balancer's clients still come through it
	run pchat "v1,127.0.0.22,127.0.0.1" "QUIT"
	assert_output "220 FTP server ready
221 Goodbye"
	wait_sessions_gone
	run own_log
	assert_line --regexp "127\.0\.0\.21 -: connect to 127\.0\.0\.1 port $PORT$"
	assert_output --partial "127.0.0.21 alice: logged in"
	assert_output --partial "127.0.0.22 -: connect to 127.0.0.1 port 21 through 127.0.0.1"
	refute_output --partial "10.9.8.7"
}

@test "explicit FTPS after the header: AUTH TLS, login, a protected passive download through the balancer" {
	serve "server:tls = explicit" "server:tls_certificate = $CERTS/cert.pem" \
		"server:tls_key = $CERTS/key.pem"
	mkfile f.bin 100000
	run py <<-'PY'
	import proxysend
	from ftpclient import sha, disk
	c = proxysend.ProxiedTLS("v2,127.0.0.21,127.0.0.1", show=False)
	print(c.starttls()[:3])
	c.login()
	c.quiet("PBSZ 0")
	print(c.quiet("PROT P"))
	c.quiet("TYPE I")
	d = proxysend.data(c.epsv_port(), "v1,127.0.0.21,127.0.0.1")
	_, end, data = c.data_command("RETR f.bin", d=d, tls=True)
	print(end, "same" if sha(data) == sha(disk("f.bin")) else "DIFFERENT")
	PY
	assert_output "234
200 PROT now Private
226 Transfer complete (100000 bytes) same"
	wait_log "127.0.0.21 alice: download /f.bin, 100000 bytes"
}

@test "implicit FTPS: the header, then the TLS handshake, then the greeting; a LOCAL check stays quiet" {
	SERVE_OPTS=-i serve "server:tls_certificate = $CERTS/cert.pem" \
		"server:tls_key = $CERTS/key.pem"
	mkfile f.bin 80000
	run py <<-'PY'
	import proxysend
	from ftpclient import sha, disk
	c = proxysend.ProxiedTLS("v1,127.0.0.21,127.0.0.1", implicit=True, show=False)
	print(c.s.version().startswith("TLS"), c.greeting)
	c.login()
	c.quiet("PBSZ 0")
	c.quiet("PROT P")
	c.quiet("TYPE I")
	d = proxysend.data(c.epsv_port(), "v2,127.0.0.21,127.0.0.1")
	_, end, data = c.data_command("RETR f.bin", d=d, tls=True)
	print(end, "same" if sha(data) == sha(disk("f.bin")) else "DIFFERENT")
	PY
	assert_output "True 220 FTP server ready
226 Transfer complete (80000 bytes) same"
	wait_log "127.0.0.21 -: connect to 127.0.0.1 port 21 through 127.0.0.1"
	wait_log "127.0.0.21 alice: download /f.bin, 80000 bytes"
	wait_sessions_gone
	local before
	before=$(own_log | wc -l)
	run pchat v2local
	assert_output "EOF"
	wait_sessions_gone
	assert_equal "$(own_log | wc -l)" "$before"
}

@test "privilege separation: a proxied session's network side runs as nobody before login, as the account after" {
	serve
	pchat "v1,127.0.0.21,127.0.0.1" "USER alice" "sleep:3" >/dev/null &
	local before_login=$!
	assert_session_tree 0 "$(id -u "$PRELOGIN_USER")"
	kill "$before_login"
	wait "$before_login" || true
	wait_sessions_gone
	pchat "v2,127.0.0.21,127.0.0.1" "USER alice" "PASS pw" "sleep:3" >/dev/null &
	BG_PIDS+=($!)
	wait_log "127.0.0.21 alice: logged in"
	for _ in $(seq 40); do
		[ "$(session_tree | wc -l)" -eq 1 ] && break
		sleep 0.05
	done
	run session_tree
	assert_equal "${#lines[@]}" 1
	read -r _ uid <<<"${lines[0]}"
	assert_equal "$uid" "$(id -u "$SYSUSER")"
}
