#!/usr/bin/env bats
# FTPS (RFC 4217): certificates checked by -t; explicit (AUTH TLS) and
# implicit TLS with real clients (curl, lftp, Python's ftplib) and
# checksums; the protocol's refusals (plaintext logins and data under
# require_tls, PROT C, CCC, data connections that do not resume the control
# connection's TLS session, TLS 1.0/1.1, commands pipelined behind AUTH);
# uploads that end without close_notify. The client side lives in
# tests/tlsclient.py. Needs openssl (the command) for the certificates.

load helper

SYSUSER=${ACCOUNT_PREFIX}t-tls
RANGE_LO=$((PASSIVE_BASE + 3000))
RANGE_HI=$((PASSIVE_BASE + 3999))
MIB3=3145728
# OpenSSL 3 clients offer TLS 1.0/1.1 only at security level 0: without it
# a refused old handshake would prove nothing about the server
LEGACY_CIPHERS='DEFAULT@SECLEVEL=0'

# The certificates, made once for the whole file in $CERTS:
#   cert.pem key.pem      the test certificate (P-256, 2 days, for 127.0.0.1)
#   long.pem long.key     the same kind for a year
#   expired.pem .key      valid for one day in 2020
#   future.pem .key       valid from 2099 on
#   other.key             a key that belongs to none of them
#   both.pem              long.pem and its key in one file
# Keys are mode 0600, as an administrator keeps them.
setup_file() {
	export CERTS="$BATS_FILE_TMPDIR/certs"
	mkdir -p "$CERTS"
	(
		cd "$CERTS" || exit 1
		umask 077
		newcert() {	# newcert NAME DAYS
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
				-nodes -days "$2" -subj "/CN=cellftpd test" \
				-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
				-keyout "$1.key" -out "$1.pem" 2>/dev/null
		}
		newcert cert 2 && mv cert.key key.pem
		newcert long 365
		# OpenSSL 3.0 has no way to back-date with req or x509: a
		# throw-away self-signing CA with explicit dates does it
		cat >ca.cnf <<-EOF
		[ca]
		default_ca = test
		[test]
		database = index.txt
		new_certs_dir = .
		serial = serial
		default_md = sha256
		policy = any
		copy_extensions = copy
		[any]
		commonName = supplied
		EOF
		dated() {	# dated NAME START END (YYYYMMDDhhmmssZ)
			: >index.txt
			echo 01 >serial
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
				-nodes -subj "/CN=cellftpd $1" \
				-addext "subjectAltName=IP:127.0.0.1" \
				-keyout "$1.key" -out "$1.csr" 2>/dev/null &&
				openssl ca -batch -notext -config ca.cnf -selfsign \
					-keyfile "$1.key" -in "$1.csr" -startdate "$2" \
					-enddate "$3" -out "$1.pem" 2>/dev/null
		}
		dated expired 20200101000000Z 20200102000000Z
		dated future 20990101000000Z 20991231000000Z
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 \
			-out other.key 2>/dev/null
		cat long.pem long.key >both.pem
	) || return 1
	# what the tests rely on, checked once: a broken generator would
	# otherwise show up as a server failure
	local f
	for f in cert.pem key.pem long.pem long.key expired.pem expired.key \
		future.pem future.key other.key both.pem; do
		[ -s "$CERTS/$f" ] || { echo "setup_file: $f was not made" >&2; return 1; }
	done
	openssl verify -CAfile "$CERTS/cert.pem" "$CERTS/cert.pem" >/dev/null || return 1
	openssl x509 -in "$CERTS/expired.pem" -noout -checkend 0 >/dev/null && {
		echo "setup_file: expired.pem is not expired" >&2
		return 1
	}
	[ "$(stat -c %a "$CERTS/key.pem")" = 600 ] || return 1
	[ "$(openssl pkey -in "$CERTS/key.pem" -pubout)" != \
		"$(openssl pkey -in "$CERTS/other.key" -pubout)" ] || return 1
}

cleanup() {
	stop_background
	remove_accounts
}

setup() {
	BG_PIDS=()
}

# conf [server:LINE | section:LINE | LINE]...: alice_conf (helper.bash)
# with passive_ports and an empty deny_users_file first, then tls =
# explicit and the test certificate unless the lines set tls or
# tls_certificate. serve (helper.bash) writes it.
conf() {
	local given tls=()
	given=$'\n'$(printf '%s\n' "$@")
	[[ $given == *$'\n'"server:tls ="* ]] || tls+=("server:tls = explicit")
	[[ $given == *$'\n'"server:tls_certificate ="* ]] ||
		tls+=("server:tls_certificate = $CERTS/cert.pem" "server:tls_key = $CERTS/key.pem")
	: >"$BATS_TEST_TMPDIR/ftpusers"
	alice_conf "server:passive_ports = $RANGE_LO-$RANGE_HI" \
		"server:deny_users_file = $BATS_TEST_TMPDIR/ftpusers" "$@" "${tls[@]}"
}

# A configuration for -t alone, its lines numbered for the messages:
# tconf CERT [KEY]  (names in $CERTS or absolute paths; no KEY: no
# tls_key line, the key is then looked for in the certificate file)
#   3 tls = explicit   4 tls_certificate   5 tls_key   6 [user alice]
tconf() {
	local cert=$1 key="; tls_key: the certificate file"
	[[ $cert == /* ]] || cert=$CERTS/$cert
	if [ -n "${2:-}" ]; then
		key="tls_key = $CERTS/$2"
		[[ $2 == /* ]] && key="tls_key = $2"
	fi
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	tls = explicit
	tls_certificate = $cert
	$key
	[user alice]
	password_hash = $(printf '%s' "pw12345678" | sha256sum | cut -d' ' -f1)
	password_salt = 12345678
	root = $ROOT
	EOF
	chmod 600 "$CONF"
}

# py: a Python script on stdin with tlsclient importable.
py() {
	PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$BATS_TEST_DIRNAME" PORT="$PORT" \
		ROOT="$ROOT" CERT="$CERTS/cert.pem" timeout 60 python3 -
}

# tlschat LINE...: a dialogue like chat, plus "starttls" (see tlsclient.py);
# IMPLICIT=1 starts with the handshake.
tlschat() {
	PYTHONDONTWRITEBYTECODE=1 PORT="$PORT" CERT="$CERTS/cert.pem" \
		timeout 60 python3 "$BATS_TEST_DIRNAME/tlsclient.py" chat "$@"
}

# curl as alice, trusting only the test certificate: tls_curl [options] URL
tls_curl() {
	curl -sS --max-time 20 --cacert "$CERTS/cert.pem" -u alice:pw "$@"
}

# s_client ARGS...: one TLS connection that says QUIT (for FTP) and ends.
s_client() {
	printf 'QUIT\n' | timeout 10 openssl s_client -brief -ign_eof -crlf \
		-CAfile "$CERTS/cert.pem" -verify_ip 127.0.0.1 -verify_return_error "$@"
}

# ---- certificates and -t ----

@test "-t: a good certificate and its key (0600) are accepted without a word" {
	tconf long.pem long.key
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line "$CONF: usable, 1 user, 0 errors, 0 warnings"
	# tls_key defaults to the certificate file: one PEM holding both
	tconf both.pem
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line "$CONF: usable, 1 user, 0 errors, 0 warnings"
}

@test "-t: a certificate expiring within 30 days and a key others can read are warnings" {
	tconf cert.pem key.pem
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line "$CONF: usable, 1 user, 0 errors, 1 warning"
	assert_line --regexp "^$CONF:4: warning: .*expire"
	cp "$CERTS/long.key" "$BATS_TEST_TMPDIR/open.key"
	chmod 644 "$BATS_TEST_TMPDIR/open.key"
	tconf long.pem "$BATS_TEST_TMPDIR/open.key"
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line "$CONF: usable, 1 user, 0 errors, 1 warning"
	assert_line --regexp "^$CONF:5: warning: "
}

@test "-t: an expired certificate and one not yet valid are errors naming their line" {
	tconf expired.pem expired.key
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --regexp "^$CONF:4: .*expired"
	refute_line --partial "usable, 1 user, 0 errors"
	tconf future.pem future.key
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --regexp "^$CONF:4: .*not yet valid"
}

@test "-t: a key that does not belong to the certificate is an error" {
	tconf cert.pem other.key
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --regexp "^$CONF:5: tls_key '.*/other\.key' does not match tls_certificate '.*/cert\.pem'\$"
	# a certificate file without any key, and no tls_key
	tconf cert.pem
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --regexp "^$CONF:4: "
}

@test "-t: a missing certificate, tls without one, require_tls with tls = off are errors" {
	tconf missing.pem key.pem
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --regexp "^$CONF:4: .*missing\.pem.*: No such file or directory\$"
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	tls = explicit
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --regexp "^$CONF:3: .*tls_certificate"
	write_conf <<-EOF
	[server]
	log = stderr
	require_tls = login
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --regexp "^$CONF:3: "
	write_conf <<-EOF
	[server]
	log = stderr
	tls = sometimes
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --regexp "^$CONF:3: "
}

# ---- real clients ----

@test "curl --ssl-reqd (explicit): upload and download over TLS, checksums equal, logged" {
	serve
	local_file up.bin $MIB3
	cd "$BATS_TEST_TMPDIR"
	run tls_curl -v --ssl-reqd -T up.bin "ftp://127.0.0.1:$PORT/up.bin"
	assert_success
	# curl asks AUTH SSL first, the alias
	assert_output --regexp "> AUTH (SSL|TLS)"
	assert_output --partial "< 234 AUTH TLS successful, start the TLS handshake"
	assert_output --partial "> PBSZ 0"
	assert_output --partial "< 200 PBSZ=0"
	assert_output --partial "> PROT P"
	assert_output --partial "< 200 PROT now Private"
	assert_output --partial "SSL re-using session ID"
	assert_output --partial "< 226 Transfer complete ($MIB3 bytes)"
	assert_equal "$(checksum "$ROOT/up.bin")" "$(checksum up.bin)"
	run tls_curl -v --ssl-reqd -o down.bin "ftp://127.0.0.1:$PORT/up.bin"
	assert_success
	assert_output --partial "> PROT P"
	assert_output --partial "SSL re-using session ID"
	assert_equal "$(checksum down.bin)" "$(checksum up.bin)"
	# a listing over the protected data connection
	run tls_curl --ssl-reqd --list-only -o list.txt "ftp://127.0.0.1:$PORT/"
	assert_success
	assert_equal "$(tr -d '\r' <list.txt)" "up.bin"
	wait_sessions_gone
	log_xfer upload /up.bin $MIB3
	log_xfer download /up.bin $MIB3
	run grep -E "alice: logged in as system user $SYSUSER, root $ROOT.*tls=TLSv1\.3" "$SERVER_LOG"
	assert_success
}

@test "curl ftps:// (implicit, cellftpd -i): upload and download, checksums equal; no plaintext" {
	SERVE_OPTS=-i serve
	local_file up.bin $MIB3
	cd "$BATS_TEST_TMPDIR"
	run tls_curl -v -T up.bin "ftps://127.0.0.1:$PORT/imp.bin"
	assert_success
	assert_output --partial "> PROT P"
	assert_output --partial "< 226 Transfer complete ($MIB3 bytes)"
	refute_output --partial "> AUTH"
	assert_equal "$(checksum "$ROOT/imp.bin")" "$(checksum up.bin)"
	run tls_curl -o down.bin "ftps://127.0.0.1:$PORT/imp.bin"
	assert_success
	assert_equal "$(checksum down.bin)" "$(checksum up.bin)"
	# a plaintext client meets a TLS server: no greeting, no login
	run python3 - "$PORT" <<-'EOF'
	import socket, sys
	s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
	s.sendall(b"USER alice\r\nPASS pw\r\n")
	got = b""
	try:
	    while True:
	        b = s.recv(4096)
	        if not b:
	            break
	        got += b
	except (socket.timeout, ConnectionResetError):
	    pass
	print(repr(got))
	EOF
	assert_success
	refute_output --partial "220"
	refute_output --partial "331"
	refute_output --partial "230"
	wait_sessions_gone
	log_xfer upload /imp.bin $MIB3
	log_xfer download /imp.bin $MIB3
}

@test "curl ftps:// against tls = implicit in the configuration: a download" {
	serve "server:tls = implicit"
	mkfile f.bin 1000000
	cd "$BATS_TEST_TMPDIR"
	run tls_curl -o down.bin "ftps://127.0.0.1:$PORT/f.bin"
	assert_success
	assert_equal "$(checksum down.bin)" "$(checksum "$ROOT/f.bin")"
	wait_sessions_gone
	log_xfer download /f.bin 1000000
}

@test "lftp with ftp:ssl-force and ftp:ssl-protect-data: put, get, ls, checksums equal" {
	serve
	local_file up.bin $MIB3
	mkfile there.bin 1000000
	cd "$BATS_TEST_TMPDIR"
	HOME="$BATS_TEST_TMPDIR" run timeout 60 lftp -d -u alice,pw -p "$PORT" 127.0.0.1 -e "
		set ftp:ssl-force true; set ftp:ssl-protect-data true
		set ftp:ssl-protect-list true
		set ssl:ca-file $CERTS/cert.pem; set ssl:verify-certificate yes
		set net:max-retries 1; set net:timeout 10; set cmd:fail-exit yes
		put up.bin -o lf.bin
		get lf.bin -o lf.down
		get there.bin -o there.down
		cls -1 >lf.list
		quit"
	assert_success
	assert_output --partial "---> AUTH TLS"
	assert_output --partial "<--- 234 AUTH TLS successful, start the TLS handshake"
	assert_output --partial "---> PROT P"
	assert_output --partial "<--- 200 PROT now Private"
	assert_output --partial "<--- 226 Transfer complete ($MIB3 bytes)"
	refute_output --partial "<--- 522"
	assert_equal "$(checksum "$ROOT/lf.bin")" "$(checksum up.bin)"
	assert_equal "$(checksum lf.down)" "$(checksum up.bin)"
	assert_equal "$(checksum there.down)" "$(checksum "$ROOT/there.bin")"
	assert_equal "$(sort lf.list | xargs)" "lf.bin there.bin"
	wait_sessions_gone
	log_xfer upload /lf.bin $MIB3
	log_xfer download /lf.bin $MIB3
}

@test "python ftplib.FTP_TLS with prot_p and session reuse: up, down, listings, active, TLS 1.3 and 1.2" {
	serve
	mkdir "$ROOT/dir"
	chown "$SYSUSER:" "$ROOT/dir"
	run py <<-'EOF'
	import io, os, ssl
	from tlsclient import *
	for version in (None, ssl.TLSVersion.TLSv1_2):
	    data = os.urandom(3 * 1024 * 1024)
	    f = connect(ctx=context(version))
	    out(f.sock.version())
	    out(f.storbinary("STOR py.bin", io.BytesIO(data)))
	    out("disk", "equal" if disk("py.bin") == data else "DIFFERENT")
	    got = io.BytesIO()
	    out(f.retrbinary("RETR py.bin", got.write))
	    out("download", "equal" if got.getvalue() == data else "DIFFERENT")
	    out("nlst", sorted(f.nlst()))
	    facts = dict(f.mlsd())
	    out("mlsd", facts["py.bin"]["type"], facts["py.bin"]["size"], facts["dir"]["type"])
	    lines = []
	    f.retrlines("LIST", lines.append)
	    out("list", sorted(l.split()[-1] for l in lines))
	    f.set_pasv(False)
	    got = io.BytesIO()
	    out(f.retrbinary("RETR py.bin", got.write))
	    out("active", "equal" if got.getvalue() == data else "DIFFERENT")
	    out("every data connection resumed:", all(f.reused), len(f.reused))
	    out(f.quit())
	EOF
	assert_success
	assert_output "TLSv1.3
226 Transfer complete (3145728 bytes)
disk equal
226 Transfer complete (3145728 bytes)
download equal
nlst ['dir', 'py.bin']
mlsd file 3145728 dir
list ['dir', 'py.bin']
226 Transfer complete (3145728 bytes)
active equal
every data connection resumed: True 6
221 Goodbye
TLSv1.2
226 Transfer complete (3145728 bytes)
disk equal
226 Transfer complete (3145728 bytes)
download equal
nlst ['dir', 'py.bin']
mlsd file 3145728 dir
list ['dir', 'py.bin']
226 Transfer complete (3145728 bytes)
active equal
every data connection resumed: True 6
221 Goodbye"
	wait_sessions_gone
	run grep -c "alice: logged in as .*tls=TLSv1\.2" "$SERVER_LOG"
	assert_output 1
	run grep -c "alice: logged in as .*tls=TLSv1\.3" "$SERVER_LOG"
	assert_output 1
}

# ---- data connections must resume the control connection's session ----

@test "stock ftplib FTP_TLS (a fresh TLS session per data connection) gets 522 and no data" {
	serve
	mkfile f.bin 500000
	run py <<-'EOF'
	import ftplib, io, os
	from tlsclient import *
	f = connect(cls=ftplib.FTP_TLS)
	got = []
	out(final_reply(f, lambda: f.retrbinary("RETR f.bin", got.append)))
	out("received", sum(len(b) for b in got), "bytes")
	out(final_reply(f, lambda: f.storbinary("STOR new.bin", io.BytesIO(os.urandom(100000)))))
	out("new.bin", "exists" if os.path.exists(os.path.join(ROOT, "new.bin")) else "absent")
	out(final_reply(f, lambda: f.nlst()))
	out(f.voidcmd("NOOP"))
	# the same control connection, now resuming: it works
	f.__class__ = ReuseFTP_TLS
	got = io.BytesIO()
	out(f.retrbinary("RETR f.bin", got.write))
	out("resumed", f.reused, "equal" if got.getvalue() == disk("f.bin") else "DIFFERENT")
	out(f.quit())
	EOF
	assert_success
	assert_output "522 Data connection must resume the control connection's TLS session
received 0 bytes
522 Data connection must resume the control connection's TLS session
new.bin absent
522 Data connection must resume the control connection's TLS session
200 NOOP ok
226 Transfer complete (500000 bytes)
resumed [True] equal
221 Goodbye"
}

@test "a plaintext connection to the passive port under PROT P gets no data, 522" {
	serve
	mkfile f.bin 500000
	run py <<-'EOF'
	from tlsclient import *
	c = Chat(show=False)
	c.starttls()
	c.login()
	c.quiet("PBSZ 0")
	c.quiet("PROT P")
	d = c.epsv()
	# not waiting for the 150: whether the server answers before or after
	# the data handshake, it gets this instead of a ClientHello
	c.send("RETR f.bin")
	d.settimeout(5)
	d.sendall(b"GET / HTTP/1.0\r\n\r\n")
	got = b""
	try:
	    while True:
	        b = d.recv(65536)
	        if not b:
	            break
	        got += b
	except (OSError, socket.timeout):
	    pass
	d.close()
	out("file bytes received:", "YES" if disk("f.bin")[:32] in got else "none")
	r = c.reply()
	if r.startswith("150 "):
	    r = c.reply()
	out(r)
	out(c.quiet("NOOP"))
	EOF
	assert_success
	assert_output "file bytes received: none
522 Data connection must resume the control connection's TLS session
200 NOOP ok"
}

@test "another control connection's TLS session (1.3 ticket, 1.2 session) is refused with 522" {
	serve
	mkfile f.bin 300000
	run py <<-'EOF'
	import io, ssl
	from tlsclient import *
	for version in (None, ssl.TLSVersion.TLSv1_2):
	    ctx = context(version)
	    a = connect(ctx=ctx)
	    b = connect(ctx=ctx)
	    got = io.BytesIO()
	    out(a.sock.version(), "a own:", a.retrbinary("RETR f.bin", got.write), a.reused)
	    b.data_session = a.sock.session
	    got = []
	    out("b with a's session:", final_reply(b, lambda: b.retrbinary("RETR f.bin", got.append)))
	    out("received", sum(len(x) for x in got), "bytes")
	    b.data_session = None
	    got = io.BytesIO()
	    out("b own:", b.retrbinary("RETR f.bin", got.write),
	        "equal" if got.getvalue() == disk("f.bin") else "DIFFERENT")
	    a.quit()
	    b.quit()
	EOF
	assert_success
	assert_output "TLSv1.3 a own: 226 Transfer complete (300000 bytes) [True]
b with a's session: 522 Data connection must resume the control connection's TLS session
received 0 bytes
b own: 226 Transfer complete (300000 bytes) equal
TLSv1.2 a own: 226 Transfer complete (300000 bytes) [True]
b with a's session: 522 Data connection must resume the control connection's TLS session
received 0 bytes
b own: 226 Transfer complete (300000 bytes) equal"
}

# ---- close_notify ----

@test "an upload that ends without close_notify is 426 and, atomic, leaves the old file" {
	serve
	mkfile old.bin 1000000
	before=$(checksum "$ROOT/old.bin")
	run py <<-'EOF'
	import io, os, socket
	from tlsclient import *
	f = connect()
	conn, _ = f.ntransfercmd("STOR old.bin")
	conn.sendall(os.urandom(2000000))
	# SSLSocket.shutdown drops the TLS state: a TCP FIN, no close_notify
	conn.shutdown(socket.SHUT_RDWR)
	conn.close()
	out(final_reply(f, f.voidresp))
	out(f.voidcmd("NOOP"))
	EOF
	assert_success
	assert_line --index 0 --regexp '^426 '
	assert_line --index 1 "200 NOOP ok"
	assert_equal "${#lines[@]}" 2
	assert_equal "$(checksum "$ROOT/old.bin")" "$before"
	wait_sessions_gone
	no_temp_files
	run grep -E "alice: upload /old.bin, [0-9]+ bytes in [0-9]+ ms\$" "$SERVER_LOG"
	assert_failure
	# the same upload ended properly (unwrap sends close_notify) replaces it
	run py <<-'EOF'
	import io, os
	from tlsclient import *
	f = connect()
	data = os.urandom(2000000)
	out(f.storbinary("STOR old.bin", io.BytesIO(data)))
	out("disk", "replaced" if disk("old.bin") == data else "NOT REPLACED")
	f.quit()
	EOF
	assert_success
	assert_output "226 Transfer complete (2000000 bytes)
disk replaced"
}

# ---- the protocol ----

@test "FEAT lists AUTH TLS, PBSZ and PROT; with tls = off it does not and AUTH is 502" {
	serve
	run tlschat "FEAT" "QUIT"
	assert_success
	assert_line " AUTH TLS"
	assert_line " PBSZ"
	assert_line " PROT"
	assert_line --index 0 "220 FTP server ready"
	stop_server
	conf "server:tls = off"
	sed -i '/^tls_certificate = \|^tls_key = /d' "$CONF"
	start_server
	run tlschat "FEAT" "AUTH TLS" "QUIT"
	assert_success
	refute_line --partial "AUTH"
	refute_line " PBSZ"
	refute_line " PROT"
	assert_line "502 TLS is not available on this server"
	assert_line "221 Goodbye"
}

@test "AUTH, PBSZ, PROT and CCC: the replies of RFC 4217 and the spec" {
	serve
	run tlschat "PBSZ 0" "PROT P" "AUTH KERBEROS_V4" "AUTH TLS" "starttls" \
		"AUTH TLS" "PROT P" "PBSZ 0" "PBSZ 1024" "PROT S" "PROT E" "PROT C" \
		"PROT P" "USER alice" "PASS pw" "CCC" "PWD" "QUIT"
	assert_success
	assert_line --index 0 "220 FTP server ready"
	assert_line --index 1 --regexp '^503 '
	assert_line --index 2 --regexp '^503 '
	assert_line --index 3 --regexp '^504 '
	assert_line --index 4 "234 AUTH TLS successful, start the TLS handshake"
	assert_line --index 5 "TLS TLSv1.3"
	assert_line --index 6 --regexp '^503 '
	assert_line --index 7 --regexp '^503 '
	assert_line --index 8 "200 PBSZ=0"
	assert_line --index 9 "200 PBSZ=0"
	assert_line --index 10 --regexp '^536 '
	assert_line --index 11 --regexp '^536 '
	assert_line --index 12 --regexp '^534 '
	assert_line --index 13 "200 PROT now Private"
	assert_line --index 14 "331 Please specify the password"
	assert_line --index 15 "230 Login successful"
	assert_line --index 16 "534 CCC refused: the control connection stays protected"
	assert_line --index 17 '257 "/" is the current directory'
	assert_line --index 18 "221 Goodbye"
	assert_equal "${#lines[@]}" 19
	# the aliases, any case
	run tlschat "auth ssl" "starttls" "NOOP" "QUIT"
	assert_output "220 FTP server ready
234 AUTH TLS successful, start the TLS handshake
TLS TLSv1.3
200 NOOP ok
221 Goodbye"
	run tlschat "Auth Tls-C" "starttls" "NOOP" "QUIT"
	assert_output "220 FTP server ready
234 AUTH TLS successful, start the TLS handshake
TLS TLSv1.3
200 NOOP ok
221 Goodbye"
}

@test "plaintext commands pipelined behind AUTH TLS are discarded, never executed" {
	serve
	run py <<-'EOF'
	from tlsclient import *
	c = Chat()
	c.raw(b"AUTH TLS\r\nUSER evil\r\nPASS pw\r\n")
	c.reply()
	c.handshake()
	c.cmd("NOOP")
	c.cmd("USER alice")
	c.cmd("PASS pw")
	c.cmd("PWD")
	c.cmd("QUIT")
	EOF
	assert_success
	assert_output "220 FTP server ready
234 AUTH TLS successful, start the TLS handshake
TLS TLSv1.3
200 NOOP ok
331 Please specify the password
230 Login successful
257 \"/\" is the current directory
221 Goodbye"
	wait_sessions_gone
	run server_log
	refute_output --partial "evil"
}

@test "require_tls (default all): a plaintext USER is 530 and the password is never taken" {
	serve
	run tlschat "USER alice" "PASS pw" "PWD" "AUTH TLS" "starttls" \
		"USER alice" "PASS pw" "PWD" "QUIT"
	assert_success
	assert_line --index 0 "220 FTP server ready"
	assert_line --index 1 --regexp '^530 .*TLS'
	assert_line --index 2 --regexp '^5(03|30|34) '
	assert_line --index 3 --regexp '^530 '
	assert_line --index 4 "234 AUTH TLS successful, start the TLS handshake"
	assert_line --index 6 "331 Please specify the password"
	assert_line --index 7 "230 Login successful"
	assert_line --index 8 '257 "/" is the current directory'
	# the plaintext PASS was not even checked
	wait_sessions_gone
	run grep -c "alice: logged in" "$SERVER_LOG"
	assert_output 1
	run server_log
	refute_output --partial "wrong password"
	# curl without TLS: refused at USER, nothing transferred
	mkfile f.bin 1000
	cd "$BATS_TEST_TMPDIR"
	run curl -sS --max-time 20 -u alice:pw -o plain.bin "ftp://127.0.0.1:$PORT/f.bin"
	assert_failure 67
	assert_output --partial "530"
	[ ! -s plain.bin ]
}

@test "require_tls = all: PROT C is 534, data commands without PROT P are 521" {
	serve
	mkfile f.bin 200000
	run py <<-'EOF'
	from tlsclient import *
	c = Chat()
	c.starttls()
	c.login()
	# no PROT at all yet
	out("data bytes", len(c.transfer("LIST")[1]))
	c.cmd("PBSZ 0")
	out("data bytes", len(c.transfer("RETR f.bin")[1]))
	c.cmd("PROT C")
	c.transfer("STOR new.bin", send=b"x" * 10000)
	out("new.bin", "exists" if os.path.exists(os.path.join(ROOT, "new.bin")) else "absent")
	c.cmd("PROT P")
	r, data = c.transfer("RETR f.bin", tls=True)
	out("equal" if data == disk("f.bin") else "DIFFERENT")
	c.cmd("QUIT")
	EOF
	assert_success
	assert_line --index 0 "220 FTP server ready"
	assert_line --index 1 "234 AUTH TLS successful, start the TLS handshake"
	assert_line --index 2 "TLS TLSv1.3"
	assert_line --index 3 "521 Data connections must be protected (PROT P)"
	assert_line --index 4 "data bytes 0"
	assert_line --index 5 "200 PBSZ=0"
	assert_line --index 6 "521 Data connections must be protected (PROT P)"
	assert_line --index 7 "data bytes 0"
	assert_line --index 8 --regexp '^534 '
	assert_line --index 9 "521 Data connections must be protected (PROT P)"
	assert_line --index 10 "new.bin absent"
	assert_line --index 11 "200 PROT now Private"
	assert_line --index 12 "150 Opening BINARY mode data connection for /f.bin (200000 bytes)"
	assert_line --index 13 "226 Transfer complete (200000 bytes)"
	assert_line --index 14 "equal"
	assert_line --index 15 "221 Goodbye"
}

@test "require_tls = login: USER needs TLS, data may then go in clear (PROT C)" {
	serve "server:require_tls = login"
	mkfile f.bin 200000
	run tlschat "USER alice" "QUIT"
	assert_line --index 1 --regexp '^530 .*TLS'
	run py <<-'EOF'
	import ftplib, io, os
	from tlsclient import *
	f = connect(prot_p=False)
	out(f.sock.version())
	got = io.BytesIO()
	out(f.retrbinary("RETR f.bin", got.write))
	out("clear", "equal" if got.getvalue() == disk("f.bin") else "DIFFERENT")
	out(f.prot_p())
	out(f.prot_c())
	data = os.urandom(100000)
	out(f.storbinary("STOR clear.bin", io.BytesIO(data)))
	out("disk", "equal" if disk("clear.bin") == data else "DIFFERENT")
	out(f.prot_p())
	got = io.BytesIO()
	out(f.retrbinary("RETR f.bin", got.write))
	out("private", "equal" if got.getvalue() == disk("f.bin") else "DIFFERENT")
	out(f.quit())
	EOF
	assert_success
	assert_output "TLSv1.3
226 Transfer complete (200000 bytes)
clear equal
200 PROT now Private
200 PROT now Clear
226 Transfer complete (100000 bytes)
disk equal
200 PROT now Private
226 Transfer complete (200000 bytes)
private equal
221 Goodbye"
}

@test "require_tls per user: the user's value wins over [server] both ways" {
	serve "section:[user bob]" "section:password = pw2" "section:system_user = $SYSUSER" \
		"section:root = $BATS_TEST_TMPDIR/root" "section:require_tls = no"
	mkfile f.bin 100000
	# bob may use plain FTP although the server requires TLS of everyone else
	run tlschat "USER bob" "PASS pw2" "AUTH TLS" "PWD" "QUIT"
	assert_line --index 0 "220 FTP server ready"
	assert_line --index 1 "331 Please specify the password"
	assert_line --index 2 "230 Login successful"
	assert_line --index 3 --regexp '^503 '
	assert_line --index 4 '257 "/" is the current directory'
	assert_line --index 5 "221 Goodbye"
	run py <<-'EOF'
	import ftplib, io
	from tlsclient import *
	f = ftplib.FTP()
	f.connect(HOST, PORT, timeout=20)
	f.login("bob", "pw2")
	got = io.BytesIO()
	out(f.retrbinary("RETR f.bin", got.write))
	out("plain", "equal" if got.getvalue() == disk("f.bin") else "DIFFERENT")
	f.quit()
	EOF
	assert_success
	assert_output "226 Transfer complete (100000 bytes)
plain equal"
	run tlschat "USER alice" "QUIT"
	assert_line --index 1 --regexp '^530 .*TLS'
	# the other way: no TLS needed by the server, but by alice
	stop_server
	conf "server:require_tls = no" "require_tls = login" \
		"section:[user bob]" "section:password = pw2" "section:system_user = $SYSUSER" \
		"section:root = $ROOT"
	start_server
	run tlschat "USER alice" "QUIT"
	assert_line --index 1 --regexp '^530 .*TLS'
	run tlschat "USER bob" "PASS pw2" "QUIT"
	assert_line --index 2 "230 Login successful"
}

# ---- privilege separation ----

# key_in_memory PID KEYFILE: how many readable mappings of PID hold the
# EC private key of KEYFILE, as big-endian bytes, as a little-endian
# BIGNUM (OpenSSL's own form) or as the PEM text.
key_in_memory() {
	# shellcheck disable=SC2046 # one hex needle per word
	memory_holds "$1" $(python3 - "$2" <<-'PY'
	import re, subprocess, sys
	keyfile = sys.argv[1]
	text = subprocess.run(["openssl", "pkey", "-in", keyfile, "-noout", "-text"],
	                      capture_output=True, text=True, check=True).stdout
	hexd = re.search(r"priv:\s*\n(.*?)\npub:", text, re.S).group(1)
	priv = bytes.fromhex(re.sub(r"[\s:]", "", hexd)).lstrip(b"\0").rjust(32, b"\0")
	pem = [l for l in open(keyfile).read().splitlines() if l and not l.startswith("-----")]
	print(priv.hex(), priv[::-1].hex(), pem[0].encode().hex())
	PY
	)
}

@test "after a TLS login: the session runs as the account without the key, the TLS end as nobody" {
	require_production_build
	serve
	py <<-'EOF' >"$BATS_TEST_TMPDIR/chat.out" &
	import time
	from tlsclient import *
	c = Chat()
	c.starttls()
	c.login()
	c.cmd("PWD")
	time.sleep(4)
	c.cmd("QUIT")
	EOF
	chat_pid=$!
	wait_log "alice: logged in as system user $SYSUSER"
	assert_session_tree "$(id -u "$SYSUSER")" "$(id -u "$PRELOGIN_USER")"
	session=$PARENT tlsend=$CHILD
	run grep -E '^NoNewPrivs:' "/proc/$tlsend/status"
	assert_output --regexp "^NoNewPrivs:[[:space:]]+1$"
	assert_equal "$(readlink "/proc/$tlsend/root")" /run/cellftpd/empty
	# the key: in the TLS end, which must hold it (this proves the scan
	# finds it), and nowhere in the session, which runs the user's commands
	run key_in_memory "$tlsend" "$CERTS/key.pem"
	refute_output "found 0"
	run key_in_memory "$session" "$CERTS/key.pem"
	assert_output "found 0"
	wait "$chat_pid"
	run cat "$BATS_TEST_TMPDIR/chat.out"
	assert_output "220 FTP server ready
234 AUTH TLS successful, start the TLS handshake
TLS TLSv1.3
257 \"/\" is the current directory
221 Goodbye"
	run grep -E "alice: logged in as .*tls=TLSv1\.3" "$SERVER_LOG"
	assert_success
}

# ---- protocol versions ----

@test "TLS 1.0 and 1.1 handshakes are refused (implicit and explicit); 1.2 and 1.3 work" {
	serve "server:tls = implicit"
	# the control: this client really completes TLS 1.0 and 1.1
	# handshakes with a server that allows them
	local p
	p=$(free_port)
	openssl s_server -accept "127.0.0.1:$p" -cert "$CERTS/cert.pem" -key "$CERTS/key.pem" \
		-no_tls1_2 -no_tls1_3 -cipher "$LEGACY_CIPHERS" -naccept 2 -quiet \
		</dev/null >/dev/null 2>&1 &
	BG_PIDS+=($!)
	for _ in $(seq 50); do
		ss -Hltn "sport = :$p" | grep -q LISTEN && break
		sleep 0.05
	done
	run s_client -connect "127.0.0.1:$p" -tls1 -cipher "$LEGACY_CIPHERS"
	assert_success
	assert_output --partial "Protocol version: TLSv1"$'\n'
	run s_client -connect "127.0.0.1:$p" -tls1_1 -cipher "$LEGACY_CIPHERS"
	assert_success
	assert_output --partial "Protocol version: TLSv1.1"

	for v in -tls1 -tls1_1; do
		run s_client -connect "127.0.0.1:$PORT" "$v" -cipher "$LEGACY_CIPHERS"
		assert_failure
		refute_output --partial "CONNECTION ESTABLISHED"
		refute_output --partial "220 FTP server ready"
	done
	for v in 1_2 1_3; do
		run s_client -connect "127.0.0.1:$PORT" "-tls$v"
		assert_success
		assert_output --partial "Protocol version: TLSv${v/_/.}"
		assert_output --partial "220 FTP server ready"
		assert_output --partial "221 Goodbye"
	done
	wait_sessions_gone
	run grep -c "logged in" "$SERVER_LOG"
	assert_output 0

	# explicit: AUTH TLS, then a TLS 1.1 ClientHello
	stop_server
	conf
	start_server
	run s_client -starttls ftp -connect "127.0.0.1:$PORT" -tls1_1 -cipher "$LEGACY_CIPHERS"
	assert_failure
	refute_output --partial "CONNECTION ESTABLISHED"
	run s_client -starttls ftp -connect "127.0.0.1:$PORT" -tls1_2
	assert_success
	assert_output --partial "Protocol version: TLSv1.2"
	assert_output --partial "221 Goodbye"
	wait_sessions_gone
}

@test "tls_min_version = 1.3 refuses a TLS 1.2 handshake" {
	serve "server:tls = implicit" "server:tls_min_version = 1.3"
	run s_client -connect "127.0.0.1:$PORT" -tls1_2
	assert_failure
	refute_output --partial "CONNECTION ESTABLISHED"
	refute_output --partial "220 FTP server ready"
	run s_client -connect "127.0.0.1:$PORT" -tls1_3
	assert_success
	assert_output --partial "Protocol version: TLSv1.3"
	assert_output --partial "220 FTP server ready"
	wait_sessions_gone
}
