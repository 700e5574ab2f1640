#!/usr/bin/env bats
# The configuration as a session meets it: read at every connection,
# refused with 421 when broken, checked for ownership when run as root.

load helper

setup() {
	make_root
}

good_conf() {
	write_conf <<-EOF
	[server]
	banner = ${1:-first banner}
	log = stderr
	[user anonymous]
	root = $ROOT
	EOF
}

@test "an edit takes effect on the next connection" {
	good_conf "first banner"
	start_server
	run chat
	assert_output "220 first banner"
	good_conf "second banner"
	run chat
	assert_output "220 second banner"
}

@test "a broken configuration answers 421 and logs FILE:LINE" {
	write_conf <<-EOF
	[server]
	log = stderr
	idle_timeout = soon
	EOF
	start_server
	run chat "USER anonymous"
	assert_output "421 Service not available: configuration error (see the server log)
EOF"
	run server_log
	assert_output --partial "configuration: $CONF:3: idle_timeout: 'soon' is not a number from 1 to 86400"
	wait_sessions_gone
}

@test "a secret on a line of the longest length is kept whole" {
	# 1024 bytes, the value at the very end: its placeholder must fit
	local line
	line=$(printf 'password%*s=x' 1014 '')
	[ "${#line}" -eq 1024 ]
	write_conf <<-EOF
	[server]
	log = stderr
	[user alice]
	$line
	root = $ROOT
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_line --partial "usable, 1 user, 0 errors"
	start_server
	run chat "USER alice" "PASS "
	assert_line --index 2 "530 Login incorrect"
	run chat "USER alice" "PASS x"
	assert_line --index 2 "230 Login successful"
	# one byte more is too long
	write_conf <<-EOF
	[server]
	[user alice]
	$line;
	root = $ROOT
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_line "$CONF:3: line longer than 1024 bytes"
}

@test "a root that does not exist is an error naming its line" {
	write_conf <<-EOF
	[user bob]
	password = x
	root = $ROOT/missing
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:3: [user bob]: root '$ROOT/missing': No such file or directory"
}

@test "a root that is a file is an error" {
	touch "$ROOT/file"
	write_conf <<-EOF
	[user bob]
	password = x
	root = $ROOT/file
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --partial "root '$ROOT/file' is not a directory"
}

@test "relative paths are relative to the configuration file" {
	mkdir "$BATS_TEST_TMPDIR/tree"
	echo hi >"$BATS_TEST_TMPDIR/tree/f"
	chmod 755 "$BATS_TEST_TMPDIR/tree"
	write_conf <<-EOF
	[server]
	log = stderr
	[user anonymous]
	root = tree
	EOF
	start_server
	run chat "USER ftp" "PASS x" "SIZE f"
	assert_line --index 3 "213 3"
}

@test "an unknown system_user is an error" {
	write_conf <<-EOF
	[user bob]
	password = x
	system_user = no-such-account-here
	root = $ROOT
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:3: [user bob]: no system account 'no-such-account-here'"
}

@test "a missing explicit deny_users_file is an error" {
	write_conf <<-EOF
	[server]
	deny_users_file = $BATS_TEST_TMPDIR/nothere
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:2: deny_users_file '$BATS_TEST_TMPDIR/nothere': No such file or directory"
}

@test "every problem of a file is listed, not just the first" {
	write_conf <<-EOF
	[server]
	passive_ports = 2000-1000
	umask = 999
	[passive_addresses]
	10.1.2.3/8 = 10.0.0.1
	[weird]
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --partial "$CONF:2: passive_ports: '2000-1000' is not a port range"
	assert_line --partial "$CONF:3: umask: '999' is not an octal mode"
	assert_line --partial "$CONF:5: [passive_addresses]: '10.1.2.3/8' is not an address"
	assert_line "$CONF:6: unknown section [weird]"
	assert_line --partial "not usable, 0 users, 4 errors"
}

@test "as root, a group- or world-writable configuration is refused" {
	require_root
	good_conf
	chmod 666 "$CONF"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF: refused: must be owned by root and not writable by group or others (owner uid 0, mode 0666)"
	start_server
	run chat
	assert_output "421 Service not available: configuration error (see the server log)"
	chmod 620 "$CONF"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
}

@test "as root, a configuration owned by another user is refused" {
	require_root
	good_conf
	chown nobody "$CONF"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --partial "refused: must be owned by root"
	start_server
	run chat
	assert_output "421 Service not available: configuration error (see the server log)"
}

@test "as root, system_user = root is refused" {
	require_root
	write_conf <<-EOF
	[server]
	log = stderr
	[user admin]
	password = x
	system_user = root
	root = $ROOT
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:5: [user admin]: sessions never run as root"
}

@test "under inetd (fd 2 is the socket) log lines never reach the client" {
	write_conf <<-EOF
	[server]
	log = stderr
	idle_timeout = never
	EOF
	launch sh -c 'exec 2>&0; exec "$0" -d -c "$1"' "$CELLFTPD" "$CONF"
	run chat "NOOP"
	assert_output "421 Service not available: configuration error (see the server log)
EOF"
	good_conf
	run chat "USER anonymous" "PASS x" "PWD" "QUIT"
	assert_output "220 first banner
331 Anonymous login ok, send your e-mail address as password
230 Login successful
257 \"/\" is the current directory
221 Goodbye"
}

# ---- FILE.d: more files after the main one ----

# dropin NAME: the text on stdin becomes $CONF.d/NAME (mode 600)
dropin() {
	mkdir -p "$CONF.d"
	chmod 755 "$CONF.d"
	cat >"$CONF.d/$1"
	chmod 600 "$CONF.d/$1"
}

@test "FILE.d: a user defined only in a drop-in file logs in, its paths relative to that file" {
	echo "dave's file" >"$ROOT/f.txt"
	good_conf
	dropin dave.conf <<-EOF
	[user dave]
	password = dave-pw
	root = ../root
	EOF
	# not read: other names, hidden files, editors' and dpkg's leftovers
	for junk in notes.txt .hidden.conf old.conf.dpkg-old old.conf.dpkg-dist \
		dave.conf~ .dave.conf.swp conf; do
		echo "this is [not a configuration" >"$CONF.d/$junk"
	done
	chmod 644 "$CONF.d"/*
	chmod 600 "$CONF.d/dave.conf"
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line "$CONF.d/dave.conf:2: warning: [user dave] has a plaintext password; use password_hash (cellftpd -H makes one)"
	assert_line --partial "$CONF: usable, 2 users, 0 errors, 1 warning"
	start_server
	run ftp_curl -u dave:dave-pw f.txt
	assert_success
	assert_output "dave's file"
	run ftp_curl -u dave:wrong f.txt
	assert_failure
}

@test "FILE.d: files are read in byte order of their names, each message naming its file and line" {
	good_conf
	# made in no order; in byte order 10 < 9, B < Z < _ < a (a locale's
	# order would differ)
	local name
	for name in b 10-a Z "a b" 9-a _x B; do
		dropin "$name.conf" <<-EOF
		; $name
		[user u]
		EOF
	done
	run bash -c '"$0" -t -c "$1" 2>&1 | head -6' "$CELLFTPD" "$CONF"
	first="(first at $CONF.d/10-a.conf:2)"
	assert_output "$CONF.d/9-a.conf:2: [user u] given twice $first
$CONF.d/B.conf:2: [user u] given twice $first
$CONF.d/Z.conf:2: [user u] given twice $first
$CONF.d/_x.conf:2: [user u] given twice $first
$CONF.d/a b.conf:2: [user u] given twice $first
$CONF.d/b.conf:2: [user u] given twice $first"
}

@test "FILE.d: a key of the main file given again in a drop-in is an error naming both" {
	good_conf
	dropin more.conf <<-EOF
	# the banner is set in the main file already
	[server]
	idle_timeout = 60
	banner = again
	[server]
	[passive_addresses]
	default = 127.0.0.1
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF.d/more.conf:4: 'banner' given twice (first at $CONF:2)"
	assert_line "$CONF.d/more.conf:5: [server] given twice"
	assert_line --partial "$CONF: not usable, 1 user, 2 errors"
}

@test "FILE.d: missing is fine, not a directory or unreadable is an error" {
	good_conf
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	: >"$CONF.d"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF.d: cannot open: Not a directory"
	rm "$CONF.d"
	if [ "$(id -u)" -eq 0 ]; then
		# as nobody, in a directory nobody may enter, FILE.d unreadable
		local dir
		dir=$(mktemp -d /tmp/cellftpd-conf.XXXXXX)
		chmod 755 "$dir"
		cp "$CONF" "$dir/c.conf"
		mkdir -m 700 "$dir/c.conf.d"
		run setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$CELLFTPD" -t -c "$dir/c.conf"
		rm -r "$dir"
		assert_failure 1
		assert_line "$dir/c.conf.d: cannot open: Permission denied"
	fi
}

@test "FILE.d: a FIFO, a dangling link and a directory are errors; the files' bounds hold" {
	good_conf
	mkdir -m 755 "$CONF.d"
	mkfifo -m 600 "$CONF.d/fifo.conf"
	ln -s /nonexistent "$CONF.d/gone.conf"
	mkdir "$CONF.d/dir.conf"
	# read without waiting on the FIFO
	run timeout 5 "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF.d/dir.conf: not a regular file of at most 1048576 bytes"
	assert_line "$CONF.d/fifo.conf: not a regular file of at most 1048576 bytes"
	assert_line "$CONF.d/gone.conf: cannot open: No such file or directory"
	rm -r "$CONF.d"
	# more than CONF_DIR_FILES_MAX (10000) files
	mkdir -m 755 "$CONF.d"
	python3 -c 'import os, sys
for i in range(10001):
    open(os.path.join(sys.argv[1], "%05d.conf" % i), "w").close()' "$CONF.d"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF.d: more than 10000 *.conf files"
	rm -r "$CONF.d"
	# more than CONF_TOTAL_MAX (16 MiB) in all: 17 files of 1 MiB of comments
	mkdir -m 755 "$CONF.d"
	python3 -c 'import os, sys
line = "#" * 1023 + "\n"
for i in range(17):
    with open(os.path.join(sys.argv[1], "%02d.conf" % i), "w") as f:
        f.write(line * 1024)' "$CONF.d"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF.d/16.conf: the configuration files hold more than 16777216 bytes together"
}

@test "as root, a drop-in file or FILE.d that others can change is refused" {
	require_root
	good_conf
	dropin a.conf <<-EOF
	[user amy]
	root = $ROOT
	EOF
	chmod 664 "$CONF.d/a.conf"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF.d/a.conf: refused: must be owned by root and not writable by group or others (owner uid 0, mode 0664)"
	start_server
	run chat
	assert_output "421 Service not available: configuration error (see the server log)"
	chmod 600 "$CONF.d/a.conf"
	chown nobody "$CONF.d/a.conf"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --partial "$CONF.d/a.conf: refused: must be owned by root"
	chown root "$CONF.d/a.conf"
	chmod 757 "$CONF.d"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF.d: refused: must be owned by root and not writable by group or others (owner uid 0, mode 0757)"
	chmod 755 "$CONF.d"
	chown nobody "$CONF.d"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line --partial "$CONF.d: refused: must be owned by root"
	chown root "$CONF.d"
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	run chat "USER amy" "PASS anything" "QUIT"
	assert_line --index 2 "230 Login successful"
}

# ---- -t's report ----

@test "-t writes its problems, then the summary, in that order on standard output" {
	write_conf <<-EOF
	[server]
	idle_timeout = soon
	[user bob]
	password = x
	root = $ROOT
	EOF
	chmod 600 "$CONF"
	run bash -c '"$0" -t -c "$1" 2>/dev/null' "$CELLFTPD" "$CONF"
	assert_failure 1
	assert_equal "${lines[0]}" "$CONF:2: idle_timeout: 'soon' is not a number from 1 to 86400"
	assert_equal "${lines[1]}" "$CONF:4: warning: [user bob] has a plaintext password; use password_hash (cellftpd -H makes one)"
	assert_equal "${lines[2]}" "$CONF: not usable, 1 user, 1 error, 1 warning"
	assert_equal "${lines[3]:0:9}" "sandbox: "
	assert_equal "${#lines[@]}" 4
	run bash -c '"$0" -t -c "$1" 2>&1 >/dev/null' "$CELLFTPD" "$CONF"
	assert_output ""
}

@test "-t suggests the nearest key or section for an unknown one" {
	write_conf <<-EOF
	[server]
	baner = hello
	idle_timout = 60
	umsk = 022
	root = /srv
	bnnr = far
	[sever]
	[usr bob]
	[user]
	[user carl]
	pasword = x
	banner = here
	root = $ROOT
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:2: unknown key 'baner' in [server]; did you mean 'banner'?"
	assert_line "$CONF:3: unknown key 'idle_timout' in [server]; did you mean 'idle_timeout'?"
	assert_line "$CONF:4: unknown key 'umsk' in [server]; did you mean 'umask'?"
	assert_line "$CONF:5: unknown key 'root' in [server]; it belongs in a [user NAME] section"
	assert_line "$CONF:6: unknown key 'bnnr' in [server]"
	assert_line "$CONF:7: unknown section [sever]; did you mean [server]?"
	assert_line "$CONF:8: unknown section [usr bob]; did you mean [user bob]?"
	assert_line "$CONF:9: unknown section [user]; a user's section is [user NAME]"
	assert_line "$CONF:11: unknown key 'pasword' in [user carl]; did you mean 'password'?"
	assert_line "$CONF:12: unknown key 'banner' in [user carl]; it belongs in [server]"
}

# ---- -T: the effective configuration ----

# the key names of -T's [server] section, one a line
shown_server_keys() {
	sed -n '/^\[server\]$/,/^$/p' | sed '1d;/^$/d' |
		sed -E 's/^# ([a-z_]+) .*/\1/; s/^([a-z_]+) =.*/\1/'
}

@test "-T prints every [server] key, defaults filled in, in the order of cellftpd.conf(5)" {
	write_conf <<-EOF
	[server]
	log = stderr
	banner = Example archive
	max_upload_size = 100M
	passive_ports = 50000-50100
	proxy_from = 10.0.0.1, 10.0.0.2
	proxy_protocol = v2
	EOF
	run "$CELLFTPD" -T -c "$CONF"
	assert_success
	assert_line --index 0 "# cellftpd -T: the effective configuration, defaults filled in"
	assert_line --index 1 "# read $CONF"
	assert_line --index 2 "[server]"
	assert_line --index 3 "banner = Example archive"
	assert_line --index 4 "passive_ports = 50000-50100"
	assert_line --index 5 "# passive_address is not set"
	assert_line "proxy_from = 10.0.0.1 10.0.0.2"
	assert_line "proxy_protocol = v2"
	assert_line "restricted_users ="
	assert_line "max_upload_size = 100M"
	assert_line "max_rate_download = 0"
	assert_line "idle_timeout = 300"
	assert_line "umask = 022"
	assert_line "tls = off"
	assert_line "# require_tls is not used with tls = off"
	assert_line "log = stderr"
	diff <(sed -n '/^\.Sh SERVER SECTION/,/^\.Sh PASSIVE ADDRESSES/p' \
		"$BATS_TEST_DIRNAME/../man/cellftpd.conf.5" | awk '/^\.It Ic/ {print $3}') \
		<(printf '%s\n' "$output" | shown_server_keys)
}

@test "-T output read back as the configuration gives the same configuration" {
	write_conf <<-EOF
	[server]
	log = stderr
	banner = round trip
	max_rate_download = 1536K
	anonymous_names = ftp
	umask = 027
	[passive_addresses]
	10.0.0.0/8 = 10.0.0.1
	127.0.0.1 = 127.0.0.1
	default = ftp.example.org
	[user anonymous]
	root = $ROOT
	allow_write = upload
	EOF
	run "$CELLFTPD" -T -u ftp -c "$CONF"
	assert_success
	assert_line "[passive_addresses]"
	assert_line "10.0.0.0/8 = 10.0.0.1"
	assert_line "127.0.0.1 = 127.0.0.1"
	assert_line "default = ftp.example.org"
	assert_line "max_rate_download = 1536K"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/shown.conf"
	first=$output
	run "$CELLFTPD" -t -c "$BATS_TEST_TMPDIR/shown.conf"
	assert_success
	assert_line --partial "usable, 1 user, 0 errors, 0 warnings"
	run "$CELLFTPD" -T -u ftp -c "$BATS_TEST_TMPDIR/shown.conf"
	assert_success
	assert_equal "$(sed 1,2d <<<"$output")" "$(sed 1,2d <<<"$first")"
	# without [user anonymous], the default anonymous_names is shown as
	# a comment: read back, it would warn that it has no effect
	write_conf <<-EOF
	[server]
	[user alice]
	password = pw
	root = $ROOT
	EOF
	"$CELLFTPD" -T -c "$CONF" 2>/dev/null >"$BATS_TEST_TMPDIR/shown.conf"
	run grep -x "# anonymous_names is not used without \[user anonymous\]" \
		"$BATS_TEST_TMPDIR/shown.conf"
	assert_success
	run "$CELLFTPD" -t -c "$BATS_TEST_TMPDIR/shown.conf"
	assert_line --partial "usable, 0 users, 0 errors, 0 warnings"
}

@test "-T -u: the section a login applies, from a drop-in file, secrets shown as (set)" {
	hash=$(printf 'pw\n' | "$CELLFTPD" -H)
	write_conf <<-EOF
	[server]
	log = stderr
	umask = 002
	max_upload_size = 1G
	[user anonymous]
	root = $ROOT
	allow_write = upload
	EOF
	dropin erin.conf <<-EOF
	[user erin]
	password_hash = $hash
	root = $ROOT
	home = /in
	allow_write = yes
	max_rate_upload = 2M
	EOF
	run "$CELLFTPD" -T -u erin -c "$CONF"
	assert_success
	assert_line "# read $CONF.d/erin.conf"
	refute_output --partial "$hash"
	[ "$(id -u)" -eq 0 ] && sys=nobody || sys=$(id -un)
	assert_equal "$(sed -n '/^\[user erin\]$/,$p' <<<"$output")" "[user erin]
password_hash = (set)
# password_salt is not set
# password is not set
system_login = no
system_user = $sys
root = $ROOT
home = /in
allow_write = yes
umask = 002
symlinks = contain
# require_tls is not used with tls = off
max_upload_size = 1G
max_rate_download = 0
max_rate_upload = 2M"
	# an anonymous name shows [user anonymous], with its upload umask
	run "$CELLFTPD" -T -u ftp -c "$CONF"
	assert_success
	assert_line "# ftp is one of anonymous_names: [user anonymous] applies"
	assert_line "[user anonymous]"
	assert_line "umask = 077"
	# (set) read back is refused, not taken for a password
	sed 's/^password_hash = .*/password_hash = (set)/' "$CONF.d/erin.conf" >"$CONF.d/x"
	mv "$CONF.d/x" "$CONF.d/erin.conf"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF.d/erin.conf:2: password_hash: '(set)' is what -T shows in place of a secret; put the secret back"
}

@test "-T -u: an unknown user is an error, exit 1; all_users shows the system account" {
	good_conf
	run "$CELLFTPD" -T -u nosuchuser -c "$CONF"
	assert_failure 1
	assert_output "cellftpd: -u nosuchuser: no such user: no [user nosuchuser] section, and all_users = no"
	write_conf <<-EOF
	[server]
	anonymous_names = ftp
	[user anonymous]
	root = $ROOT
	EOF
	run "$CELLFTPD" -T -u anonymous -c "$CONF"
	assert_failure 1
	assert_output "cellftpd: -u anonymous: [user anonymous] serves anonymous_names, and 'anonymous' is not one of them"
	write_conf <<-EOF
	[server]
	log = stderr
	all_users = yes
	restricted_users = daemon
	EOF
	run "$CELLFTPD" -T -u nosuchuser -c "$CONF"
	assert_failure 1
	assert_output "cellftpd: -u nosuchuser: no such user: no [user nosuchuser] section and no system account"
	run "$CELLFTPD" -T -u root -c "$CONF"
	assert_failure 1
	assert_output "cellftpd: -u root: root may never log in"
	run "$CELLFTPD" -T -u daemon -c "$CONF"
	assert_success
	assert_line "# daemon: no [user daemon] section; all_users = yes lets its system account in, confined to its home (restricted_users)"
	assert_line "system_login = yes"
	assert_line "system_user = daemon"
	assert_line "root = $(getent passwd daemon | cut -d: -f6)"
	assert_line "home = /"
}

@test "-T on an unusable configuration fails as -t does, printing nothing on standard output" {
	write_conf <<-EOF
	[server]
	idle_timeout = soon
	EOF
	run bash -c '"$0" -T -c "$1" 2>/dev/null' "$CELLFTPD" "$CONF"
	assert_failure 1
	assert_output ""
	run bash -c '"$0" -T -c "$1" 2>&1 >/dev/null' "$CELLFTPD" "$CONF"
	assert_failure 1
	assert_output "$CONF:2: idle_timeout: 'soon' is not a number from 1 to 86400
$CONF: not usable, 0 users, 1 error, 0 warnings"
}

# ---- the default unprivileged_user ----

cleanup() {
	if [ -n "${HOLDER:-}" ]; then
		kill "$HOLDER" 2>/dev/null || true
	fi
}

@test "unprivileged_user defaults to nobody where no cellftpd account exists" {
	if getent passwd cellftpd >/dev/null; then
		skip "this system has a cellftpd account"
	fi
	good_conf
	run "$CELLFTPD" -T -c "$CONF"
	assert_success
	assert_line "unprivileged_user = nobody"
}

# accounts_namespace [UID]: a mount namespace of the test's own (HOLDER;
# in_ns runs a command there) whose /etc/passwd and /etc/group have no
# cellftpd account, or, with UID, the one sysusers.d/cellftpd.conf makes,
# and whose nsswitch.conf asks files, then systemd, as Debian's does; so
# that tests running meanwhile never see them
accounts_namespace() {
	local T=$BATS_TEST_TMPDIR
	grep -v '^cellftpd:' /etc/passwd >"$T/passwd"
	grep -v '^cellftpd:' /etc/group >"$T/group"
	if [ -n "${1:-}" ]; then
		echo "cellftpd:x:$1:$1:cellftpd pre-login:/:/usr/sbin/nologin" >>"$T/passwd"
		echo "cellftpd:x:$1:" >>"$T/group"
	fi
	printf 'passwd: files systemd\ngroup: files systemd\nshadow: files\n' >"$T/nsswitch.conf"
	unshare --mount --propagation private -- sh -c \
		'for f in passwd group nsswitch.conf; do mount --bind "$1/$f" "/etc/$f" || exit; done &&
		touch "$1/ready" && exec sleep 600' sh "$T" &
	HOLDER=$!
	for _ in $(seq 100); do [ -e "$T/ready" ] && break; sleep 0.05; done
	[ -e "$T/ready" ]
}

in_ns() {
	nsenter -t "$HOLDER" -m -- "$@"
}

@test "the default unprivileged_user is looked up in /etc/passwd alone, not in every name service" {
	require_root
	command -v strace
	# a name service that every missing name would reach (tests/deps.sh)
	[ -e "$(ldconfig -p | sed -n 's/.*libnss_systemd.so.2 .*=> //p' | head -1)" ]
	accounts_namespace
	good_conf
	launch nsenter -t "$HOLDER" -m -- strace -f -qq -e trace=openat,open -o "$BATS_TEST_TMPDIR/trace" \
		"$CELLFTPD" -c "$CONF"
	run chat "USER anonymous" "PASS x" "QUIT"
	assert_line --index 2 --partial "230 "
	wait_sessions_gone
	# the session did read /etc/passwd, and never loaded libnss_systemd
	# to ask its userdb for a cellftpd account that does not exist
	run grep -c '"/etc/passwd"' "$BATS_TEST_TMPDIR/trace"
	refute_output 0
	run grep -E 'libnss_systemd|userdb' "$BATS_TEST_TMPDIR/trace"
	assert_output ""
}

@test "unprivileged_user defaults to the cellftpd account where it exists, and the pre-login process runs as it" {
	require_root
	local uid=900
	while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do
		uid=$((uid + 1))
	done
	accounts_namespace "$uid"
	run in_ns id -u cellftpd
	assert_output "$uid"
	good_conf
	run in_ns "$CELLFTPD" -T -c "$CONF"
	assert_success
	assert_line "unprivileged_user = cellftpd"
	launch nsenter -t "$HOLDER" -m -- "$CELLFTPD" -c "$CONF"
	python3 "$FTPCHAT" "$PORT" "USER anonymous" "sleep:3" >/dev/null &
	chat_pid=$!
	# the launcher's child is nsenter, which execs cellftpd
	assert_session_tree 0 "$uid"
	child=$CHILD
	run grep -E '^Uid:' "/proc/$child/status"
	assert_output --regexp "^Uid:([[:space:]]+$uid){4}$"
	wait "$chat_pid"
	# a key given says what it says
	write_conf <<-EOF
	[server]
	unprivileged_user = nobody
	EOF
	run in_ns "$CELLFTPD" -T -c "$CONF"
	assert_line "unprivileged_user = nobody"
}
