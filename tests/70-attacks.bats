#!/usr/bin/env bats
# The attack suite: every test is a real attack against a real server and
# checks that the defence held: the replies, the file system outside the
# user's root (decoys in $OUT, compared before and after), the processes
# (none left behind) and the log.

load helper

SYSUSER=${ACCOUNT_PREFIX}a-attack
RANGE_LO=$((PASSIVE_BASE + 1000))
RANGE_HI=$((PASSIVE_BASE + 1999))

cleanup() {
	stop_background
	remove_accounts
	groupdel ${ACCOUNT_PREFIX}a-grp >/dev/null 2>&1 || true
}

setup() {
	BG_PIDS=()
	write_client
}

# The attacker's client, importable as atk by `py`.
write_client() {
	cat >"$BATS_TEST_TMPDIR/atk.py" <<'PYEOF'
"""The attacker's side of tests/70-attacks.bats: a raw control
connection and passive data connections that trust nothing; the plain
FTP parts are tests/ftpclient.py's."""
import os
import re
import socket
import sys
import time

import ftpclient
from ftpclient import HOST, PORT, ROOT, connect, out

SECRET = (os.environ.get("SECRET") or "no secret set").encode()


def recv_all(s):
    """Everything until the end, a reset or a timeout."""
    return ftpclient.recv_all(s, (ConnectionResetError, socket.timeout))


class Ftp(ftpclient.Control):
    """Replies are returned, never printed."""

    lost = (ConnectionResetError,)  # closed by the server with our bytes unread

    def __init__(self, user="alice", password="pw", src=None):
        super().__init__(src=src, show=False)
        if user is not None:
            self.login(user, password)

    def epsv(self):
        return self.epsv_port()

    def transfer(self, line, send=None):
        """A data command over EPSV: (replies, bytes received); "EOF"
        when the session is gone."""
        r, port = self.epsv_reply()
        if port is None:
            return r, b""
        r, end, data = self.data_command(line, send, connect(port))
        return (r if end is None else r + "\n" + end), data

    def move(self, d, send=None):
        data = b""
        if send is not None:
            try:
                d.sendall(send)
            except OSError:
                pass
        else:
            data = recv_all(d)
        d.close()
        return data


def code(reply):
    return reply[:3]
PYEOF
}

# py [ARGS...]: a Python script on stdin with atk (and tests/ftpclient.py)
# importable.
py() {
	PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$BATS_TEST_TMPDIR:$BATS_TEST_DIRNAME" \
		PORT="$PORT" ROOT="$ROOT" SECRET="${SECRET:-}" T="$BATS_TEST_TMPDIR" \
		SYSUSER="$SYSUSER" python3 - "$@"
}

# conf [server:LINE | LINE]...: alice_conf (helper.bash), with an empty
# deny_users_file unless one is given: not the machine's /etc/ftpusers,
# which may list root or not.
conf() {
	if [[ "$*" != *"server:deny_users_file"* ]]; then
		: >"$BATS_TEST_TMPDIR/ftpusers"
		set -- "$@" "server:deny_users_file = $BATS_TEST_TMPDIR/ftpusers"
	fi
	alice_conf "$@"
}

# serve [conf arguments...]: as root, the account $SYSUSER owning $ROOT,
# the decoys outside, the configuration, the server.
serve() {
	own_root
	outside_tree
	conf "$@"
	start_server
	TMP_STATE=$(ls -A "$BATS_TEST_TMPDIR")
}

# $OUT next to $ROOT, owned and writable by the session's account, so that
# any escape would really read or change it: a file whose content is
# $SECRET, a directory with a neighbour file, an empty directory.
outside_tree() {
	OUT="$BATS_TEST_TMPDIR/outside"
	SECRET="${ACCOUNT_PREFIX}a-decoy-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	mkdir -p "$OUT/neighbour-dir" "$OUT/emptydir"
	for _ in $(seq 2000); do echo "$SECRET"; done >"$OUT/secret"
	echo "$SECRET neighbour" >"$OUT/neighbour-dir/neighbour-file"
	chown -R "$SYSUSER:" "$OUT"
	chmod 644 "$OUT/secret" "$OUT/neighbour-dir/neighbour-file"
	chmod 755 "$OUT" "$OUT/neighbour-dir" "$OUT/emptydir"
	touch -d '2001-01-01 00:00:00 UTC' "$OUT/secret" "$OUT/neighbour-dir/neighbour-file" \
		"$OUT/neighbour-dir" "$OUT/emptydir" "$OUT"
	# bats makes its run directory 0700: let the account through, so that
	# a link to $OUT would work if it were followed
	chmod o+x "$BATS_RUN_TMPDIR"
	OUT_STATE=$(outside_state)
}

outside_state() {
	find "$OUT" -printf '%p %y %m %U %G %s %T@ %C@ %i %l\n' | sort
	find "$OUT" -type f -exec sha256sum {} + | sort
}

assert_outside_intact() {
	assert_equal "$(outside_state)" "$OUT_STATE"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR")" "$TMP_STATE"
}

tree_state() {
	find "$ROOT" -printf '%p %y %m %U %G %s %T@ %l\n' | sort
	find "$ROOT" -type f -exec sha256sum {} + | sort
}

# The log has none of the lines a crash or a sandbox kill would leave.
assert_no_crash_in_log() {
	run server_log
	refute_output --partial "seccomp:"
	refute_output --partial "Sanitizer"
	refute_output --partial "sanitizer"
	refute_output --partial "runtime error"
	refute_output --partial "core dumped"
	# systemd-socket-activate reports each session's exit status or signal
	refute_output --regexp "Child [0-9]+ died with code [1-9]"
}

# A fresh session is still served after an attack, and nothing is left.
assert_still_serving() {
	wait_sessions_gone
	run chat "NOOP"
	assert_output "220 FTP server ready
200 NOOP ok"
	wait_sessions_gone
	assert_no_crash_in_log
}

# ---- 1. path traversal ----

# Every command that takes a path, with the path written in every way a
# naive server would take for the directory next to the root ($OUT):
# reads are 550 and give no byte, writes fail or land inside the root.
@test "traversal: .. /../.. // \\ %2e%2e ./../ and overlong UTF-8 in every path command" {
	serve
	mkdir "$ROOT/sub"
	for i in $(seq 0 59); do echo "inside $i" >"$ROOT/in-$i.txt"; done
	chown -R "$SYSUSER:" "$ROOT"
	run py <<-'EOF'
	from atk import *
	T = os.environ["T"]
	# (the outside directory, the separator): with "/" every command must
	# fail (550); otherwise the path is one literal name in the root, which
	# a write may create there
	forms = [
	    ("../outside", "/"),
	    ("/../outside", "/"),
	    ("//..//..//outside", "/"),
	    ("./../outside", "/"),
	    ("sub/../../outside", "/"),
	    ("/.." * 12 + T + "/outside", "/"),
	    (T + "/outside", "/"),
	    ("~/../outside", "/"),
	    ("../outside/.", "/"),
	    ("..\\outside", "\\"),
	    ("..\\..\\outside", "\\"),
	    ("%2e%2e/outside", "/"),
	    ("%2e%2e%2foutside", "%2f"),
	    ("..%2foutside", "%2f"),
	    ("%252e%252e%252foutside", "%252f"),
	    ("....//outside", "/"),
	    (".../outside", "/"),
	    ("..%c0%afoutside", "%c0%af"),
	    ("..\udcc0\udcafoutside", "\udcc0\udcaf"),	# raw C0 AF: overlong "/"
	    ("..;/outside", "/"),
	]
	c = Ftp()
	bad = []
	seen = []
	def check(strict, cmd, r, data=b""):
	    body = r.split("\n", 1)[1] if "\n" in r else ""
	    if SECRET in data or SECRET in r.encode():
	        seen.append("SECRET LEAKED by " + cmd)
	    if b"neighbour" in data or "neighbour" in body:
	        seen.append("OUTSIDE LISTED by " + cmd)
	    if strict and code(r) != "550" or r == "EOF":
	        bad.append("%s -> %r" % (cmd, r))
	for i, (f, sep) in enumerate(forms):
	    strict = sep == "/"
	    sec = f + sep + "secret"
	    cmd = "RETR " + sec
	    r, data = c.transfer(cmd)
	    check(True, cmd, r, data)
	    for cmd in ("SIZE " + sec, "MDTM " + sec, "MLST " + sec, "MLST " + f,
	                "STAT " + sec, "STAT " + f, "STAT " + f + sep + "neighbour-dir",
	                "CWD " + f, "CWD " + f + sep + "neighbour-dir"):
	        check(True, cmd, c.cmd(cmd))
	    for cmd in ("LIST " + f, "LIST -a " + f + sep + "neighbour-dir", "LIST " + sec,
	                "NLST " + f, "NLST " + f + sep + "neighbour-dir", "MLSD " + f,
	                "MLSD " + f + sep + "neighbour-dir"):
	        r, data = c.transfer(cmd)
	        check(True, cmd, r, data)
	    # a glob in the outside directory: it matches nothing there
	    cmd = "NLST " + f + sep + "*"
	    r, data = c.transfer(cmd)
	    check(strict, cmd, r, data)
	    for verb, name in (("STOR", "planted"), ("APPE", "secret"), ("STOU", "planted"),
	                       ("STOR", "neighbour-dir" + sep + "planted")):
	        cmd = verb + " " + f + sep + name
	        r, data = c.transfer(cmd, send=b"planted by an attacker")
	        check(strict, cmd, r)
	    for cmd in ("MKD " + f + sep + "planted-dir", "RMD " + f + sep + "emptydir",
	                "RMD " + f + sep + "neighbour-dir", "DELE " + sec,
	                "DELE " + f + sep + "neighbour-dir" + sep + "neighbour-file",
	                "SITE CHMOD 777 " + sec, "SITE CHMOD 777 " + f,
	                "MFMT 20200101000000 " + sec, "SITE UTIME 20200101000000 " + sec,
	                "RNFR " + sec):
	        check(strict, cmd, c.cmd(cmd))
	    # out of the root by renaming an inside file, to a file and over a directory
	    for n, to in ((i, "stolen"), (i + 30, "neighbour-dir")):
	        r = c.cmd("RNFR in-%d.txt" % n)
	        if not r.startswith("350"):
	            bad.append("RNFR in-%d.txt -> %r" % (n, r))
	        check(strict, "RNTO " + f + sep + to, c.cmd("RNTO " + f + sep + to))
	out("forms", len(forms))
	out("\n".join(bad))
	out("\n".join(seen))
	out(c.cmd("PWD"))
	EOF
	assert_success
	assert_output "forms 20


257 \"/\" is the current directory"
	# nothing reached a directory "outside" of the root's own either
	[ ! -e "$ROOT/outside" ]
	assert_outside_intact
	assert_still_serving
}

# Over-long paths and names, and NUL bytes, in the same commands.
@test "traversal: 5000-byte paths, 300-byte names and NUL bytes in every path command" {
	serve
	echo inside >"$ROOT/in.txt"
	chown -R "$SYSUSER:" "$ROOT"
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	paths = {
	    # 5000 bytes that normalise to /outside/secret
	    "climb": "../" * 1662 + "outside/secret",
	    # 5000 bytes that stay longer than PATH_MAX
	    "deep": "/d" * 2500,
	    # a 300-byte name, outside and inside
	    "name-out": "../outside/" + "s" * 300,
	    "name-in": "n" * 300,
	    # NUL bytes, sent as they are
	    "nul": b"../outside/secret\x00",
	    "nul-mid": b"in.txt\x00/../../outside/secret",
	}
	for label, p in paths.items():
	    b = p if isinstance(p, bytes) else p.encode()
	    codes = []
	    for verb in ("RETR", "LIST", "NLST", "MLSD"):
	        r, data = c.transfer(verb.encode() + b" " + b)
	        codes.append(verb + " " + r.split("\n")[-1][:3] + ("" if not data else " DATA"))
	        if SECRET in data:
	            codes.append("SECRET LEAKED")
	    for verb in ("STOR", "APPE", "STOU"):
	        r, data = c.transfer(verb.encode() + b" " + b, send=b"planted")
	        last = r.split("\n")[-1][:3]
	        codes.append(verb + " " + last)
	    for verb in ("DELE", "MKD", "RMD", "CWD", "MLST", "STAT", "SIZE", "MDTM",
	                 "SITE CHMOD 600", "MFMT 20200101000000", "SITE UTIME 20200101000000", "RNFR"):
	        codes.append(verb.split()[0] + " " + code(c.cmd(verb.encode() + b" " + b)))
	    c.cmd("RNFR in.txt")
	    codes.append("RNTO " + code(c.cmd(b"RNTO " + b)))
	    out(label, len(b), " ".join(codes))
	out(c.cmd("PWD"))
	EOF
	assert_success
	local all550="RETR 550 LIST 550 NLST 550 MLSD 550 STOR 550 APPE 550 STOU 550 DELE 550 MKD 550 RMD 550 CWD 550 MLST 550 STAT 550 SIZE 550 MDTM 550 SITE 550 MFMT 550 SITE 550 RNFR 550 RNTO 550"
	assert_output "climb 5000 $all550
deep 5000 ${all550//550/553}
name-out 311 ${all550//550/553}
name-in 300 ${all550//550/553}
nul 18 ${all550//550/501}
nul-mid 28 ${all550//550/501}
257 \"/\" is the current directory"
	# every over-long name is refused before any data moves: nothing is new
	run ls -A "$ROOT"
	assert_output "in.txt"
	assert_equal "$(cat "$ROOT/in.txt")" inside
	assert_outside_intact
	assert_still_serving
}

# ---- 2. symbolic links out of the root ----

# Links a shell user plants in the root, each leading to $OUT if followed:
# absolute and relative, to the directory and to the file, through a
# subdirectory, a chain of links, the real / and /proc's magic link, and
# dangling ones that a write would create outside.
plant_links() {
	mkdir -p "$ROOT/sub"
	echo "inside" >"$ROOT/inside.txt"
	ln -s "$OUT" "$ROOT/abs-dir"
	ln -s ../outside "$ROOT/rel-dir"
	ln -s ../../outside "$ROOT/sub/up-dir"
	ln -s "$OUT/secret" "$ROOT/abs-file"
	ln -s ../outside/secret "$ROOT/rel-file"
	ln -s chain2 "$ROOT/chain1"
	ln -s ../outside "$ROOT/chain2"
	ln -s / "$ROOT/real-root"
	ln -s /proc/self/root "$ROOT/magic"
	ln -s "$OUT/created-by-abs" "$ROOT/abs-new"
	ln -s ../outside/created-by-rel "$ROOT/rel-new"
	chown -hR "$SYSUSER:" "$ROOT"
	# the directory links as a client names them
	DIRS="abs-dir rel-dir sub/up-dir chain1 real-root${OUT} magic${OUT}"
}

@test "symlinks out of the root: no command reads, lists, writes, moves or chmods through them" {
	serve
	plant_links
	cat >"$BATS_TEST_TMPDIR/links.py" <<-'EOF'
	from atk import *
	dirs = os.environ["DIRS"].split()
	files = ["abs-file", "rel-file"] + [d + "/secret" for d in dirs]
	secret_size = str(len(open(os.environ["T"] + "/outside/secret", "rb").read()))
	c = Ftp()
	bad, seen = [], []
	def check(cmd, r, data=b"", want="550"):
	    if SECRET in data or SECRET in r.encode():
	        seen.append("SECRET LEAKED by " + cmd)
	    # what a listing shows: the data, the lines inside a multi-line reply
	    shown = data + "\n".join(r.split("\n")[1:-1]).encode()
	    for word in (b"neighbour", b"emptydir", b"size=" + secret_size.encode()):
	        if word in shown:
	            seen.append("OUTSIDE SEEN by %s: %s" % (cmd, word.decode()))
	    if want is not None and not re.match(want, r.split("\n")[-1]):
	        bad.append("%s -> %r" % (cmd, r))
	for f in files:
	    for verb in ("RETR", "LIST", "NLST", "MLSD"):
	        r, data = c.transfer(verb + " " + f)
	        check(verb + " " + f, r, data)
	    for verb in ("SIZE", "MDTM", "MLST", "STAT"):
	        check(verb + " " + f, c.cmd(verb + " " + f))
	    if "/" in f:	# DELE and RNFR of a link itself act on the link
	        for verb in ("DELE", "RNFR"):
	            check(verb + " " + f, c.cmd(verb + " " + f))
	    check("APPE " + f, c.transfer("APPE " + f, send=b"planted")[0])
	    check("SITE CHMOD 666 " + f, c.cmd("SITE CHMOD 666 " + f),
	          want="550 .*(No such file or directory|is a symbolic link)")
	    check("MFMT " + f, c.cmd("MFMT 20200101000000 " + f),
	          want="(550 |213 Modify=20200101000000; (abs|rel)-file$)")
	for d in dirs:
	    for verb in ("LIST", "LIST -a", "NLST", "MLSD"):
	        for arg in (d, d + "/", d + "/*", d + "/neighbour-dir"):
	            r, data = c.transfer(verb + " " + arg)
	            # a glob in a directory that is not there matches nothing
	            check(verb + " " + arg, r, data, want="(550 |226 Listing sent \\(0 entries\\))")
	    for arg in (d, d + "/neighbour-dir"):
	        for verb in ("CWD", "STAT", "MLST"):
	            check(verb + " " + arg, c.cmd(verb + " " + arg))
	    for verb in ("STOR", "STOU", "APPE"):
	        arg = d + "/planted"
	        check(verb + " " + arg, c.transfer(verb + " " + arg, send=b"planted")[0])
	    for cmd in ("MKD %s/planted-dir", "RMD %s/emptydir", "DELE %s/neighbour-dir/neighbour-file",
	                "SITE CHMOD 777 %s/neighbour-dir", "SITE UTIME 20200101000000 %s/secret",
	                "RNFR %s/secret"):
	        check(cmd % d, c.cmd(cmd % d))
	    # moving an inside file out through the link, and into a directory there
	    for to in (d + "/stolen", d + "/neighbour-dir/stolen"):
	        r = c.cmd("RNFR inside.txt")
	        if not r.startswith("350"):
	            bad.append("RNFR inside.txt -> " + r)
	        check("RNTO " + to, c.cmd("RNTO " + to))
	# the dangling links: a write through them would create a file outside
	for f in ("abs-new", "rel-new"):
	    check("APPE " + f, c.transfer("APPE " + f, send=b"planted")[0])
	    check("MKD " + f + "/x", c.cmd("MKD " + f + "/x"))
	# the link listed in its directory shows the link, never the target's facts
	r, data = c.transfer("MLSD /")
	check("MLSD /", r, data, want="226 ")
	r, data = c.transfer("LIST -a /")
	check("LIST -a /", r, data, want="226 ")
	out("\n".join(bad))
	out("\n".join(seen))
	out(c.cmd("PWD"))
	EOF
	TMP_STATE=$(ls -A "$BATS_TEST_TMPDIR")
	for atomic in yes no; do
		conf "server:atomic_uploads = $atomic"
		DIRS=$DIRS run py <"$BATS_TEST_TMPDIR/links.py"
		assert_success
		assert_output "

257 \"/\" is the current directory"
		assert_outside_intact
		assert_equal "$(cat "$ROOT/inside.txt")" inside
	done
	assert_still_serving
}

# STOR onto a link itself (not through it) replaces the link inside the
# root with atomic_uploads, else fails; either way the target is untouched.
@test "symlinks: STOR and DELE of a link to an outside file never touch the file" {
	serve
	plant_links
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	out(c.transfer("STOR abs-file", send=b"overwritten")[0])
	out(c.transfer("STOR rel-new", send=b"new through a link")[0])
	out(c.cmd("DELE rel-file"))
	EOF
	assert_success
	assert_output "150 Ok to send data for /abs-file
226 Transfer complete (11 bytes)
150 Ok to send data for /rel-new
226 Transfer complete (18 bytes)
250 /rel-file removed"
	# the links were replaced or removed, their targets stay
	[ ! -L "$ROOT/abs-file" ] && [ "$(cat "$ROOT/abs-file")" = overwritten ]
	[ ! -L "$ROOT/rel-new" ] && [ "$(cat "$ROOT/rel-new")" = "new through a link" ]
	[ ! -e "$ROOT/rel-file" ] && [ ! -L "$ROOT/rel-file" ]
	[ ! -e "$OUT/created-by-rel" ]
	assert_outside_intact

	# without atomic uploads the file is opened through the link: in the
	# root, where the target does not exist
	conf "server:atomic_uploads = no"
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	out(c.transfer("STOR rel-dir/secret", send=b"overwritten")[0])
	out(c.transfer("STOR abs-new", send=b"new through a link")[0])
	out(c.transfer("APPE chain1/secret", send=b"appended")[0])
	EOF
	assert_success
	assert_output "550 /rel-dir/secret: No such file or directory
550 /abs-new: No such file or directory
550 /chain1/secret: No such file or directory"
	[ -L "$ROOT/abs-new" ]
	assert_outside_intact
	assert_still_serving
}

# A link to a directory outside answers like a link to nothing: the
# server must not look at what a link reaches outside the root, or a
# client learns which paths outside are directories.
@test "symlinks: STOR onto a link tells nothing about its target outside" {
	serve
	ln -s "$OUT/neighbour-dir" "$ROOT/to-outside-dir"
	ln -s "$OUT/no-such-thing" "$ROOT/to-nothing"
	ln -s /etc "$ROOT/to-etc"
	ln -s /no-such-thing "$ROOT/to-no-etc"
	chown -h "$SYSUSER:" "$ROOT"/*
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	for pair in (("to-nothing", "to-outside-dir"), ("to-no-etc", "to-etc")):
	    a, b = (c.transfer("STOR " + n, send=b"x")[0].replace(n, "LINK") for n in pair)
	    out("same answer" if a == b else "DIFFERENT:\n%s\n%s" % (a, b))
	EOF
	assert_success
	assert_output "same answer
same answer"
	assert_outside_intact
}

# ---- 3. a link swapped in during a transfer ----

# The directory $ROOT/dir, owned by the account, with an inside file.
fresh_dir() {
	rm -rf "$ROOT/dir"
	mkdir "$ROOT/dir"
	truncate -s 32M "$ROOT/dir/secret"
	chown -R "$SYSUSER:" "$ROOT/dir"
}

@test "race: dir swapped for a link to outside during STOR dir/f (5 rounds)" {
	serve
	for round in 1 2 3 4 5; do
		fresh_dir
		# odd rounds with atomic uploads, even ones without; absolute and relative links
		conf "server:atomic_uploads = $([ $((round % 2)) = 1 ] && echo yes || echo no)"
		target=$OUT
		[ $((round % 2)) = 0 ] && target=../outside
		run py "$round" "$target" <<-'EOF'
		from atk import *
		rnd, target = sys.argv[1], sys.argv[2]
		data = os.urandom(8 << 20)
		c = Ftp()
		d = connect(c.epsv())
		out(c.cmd("STOR dir/f"))
		d.sendall(data[:1 << 20])
		time.sleep(0.2)
		# the swap: the directory goes away, a link to outside takes its name
		os.rename(ROOT + "/dir", ROOT + "/away" + rnd)
		os.symlink(target, ROOT + "/dir")
		d.sendall(data[1 << 20:])
		d.close()
		out(c.reply())
		# the link is in place now: a new upload through it goes nowhere
		out(c.transfer("STOR dir/f", send=b"second")[0])
		with open(ROOT + "/away" + rnd + "/f", "rb") as f:
		    out("stored in the directory that was swapped out"
		        if f.read() == data else "DIFFERENT CONTENT")
		EOF
		assert_success
		assert_output "150 Ok to send data for /dir/f
226 Transfer complete (8388608 bytes)
550 /dir/f: No such file or directory
stored in the directory that was swapped out"
		rm -r "$ROOT/dir" "$ROOT/away$round"
		assert_outside_intact
	done
	run find "$ROOT" -name '.cellftpd-upload*'
	assert_output ""
	assert_still_serving
}

@test "race: dir swapped for a link to outside during RETR dir/secret (5 rounds)" {
	serve
	# the decoy has the same name outside, with $SECRET in it
	for round in 1 2 3 4 5; do
		fresh_dir
		target=$OUT
		[ $((round % 2)) = 0 ] && target=../outside
		run py "$round" "$target" <<-'EOF'
		from atk import *
		rnd, target = sys.argv[1], sys.argv[2]
		c = Ftp()
		d = socket.socket()
		d.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
		d.settimeout(20)
		d.connect((HOST, c.epsv()))
		out(c.cmd("RETR dir/secret"))
		got = b""
		while len(got) < (1 << 20):
		    got += d.recv(65536)
		# 31 MiB are still to come: more than any socket buffer holds
		os.rename(ROOT + "/dir", ROOT + "/away" + rnd)
		os.symlink(target, ROOT + "/dir")
		got += recv_all(d)
		d.close()
		out(c.reply())
		out("decoy seen" if SECRET in got else "no decoy")
		out("inside file, complete" if got == bytes(32 << 20) else "DIFFERENT: %d bytes" % len(got))
		r, data = c.transfer("RETR dir/secret")
		out(r, len(data))
		EOF
		assert_success
		assert_output "150 Opening BINARY mode data connection for /dir/secret (33554432 bytes)
226 Transfer complete (33554432 bytes)
no decoy
inside file, complete
550 /dir/secret: No such file or directory 0"
		rm "$ROOT/dir"
		rm -rf "$ROOT/away$round"
	done
	assert_outside_intact
	assert_still_serving
}

# The name flips between the real directory and a link to outside as fast
# as the kernel allows (renameat2 RENAME_EXCHANGE, so it is always one of
# the two) while a client sends every kind of command through it.
@test "race: a link flipped in and out thousands of times a second never leads outside" {
	serve
	fresh_dir
	echo "inside" >"$ROOT/dir/small"
	mkdir "$ROOT/dir/emptydir"
	chown -R "$SYSUSER:" "$ROOT/dir"
	ln -s "$OUT" "$ROOT/link"
	run py <<-'EOF'
	from atk import *
	import subprocess
	flipper = subprocess.Popen([sys.executable, "-c", """
	import ctypes, os, sys, time
	libc = ctypes.CDLL(None, use_errno=True)
	a, b = (sys.argv[1] + "/dir").encode(), (sys.argv[1] + "/link").encode()
	end = time.monotonic() + 15
	n = 0
	while time.monotonic() < end:
	    if libc.renameat2(-100, a, -100, b, 2) != 0:
	        raise SystemExit("renameat2: errno %d" % ctypes.get_errno())
	    n += 1
	    if n % 2 == 0 and os.path.exists(sys.argv[1] + "/stop"):
	        break
	""".replace("\n\t", "\n"), ROOT])
	try:
	    c = Ftp()
	except BaseException:
	    flipper.kill()
	    raise
	seen = {}
	leaks = []
	def note(what, r, data=b""):
	    seen.setdefault(what, set()).add(code(r.split("\n")[-1]))
	    if SECRET in data or SECRET in r.encode() or b"neighbour" in data:
	        leaks.append(what + ": " + r)
	def attack(i):
	    r, data = c.transfer("RETR dir/small")
	    note("RETR", r, data)
	    if data not in (b"", b"inside\n"):
	        leaks.append("RETR gave %r" % data[:40])
	    r, data = c.transfer("LIST dir")
	    note("LIST", r, data)
	    r, data = c.transfer("STOR dir/up", send=b"planted")
	    note("STOR", r)
	    for cmd in ("SIZE dir/secret", "MKD dir/m", "RMD dir/m", "RMD dir/emptydir",
	                "MKD dir/emptydir", "DELE dir/up", "SITE CHMOD 600 dir/secret",
	                "CWD dir", "CWD /"):
	        note(cmd.split()[0], c.cmd(cmd))
	try:
	    for i in range(60):
	        attack(i)
	finally:
	    open(ROOT + "/stop", "w").close()
	    try:
	        flipper.wait(timeout=5)
	    except subprocess.TimeoutExpired:
	        flipper.kill()
	        flipper.wait()
	    os.unlink(ROOT + "/stop")
	out("leaks:", leaks)
	out("RETR outcomes:", sorted(seen["RETR"]))
	out("STOR outcomes:", sorted(seen["STOR"]))
	EOF
	assert_success
	assert_line "leaks: []"
	# the race was real: some lookups met the directory, some the link
	assert_line "RETR outcomes: ['226', '550']"
	assert_line --regexp "^STOR outcomes: \[.*'226'.*'550'.*\]$"
	assert_outside_intact
	assert_still_serving
}

# Bounded listing work: a directory of thousands of names (an upload
# area after a busy day) is listed in every form, and the session lives.
@test "a directory of 3000 names: LIST, NLST, MLSD, STAT and a glob answer; the session survives" {
	serve
	mkdir "$ROOT/big"
	(cd "$ROOT/big" && seq -f 'file%04g' 3000 | xargs touch)
	chown -R "$SYSUSER:" "$ROOT"
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	for cmd in ("NLST big", "LIST big", "MLSD big", "NLST big/file1*"):
	    r, data = c.transfer(cmd)
	    out(cmd, "->", r.split("\n")[-1], len(data.split(b"\r\n")) - 1, "lines")
	r = c.cmd("STAT big")
	out("STAT big ->", len(r.split("\n")), "lines")
	out(c.cmd("NOOP"))
	EOF
	assert_success
	assert_output "NLST big -> 226 Listing sent (3000 entries) 3000 lines
LIST big -> 226 Listing sent (3000 entries) 3000 lines
MLSD big -> 226 Listing sent (3000 entries) 3002 lines
NLST big/file1* -> 226 Listing sent (1000 entries) 1000 lines
STAT big -> 3002 lines
200 NOOP ok"
	assert_still_serving
}

# ---- 4. PORT/EPRT bounce ----

@test "PORT/EPRT bounce to other hosts and to privileged ports: 500, logged, nothing connects" {
	serve
	echo "bounce payload" >"$ROOT/f"
	chown "$SYSUSER:" "$ROOT/f"
	run py <<-'EOF'
	from atk import *
	def listener(addr, port):
	    s = socket.socket()
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
	    s.bind((addr, port))
	    s.listen(8)
	    s.setblocking(False)
	    return s
	trap = listener("127.0.0.2", 0)
	p = trap.getsockname()[1]
	traps = [trap]
	for port in (21, 22, 25):
	    try:
	        traps.append(listener("127.0.0.1", port))
	    except OSError:
	        pass	# a real service is there: it must not be reached either
	hi, lo = p >> 8, p & 255
	attempts = [
	    "PORT 127,0,0,2,%d,%d" % (hi, lo),
	    "PORT 127,000,000,002,%d,%d" % (hi, lo),
	    "EPRT |1|127.0.0.2|%d|" % p,
	    "EPRT !1!127.0.0.2!%d!" % p,
	    "EPRT |2|::ffff:127.0.0.2|%d|" % p,
	    "EPRT |2|::1|%d|" % p,
	    "PORT 10,0,0,1,%d,%d" % (hi, lo),
	    "EPRT |1|10.0.0.1|%d|" % p,
	    "PORT 127,0,0,1,0,21",
	    "PORT 127,0,0,1,0,22",
	    "PORT 127,0,0,1,0,25",
	    "EPRT |1|127.0.0.1|21|",
	    "EPRT |1|127.0.0.1|22|",
	    "EPRT |1|127.0.0.1|25|",
	    "EPRT |2|::ffff:127.0.0.1|25|",
	]
	c = Ftp()
	for a in attempts:
	    out(c.cmd(a))
	    # and then use it: with no data address there is nothing to connect to
	    out(c.cmd("RETR f"))
	    out(c.cmd("LIST"))
	time.sleep(2)
	n = 0
	for s in traps:
	    try:
	        while True:
	            s.accept()
	            n += 1
	    except BlockingIOError:
	        pass
	out("connections:", n)
	EOF
	assert_success
	local refused="425 Use PORT, EPRT, PASV or EPSV first
425 Use PORT, EPRT, PASV or EPSV first"
	local port="500 Illegal PORT command: only your own address and ports from 1024
$refused" eprt="500 Illegal EPRT command: only your own address and ports from 1024
$refused"
	assert_output "$port
$port
$eprt
$eprt
$eprt
$eprt
$port
$eprt
$port
$port
$port
$eprt
$eprt
$eprt
$eprt
connections: 0"
	run grep -c "refused (bounce attempt: not the client's address or a privileged port)" "$SERVER_LOG"
	assert_output 15
	run server_log
	assert_output --regexp "PORT to 127\.0\.0\.2 port [0-9]+ refused \(bounce attempt"
	assert_output --regexp "EPRT to ::1 port [0-9]+ refused \(bounce attempt"
	assert_output --partial "EPRT to 10.0.0.1 port"
	assert_output --partial "PORT to 127.0.0.1 port 22 refused (bounce attempt"
	assert_output --partial "EPRT to 127.0.0.1 port 25 refused (bounce attempt"
	assert_still_serving
}

# ---- 5. passive hijack ----

@test "passive hijack: an intruder from 127.0.0.2 who connects first gets nothing, the client's transfer is whole" {
	serve
	head -c 3000000 /dev/urandom >"$ROOT/f.bin"
	chown "$SYSUSER:" "$ROOT/f.bin"
	run py <<-'EOF'
	from atk import *
	want = open(ROOT + "/f.bin", "rb").read()
	upload = os.urandom(2000000)
	c = Ftp()
	for mode in ("PASV", "EPSV"):
	    for cmd in ("RETR f.bin", "LIST", "STOR up-%s.bin" % mode):
	        r = c.cmd(mode)
	        if mode == "PASV":
	            n = [int(x) for x in re.search(r"\((\d+,\d+,\d+,\d+,\d+,\d+)\)", r).group(1).split(",")]
	            port = n[4] * 256 + n[5]
	        else:
	            port = int(re.search(r"\(\|\|\|(\d+)\|\)", r).group(1))
	        # the intruder is first on the port, and pushes its own bytes
	        thief = connect(port, src="127.0.0.2", timeout=10)
	        try:
	            thief.sendall(b"INTRUDER DATA " * 1000)
	        except OSError:
	            pass
	        c.send(cmd)
	        try:
	            stolen = recv_all(thief)
	            closed = "closed"
	        except socket.timeout:
	            stolen, closed = b"", "STILL OPEN"
	        thief.close()
	        d = connect(port)
	        r = c.reply()
	        if cmd.startswith("STOR"):
	            d.sendall(upload)
	            d.close()
	            got = b""
	        else:
	            got = recv_all(d)
	            d.close()
	        r2 = c.reply()
	        if cmd.startswith("RETR"):
	            ok = got == want
	        elif cmd.startswith("STOR"):
	            ok = open(ROOT + "/up-%s.bin" % mode, "rb").read() == upload
	        else:
	            ok = b"f.bin" in got
	        out(mode, cmd.split()[0], "intruder got %d bytes, %s;" % (len(stolen), closed),
	            r.split()[0], r2.split()[0], "whole" if ok else "NOT WHOLE")
	EOF
	assert_success
	assert_output "PASV RETR intruder got 0 bytes, closed; 150 226 whole
PASV LIST intruder got 0 bytes, closed; 150 226 whole
PASV STOR intruder got 0 bytes, closed; 150 226 whole
EPSV RETR intruder got 0 bytes, closed; 150 226 whole
EPSV LIST intruder got 0 bytes, closed; 150 226 whole
EPSV STOR intruder got 0 bytes, closed; 150 226 whole"
	run grep -c "passive data connection from 127.0.0.2 refused: not the control connection's address" "$SERVER_LOG"
	assert_output 6
	assert_still_serving
}

# ---- 6. brute force and user enumeration ----

@test "user enumeration: existing, missing and system users get the same replies after the same delay" {
	serve
	run py <<-'EOF'
	from atk import *
	import threading
	users = ["alice", "nosuchuser", "alice", "nosuchuser", "alice", "nosuchuser",
	         "root", os.environ["SYSUSER"]]
	res = {}
	def try_login(i, user):
	    t = time.monotonic()
	    c = Ftp(user=None)
	    talk = [c.greeting, c.cmd("USER " + user), c.cmd("PASS wrong-password")]
	    c.send("QUIT")
	    res[i] = (user, "\n".join(talk), time.monotonic() - t)
	threads = [threading.Thread(target=try_login, args=(i, u)) for i, u in enumerate(users)]
	for th in threads:
	    th.start()
	for th in threads:
	    th.join()
	talks = set(res[i][1] for i in res)
	out("transcripts:", len(talks))
	out(talks.pop())
	avg = {}
	for user in ("alice", "nosuchuser"):
	    times = [res[i][2] for i in res if res[i][0] == user]
	    avg[user] = sum(times) / len(times)
	slow = all(res[i][2] >= 0.9 for i in res)
	out("every failure delayed" if slow else "NOT DELAYED: %r" % res)
	diff = abs(avg["alice"] - avg["nosuchuser"])
	out("timing differs by less than 0.5 s" if diff < 0.5 else "TIMING DIFFERS by %.2f s" % diff)
	EOF
	assert_success
	assert_output "transcripts: 1
220 FTP server ready
331 Please specify the password
530 Login incorrect
every failure delayed
timing differs by less than 0.5 s"
	# only the log tells them apart, with the client's address
	run server_log
	assert_output --partial "127.0.0.1 alice: login failed: wrong password"
	assert_output --partial "127.0.0.1 nosuchuser: login failed: unknown user"
	assert_output --partial "127.0.0.1 root: login failed: unknown user"
	wait_sessions_gone
}

@test "brute force: pipelined guesses end at max_login_failures, each delayed; a new connection starts afresh" {
	serve "server:max_login_failures = 3"
	run py <<-'EOF'
	from atk import *
	c = Ftp(user=None)
	t = time.monotonic()
	# the right password comes fourth: the session must be over before it
	guesses = ["guess1", "guess2", "guess3", "pw", "pw"]
	c.s.sendall(b"".join(b"USER alice\r\nPASS %s\r\n" % g.encode() for g in guesses))
	while True:
	    r = c.reply()
	    out(r)
	    if r == "EOF":
	        break
	took = time.monotonic() - t
	out("three delays" if took >= 2.7 else "TOO FAST: %.2f s" % took)
	# a fresh connection is a fresh session: the cap is per connection,
	# the delay is what bounds the guesses
	c = Ftp(user=None)
	t = time.monotonic()
	out(c.cmd("USER alice"))
	out(c.cmd("PASS guess4"))
	out("delayed" if time.monotonic() - t >= 0.9 else "NOT DELAYED")
	out(c.cmd("USER alice"))
	out(c.cmd("PASS pw"))
	EOF
	assert_success
	assert_output "331 Please specify the password
530 Login incorrect
331 Please specify the password
530 Login incorrect
331 Please specify the password
421 Too many failed logins; closing control connection
EOF
three delays
331 Please specify the password
530 Login incorrect
delayed
331 Please specify the password
230 Login successful"
	run server_log
	assert_output --partial "127.0.0.1 alice: 3 failed logins; closing"
	run grep -c "alice: logged in" "$SERVER_LOG"
	assert_output 1
	assert_still_serving
}

# A password longer than any the server accepts is still a wrong password:
# answered after the same delay and counted against max_login_failures.
@test "brute force: an over-long password is a failed login like any other, delayed and counted" {
	serve "server:max_login_failures = 3"
	run py <<-'EOF'
	from atk import *
	c = Ftp(user=None)
	for n in range(3):
	    t = time.monotonic()
	    out(c.cmd("USER alice"))
	    out(c.cmd("PASS " + "x" * 2000))
	    out("delayed" if time.monotonic() - t >= 0.9 else "NOT DELAYED")
	out(c.cmd("NOOP"))
	EOF
	assert_success
	assert_output "331 Please specify the password
530 Login incorrect
delayed
331 Please specify the password
530 Login incorrect
delayed
331 Please specify the password
421 Too many failed logins; closing control connection
delayed
EOF"
	assert_still_serving
}

# ---- 7. writes by read-only and anonymous users ----

# A tree the account owns, so that only the configuration stops a write.
write_target_tree() {
	mkdir -p "$ROOT/dir/emptydir"
	echo "keep me" >"$ROOT/file"
	echo "keep me too" >"$ROOT/dir/inner"
	chown -R "$SYSUSER:" "$ROOT"
	chmod 644 "$ROOT/file" "$ROOT/dir/inner"
	touch -d '2010-01-01 00:00:00 UTC' "$ROOT/file" "$ROOT/dir/inner"
}

# Every command that writes, each refused with its own 550 line.
refused_writes_script() {
	cat >"$BATS_TEST_TMPDIR/refused.py" <<-'EOF'
	from atk import *
	user, password = sys.argv[1], sys.argv[2]
	c = Ftp(user, password)
	for cmd in ("STOR file", "STOR new", "APPE file", "APPE new", "STOU", "STOU new"):
	    out(c.transfer(cmd, send=b"attacker data")[0])
	out(c.cmd("REST 2"))
	out(c.transfer("STOR file", send=b"attacker data")[0])
	for cmd in ("MKD x", "XMKD x", "RMD dir/emptydir", "XRMD dir/emptydir", "DELE file",
	            "DELE dir/inner", "RNFR file", "RNTO x", "SITE CHMOD 777 file",
	            "MFMT 20200101000000 file", "SITE UTIME 20200101000000 file",
	            "SITE UTIME file 20200101000000 20200101000000 20200101000000 UTC"):
	    out(c.cmd(cmd))
	out(c.cmd("QUIT"))
	EOF
	TMP_STATE=$(ls -A "$BATS_TEST_TMPDIR")
}

refused_writes_expected() {
	local v
	for v in STOR STOR APPE APPE STOU STOU; do
		echo "550 Permission denied: $v is not allowed for this account"
	done
	echo "350 Restarting at 2; send STOR or RETR"
	echo "550 Permission denied: STOR is not allowed for this account"
	for v in MKD XMKD RMD XRMD DELE DELE RNFR RNTO "SITE CHMOD" MFMT "SITE UTIME" "SITE UTIME"; do
		echo "550 Permission denied: $v is not allowed for this account"
	done
	echo "221 Goodbye"
}

@test "allow_write = no: every write command is 550 and the tree is byte for byte the same" {
	serve "allow_write = no"
	write_target_tree
	refused_writes_script
	before=$(tree_state)
	run py alice pw <"$BATS_TEST_TMPDIR/refused.py"
	assert_success
	assert_output "$(refused_writes_expected)"
	assert_equal "$(tree_state)" "$before"
	assert_outside_intact
	assert_still_serving
}

# anonymous_conf WRITE [server lines...]: [user anonymous] as $SYSUSER in $ROOT
anonymous_conf() {
	local write=$1
	shift
	write_conf <<-EOF
	[server]
	log = stderr
	umask = 022
	passive_ports = $RANGE_LO-$RANGE_HI
	$(printf '%s\n' "$@")
	[user anonymous]
	system_user = $SYSUSER
	root = $ROOT
	allow_write = $write
	EOF
}

@test "anonymous: every write command is 550 and the tree is byte for byte the same" {
	serve
	anonymous_conf no
	write_target_tree
	refused_writes_script
	before=$(tree_state)
	for name in anonymous ftp ANONYMOUS; do
		run py "$name" "guest@example.org" <"$BATS_TEST_TMPDIR/refused.py"
		assert_success
		assert_output "$(refused_writes_expected)"
	done
	assert_equal "$(tree_state)" "$before"
	assert_outside_intact
	assert_still_serving
}

@test "anonymous upload area: new names only; overwriting in any spelling is 553 and the file stays" {
	serve
	write_target_tree
	ln -s file "$ROOT/link-to-file"
	chown -h "$SYSUSER:" "$ROOT/link-to-file"
	cat >"$BATS_TEST_TMPDIR/upload.py" <<-'EOF'
	from atk import *
	import threading
	c = Ftp("anonymous", "guest@example.org")
	out(c.transfer("STOR new", send=b"fresh")[0])
	for name in ("file", "./file", "/dir/../file", "//file", "dir/inner", "link-to-file", "new"):
	    out(c.transfer("STOR " + name, send=b"attacker data")[0])
	out(c.transfer("APPE file", send=b"attacker data")[0])
	out(c.cmd("REST 3"))
	out(c.transfer("STOR other", send=b"attacker data")[0])
	for cmd in ("DELE file", "RNFR file", "MKD x", "SITE CHMOD 777 new", "MFMT 20200101000000 file"):
	    out(c.cmd(cmd))
	# two uploads race for one new name: one wins whole, the other is 553
	res = {}
	def up(i):
	    u = Ftp("anonymous", "x@y")
	    d = connect(u.epsv())
	    r = u.cmd("STOR race")
	    if r.startswith("1"):
	        d.sendall(bytes([65 + i]) * 3000000)
	        d.close()
	        r += "\n" + u.reply()
	    d.close()
	    res[i] = r
	ts = [threading.Thread(target=up, args=(i,)) for i in range(2)]
	for t in ts:
	    t.start()
	for t in ts:
	    t.join()
	out(sorted(r.split("\n")[-1] for r in res.values()))
	data = open(ROOT + "/race", "rb").read()
	out("race: whole" if data in (b"A" * 3000000, b"B" * 3000000) else "race: MIXED")
	EOF
	TMP_STATE=$(ls -A "$BATS_TEST_TMPDIR")
	for atomic in yes no; do
		rm -f "$ROOT/new" "$ROOT/race"
		anonymous_conf upload "atomic_uploads = $atomic"
		before=$(tree_state)
		run py <"$BATS_TEST_TMPDIR/upload.py"
		assert_success
		assert_output "150 Ok to send data for /new
226 Transfer complete (5 bytes)
553 /file: already exists
553 /file: already exists
553 /file: already exists
553 /file: already exists
553 /dir/inner: already exists
553 /link-to-file: already exists
553 /new: already exists
550 Permission denied: APPE is not allowed for this account
350 Restarting at 3; send STOR or RETR
550 Permission denied: resuming uploads is not allowed for this account
550 Permission denied: DELE is not allowed for this account
550 Permission denied: RNFR is not allowed for this account
550 Permission denied: MKD is not allowed for this account
550 Permission denied: SITE CHMOD is not allowed for this account
550 Permission denied: MFMT is not allowed for this account
['226 Transfer complete (3000000 bytes)', '553 /race: already exists']
race: whole"
		assert_equal "$(cat "$ROOT/new")" fresh
		# everything that was there is as it was
		assert_equal "$(tree_state | grep -v -e "^$ROOT " -e "^$ROOT/new " -e "^$ROOT/race " -e " $ROOT/new\$" -e " $ROOT/race\$")" \
			"$(grep -v -e "^$ROOT " <<<"$before")"
		run find "$ROOT" -name '.cellftpd-upload*'
		assert_output ""
	done
	assert_outside_intact
	assert_still_serving
}

# ---- 8. setuid, setgid and sticky bits ----

@test "SITE CHMOD never sets setuid, setgid or sticky, in any spelling" {
	serve
	echo x >"$ROOT/file"
	mkdir "$ROOT/dir"
	chown "$SYSUSER:" "$ROOT/file" "$ROOT/dir"
	chmod 755 "$ROOT/file" "$ROOT/dir"
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	modes = ("4755", "2755", "1755", "6777", "7777", "04755", "004755", "0000002755",
	         "+4755", "4000", "1000", "37777777777", "1000000000000000000755",
	         "2000000000000000000755", "-4755", "0x9ed", "4755 ")
	for target in ("file", "dir"):
	    for m in modes:
	        r = c.cmd("SITE CHMOD %s %s" % (m, target))
	        out(m, target, "refused" if re.match(r"5(50 Only permission bits|01 )", r) else r)
	    out(c.cmd("site chmod 4755 " + target))
	out(c.cmd("SITE CHMOD 711 file"))
	EOF
	assert_success
	refute_line --regexp " (file|dir) [0-9]"
	assert_equal "$(grep -c ' refused$' <<<"$output")" 34
	assert_line "550 Only permission bits (up to 777) may be set; no setuid, setgid or sticky bits"
	assert_line "200 SITE CHMOD command ok"
	assert_equal "$(stat -c %a "$ROOT/file")" 711
	assert_equal "$(stat -c %a "$ROOT/dir")" 755
	assert_still_serving
}

@test "uploads never carry setuid, setgid or sticky bits, not even over a setuid file" {
	serve
	# the root is setgid (group inheritance), the old files have every bit
	chmod 2775 "$ROOT"
	for f in suid-a suid-b suid-c; do
		echo old >"$ROOT/$f"
		chown "$SYSUSER:" "$ROOT/$f"
		chmod 6755 "$ROOT/$f"
	done
	chmod 7755 "$ROOT/suid-a"
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	out(c.cmd("SITE UMASK 000"))
	out(c.cmd("SITE UMASK 0"))
	for cmd in ("STOR new", "STOR suid-a", "STOU"):
	    out(c.transfer(cmd, send=b"uploaded")[0].split("\n")[-1])
	out(c.cmd("MKD newdir"))
	EOF
	assert_success
	assert_output "550 The mask may only be made stricter than 022
550 The mask may only be made stricter than 022
226 Transfer complete (8 bytes)
226 Transfer complete (8 bytes)
226 Transfer complete (8 bytes)
257 \"/newdir\" created"
	# in place, without atomic uploads: the kernel drops the bits on write
	conf "server:atomic_uploads = no"
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	out(c.transfer("STOR suid-b", send=b"uploaded")[0].split("\n")[-1])
	out(c.transfer("APPE suid-c", send=b"appended")[0].split("\n")[-1])
	EOF
	assert_success
	assert_output "226 Transfer complete (8 bytes)
226 Transfer complete (8 bytes)"
	run find "$ROOT" -mindepth 1 -type f -perm /7000 -printf '%P %m\n'
	assert_output ""
	assert_equal "$(stat -c %a "$ROOT/new")" 644
	assert_equal "$(stat -c %a "$ROOT/suid-a")" 644
	assert_equal "$(stat -c %a "$ROOT/suid-b")" 755
	assert_equal "$(stat -c %a "$ROOT/suid-c")" 755
	assert_equal "$(cat "$ROOT/suid-c")" "$(printf 'old\nappended')"
	# only the directory inherits the setgid bit of its parent, nothing else
	assert_equal "$(stat -c %a "$ROOT/newdir")" 2755
	assert_still_serving
}

# ---- 9. who the session is ----

@test "identity: the session runs as its account with its groups and no capabilities; pre-login as nobody" {
	require_production_build
	serve
	groupdel ${ACCOUNT_PREFIX}a-grp >/dev/null 2>&1 || true
	groupadd ${ACCOUNT_PREFIX}a-grp
	usermod -a -G ${ACCOUNT_PREFIX}a-grp "$SYSUSER"
	status_of() {
		grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|NoNewPrivs|Seccomp):' "/proc/$1/status" | tr -s '\t ' ' ' | sed 's/ $//'
	}
	# before login: a root parent and a nobody child
	python3 "$FTPCHAT" "$PORT" "USER alice" "sleep:1.5" >/dev/null &
	BG_PIDS+=($!)
	for _ in $(seq 40); do
		top=$(sessions | head -1)
		[ -n "$top" ] && [ -n "$(pgrep -P "$top")" ] && break
		sleep 0.05
	done
	child=$(pgrep -P "$top")
	run status_of "$top"
	assert_line "Uid: 0 0 0 0"
	run status_of "$child"
	nobody=$(id -u "$PRELOGIN_USER")
	assert_line "Uid: $nobody $nobody $nobody $nobody"
	assert_line "Groups:"
	assert_line "CapEff: 0000000000000000"
	assert_line "NoNewPrivs: 1"
	wait "${BG_PIDS[-1]}"
	# after login: one process, the account's uid, gid and groups
	python3 "$FTPCHAT" "$PORT" "USER alice" "PASS pw" "sleep:1.5" >/dev/null &
	BG_PIDS+=($!)
	for _ in $(seq 40); do
		grep -q "alice: logged in" "$SERVER_LOG" && break
		sleep 0.05
	done
	pid=$(sessions)
	[ "$(wc -w <<<"$pid")" -eq 1 ]
	[ -z "$(pgrep -P "$pid")" ]
	uid=$(id -u "$SYSUSER") gid=$(id -g "$SYSUSER")
	run status_of "$pid"
	assert_line "Uid: $uid $uid $uid $uid"
	assert_line "Gid: $gid $gid $gid $gid"
	assert_line "Groups: $(id -G "$SYSUSER" | tr ' ' '\n' | sort -n | xargs)"
	assert_line "CapEff: 0000000000000000"
	assert_line "CapPrm: 0000000000000000"
	assert_line "NoNewPrivs: 1"
	assert_line "Seccomp: 2"
	wait "${BG_PIDS[-1]}"
	assert_still_serving
}

# ---- 10. a world-writable configuration ----

@test "a configuration others could have written is refused with 421, however it is reached" {
	require_root
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	[user alice]
	password = pw
	root = $ROOT
	EOF
	real=$CONF
	start_server
	for mode in 666 646 664 620; do
		chmod "$mode" "$real"
		run chat "USER alice" "PASS pw"
		assert_output "421 Service not available: configuration error (see the server log)
EOF"
	done
	# a refused file's own log setting is not trusted: -t names the reason
	run "$CELLFTPD" -t -c "$real"
	assert_failure 1
	assert_line "$real: refused: must be owned by root and not writable by group or others (owner uid 0, mode 0620)"
	# through a symbolic link to a world-writable file
	stop_server
	chmod 666 "$real"
	ln -s "$real" "$BATS_TEST_TMPDIR/link.conf"
	CONF="$BATS_TEST_TMPDIR/link.conf" start_server
	run chat "USER alice" "PASS pw"
	assert_output "421 Service not available: configuration error (see the server log)
EOF"
	run "$CELLFTPD" -t -c "$BATS_TEST_TMPDIR/link.conf"
	assert_failure 1
	assert_line --partial "refused: must be owned by root and not writable by group or others (owner uid 0, mode 0666)"
	wait_sessions_gone
	# and as it should be, it is served
	chmod 644 "$real"
	run chat "USER alice" "PASS pw"
	assert_line --index 2 "230 Login successful"
}

# ---- 11. hostile input ----

# send_raw LOGIN FILE: connects (logging in as alice when LOGIN is "login"),
# sends the bytes of FILE at once, closes, and prints how it went.
send_raw() {
	py "$@" <<-'EOF'
	from atk import *
	login, path = sys.argv[1], sys.argv[2]
	c = Ftp(None if login == "raw" else "alice", "pw")
	try:
	    c.s.sendall(open(path, "rb").read())
	except (BrokenPipeError, ConnectionResetError):
	    pass
	c.s.close()
	out("sent")
	EOF
}

@test "hostile input: 100 KiB of random bytes, before and after login, then the connection closed" {
	serve
	for round in 1 2; do
		head -c 102400 /dev/urandom >"$BATS_TEST_TMPDIR/random-$round.bin"
	done
	TMP_STATE=$(ls -A "$BATS_TEST_TMPDIR")
	for round in 1 2; do
		for login in raw login; do
			run send_raw "$login" "$BATS_TEST_TMPDIR/random-$round.bin"
			assert_output "sent"
			assert_still_serving
		done
	done
	assert_outside_intact
}

@test "hostile input: lines of 1 MiB are 500 and the session goes on, before and after login" {
	serve
	run py <<-'EOF'
	from atk import *
	big = b"A" * (1 << 20)
	for login in (None, "alice"):
	    c = Ftp(login, "pw")
	    c.s.sendall(b"NOOP " + big + b"\r\nNOOP\r\n")
	    out(c.reply())
	    out(c.reply())
	    c.s.sendall(b"USER " + big + b"\r\n")
	    out(c.reply())
	    c.s.sendall(b"\n".join([big] * 4) + b"\nNOOP\r\n")
	    for _ in range(5):
	        out(c.reply())
	    # and one without an end, then gone
	    c.s.sendall(big * 2)
	    c.s.close()
	EOF
	assert_success
	local long="500 Command line too long (at most 8190 bytes)"
	assert_output "$long
200 NOOP ok
$long
$long
$long
$long
$long
200 NOOP ok
$long
200 NOOP ok
$long
$long
$long
$long
$long
200 NOOP ok"
	assert_still_serving
}

@test "hostile input: 1500 pipelined commands after login are answered in order at a bounded pace" {
	serve
	echo data >"$ROOT/f"
	chown "$SYSUSER:" "$ROOT/f"
	run py <<-'EOF'
	from atk import *
	c = Ftp()
	cycle = [("NOOP", "200 NOOP ok"), ("PWD", '257 "/" is the current directory'),
	         ("SIZE f", "213 5"), ("TYPE I", "200 Switching to Binary mode"),
	         ("MDTM nothere", "550 /nothere: No such file or directory"),
	         ("CWD /", "250 Directory changed to /")]
	cmds = [cycle[i % len(cycle)] for i in range(1500)]
	t = time.monotonic()
	c.s.sendall(b"".join(cmd.encode() + b"\r\n" for cmd, _ in cmds))
	wrong = sum(1 for cmd, want in cmds if c.reply() != want)
	took = time.monotonic() - t
	out("answered in order, wrong:", wrong)
	# 400 at once, then 200 a second: about 5.5 s, much longer under load is a fault
	out("bounded pace" if 4.0 <= took <= 15 else "took %.1f s" % took)
	out(c.cmd("QUIT"))
	EOF
	assert_success
	assert_output "answered in order, wrong: 0
bounded pace
221 Goodbye"
	assert_still_serving
}

@test "hostile input: Telnet IAC floods and a subnegotiation that never ends" {
	serve
	run py <<-'EOF'
	from atk import *
	for login in (None, "alice"):
	    c = Ftp(login, "pw")
	    # IAC WILL pairs: half of the bytes are options, half data, no line end
	    c.s.sendall(b"\xff\xfb" * 50000 + b"\r\nNOOP\r\n")
	    out(c.reply())
	    out(c.reply())
	    # IAC IP IAC DM, all removed: only the NOOP remains
	    c.s.sendall(b"\xff\xf4\xff\xf2" * 25000 + b"NOOP\r\n")
	    out(c.reply())
	    # IAC DO, IAC DONT, IAC WONT floods inside a command
	    c.s.sendall(b"NO" + b"\xff\xfd\x01\xff\xfe\x01\xff\xfc\x01" * 5000 + b"OP\r\n")
	    out(c.reply())
	    # IAC SB and no IAC SE: everything after it is swallowed, forever
	    c.s.sendall(b"\xff\xfa\x18" + b"NOOP\r\n" * 100000 + b"\x00\xfe" * (1 << 19))
	    c.s.settimeout(1)
	    try:
	        out("after SB:", c.f.readline() or b"EOF")
	    except (socket.timeout, TimeoutError):
	        out("after SB: nothing")
	    c.s.close()
	EOF
	assert_success
	assert_output "500 Command line too long (at most 8190 bytes)
200 NOOP ok
200 NOOP ok
200 NOOP ok
after SB: nothing
500 Command line too long (at most 8190 bytes)
200 NOOP ok
200 NOOP ok
200 NOOP ok
after SB: nothing"
	assert_still_serving
}

@test "hostile input: an HTTP request line ends the session at once, also after login and pipelined" {
	serve
	run chat "USER alice" "PASS pw" "raw:POST /upload HTTP/1.1\r\nHost: x\r\n\r\n" "close?"
	assert_output "220 FTP server ready
331 Please specify the password
230 Login successful
CLOSED"
	run chat "raw:USER alice\r\nPASS pw\r\nCONNECT smtp.example.org:25 HTTP/1.0\r\nNOOP\r\n" \
		"replies:2" "close?"
	assert_output "220 FTP server ready
331 Please specify the password
230 Login successful
CLOSED"
	run chat "raw:GET /../../etc/passwd HTTP/1.1\r\n" "close?"
	assert_output "220 FTP server ready
CLOSED"
	run grep -c "HTTP request line on the FTP port; closing" "$SERVER_LOG"
	assert_output 3
	assert_still_serving
}

@test "hostile input: USER of 10000 bytes and PASS of 100000 bytes, then a normal login" {
	serve
	user=$(head -c 10000 /dev/zero | tr '\0' u)
	pass=$(head -c 100000 /dev/zero | tr '\0' p)
	user8k=$(head -c 8000 /dev/zero | tr '\0' u)
	run chat "USER $user" "USER alice" "PASS $pass" "USER $user8k" "USER alice" "PASS pw" "PWD"
	assert_output "220 FTP server ready
500 Command line too long (at most 8190 bytes)
331 Please specify the password
500 Command line too long (at most 8190 bytes)
501 User name too long
331 Please specify the password
230 Login successful
257 \"/\" is the current directory"
	# the same after login
	run chat "USER alice" "PASS pw" "USER $user" "PASS $pass" "NOOP"
	assert_line --index 3 "500 Command line too long (at most 8190 bytes)"
	assert_line --index 4 "500 Command line too long (at most 8190 bytes)"
	assert_line --index 5 "200 NOOP ok"
	assert_still_serving
}

@test "hostile input: every byte value 0x01-0xff in commands, before and after login" {
	serve
	echo data >"$ROOT/f"
	chown "$SYSUSER:" "$ROOT/f"
	run py <<-'EOF'
	from atk import *
	for login in (None, "alice"):
	    c = Ftp(login, "pw")
	    lines = []
	    for b in range(1, 256):
	        if b in (10, 13):
	            continue
	        x = bytes([b])
	        lines += [x * 4, b"NOOP" + x, b"CWD d" + x + b"e"]
	        if login:
	            lines += [b"MKD m" + x]
	    c.s.sendall(b"".join(l + b"\r\n" for l in lines) + b"NOOP\r\nQUIT\r\n")
	    replies = []
	    while True:
	        r = c.reply()
	        if r == "EOF":
	            break
	        replies.append(r)
	    bad = [r for r in replies if not re.match(r"^[1-5][0-9][0-9] ", r.split("\n")[-1])]
	    out(login or "before login", len(lines) + 2, "lines,", len(replies), "replies,",
	        len(bad), "malformed, last:", replies[-2:])
	EOF
	assert_success
	assert_output "before login 761 lines, 761 replies, 0 malformed, last: ['200 NOOP ok', '221 Goodbye']
alice 1014 lines, 1014 replies, 0 malformed, last: ['200 NOOP ok', '221 Goodbye']"
	assert_outside_intact
	assert_still_serving
}

# ---- found in review ----

@test "a client that never reads its replies cannot hold a session" {
	serve "server:idle_timeout = 2"
	run timeout 30 python3 - "$PORT" <<-'PY'
	import socket, sys, time
	s = socket.socket()
	s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
	s.connect(("127.0.0.1", int(sys.argv[1])))
	s.settimeout(1)
	try:
	    for _ in range(60000):
	        s.sendall(b"HELP\r\n")
	except (socket.timeout, OSError):
	    pass
	time.sleep(8)   # never reading: the server must give up on its replies
	print("held")
	PY
	assert_output "held"
	wait_sessions_gone
	run server_log
	assert_output --partial "control connection lost"
}

@test "a file name cannot forge replies in STAT or MLST" {
	serve
	name=$'x\r\n213 End of status\r\n230 forged'
	printf 'x' >"$ROOT/$name"
	chown "$SYSUSER:" "$ROOT/$name"
	run chat "USER alice" "PASS pw" "STAT /" "NOOP"
	refute_output --partial "forged"
	assert_line "213 End of status"
	assert_line "200 NOOP ok"
	printf 'y' >"$ROOT/a"$'\r'"b"
	run chat "USER alice" "PASS pw" "raw:MLST a\rb\r\n" "replies:1" "NOOP"
	assert_line "250-Listing /a?b"
	assert_line --regexp '^ type=file;.* /a\?b$'
	assert_line "250 End"
	assert_line "200 NOOP ok"
}

@test "EPSV ALL forgets a PORT given before it" {
	serve
	echo data >"$ROOT/f"
	chown "$SYSUSER:" "$ROOT/f"
	run chat "USER alice" "PASS pw" "PORT 127,0,0,1,200,10" "EPSV ALL" "RETR f"
	assert_line --index 5 "425 Use PORT, EPRT, PASV or EPSV first"
}

@test "control bytes do not keep a stalled transfer alive past data_timeout" {
	serve "server:data_timeout = 2"
	truncate -s 300M "$ROOT/big"
	chown "$SYSUSER:" "$ROOT/big"
	start=$(date +%s)
	run timeout 60 python3 - "$PORT" <<-'PY'
	import ftplib, sys, time
	c = ftplib.FTP()
	c.connect("127.0.0.1", int(sys.argv[1]), timeout=30)
	c.login("alice", "pw")
	d = c.transfercmd("RETR big")      # connected, never read
	for _ in range(10):
	    c.sock.sendall(b"\xff\xf1")    # IAC NOP
	    time.sleep(0.5)
	print(c.getline())
	PY
	assert_output "426 Data connection timed out after 2 seconds"
	[ $(($(date +%s) - start)) -lt 15 ]
}
