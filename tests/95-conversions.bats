#!/usr/bin/env bats
# Allegro's conversions, made in-process by libarchive: RETR of NAME.gz,
# .bz2, .tar, .tar.gz, .tar.bz2, .zip where only NAME exists.

load helper

setup() {
	make_root
	mkdir -p "$ROOT/tree/sub/deeper" "$BATS_TEST_TMPDIR/outside"
	echo "first file" >"$ROOT/tree/a.txt"
	head -c 200000 /dev/urandom >"$ROOT/tree/sub/b.bin"
	echo deep >"$ROOT/tree/sub/deeper/c"
	ln -sfn a.txt "$ROOT/tree/link"
	echo "secret outside" >"$BATS_TEST_TMPDIR/outside/secret"
	ln -sfn "$BATS_TEST_TMPDIR/outside" "$ROOT/tree/out"
	ln -sfn "$BATS_TEST_TMPDIR/outside/secret" "$ROOT/secret-link"
	printf 'plain text\nline two\n' >"$ROOT/f.txt"
	chmod -R a+rX "$ROOT"
	chmod 755 "$BATS_TEST_TMPDIR/outside"
	write_conf <<-EOF
	[server]
	log = stderr
	xferlog = $BATS_TEST_TMPDIR/xferlog
	conversions = ${CONVERSIONS:-yes}
	[user anonymous]
	root = $ROOT
	EOF
	start_server
}

# curl asks SIZE first, which is 550 for a made-up name: skip it
get() {
	curl -sS --ignore-content-length --max-time 20 "ftp://127.0.0.1:$PORT/$1"
}

@test "NAME.gz and NAME.bz2 of a file decompress to the file" {
	get f.txt.gz >"$BATS_TEST_TMPDIR/f.gz"
	run gunzip -c "$BATS_TEST_TMPDIR/f.gz"
	assert_success
	assert_output "$(cat "$ROOT/f.txt")"
	get f.txt.bz2 >"$BATS_TEST_TMPDIR/f.bz2"
	run bunzip2 -c "$BATS_TEST_TMPDIR/f.bz2"
	assert_success
	assert_output "$(cat "$ROOT/f.txt")"
}

@test "the .tar.gz of a directory unpacks to the same tree" {
	mkdir "$BATS_TEST_TMPDIR/unpacked"
	get tree.tar.gz | tar -xzf - -C "$BATS_TEST_TMPDIR/unpacked"
	run diff -r --no-dereference "$ROOT/tree" "$BATS_TEST_TMPDIR/unpacked/tree"
	assert_success
	assert_output ""
	# the links are stored as links, not followed
	assert_equal "$(readlink "$BATS_TEST_TMPDIR/unpacked/tree/out")" "$BATS_TEST_TMPDIR/outside"
	[ ! -e "$BATS_TEST_TMPDIR/unpacked/tree/out/secret" ] || [ -L "$BATS_TEST_TMPDIR/unpacked/tree/out" ]
	run tar -tzf <(get tree.tar.gz)
	refute_output --partial "secret"
}

@test ".tar, .tar.bz2 and .zip of a directory hold every name" {
	want=$(cd "$ROOT" && find tree | sort)
	run bash -c "tar -tf <(curl -sS --ignore-content-length ftp://127.0.0.1:$PORT/tree.tar) | sed 's|/\$||' | sort"
	assert_output "$want"
	run bash -c "tar -tjf <(curl -sS --ignore-content-length ftp://127.0.0.1:$PORT/tree.tar.bz2) | sed 's|/\$||' | sort"
	assert_output "$want"
	get tree.zip >"$BATS_TEST_TMPDIR/t.zip"
	mkdir "$BATS_TEST_TMPDIR/z"
	(cd "$BATS_TEST_TMPDIR/z" && unzip -q ../t.zip)
	assert_equal "$(sha256sum <"$BATS_TEST_TMPDIR/z/tree/sub/b.bin")" "$(sha256sum <"$ROOT/tree/sub/b.bin")"
}

@test "a converted name is binary only, has no SIZE or MDTM, takes no REST, and is not listed" {
	run chat "USER ftp" "PASS x" "TYPE A" "EPSV" "RETR f.txt.gz" "TYPE I" \
		"SIZE f.txt.gz" "MDTM f.txt.gz" "REST 10" "EPSV" "RETR f.txt.gz"
	assert_line --index 5 "550 /f.txt.gz: a converted file is sent in binary only; send TYPE I"
	assert_line --index 7 "550 /f.txt.gz: No such file or directory"
	assert_line --index 8 "550 /f.txt.gz: No such file or directory"
	assert_line --index 11 "550 /f.txt.gz: a converted file cannot be restarted"
	run curl -sS -l "ftp://127.0.0.1:$PORT/"
	assert_output "f.txt
secret-link
tree"
}

@test "a conversion never leaves the root through a link" {
	run chat "USER ftp" "PASS x" "EPSV" "RETR secret-link.gz" "EPSV" "RETR tree/out.tar"
	assert_line --index 4 "550 /secret-link.gz: No such file or directory"
	assert_line --index 6 "550 /tree/out.tar: No such file or directory"
}

@test "conversions are logged with their xferlog flag" {
	get f.txt.gz >/dev/null
	get tree.tar >/dev/null
	run cat "$BATS_TEST_TMPDIR/xferlog"
	assert_line --regexp ' /f\.txt\.gz b C o a [^ ]+ ftp 0 \* c$'
	assert_line --regexp ' /tree\.tar b T o a [^ ]+ ftp 0 \* c$'
}

@test "with conversions = no a missing name is just missing" {
	stop_server
	CONVERSIONS=no setup
	run chat "USER ftp" "PASS x" "EPSV" "RETR f.txt.gz"
	assert_line --index 4 "550 /f.txt.gz: No such file or directory"
}

# nest DIR LEVELS: DIR/d1/d2/.../dLEVELS, a file "leaf" at the bottom
nest() {
	local p=$1 i
	for i in $(seq "$2"); do
		p+="/d$i"
	done
	mkdir -p "$p"
	echo leaf >"$p/leaf"
	chmod -R a+rX "$1"
}

# retr_codes PATH: the RETR's replies, and how many bytes came
retr_codes() {
	PORT=$PORT PYTHONPATH="$BATS_TEST_DIRNAME" python3 - "$1" <<-'PY'
	import sys
	import ftpclient
	c = ftpclient.Control(show=False)
	c.login("ftp", "x")
	c.quiet("TYPE I")
	r, final, data = c.data_command("RETR " + sys.argv[1])
	print(r[:3], final, "bytes" if data else "nothing")
	PY
}

@test "a tree as deep as documented converts whole, one level more fails clearly" {
	# 64 levels below the archived directory: its files at the 65th
	nest "$ROOT/deep" 63
	get deep.tar >"$BATS_TEST_TMPDIR/deep.tar"
	run tar -tf "$BATS_TEST_TMPDIR/deep.tar"
	assert_success
	assert_equal "$(grep -c . <<<"$output")" 65
	assert_line --regexp '^deep(/d[0-9]+){63}/leaf$'
	wait_log "download /deep.tar"
	nest "$ROOT/deeper" 64
	run retr_codes deeper.tar
	assert_output "150 451 Local error: deeper than 64 levels bytes"
	wait_log "conversion of /deeper.tar stopped: deeper than 64 levels"
	run tail -1 "$BATS_TEST_TMPDIR/xferlog"
	assert_output --regexp ' /deeper\.tar b T o a [^ ]+ ftp 0 \* i$'
}
