#!/usr/bin/env bats
# A fleet: Debian's real haproxy, running the shipped conf/haproxy.cfg
# with loopback addresses, in front of two cellftpd hosts that serve one
# shared root. The balancer is 127.0.0.10 (towards clients and hosts),
# the hosts are 127.0.0.11 and 127.0.0.12, each its own
# systemd-socket-activate listener in a mount namespace of its own (its
# own session counts, as on a machine of its own), with its own passive
# range (PASSIVE_BASE + 8200 and + 8300, 100 ports each; helper.bash),
# offered as 127.0.0.10, where one
# HAProxy frontend per range passes it to its host. Clients connect from
# 127.0.0.21 (and 127.0.0.22), never from the balancer's address.

load helper

SHIM="${SHIM:-$BATS_TEST_DIRNAME/../build/layers-shim.so}"
BAL=127.0.0.10
CLIENT=127.0.0.21
SYSUSER=${ACCOUNT_PREFIX}a-fleet

setup_file() {
	command -v haproxy >/dev/null || return 0
	export CERTS="$BATS_FILE_TMPDIR/certs"
	test_cert "$CERTS" "IP:127.0.0.10"
}

setup() {
	require_root
	command -v haproxy >/dev/null || {
		echo "haproxy is not installed (tests/deps.sh test installs it)" >&2
		return 1
	}
	own_root
	chmod 755 "$ROOT"
	HOST_PIDS=() NS_PIDS=() HAPROXY_PID=
	PORT=$(free_port)	# the balancer's FTP port, and each host's
}

cleanup() {
	stop_fleet
	remove_accounts
}

stop_fleet() {
	if [ -n "${HAPROXY_PID:-}" ]; then
		kill "$HAPROXY_PID" 2>/dev/null
		wait "$HAPROXY_PID" 2>/dev/null || true
		HAPROXY_PID=
	fi
	local i
	for i in "${!HOST_PIDS[@]}"; do
		stop_host "$i"
	done
	for i in "${NS_PIDS[@]}"; do
		kill "$i" 2>/dev/null
		wait "$i" 2>/dev/null || true
	done
	NS_PIDS=()
}

# stop_host N: the launcher of host N (1 or 2) and its sessions, killed
stop_host() {
	local pid=${HOST_PIDS[$1]:-} kid
	[ -n "$pid" ] || return 0
	for kid in $(pgrep -P "$pid"); do
		pkill -KILL -P "$kid" 2>/dev/null
		kill -KILL "$kid" 2>/dev/null
	done
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
	HOST_PIDS[$1]=
}

# host_sessions N: the sessions host N runs now
host_sessions() {
	pgrep -P "${HOST_PIDS[$1]}" || true
}

host_log() {
	echo "$BATS_TEST_TMPDIR/host$1.log"
}

# host_conf N [server lines...]: the configuration of host N
host_conf() {
	local n=$1 lo=$((PASSIVE_BASE + 8200 + ($1 - 1) * 100))
	shift
	local extra
	extra=$(printf '%s\n' "$@")
	cat >"$BATS_TEST_TMPDIR/host$n.conf" <<-EOF
	[server]
	log = stderr
	umask = 022
	proxy_protocol = ${PROXY:-v2}
	proxy_from = $BAL
	passive_address = $BAL
	passive_ports = $lo-$((lo + 99))
	xferlog = $BATS_TEST_TMPDIR/xferlog$n
	$extra
	[user alice]
	password = pw
	system_user = $SYSUSER
	root = $ROOT
	allow_write = yes
	EOF
	chmod 644 "$BATS_TEST_TMPDIR/host$n.conf"
}

# start_host N: host N listening on 127.0.0.1N:$PORT
start_host() {
	local n=$1 addr="127.0.0.1$1:$PORT" ns
	mkdir -p /run/cellftpd/sessions
	unshare -m --propagation private sh -c \
		"mount -t tmpfs -o mode=700 cellftpd-fleet /run/cellftpd/sessions && exec sleep 600" &
	ns=$!
	NS_PIDS+=("$ns")
	local _
	for _ in $(seq 100); do
		nsenter -t "$ns" -m findmnt -n /run/cellftpd/sessions 2>/dev/null |
			grep -q cellftpd-fleet && break
		sleep 0.05
	done
	systemd-socket-activate --accept --inetd -l "$addr" \
		nsenter -t "$ns" -m -- "$CELLFTPD" -c "$BATS_TEST_TMPDIR/host$n.conf" \
		2>>"$(host_log "$n")" 3>&- &
	HOST_PIDS[$n]=$!
	for _ in $(seq 100); do
		ss -Hltn "src = 127.0.0.1$n and sport = :$PORT" | grep -q LISTEN && return 0
		sleep 0.05
	done
	echo "host $n did not start on $addr" >&2
	return 1
}

# haproxy_conf [sed expressions...]: the shipped conf/haproxy.cfg with
# the test's addresses and ports, checks every 200 ms, a stats socket
haproxy_conf() {
	HAPROXY_CONF="$BATS_TEST_TMPDIR/haproxy.cfg"
	sed -e "s/192\.0\.2\.10:21\$/$BAL:$PORT/" \
		-e "s/192\.0\.2\.10:/$BAL:/" \
		-e "s/10\.0\.0\.11:21\$/127.0.0.11:$PORT/" \
		-e "s/10\.0\.0\.12:21\$/127.0.0.12:$PORT/" \
		-e "s/10\.0\.0\.11 /127.0.0.11 /" -e "s/10\.0\.0\.12 /127.0.0.12 /" \
		-e "s/:30000-30099\$/:$((PASSIVE_BASE + 8200))-$((PASSIVE_BASE + 8299))/" \
		-e "s/:30100-30199\$/:$((PASSIVE_BASE + 8300))-$((PASSIVE_BASE + 8399))/" \
		-e "s/inter 2s/inter 200ms/" \
		-e "s|^\tlog /dev/log local0|\tstats socket $BATS_TEST_TMPDIR/haproxy.sock level admin|" \
		-e "s|^\tmode tcp|\tmode tcp\n\tsource $BAL|" \
		"$@" "$BATS_TEST_DIRNAME/../conf/haproxy.cfg" >"$HAPROXY_CONF"
	! grep -v '^#' "$HAPROXY_CONF" | grep -E '192\.0\.2|10\.0\.0\.|:30[01]00-'

}

start_haproxy() {
	haproxy -db -f "$HAPROXY_CONF" >>"$BATS_TEST_TMPDIR/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	local _
	for _ in $(seq 100); do
		ss -Hltn "src = $BAL and sport = :$PORT" | grep -q LISTEN && return 0
		kill -0 "$HAPROXY_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$BATS_TEST_TMPDIR/haproxy.log" >&2
	return 1
}

# haproxy_status SERVER: UP, DOWN, ... as HAProxy's stats say
haproxy_status() {
	python3 - "$BATS_TEST_TMPDIR/haproxy.sock" "$1" <<-'EOF'
	import socket, sys
	s = socket.socket(socket.AF_UNIX)
	s.connect(sys.argv[1])
	s.sendall(b"show stat\n")
	out = b""
	while True:
	    b = s.recv(65536)
	    if not b:
	        break
	    out += b
	for line in out.decode().splitlines():
	    f = line.split(",")
	    if len(f) > 17 and f[0] == "ftp_hosts" and f[1] == sys.argv[2]:
	        print(f[17].split(" ")[0])
	EOF
}

# wait_up: both hosts UP in HAProxy's checks (up to 5 s)
wait_up() {
	local _
	for _ in $(seq 100); do
		[ "$(haproxy_status host1)" = UP ] && [ "$(haproxy_status host2)" = UP ] &&
			return 0
		sleep 0.05
	done
	echo "hosts not up: $(haproxy_status host1) $(haproxy_status host2)" >&2
	cat "$(host_log 1)" "$BATS_TEST_TMPDIR/haproxy.log" >&2
	return 1
}

# fleet [server lines...]: both hosts and the balancer
fleet() {
	host_conf 1 "$@"
	host_conf 2 "$@"
	start_host 1
	start_host 2
	[ -n "${HAPROXY_CONF:-}" ] || haproxy_conf
	start_haproxy
	wait_up
}

# fleet_log: what both hosts logged, cellftpd's own lines only
fleet_log() {
	cat "$(host_log 1)" "$(host_log 2)" 2>/dev/null | grep 'cellftpd\[' || true
}

# wait_fleet_log TEXT [COUNT]: TEXT in the hosts' logs COUNT times (5 s)
wait_fleet_log() {
	local _
	for _ in $(seq 100); do
		[ "$(fleet_log | grep -cF -- "$1")" -ge "${2:-1}" ] && return 0
		sleep 0.05
	done
	echo "not ${2:-1} times in the hosts' logs: $1" >&2
	fleet_log >&2
	return 1
}

URL="ftp://$BAL"

fcurl() {
	curl -sS --max-time 30 --interface "${FROM:-$CLIENT}" -u alice:pw "$@"
}

@test "the shipped conf/haproxy.cfg and the suite's copy of it are valid" {
	run haproxy -c -f "$BATS_TEST_DIRNAME/../conf/haproxy.cfg"
	assert_success
	assert_output --partial "Configuration file is valid"
	haproxy_conf
	run haproxy -c -f "$HAPROXY_CONF"
	assert_success
}

@test "send-proxy-v2 and send-proxy: curl stores, lists and retrieves through both hosts, EPSV and PASV" {
	local proto
	for proto in v2 v1; do
		PROXY=$proto HAPROXY_CONF=
		[ $proto = v1 ] && haproxy_conf -e "s/send-proxy-v2/send-proxy/"
		fleet
		local_file up.bin 700000
		local i
		for i in 1 2 3 4; do
			# EPSV, then PASV: the port offered is the host's own
			local epsv=(--ftp-pasv)
			[ $((i % 2)) = 0 ] && epsv=(--ftp-pasv --disable-epsv)
			run fcurl "${epsv[@]}" -T "$BATS_TEST_TMPDIR/up.bin" "$URL:$PORT/$proto-$i.bin"
			assert_success
			run fcurl "${epsv[@]}" -o "$BATS_TEST_TMPDIR/down.bin" "$URL:$PORT/$proto-$i.bin"
			assert_success
			assert_equal "$(checksum "$BATS_TEST_TMPDIR/down.bin")" \
				"$(checksum "$BATS_TEST_TMPDIR/up.bin")"
		done
		run fcurl "$URL:$PORT/"
		assert_success
		assert_line --regexp " $proto-4\.bin\$"
		# both hosts served, and each named the client, never the balancer
		wait_fleet_log "alice: logout:" 9
		grep -q "cellftpd\[.*\]: $CLIENT alice: logged in" "$(host_log 1)"
		grep -q "cellftpd\[.*\]: $CLIENT alice: logged in" "$(host_log 2)"
		run fleet_log
		assert_output --partial "$CLIENT alice: upload /$proto-4.bin, 700000 bytes"
		assert_output --partial "$CLIENT alice: download /$proto-4.bin, 700000 bytes"
		assert_output --partial "$CLIENT -: connect to $BAL port $PORT through $BAL"
		refute_output --regexp "cellftpd\[[0-9]+\]: $BAL "
		refute_output --partial "refused"
		# xferlog: the remote host field is the client
		run cat "$BATS_TEST_TMPDIR/xferlog1" "$BATS_TEST_TMPDIR/xferlog2"
		assert_line --regexp "^.{24} [0-9]+ $CLIENT 700000 /$proto-1\.bin b _ i r alice ftp 0 \* c\$"
		assert_line --regexp "^.{24} [0-9]+ $CLIENT 700000 /$proto-1\.bin b _ o r alice ftp 0 \* c\$"
		refute_output --partial "$BAL"
		stop_fleet
		rm -f "$(host_log 1)" "$(host_log 2)" "$BATS_TEST_TMPDIR"/xferlog?
	done
}

@test "lftp and Python's ftplib through the balancer, passive data checked by checksum" {
	fleet
	local_file a.bin 300000
	run lftp -e "set net:socket-bind-ipv4 $CLIENT; set ftp:passive-mode on; \
		put -O / $BATS_TEST_TMPDIR/a.bin -o lftp.bin; ls; quit" \
		-u alice,pw "$BAL:$PORT"
	assert_success
	assert_output --partial "lftp.bin"
	assert_equal "$(checksum "$ROOT/lftp.bin")" "$(checksum "$BATS_TEST_TMPDIR/a.bin")"
	run python3 - "$BAL" "$PORT" "$CLIENT" "$BATS_TEST_TMPDIR/a.bin" <<-'EOF'
	import ftplib, hashlib, io, sys
	host, port, client, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
	data = open(path, "rb").read()
	for epsv in (False, True):
	    f = ftplib.FTP(source_address=(client, 0), timeout=20)
	    f.connect(host, port)
	    f.login("alice", "pw")
	    f.af = 2 if not epsv else 10  # ftplib uses EPSV when af is not IPv4
	    name = "py-%d.bin" % epsv
	    print(f.storbinary("STOR " + name, io.BytesIO(data)))
	    out = io.BytesIO()
	    print(f.retrbinary("RETR " + name, out.write))
	    assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
	    print(f.quit())
	EOF
	assert_success
	assert_line --regexp "^226 "
	assert_line "221 Goodbye"
	assert_equal "$(checksum "$ROOT/py-1.bin")" "$(checksum "$BATS_TEST_TMPDIR/a.bin")"
	run fleet_log
	refute_output --partial "refused"
	refute_output --regexp "cellftpd\[[0-9]+\]: $BAL "
}

@test "FTPS through the balancer: AUTH TLS, PROT P both ways" {
	fleet "tls = explicit" "tls_certificate = $CERTS/cert.pem" "tls_key = $CERTS/key.pem"
	local_file s.bin 500000
	local i
	for i in 1 2; do
		run fcurl -k --ssl-reqd -T "$BATS_TEST_TMPDIR/s.bin" "$URL:$PORT/tls-$i.bin"
		assert_success
		run fcurl -k --ssl-reqd -o "$BATS_TEST_TMPDIR/d.bin" "$URL:$PORT/tls-$i.bin"
		assert_success
		assert_equal "$(checksum "$BATS_TEST_TMPDIR/d.bin")" "$(checksum "$BATS_TEST_TMPDIR/s.bin")"
	done
	wait_fleet_log "alice: logout:" 4
	run fleet_log
	assert_output --partial "$CLIENT -: control connection protected with TLS"
	assert_output --regexp "$CLIENT alice: logged in as system user $SYSUSER, .*tls=TLSv1\.[23]"
	refute_output --regexp "cellftpd\[[0-9]+\]: $BAL "
}

@test "an IPv6 client through the balancer is named by its IPv6 address, v2 and v1" {
	local proto
	for proto in v2 v1; do
		PROXY=$proto
		# the balancer listens on [::1] too, for control and data
		haproxy_conf -e "s/^\(\tbind $BAL:\)\(.*\)\$/\1\2\n\tbind [::1]:\2/"
		[ $proto = v1 ] && sed -i "s/send-proxy-v2/send-proxy/" "$HAPROXY_CONF"
		fleet
		local_file six.bin 400000
		run curl -sS --max-time 30 -g -u alice:pw -T "$BATS_TEST_TMPDIR/six.bin" \
			"ftp://[::1]:$PORT/six-$proto.bin"
		assert_success
		run curl -sS --max-time 30 -g -u alice:pw -o "$BATS_TEST_TMPDIR/back.bin" \
			"ftp://[::1]:$PORT/six-$proto.bin"
		assert_success
		assert_equal "$(checksum "$BATS_TEST_TMPDIR/back.bin")" "$(checksum "$BATS_TEST_TMPDIR/six.bin")"
		wait_fleet_log "alice: logout:" 2
		run fleet_log
		assert_output --partial "::1 -: connect to ::1 port $PORT through $BAL"
		assert_output --partial "::1 alice: upload /six-$proto.bin, 400000 bytes"
		assert_output --partial "::1 alice: download /six-$proto.bin, 400000 bytes"
		refute_output --regexp "cellftpd\[[0-9]+\]: $BAL "
		stop_fleet
		rm -f "$(host_log 1)" "$(host_log 2)"
	done
}

@test "active mode goes to the real client only" {
	fleet
	mkfile act.bin 200000
	run fcurl -P "$CLIENT" -o "$BATS_TEST_TMPDIR/act.bin" "$URL:$PORT/act.bin"
	assert_success
	assert_equal "$(checksum "$BATS_TEST_TMPDIR/act.bin")" "$(checksum "$ROOT/act.bin")"
	# a PORT naming the balancer is a bounce: refused
	FTP_HOST=$BAL FTP_SOURCE=$CLIENT run python3 "$FTPCHAT" "$PORT" "USER alice" \
		"PASS pw" "PORT 127,0,0,10,200,1" "EPRT |1|127.0.0.10|51201|" "QUIT"
	assert_line --partial "500 Illegal PORT command"
	assert_line --partial "500 Illegal EPRT command"
	wait_fleet_log "PORT to $BAL port 51201 refused (bounce attempt"
	wait_fleet_log "alice: download /act.bin, 200000 bytes"
}

@test "max_sessions_per_ip counts the real client, on each host" {
	fleet "max_sessions_per_ip = 1"
	# one session of 127.0.0.21 on each host (leastconn spreads them)...
	python3 - "$BAL" "$PORT" <<-'EOF' &
	import socket, sys, time
	socks = []
	for _ in range(2):
	    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), source_address=("127.0.0.21", 0))
	    assert s.recv(100).startswith(b"220 "), "no greeting"
	    socks.append(s)
	time.sleep(8)
	EOF
	BG_PID=$!
	wait_fleet_log "127.0.0.21 -: connect to" 2
	# one on each (counted by the log: a health check is a process too)
	[ "$(grep -c "127.0.0.21 -: connect to" "$(host_log 1)")" -eq 1 ]
	[ "$(grep -c "127.0.0.21 -: connect to" "$(host_log 2)")" -eq 1 ]
	# ... so a third one is one too many wherever it lands
	FTP_HOST=$BAL FTP_SOURCE=$CLIENT run python3 "$FTPCHAT" "$PORT"
	assert_output --partial "421 Too many sessions"
	# another client is counted on its own
	FTP_HOST=$BAL FTP_SOURCE=127.0.0.22 run python3 "$FTPCHAT" "$PORT" "USER alice" \
		"PASS pw" "QUIT"
	assert_line "230 Login successful"
	kill "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true
	run fleet_log
	assert_output --partial "127.0.0.22 alice: logged in"
	assert_output --partial "127.0.0.21 -: max_sessions_per_ip (1) reached"
}

@test "a forged header from an untrusted peer is refused and never believed" {
	fleet
	# straight to a host, not through the balancer
	run python3 - "127.0.0.11" "$PORT" <<-'EOF'
	import socket, sys
	s = socket.create_connection((sys.argv[1], int(sys.argv[2])), source_address=("127.0.0.21", 0))
	s.sendall(b"PROXY TCP4 198.51.100.7 127.0.0.11 4000 21\r\n")
	out = b""
	while True:
	    b = s.recv(4096)
	    if not b:
	        break
	    out += b
	print(out.decode())
	EOF
	assert_success
	assert_output --partial "421 Service not available: connect through the load balancer"
	refute_output --partial "230"
	wait_fleet_log "connection refused: $CLIENT is not in proxy_from"
	run fleet_log
	refute_output --partial "198.51.100.7"
	run host_sessions 1
	assert_output ""
}

@test "HAProxy's health checks, v2 LOCAL and v1, leave no log line and no process" {
	local proto
	for proto in v2 v1; do
		PROXY=$proto HAPROXY_CONF=
		[ $proto = v1 ] && haproxy_conf -e "s/send-proxy-v2/send-proxy/"
		fleet
		# a dozen checks at least: every 200 ms on each host
		sleep 1.5
		[ "$(grep -c "Connection from $BAL" "$(host_log 1)")" -ge 3 ]
		[ "$(grep -c "Connection from $BAL" "$(host_log 2)")" -ge 3 ]
		[ "$(haproxy_status host1)" = UP ]
		run fleet_log
		assert_output ""
		# the balancer gone, no process stays on either host
		kill "$HAPROXY_PID"
		wait "$HAPROXY_PID" 2>/dev/null || true
		HAPROXY_PID=
		local _
		for _ in $(seq 100); do
			[ -z "$(host_sessions 1)$(host_sessions 2)" ] && break
			sleep 0.05
		done
		run host_sessions 1
		assert_output ""
		run host_sessions 2
		assert_output ""
		stop_fleet
		rm -f "$(host_log 1)" "$(host_log 2)"
	done
}

@test "two uploads of one name at once through two hosts leave one whole file" {
	fleet
	local_file one.bin 6000000
	local_file two.bin 6000000
	# the second once the first is in: leastconn then sends it to the
	# other host (two at the same instant may race inside HAProxy)
	fcurl --limit-rate 2M -T "$BATS_TEST_TMPDIR/one.bin" "$URL:$PORT/same.bin" &
	local a=$!
	wait_fleet_log "alice: logged in"
	fcurl --limit-rate 2M -T "$BATS_TEST_TMPDIR/two.bin" "$URL:$PORT/same.bin" &
	local b=$!
	wait "$a"
	wait "$b"
	# each host took one of them
	wait_fleet_log "alice: upload /same.bin, 6000000 bytes" 2
	grep -q "alice: upload /same.bin, 6000000 bytes" "$(host_log 1)"
	grep -q "alice: upload /same.bin, 6000000 bytes" "$(host_log 2)"
	local sum
	sum=$(checksum "$ROOT/same.bin")
	[ "$sum" = "$(checksum "$BATS_TEST_TMPDIR/one.bin")" ] ||
		[ "$sum" = "$(checksum "$BATS_TEST_TMPDIR/two.bin")" ]
	no_temp_files
}

@test "killing one host while transfers run leaves the other serving" {
	fleet
	local_file up.bin 3000000
	mkfile big.bin 2000000
	local i pids=()
	# uploads, slow enough to be under way on both hosts when one dies
	for i in 1 2; do
		fcurl --limit-rate 1M -T "$BATS_TEST_TMPDIR/up.bin" "$URL:$PORT/up$i.bin" &
		pids+=($!)
		# one in before the next: leastconn sends that to the other host
		wait_fleet_log "alice: logged in" "$i"
	done
	local _
	for _ in $(seq 100); do
		grep -q "alice: logged in" "$(host_log 1)" &&
			grep -q "alice: logged in" "$(host_log 2)" && break
		sleep 0.05
	done
	grep -q "alice: logged in" "$(host_log 1)"
	grep -q "alice: logged in" "$(host_log 2)"
	stop_host 1
	# the upload through host 2 ends whole; the one through host 1 fails
	# and leaves no partial file under its name
	local ok=0 failed=0
	for i in 1 2; do
		if wait "${pids[$((i - 1))]}"; then
			[ "$(checksum "$ROOT/up$i.bin")" = "$(checksum "$BATS_TEST_TMPDIR/up.bin")" ] &&
				ok=$((ok + 1))
		else
			[ ! -e "$ROOT/up$i.bin" ] && failed=$((failed + 1))
		fi
	done
	[ "$ok" -eq 1 ] && [ "$failed" -eq 1 ] || { ls -la "$ROOT"; fleet_log; false; }
	# new sessions all go to host 2 and succeed
	for i in 1 2 3; do
		run fcurl -o "$BATS_TEST_TMPDIR/after$i.bin" "$URL:$PORT/big.bin"
		assert_success
		assert_equal "$(checksum "$BATS_TEST_TMPDIR/after$i.bin")" "$(checksum "$ROOT/big.bin")"
	done
	run grep -c "alice: download /big.bin, 2000000 bytes" "$(host_log 2)"
	assert_output 3
}

@test "on shared storage whose rename takes no flags (NFS, CephFS), allow_write = upload stays atomic" {
	[ -f "$SHIM" ] || { echo "no $SHIM: make $SHIM" >&2; return 1; }
	write_conf <<-EOF
	[server]
	log = stderr
	[user alice]
	password = pw
	system_user = $SYSUSER
	root = $ROOT
	allow_write = upload
	EOF
	launch env LD_PRELOAD="$SHIM" CELLFTPD_SHIM_OFF=renameflags \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		"$CELLFTPD" -c "$CONF"
	local_file first.bin 300000
	local_file second.bin 300000
	run curl -sS --max-time 20 -u alice:pw -T "$BATS_TEST_TMPDIR/first.bin" \
		"ftp://127.0.0.1:$PORT/new.bin"
	assert_success
	assert_equal "$(checksum "$ROOT/new.bin")" "$(checksum "$BATS_TEST_TMPDIR/first.bin")"
	# the name is taken: refused, and the first file stays
	run curl -sS --max-time 20 -u alice:pw -T "$BATS_TEST_TMPDIR/second.bin" \
		"ftp://127.0.0.1:$PORT/new.bin"
	assert_failure
	assert_equal "$(checksum "$ROOT/new.bin")" "$(checksum "$BATS_TEST_TMPDIR/first.bin")"
	no_temp_files
	run server_log
	assert_output --partial "shim: renameat2 with flags refused"
	assert_output --partial "alice: upload /new.bin, 300000 bytes"
}
