#!/usr/bin/env bats
# Deadlines on the control connection: idle_timeout bounds each command
# line as a whole (bytes that trickle in do not move it), login_timeout
# bounds everything from the connection to "230", the TLS handshake and
# TLS records trickled in byte by byte included; when they end a session,
# none of its processes stays behind.

load helper

SYSUSER=${ACCOUNT_PREFIX}l-deadl
RANGE_LO=$((PASSIVE_BASE + 4000))
RANGE_HI=$((PASSIVE_BASE + 4099))

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	test_cert "$CERTS"
}

cleanup() {
	remove_accounts
}

# conf LINE...: alice_conf (helper.bash) with an empty deny_users_file.
conf() {
	: >"$BATS_TEST_TMPDIR/ftpusers"
	alice_conf "server:deny_users_file = $BATS_TEST_TMPDIR/ftpusers" "$@"
}

tls_lines=("server:tls = explicit" "server:tls_certificate = $BATS_FILE_TMPDIR/certs/cert.pem"
	"server:tls_key = $BATS_FILE_TMPDIR/certs/key.pem" "server:require_tls = no")

# Processes of this test's server other than the launcher: every one
# runs "cellftpd -c $CONF", the pre-login process (a grandchild of the
# launcher, or an orphan) too. Waits up to 5 s for none to be left.
no_session_left() {
	local pids=""
	for _ in $(seq 100); do
		pids=$(pgrep -f -- "cellftpd -c $CONF" | grep -vx "$SERVER_PID" || true)
		[ -z "$pids" ] && return 0
		sleep 0.05
	done
	echo "processes left behind: $pids" >&2
	ps -o pid,ppid,user,etimes,args -p "${pids//$'\n'/,}" >&2 || true
	return 1
}

# trickle [LINE...]: connects, sends each LINE (CR LF added) and reads its
# reply, then sends "NOOPNOOP..." one byte a second, never a line end,
# until the server answers or closes (at most 15 bytes). Prints the
# lines, "AFTER N" (whole seconds since the trickle began) and the
# server's reply, or "NONE" when the server never ended it.
trickle() {
	timeout 60 python3 - "$PORT" "$@" <<-'PY'
	import select, socket, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
	f = s.makefile("rb")
	print(f.readline().decode().strip())
	for line in sys.argv[2:]:
	    s.sendall(line.encode() + b"\r\n")
	    print(f.readline().decode().strip())
	start = time.monotonic()
	for b in b"NOOPNOOPNOOPNOO":
	    s.send(bytes([b]))
	    if not select.select([s], [], [], 1)[0]:
	        continue
	    try:
	        got = s.recv(200)
	    except OSError as e:
	        got = str(e).encode()
	    print("AFTER", int(time.monotonic() - start))
	    print(got.decode().strip() if got else "EOF")
	    break
	else:
	    print("NONE")
	PY
}

# seconds VALUE LO HI: LO <= VALUE <= HI
seconds() {
	[ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || {
		echo "ended after $1 s, expected $2 to $3 s" >&2
		return 1
	}
}

@test "idle_timeout: a client trickling one byte a second before login gets 421 on time" {
	serve "server:idle_timeout = 3"
	run trickle
	assert_line --index 0 "220 FTP server ready"
	assert_line --index 2 "421 Timeout (3 seconds): closing control connection"
	seconds "${lines[1]#AFTER }" 2 5
	no_session_left
	run server_log
	assert_output --partial "no whole command line within 3 seconds; closing"
}

@test "idle_timeout: a client trickling one byte a second after login gets 421 on time" {
	serve "server:idle_timeout = 3"
	run trickle "USER alice" "PASS pw"
	assert_line --index 2 "230 Login successful"
	assert_line --index 4 "421 Timeout (3 seconds): closing control connection"
	seconds "${lines[3]#AFTER }" 2 5
	no_session_left
}

@test "login_timeout: commands that each come in time do not make the login last" {
	serve "server:idle_timeout = 3" "server:login_timeout = 4"
	run timeout 60 python3 - "$PORT" <<-'PY'
	import select, socket, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
	f = s.makefile("rb")
	f.readline()
	start = time.monotonic()
	for i in range(30):
	    s.sendall(b"NOOP\r\n" if i % 2 else b"USER nobody-here\r\n")
	    reply = f.readline().decode().strip()
	    if reply[:3] not in ("200", "331"):
	        break
	    # the next line 0.7 s later, unless the server speaks first
	    if select.select([s], [], [], 0.7)[0]:
	        reply = f.readline().decode().strip()
	        break
	print("AFTER", int(time.monotonic() - start))
	print(reply)
	print("EOF" if f.read(1) == b"" else "OPEN")
	PY
	assert_line --index 1 "421 Login timeout (4 seconds): closing control connection"
	assert_line --index 2 "EOF"
	seconds "${lines[0]#AFTER }" 3 5
	no_session_left
	run server_log
	assert_output --partial "no login within 4 seconds; closing"
}

@test "login_timeout: a login that completes in time stops it" {
	serve "server:idle_timeout = 5" "server:login_timeout = 2"
	run chat "USER alice" "PASS pw" "sleep:3" "NOOP"
	assert_line --index 2 "230 Login successful"
	assert_line --index 3 "200 NOOP ok"
}

@test "login_timeout bounds an implicit TLS handshake trickled byte by byte" {
	serve "server:login_timeout = 3" "${tls_lines[@]}"
	stop_server
	start_server -i
	# the first bytes of a ClientHello, one a second
	run timeout 60 python3 - "$PORT" <<-'PY'
	import select, socket, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
	start = time.monotonic()
	for b in b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(20):
	    s.send(bytes([b]))
	    if not select.select([s], [], [], 1)[0]:
	        continue
	    try:
	        got = s.recv(100)
	    except OSError:
	        got = b""
	    print("AFTER", int(time.monotonic() - start))
	    print("EOF" if not got else "DATA")
	    break
	else:
	    print("NONE")
	PY
	assert_line --index 1 "EOF"
	seconds "${lines[0]#AFTER }" 3 6
	no_session_left
	run server_log
	assert_output --partial "no login within 3 seconds; connection shut down"
}

@test "login_timeout bounds a TLS record trickled byte by byte after AUTH TLS" {
	serve "server:idle_timeout = 2" "server:login_timeout = 3" "${tls_lines[@]}"
	run timeout 60 python3 - "$PORT" <<-'PY'
	import select, socket, ssl, sys, time
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
	f = s.makefile("rb")
	f.readline()
	s.sendall(b"AUTH TLS\r\n")
	print(f.readline().decode().strip())
	ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
	ctx.check_hostname = False
	ctx.verify_mode = ssl.CERT_NONE
	inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
	tls = ctx.wrap_bio(inc, out)
	while True:
	    try:
	        tls.do_handshake()
	        break
	    except ssl.SSLWantReadError:
	        s.sendall(out.read())
	        inc.write(s.recv(65536))
	s.sendall(out.read())
	tls.write(b"NOOP\r\n")
	record = out.read()
	start = time.monotonic()
	for b in record[:-1]:          # never the whole record
	    s.send(bytes([b]))
	    if not select.select([s], [], [], 1)[0]:
	        continue
	    try:
	        got = s.recv(65536)    # session tickets, then the end
	    except OSError:
	        got = b""
	    if got:
	        continue
	    print("AFTER", int(time.monotonic() - start))
	    print("EOF")
	    break
	else:
	    print("NONE")
	PY
	assert_line --index 0 "234 AUTH TLS successful, start the TLS handshake"
	assert_line --index 2 "EOF"
	seconds "${lines[1]#AFTER }" 3 6
	no_session_left
}

@test "login_timeout is checked: 0 is refused" {
	make_root
	write_conf <<-EOF
	[server]
	login_timeout = 0
	[user alice]
	password = pw
	root = $ROOT
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure
	assert_output --partial "$CONF:2: login_timeout: '0' is not a number from 1 to 86400"
}
