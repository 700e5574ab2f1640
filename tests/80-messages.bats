#!/usr/bin/env bats
# Messages: the banner, welcome_file after login, message_file on
# entering a directory (once per directory per session), all read
# through the confined paths.

load helper

setup() {
	make_root
	mkdir -p "$ROOT/pub/deep" "$BATS_TEST_TMPDIR/outside"
	printf 'Welcome to the archive.\n230 is not the end\n\tindented\n' >"$ROOT/welcome.msg"
	printf 'This is pub.\nBe nice.\n' >"$ROOT/pub/.message"
	printf 'secret outside\n' >"$BATS_TEST_TMPDIR/outside/.message"
	ln -s "$BATS_TEST_TMPDIR/outside" "$ROOT/out"
	chmod -R a+rX "$ROOT"
	write_conf <<-EOF
	[server]
	log = stderr
	banner = Example archive, be nice
	welcome_file = ${WELCOME:-welcome.msg}
	message_file = .message
	[user anonymous]
	root = $ROOT
	EOF
	start_server
}

@test "the banner is the 220 greeting" {
	run chat "QUIT"
	assert_output "220 Example archive, be nice
221 Goodbye"
}

@test "welcome_file is shown as 230- lines before the 230 of the login" {
	run chat "USER ftp" "PASS x" "NOOP"
	assert_output "220 Example archive, be nice
331 Anonymous login ok, send your e-mail address as password
230-Welcome to the archive.
230-230 is not the end
230-	indented
230 Login successful
200 NOOP ok"
}

@test "a missing welcome_file is no error" {
	stop_server
	WELCOME=/none.msg setup
	run chat "USER ftp" "PASS x"
	assert_line --index 2 "230 Login successful"
}

@test "a welcome_file path cannot leave the root" {
	stop_server
	WELCOME=../../../../outside/.message setup
	run chat "USER ftp" "PASS x"
	assert_line --index 2 "230 Login successful"
	refute_output --partial "secret outside"
}

@test "message_file is shown as 250- lines, once per directory per session" {
	run chat "USER ftp" "PASS x" "CWD pub" "CWD deep" "CDUP" "CWD /pub"
	assert_output "220 Example archive, be nice
331 Anonymous login ok, send your e-mail address as password
230-Welcome to the archive.
230-230 is not the end
230-	indented
230 Login successful
250-This is pub.
250-Be nice.
250 Directory changed to /pub
250 Directory changed to /pub/deep
250 Directory changed to /pub
250 Directory changed to /pub"
	# a new session shows it again
	run chat "USER ftp" "PASS x" "CWD pub"
	assert_line --index 6 "250-This is pub."
}

@test "a message_file behind a link out of the root is never shown" {
	run chat "USER ftp" "PASS x" "CWD out"
	refute_output --partial "secret outside"
}
