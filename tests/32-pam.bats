#!/usr/bin/env bats
# PAM (as root, real modules, real accounts): system_login = pam and
# all_users through PAM, the reasons pam_acct_mgmt gives, PAM_RHOST for
# pam_access, pam_limits in the session, the session closed by the root
# process left for it, a module that blocks, virtual users of pam_userdb
# running as guest_user in guest_root, and the shipped pam/cellftpd.

load helper

REPO="$BATS_TEST_DIRNAME/.."

setup() {
	require_root
	SERVICE="cellftpd-test-$$-${BATS_TEST_NUMBER}"
	PAMFILE="/etc/pam.d/$SERVICE"
	make_root
}

cleanup() {
	if [ -s "$BATS_TEST_TMPDIR/slow.pid" ]; then
		kill "$(cat "$BATS_TEST_TMPDIR/slow.pid")" 2>/dev/null || true
	fi
	rm -f "$PAMFILE"
	remove_accounts
	[ -z "${HOMES:-}" ] || rm -rf "$HOMES"
}

# pam_stack LINE...: the test's service file, one line each
pam_stack() {
	printf '%s\n' "$@" >"$PAMFILE"
}

# the usual local stack, without pam_unix's own failure delay
unix_stack() {
	pam_stack "auth required pam_unix.so nodelay" \
		"account required pam_unix.so" \
		"session required pam_unix.so" "$@"
}

# an account with a password (chpasswd) and a root it owns: sys_account NAME PASS
sys_account() {
	add_account "$1"
	echo "$1:$2" | chpasswd
	chown "$1:" "$ROOT"
}

# every system account through PAM (all_users, system_auth = pam):
# all_users_conf [server LINE...]
all_users_conf() {
	write_conf <<-EOF
	[server]
	log = stderr
	all_users = yes
	system_auth = pam
	pam_service = $SERVICE
	$(printf '%s\n' "$@")
	EOF
}

# [server] through PAM, one [user NAME] with system_login = pam:
# pam_conf NAME [LINE...] (server lines first, with server:)
pam_conf() {
	local name=$1 srv="" usr="" line
	shift
	for line in "$@"; do
		case $line in
		server:*) srv+="${line#server:}"$'\n' ;;
		*) usr+="$line"$'\n' ;;
		esac
	done
	write_conf <<-EOF
	[server]
	log = stderr
	pam_service = $SERVICE
	passive_ports = $((PASSIVE_BASE + 8000))-$((PASSIVE_BASE + 8100))
	$srv
	[user $name]
	system_login = pam
	root = $ROOT
	allow_write = yes
	$usr
	EOF
}

login_ok() {	# login_ok USER PASS
	run chat "USER $1" "PASS $2" "QUIT"
	assert_equal "${lines[2]}" "230 Login successful"
}

login_bad() {	# login_bad USER PASS
	run chat "USER $1" "PASS $2" "QUIT"
	assert_equal "${lines[1]}" "331 Please specify the password"
	assert_equal "${lines[2]}" "530 Login incorrect"
}

# the session process of a login held open: hold USER PASS; sets HELD, PID
hold() {
	local before
	before=$(grep -c "$1: logged in as system user" "$SERVER_LOG" || true)
	chat "USER $1" "PASS $2" "sleep:2" "QUIT" >"$BATS_TEST_TMPDIR/hold.out" &
	HELD=$!
	for _ in $(seq 100); do
		[ "$(grep -c "$1: logged in as system user" "$SERVER_LOG")" -gt "$before" ] && break
		sleep 0.05
	done
	PID=$(sessions)
	[ -n "$PID" ] && [ "$(wc -w <<<"$PID")" -eq 1 ]
}

@test "system_login = pam: the password set by chpasswd logs in and downloads, a wrong one is 530 and logged" {
	sys_account ${ACCOUNT_PREFIX}pam-u1 'pam pw 1'
	head -c 100000 /dev/urandom >"$ROOT/data.bin"
	chown ${ACCOUNT_PREFIX}pam-u1: "$ROOT/data.bin"
	unix_stack
	pam_conf ${ACCOUNT_PREFIX}pam-u1
	start_server
	run ftp_curl -u "${ACCOUNT_PREFIX}pam-u1:pam pw 1" -o "$BATS_TEST_TMPDIR/got.bin" data.bin
	assert_success
	assert_equal "$(checksum "$BATS_TEST_TMPDIR/got.bin")" "$(checksum "$ROOT/data.bin")"
	login_bad ${ACCOUNT_PREFIX}pam-u1 'pam pw 2'
	run server_log
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}pam-u1: logged in as system user ${ACCOUNT_PREFIX}pam-u1, root $ROOT"
	assert_output --partial "127.0.0.1 ${ACCOUNT_PREFIX}pam-u1: login failed: pam_authenticate: Authentication failure"
}

@test "all_users with system_auth = pam: a system account logs in through PAM, not the shadow file" {
	HOMES=$(mktemp -d /tmp/cfpam-homes.XXXXXX)
	chmod 755 "$HOMES"
	mkdir "$HOMES/${ACCOUNT_PREFIX}pam-u2"
	add_account ${ACCOUNT_PREFIX}pam-u2 -d "$HOMES/${ACCOUNT_PREFIX}pam-u2"
	chown ${ACCOUNT_PREFIX}pam-u2: "$HOMES/${ACCOUNT_PREFIX}pam-u2"
	echo "${ACCOUNT_PREFIX}pam-u2:pam pw 2" | chpasswd
	# PAM says yes to this one name whatever the password: the shadow
	# file would not
	pam_stack "auth required pam_succeed_if.so user = ${ACCOUNT_PREFIX}pam-u2" \
		"auth required pam_permit.so" "account required pam_permit.so" "session required pam_permit.so"
	all_users_conf
	start_server

	login_ok ${ACCOUNT_PREFIX}pam-u2 'not the password'
	run server_log
	assert_output --partial "${ACCOUNT_PREFIX}pam-u2: logged in as system user ${ACCOUNT_PREFIX}pam-u2, root /"
}

@test "pam_acct_mgmt: an expired account and one whose password must change are 530, the reason logged" {
	sys_account ${ACCOUNT_PREFIX}pam-u3 'pam pw 3'
	chage -E 0 ${ACCOUNT_PREFIX}pam-u3
	add_account ${ACCOUNT_PREFIX}pam-u4
	echo "${ACCOUNT_PREFIX}pam-u4:pam pw 4" | chpasswd
	chage -d 0 ${ACCOUNT_PREFIX}pam-u4
	unix_stack
	write_conf <<-EOF
	[server]
	log = stderr
	pam_service = $SERVICE
	[user ${ACCOUNT_PREFIX}pam-u3]
	system_login = pam
	root = $ROOT
	[user ${ACCOUNT_PREFIX}pam-u4]
	system_login = pam
	root = $ROOT
	EOF
	start_server
	login_bad ${ACCOUNT_PREFIX}pam-u3 'pam pw 3'
	login_bad ${ACCOUNT_PREFIX}pam-u4 'pam pw 4'
	run server_log
	assert_output --partial "${ACCOUNT_PREFIX}pam-u3: login failed: pam_acct_mgmt: User account has expired"
	assert_output --partial "${ACCOUNT_PREFIX}pam-u4: login failed: pam_acct_mgmt: Authentication token is no longer valid; new one required (FTP cannot change a password)"
}

@test "a locked account (usermod -L) is refused with 530 even with its password" {
	sys_account ${ACCOUNT_PREFIX}pam-u5 'pam pw 5'
	usermod -L ${ACCOUNT_PREFIX}pam-u5
	unix_stack
	pam_conf ${ACCOUNT_PREFIX}pam-u5
	start_server
	login_bad ${ACCOUNT_PREFIX}pam-u5 'pam pw 5'
	run server_log
	# pam_unix refuses a locked hash in pam_authenticate already
	assert_output --partial "${ACCOUNT_PREFIX}pam-u5: login failed: pam_authenticate: Authentication failure"
	refute_output --partial "logged in"
}

@test "PAM_RHOST is the client: a pam_access rule against 127.0.0.1 refuses, one against another address does not" {
	sys_account ${ACCOUNT_PREFIX}pam-u6 'pam pw 6'
	access="$BATS_TEST_TMPDIR/access.conf"
	unix_stack "account required pam_access.so accessfile=$access"
	pam_conf ${ACCOUNT_PREFIX}pam-u6
	start_server
	echo "- : ${ACCOUNT_PREFIX}pam-u6 : 127.0.0.1" >"$access"
	login_bad ${ACCOUNT_PREFIX}pam-u6 'pam pw 6'
	echo "- : ${ACCOUNT_PREFIX}pam-u6 : 192.0.2.1" >"$access"
	login_ok ${ACCOUNT_PREFIX}pam-u6 'pam pw 6'
	run server_log
	assert_output --partial "${ACCOUNT_PREFIX}pam-u6: login failed: pam_acct_mgmt: Permission denied"
}

@test "pam_limits applies to the session; the session is closed by root when it ends" {
	sys_account ${ACCOUNT_PREFIX}pam-u7 'pam pw 7'
	limits="$BATS_TEST_TMPDIR/limits.conf"
	echo "${ACCOUNT_PREFIX}pam-u7 hard fsize 4242" >"$limits"
	unix_stack "session required pam_limits.so conf=$limits" \
		"session required pam_exec.so $BATS_TEST_TMPDIR/mark.sh"
	cat >"$BATS_TEST_TMPDIR/mark.sh" <<-EOF
	#!/bin/sh
	echo "\$PAM_TYPE \$PAM_USER \$PAM_RHOST \$PAM_TTY \$(id -u)" >>$BATS_TEST_TMPDIR/marks
	EOF
	chmod 755 "$BATS_TEST_TMPDIR/mark.sh"
	pam_conf ${ACCOUNT_PREFIX}pam-u7
	start_server
	hold ${ACCOUNT_PREFIX}pam-u7 'pam pw 7'
	run grep -E '^Max file size' "/proc/$PID/limits"
	assert_output --regexp '^Max file size +4343808 +4343808 +bytes'
	run awk '/^Uid:/ {print $2}' "/proc/$PID/status"
	assert_output "$(id -u ${ACCOUNT_PREFIX}pam-u7)"
	wait "$HELD"
	for _ in $(seq 100); do
		grep -q close_session "$BATS_TEST_TMPDIR/marks" && break
		sleep 0.05
	done
	run cat "$BATS_TEST_TMPDIR/marks"
	assert_output "open_session ${ACCOUNT_PREFIX}pam-u7 127.0.0.1 ftp 0
close_session ${ACCOUNT_PREFIX}pam-u7 127.0.0.1 ftp 0"
}

# A second factor as PAM modules ask for one: pam_cfpam_ask.so asks once
# more, with echo (on) or without (off). Built here, with libpam0g-dev.
ask_module() {
	cat >"$BATS_TEST_TMPDIR/ask.c" <<-'EOF'
	#include <string.h>
	#include <stdlib.h>
	#include <security/pam_modules.h>
	#include <security/pam_ext.h>
	int pam_sm_authenticate(pam_handle_t *h, int flags, int argc, const char **argv)
	{
		char *r = NULL;
		int style = argc > 0 && strcmp(argv[0], "on") == 0 ?
		    PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF;
		(void)flags;
		if (pam_prompt(h, style, &r, "Verification code: ") != PAM_SUCCESS || r == NULL)
			return PAM_AUTH_ERR;
		free(r);
		return PAM_SUCCESS;
	}
	int pam_sm_setcred(pam_handle_t *h, int flags, int argc, const char **argv)
	{
		(void)h; (void)flags; (void)argc; (void)argv;
		return PAM_SUCCESS;
	}
	EOF
	cc -shared -fPIC -o "$BATS_TEST_TMPDIR/pam_cfpam_ask.so" "$BATS_TEST_TMPDIR/ask.c" -lpam
}

@test "the conversation answers one password prompt: a second one, or one that echoes, fails; PAM's messages are logged" {
	sys_account ${ACCOUNT_PREFIX}pam-u11 'pam pw 11'
	ask_module
	pam_stack "auth optional pam_echo.so hello from PAM to %u" \
		"auth required pam_unix.so nodelay" \
		"auth required $BATS_TEST_TMPDIR/pam_cfpam_ask.so off" \
		"account required pam_unix.so"
	pam_conf ${ACCOUNT_PREFIX}pam-u11
	start_server
	login_bad ${ACCOUNT_PREFIX}pam-u11 'pam pw 11'
	# alone, an echoing prompt is refused as well
	pam_stack "auth required $BATS_TEST_TMPDIR/pam_cfpam_ask.so on" \
		"auth required pam_permit.so" "account required pam_unix.so"
	login_bad ${ACCOUNT_PREFIX}pam-u11 'pam pw 11'
	unix_stack "auth optional pam_echo.so hello from PAM to %u"
	login_ok ${ACCOUNT_PREFIX}pam-u11 'pam pw 11'
	run server_log
	assert_output --partial "${ACCOUNT_PREFIX}pam-u11: pam: hello from PAM to ${ACCOUNT_PREFIX}pam-u11"
	run grep -c "${ACCOUNT_PREFIX}pam-u11: login failed: pam_authenticate: .* (a module asked for more than the password)" "$SERVER_LOG"
	assert_output 2
}

@test "a PAM module that blocks is ended by login_timeout, and the session with it" {
	sys_account ${ACCOUNT_PREFIX}pam-u8 'pam pw 8'
	cat >"$BATS_TEST_TMPDIR/slow.sh" <<-EOF
	#!/bin/sh
	echo \$\$ >$BATS_TEST_TMPDIR/slow.pid
	exec sleep 30
	EOF
	chmod 755 "$BATS_TEST_TMPDIR/slow.sh"
	pam_stack "auth required pam_exec.so $BATS_TEST_TMPDIR/slow.sh" \
		"account required pam_permit.so"
	pam_conf ${ACCOUNT_PREFIX}pam-u8 "server:login_timeout = 1"
	start_server
	start=$(date +%s)
	run chat "USER ${ACCOUNT_PREFIX}pam-u8" "PASS pam pw 8" "QUIT"
	[ $(($(date +%s) - start)) -lt 8 ]
	refute_output --partial "230"
	wait_log "${ACCOUNT_PREFIX}pam-u8: the PAM check (pam_authenticate, pam_acct_mgmt) did not return within login_timeout (1 seconds); closing"
	wait_sessions_gone
}

@test "virtual users of pam_userdb run as guest_user in guest_root with %u; '/' and '.' names refused" {
	add_account ${ACCOUNT_PREFIX}pam-guest
	db="$BATS_TEST_TMPDIR/virt"
	printf 'vuser1\nvirtual pw 1\n.hidden\nvirtual pw 2\n' | db_load -T -t hash "$db.db"
	pam_stack "auth required pam_userdb.so db=$db" \
		"account required pam_userdb.so db=$db"
	mkdir -p "$ROOT/vuser1" "$ROOT/other"
	echo "vuser1's file" >"$ROOT/vuser1/mine.txt"
	echo "not vuser1's" >"$ROOT/other/theirs.txt"
	chown -R ${ACCOUNT_PREFIX}pam-guest: "$ROOT"
	all_users_conf "guest_user = ${ACCOUNT_PREFIX}pam-guest" "guest_root = $ROOT/%u"
	start_server
	run ftp_curl -u 'vuser1:virtual pw 1' mine.txt
	assert_success
	assert_output "vuser1's file"
	run ftp_curl -u 'vuser1:virtual pw 1' ../other/theirs.txt
	assert_failure
	hold vuser1 'virtual pw 1'
	run awk '/^Uid:/ {print $2}' "/proc/$PID/status"
	assert_output "$(id -u ${ACCOUNT_PREFIX}pam-guest)"
	wait "$HELD"
	login_bad vuser1 'virtual pw 2'
	login_bad .hidden 'virtual pw 2'
	login_bad 'a/b' 'x'
	run server_log
	assert_output --partial "vuser1: logged in as system user ${ACCOUNT_PREFIX}pam-guest, root $ROOT/vuser1"
	assert_output --partial ".hidden: login failed: not a virtual user's name (empty, '/' or a leading '.')"
	assert_output --partial "a/b: login failed: not a virtual user's name (empty, '/' or a leading '.')"
}

@test "without guest_user a name PAM accepts but no system account has is refused" {
	db="$BATS_TEST_TMPDIR/virt"
	printf 'vuser2\nvirtual pw 2\n' | db_load -T -t hash "$db.db"
	pam_stack "auth required pam_userdb.so db=$db" \
		"account required pam_userdb.so db=$db"
	all_users_conf
	start_server
	login_bad vuser2 'virtual pw 2'
	run server_log
	assert_output --partial "vuser2: login failed: unknown user (no system account, and no guest_user)"
}

@test "the shipped pam/cellftpd: a user in the ftpusers file is refused, another logs in" {
	sys_account ${ACCOUNT_PREFIX}pam-u9 'pam pw 9'
	add_account ${ACCOUNT_PREFIX}pam-u10 --shell /bin/sh
	echo "${ACCOUNT_PREFIX}pam-u10:pam pw 10" | chpasswd
	usermod -s /bin/sh ${ACCOUNT_PREFIX}pam-u9
	ftpusers="$BATS_TEST_TMPDIR/ftpusers"
	printf 'root\n%s\n' "${ACCOUNT_PREFIX}pam-u9" >"$ftpusers"
	sed "s|file=/etc/ftpusers|file=$ftpusers|" "$REPO/pam/cellftpd" >"$PAMFILE"
	grep -q "file=$ftpusers " "$PAMFILE"
	write_conf <<-EOF
	[server]
	log = stderr
	pam_service = $SERVICE
	deny_users_file = $BATS_TEST_TMPDIR/none
	[user ${ACCOUNT_PREFIX}pam-u9]
	system_login = pam
	root = $ROOT
	[user ${ACCOUNT_PREFIX}pam-u10]
	system_login = pam
	root = $ROOT
	EOF
	: >"$BATS_TEST_TMPDIR/none"
	start_server
	login_bad ${ACCOUNT_PREFIX}pam-u9 'pam pw 9'
	login_ok ${ACCOUNT_PREFIX}pam-u10 'pam pw 10'
	run server_log
	assert_output --partial "${ACCOUNT_PREFIX}pam-u9: login failed: pam_authenticate: Authentication failure"
}

@test "after a PAM login the session's memory holds neither the password nor the account's hash" {
	require_production_build
	sys_account ${ACCOUNT_PREFIX}pam-u12 'pam secret 12'
	hash=$(getent shadow ${ACCOUNT_PREFIX}pam-u12 | cut -d: -f2)
	unix_stack
	pam_conf ${ACCOUNT_PREFIX}pam-u12
	start_server
	hold ${ACCOUNT_PREFIX}pam-u12 'pam secret 12'
	sleep 0.3
	run memory_holds "$PID" "$(printf %s 'pam secret 12' | od -An -tx1 | tr -d ' \n')"
	assert_output "found 0"
	run memory_holds "$PID" "$(printf %s "${hash:20}" | od -An -tx1 | tr -d ' \n')"
	assert_output "found 0"
	wait "$HELD"
}

@test "cellftpd -t checks the PAM keys: guest_root's '%', guest_user's account and root, a missing service" {
	write_conf <<-EOF
	[server]
	all_users = yes
	system_auth = pam
	pam_service = cellftpd-test-none-$$
	guest_user = root
	guest_root = /srv/%d
	[user old]
	system_login = true
	system_user = nobody
	root = $ROOT
	[user bad]
	system_login = maybe
	root = $ROOT
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:4: warning: pam_service: no /etc/pam.d/cellftpd-test-none-$$, so PAM uses the service 'other' (on Debian: deny)"
	assert_line "$CONF:5: guest_user: 'root' is root (sessions never run as root)"
	assert_line "$CONF:6: guest_root: only %u (the name) and %% may follow a '%'"
	assert_line "$CONF:12: system_login: 'maybe' is not one of no, yes, pam"
	# "true" still means yes
	refute_output --partial "$CONF:7:"
	refute_output --partial "$CONF:8:"
	write_conf <<-EOF
	[server]
	all_users = yes
	system_auth = pam
	guest_user = nobody
	EOF
	run "$CELLFTPD" -t -c "$CONF"
	assert_failure 1
	assert_line "$CONF:4: guest_user needs guest_root (e.g. /srv/ftp/%u)"
}

@test "over FTPS a PAM login transfers through the relay and its session is closed at the end" {
	sys_account ${ACCOUNT_PREFIX}pam-u13 'pam pw 13'
	head -c 300000 /dev/urandom >"$ROOT/tls.bin"
	chown ${ACCOUNT_PREFIX}pam-u13: "$ROOT/tls.bin"
	cert="$BATS_TEST_TMPDIR/cert.pem"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 2 -subj "/CN=cellftpd test" -keyout "$cert" -out "$cert" 2>/dev/null
	cat >"$BATS_TEST_TMPDIR/mark.sh" <<-EOF
	#!/bin/sh
	echo "\$PAM_TYPE \$PAM_USER" >>$BATS_TEST_TMPDIR/marks
	EOF
	chmod 755 "$BATS_TEST_TMPDIR/mark.sh"
	unix_stack "session required pam_exec.so $BATS_TEST_TMPDIR/mark.sh"
	pam_conf ${ACCOUNT_PREFIX}pam-u13 "server:tls = explicit" "server:tls_certificate = $cert"
	start_server
	run ftp_curl --ssl-reqd -k -u "${ACCOUNT_PREFIX}pam-u13:pam pw 13" -o "$BATS_TEST_TMPDIR/got.bin" tls.bin
	assert_success
	assert_equal "$(checksum "$BATS_TEST_TMPDIR/got.bin")" "$(checksum "$ROOT/tls.bin")"
	for _ in $(seq 100); do
		grep -q close_session "$BATS_TEST_TMPDIR/marks" 2>/dev/null && break
		sleep 0.05
	done
	run cat "$BATS_TEST_TMPDIR/marks"
	assert_output "open_session ${ACCOUNT_PREFIX}pam-u13
close_session ${ACCOUNT_PREFIX}pam-u13"
	wait_sessions_gone
}
