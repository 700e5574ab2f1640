#!/usr/bin/env bats
# Login: every password form, anonymous names, failures (same reply, same
# delay, closed after max_login_failures), USER/PASS/ACCT order, system
# accounts (system_login, all_users, restricted_users, the deny file) and
# the identity the session runs as once logged in.

load helper

GROUPS_MADE=()
HOMES=

cleanup() {
	remove_accounts
	local g
	for g in "${GROUPS_MADE[@]}"; do
		groupdel "$g" >/dev/null 2>&1 || true
	done
	GROUPS_MADE=()
	if [ -n "$HOMES" ]; then
		rm -rf "$HOMES"
		HOMES=
	fi
}

add_group() {	# add_group NAME
	groupdel "$1" >/dev/null 2>&1 || true
	groupadd "$1"
	GROUPS_MADE+=("$1")
}

# A bcrypt ($2b$) hash from libxcrypt itself (cost 4: fast).
bcrypt_hash() {
	python3 - "$1" <<-'EOF'
	import ctypes, sys
	lib = ctypes.CDLL("libcrypt.so.1")
	lib.crypt_gensalt.restype = ctypes.c_char_p
	lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
	lib.crypt.restype = ctypes.c_char_p
	lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
	salt = lib.crypt_gensalt(b"$2b$", 4, None, 0)
	print(lib.crypt(sys.argv[1].encode(), salt).decode())
	EOF
}

# A configuration with one [user NAME] section: conf_user NAME LINE...
conf_user() {
	local name=$1 line text
	shift
	text=$(printf '[server]\nlog = stderr\n[user %s]\nroot = %s' "$name" "$ROOT")
	for line in "$@"; do
		text+=$'\n'$line
	done
	write_conf <<<"$text"
}

# login_ok USER PASS: the full successful dialogue.
login_ok() {
	run chat "USER $1" "PASS $2" "QUIT"
	assert_equal "${lines[1]}" "331 Please specify the password"
	assert_equal "${lines[2]}" "230 Login successful"
	assert_equal "${lines[3]}" "221 Goodbye"
}

# login_bad USER PASS: refused with 530, the session goes on.
login_bad() {
	run chat "USER $1" "PASS $2" "QUIT"
	assert_equal "${lines[1]}" "331 Please specify the password"
	assert_equal "${lines[2]}" "530 Login incorrect"
	assert_equal "${lines[3]}" "221 Goodbye"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}


# ---- password forms ----

@test "yescrypt password_hash (cellftpd -H): right password in, wrong out" {
	make_root
	hash=$(printf 'tr0ub4dor&3\n' | "$CELLFTPD" -H)
	[[ "$hash" == '$y$'* ]]
	conf_user carol "password_hash = $hash"
	start_server
	login_ok carol 'tr0ub4dor&3'
	login_bad carol 'tr0ub4dor&4'
	run server_log
	assert_output --partial "127.0.0.1 carol: logged in as system user "
	assert_output --partial "127.0.0.1 carol: login failed: wrong password"
}

@test "sha512crypt password_hash (\$6\$): right password in, wrong out" {
	make_root
	hash=$(openssl passwd -6 'Sesame 6')
	[[ "$hash" == '$6$'* ]]
	conf_user dora "password_hash = $hash"
	start_server
	login_ok dora 'Sesame 6'
	login_bad dora 'sesame 6'
	run server_log
	assert_output --partial "127.0.0.1 dora: logged in as system user "
	assert_output --partial "127.0.0.1 dora: login failed: wrong password"
}

@test "bcrypt password_hash (\$2b\$): right password in, wrong out" {
	make_root
	hash=$(bcrypt_hash 'blow fish')
	[[ "$hash" == '$2b$04$'* ]]
	conf_user emil "password_hash = $hash"
	start_server
	login_ok emil 'blow fish'
	login_bad emil 'blow fis'
	run server_log
	assert_output --partial "127.0.0.1 emil: logged in as system user "
	assert_output --partial "127.0.0.1 emil: login failed: wrong password"
}

@test "ftpmgr salted SHA-256 hex: SHA-256(password + salt) in, anything else out" {
	make_root
	hash=$(printf '%s' "secret12345678" | sha256sum | cut -d' ' -f1)
	conf_user fritz "password_hash = $hash" "password_salt = 12345678"
	start_server
	login_ok fritz secret
	# the salt is the server's to append, not the client's
	login_bad fritz secret12345678
	run server_log
	assert_output --partial "127.0.0.1 fritz: logged in as system user "
	assert_output --partial "127.0.0.1 fritz: login failed: wrong password"
}

@test "plaintext password: exact match in, anything else out" {
	make_root
	conf_user gina "password = hunter2"
	start_server
	login_ok gina hunter2
	login_bad gina hunter2x
	run server_log
	assert_output --partial "127.0.0.1 gina: logged in as system user "
	assert_output --partial "127.0.0.1 gina: login failed: wrong password"
}

@test "a user without any password form logs in with any password, even none" {
	make_root
	conf_user hugo
	start_server
	login_ok hugo whatever
	run chat "USER hugo" "PASS" "QUIT"
	assert_line --index 2 "230 Login successful"
	run server_log
	assert_output --partial "127.0.0.1 hugo: logged in as system user "
	refute_output --partial "login failed"
}

# ---- anonymous ----

@test "every default anonymous name, any case, logs in and its password is logged" {
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	[user anonymous]
	root = $ROOT
	EOF
	start_server
	for name in anonymous ftp FTP Anonymous; do
		run chat "USER $name" "PASS $name@example.org" "PWD" "QUIT"
		assert_line --index 1 "331 Anonymous login ok, send your e-mail address as password"
		assert_line --index 2 "230 Login successful"
		assert_line --index 3 '257 "/" is the current directory'
		run server_log
		assert_output --partial "127.0.0.1 $name: anonymous login, password '$name@example.org'"
	done
	run chat "USER ftp" "PASS" "QUIT"
	assert_line --index 2 "230 Login successful"
	run server_log
	assert_output --partial "127.0.0.1 ftp: anonymous login, password ''"
	refute_output --partial "login failed"
}

@test "anonymous_names replaces the default: USER anonymous then fails like an unknown user" {
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	anonymous_names = guest Gast
	[user anonymous]
	root = $ROOT
	EOF
	start_server
	run chat "USER GUEST" "PASS me@example.org" "QUIT"
	assert_line --index 1 "331 Anonymous login ok, send your e-mail address as password"
	assert_line --index 2 "230 Login successful"
	run chat "USER gast" "PASS x" "QUIT"
	assert_line --index 2 "230 Login successful"
	login_bad anonymous me@example.org
	run server_log
	assert_output --partial "127.0.0.1 GUEST: anonymous login, password 'me@example.org'"
	assert_output --partial "127.0.0.1 anonymous: login failed: unknown user"
}

@test "without a [user anonymous] section the anonymous names are unknown users" {
	make_root
	conf_user gina "password = hunter2"
	start_server
	login_bad ftp me@example.org
	run server_log
	assert_output --partial "127.0.0.1 ftp: login failed: unknown user"
	refute_output --partial "anonymous login"
}

# ---- failures ----

@test "a wrong user and a wrong password get the same replies after the same delay" {
	make_root
	conf_user gina "password = hunter2"
	start_server
	t0=$(now_ms)
	run chat "USER nosuchuser" "PASS hunter3"
	t1=$(now_ms)
	unknown_output=$output
	unknown_ms=$((t1 - t0))
	t0=$(now_ms)
	run chat "USER gina" "PASS hunter3"
	t1=$(now_ms)
	wrong_ms=$((t1 - t0))
	assert_line --index 1 "331 Please specify the password"
	assert_line --index 2 "530 Login incorrect"
	assert_equal "$unknown_output" "$output"
	echo "unknown user: ${unknown_ms} ms, wrong password: ${wrong_ms} ms"
	[ "$unknown_ms" -ge 900 ]
	[ "$wrong_ms" -ge 900 ]
	diff=$((unknown_ms - wrong_ms))
	[ "${diff#-}" -lt 500 ]
	# only the log tells them apart
	run server_log
	assert_output --partial "127.0.0.1 nosuchuser: login failed: unknown user"
	assert_output --partial "127.0.0.1 gina: login failed: wrong password"
}

@test "max_login_failures (default 3): the third failure closes the connection with 421" {
	make_root
	conf_user gina "password = hunter2"
	start_server
	run chat "USER gina" "PASS a" "USER gina" "PASS b" "USER gina" "PASS c" "close?"
	assert_line --index 2 "530 Login incorrect"
	assert_line --index 4 "530 Login incorrect"
	assert_line --index 6 "421 Too many failed logins; closing control connection"
	assert_line --index 7 "CLOSED"
	assert_equal "${#lines[@]}" 8
	wait_sessions_gone
	run server_log
	assert_output --partial "127.0.0.1 gina: 3 failed logins; closing"
}

@test "max_login_failures = 2 counts unknown users and wrong passwords alike" {
	make_root
	conf_user gina "password = hunter2"
	sed -i 's/^log = stderr$/&\nmax_login_failures = 2/' "$CONF"
	grep -qx 'max_login_failures = 2' "$CONF"
	start_server
	run chat "USER nosuchuser" "PASS a" "USER gina" "PASS b" "close?"
	assert_line --index 2 "530 Login incorrect"
	assert_line --index 4 "421 Too many failed logins; closing control connection"
	assert_line --index 5 "CLOSED"
	assert_equal "${#lines[@]}" 6
	wait_sessions_gone
	run server_log
	assert_output --partial "127.0.0.1 gina: 2 failed logins; closing"
}

# ---- command order ----

@test "PASS without USER is 503, an over-long user name 501, USER without a name 501" {
	make_root
	conf_user gina "password = hunter2"
	start_server
	long=$(printf 'u%.0s' $(seq 65))
	max=$(printf 'u%.0s' $(seq 64))
	run chat "PASS hunter2" "USER $long" "PASS hunter2" "USER" "USER $max" \
		"ACCT x" "QUIT"
	assert_line --index 1 "503 Login with USER first"
	assert_line --index 2 "501 User name too long"
	assert_line --index 3 "503 Login with USER first"
	assert_line --index 4 "501 USER needs an argument"
	assert_line --index 5 "331 Please specify the password"
	assert_line --index 6 "530 Please log in with USER and PASS first"
	assert_line --index 7 "221 Goodbye"
}

@test "after login: USER is 530 naming the user, PASS 503, ACCT 202" {
	make_root
	conf_user gina "password = hunter2"
	start_server
	run chat "USER gina" "PASS hunter2" "USER hugo" "PASS x" "ACCT billing" \
		"PWD" "QUIT"
	assert_line --index 2 "230 Login successful"
	assert_line --index 3 "530 Already logged in as gina; reconnect to change user"
	assert_line --index 4 "503 Already logged in"
	assert_line --index 5 "202 No account needed"
	assert_line --index 6 '257 "/" is the current directory'
	assert_line --index 7 "221 Goodbye"
}

# ---- system accounts (root) ----

@test "system_login = yes checks the shadow password and runs as the account" {
	require_root
	make_root
	add_account ${ACCOUNT_PREFIX}l-sys1
	usermod -p "$(openssl passwd -6 'sys pw 1')" ${ACCOUNT_PREFIX}l-sys1
	conf_user ${ACCOUNT_PREFIX}l-sys1 "system_login = yes"
	start_server
	login_ok ${ACCOUNT_PREFIX}l-sys1 'sys pw 1'
	login_bad ${ACCOUNT_PREFIX}l-sys1 'sys pw 2'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-sys1: logged in as system user ${ACCOUNT_PREFIX}l-sys1, root $ROOT"
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-sys1: login failed: wrong password"
}

@test "system_login: a locked account is refused even with its password" {
	require_root
	make_root
	add_account ${ACCOUNT_PREFIX}l-sys2
	usermod -p "$(openssl passwd -6 'sys pw 2')" ${ACCOUNT_PREFIX}l-sys2
	usermod -L ${ACCOUNT_PREFIX}l-sys2
	conf_user ${ACCOUNT_PREFIX}l-sys2 "system_login = yes"
	start_server
	login_bad ${ACCOUNT_PREFIX}l-sys2 'sys pw 2'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-sys2: login failed: account locked or without a password"
}

@test "system_login: an expired account is refused even with its password" {
	require_root
	make_root
	add_account ${ACCOUNT_PREFIX}l-sys3
	usermod -p "$(openssl passwd -6 'sys pw 3')" ${ACCOUNT_PREFIX}l-sys3
	chage -E 0 ${ACCOUNT_PREFIX}l-sys3
	conf_user ${ACCOUNT_PREFIX}l-sys3 "system_login = yes"
	start_server
	login_bad ${ACCOUNT_PREFIX}l-sys3 'sys pw 3'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-sys3: login failed: account expired"
}

@test "system_login: an account in deny_users_file is refused even with its password" {
	require_root
	make_root
	add_account ${ACCOUNT_PREFIX}l-sys4
	usermod -p "$(openssl passwd -6 'sys pw 4')" ${ACCOUNT_PREFIX}l-sys4
	printf "# ftpusers\nroot\n  ${ACCOUNT_PREFIX}l-sys4   # no FTP for this one\n" \
		>"$BATS_TEST_TMPDIR/ftpusers"
	conf_user ${ACCOUNT_PREFIX}l-sys4 "system_login = yes"
	sed -i "s|^log = stderr\$|&\ndeny_users_file = $BATS_TEST_TMPDIR/ftpusers|" "$CONF"
	grep -q '^deny_users_file = ' "$CONF"
	start_server
	login_bad ${ACCOUNT_PREFIX}l-sys4 'sys pw 4'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-sys4: login failed: listed in deny_users_file"
}

# ---- all_users (root) ----

# Homes must be reachable from "/" by the account (bats' own run
# directory is 0700), so they live in a directory of their own in /tmp.
make_home_account() {	# make_home_account NAME PASSWORD
	if [ -z "$HOMES" ]; then
		HOMES=$(mktemp -d /tmp/cfl-homes.XXXXXX)
		chmod 755 "$HOMES"
	fi
	mkdir "$HOMES/$1"
	add_account "$1" -d "$HOMES/$1"
	chown "$1:" "$HOMES/$1"
	chmod 755 "$HOMES/$1"
	usermod -p "$(openssl passwd -6 "$2")" "$1"
}

@test "all_users = yes: a system account logs in, root /, starting in its home" {
	require_root
	make_root
	make_home_account ${ACCOUNT_PREFIX}l-all1 'all pw 1'
	write_conf <<-EOF
	[server]
	log = stderr
	all_users = yes
	restricted_users = ${ACCOUNT_PREFIX}l-other
	EOF
	start_server
	run chat "USER ${ACCOUNT_PREFIX}l-all1" "PASS all pw 1" "PWD" "CDUP" "PWD" "QUIT"
	assert_line --index 1 "331 Please specify the password"
	assert_line --index 2 "230 Login successful"
	assert_line --index 3 "257 \"$HOMES/${ACCOUNT_PREFIX}l-all1\" is the current directory"
	assert_line --index 4 "250 Directory changed to $HOMES"
	login_bad ${ACCOUNT_PREFIX}l-all1 'all pw 2'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-all1: logged in as system user ${ACCOUNT_PREFIX}l-all1, root /"
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-all1: login failed: wrong password"
}

@test "all_users = yes, restricted_users lists the account: its root is its home" {
	require_root
	make_root
	make_home_account ${ACCOUNT_PREFIX}l-all2 'all pw 2'
	write_conf <<-EOF
	[server]
	log = stderr
	all_users = yes
	restricted_users = ${ACCOUNT_PREFIX}l-x ${ACCOUNT_PREFIX}l-all2
	EOF
	start_server
	run chat "USER ${ACCOUNT_PREFIX}l-all2" "PASS all pw 2" "PWD" "CDUP" "PWD" "QUIT"
	assert_line --index 2 "230 Login successful"
	assert_line --index 3 '257 "/" is the current directory'
	assert_line --index 5 '257 "/" is the current directory'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-all2: logged in as system user ${ACCOUNT_PREFIX}l-all2, root $HOMES/${ACCOUNT_PREFIX}l-all2"
}

@test "all_users = yes, restricted_users = *: every account's root is its home" {
	require_root
	make_root
	make_home_account ${ACCOUNT_PREFIX}l-all3 'all pw 3'
	write_conf <<-EOF
	[server]
	log = stderr
	all_users = yes
	restricted_users = *
	EOF
	start_server
	run chat "USER ${ACCOUNT_PREFIX}l-all3" "PASS all pw 3" "PWD" "QUIT"
	assert_line --index 2 "230 Login successful"
	assert_line --index 3 '257 "/" is the current directory'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-all3: logged in as system user ${ACCOUNT_PREFIX}l-all3, root $HOMES/${ACCOUNT_PREFIX}l-all3"
}

@test "all_users = yes never lets root in" {
	require_root
	make_root
	# an empty deny list: the machine's /etc/ftpusers may list root
	: >"$BATS_TEST_TMPDIR/ftpusers"
	write_conf <<-EOF
	[server]
	log = stderr
	all_users = yes
	deny_users_file = $BATS_TEST_TMPDIR/ftpusers
	EOF
	start_server
	login_bad root 'any password'
	run server_log
	assert_output --partial "127.0.0.1 root: login failed: root may not log in"
	refute_output --partial "logged in as"
}

@test "all_users = no (default): a system account without a section is an unknown user" {
	require_root
	make_root
	make_home_account ${ACCOUNT_PREFIX}l-all4 'all pw 4'
	write_conf <<-EOF
	[server]
	log = stderr
	EOF
	start_server
	login_bad ${ACCOUNT_PREFIX}l-all4 'all pw 4'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}l-all4: login failed: unknown user"
}

# ---- privileges (root) ----

@test "a logged-in session runs with system_user's uid, gid and groups, no new privileges" {
	require_root
	make_root
	add_group ${ACCOUNT_PREFIX}l-grp1
	add_account ${ACCOUNT_PREFIX}l-priv1 -G ${ACCOUNT_PREFIX}l-grp1
	uid=$(id -u ${ACCOUNT_PREFIX}l-priv1)
	gid=$(id -g ${ACCOUNT_PREFIX}l-priv1)
	extra=$(getent group ${ACCOUNT_PREFIX}l-grp1 | cut -d: -f3)
	[ "$uid" -ne 0 ] && [ "$gid" -ne 0 ]
	conf_user dave "password = dave pw" "system_user = ${ACCOUNT_PREFIX}l-priv1"
	start_server
	chat "USER dave" "PASS dave pw" "sleep:3" "QUIT" >"$BATS_TEST_TMPDIR/chat.out" &
	chat_pid=$!
	wait_log "127.0.0.1 dave: logged in as system user ${ACCOUNT_PREFIX}l-priv1, root $ROOT"
	pid=$(sessions)
	[ -n "$pid" ]
	[ "$(wc -w <<<"$pid")" -eq 1 ]
	status=$(cat "/proc/$pid/status")
	wait "$chat_pid"
	echo "$status"
	tab=$'\t'
	assert_equal "$(grep '^Uid:' <<<"$status")" "Uid:$tab$uid$tab$uid$tab$uid$tab$uid"
	assert_equal "$(grep '^Gid:' <<<"$status")" "Gid:$tab$gid$tab$gid$tab$gid$tab$gid"
	assert_equal "$(grep '^NoNewPrivs:' <<<"$status")" "NoNewPrivs:${tab}1"
	groups=$(grep '^Groups:' <<<"$status" | cut -f2 | tr ' ' '\n' | sed '/^$/d' | sort -n | xargs)
	want=$(id -G ${ACCOUNT_PREFIX}l-priv1 | tr ' ' '\n' | sort -n | xargs)
	assert_equal "$groups" "$want"
	[[ " $groups " == *" $extra "* ]]
	[[ " $groups " == *" $gid "* ]]
	[[ " $groups " != *" 0 "* ]]
	run cat "$BATS_TEST_TMPDIR/chat.out"
	assert_line --index 2 "230 Login successful"
	assert_line --index 3 "221 Goodbye"
}

@test "started as root, a [user] with system_user = root refuses the configuration" {
	require_root
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	[user boss]
	password = boss pw
	system_user = root
	root = $ROOT
	EOF
	start_server
	run chat "USER boss" "PASS boss pw"
	assert_line --index 0 "421 Service not available: configuration error (see the server log)"
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 "EOF"
	run server_log
	assert_output --partial "$CONF:5: [user boss]: sessions never run as root"
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:5: [user boss]: sessions never run as root"
}
