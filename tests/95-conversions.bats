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
