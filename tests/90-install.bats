#!/usr/bin/env bats
# What an administrator installs: make install/uninstall, the systemd
# units of FTP (port 21) and implicit FTPS (port 990), verified and their
# exact command lines run, and the xinetd entries, run by the real xinetd.

load helper

REPO="$BATS_TEST_DIRNAME/.."

setup() {
	make_root
	echo "served through the unit's command line" >"$ROOT/f.txt"
	chmod a+r "$ROOT/f.txt"
}

# A self-signed certificate for 127.0.0.1 in $CERT, its key (mode 0600,
# as an administrator keeps it) in $KEY.
make_cert() {
	CERT="$BATS_TEST_TMPDIR/cert.pem"
	KEY="$BATS_TEST_TMPDIR/key.pem"
	(umask 077 && openssl req -x509 -newkey ec \
		-pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj "/CN=cellftpd test" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$KEY" -out "$CERT" 2>/dev/null)
	chmod 644 "$CERT"
}

# One file for port 21 (explicit) and, with -i, port 990 (implicit), as
# cellftpd.conf(5) shows it; anonymous must use TLS (require_tls = all).
write_tls_conf() {	# write_tls_conf [server lines...]
	make_cert
	write_conf <<-EOF
	[server]
	tls = explicit
	tls_certificate = $CERT
	tls_key = $KEY
	$(printf '%s\n' "$@")
	[user anonymous]
	root = $ROOT
	EOF
}

@test "make install puts everything where Debian looks, and keeps a configuration" {
	dest="$BATS_TEST_TMPDIR/dest"
	run make -s -C "$REPO" install DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc FAIL2BAN=yes
	assert_success
	run bash -c "cd '$dest' && find . -type f -printf '%p %m\n' | sort"
	assert_output "./etc/cellftpd.conf 600
./etc/fail2ban/filter.d/cellftpd.conf 644
./etc/fail2ban/jail.d/cellftpd.conf 644
./etc/logrotate.d/cellftpd 644
./etc/pam.d/cellftpd 644
./etc/xinetd.d/cellftpd 644
./etc/xinetd.d/cellftps 644
./usr/lib/systemd/system/cellftpd.socket 644
./usr/lib/systemd/system/cellftpd@.service 644
./usr/lib/systemd/system/cellftps.socket 644
./usr/lib/systemd/system/cellftps@.service 644
./usr/lib/sysusers.d/cellftpd.conf 644
./usr/lib/tmpfiles.d/cellftpd.conf 644
./usr/sbin/cellftpd 755
./usr/sbin/cellftpd-migrate 755
./usr/share/doc/cellftpd/examples/haproxy.cfg 644
./usr/share/man/man5/cellftpd.conf.5 644
./usr/share/man/man8/cellftpd-migrate.8 644
./usr/share/man/man8/cellftpd.8 644"
	run grep '^ExecStart=' "$dest/usr/lib/systemd/system/cellftpd@.service"
	assert_output "ExecStart=/usr/sbin/cellftpd -c /etc/cellftpd.conf"
	run grep '^ExecStart=' "$dest/usr/lib/systemd/system/cellftps@.service"
	assert_output "ExecStart=/usr/sbin/cellftpd -c /etc/cellftpd.conf -i"
	run grep 'server[[:space:]]*=' "$dest/etc/xinetd.d/cellftpd"
	assert_output --regexp 'server[[:space:]]+= /usr/sbin/cellftpd$'
	run grep -E '^[[:space:]]*(service|server|server_args)[[:space:]]' \
		"$dest/etc/xinetd.d/cellftps"
	assert_output --regexp '^service ftps
[[:space:]]+server[[:space:]]+= /usr/sbin/cellftpd
[[:space:]]+server_args[[:space:]]+= -c /etc/cellftpd.conf -i$'
	# the installed pages and entries name this installation's paths
	run grep -rl /usr/local "$dest"
	assert_output ""
	run grep -c '/usr/sbin/cellftpd' "$dest/usr/share/man/man8/cellftpd.8"
	assert_output 7
	run grep -E '^ftp stream tcp6? ' "$dest/usr/share/man/man8/cellftpd.8"
	assert_output "ftp stream tcp  nowait root /usr/sbin/cellftpd cellftpd
ftp stream tcp6 nowait root /usr/sbin/cellftpd cellftpd
ftp stream tcp nowait root /usr/sbin/cellftpd cellftpd"
	run grep -c '/usr/lib/systemd/system/cell' "$dest/usr/share/man/man8/cellftpd.8"
	assert_output 4
	run grep -F '/usr/share/doc/cellftpd/examples/haproxy.cfg' \
		"$dest/usr/share/man/man5/cellftpd.conf.5"
	assert_success
	run "$dest/usr/sbin/cellftpd" -V
	assert_output --regexp '^cellftpd [0-9.]+$'
	# an edited configuration, xinetd entry and PAM service survive a
	# second install
	echo "; mine" >>"$dest/etc/cellftpd.conf"
	sed -i 's/^\(\tdisable\t*= \)yes/\1no/' "$dest/etc/xinetd.d/cellftpd"
	echo "# mine" >>"$dest/etc/pam.d/cellftpd"
	make -s -C "$REPO" install DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc
	run tail -1 "$dest/etc/cellftpd.conf"
	assert_output "; mine"
	run grep -E '^[[:space:]]*disable' "$dest/etc/xinetd.d/cellftpd" "$dest/etc/xinetd.d/cellftps"
	assert_output --regexp "cellftpd:[[:space:]]+disable[[:space:]]+= no
.*cellftps:[[:space:]]+disable[[:space:]]+= yes$"
	run tail -1 "$dest/etc/pam.d/cellftpd"
	assert_output "# mine"
	# uninstall takes all but the configuration
	run make -s -C "$REPO" uninstall DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc
	assert_success
	run bash -c "cd '$dest' && find . -type f | sort"
	assert_output "./etc/cellftpd.conf"
}

@test "the installed units pass systemd-analyze verify" {
	dest="$BATS_TEST_TMPDIR/dest"
	make -s -C "$REPO" install DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc
	units="$dest/usr/lib/systemd/system"
	# the binary the units name, where systemd-analyze looks for it
	sed -i "s|^ExecStart=/usr/sbin/cellftpd|ExecStart=$dest/usr/sbin/cellftpd|" \
		"$units/cellftpd@.service" "$units/cellftps@.service"
	run env MANPATH="$dest/usr/share/man" systemd-analyze verify \
		"$units/cellftpd.socket" "$units/cellftpd@.service"
	assert_success
	assert_output ""
	run env MANPATH="$dest/usr/share/man" systemd-analyze verify \
		"$units/cellftps.socket" "$units/cellftps@.service"
	assert_success
	assert_output ""
	run grep -E '^(ListenStream|Accept)=' "$REPO/units/cellftpd.socket"
	assert_output "ListenStream=21
Accept=yes"
	run grep -E '^(ListenStream|Accept)=' "$REPO/units/cellftps.socket"
	assert_output "ListenStream=990
Accept=yes"
	run grep -E '^(StandardInput|StandardError)=' "$REPO/units/cellftpd@.service"
	assert_output "StandardInput=socket
StandardError=journal"
}

# The exposure systemd-analyze gave the service units when their sandbox
# was last tightened: it may fall, never rise.
EXPOSURE_MAX=2.8

@test "the service units' exposure score does not rise" {
	for unit in cellftpd@.service cellftps@.service; do
		run systemd-analyze security --offline=yes --no-pager "$REPO/units/$unit"
		assert_success
		score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' <<<"$output")
		[ -n "$score" ]
		echo "$unit: exposure $score (at most $EXPOSURE_MAX)"
		awk -v s="$score" -v m="$EXPOSURE_MAX" 'BEGIN { exit !(s <= m) }'
	done
}

@test "a session makes none of the calls the units' SystemCallFilter= denies" {
	require_root
	command -v strace
	SYSUSER=${ACCOUNT_PREFIX}i-trace
	add_account "$SYSUSER"
	chown -R "$SYSUSER:" "$ROOT"
	test_cert "$BATS_TEST_TMPDIR/tls"
	alice_conf "server:passive_ports = $((PASSIVE_BASE + 2000))-$((PASSIVE_BASE + 2999))" \
		"server:tls = explicit" "server:tls_certificate = $BATS_TEST_TMPDIR/tls/cert.pem" \
		"server:tls_key = $BATS_TEST_TMPDIR/tls/key.pem"
	local trace="$BATS_TEST_TMPDIR/trace"
	launch strace -f -qq -o "$trace" "$CELLFTPD" -c "$CONF"
	echo "up" >"$BATS_TEST_TMPDIR/up.txt"
	# plain and TLS: login, upload, listing, download
	run curl -sS --max-time 20 -u alice:pw -T "$BATS_TEST_TMPDIR/up.txt" \
		"ftp://127.0.0.1:$PORT/up.txt" \
		--next -u alice:pw "ftp://127.0.0.1:$PORT/" \
		--next -u alice:pw --ssl-reqd --cacert "$BATS_TEST_TMPDIR/tls/cert.pem" \
		"ftp://127.0.0.1:$PORT/f.txt"
	assert_success
	assert_line "served through the unit's command line"
	wait_sessions_gone
	denied=$(sed -n 's/^SystemCallFilter=~//p' "$REPO/units/cellftpd@.service")
	[ -n "$denied" ]
	grep -qx "SystemCallFilter=~$denied" "$REPO/units/cellftps@.service"
	# shellcheck disable=SC2086 # one word per group
	names=$(systemd-analyze syscall-filter --no-pager $denied | grep -Ev '^ *(#|@|$)' | tr -s ' \n' '\n')
	[ "$(wc -w <<<"$names")" -gt 30 ]
	used=$(sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$trace" | sort -u)
	# the trace holds the whole session: its root part, pre-login and login
	for call in chroot setresuid landlock_restrict_self accept4 sendfile; do
		grep -qx "$call" <<<"$used" || { echo "not traced: $call" >&2; false; }
	done
	# (a sanitizer build has no seccomp filter)
	sanitizer_build || grep -q 'prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER' "$trace"
	run comm -12 <(sort -u <<<"$names") <(echo "$used")
	assert_output ""
	run grep -c -- "--- SIGSYS" "$trace"
	assert_output 0
}

@test "the FTPS units have the limits and the sandbox of the FTP units" {
	# every setting but the comments, Description= and ExecStart=
	settings() {
		grep -Ev '^(#|$|Description=|ExecStart=)' "$REPO/units/$1"
	}
	run diff <(settings cellftpd.socket) <(settings cellftps.socket)
	assert_output "4c4
< ListenStream=21
---
> ListenStream=990"
	run diff <(settings cellftpd@.service) <(settings cellftps@.service)
	assert_success
	assert_output ""
	# the xinetd entries: the same but for the service and the -i
	run diff <(grep -v '^#' "$REPO/xinetd/cellftpd") \
		<(grep -v '^#' "$REPO/xinetd/cellftps")
	assert_output "1c1
< service ftp
---
> service ftps
10c10
< 	server_args	= -c /etc/cellftpd.conf
---
> 	server_args	= -c /etc/cellftpd.conf -i"
}

@test "the service unit's exact command line serves a login and a download" {
	cmd=$(sed -n 's/^ExecStart=//p' "$REPO/units/cellftpd@.service")
	write_conf <<-EOF
	[server]
	log = stderr
	[user anonymous]
	root = $ROOT
	EOF
	# the unit's words, with this tree's binary and configuration
	read -r -a argv <<<"${cmd//\/etc\/cellftpd.conf/$CONF}"
	[ "${argv[0]}" = /usr/local/sbin/cellftpd ]
	argv[0]=$CELLFTPD
	launch "${argv[@]}"
	run curl -sS "ftp://127.0.0.1:$PORT/f.txt"
	assert_success
	assert_output "served through the unit's command line"
}

@test "the FTPS unit's exact command line serves implicit TLS" {
	cmd=$(sed -n 's/^ExecStart=//p' "$REPO/units/cellftps@.service")
	write_tls_conf "log = stderr"
	read -r -a argv <<<"${cmd//\/etc\/cellftpd.conf/$CONF}"
	[ "${argv[0]}" = /usr/local/sbin/cellftpd ]
	argv[0]=$CELLFTPD
	launch "${argv[@]}"
	# ftps://: TLS from the first byte, and PROT P for the download
	run curl -sS --cacert "$CERT" "ftps://127.0.0.1:$PORT/f.txt"
	assert_success
	assert_output "served through the unit's command line"
	# the same file without -i is explicit: AUTH TLS after a plain start
	stop_server
	start_server
	run curl -sS --cacert "$CERT" --ssl-reqd "ftp://127.0.0.1:$PORT/f.txt"
	assert_success
	assert_output "served through the unit's command line"
}

# start_xinetd ENTRY SERVICE [ADDRESS]: the real xinetd with the shipped
# xinetd/ENTRY (service SERVICE), enabled, on a free $PORT of ADDRESS
# (default ::ffff:127.0.0.1: the IPv6 socket an IPv4 client of the
# shipped entry meets, on loopback), running this tree's binary with
# $CONF; XINETD_PID is set, its log is xinetd.msg.
start_xinetd() {
	PORT=$(free_port)
	sed -e "s/^service $2\$/service $1-test/" \
	    -e "s|/usr/local/sbin/cellftpd|$CELLFTPD|" \
	    -e "s|-c /etc/cellftpd.conf|-c $CONF|" \
	    -e "s|^\(\tdisable\t*= \)yes|\1no|" \
	    -e "s|^{|{\n\ttype\t\t= UNLISTED\n\tport\t\t= $PORT\n\tbind\t\t= ${3:-::ffff:127.0.0.1}|" \
	    "$REPO/xinetd/$1" >"$BATS_TEST_TMPDIR/xinetd.conf"
	xinetd -dontfork -filelog "$BATS_TEST_TMPDIR/xinetd.msg" \
		-f "$BATS_TEST_TMPDIR/xinetd.conf" &
	XINETD_PID=$!
	for _ in $(seq 100); do
		ss -Hltn "sport = :$PORT" | grep -q LISTEN && break
		sleep 0.05
	done
}

@test "the xinetd entries ship disabled, for IPv6 and IPv4" {
	for entry in cellftpd cellftps; do
		run grep -E '^[[:space:]]*(disable|flags)[[:space:]]' "$REPO/xinetd/$entry"
		assert_output --regexp '^[[:space:]]+disable[[:space:]]+= yes
[[:space:]]+flags[[:space:]]+= IPv6$'
	done
}

@test "the real xinetd runs the shipped entry: IPv4 and IPv6 logins and downloads" {
	require_root
	command -v xinetd
	write_conf <<-EOF
	[server]
	log = syslog
	passive_ports = $((PASSIVE_BASE + 2000))-$((PASSIVE_BASE + 2999))
	[user anonymous]
	root = $ROOT
	EOF
	# an IPv4 client on the entry's IPv6 socket: EPSV, PASV and PORT
	start_xinetd cellftpd ftp
	run curl -sS --max-time 20 "ftp://127.0.0.1:$PORT/f.txt" \
		--next --disable-epsv "ftp://127.0.0.1:$PORT/f.txt" \
		--next -P 127.0.0.1 "ftp://127.0.0.1:$PORT/f.txt"
	kill "$XINETD_PID"
	wait "$XINETD_PID" || true
	assert_success
	assert_output "served through the unit's command line
served through the unit's command line
served through the unit's command line"
	run cat "$BATS_TEST_TMPDIR/xinetd.msg"
	assert_output --partial "Started working: 1 available service"
	refute_output --partial "ERROR"
	# an IPv6 client
	start_xinetd cellftpd ftp ::1
	run curl -sS --max-time 20 "ftp://[::1]:$PORT/f.txt" \
		--next -P ::1 "ftp://[::1]:$PORT/f.txt"
	kill "$XINETD_PID"
	wait "$XINETD_PID" || true
	assert_success
	assert_output "served through the unit's command line
served through the unit's command line"
}

@test "the real xinetd runs the shipped FTPS entry: implicit TLS download" {
	require_root
	command -v xinetd
	write_tls_conf "log = syslog" "passive_ports = $((PASSIVE_BASE + 2000))-$((PASSIVE_BASE + 2999))"
	start_xinetd cellftps ftps
	run curl -sS --max-time 20 --cacert "$CERT" "ftps://127.0.0.1:$PORT/f.txt"
	kill "$XINETD_PID"
	wait "$XINETD_PID" || true
	assert_success
	assert_output "served through the unit's command line"
	run cat "$BATS_TEST_TMPDIR/xinetd.msg"
	assert_output --partial "Started working: 1 available service"
	refute_output --partial "ERROR"
}
