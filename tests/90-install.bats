#!/usr/bin/env bats
# What an administrator installs: make install/uninstall, the systemd
# units (verified, and their exact command line run), the xinetd entry
# (run by the real xinetd).

load helper

REPO="$BATS_TEST_DIRNAME/.."

setup() {
	make_root
	echo "served through the unit's command line" >"$ROOT/f.txt"
	chmod a+r "$ROOT/f.txt"
}

@test "make install puts everything where Debian looks, and keeps a configuration" {
	dest="$BATS_TEST_TMPDIR/dest"
	run make -s -C "$REPO" install DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc
	assert_success
	run bash -c "cd '$dest' && find . -type f -printf '%p %m\n' | sort"
	assert_output "./etc/cellftpd.conf 600
./etc/xinetd.d/cellftpd 644
./usr/lib/systemd/system/cellftpd.socket 644
./usr/lib/systemd/system/cellftpd@.service 644
./usr/sbin/cellftpd 755
./usr/share/man/man5/cellftpd.conf.5 644
./usr/share/man/man8/cellftpd.8 644"
	run grep '^ExecStart=' "$dest/usr/lib/systemd/system/cellftpd@.service"
	assert_output "ExecStart=/usr/sbin/cellftpd -c /etc/cellftpd.conf"
	run grep 'server[[:space:]]*=' "$dest/etc/xinetd.d/cellftpd"
	assert_output --regexp 'server[[:space:]]+= /usr/sbin/cellftpd$'
	run "$dest/usr/sbin/cellftpd" -V
	assert_output --regexp '^cellftpd [0-9.]+$'
	# an edited configuration survives a second install
	echo "; mine" >>"$dest/etc/cellftpd.conf"
	make -s -C "$REPO" install DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc
	run tail -1 "$dest/etc/cellftpd.conf"
	assert_output "; mine"
	# uninstall takes all but the configuration
	run make -s -C "$REPO" uninstall DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc
	assert_success
	run bash -c "cd '$dest' && find . -type f | sort"
	assert_output "./etc/cellftpd.conf"
}

@test "the installed units pass systemd-analyze verify" {
	dest="$BATS_TEST_TMPDIR/dest"
	make -s -C "$REPO" install DESTDIR="$dest" PREFIX=/usr SYSCONFDIR=/etc
	# the binary the unit names, where systemd-analyze looks for it
	sed -i "s|^ExecStart=/usr/sbin/cellftpd|ExecStart=$dest/usr/sbin/cellftpd|" \
		"$dest/usr/lib/systemd/system/cellftpd@.service"
	run env MANPATH="$dest/usr/share/man" systemd-analyze verify \
		"$dest/usr/lib/systemd/system/cellftpd.socket" \
		"$dest/usr/lib/systemd/system/cellftpd@.service"
	assert_success
	assert_output ""
	run grep -E '^(ListenStream|Accept)=' "$REPO/units/cellftpd.socket"
	assert_output "ListenStream=21
Accept=yes"
	run grep -E '^(StandardInput|StandardError)=' "$REPO/units/cellftpd@.service"
	assert_output "StandardInput=socket
StandardError=journal"
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

@test "the real xinetd runs the shipped entry: login and download" {
	require_root
	command -v xinetd
	write_conf <<-EOF
	[server]
	log = syslog
	passive_ports = 52000-52999
	[user anonymous]
	root = $ROOT
	EOF
	PORT=$(free_port)
	# the shipped entry, on a test port and this tree's binary
	sed -e 's/^service ftp$/service cellftpd-test/' \
	    -e "s|/usr/local/sbin/cellftpd|$CELLFTPD|" \
	    -e "s|-c /etc/cellftpd.conf|-c $CONF|" \
	    -e "s|^{|{\n\ttype\t\t= UNLISTED\n\tport\t\t= $PORT\n\tbind\t\t= 127.0.0.1|" \
	    "$REPO/xinetd/cellftpd" >"$BATS_TEST_TMPDIR/entry"
	cp "$BATS_TEST_TMPDIR/entry" "$BATS_TEST_TMPDIR/xinetd.conf"
	xinetd -dontfork -filelog "$BATS_TEST_TMPDIR/xinetd.msg" \
		-f "$BATS_TEST_TMPDIR/xinetd.conf" &
	XINETD_PID=$!
	for _ in $(seq 100); do
		ss -Hltn "sport = :$PORT" | grep -q LISTEN && break
		sleep 0.05
	done
	run curl -sS --max-time 20 "ftp://127.0.0.1:$PORT/f.txt"
	kill "$XINETD_PID"
	wait "$XINETD_PID" || true
	assert_success
	assert_output "served through the unit's command line"
	run cat "$BATS_TEST_TMPDIR/xinetd.msg"
	assert_output --partial "Started working: 1 available service"
	refute_output --partial "ERROR"
}
