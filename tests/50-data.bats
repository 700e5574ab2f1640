#!/usr/bin/env bats
# Data connections, transfers and listings: round trips with curl, lftp,
# wget, tnftp and Python's ftplib; raw dialogues for PASV/EPSV/PORT/EPRT
# and their checks, TYPE A, REST, atomic uploads, STOU, ABOR, data_timeout,
# LIST/NLST/MLSD/MLST/STAT and the bounded glob.

load helper

SYSUSER=${ACCOUNT_PREFIX}d-data
# shellcheck disable=SC2034 # the passive ports, read by alice_conf (helper.bash)
RANGE_LO=$((PASSIVE_BASE + 0)) RANGE_HI=$((PASSIVE_BASE + 999))
MIB3=3145728

cleanup() {
	remove_accounts
}

setup() {
	write_client
}

# The client side of the raw tests, importable as ftpt by `py`.
write_client() {
	cat >"$BATS_TEST_TMPDIR/ftpt.py" <<'PYEOF'
"""A raw control connection that prints every reply line, with helpers
for passive and active data connections (tests/50-data.bats); the plain
FTP parts are tests/ftpclient.py's."""
import os
import re
import socket
import struct
import sys
import time

from ftpclient import HOST, PORT, ROOT, Control, connect, disk, out, recv_all, sha

BASE = int(os.environ["PASSIVE_BASE"])  # the passive ports' base (helper.bash)

def reset(s):
    """Close with RST instead of FIN: a broken connection."""
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()

class Ftp(Control):
    login_failed = ""   # a refused login prints its reply alone

    def __init__(self, src=None, show=True, login=True):
        super().__init__(src=src, show=show)
        if login:
            self.login()

    def eof(self):
        """The end of the connection ends the script."""
        out("EOF")
        raise SystemExit(1)

    def close_abruptly(self):
        self.f.close()
        reset(self.s)

    def pasv(self, show=True):
        r = self.cmd("PASV") if show else self.quiet("PASV")
        m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
        if m is None:
            return None, None
        n = [int(x) for x in m.groups()]
        return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]

    def epsv(self, show=True):
        return self.epsv_reply(show)[1]

    def data(self, src=None):
        """EPSV (not shown) and a data connection to its port."""
        port = self.epsv(show=False)
        if port is None:
            out("no EPSV port")
            raise SystemExit(1)
        return connect(port, src)

    def retr(self, name, d=None):
        """RETR over EPSV unless a data socket is given: bytes or None."""
        _, end, data = self.data_command("RETR " + name, d=d)
        return None if end is None else data

    def stor(self, name, data, verb="STOR", d=None):
        r, end, _ = self.data_command((verb + " " + name).rstrip(), data, d)
        return r if end is None else end

    def listing(self, line, d=None):
        _, end, data = self.data_command(line, d=d)
        return None if end is None else data.decode("utf-8", "replace")

    def lines(self, line, d=None):
        """A listing as its lines, each checked to end with CR LF."""
        text = self.listing(line, d)
        if text is None:
            return []
        if (text and not text.endswith("\r\n")) or "\n" in text.replace("\r\n", ""):
            out("NOT CR LF LINES: %r" % text)
        return text.split("\r\n")[:-1]

    def ls(self, line, d=None):
        for entry in self.lines(line, d):
            out(entry)
PYEOF
}

# py [ARGS...]: a Python script on stdin, with ftpt (and tests/ftpclient.py)
# importable and PORT/ROOT in its environment.
py() {
	PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$BATS_TEST_TMPDIR:$BATS_TEST_DIRNAME" \
		PORT="$PORT" ROOT="$ROOT" python3 - "$@"
}

# conf [server:LINE | section:LINE | LINE]...: the configuration, by
# alice_conf (helper.bash); serve (helper.bash) writes it.
conf() {
	alice_conf "$@"
}

# curl as alice: curl_alice [curl options] PATH
curl_alice() {
	ftp_curl -u alice:pw "$@"
}

# ---- round trips with real clients ----

@test "curl: EPSV and PASV uploads and downloads, checksums equal, logged" {
	serve
	local_file up.bin $MIB3
	cd "$BATS_TEST_TMPDIR"
	run curl_alice -v -T up.bin epsv.bin
	assert_success
	assert_output --partial "> EPSV"
	assert_output --partial "< 229 Entering Extended Passive Mode (|||"
	assert_output --partial "< 226 Transfer complete ($MIB3 bytes)"
	assert_equal "$(checksum "$ROOT/epsv.bin")" "$(checksum up.bin)"
	run curl_alice -v -o epsv.down epsv.bin
	assert_success
	assert_output --partial "> RETR epsv.bin"
	assert_equal "$(checksum epsv.down)" "$(checksum up.bin)"

	run curl_alice -v --disable-epsv -T up.bin pasv.bin
	assert_success
	assert_output --partial "> PASV"
	assert_output --partial "< 227 Entering Passive Mode (127,0,0,1,"
	run curl_alice -v --disable-epsv -o pasv.down pasv.bin
	assert_success
	refute_output --partial "> EPSV"
	assert_equal "$(checksum pasv.down)" "$(checksum up.bin)"
	assert_equal "$(stat -c %a "$ROOT/pasv.bin")" 644

	wait_sessions_gone
	log_xfer upload /epsv.bin $MIB3
	log_xfer download /epsv.bin $MIB3
	log_xfer upload /pasv.bin $MIB3
	log_xfer download /pasv.bin $MIB3
}

@test "curl: active mode with EPRT, and PORT with --disable-eprt" {
	serve
	local_file up.bin $MIB3
	cd "$BATS_TEST_TMPDIR"
	run curl_alice -v --ftp-port 127.0.0.1 -T up.bin eprt.bin
	assert_success
	assert_output --partial "> EPRT |1|127.0.0.1|"
	assert_output --partial "< 200 EPRT command successful"
	run curl_alice -v --ftp-port 127.0.0.1 -o eprt.down eprt.bin
	assert_success
	assert_equal "$(checksum eprt.down)" "$(checksum up.bin)"

	run curl_alice -v --ftp-port 127.0.0.1 --disable-eprt -T up.bin port.bin
	assert_success
	assert_output --partial "> PORT 127,0,0,1,"
	assert_output --partial "< 200 PORT command successful"
	run curl_alice -v --ftp-port 127.0.0.1 --disable-eprt -o port.down port.bin
	assert_success
	assert_output --partial "> PORT 127,0,0,1,"
	assert_equal "$(checksum port.down)" "$(checksum up.bin)"
	assert_equal "$(checksum "$ROOT/port.bin")" "$(checksum up.bin)"
	wait_sessions_gone
	log_xfer download /port.bin $MIB3
}

@test "curl: resume both ways with -C -, --append and --ftp-create-dirs" {
	serve
	local_file whole.bin $MIB3
	cd "$BATS_TEST_TMPDIR"
	# download resume: the local file holds the first MiB
	cp whole.bin "$ROOT/whole.bin"
	chown "$SYSUSER:" "$ROOT/whole.bin"
	head -c 1048576 whole.bin >part.down
	run curl_alice -v -C - -o part.down whole.bin
	assert_success
	assert_output --partial "> REST 1048576"
	assert_equal "$(checksum part.down)" "$(checksum whole.bin)"
	log_xfer download /whole.bin $((MIB3 - 1048576))

	# upload resume: the server holds the first MiB
	head -c 1048576 whole.bin >"$ROOT/resumed.bin"
	chown "$SYSUSER:" "$ROOT/resumed.bin"
	run curl_alice -C - -T whole.bin resumed.bin
	assert_success
	assert_equal "$(checksum "$ROOT/resumed.bin")" "$(checksum whole.bin)"

	# append
	local_file tail.bin 100000
	run curl_alice --append -T tail.bin resumed.bin
	assert_success
	cat whole.bin tail.bin >expect.bin
	assert_equal "$(checksum "$ROOT/resumed.bin")" "$(checksum expect.bin)"

	# directories made on the way
	run curl_alice --ftp-create-dirs -T tail.bin new/deeper/t.bin
	assert_success
	assert_equal "$(checksum "$ROOT/new/deeper/t.bin")" "$(checksum tail.bin)"
	wait_sessions_gone
}

@test "lftp: put, get, mirror -R up, mirror down, mv and rm -r" {
	serve
	local_file up.bin $MIB3
	cd "$BATS_TEST_TMPDIR"
	mkdir -p tree/d1/d2 tree/empty
	head -c 2000000 /dev/urandom >tree/a.bin
	head -c 700000 /dev/urandom >tree/d1/b.bin
	echo hello >tree/d1/d2/c.txt
	HOME="$BATS_TEST_TMPDIR" run timeout 60 lftp -u alice,pw -p "$PORT" 127.0.0.1 -e "
		set ftp:ssl-allow no; set net:max-retries 1; set net:timeout 10
		set cmd:fail-exit yes
		put up.bin -o lf.bin
		get lf.bin -o lf.down
		mirror -R tree rtree
		mirror rtree tree.down
		mv lf.bin lf2.bin
		rm -r rtree/d1
		quit"
	assert_success
	assert_equal "$(checksum lf.down)" "$(checksum up.bin)"
	assert_equal "$(checksum "$ROOT/lf2.bin")" "$(checksum up.bin)"
	[ ! -e "$ROOT/lf.bin" ]
	run diff -r tree tree.down
	assert_success
	[ -f "$ROOT/rtree/a.bin" ]
	[ ! -e "$ROOT/rtree/d1" ]
	wait_sessions_gone
	log_xfer upload /lf.bin $MIB3
	log_xfer download /lf.bin $MIB3
}

@test "wget: a download and a recursive fetch equal file by file" {
	serve
	mkfile one.bin $MIB3
	mkfile wt/a.bin 1500000
	mkfile wt/d/b.bin 300000
	mkfile wt/d/e/c.bin 10
	cd "$BATS_TEST_TMPDIR"
	run timeout 30 wget -q -O one.down "ftp://alice:pw@127.0.0.1:$PORT/one.bin"
	assert_success
	assert_equal "$(checksum one.down)" "$(checksum "$ROOT/one.bin")"
	run timeout 30 wget -q -r -nH --cut-dirs=1 -P wt.down "ftp://alice:pw@127.0.0.1:$PORT/wt/"
	assert_success
	run diff -r wt.down "$ROOT/wt"
	assert_success
	wait_sessions_gone
	log_xfer download /one.bin $MIB3
	log_xfer download /wt/d/e/c.bin 10
}

@test "tnftp: a batch put and get, passive and active" {
	serve
	local_file up.bin $MIB3
	cd "$BATS_TEST_TMPDIR"
	HOME="$BATS_TEST_TMPDIR" run timeout 30 tnftp -n -v <<-EOF
	open 127.0.0.1 $PORT
	user alice pw
	binary
	put up.bin tn.bin
	get tn.bin tn.down
	passive off
	get tn.bin tn.active
	bye
	EOF
	assert_success
	assert_output --partial "230 Login successful"
	assert_output --partial "229 Entering Extended Passive Mode (|||"
	assert_output --partial "200 EPRT command successful"
	assert_output --partial "226 Transfer complete ($MIB3 bytes)"
	assert_equal "$(checksum "$ROOT/tn.bin")" "$(checksum up.bin)"
	assert_equal "$(checksum tn.down)" "$(checksum up.bin)"
	assert_equal "$(checksum tn.active)" "$(checksum up.bin)"
	wait_sessions_gone
	log_xfer upload /tn.bin $MIB3
}

@test "python ftplib: storbinary, retrbinary, nlst, mlsd, size, rename" {
	serve
	mkdir "$ROOT/dir"
	chown "$SYSUSER:" "$ROOT/dir"
	run py <<-'EOF'
	import ftplib, io, os
	from ftpt import PORT, ROOT, disk, out, sha
	data = os.urandom(3 * 1024 * 1024)
	f = ftplib.FTP()
	f.connect("127.0.0.1", PORT, timeout=20)
	f.login("alice", "pw")
	out(f.storbinary("STOR py.bin", io.BytesIO(data)))
	got = io.BytesIO()
	out(f.retrbinary("RETR py.bin", got.write))
	out("download", "equal" if got.getvalue() == data else "DIFFERENT")
	out("disk", "equal" if disk("py.bin") == data else "DIFFERENT")
	out("size", f.size("py.bin"))
	out("nlst", sorted(f.nlst()))
	facts = dict(f.mlsd())
	out("mlsd", facts["py.bin"]["type"], facts["py.bin"]["size"], facts["dir"]["type"])
	out(f.rename("py.bin", "dir/renamed.bin"))
	out("nlst dir", f.nlst("dir"))
	f.set_pasv(False)
	got = io.BytesIO()
	out(f.retrbinary("RETR dir/renamed.bin", got.write))
	out("active", "equal" if got.getvalue() == data else "DIFFERENT")
	out(f.quit())
	EOF
	assert_success
	assert_output "226 Transfer complete (3145728 bytes)
226 Transfer complete (3145728 bytes)
download equal
disk equal
size 3145728
nlst ['dir', 'py.bin']
mlsd file 3145728 dir
250 Renamed /py.bin to /dir/renamed.bin
nlst dir ['renamed.bin']
226 Transfer complete (3145728 bytes)
active equal
221 Goodbye"
	wait_sessions_gone
	log_xfer upload /py.bin $MIB3
	log_xfer download /dir/renamed.bin $MIB3
}

@test "50 concurrent sessions each upload and download, every checksum right" {
	serve
	run py <<-'EOF'
	import ftplib, io, os, threading
	from ftpt import PORT, disk, out
	bad = []
	def one(i):
	    try:
	        data = os.urandom(256 * 1024 + i)
	        f = ftplib.FTP()
	        f.connect("127.0.0.1", PORT, timeout=30)
	        f.login("alice", "pw")
	        f.storbinary("STOR c%d.bin" % i, io.BytesIO(data))
	        got = io.BytesIO()
	        f.retrbinary("RETR c%d.bin" % i, got.write)
	        f.quit()
	        if got.getvalue() != data or disk("c%d.bin" % i) != data:
	            bad.append("%d: different" % i)
	    except Exception as e:
	        bad.append("%d: %r" % (i, e))
	threads = [threading.Thread(target=one, args=(i,)) for i in range(50)]
	for t in threads:
	    t.start()
	for t in threads:
	    t.join()
	out("failed:", sorted(bad))
	EOF
	assert_success
	assert_output "failed: []"
	wait_sessions_gone
	run grep -c "alice: upload /c[0-9]*.bin, [0-9]* bytes in [0-9]* ms$" "$SERVER_LOG"
	assert_output 50
}

# ---- passive mode ----

@test "PASV: 227 with 127,0,0,1 and a port inside passive_ports; a transfer through it" {
	serve "server:passive_ports = $((PASSIVE_BASE + 100))-$((PASSIVE_BASE + 110))"
	mkfile f.bin 100000
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	host, port = c.pasv()
	out("in range" if BASE + 100 <= port <= BASE + 110 else "OUT OF RANGE %d" % port)
	d = connect(port)
	out("equal" if c.retr("f.bin", d) == disk("f.bin") else "DIFFERENT")
	EOF
	assert_success
	assert_line --index 1 --regexp '^227 Entering Passive Mode \(127,0,0,1,[0-9]+,[0-9]+\)\.$'
	assert_line --index 2 "in range"
	assert_line --index 3 "150 Opening BINARY mode data connection for /f.bin (100000 bytes)"
	assert_line --index 4 "226 Transfer complete (100000 bytes)"
	assert_line --index 5 "equal"
}

@test "[passive_addresses]: the longest prefix wins, then default, else passive_address" {
	serve
	mkfile f.bin 5000
	# the script announces what PASV said and transfers through the
	# listener, which stays on 127.0.0.1
	cat >"$BATS_TEST_TMPDIR/pasv.py" <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	host, port = c.pasv(show=False)
	out(host)
	out("equal" if c.retr("f.bin", connect(port)) == disk("f.bin") else "DIFFERENT")
	EOF
	conf "section:[passive_addresses]" "section:127.0.0.0/8 = 10.1.1.1" \
		"section:127.0.0.1 = 10.2.2.2" "section:default = 10.3.3.3"
	run py <"$BATS_TEST_TMPDIR/pasv.py"
	assert_output "10.2.2.2
equal"
	conf "section:[passive_addresses]" "section:127.0.0.0/8 = 10.1.1.1" \
		"section:10.0.0.0/8 = 10.5.5.5" "section:default = 10.3.3.3"
	run py <"$BATS_TEST_TMPDIR/pasv.py"
	assert_output "10.1.1.1
equal"
	conf "section:[passive_addresses]" "section:192.168.0.0/16 = 10.1.1.1" \
		"section:default = 10.3.3.3" "server:passive_address = 10.4.4.4"
	run py <"$BATS_TEST_TMPDIR/pasv.py"
	assert_output "10.3.3.3
equal"
	conf "section:[passive_addresses]" "section:default = 10.3.3.3"
	run py <"$BATS_TEST_TMPDIR/pasv.py"
	assert_output "10.3.3.3
equal"
	# a host name is resolved when the session asks
	conf "section:[passive_addresses]" "section:127.0.0.0/8 = localhost"
	run py <"$BATS_TEST_TMPDIR/pasv.py"
	assert_output "127.0.0.1
equal"
	conf "server:passive_address = 10.4.4.4"
	run py <"$BATS_TEST_TMPDIR/pasv.py"
	assert_output "10.4.4.4
equal"
	conf
	run py <"$BATS_TEST_TMPDIR/pasv.py"
	assert_output "127.0.0.1
equal"
}

@test "a one-port passive range that is busy is 425; free again it is used" {
	require_root
	busy=$(free_port)
	serve "server:passive_ports = $busy-$busy"
	run py "$busy" <<-'EOF'
	import sys
	from ftpt import *
	busy = int(sys.argv[1])
	hold = socket.socket()
	hold.bind(("127.0.0.1", busy))
	hold.listen(1)
	c = Ftp()
	c.cmd("PASV")
	c.cmd("EPSV")
	hold.close()
	out("same port" if c.epsv() == busy else "OTHER PORT")
	EOF
	assert_success
	assert_output "220 FTP server ready
425 No passive port free in $busy-$busy
425 No passive port free in $busy-$busy
229 Entering Extended Passive Mode (|||$busy|)
same port"
}

@test "a one-port passive range serves one transfer after another" {
	require_root
	one=$(free_port)
	serve "server:passive_ports = $one-$one"
	mkfile f.bin 100000
	# the server closes a download's data connection first, so the
	# port has a TIME_WAIT entry when the next PASV binds it
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	for i in range(3):
	    d = c.retr("f.bin")
	    out(i, "equal" if d == disk("f.bin") else "DIFFERENT")
	EOF
	assert_output "0 equal
1 equal
2 equal"
}

@test "EPSV: 229 reply, EPSV 2 on IPv4 is 522, EPSV ALL refuses PASV PORT EPRT" {
	serve "server:passive_ports = $((PASSIVE_BASE + 200))-$((PASSIVE_BASE + 210))"
	mkfile f.bin 70000
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	port = c.epsv()
	out("in range" if BASE + 200 <= port <= BASE + 210 else "OUT OF RANGE")
	c.cmd("EPSV 1")
	c.cmd("EPSV 2")
	c.cmd("EPSV ALL")
	c.cmd("PASV")
	c.cmd("PORT 127,0,0,1,200,10")
	c.cmd("EPRT |1|127.0.0.1|51210|")
	out("equal" if c.retr("f.bin") == disk("f.bin") else "DIFFERENT")
	EOF
	assert_success
	assert_line --index 1 --regexp '^229 Entering Extended Passive Mode \(\|\|\|[0-9]+\|\)$'
	assert_line --index 2 "in range"
	assert_line --index 3 --regexp '^229 Entering Extended Passive Mode \(\|\|\|[0-9]+\|\)$'
	assert_line --index 4 "522 Network protocol not supported, use (1)"
	assert_line --index 5 "200 EPSV ALL ok"
	assert_line --index 6 "503 PASV is not allowed after EPSV ALL"
	assert_line --index 7 "503 PORT is not allowed after EPSV ALL"
	assert_line --index 8 "503 EPRT is not allowed after EPSV ALL"
	assert_line --index 9 "150 Opening BINARY mode data connection for /f.bin (70000 bytes)"
	assert_line --index 10 "226 Transfer complete (70000 bytes)"
	assert_line --index 11 "equal"
}

@test "a passive data connection from another address is refused, the client's own succeeds" {
	serve
	mkfile f.bin 500000
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	port = c.epsv(show=False)
	thief = connect(port, src="127.0.0.2")
	c.send("RETR f.bin")
	try:
	    stolen = recv_all(thief)
	except ConnectionResetError:
	    stolen = b""
	out("thief got", len(stolen), "bytes")
	d = connect(port)
	c.reply()
	data = recv_all(d)
	c.reply()
	out("equal" if data == disk("f.bin") else "DIFFERENT")
	c.cmd("NOOP")
	EOF
	assert_success
	assert_output "220 FTP server ready
thief got 0 bytes
150 Opening BINARY mode data connection for /f.bin (500000 bytes)
226 Transfer complete (500000 bytes)
equal
200 NOOP ok"
	run server_log
	assert_output --partial "passive data connection from 127.0.0.2 refused"
}

# ---- active mode ----

@test "PORT and EPRT: own address works; other hosts, ports below 1024, bad syntax refused" {
	serve
	mkfile f.bin 200000
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	for verb in ("PORT", "EPRT"):
	    ls = socket.socket()
	    ls.settimeout(20)
	    ls.bind((HOST, 0))
	    ls.listen(1)
	    p = ls.getsockname()[1]
	    if verb == "PORT":
	        c.cmd("PORT 127,0,0,1,%d,%d" % (p >> 8, p & 255))
	    else:
	        c.cmd("EPRT |1|127.0.0.1|%d|" % p)
	    c.send("RETR f.bin")
	    d, peer = ls.accept()
	    out("from", peer[0])
	    c.reply()
	    data = recv_all(d)
	    c.reply()
	    out("equal" if data == disk("f.bin") else "DIFFERENT")
	c.cmd("PORT 127,0,0,2,200,10")
	c.cmd("EPRT |1|10.0.0.1|5000|")
	c.cmd("PORT 127,0,0,1,0,21")
	c.cmd("EPRT |1|127.0.0.1|1023|")
	c.cmd("PORT 127,0,0,1,300,1")
	c.cmd("PORT 1,2,3")
	c.cmd("EPRT garbage")
	c.cmd("RETR f.bin")
	EOF
	assert_success
	assert_output "220 FTP server ready
200 PORT command successful
from 127.0.0.1
150 Opening BINARY mode data connection for /f.bin (200000 bytes)
226 Transfer complete (200000 bytes)
equal
200 EPRT command successful
from 127.0.0.1
150 Opening BINARY mode data connection for /f.bin (200000 bytes)
226 Transfer complete (200000 bytes)
equal
500 Illegal PORT command: only your own address and ports from 1024
500 Illegal EPRT command: only your own address and ports from 1024
500 Illegal PORT command: only your own address and ports from 1024
500 Illegal EPRT command: only your own address and ports from 1024
501 Syntax error in PORT argument
501 Syntax error in PORT argument
501 Syntax error in EPRT argument
425 Use PORT, EPRT, PASV or EPSV first"
	run server_log
	assert_output --partial "PORT to 127.0.0.2 port 51210 refused (bounce attempt"
	assert_output --partial "EPRT to 10.0.0.1 port 5000 refused (bounce attempt"
	assert_output --partial "PORT to 127.0.0.1 port 21 refused (bounce attempt"
}

@test "active_mode = no: PORT and EPRT are 502, passive still works" {
	serve "server:active_mode = no"
	mkfile f.bin 1000
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	c.cmd("PORT 127,0,0,1,200,10")
	c.cmd("EPRT |1|127.0.0.1|51210|")
	out("equal" if c.retr("f.bin") == disk("f.bin") else "DIFFERENT")
	EOF
	assert_success
	assert_output "220 FTP server ready
502 Active mode is off on this server; use PASV or EPSV
502 Active mode is off on this server; use PASV or EPSV
150 Opening BINARY mode data connection for /f.bin (1000 bytes)
226 Transfer complete (1000 bytes)
equal"
}

# ---- transfers ----

@test "TYPE A: LF goes out as CR LF, CR LF comes in as LF" {
	serve
	printf 'one\ntwo\n\nthree' >"$ROOT/lf.txt"
	chown "$SYSUSER:" "$ROOT/lf.txt"
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	c.cmd("TYPE A")
	out(repr(c.retr("lf.txt")))
	c.stor("crlf.txt", b"a\r\nb\r\n\r\nlone\rcr\r\n")
	c.cmd("TYPE I")
	out(repr(c.retr("lf.txt")))
	EOF
	assert_success
	assert_output "220 FTP server ready
200 Switching to ASCII mode
150 Opening ASCII mode data connection for /lf.txt (14 bytes)
226 Transfer complete (17 bytes)
b'one\\r\\ntwo\\r\\n\\r\\nthree'
150 Ok to send data for /crlf.txt
226 Transfer complete (17 bytes)
200 Switching to Binary mode
150 Opening BINARY mode data connection for /lf.txt (14 bytes)
226 Transfer complete (14 bytes)
b'one\\ntwo\\n\\nthree'"
	run od -An -c "$ROOT/crlf.txt"
	assert_output "   a  \\n   b  \\n  \\n   l   o   n   e  \\r   c   r  \\n"
}

@test "REST: RETR gives the tail, STOR resumes an upload, past the end is 554" {
	serve
	mkfile f.bin 100000
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	c.cmd("REST 1000")
	out("tail", "equal" if c.retr("f.bin") == disk("f.bin")[1000:] else "DIFFERENT")
	whole = os.urandom(2000000)
	c.stor("resumed.bin", whole[:1234567])
	c.cmd("REST 1234567")
	c.stor("resumed.bin", whole[1234567:])
	out("resumed", "equal" if disk("resumed.bin") == whole else "DIFFERENT")
	c.cmd("REST 100001")
	c.cmd("RETR f.bin")
	c.cmd("REST 100001")
	c.stor("f.bin", b"x")
	c.cmd("REST x")
	c.cmd("RETR f.bin")
	EOF
	assert_success
	assert_output "220 FTP server ready
350 Restarting at 1000; send STOR or RETR
150 Opening BINARY mode data connection for /f.bin (99000 bytes)
226 Transfer complete (99000 bytes)
tail equal
150 Ok to send data for /resumed.bin
226 Transfer complete (1234567 bytes)
350 Restarting at 1234567; send STOR or RETR
150 Ok to send data for /resumed.bin
226 Transfer complete (765433 bytes)
resumed equal
350 Restarting at 100001; send STOR or RETR
554 Restart position 100001 is past the end (100000 bytes)
350 Restarting at 100001; send STOR or RETR
554 Restart position 100001 is past the end of /f.bin
501 REST needs a byte offset
425 Use PORT, EPRT, PASV or EPSV first"
	run stat -c %s "$ROOT/f.bin"
	assert_output 100000
}

@test "atomic uploads: a broken or aborted STOR leaves the old file and no temporary file" {
	serve
	mkfile old.bin $MIB3
	before=$(checksum "$ROOT/old.bin")
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	d = c.data()
	c.cmd("STOR old.bin")
	d.sendall(os.urandom(1000000))
	time.sleep(0.3)
	reset(d)
	c.reply()
	d = c.data()
	c.cmd("STOR old.bin")
	d.sendall(os.urandom(1000000))
	time.sleep(0.3)
	c.send("ABOR")
	c.reply()
	c.reply()
	d.close()
	c.cmd("NOOP")
	EOF
	assert_success
	assert_output "220 FTP server ready
150 Ok to send data for /old.bin
426 Data connection lost; 1000000 bytes kept for resuming
150 Ok to send data for /old.bin
426 Transfer aborted; 1000000 bytes kept for resuming
226 Abort successful
200 NOOP ok"
	assert_equal "$(checksum "$ROOT/old.bin")" "$before"
	no_temp_files
	# kept hidden to be resumed (tests/44-resume.bats): one, the last
	run find "$ROOT" -name '.cellftpd-partial.*' -size 1000000c
	assert_equal "${#lines[@]}" 1
	run server_log
	assert_output --regexp "alice: upload /old.bin, 1000000 bytes in [0-9]+ ms, failed: connection lost"
	assert_output --regexp "alice: upload /old.bin, 1000000 bytes in [0-9]+ ms, failed: aborted"

	# a completed STOR replaces the file
	local_file new.bin 2000000
	run curl_alice -T "$BATS_TEST_TMPDIR/new.bin" old.bin
	assert_success
	assert_equal "$(checksum "$ROOT/old.bin")" "$(checksum "$BATS_TEST_TMPDIR/new.bin")"
	assert_equal "$(stat -c '%U %a' "$ROOT/old.bin")" "$SYSUSER 644"
	no_temp_files
	run find "$ROOT" -name '.cellftpd-partial.*'
	assert_output ""
}

@test "atomic uploads: a control connection lost mid-upload leaves the old file and no temporary file" {
	serve
	mkfile old.bin $MIB3
	before=$(checksum "$ROOT/old.bin")
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	d = c.data()
	c.cmd("STOR old.bin")
	d.sendall(os.urandom(1000000))
	time.sleep(0.3)
	c.close_abruptly()
	time.sleep(0.3)
	reset(d)
	EOF
	assert_success
	wait_sessions_gone
	assert_equal "$(checksum "$ROOT/old.bin")" "$before"
	no_temp_files
}

@test "atomic_uploads = no: a broken STOR leaves the partial file" {
	serve "server:atomic_uploads = no"
	mkfile old.bin $MIB3
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	d = c.data()
	c.cmd("STOR old.bin")
	part = os.urandom(1000000)
	d.sendall(part)
	time.sleep(0.3)
	reset(d)
	c.reply()
	out("partial" if disk("old.bin") == part else "NOT THE PARTIAL DATA")
	EOF
	assert_success
	assert_output "220 FTP server ready
150 Ok to send data for /old.bin
426 Data connection lost; the file is incomplete
partial"
	no_temp_files
}

@test "allow_write = upload: new names only; overwrite 553, APPE and resume refused" {
	serve "allow_write = upload"
	mkfile old.bin 10000
	before=$(checksum "$ROOT/old.bin")
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	c.stor("new.bin", b"fresh")
	c.stor("old.bin", b"overwrite")
	c.cmd("APPE old.bin")
	c.cmd("REST 10")
	c.cmd("STOR other.bin")
	c.cmd("DELE old.bin")
	out(repr(disk("new.bin")))
	EOF
	assert_success
	assert_output "220 FTP server ready
150 Ok to send data for /new.bin
226 Transfer complete (5 bytes)
553 /old.bin: already exists
550 Permission denied: APPE is not allowed for this account
350 Restarting at 10; send STOR or RETR
550 Permission denied: resuming uploads is not allowed for this account
550 Permission denied: DELE is not allowed for this account
b'fresh'"
	assert_equal "$(checksum "$ROOT/old.bin")" "$before"
	no_temp_files
}

@test "STOU: 150 FILE: with an unpredictable name holding the data" {
	serve
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	names = []
	for arg, data in (("", b"first"), ("", b"second"), ("report", b"third")):
	    d = c.data()
	    r = c.cmd(("STOU " + arg).rstrip())
	    out(r)
	    d.sendall(data)
	    d.close()
	    out(c.reply())
	    name = r.split("FILE: ", 1)[1]
	    names.append(name)
	    out("content", "equal" if disk(name.lstrip("/")) == data else "DIFFERENT")
	out("distinct" if len(set(names)) == 3 else "SAME NAMES")
	EOF
	assert_success
	assert_line --index 0 --regexp '^150 FILE: /[^ ]+$'
	assert_line --index 1 "226 Transfer complete (5 bytes)"
	assert_line --index 2 "content equal"
	assert_line --index 3 --regexp '^150 FILE: /[^ ]+$'
	assert_line --index 5 "content equal"
	assert_line --index 6 --regexp '^150 FILE: /report[^ /]+$'
	assert_line --index 8 "content equal"
	assert_line --index 9 "distinct"
	# nobody can guess the names: at least 8 random-looking characters
	run ls "$ROOT"
	assert_equal "${#lines[@]}" 3
	for name in "${lines[@]}"; do
		[[ "$name" =~ [0-9a-zA-Z]{8,}$ ]]
	done
}

@test "ABOR during a large RETR: 426 then 226, also after Telnet IP/Synch; the session goes on" {
	serve
	truncate -s 200M "$ROOT/big"
	chown "$SYSUSER:" "$ROOT/big"
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	c.cmd("ABOR")
	# how a client says ABOR in a transfer: urgent bytes, then plain ones
	for urgent, rest in [
	        (b"", b"ABOR\r\n"),                  # a plain ABOR line
	        (b"\xff\xf4\xff", b"\xf2ABOR\r\n"),  # BSD ftp: IAC IP IAC, then DM
	        (b"\xff\xf4\xff\xf2", b"ABOR\r\n"),  # IAC IP IAC DM in one urgent send
	        (b"ABOR\r\n", b""),                  # Python's ftplib.abort(): all urgent
	]:
	    d = c.data()
	    c.cmd("RETR big")
	    d.recv(65536)
	    if urgent:
	        c.s.send(urgent, socket.MSG_OOB)
	    if rest:
	        c.s.sendall(rest)
	    c.reply()
	    c.reply()
	    d.close()
	    c.cmd("NOOP")
	c.cmd("ABOR")
	EOF
	assert_success
	local abort="150 Opening BINARY mode data connection for /big (209715200 bytes)
426 Transfer aborted
226 Abort successful
200 NOOP ok"
	assert_output "220 FTP server ready
226 Abort successful: no transfer was running
$abort
$abort
$abort
$abort
226 Abort successful: no transfer was running"
	run grep -c "alice: download /big, [0-9]* bytes in [0-9]* ms, failed: aborted$" "$SERVER_LOG"
	assert_output 4
}

@test "QUIT during a transfer: it ends whole, its 226, then 221 (RFC 959)" {
	serve
	# more than the sockets hold: the download is still running at QUIT
	truncate -s 64M "$ROOT/down.bin"
	chown "$SYSUSER:" "$ROOT/down.bin"
	local_file up.bin 2000000
	run py "$BATS_TEST_TMPDIR/up.bin" <<-'EOF'
	from ftpt import *
	data = open(sys.argv[1], "rb").read()
	c = Ftp()
	d = c.data()
	c.cmd("STOR up.bin")
	d.sendall(data[:1000000])
	c.send("QUIT")
	time.sleep(0.3)		# the server has read the QUIT mid-upload
	c.send("NOOP")		# read by nobody: the session ends after QUIT
	d.sendall(data[1000000:])
	d.close()
	c.reply()
	c.reply()
	out("disk", "equal" if disk("up.bin") == data else "DIFFERENT")
	c = Ftp()
	d = c.data()
	c.cmd("RETR down.bin")
	got = d.recv(65536)
	c.send("QUIT")
	time.sleep(0.3)
	got += recv_all(d)
	c.reply()
	c.reply()
	out("download", "equal" if got == disk("down.bin") else "DIFFERENT")
	EOF
	assert_success
	assert_output "220 FTP server ready
150 Ok to send data for /up.bin
226 Transfer complete (2000000 bytes)
221 Goodbye
disk equal
220 FTP server ready
150 Opening BINARY mode data connection for /down.bin (67108864 bytes)
226 Transfer complete (67108864 bytes)
221 Goodbye
download equal"
	log_xfer upload /up.bin 2000000
	log_xfer download /down.bin 67108864
	wait_log "alice: logout during a transfer"
	no_temp_files
}

@test "QUIT during a listing: the whole listing, 226, 221 and a logout line" {
	# slow enough to be running at QUIT: 30 kB of names at 20 kB/s
	serve "server:max_rate_download = 20K"
	mkdir "$ROOT/many"
	for i in $(seq 600); do
		: >"$ROOT/many/name-$i-long-enough-to-fill-the-listing.txt"
	done
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	d = c.data()
	c.cmd("NLST many")
	c.send("QUIT")
	names = recv_all(d).decode().split()
	c.reply()
	c.reply()
	out(len(names), "names")
	EOF
	assert_success
	assert_output --regexp "^220 FTP server ready
150 .*
226 Listing sent \(600 entries\)
221 Goodbye
600 names$"
	wait_log "alice: logout during a listing: 0 files (0 bytes) down, 0 files (0 bytes) up"
}

@test "data_timeout: nobody connects is 425, a stalled download is 426, both after it" {
	serve "server:data_timeout = 2"
	truncate -s 200M "$ROOT/big"
	chown "$SYSUSER:" "$ROOT/big"
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	c.epsv(show=False)
	t = time.monotonic()
	c.cmd("RETR big")
	t = time.monotonic() - t
	out("waited about 2 s" if 1.5 <= t <= 4.5 else "waited %.1f s" % t)
	d = socket.socket()
	d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	d.settimeout(20)
	d.connect((HOST, c.epsv(show=False)))
	c.cmd("RETR big")
	t = time.monotonic()
	c.reply()
	t = time.monotonic() - t
	out("waited about 2 s" if 1.5 <= t <= 4.5 else "waited %.1f s" % t)
	d.close()
	c.cmd("NOOP")
	EOF
	assert_success
	assert_output "220 FTP server ready
425 Cannot open data connection
waited about 2 s
150 Opening BINARY mode data connection for /big (209715200 bytes)
426 Data connection timed out after 2 seconds
waited about 2 s
200 NOOP ok"
	run server_log
	assert_output --regexp "alice: download /big, [0-9]+ bytes in [0-9]+ ms, failed: timed out"
}

# ---- listings ----

# A tree for the listing tests, owned by the account.
list_tree() {
	mkdir -p "$ROOT/sub"
	printf 'abc' >"$ROOT/a.txt"
	printf 'bb' >"$ROOT/b.bin"
	printf 'c' >"$ROOT/c.txt"
	printf 'h' >"$ROOT/.hidden"
	printf 'old' >"$ROOT/old.txt"
	printf '1' >"$ROOT/sub/a.txt"
	printf '22' >"$ROOT/sub/b.txt"
	printf '333' >"$ROOT/sub/c.bin"
	ln -s a.txt "$ROOT/link"
	chown -hR "$SYSUSER:" "$ROOT"
	chmod 644 "$ROOT"/*.txt "$ROOT/b.bin" "$ROOT/sub"/*
	touch -h -d '2 years ago' "$ROOT/old.txt"
}

# ls -l time of PATH itself (not a link's target): HH:MM within six
# months, else the year (UTC)
ls_date() {
	local t
	t=$(stat -c %Y "$1")
	if [ $(($(date +%s) - t)) -lt 15000000 ]; then
		date -u -d "@$t" '+%b %e %H:%M'
	else
		date -u -d "@$t" '+%b %e  %Y'
	fi
}

@test "LIST: ls -l lines with owner, group, size, dates, links; -a shows dotfiles" {
	serve
	list_tree
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	c.ls("LIST")
	out("-- -a")
	c.ls("LIST -a")
	out("-- -la /sub")
	c.ls("LIST -la /sub")
	EOF
	assert_success
	local u=$SYSUSER
	assert_output "-rw-r--r--   1 $u $u        3 $(ls_date "$ROOT/a.txt") a.txt
-rw-r--r--   1 $u $u        2 $(ls_date "$ROOT/b.bin") b.bin
-rw-r--r--   1 $u $u        1 $(ls_date "$ROOT/c.txt") c.txt
lrwxrwxrwx   1 $u $u        5 $(ls_date "$ROOT/link") link -> a.txt
-rw-r--r--   1 $u $u        3 $(ls_date "$ROOT/old.txt") old.txt
drwxr-xr-x   2 $u $u     4096 $(ls_date "$ROOT/sub") sub
-- -a
-rw-r--r--   1 $u $u        1 $(ls_date "$ROOT/.hidden") .hidden
-rw-r--r--   1 $u $u        3 $(ls_date "$ROOT/a.txt") a.txt
-rw-r--r--   1 $u $u        2 $(ls_date "$ROOT/b.bin") b.bin
-rw-r--r--   1 $u $u        1 $(ls_date "$ROOT/c.txt") c.txt
lrwxrwxrwx   1 $u $u        5 $(ls_date "$ROOT/link") link -> a.txt
-rw-r--r--   1 $u $u        3 $(ls_date "$ROOT/old.txt") old.txt
drwxr-xr-x   2 $u $u     4096 $(ls_date "$ROOT/sub") sub
-- -la /sub
-rw-r--r--   1 $u $u        1 $(ls_date "$ROOT/sub/a.txt") a.txt
-rw-r--r--   1 $u $u        2 $(ls_date "$ROOT/sub/b.txt") b.txt
-rw-r--r--   1 $u $u        3 $(ls_date "$ROOT/sub/c.bin") c.bin"
	# the two-year-old file shows its year, not a time of day
	assert_line --regexp "^-rw-r--r-- +1 $u +$u +3 [A-Z][a-z]{2} [ 1-3][0-9]  $(date -u -d '2 years ago' +%Y) old.txt\$"
}

@test "LIST and NLST with one glob pattern; NLST gives bare names" {
	serve
	list_tree
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	for cmd in ("LIST *.txt", "LIST ?.bin", "LIST [ab]*", "NLST", "NLST sub",
	            "NLST sub/*.txt", "NLST *.none", "NLST .h*"):
	    names = [line.split(" ")[-1] for line in c.lines(cmd)]
	    out(cmd + ":", " ".join(names))
	EOF
	assert_success
	assert_output "LIST *.txt: a.txt c.txt old.txt
LIST ?.bin: b.bin
LIST [ab]*: a.txt b.bin
NLST: a.txt b.bin c.txt link old.txt sub
NLST sub: a.txt b.txt c.bin
NLST sub/*.txt: sub/a.txt sub/b.txt
NLST *.none: 
NLST .h*: .hidden"
}

@test "a hostile glob pattern answers quickly" {
	serve
	for n in 200 220 240 250 255; do
		touch "$ROOT/$(head -c $n /dev/zero | tr '\0' a)"
	done
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	t = time.monotonic()
	d = c.data()
	r = c.cmd("LIST *a*a*a*a*a*a*a*a*a*a*b")
	if r.startswith("150"):
	    r = recv_all(d).decode() + c.reply()
	d.close()
	out("answer:", r)
	out("fast" if time.monotonic() - t < 3 else "SLOW")
	out(c.cmd("NOOP"))
	EOF
	assert_success
	assert_line --regexp '^answer: (226 Listing sent \(0 entries\)|550 Pattern needs too much work.*)$'
	assert_line "fast"
	assert_line "200 NOOP ok"
}

# unique=DEVgINO as the server writes it
unique() {
	local dev ino
	read -r dev ino < <(stat -c '%d %i' "$1")
	printf '%xg%x' "$dev" "$ino"
}

# modify=... of PATH (a link's target)
mtime() {
	date -u -r "$1" +%Y%m%d%H%M%S
}

@test "MLSD: cdir and RFC 3659 facts; perm follows allow_write" {
	serve
	list_tree
	local u=$SYSUSER own="UNIX.owner=$SYSUSER;UNIX.group=$SYSUSER;"
	local expect_yes expect_no
	expect_yes="type=cdir;modify=$(mtime "$ROOT");perm=celmp;unique=$(unique "$ROOT");UNIX.mode=0755;$own .
type=file;size=1;modify=$(mtime "$ROOT/.hidden");perm=adfrw;unique=$(unique "$ROOT/.hidden");UNIX.mode=0644;$own .hidden
type=file;size=3;modify=$(mtime "$ROOT/a.txt");perm=adfrw;unique=$(unique "$ROOT/a.txt");UNIX.mode=0644;$own a.txt
type=file;size=2;modify=$(mtime "$ROOT/b.bin");perm=adfrw;unique=$(unique "$ROOT/b.bin");UNIX.mode=0644;$own b.bin
type=file;size=1;modify=$(mtime "$ROOT/c.txt");perm=adfrw;unique=$(unique "$ROOT/c.txt");UNIX.mode=0644;$own c.txt
type=file;size=3;modify=$(mtime "$ROOT/a.txt");perm=adfrw;unique=$(unique "$ROOT/a.txt");UNIX.mode=0644;$own link
type=file;size=3;modify=$(mtime "$ROOT/old.txt");perm=adfrw;unique=$(unique "$ROOT/old.txt");UNIX.mode=0644;$own old.txt
type=dir;modify=$(mtime "$ROOT/sub");perm=cdeflmp;unique=$(unique "$ROOT/sub");UNIX.mode=0755;$own sub"
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	c.ls("MLSD")
	EOF
	assert_success
	assert_output "$expect_yes"

	# read-only: files r, directories el
	conf "allow_write = no"
	expect_no=$(sed -e 's/perm=adfrw;/perm=r;/; s/perm=celmp;/perm=el;/; s/perm=cdeflmp;/perm=el;/' <<<"$expect_yes")
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	c.ls("MLSD /")
	EOF
	assert_success
	assert_output "$expect_no"
}

@test "OPTS MLST selects facts; MLST on the control connection; MLSD on a file is 501; STAT PATH" {
	serve
	list_tree
	run py <<-'EOF'
	from ftpt import *
	c = Ftp()
	c.cmd("MLSD a.txt")
	c.cmd("OPTS MLST type;size;")
	c.cmd("MLST a.txt")
	c.cmd("MLST /sub")
	c.ls("MLSD sub")
	c.cmd("OPTS MLST type;size;modify;perm;unique;UNIX.mode;UNIX.owner;UNIX.group;")
	c.cmd("STAT /")
	c.cmd("STAT sub/b.txt")
	EOF
	assert_success
	local u=$SYSUSER
	assert_output "220 FTP server ready
501 /a.txt: not a directory
200 MLST OPTS type;size;
250-Listing /a.txt
 type=file;size=3; /a.txt
250 End
250-Listing /sub
 type=dir; /sub
250 End
150 Here comes the listing of /sub
226 Listing sent (3 entries)
type=cdir; .
type=pdir; ..
type=file;size=1; a.txt
type=file;size=2; b.txt
type=file;size=3; c.bin
200 MLST OPTS type;size;modify;perm;unique;UNIX.mode;UNIX.owner;UNIX.group;
213-Status of /:
-rw-r--r--   1 $u $u        3 $(ls_date "$ROOT/a.txt") a.txt
-rw-r--r--   1 $u $u        2 $(ls_date "$ROOT/b.bin") b.bin
-rw-r--r--   1 $u $u        1 $(ls_date "$ROOT/c.txt") c.txt
lrwxrwxrwx   1 $u $u        5 $(ls_date "$ROOT/link") link -> a.txt
-rw-r--r--   1 $u $u        3 $(ls_date "$ROOT/old.txt") old.txt
drwxr-xr-x   2 $u $u     4096 $(ls_date "$ROOT/sub") sub
213 End of status
213-Status of /sub/b.txt:
-rw-r--r--   1 $u $u        2 $(ls_date "$ROOT/sub/b.txt") sub/b.txt
213 End of status"
}

@test "MLST of a file gives the same facts as its MLSD line" {
	serve
	list_tree
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	mlsd = [l for l in c.lines("MLSD /sub") if l.endswith(" b.txt")][0]
	mlst = c.cmd("MLST /sub/b.txt").split("\n")[1]
	out(mlsd.split(" ")[0])
	out(mlst.split(" ")[1])
	EOF
	assert_success
	local facts
	facts="type=file;size=2;modify=$(mtime "$ROOT/sub/b.txt");perm=adfrw;unique=$(unique "$ROOT/sub/b.txt");UNIX.mode=0644;UNIX.owner=$SYSUSER;UNIX.group=$SYSUSER;"
	assert_output "$facts
$facts"
}

@test "a name with CR or LF forges no entry in LIST, NLST, MLSD or STAT" {
	serve
	mkfile plain.txt 3
	forged=$'evil\r\n-rw-r--r--   1 root     root         0 Jan  1  2020 forged'
	echo x >"$ROOT/$forged"
	echo x >"$ROOT/"$'cr\ronly'
	ln -s $'target\nforged-too' "$ROOT/link"
	run py <<-'EOF'
	from ftpt import *
	c = Ftp(show=False)
	for verb in ("LIST", "NLST", "MLSD"):
	    out(verb, repr(c.listing(verb)))
	out(c.cmd("STAT ."))
	out(c.cmd("LIST cr\ronly"))
	EOF
	assert_success
	refute_output --partial "2020 forged"
	refute_output --partial "forged-too\\r"
	refute_output --partial "evil"
	refute_output --partial "only"
	assert_line --regexp "^LIST 'lrwxrwxrwx +1 root +root +17 [^>]* link\\\\r\\\\n-rw-r--r-- +1 ${ACCOUNT_PREFIX}d-data +${ACCOUNT_PREFIX}d-data +3 .* plain.txt\\\\r\\\\n'\$"
	assert_line "NLST 'link\\r\\nplain.txt\\r\\n'"
	assert_line --regexp "^MLSD 'type=cdir;[^\\\\]* \\.\\\\r\\\\ntype=OS.unix=symlink;[^\\\\]* link\\\\r\\\\ntype=file;[^\\\\]* plain.txt\\\\r\\\\n'\$"
	# on the control connection a name's control bytes are '?'
	assert_line --regexp "^lrwxrwxrwx .* link -> target\\?forged-too\$"
	assert_line "550 Names with line breaks are not listed"
	assert_line "213 End of status"
}

@test "anonymous uploads default to umask 077 and are not served to the next visitor" {
	require_root
	add_account "$SYSUSER"
	make_root
	mkdir -p "$ROOT/incoming"
	chown "$SYSUSER:" "$ROOT/incoming"
	echo public >"$ROOT/pub.txt"
	chmod 644 "$ROOT/pub.txt"
	write_conf <<-EOF
	[server]
	log = stderr
	conversions = yes
	[user anonymous]
	system_user = $SYSUSER
	root = $ROOT
	allow_write = upload
	EOF
	start_server
	run py <<-'EOF'
	from ftpt import *
	a = Ftp(login=False, show=False)
	a.login("anonymous", "first@")
	out(a.stor("incoming/drop.bin", b"visitor one"))
	b = Ftp(login=False, show=False)
	b.login("ftp", "second@")
	for name in ("incoming/drop.bin", "incoming/drop.bin.gz", "pub.txt"):
	    r, end, data = b.data_command("RETR " + name)
	    out(name, (end or r), repr(data))
	EOF
	assert_success
	assert_output "226 Transfer complete (11 bytes)
incoming/drop.bin 550 /incoming/drop.bin: not readable by everybody; anonymous users get only such files b''
incoming/drop.bin.gz 550 /incoming/drop.bin.gz: No such file or directory b''
pub.txt 226 Transfer complete (7 bytes) b'public\\n'"
	assert_equal "$(stat -c '%a %U' "$ROOT/incoming/drop.bin")" "600 $SYSUSER"
	assert_equal "$(cat "$ROOT/incoming/drop.bin")" "visitor one"
}
