#!/usr/bin/env bats
# Uploads that can be resumed under atomic uploads: a broken STOR keeps
# what arrived as the hidden partial upload of (login, name), which REST
# + STOR or APPE continue (curl -C -, lftp put -c) and SIZE measures,
# while the old file stays as it was until the upload is whole. Never
# listed or served; removed by a whole new STOR, a refusal, or after
# PARTIAL_KEEP_SEC (24 h).

load helper

SYSUSER=${ACCOUNT_PREFIX}h-resume
# shellcheck disable=SC2034 # the passive ports, read by conf
RANGE_LO=$((PASSIVE_BASE + 7100)) RANGE_HI=$((PASSIVE_BASE + 7199))
NEW_BYTES=3000000

setup() {
	NEW="$BATS_TEST_TMPDIR/new.bin"
}

cleanup() {
	stop_background
	remove_accounts
}

# conf [server:LINE]...: alice and bob (allow_write = yes) and carol
# (allow_write = upload), one system account, one root.
conf() {
	local srv="" line
	for line in "$@"; do
		srv+="${line#server:}"$'\n'
	done
	write_conf <<-EOF
	[server]
	log = stderr
	umask = 022
	passive_ports = $RANGE_LO-$RANGE_HI
	${srv}
	[user alice]
	password = pw
	system_user = $SYSUSER
	root = $ROOT
	allow_write = yes
	[user bob]
	password = pw
	system_user = $SYSUSER
	root = $ROOT
	allow_write = yes
	[user carol]
	password = pw
	system_user = $SYSUSER
	root = $ROOT
	allow_write = upload
	EOF
}

# py: a Python script on stdin with tests/ftpclient.py importable.
py() {
	PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$BATS_TEST_DIRNAME" \
		PORT="$PORT" ROOT="$ROOT" NEW="$NEW" python3 - "$@"
}

# broken USER NAME BYTES [REST]: a STOR of NAME (after REST when given)
# that sends the first BYTES of $NEW (from REST on), waits until the
# server holds them, then breaks the data connection with a reset.
# Prints the replies.
broken() {
	py "$@" <<-'EOF'
	import glob, os, socket, struct, sys, time
	from ftpclient import Control, out
	user, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
	rest = int(sys.argv[4]) if len(sys.argv) > 4 else 0
	data = open(os.environ["NEW"], "rb").read()[rest:rest + n]
	c = Control(show=False)
	c.login(user)
	c.quiet("TYPE I")
	d = c.data()
	if rest:
	    c.quiet("REST %d" % rest)
	out(c.quiet("STOR " + name))
	d.sendall(data)
	def held():
	    return [os.path.getsize(p) for p in glob.glob(os.path.join(
	            os.environ["ROOT"], "**", ".cellftpd-*"), recursive=True)]
	for _ in range(200):
	    if rest + n in held():
	        break
	    time.sleep(0.025)
	d.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
	d.close()
	out(c.reply())
	out(c.quiet("NOOP"))
	EOF
}

curl_as() {
	local user=$1
	shift
	ftp_curl -u "$user:pw" "$@"
}

# The partial uploads in the tree (their paths, one a line).
partials() {
	find "$ROOT" -name '.cellftpd-partial*'
}

# wait_growing BYTES: until an upload's file in $ROOT has BYTES or more
# (up to 10 s).
wait_growing() {
	local _
	for _ in $(seq 200); do
		[ -n "$(find "$ROOT" -name '.cellftpd-*' -size "+$(($1 / 1024))k")" ] && return 0
		sleep 0.05
	done
	echo "no upload reached $1 bytes" >&2
	return 1
}

# kill_client PID: ends a client at once, as a crash or Ctrl-C would.
kill_client() {
	kill -KILL "$1"
	wait "$1" 2>/dev/null || true
	BG_PIDS=()
}

@test "a killed curl upload keeps a hidden partial; curl -C - finishes it, the old file intact until then" {
	serve
	mkfile target.bin 100000
	local old
	old=$(checksum "$ROOT/target.bin")
	local_file new.bin "$NEW_BYTES"
	curl -sS -u alice:pw --limit-rate 400K -T "$NEW" "ftp://127.0.0.1:$PORT/target.bin" 2>/dev/null &
	BG_PIDS=($!)
	wait_growing 300000
	kill_client "${BG_PIDS[0]}"
	wait_sessions_gone
	wait_log "bytes kept for resuming"
	# the old file is whole, the upload hidden under its own name
	assert_equal "$(checksum "$ROOT/target.bin")" "$old"
	no_temp_files
	run partials
	assert_equal "${#lines[@]}" 1
	local part=${lines[0]} kept
	kept=$(stat -c %s "$part")
	[ "$kept" -ge 300000 ] && [ "$kept" -lt "$NEW_BYTES" ]
	# its name: SHA-256 of "alice\0target.bin"; the upload's mode and owner
	assert_equal "$(basename "$part")" ".cellftpd-partial.$(printf 'alice\0target.bin' | sha256sum | cut -d' ' -f1)"
	assert_equal "$(stat -c '%U %a' "$part")" "$SYSUSER 644"
	assert_equal "$(cmp -n "$kept" "$part" "$NEW" && echo same)" same
	run server_log
	assert_output --regexp "alice: upload /target\.bin, [0-9]+ bytes in [0-9]+ ms, failed: [a-z ]+; $kept bytes kept for resuming"
	# what curl -C - asks first
	run curl_as alice -I target.bin
	assert_output --partial "Content-Length: $kept"
	run curl_as alice -v -C - -T "$NEW" target.bin
	assert_success
	assert_output --partial "APPE target.bin"
	assert_output --partial "< 150 Ok to send data for /target.bin, resuming at byte $kept"
	assert_equal "$(checksum "$ROOT/target.bin")" "$(checksum "$NEW")"
	run partials
	assert_output ""
	no_temp_files
	wait_log "resumed at $kept"
	grep -qE "alice: upload /target\.bin, $((NEW_BYTES - kept)) bytes in [0-9]+ ms, resumed at $kept\$" "$SERVER_LOG"
}

@test "a killed lftp put keeps a partial; lftp put -c finishes it" {
	serve
	mkfile put.bin 5000
	local old
	old=$(checksum "$ROOT/put.bin")
	local_file new.bin "$NEW_BYTES"
	local open="set ftp:ssl-allow no; set net:max-retries 1; open -u alice,pw -p $PORT 127.0.0.1"
	lftp -c "$open; set net:limit-rate 400000; put $NEW -o put.bin" >/dev/null 2>&1 &
	BG_PIDS=($!)
	wait_growing 300000
	kill_client "${BG_PIDS[0]}"
	wait_sessions_gone
	wait_log "bytes kept for resuming"
	assert_equal "$(checksum "$ROOT/put.bin")" "$old"
	run partials
	assert_equal "${#lines[@]}" 1
	local kept
	kept=$(stat -c %s "${lines[0]}")
	run timeout 20 lftp -c "$open; put -c $NEW -o put.bin"
	assert_success
	assert_equal "$(checksum "$ROOT/put.bin")" "$(checksum "$NEW")"
	run partials
	assert_output ""
	no_temp_files
	wait_log "resumed at $kept"
}

@test "SIZE answers the partial's size; another user's SIZE and REST + STOR see the old file" {
	serve
	mkfile shared.bin 200000
	local old
	old=$(checksum "$ROOT/shared.bin")
	local_file new.bin "$NEW_BYTES"
	run broken alice shared.bin 123456
	assert_success
	assert_output "150 Ok to send data for /shared.bin
426 Data connection lost; 123456 bytes kept for resuming
200 NOOP ok"
	assert_equal "$(checksum "$ROOT/shared.bin")" "$old"
	run chat "USER alice" "PASS pw" "TYPE I" "SIZE shared.bin" "MDTM shared.bin"
	assert_line --index 4 "213 123456"
	assert_line --index 5 "213 $(date -u -r "$ROOT/shared.bin" +%Y%m%d%H%M%S)"
	run chat "USER bob" "PASS pw" "TYPE I" "SIZE shared.bin"
	assert_line --index 4 "213 200000"
	# bob's REST + STOR goes on from the old file, not from alice's bytes
	run py <<-'EOF'
	import os
	from ftpclient import Control, disk, out
	c = Control(show=False)
	c.login("bob")
	c.quiet("TYPE I")
	old = disk("shared.bin")
	c.quiet("REST 1000")
	print(c.data_command("STOR shared.bin", b"bob's tail")[1])
	out("bob's file" if disk("shared.bin") == old[:1000] + b"bob's tail" else "DIFFERENT")
	EOF
	assert_output "226 Transfer complete (10 bytes)
bob's file"
	# alice's partial is still hers to resume: REST + STOR
	run partials
	assert_equal "${#lines[@]}" 1
	run py <<-'EOF'
	import os
	from ftpclient import Control, disk, out
	new = open(os.environ["NEW"], "rb").read()
	c = Control(show=False)
	c.login("alice")
	c.quiet("TYPE I")
	out(c.cmd("REST 123456"))
	r = c.data_command("STOR shared.bin", new[123456:])
	out(r[0])
	out(r[1])
	out("whole" if disk("shared.bin") == new else "DIFFERENT")
	EOF
	assert_output "350 Restarting at 123456; send STOR or RETR
150 Ok to send data for /shared.bin, resuming at byte 123456
226 Transfer complete ($((NEW_BYTES - 123456)) bytes)
whole"
	run partials
	assert_output ""
}

@test "a REST within the partial cuts it there; REST past it copies the old file's head" {
	serve
	mkfile f.bin 500000
	local_file new.bin "$NEW_BYTES"
	run broken alice f.bin 200000
	assert_success
	# a client that knows less than the server kept: from byte 100000
	run broken alice f.bin 50000 100000
	assert_output "150 Ok to send data for /f.bin, resuming at byte 100000
426 Data connection lost; 150000 bytes kept for resuming
200 NOOP ok"
	run partials
	assert_equal "$(stat -c %s "${lines[0]}")" 150000
	assert_equal "$(cmp -n 150000 "${lines[0]}" "$NEW" && echo same)" same
	# past the partial's end: the old file's first 400000 bytes, as without one
	run py <<-'EOF'
	from ftpclient import Control, disk, out
	c = Control(show=False)
	c.login("alice")
	c.quiet("TYPE I")
	old = disk("f.bin")
	c.quiet("REST 400000")
	out(c.data_command("STOR f.bin", b"end")[1])
	out("head of the old file" if disk("f.bin") == old[:400000] + b"end" else "DIFFERENT")
	EOF
	assert_output "226 Transfer complete (3 bytes)
head of the old file"
	run partials
	assert_output ""
}

@test "one partial, one writer: a second session of the user gets 450 while the first resumes" {
	serve
	local_file new.bin "$NEW_BYTES"
	run broken alice two.bin 100000
	assert_success
	run py <<-'EOF'
	import os
	from ftpclient import Control, disk, out
	new = open(os.environ["NEW"], "rb").read()
	a, b = Control(show=False), Control(show=False)
	for c in (a, b):
	    c.login("alice")
	    c.quiet("TYPE I")
	d = a.data()
	a.quiet("REST 100000")
	out(a.cmd("STOR two.bin"))
	d.sendall(new[100000:200000])
	db = b.data()
	b.quiet("REST 100000")
	out(b.cmd("STOR two.bin"))
	db.close()
	db = b.data()
	out(b.cmd("APPE two.bin"))
	db.close()
	d.sendall(new[200000:])
	d.close()
	out(a.reply())
	out("whole" if disk("two.bin") == new else "DIFFERENT")
	EOF
	assert_output "150 Ok to send data for /two.bin, resuming at byte 100000
450 /two.bin: another session is resuming this upload; try again later
450 /two.bin: another session is resuming this upload; try again later
226 Transfer complete ($((NEW_BYTES - 100000)) bytes)
whole"
	run partials
	assert_output ""
}

@test "STOR without REST replaces the partial: a whole upload leaves none, a broken one its own" {
	serve
	mkfile r.bin 1000
	local_file new.bin "$NEW_BYTES"
	run broken alice r.bin 300000
	assert_success
	run broken alice r.bin 70000
	assert_output "150 Ok to send data for /r.bin
426 Data connection lost; 70000 bytes kept for resuming
200 NOOP ok"
	run partials
	assert_equal "${#lines[@]}" 1
	assert_equal "$(stat -c %s "${lines[0]}")" 70000
	# a client that ends with QUIT and closes before the 226 is done, not gone
	run py <<-'EOF'
	import os
	from ftpclient import Control
	c = Control(show=False)
	c.login("alice")
	c.quiet("TYPE I")
	d = c.data()
	c.quiet("STOR r.bin")
	d.sendall(open(os.environ["NEW"], "rb").read())
	d.close()
	c.send("QUIT")
	c.s.close()
	EOF
	wait_sessions_gone
	assert_equal "$(checksum "$ROOT/r.bin")" "$(checksum "$NEW")"
	run partials
	assert_output ""
	no_temp_files
}

@test "a partial older than PARTIAL_KEEP_SEC is removed, not resumed" {
	serve
	mkfile old.bin 400000
	local_file new.bin "$NEW_BYTES"
	run broken alice old.bin 250000
	assert_success
	run partials
	touch -d '2 days ago' "${lines[0]}"
	run chat "USER alice" "PASS pw" "TYPE I" "SIZE old.bin"
	assert_line --index 4 "213 400000"
	run partials
	assert_output ""
	wait_log "partial upload of /old.bin removed: 250000 bytes, older than 24 hours"
	# and when STOR is the first to look: the old file's head, not the partial
	run broken alice old.bin 250000
	run partials
	touch -d '25 hours ago' "${lines[0]}"
	run py <<-'EOF'
	from ftpclient import Control, disk, out
	c = Control(show=False)
	c.login("alice")
	c.quiet("TYPE I")
	old = disk("old.bin")
	c.quiet("REST 250000")
	r = c.data_command("STOR old.bin", b"tail")
	out(r[0])
	out(r[1])
	out("head of the old file" if disk("old.bin") == old[:250000] + b"tail" else "DIFFERENT")
	EOF
	assert_output "150 Ok to send data for /old.bin
226 Transfer complete (4 bytes)
head of the old file"
	run partials
	assert_output ""
}

@test "partial and temporary uploads are never listed, served or named" {
	serve "server:conversions = yes"
	mkdir -p "$ROOT/sub"
	mkfile sub/f.bin 100000
	local_file new.bin "$NEW_BYTES"
	run broken alice sub/f.bin 90000
	assert_success
	run partials
	local name
	name=$(basename "${lines[0]}")
	# an upload's temporary file at the same time
	head -c 10 /dev/zero >"$ROOT/sub/.cellftpd-upload.0123456789ab"
	chown -R "$SYSUSER:" "$ROOT"
	run py "$name" <<-'EOF'
	import sys
	from ftpclient import Control, out
	name = sys.argv[1]
	c = Control(show=False)
	c.login("alice")
	c.quiet("TYPE I")
	for cmd in ("LIST -a sub", "NLST -a sub", "MLSD sub", "LIST -a sub/.cellftpd-*",
	            "NLST sub/.c*"):
	    r = c.data_command(cmd)
	    out(cmd, "|", r[2].decode().replace("\r\n", "|") or "(nothing)")
	out(c.quiet("STAT -a sub").replace("\n", "|"))
	for cmd in ("RETR", "SIZE", "MDTM", "DELE", "RNFR", "MLST", "CWD", "STOR",
	            "APPE", "STOU", "MKD"):
	    out(c.quiet("%s sub/%s" % (cmd, name)))
	out(c.quiet("RETR sub/.cellftpd-upload.0123456789ab"))
	out(c.quiet("RETR sub/%s.gz" % name))
	c.quiet("RNFR sub/f.bin")
	out(c.quiet("RNTO sub/.cellftpd-partial.x"))
	EOF
	assert_success
	for i in 0 1 2 3 4 5; do
		[[ "${lines[$i]#* | }" != *cellftpd-* ]]
	done
	assert_line --index 0 --regexp '^LIST -a sub \| .* f\.bin\|$'
	assert_line --index 1 "NLST -a sub | f.bin|"
	assert_line --index 3 "LIST -a sub/.cellftpd-* | (nothing)"
	assert_line --index 4 "NLST sub/.c* | (nothing)"
	for i in 6 7 8 9 10 11 12 13 14 15 16; do
		assert_line --index "$i" "550 /sub/$name: reserved name"
	done
	assert_line --index 17 "550 /sub/.cellftpd-upload.0123456789ab: reserved name"
	assert_line --index 18 "550 /sub/$name.gz: reserved name"
	assert_line --index 19 "550 /sub/.cellftpd-partial.x: reserved name"
	# an archive of the directory leaves them out
	run bash -c "curl -sS --ignore-content-length -u alice:pw ftp://127.0.0.1:$PORT/sub.tar | tar -tf -"
	assert_success
	assert_output "sub/
sub/f.bin"
	# and they are all still there, the old file as it was
	[ -f "$ROOT/sub/$name" ] && [ -f "$ROOT/sub/.cellftpd-upload.0123456789ab" ]
	assert_equal "$(stat -c %s "$ROOT/sub/f.bin")" 100000
}

@test "allow_write = upload: resumes its own partial with REST + STOR or APPE, never over an existing file" {
	serve
	local_file new.bin "$NEW_BYTES"
	run broken carol drop.bin 100000
	assert_output "150 Ok to send data for /drop.bin
426 Data connection lost; 100000 bytes kept for resuming
200 NOOP ok"
	[ ! -e "$ROOT/drop.bin" ]
	run broken carol drop.bin 100000 100000
	assert_output "150 Ok to send data for /drop.bin, resuming at byte 100000
426 Data connection lost; 200000 bytes kept for resuming
200 NOOP ok"
	# APPE, as curl -C - sends it
	run curl_as carol -v -C - -T "$NEW" drop.bin
	assert_success
	assert_output --partial "APPE drop.bin"
	assert_equal "$(checksum "$ROOT/drop.bin")" "$(checksum "$NEW")"
	run partials
	assert_output ""
	# a partial whose name someone else has taken meanwhile stays a partial
	run broken carol late.bin 100000
	echo "alice's" >"$ROOT/late.bin"
	chown "$SYSUSER:" "$ROOT/late.bin"
	run chat "USER carol" "PASS pw" "TYPE I" "SIZE late.bin" "REST 100000" "EPSV" "STOR late.bin" "EPSV" "APPE late.bin"
	assert_line --index 4 "213 100000"
	assert_line --index 7 "553 /late.bin: already exists"
	assert_line --index 9 "553 /late.bin: already exists"
	assert_equal "$(cat "$ROOT/late.bin")" "alice's"
	run partials
	assert_equal "${#lines[@]}" 1
	# without a partial of its own: APPE and REST are refused as before
	run chat "USER carol" "PASS pw" "APPE other.bin" "REST 5" "STOR other.bin"
	assert_line --index 3 "550 Permission denied: APPE is not allowed for this account"
	assert_line --index 5 "550 Permission denied: resuming uploads is not allowed for this account"
}

@test "a refused upload keeps nothing: past max_upload_size the partial is removed" {
	serve "server:max_upload_size = 1M"
	local_file new.bin "$NEW_BYTES"
	run broken alice big.bin 500000
	assert_output --partial "500000 bytes kept for resuming"
	run py <<-'EOF'
	import os
	from ftpclient import Control, out
	new = open(os.environ["NEW"], "rb").read()
	c = Control(show=False)
	c.login("alice")
	c.quiet("TYPE I")
	c.quiet("REST 500000")
	out(c.data_command("STOR big.bin", new[500000:2000000])[1])
	EOF
	assert_output "552 Exceeded storage allocation: files uploaded here may have at most 1048576 bytes; nothing stored"
	run partials
	assert_output ""
	[ ! -e "$ROOT/big.bin" ]
}
