#!/usr/bin/env bats
# contrib/cellftpd-migrate: ftpmgr's /etc/ftpmgr.conf and vsftpd.conf
# (tests/migrate/: the man page's ftpmgr example, an ftpmgr file with
# every key, the settings of Debian's default vsftpd.conf, a busy one and one
# of virtual users) turned into
# cellftpd configurations, key by key; what cannot be carried over said on
# stderr; the result checked by cellftpd -t and logged in to for real.

bats_require_minimum_version 1.5.0
load helper

MIG="$BATS_TEST_DIRNAME/../contrib/cellftpd-migrate"
SAMPLES="$BATS_TEST_DIRNAME/migrate"
# the accounts the tests make, with helper.bash's prefix (cf by default),
# and the passive ports of their logins, at an offset from its base
A="${ACCOUNT_PREFIX:-cf}m"
PASV=$((${PASSIVE_BASE:-50000} + 5500))

cleanup() {
	remove_accounts
}

# migrate ARGS...: the script, run in tests/migrate so that the samples
# are named as they are in a real /etc
migrate() {
	(cd "$SAMPLES" && "$MIG" "$@")
}

# The keys and section headers of a configuration, without comments.
keys_of() {
	grep -v -e '^#' -e '^$' "$@"
}

# local_copy SAMPLE: $T/SAMPLE, the sample with its absolute paths moved
# below $T, its accounts renamed to the test's ($A-*) and its passive
# ports moved to $PASV-$((PASV + 199)).
local_copy() {
	T="$BATS_TEST_TMPDIR/t"
	mkdir -p "$T"
	chmod 755 "$BATS_TEST_TMPDIR" "$T"
	sed -e "s|= \"/srv/|= \"$T/srv/|" -e "s|= \"/var/|= \"$T/var/|" \
		-e "s|=/srv/|=$T/srv/|" -e "s|=/etc/|=$T/etc/|" -e "s|=/var/log/|=$T/var/log/|" \
		-e "s|\"ftp-user\"|\"$A-ftpuser\"|" -e "s|\"virtual\"|\"$A-virtual\"|" \
		-e "s|^\[users\.joe\]|[users.$A-joe]|" -e "s|^ftp_username=ftp\$|ftp_username=$A-ftp|" \
		-e "s|^passivePortRange = .*|passivePortRange = [$PASV, $((PASV + 99))]|" \
		-e "s|^pasv_min_port=.*|pasv_min_port=$((PASV + 100))|" \
		-e "s|^pasv_max_port=.*|pasv_max_port=$((PASV + 199))|" \
		"$SAMPLES/$1" >"$T/$1"
}

# log_to_stderr FILE: the migrated file with log = stderr, for server_log
log_to_stderr() {
	if grep -q '^log = ' "$1"; then
		sed -i 's/^log = .*/log = stderr/' "$1"
	else
		sed -i '/^\[server\]$/a log = stderr' "$1"
	fi
}

@test "migrate: usage, unreadable files and parse errors exit 2, naming FILE:LINE" {
	run --separate-stderr "$MIG"
	assert_equal "$status" 2
	assert_equal "${stderr_lines[0]}" "usage: cellftpd-migrate [--from ftpmgr|vsftpd] FILE [-o OUT]"
	run --separate-stderr "$MIG" --from proftpd x.conf
	assert_equal "$status" 2
	run --separate-stderr "$MIG" "$BATS_TEST_TMPDIR/none.conf"
	assert_equal "$status" 2
	assert_equal "$stderr" "cellftpd-migrate: cannot read '$BATS_TEST_TMPDIR/none.conf': No such file or directory"
	assert_output ""

	cd "$BATS_TEST_TMPDIR"
	printf 'port = 21\n[users.bob]\nroot = "/srv\n' >bad.conf
	run --separate-stderr "$MIG" bad.conf
	assert_equal "$status" 2
	assert_equal "$stderr" 'bad.conf:3: illegal character '"'\\n'"
	printf 'passivePortRange = [1, 2, 3]\n' >range.conf
	run --separate-stderr "$MIG" --from ftpmgr range.conf
	assert_equal "$status" 2
	assert_equal "$stderr" "range.conf:1: passivePortRange: must be an array of two ports"
	printf '[users.bob]\n  allowWrite = "yes"\n' >type.conf
	run --separate-stderr "$MIG" --from ftpmgr type.conf
	assert_equal "$status" 2
	assert_equal "$stderr" "type.conf:2: allowWrite: must be true or false"
	printf '# vsftpd\nanonymous_enable=YES\nlocal_enable=MAYBE\n' >bool.conf
	run --separate-stderr "$MIG" bool.conf
	assert_equal "$status" 2
	assert_equal "$stderr" "bool.conf:3: local_enable: 'MAYBE' is not YES or NO"
	printf 'listen=NO\nmax_clients=\n' >num.conf
	run --separate-stderr "$MIG" num.conf
	assert_equal "$status" 2
	assert_equal "$stderr" "num.conf:2: max_clients: missing value"
	printf 'listen=NO\nmax_per_ip=ten\n' >nan.conf
	run --separate-stderr "$MIG" nan.conf
	assert_equal "$status" 2
	assert_equal "$stderr" "nan.conf:2: max_per_ip: 'ten' is not a number"
	printf '# nothing here\n' >empty.conf
	run --separate-stderr "$MIG" empty.conf
	assert_equal "$status" 2
	assert_equal "$stderr" "cellftpd-migrate: cannot tell whether 'empty.conf' is ftpmgr's or vsftpd's; give --from"
	assert_output ""
}

@test "migrate: the format comes from the content, or from --from; -o writes mode 600" {
	run --separate-stderr migrate manpage-ftpmgr.conf
	assert_equal "${lines[0]}" "# cellftpd configuration made by cellftpd-migrate from manpage-ftpmgr.conf (ftpmgr)"
	assert_regex "${lines[1]}" '^# on 20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9] UTC\. Check it with: cellftpd -t -c FILE$'
	run --separate-stderr migrate debian-vsftpd.conf
	assert_equal "${lines[0]}" "# cellftpd configuration made by cellftpd-migrate from debian-vsftpd.conf (vsftpd)"
	run --separate-stderr migrate --from vsftpd debian-vsftpd.conf
	assert_equal "${lines[0]}" "# cellftpd configuration made by cellftpd-migrate from debian-vsftpd.conf (vsftpd)"
	# read as the other format, a file is a parse error
	run --separate-stderr migrate --from ftpmgr debian-vsftpd.conf
	assert_equal "$status" 2
	assert_regex "$stderr" '^debian-vsftpd.conf:3: '

	out="$BATS_TEST_TMPDIR/out.conf"
	run --separate-stderr migrate manpage-ftpmgr.conf -o "$out"
	assert_equal "$status" 1
	assert_output ""
	run stat -c %a "$out"
	assert_output 600
	run keys_of "$out"
	assert_line "password_salt = 12345678"
}

@test "migrate: ftpmgr's example in cellftpd.conf(5) becomes the configuration shown there" {
	run --separate-stderr migrate manpage-ftpmgr.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "manpage-ftpmgr.conf:6: users.root: cannot be mapped: no counterpart: root never logs in to cellftpd"
	# the man page's text, but for its comments
	expected=$(sed -n '/^\.Sh MIGRATING FROM FTPMGR/,/^\.Sh SEE ALSO/p' \
		"$BATS_TEST_DIRNAME/../man/cellftpd.conf.5" |
		sed -n '/^becomes, key by key:/,/^\.Ed/p' | sed '1,2d;$d' | keys_of)
	[ -n "$expected" ]
	run keys_of <(printf '%s\n' "$output")
	assert_output "$expected"
}

@test "migrate: every ftpmgr key, each way of logging in, and what is left out" {
	run --separate-stderr migrate busy-ftpmgr.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "busy-ftpmgr.conf:7: users.root: cannot be mapped: no counterpart: root never logs in to cellftpd
busy-ftpmgr.conf:46: users.dave.quota: cannot be mapped: not a key of ftpmgr
busy-ftpmgr.conf:55: users.admin.systemUser: cannot be mapped: a session never runs as root"
	conf=$output
	run keys_of <(printf '%s\n' "$conf")
	assert_output "[server]
passive_ports = 50000-50099
all_users = yes
anonymous_names = anonymous
[user anonymous]
system_user = ftp-user
allow_write = no
system_login = no
root = /srv/ftp
[user bob]
system_user = virtual
password_hash = b304f272228bd634aba6e8882c3a274498e4877848827f46580d7d9556c426b3
password_salt = 12345678
allow_write = yes
root = /srv/virtual/bob
[user carol]
system_user = virtual
password = carols password
root = /srv/virtual/carol
[user joe]
system_login = yes
allow_write = yes
root = /srv/virtual/joe
[user dave]
system_user = virtual
system_login = no
password_hash = 2dd47348967664fcf1e906b16a98c3e2a7c3b3b234023872c02834513b4ef7c0
password_salt = pepper
root = /srv/virtual/dave
[user guest]
system_user = virtual
root = /srv/virtual/guest"
	run grep -F -x -e '# from busy-ftpmgr.conf:4 passivePortRange = [50000, 50099]' \
		-e '# from busy-ftpmgr.conf:20 passwordHash' \
		-e '# from busy-ftpmgr.conf:34 password: not used, as useSystemLogin = true overrides it' \
		-e '# from busy-ftpmgr.conf:42 password: not used, as passwordHash overrides it' \
		-e '# and ListenStream=192.0.2.10:2121, or bind/port in the xinetd entry.' \
		-e '# [users.admin] (busy-ftpmgr.conf:54) is left out whole:' <(printf '%s\n' "$conf")
	assert_equal "${#lines[@]}" 6
	# no password is repeated in a comment, nor carried over where unused
	run grep -c -e 'carols password' <(printf '%s\n' "$conf")
	assert_output 1
	run grep -c -e rootpw -e '"not used' -e 'not used either' <(printf '%s\n' "$conf")
	assert_output 0
}

@test "migrate: an ftpmgr file that cellftpd -t accepts, and logins through it" {
	require_root
	local_copy busy-ftpmgr.conf
	add_account "$A-ftpuser"
	add_account "$A-virtual"
	add_account "$A-joe"
	mkdir -p "$T"/srv/ftp "$T"/srv/virtual/{bob,carol,joe,dave,guest}
	chown -R "$A-virtual:" "$T/srv/virtual"
	echo "bob's file" >"$T/srv/virtual/bob/f.txt"
	echo "dave's file" >"$T/srv/virtual/dave/f.txt"
	echo "public" >"$T/srv/ftp/pub.txt"
	chmod -R a+rX "$T/srv"
	CONF="$T/cellftpd.conf"
	run --separate-stderr "$MIG" "$T/busy-ftpmgr.conf" -o "$CONF"
	assert_equal "$status" 1
	run stat -c '%U %a' "$CONF"
	assert_output "root 600"
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line "$CONF: usable, 6 users, 0 errors, 2 warnings"
	run grep '^passive_ports = ' "$CONF"
	assert_output "passive_ports = $PASV-$((PASV + 99))"
	log_to_stderr "$CONF"
	start_server
	# the ftpmgr hash: SHA-256 of the password and the salt
	run ftp_curl -u bob:secret f.txt
	assert_success
	assert_output "bob's file"
	run ftp_curl -u bob:secret12345678 f.txt
	assert_failure
	run ftp_curl -u dave:hunter2 f.txt
	assert_output "dave's file"
	run ftp_curl -u 'dave:not used' f.txt
	assert_failure
	# anonymous, as ftpmgr: no login details, the name anonymous only
	run ftp_curl pub.txt
	assert_success
	assert_output "public"
	run ftp_curl -u ftp:x pub.txt
	assert_failure
}

@test "migrate: Debian's default vsftpd.conf (its settings)" {
	run --separate-stderr migrate debian-vsftpd.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "debian-vsftpd.conf:4: listen_ipv6: cannot be mapped: cellftpd has no listener of its own: cellftpd.socket (ListenStream=21, IPv4 and IPv6) listens, or xinetd or inetd
debian-vsftpd.conf:8: use_localtime: cannot be mapped: listings and MDTM always give times in UTC
debian-vsftpd.conf:10: connect_from_port_20: cannot be mapped: sessions have no privilege to bind port 20: active data connections come from an unprivileged port
debian-vsftpd.conf: write_enable: left out: all_users = yes: all_users sessions may write wherever their account may, and vsftpd let no one write (write_enable=NO); give each account a [user NAME] section with system_login = yes, where allow_write = no is the default"
	conf=$output
	run keys_of <(printf '%s\n' "$conf")
	assert_output "[server]
anonymous_names =
system_auth = pam
umask = 077
message_file = .message
xferlog = /var/log/cellftpd.xferlog"
	run grep -F -x -e '# from debian-vsftpd.conf:3 listen=NO: started per connection by a super-server, as cellftpd always is' \
		-e '# from debian-vsftpd.conf:6 local_enable=YES' \
		-e "# vsftpd's default local_umask=077" \
		-e '# from debian-vsftpd.conf:13 rsa_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem: not used: ssl_enable=NO' \
		-e "# from debian-vsftpd.conf:12 pam_service_name=vsftpd: /etc/pam.d/cellftpd, the default pam_service, has the rules of Debian's /etc/pam.d/vsftpd" \
		<(printf '%s\n' "$conf")
	assert_equal "${#lines[@]}" 5
	if [ "$(id -u)" -eq 0 ]; then
		CONF="$BATS_TEST_TMPDIR/cellftpd.conf"
		printf '%s\n' "$conf" >"$CONF"
		chmod 600 "$CONF"
		run "$CELLFTPD" -t -c "$CONF"
		assert_success
		assert_line --regexp "^$CONF: usable, 0 users, 0 errors, [01] warnings?\$"
	fi
}

@test "migrate: a busy vsftpd.conf, every common key" {
	run --separate-stderr migrate busy-vsftpd.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "busy-vsftpd.conf:3: listen: cannot be mapped: cellftpd has no listener of its own: cellftpd.socket (ListenStream=21, IPv4 and IPv6) listens, or xinetd or inetd
busy-vsftpd.conf:5: background: cannot be mapped: cellftpd has no daemon to background: it is started per connection
busy-vsftpd.conf:15: anon_mkdir_write_enable: cannot be mapped: allow_write = upload makes no directories, and allow_write = yes would allow deleting and renaming
busy-vsftpd.conf:23: local_root: cannot be mapped: all_users sessions start in the account's home directory (and restricted_users are confined to it); give a user a [user NAME] section with root and home to choose
busy-vsftpd.conf:53: banner_file: cannot be mapped: the greeting is one line, banner; a file's text cannot be sent
busy-vsftpd.conf:60: hide_ids: cannot be mapped: listings always show the owner's and the group's names
busy-vsftpd.conf:61: ls_recurse_enable: cannot be mapped: LIST -R lists one directory, not the tree below
busy-vsftpd.conf:58: xferlog_file: note: /etc/logrotate.d/cellftpd rotates only /var/log/cellftpd.xferlog: rotate /var/log/vsftpd/xferlog too, or name that file"
	conf=$output
	run keys_of <(printf '%s\n' "$conf")
	assert_output "[server]
banner = Welcome to the example archive.
passive_ports = 40000-40999
passive_address = 203.0.113.10
active_mode = no
all_users = yes
system_auth = pam
pam_service = ftp
restricted_users = *
umask = 022
deny_users_file = /etc/vsftpd.user_list
idle_timeout = 600
data_timeout = 120
max_login_failures = 5
max_sessions = 200
max_sessions_per_ip = 4
message_file = .message
xferlog = /var/log/vsftpd/xferlog
log = syslog
tls = explicit
tls_certificate = /etc/ssl/certs/ftp.example.org.pem
tls_key = /etc/ssl/private/ftp.example.org.key
require_tls = all
[user anonymous]
system_user = ftp
root = /srv/ftp
allow_write = upload
umask = 777
max_rate_download = 1048576
max_rate_upload = 1048576
require_tls = no"
	run grep -F -x -e '# from busy-vsftpd.conf:31 pasv_min_port=40000' \
		-e '# from busy-vsftpd.conf:32 pasv_max_port=40999' \
		-e '# with [Socket] ListenStream= and ListenStream=2121, or the xinetd' \
		-e '# from busy-vsftpd.conf:22 chroot_local_user=YES' \
		-e '# from busy-vsftpd.conf:41 force_local_logins_ssl=YES' \
		-e '# from busy-vsftpd.conf:43 force_anon_logins_ssl=NO' \
		-e '# from busy-vsftpd.conf:13 write_enable=YES: all_users sessions may write wherever their account may' \
		-e "# from busy-vsftpd.conf:57 xferlog_std_format=YES: cellftpd's xferlog is always in wu-ftpd's format" \
		<(printf '%s\n' "$conf")
	assert_equal "${#lines[@]}" 8
}

@test "migrate: a vsftpd.conf that cellftpd -t accepts, and an anonymous download through it" {
	require_root
	local_copy busy-vsftpd.conf
	add_account "$A-ftp"
	mkdir -p "$T"/srv/ftp/pub "$T"/srv/ftp/incoming "$T"/etc/ssl/certs "$T"/etc/ssl/private "$T"/var/log/vsftpd
	echo "from the archive" >"$T/srv/ftp/pub/readme.txt"
	chmod -R a+rX "$T/srv"
	chown "$A-ftp:" "$T/srv/ftp/incoming"
	printf 'root\n' >"$T/etc/vsftpd.user_list"
	test_cert "$BATS_TEST_TMPDIR/cert"
	mv "$BATS_TEST_TMPDIR/cert/cert.pem" "$T/etc/ssl/certs/ftp.example.org.pem"
	mv "$BATS_TEST_TMPDIR/cert/key.pem" "$T/etc/ssl/private/ftp.example.org.key"
	CONF="$T/cellftpd.conf"
	run --separate-stderr "$MIG" "$T/busy-vsftpd.conf" -o "$CONF"
	assert_equal "$status" 1
	assert_equal "${#stderr_lines[@]}" 8
	run "$CELLFTPD" -t -c "$CONF"
	assert_success
	assert_line --regexp "^$CONF: usable, 1 user, 0 errors, [0-9]+ warnings?\$"
	run grep '^passive_ports = ' "$CONF"
	assert_output "passive_ports = $((PASV + 100))-$((PASV + 199))"
	log_to_stderr "$CONF"
	start_server
	# anonymous in clear (force_anon_logins_ssl=NO), as under vsftpd
	run ftp_curl -u anonymous:me@example.org pub/readme.txt
	assert_success
	assert_output "from the archive"
	# everybody else needs TLS (force_local_logins_ssl=YES)
	run chat "USER $A-ftp" "QUIT"
	assert_line --index 1 --regexp '^530 '
	# the drop box takes new files only (anon_upload_enable=YES)
	echo "new" >"$BATS_TEST_TMPDIR/new.txt"
	run ftp_curl -T "$BATS_TEST_TMPDIR/new.txt" incoming/new.txt
	assert_success
	run ftp_curl -T "$BATS_TEST_TMPDIR/new.txt" incoming/new.txt
	assert_failure
	run stat -c '%U %a' "$T/srv/ftp/incoming/new.txt"
	assert_output "$A-ftp 0"
}

@test "migrate: a vsftpd.conf that maps whole exits 0; umasks and ports as vsftpd reads them" {
	cd "$BATS_TEST_TMPDIR"
	printf '%s\n' "listen=NO" "anonymous_enable=YES" "anon_root=/srv/ftp" \
		"local_enable=YES" "write_enable=YES" "local_umask=22" "pasv_min_port=100" \
		"port_enable=YES" "syslog_enable=NO" "chroot_local_user=NO" >whole.conf
	run --separate-stderr "$MIG" whole.conf
	assert_equal "$status" 1
	# vsftpd reads 22 without a leading 0 as decimal: umask 026
	run keys_of <(printf '%s\n' "$output")
	assert_line "umask = 026"
	assert_line "passive_ports = 1024-65535"
	assert_equal "$stderr" "whole.conf:7: pasv_min_port: cannot be mapped: ports below 1024 or above 65535; passive_ports = 1024-65535 instead"
	sed -i 's/^pasv_min_port=100$/pasv_min_port=0116100/' whole.conf
	run --separate-stderr "$MIG" whole.conf
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	run keys_of <(printf '%s\n' "$output")
	assert_output "[server]
passive_ports = 40000-65535
active_mode = yes
all_users = yes
system_auth = pam
umask = 026
[user anonymous]
system_user = ftp
root = /srv/ftp
allow_write = no"
}

@test "migrate: vsftpd's virtual users, a chroot list, a host name for PASV and implicit FTPS" {
	run --separate-stderr migrate virtual-vsftpd.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "virtual-vsftpd.conf:6: guest_enable: left out: all_users = yes: under vsftpd every login ran as vftp (guest_enable=YES); with all_users a name that has a system account logs in as that account, with root / and writing where it may, and nothing in cellftpd.conf keeps such names out; give each virtual user a [user NAME] section (system_login = pam, system_user = vftp, root), or set this, guest_user and guest_root once no virtual name is a system account
virtual-vsftpd.conf:22: force_local_data_ssl: cannot be mapped: require_tls has no level for data only: all asks for TLS before USER too
virtual-vsftpd.conf:25: userlist_deny: cannot be mapped: cannot read /etc/vsftpd.user_list: No such file or directory; no one is let in (vsftpd let in only its names)
virtual-vsftpd.conf:26: accept_timeout: cannot be mapped: data_timeout (300) bounds the wait for a data connection too
virtual-vsftpd.conf:27: hide_file: cannot be mapped: names cannot be hidden by a pattern
virtual-vsftpd.conf:29: reverse_lookup_enable: cannot be mapped: not a setting of vsftpd 3.0"
	conf=$output
	run keys_of <(printf '%s\n' "$conf")
	assert_output "[server]
anonymous_names =
system_auth = pam
pam_service = vsftpd.virtual
restricted_users = ann bob
umask = 077
unprivileged_user = ftpsecure
tls = implicit
tls_certificate = /etc/ssl/private/vsftpd.pem
tls_ciphers = HIGH
require_tls = all
[passive_addresses]
default = ftp.example.org"
	run grep -F -x -e '# from virtual-vsftpd.conf:13 chroot_list_file=vsftpd.chroot_list' \
		-e '# from virtual-vsftpd.conf:8 user_sub_token=$USER' \
		-e '# guest_user = vftp  (left out with all_users)' \
		-e '# guest_root = /srv/vftp/%u  (left out with all_users)' <(printf '%s\n' "$conf")
	assert_equal "${#lines[@]}" 4
	if [ "$(id -u)" -eq 0 ]; then
		local_copy virtual-vsftpd.conf
		add_account "$A-vftp"
		add_account "$A-nopriv"
		sed -i -e "s/^guest_username=vftp\$/guest_username=$A-vftp/" \
			-e "s/^nopriv_user=ftpsecure\$/nopriv_user=$A-nopriv/" \
			-e "s|^chroot_list_file=|chroot_list_file=$SAMPLES/|" "$T/virtual-vsftpd.conf"
		mkdir -p "$T/etc/ssl/private"
		test_cert "$BATS_TEST_TMPDIR/cert"
		cat "$BATS_TEST_TMPDIR/cert/cert.pem" "$BATS_TEST_TMPDIR/cert/key.pem" \
			>"$T/etc/ssl/private/vsftpd.pem"
		chmod 600 "$T/etc/ssl/private/vsftpd.pem"
		CONF="$T/cellftpd.conf"
		run --separate-stderr "$MIG" "$T/virtual-vsftpd.conf" -o "$CONF"
		assert_equal "$status" 1
		run "$CELLFTPD" -t -c "$CONF"
		assert_success
		assert_line --regexp "^$CONF: usable, 0 users, 0 errors, [0-9]+ warnings?\$"
	fi
}

@test "migrate: vsftpd's virtual users never become all_users, where a system account would log in as itself" {
	cd "$BATS_TEST_TMPDIR"
	# every login runs as vftp in /srv/vftp/NAME under vsftpd; cellftpd's
	# all_users with guest_user would let a name with a system account
	# in as that account, with root / and writing
	printf '%s\n' "anonymous_enable=NO" "local_enable=YES" "write_enable=YES" \
		"guest_enable=YES" "guest_username=vftp" "user_sub_token=\$USER" \
		"local_root=/srv/vftp/\$USER" "pam_service_name=vsftpd.virtual" >guest.conf
	run --separate-stderr "$MIG" guest.conf
	assert_equal "$status" 1
	conf=$output
	run keys_of <(printf '%s\n' "$conf")
	refute_line --regexp '^(all_users|guest_user|guest_root) '
	run grep -c -F -x -e '# all_users = yes  (left out: under vsftpd every login ran as vftp (guest_enable=YES); with all_users a name that has a system account logs in as that account, with root / and writing where it may, and nothing in cellftpd.conf keeps such names out; give each virtual user a [user NAME] section (system_login = pam, system_user = vftp, root), or set this, guest_user and guest_root once no virtual name is a system account)' \
		-e '# guest_user = vftp  (left out with all_users)' \
		-e '# guest_root = /srv/vftp/%u  (left out with all_users)' <(printf '%s\n' "$conf")
	assert_output 3
	assert_equal "${stderr_lines[0]}" "guest.conf:4: guest_enable: left out: all_users = yes: under vsftpd every login ran as vftp (guest_enable=YES); with all_users a name that has a system account logs in as that account, with root / and writing where it may, and nothing in cellftpd.conf keeps such names out; give each virtual user a [user NAME] section (system_login = pam, system_user = vftp, root), or set this, guest_user and guest_root once no virtual name is a system account"
	assert_equal "${#stderr_lines[@]}" 1
}

@test "migrate: what vsftpd kept narrow stays narrow: write_enable=NO, userlist_deny=NO, anon_other_write_enable, a chroot list" {
	cd "$BATS_TEST_TMPDIR"
	# write_enable=NO (Debian's default): all_users would let every
	# account write
	printf '%s\n' "anonymous_enable=NO" "local_enable=YES" "write_enable=NO" >ro.conf
	run --separate-stderr "$MIG" ro.conf
	assert_equal "$status" 1
	conf=$output
	run keys_of <(printf '%s\n' "$conf")
	refute_line --regexp '^all_users'
	run grep -c -x -F "# all_users = yes  (left out: all_users sessions may write wherever their account may, and vsftpd let no one write (write_enable=NO); give each account a [user NAME] section with system_login = yes, where allow_write = no is the default)" <(printf '%s\n' "$conf")
	assert_output 1
	assert_equal "$stderr" "ro.conf:3: write_enable: left out: all_users = yes: all_users sessions may write wherever their account may, and vsftpd let no one write (write_enable=NO); give each account a [user NAME] section with system_login = yes, where allow_write = no is the default"

	# userlist_deny=NO: only the names of the list log in, each through
	# a section of its own; root and odd names are not let in
	printf '%s\n' "anonymous_enable=YES" "local_enable=YES" "write_enable=YES" \
		"chroot_local_user=YES" "userlist_enable=YES" "userlist_deny=NO" \
		"userlist_file=only.list" >only.conf
	printf '%s\n' "ftp" "joe" "root" "ann" "a b" >only.list
	run --separate-stderr "$MIG" only.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "only.conf:7: userlist_file: cannot be mapped: only.list: not account names cellftpd lets in: root a b"
	run keys_of <(printf '%s\n' "$output")
	assert_output "[server]
anonymous_names = ftp
system_auth = pam
umask = 077
[user anonymous]
system_user = ftp
allow_write = no
[user joe]
system_login = yes
allow_write = yes
[user ann]
system_login = yes
allow_write = yes"
	# a list that cannot be read lets no one in
	rm only.list
	run --separate-stderr "$MIG" only.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "only.conf:6: userlist_deny: cannot be mapped: cannot read only.list: No such file or directory; no one is let in (vsftpd let in only its names)"
	run keys_of <(printf '%s\n' "$output")
	refute_line --regexp '^(all_users|\[user [^a])'
	assert_line "anonymous_names ="

	# anon_other_write_enable alone: deleting and renaming, no uploads
	# and no new directories; allow_write = yes would allow them
	printf '%s\n' "anonymous_enable=YES" "write_enable=YES" "anon_other_write_enable=YES" >oth.conf
	run --separate-stderr "$MIG" oth.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "oth.conf:3: anon_other_write_enable: left out: allow_write = yes: it allows uploads and new directories too, which vsftpd did not (anon_upload_enable=NO, anon_mkdir_write_enable=NO)"
	run keys_of <(printf '%s\n' "$output")
	assert_line "allow_write = no"
	refute_line "allow_write = yes"
	printf '%s\n' "anon_upload_enable=YES" >>oth.conf
	run --separate-stderr "$MIG" oth.conf
	assert_equal "$status" 1
	run keys_of <(printf '%s\n' "$output")
	assert_line "allow_write = upload"
	refute_line "allow_write = yes"

	# a chroot list that cannot be read, or holds odd names: everybody
	# is confined, not nobody
	printf '%s\n' "anonymous_enable=NO" "local_enable=YES" "write_enable=YES" \
		"chroot_list_enable=YES" "chroot_list_file=missing.list" >ch.conf
	run --separate-stderr "$MIG" ch.conf
	assert_equal "$status" 1
	assert_equal "$stderr" "ch.conf:4: chroot_list_enable: cannot be mapped: cannot read missing.list: No such file or directory; every account is confined to its home directory"
	run keys_of <(printf '%s\n' "$output")
	assert_line "all_users = yes"
	assert_line "restricted_users = *"
	printf '%s\n' "joe" "bad name" >missing.list
	run --separate-stderr "$MIG" ch.conf
	assert_equal "$status" 1
	run keys_of <(printf '%s\n' "$output")
	assert_line "restricted_users = *"
}

@test "migrate: xferlog_enable writes the transfer log that logrotate.d/cellftpd rotates; a file of its own is kept, with a note" {
	cd "$BATS_TEST_TMPDIR"
	rotated=$(sed -n 's/^\(\/[^ ]*\) {$/\1/p' "$BATS_TEST_DIRNAME/../conf/logrotate.d/cellftpd")
	assert_equal "$rotated" /var/log/cellftpd.xferlog
	# Debian's: xferlog_enable=YES, vsftpd's own format in /var/log/vsftpd.log
	printf '%s\n' "listen=NO" "anonymous_enable=NO" "local_enable=YES" "write_enable=YES" \
		"xferlog_enable=YES" "xferlog_std_format=YES" >log.conf
	run --separate-stderr "$MIG" log.conf
	assert_equal "$status" 0
	assert_equal "$stderr" ""
	conf=$output
	run keys_of <(printf '%s\n' "$conf")
	assert_line "xferlog = $rotated"
	run grep -A1 -x -F "# from log.conf:5 xferlog_enable=YES" <(printf '%s\n' "$conf")
	assert_output "# from log.conf:5 xferlog_enable=YES
xferlog = $rotated"
	run grep -c -x -F "# vsftpd wrote /var/log/xferlog; $rotated is the file /etc/logrotate.d/cellftpd rotates" <(printf '%s\n' "$conf")
	assert_output 1
	# a file the source names stays, and stderr says it is not rotated
	printf '%s\n' "xferlog_file=/var/log/ftp-transfers.log" >>log.conf
	run --separate-stderr "$MIG" log.conf
	assert_equal "$status" 0
	assert_equal "$stderr" "log.conf:7: xferlog_file: note: /etc/logrotate.d/cellftpd rotates only $rotated: rotate /var/log/ftp-transfers.log too, or name that file"
	run keys_of <(printf '%s\n' "$output")
	assert_line "xferlog = /var/log/ftp-transfers.log"
}

@test "migrate: every key of cellftpd.conf(5)'s MIGRATING FROM FTPMGR, and every line of each sample, is accounted for" {
	# the ftpmgr keys the man page lists, each set in the busy sample
	keys=$(sed -n '/^\.Sh MIGRATING FROM FTPMGR/,/^\.Sh SEE ALSO/p' \
		"$BATS_TEST_DIRNAME/../man/cellftpd.conf.5" |
		sed -n 's/^\.It Cm \([A-Za-z]*\)\( No.*\)\{0,1\}$/\1/p')
	[ "$(echo "$keys" | wc -l)" -ge 10 ]
	for k in $keys; do
		grep -Eq "^[[:space:]]*$k = " "$SAMPLES/busy-ftpmgr.conf" ||
			fail "ftpmgr key $k of cellftpd.conf(5) is not in busy-ftpmgr.conf"
	done
	# each setting line becomes a line's comment, or a line on stderr
	for f in busy-ftpmgr.conf manpage-ftpmgr.conf debian-vsftpd.conf busy-vsftpd.conf \
		virtual-vsftpd.conf; do
		run --separate-stderr migrate "$f"
		for n in $(grep -nE '^[[:space:]]*[A-Za-z_]+ ?=' "$SAMPLES/$f" | cut -d: -f1); do
			grep -qE "^# (from )?$f:$n " <<<"$output" || grep -q "^$f:$n: " <<<"$stderr" ||
				fail "$f:$n is neither in the output nor on stderr"
		done
	done
}

@test "migrate: the README and the man page write a new file, check it, then move it into place" {
	# every connection reads /etc/cellftpd.conf: -o there is live at once
	readme="$BATS_TEST_DIRNAME/../README.md"
	man="$BATS_TEST_DIRNAME/../man/cellftpd-migrate.8"
	run sed -n '/^## Migrating from ftpmgr or vsftpd$/,/^## /p' "$readme"
	section=$output
	run grep -e '-o /etc/cellftpd\.conf\($\|[` ]\)' <(printf '%s\n' "$section")
	assert_output ""
	run grep -e '-o /etc/cellftpd\.conf\($\|[` ]\)' "$man"
	assert_output ""
	run grep -x -e '    cellftpd-migrate /etc/vsftpd.conf -o /etc/cellftpd.conf.new' \
		-e '    cellftpd -t -c /etc/cellftpd.conf.new' \
		-e '    mv /etc/cellftpd.conf.new /etc/cellftpd.conf' <(printf '%s\n' "$section")
	assert_equal "${#lines[@]}" 3
	assert_equal "${lines[2]}" '    mv /etc/cellftpd.conf.new /etc/cellftpd.conf'
	run grep -x -e '# cellftpd-migrate /etc/vsftpd.conf -o /etc/cellftpd.conf.new' \
		-e '# cellftpd -t -c /etc/cellftpd.conf.new' \
		-e '# mv /etc/cellftpd.conf.new /etc/cellftpd.conf' "$man"
	assert_equal "${#lines[@]}" 3
	assert_equal "${lines[2]}" '# mv /etc/cellftpd.conf.new /etc/cellftpd.conf'
	# and say why, the words maybe over two lines
	printf '%s\n' "$section" | tr '\n' ' ' | grep -q -i 'every new connection reads'
	tr '\n' ' ' <"$man" | grep -q -i 'every new connection reads'
}

@test "migrate: the man page passes mandoc -Tlint" {
	run mandoc -Tlint -Wwarning "$BATS_TEST_DIRNAME/../man/cellftpd-migrate.8"
	assert_success
	assert_output ""
}

@test "migrate: a long source line, control characters and an indented comment still give a file cellftpd reads" {
	cd "$BATS_TEST_TMPDIR"
	{
		echo "listen=NO"
		echo "   # indented: vsftpd would refuse it"
		printf 'cmds_allowed=%s\n' "$(printf 'RETR,%.0s' $(seq 400))LIST"
		printf 'ftpd_banner=ding\001dong\n'
	} >odd.conf
	run --separate-stderr "$MIG" odd.conf -o odd.out
	assert_equal "$status" 1
	assert_equal "$stderr" "odd.conf:3: cmds_allowed: cannot be mapped: commands cannot be allowed or denied one by one
odd.conf:4: ftpd_banner: cannot be mapped: control characters cannot be part of a value"
	run awk 'length($0) > 1000' odd.out
	assert_output ""
	run grep -c $'\001' odd.out
	assert_output 0
	run "$CELLFTPD" -t -c odd.out
	assert_success
	assert_line "odd.out: usable, 0 users, 0 errors, 0 warnings"
}
