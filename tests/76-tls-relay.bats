#!/usr/bin/env bats
# The TLS relay (the pre-login process that stays after an FTPS login)
# against hostile clients: a flood of pipelined commands and a
# disconnect, a partial TLS record, a client that never reads. Each must
# leave no process and no session slot behind within idle_timeout and a
# few seconds. And the relay keeps no copy of the password.
# The client side is tests/tlsclient.py; needs openssl (the command).

load helper

SYSUSER=${ACCOUNT_PREFIX}t-relay
RANGE_LO=$((PASSIVE_BASE + 4000))
RANGE_HI=$((PASSIVE_BASE + 4099))
IDLE=4
# the hostile clients come from their own address: max_sessions_per_ip
# counts them alone, whatever other servers run on this machine
HOSTILE_SRC=127.0.0.76
HOSTILE=3
BIG=20000
BOB_PASSWORD=Relay-Sekr1t-93xq-7Hk2

setup_file() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	test_cert "$CERTS" "IP:127.0.0.1,DNS:localhost"
}

setup() {
	BG_PIDS=()
}

cleanup() {
	stop_background
	remove_accounts
}

# conf [LINE]...: alice_conf (helper.bash) with explicit TLS, a short
# idle_timeout, at most $HOSTILE sessions per address, and bob, whose
# password is long enough to be found in memory.
conf() {
	alice_conf "server:tls = explicit" \
		"server:tls_certificate = $CERTS/cert.pem" "server:tls_key = $CERTS/key.pem" \
		"server:idle_timeout = $IDLE" "server:max_sessions_per_ip = $HOSTILE" \
		"section:[user bob]" "section:password = $BOB_PASSWORD" \
		"section:system_user = $SYSUSER" "section:root = $ROOT" "$@"
}

# py: a Python script on stdin with tlsclient importable; SRC is the
# hostile clients' address.
py() {
	PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$BATS_TEST_DIRNAME" PORT="$PORT" \
		ROOT="$ROOT" CERT="$CERTS/cert.pem" SRC="$HOSTILE_SRC" \
		BOB_PASSWORD="$BOB_PASSWORD" timeout 60 python3 - "$@"
}

# The hostile client of each test, KIND one of flood, partial, deaf:
# it logs in over TLS from $HOSTILE_SRC, prints "LOGGED IN", then
#   flood    pipelines 60000 HELP, reads the replies for 3 s and
#            disconnects
#   partial  sends the header of a 256-byte TLS record and 10 bytes of it,
#            then reads what comes until the end (printed)
#   deaf     asks for STAT of a directory of $BIG files (a listing of
#            megabytes on the control connection) a few times and never
#            reads, holding the connection for 40 s
hostile() {
	py "$1" <<-'EOF'
	import os, select, socket, ssl, sys, time
	import ftpclient
	from tlsclient import Chat, context, out

	class Hostile(Chat):
	    def __init__(self):
	        self.implicit, self.ctx = False, context()
	        ftpclient.Control.__init__(self, src=os.environ["SRC"], show=False)

	kind = sys.argv[1]
	c = Hostile()
	if kind == "deaf":
	    # a small window: the server's replies back up at once
	    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	c.starttls()
	c.login()
	out("LOGGED IN")
	if kind == "flood":
	    # the replies are read while the commands go out, so that only
	    # the server's pace holds them back; after 3 s, gone
	    flood, sent = b"HELP\r\n" * 60000, 0
	    c.s.setblocking(False)
	    end = time.monotonic() + 3
	    while time.monotonic() < end:
	        r, w, _ = select.select([c.s], [c.s] if sent < len(flood) else [], [], 0.1)
	        try:
	            if (r or c.s.pending()) and not c.s.recv(1 << 16):
	                break
	            if w and sent < len(flood):
	                sent += c.s.send(flood[sent:sent + 6000])
	        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
	            pass
	    c.s.close()
	elif kind == "partial":
	    raw = socket.socket(fileno=os.dup(c.s.fileno()))
	    raw.sendall(b"\x17\x03\x03\x01\x00" + b"\0" * 10)
	    c.s.settimeout(30)
	    while (r := c.reply()) != "EOF":
	        out(r)
	    out("EOF")
	else:
	    c.s.settimeout(1)
	    try:
	        c.s.sendall(b"STAT /big\r\n" * 4)
	    except (OSError, socket.timeout):
	        pass
	    time.sleep(40)
	EOF
}

# The pids of every session of this server and of its children (the TLS
# relays), once there are N sessions with a child each (up to 5 s).
session_pids() {
	local n=$1 all
	for _ in $(seq 100); do
		all=()
		local top kid kids=0
		for top in $(sessions); do
			all+=("$top")
			for kid in $(pgrep -P "$top"); do
				all+=("$kid")
				kids=$((kids + 1))
			done
		done
		if [ "${#all[@]}" -eq $((2 * n)) ] && [ "$kids" -eq "$n" ]; then
			echo "${all[@]}"
			return 0
		fi
		sleep 0.05
	done
	echo "not $n sessions with a relay each: ${all[*]}" >&2
	return 1
}

# wait_gone SECONDS PID...: every PID ended (a zombie counts as there)
# within SECONDS.
wait_gone() {
	local limit=$1 left pid
	shift
	for _ in $(seq $((limit * 10))); do
		left=()
		for pid in "$@"; do
			[ -e "/proc/$pid" ] && left+=("$pid")
		done
		[ "${#left[@]}" -eq 0 ] && return 0
		sleep 0.1
	done
	echo "still there after ${limit}s:" >&2
	ps -o pid,ppid,stat,user,wchan:20,cmd -p "$(IFS=,; echo "${left[*]}")" >&2
	return 1
}

# after_hostile KIND: $HOSTILE clients of that kind logged in at once;
# every process of theirs (session and relay) gone within IDLE + 8 s, then
# one more client from the same address logs in.
after_hostile() {
	own_root
	if [ "$1" = deaf ]; then
		mkdir "$ROOT/big"
		(cd "$ROOT/big" && seq -f "file-with-a-long-enough-name-%06g" "$BIG" | xargs touch)
	fi
	serve
	local i pids
	for i in $(seq "$HOSTILE"); do
		hostile "$1" >"$BATS_TEST_TMPDIR/hostile.$i" 2>&1 &
		BG_PIDS+=($!)
	done
	for _ in $(seq 100); do
		[ "$(grep -c "alice: logged in as system user" "$SERVER_LOG")" -eq "$HOSTILE" ] &&
			break
		sleep 0.05
	done
	pids=$(session_pids "$HOSTILE") || { tail -n +1 "$BATS_TEST_TMPDIR"/hostile.*; server_log | tail -30; return 1; }
	# shellcheck disable=SC2086 # one pid per word
	wait_gone $((IDLE + 8)) $pids
	# every slot of the address is free again: as many log in at once
	run py "$HOSTILE" <<-'EOF'
	import os, sys
	import ftpclient
	from tlsclient import Chat, context, out
	class Again(Chat):
	    def __init__(self):
	        self.implicit, self.ctx = False, context()
	        ftpclient.Control.__init__(self, src=os.environ["SRC"], show=False)
	clients = [Again() for _ in range(int(sys.argv[1]))]
	for c in clients:
	    c.starttls()
	    c.login()
	for c in clients:
	    out(c.cmd("QUIT"))
	EOF
	assert_output "$(printf '221 Goodbye\n%.0s' $(seq "$HOSTILE"))"
}

@test "pipelined HELP floods that disconnect unread leave no process and no slot" {
	after_hostile flood
	run cat "$BATS_TEST_TMPDIR/hostile.1"
	assert_output "LOGGED IN"
}

@test "a partial TLS record after login: the idle timeout reaches the client, nothing stays" {
	after_hostile partial
	local i
	for i in $(seq "$HOSTILE"); do
		run cat "$BATS_TEST_TMPDIR/hostile.$i"
		assert_output "LOGGED IN
421 Timeout ($IDLE seconds): closing control connection
EOF"
	done
}

@test "clients that never read are ended: no process and no slot stays" {
	after_hostile deaf
	# they are still connected: the server ended them
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill -0 "$pid"
	done
}

@test "the TLS relay of a logged-in session keeps no copy of the password" {
	require_production_build
	serve
	export SCANNED="$BATS_TEST_TMPDIR/scanned"
	py <<-'EOF' >"$BATS_TEST_TMPDIR/chat.out" &
	import os, time
	from tlsclient import Chat
	c = Chat()
	c.starttls()
	c.login("bob", os.environ["BOB_PASSWORD"])
	c.cmd("HELP relay-marker-5817")
	# QUIT once the relay was scanned, well within idle_timeout
	end = time.monotonic() + 3
	while not os.path.exists(os.environ["SCANNED"]) and time.monotonic() < end:
	    time.sleep(0.05)
	c.cmd("QUIT")
	EOF
	BG_PIDS+=($!)
	for _ in $(seq 100); do
		grep -q "^502 " "$BATS_TEST_TMPDIR/chat.out" && break
		sleep 0.05
	done
	run wait_session_tree
	assert_equal "${#lines[@]}" 2
	read -r relay _ <<<"${lines[1]}"
	# the scan sees what passed through the relay after login...
	run memory_holds "$relay" "$(printf %s "relay-marker-5817" | od -An -tx1 | tr -d ' \n')"
	refute_output "found 0"
	# ...and no trace of PASS
	run memory_holds "$relay" "$(printf %s "$BOB_PASSWORD" | od -An -tx1 | tr -d ' \n')"
	assert_output "found 0"
	touch "$SCANNED"
	wait "${BG_PIDS[0]}"
	run cat "$BATS_TEST_TMPDIR/chat.out"
	assert_output "220 FTP server ready
234 AUTH TLS successful, start the TLS handshake
TLS TLSv1.3
502 Unknown command RELAY-M
221 Goodbye"
}
