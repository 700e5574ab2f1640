#!/usr/bin/env bats
# The command line: options, the fd 0 check, -H, -t and the demo.

load helper

@test "-V prints the version" {
	run "$CELLFTPD" -V
	assert_success
	assert_output --regexp '^cellftpd [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "-h prints usage with every option" {
	run "$CELLFTPD" -h
	assert_success
	for opt in "-c FILE" "-t" "-d" "-H" "-V"; do
		assert_output --partial "  $opt"
	done
}

@test "an unknown option is a usage error" {
	run "$CELLFTPD" -Z
	assert_failure 1
	assert_output --partial "usage: cellftpd"
}

@test "started from a shell (fd 0 not a socket) says how to start it, exit 2" {
	run "$CELLFTPD" -c /nonexistent </dev/null
	assert_failure 2
	assert_output --partial "standard input is not a connected socket"
	assert_output --partial "systemd-socket-activate --accept --inetd"
	assert_equal "${#lines[@]}" 1
}

@test "fd 0 a pipe is refused the same way" {
	run bash -c 'echo USER x | "$0" -c /nonexistent' "$CELLFTPD"
	assert_failure 2
	assert_output --partial "not a connected socket"
}

@test "-H prints a yescrypt hash that logs in" {
	make_root
	hash=$(printf 'correct horse\n' | "$CELLFTPD" -H)
	[[ "$hash" == '$y$'* ]]
	write_conf <<-EOF
	[server]
	log = stderr
	[user carol]
	password_hash = $hash
	root = $ROOT
	EOF
	start_server
	run chat "USER carol" "PASS correct horse" "QUIT"
	assert_line --index 2 "230 Login successful"
	run chat "USER carol" "PASS correct horsE"
	assert_line --index 2 "530 Login incorrect"
}

@test "-H refuses an empty password" {
	run bash -c 'printf "\n" | "$0" -H' "$CELLFTPD"
	assert_failure 1
	assert_output --partial "give a password"
}

@test "-t accepts the shipped example and demo configurations" {
	run "$CELLFTPD" -t -c "$BATS_TEST_DIRNAME/../conf/demo.conf"
	assert_success
	assert_output --partial "demo.conf: usable"
	run "$CELLFTPD" -t -c "$BATS_TEST_DIRNAME/../conf/cellftpd.conf"
	assert_success
	assert_line --regexp "cellftpd.conf: usable, 0 users, 0 errors, 0 warnings$"
}

@test "-t on an unknown key exits 1 naming FILE:LINE" {
	make_root
	write_conf <<-EOF
	[server]
	banner = hello
	colour = blue
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:3: unknown key 'colour' in [server]"
	assert_line --partial "not usable, 0 users, 1 error"
}

@test "-t prints warnings and still exits 0" {
	make_root
	write_conf <<-EOF
	[user bob]
	password = hunter2
	root = $ROOT
	[user eve]
	root = $ROOT
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line "$CONF:2: warning: [user bob] has a plaintext password; use password_hash (cellftpd -H makes one)"
	assert_line "$CONF:4: warning: [user eve] logs in without any password"
	assert_line "$CONF: warning: holds passwords but is readable by others (mode 0644); chmod 600"
	assert_line --partial "usable, 2 users, 0 errors, 3 warnings"
	chmod 600 "$CONF"
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line --partial "usable, 2 users, 0 errors, 2 warnings"
}

@test "-t on a missing file exits 1" {
	run "$CELLFTPD" -t -c "$BATS_TEST_TMPDIR/none.conf"
	assert_failure 1
	assert_output --partial "none.conf: cannot open: No such file or directory"
}

@test "the demo serves its tree read-only to anonymous" {
	CONF="$BATS_TEST_DIRNAME/../conf/demo.conf"
	start_server
	run ftp_curl README
	assert_success
	assert_output "$(cat "$BATS_TEST_DIRNAME/../conf/demo/README")"
	run ftp_curl pub/
	assert_output --regexp "^-rw-r--r-- +1 [^ ]+ +[^ ]+ +21 .* hello.txt$"
	run chat "USER anonymous" "PASS me@example.org" "SIZE pub/hello.txt" \
		"MKD x" "DELE README"
	assert_line --index 2 "230-Welcome to the cellftpd demo. Everything here is read-only."
	assert_line --index 3 "230 Login successful"
	assert_line --index 4 "213 $(stat -c %s "$BATS_TEST_DIRNAME/../conf/demo/pub/hello.txt")"
	assert_line --index 5 "550 Permission denied: MKD is not allowed for this account"
	assert_line --index 6 "550 Permission denied: DELE is not allowed for this account"
}

@test "the man pages pass mandoc -Tlint" {
	run mandoc -Tlint -Wwarning "$BATS_TEST_DIRNAME/../man/cellftpd.8" \
		"$BATS_TEST_DIRNAME/../man/cellftpd.conf.5"
	assert_success
	assert_output ""
}

@test "-h lists -T and -u; -u without -T is a usage error" {
	run "$CELLFTPD" -h
	assert_success
	assert_output --partial "  -T       "
	assert_output --partial "  -u USER  with -T"
	assert_output --partial "FILE.d/*.conf"
	run "$CELLFTPD" -u alice -t -c /nonexistent
	assert_failure 1
	assert_output --partial "usage: cellftpd"
}
