#!/usr/bin/env bats
# Commands on names (PWD CWD CDUP MKD RMD DELE RNFR RNTO SIZE MDTM MFMT
# SITE) and the confinement of every path to the user's root: replies and
# what ends up on disk, inside and outside the root.

load helper

SYSUSER=${ACCOUNT_PREFIX}p-files

cleanup() {
	remove_accounts
}

# writer [KEY = VALUE...]: as root, a session account owning $ROOT and
# [user alice] (password pw) with allow_write = yes unless given; the
# extra lines go into the [user alice] section. Starts the server.
writer() {
	require_root
	add_account "$SYSUSER"
	make_root
	chown "$SYSUSER:" "$ROOT"
	local extra=""
	local line
	for line in "$@"; do
		extra+="$line"$'\n'
	done
	if [[ "$extra" != *"allow_write ="* ]]; then
		extra+="allow_write = yes"$'\n'
	fi
	write_conf <<-EOF
	[server]
	log = stderr
	umask = 022
	[user alice]
	password = pw
	system_user = $SYSUSER
	root = $ROOT
	${extra}
	EOF
	start_server
}

# reader [KEY = VALUE...]: [user alice] read-only, no system_user (the
# session runs as nobody under root, else as the caller); the tree must be
# world-readable. Starts the server.
reader() {
	make_root
	local extra=""
	local line
	for line in "$@"; do
		extra+="$line"$'\n'
	done
	write_conf <<-EOF
	[server]
	log = stderr
	[user alice]
	password = pw
	root = $ROOT
	${extra}
	EOF
	start_server
}

# ftp CMD...: logs in as alice, sends every CMD, then QUIT. The reply to
# the Nth CMD is ${lines[N+2]} (as long as all replies are one line).
# Checks the login, the goodbye and that the session process is gone.
ftp() {
	run chat "USER alice" "PASS pw" "$@" "QUIT"
	assert_line --index 1 "331 Please specify the password"
	assert_line --index 2 "230 Login successful"
	assert_equal "${lines[${#lines[@]} - 1]}" "221 Goodbye"
	wait_sessions_gone
}

# reply N: the reply line to the Nth command of the last ftp call
reply_to() {
	echo "${lines[$1 + 2]}"
}

# An account-writable tree outside the root, reachable by the session
# user if confinement failed: $OUT with decoy files, and the path from
# the top of the root's grandparent's parent down to it.
outside_tree() {
	OUT="$BATS_TEST_TMPDIR/outside"
	mkdir -p "$OUT/sub"
	echo "outside, keep me" >"$OUT/decoy"
	echo "outside, keep me too" >"$OUT/sub/somefile"
	chmod 644 "$OUT/decoy" "$OUT/sub/somefile"
	touch -d '2001-01-01 00:00:00 UTC' "$OUT/decoy"
	chown -R "$SYSUSER:" "$OUT"
	chmod 755 "$OUT"
	# bats makes its run directory 0700; let the session user through it
	# so that a link to $OUT would really work if it were followed
	chmod o+x "$BATS_RUN_TMPDIR"
	OUT_STATE=$(find "$OUT" -printf '%p %m %U %s %T@\n' | sort)
}

assert_outside_intact() {
	assert_equal "$(find "$OUT" -printf '%p %m %U %s %T@\n' | sort)" "$OUT_STATE"
	assert_equal "$(cat "$OUT/decoy")" "outside, keep me"
}

# The server runs in a local time zone far from UTC (UTC+14), so that
# times taken or given as local ones show. The launcher passes no
# environment to the server, so a wrapper sets TZ.
far_time_zone() {
	local real=$CELLFTPD
	CELLFTPD="$BATS_TEST_TMPDIR/cellftpd-tz"
	printf '#!/bin/sh\nTZ=Pacific/Kiritimati exec "%s" "$@"\n' "$real" >"$CELLFTPD"
	chmod 755 "$CELLFTPD"
}

tree_state() {
	find "$ROOT" -printf '%p %y %m %U %s %T@\n' | sort
}

# ---- the issue's "Done when" ----

@test "MKD new, ../../escape and /tmp/x create inside the root only" {
	writer
	# whatever /tmp/x and /escape are on this machine, they stay as they are
	tmpx_before=$(stat -c '%i %Y' /tmp/x 2>/dev/null || echo absent)
	escape_before=$(stat -c '%i %Y' /escape 2>/dev/null || echo absent)
	before_tmp=$(ls -A "$BATS_TEST_TMPDIR")
	before_parent=$(ls -A "$(dirname "$BATS_TEST_TMPDIR")")
	ftp "MKD new" "MKD ../../escape" "MKD /tmp/x" "PWD"
	assert_equal "$(reply_to 1)" '257 "/new" created'
	assert_equal "$(reply_to 2)" '257 "/escape" created'
	assert_equal "$(reply_to 3)" '550 /tmp/x: No such file or directory'
	assert_equal "$(reply_to 4)" '257 "/" is the current directory'
	[ -d "$ROOT/new" ]
	[ -d "$ROOT/escape" ]
	assert_equal "$(ls -A "$ROOT")" "$(printf 'escape\nnew')"
	assert_equal "$(stat -c %U "$ROOT/new")" "$SYSUSER"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR")" "$before_tmp"
	assert_equal "$(ls -A "$(dirname "$BATS_TEST_TMPDIR")")" "$before_parent"
	assert_equal "$(stat -c '%i %Y' /tmp/x 2>/dev/null || echo absent)" "$tmpx_before"
	assert_equal "$(stat -c '%i %Y' /escape 2>/dev/null || echo absent)" "$escape_before"
	[ ! -e "$BATS_TEST_TMPDIR/escape" ]
}

# ---- PWD, CWD and friends ----

@test "PWD and XPWD quote the directory, doubling \"" {
	writer
	ftp 'MKD a"b' 'CWD a"b' "PWD" "XPWD" 'MKD "q"' "CWD \"q\"" "PWD"
	assert_equal "$(reply_to 1)" '257 "/a""b" created'
	assert_equal "$(reply_to 2)" '250 Directory changed to /a"b'
	assert_equal "$(reply_to 3)" '257 "/a""b" is the current directory'
	assert_equal "$(reply_to 4)" '257 "/a""b" is the current directory'
	assert_equal "$(reply_to 5)" '257 "/a""b/""q""" created'
	assert_equal "$(reply_to 7)" '257 "/a""b/""q""" is the current directory'
	[ -d "$ROOT/a\"b/\"q\"" ]
}

@test "CWD, XCWD, CDUP, XCUP; CWD alone and CWD ~ return home" {
	reader "home = /incoming"
	mkdir -p "$ROOT/incoming/sub" "$ROOT/pub"
	echo hi >"$ROOT/pub/file.txt"
	chmod -R a+rX "$ROOT"
	ftp "PWD" "CWD /pub" "PWD" "CWD" "PWD" "XCWD /pub" "CWD ~" "XPWD" \
		"CDUP" "PWD" "XCWD incoming/sub" "XCUP" "PWD" "CWD " "PWD"
	assert_equal "$(reply_to 1)" '257 "/incoming" is the current directory'
	assert_equal "$(reply_to 2)" '250 Directory changed to /pub'
	assert_equal "$(reply_to 3)" '257 "/pub" is the current directory'
	assert_equal "$(reply_to 4)" '250 Directory changed to /incoming'
	assert_equal "$(reply_to 5)" '257 "/incoming" is the current directory'
	assert_equal "$(reply_to 6)" '250 Directory changed to /pub'
	assert_equal "$(reply_to 7)" '250 Directory changed to /incoming'
	assert_equal "$(reply_to 8)" '257 "/incoming" is the current directory'
	assert_equal "$(reply_to 9)" '250 Directory changed to /'
	assert_equal "$(reply_to 10)" '257 "/" is the current directory'
	assert_equal "$(reply_to 11)" '250 Directory changed to /incoming/sub'
	assert_equal "$(reply_to 12)" '250 Directory changed to /incoming'
	assert_equal "$(reply_to 13)" '257 "/incoming" is the current directory'
	# "CWD " with nothing after it is CWD without argument too
	assert_equal "$(reply_to 14)" '250 Directory changed to /incoming'
}

@test "CWD into a file or a missing directory is 550; CWD .. at / stays at /" {
	reader
	mkdir -p "$ROOT/pub"
	echo hi >"$ROOT/pub/file.txt"
	chmod -R a+rX "$ROOT"
	ftp "CWD pub/file.txt" "PWD" "CWD nothere" "CWD /pub/nothere/.." "PWD" \
		"CWD .." "PWD" "CDUP" "PWD" "CWD ../../.." "PWD" "CWD pub" "CDUP" "CDUP" "PWD"
	assert_equal "$(reply_to 1)" '550 /pub/file.txt: Not a directory'
	assert_equal "$(reply_to 2)" '257 "/" is the current directory'
	assert_equal "$(reply_to 3)" '550 /nothere: No such file or directory'
	# lexically /pub/nothere/.. is /pub, which exists
	assert_equal "$(reply_to 4)" '250 Directory changed to /pub'
	assert_equal "$(reply_to 5)" '257 "/pub" is the current directory'
	assert_equal "$(reply_to 6)" '250 Directory changed to /'
	assert_equal "$(reply_to 7)" '257 "/" is the current directory'
	assert_equal "$(reply_to 8)" '250 Directory changed to /'
	assert_equal "$(reply_to 9)" '257 "/" is the current directory'
	assert_equal "$(reply_to 10)" '250 Directory changed to /'
	assert_equal "$(reply_to 11)" '257 "/" is the current directory'
	assert_equal "$(reply_to 12)" '250 Directory changed to /pub'
	assert_equal "$(reply_to 13)" '250 Directory changed to /'
	assert_equal "$(reply_to 14)" '250 Directory changed to /'
	assert_equal "$(reply_to 15)" '257 "/" is the current directory'
}

@test "CWD into a directory without x permission is 550" {
	writer
	mkdir "$ROOT/closed" "$ROOT/open"
	chown "$SYSUSER:" "$ROOT/closed" "$ROOT/open"
	chmod 600 "$ROOT/closed"
	ftp "CWD closed" "PWD" "CWD open" "PWD"
	assert_equal "$(reply_to 1)" '550 /closed: Permission denied'
	assert_equal "$(reply_to 2)" '257 "/" is the current directory'
	assert_equal "$(reply_to 3)" '250 Directory changed to /open'
	assert_equal "$(reply_to 4)" '257 "/open" is the current directory'
}

# ---- creating and removing ----

@test "MKD, XMKD, RMD, XRMD and DELE change the tree" {
	writer
	mkdir "$ROOT/full"
	touch "$ROOT/full/x" "$ROOT/file" "$ROOT/file2"
	chown -R "$SYSUSER:" "$ROOT"
	ftp "MKD d1" "XMKD d2" "MKD d1" "CWD d1" "MKD inner" "CDUP" \
		"RMD d1/inner" "RMD d1" "XRMD /d2" "RMD full" "RMD file" \
		"DELE file" "DELE full" "DELE nothere" "XMKD /" "RMD /" "RMD ." "DELE file2"
	assert_equal "$(reply_to 1)" '257 "/d1" created'
	assert_equal "$(reply_to 2)" '257 "/d2" created'
	assert_equal "$(reply_to 3)" '550 /d1: File exists'
	assert_equal "$(reply_to 5)" '257 "/d1/inner" created'
	assert_equal "$(reply_to 7)" '250 /d1/inner removed'
	assert_equal "$(reply_to 8)" '250 /d1 removed'
	assert_equal "$(reply_to 9)" '250 /d2 removed'
	assert_equal "$(reply_to 10)" '550 /full: Directory not empty'
	assert_equal "$(reply_to 11)" '550 /file: Not a directory'
	assert_equal "$(reply_to 12)" '250 /file removed'
	assert_equal "$(reply_to 13)" '550 /full: Is a directory'
	assert_equal "$(reply_to 14)" '550 /nothere: No such file or directory'
	assert_equal "$(reply_to 15)" '550 /: File exists'
	assert_equal "$(reply_to 16)" '550 /: the root directory cannot be changed'
	assert_equal "$(reply_to 17)" '550 /: the root directory cannot be changed'
	assert_equal "$(reply_to 18)" '250 /file2 removed'
	[ ! -e "$ROOT/d1" ]
	[ ! -e "$ROOT/d2" ]
	[ ! -e "$ROOT/file" ]
	[ ! -e "$ROOT/file2" ]
	[ -d "$ROOT/full" ]
	[ -f "$ROOT/full/x" ]
	[ -d "$ROOT" ]
}

@test "RNFR then RNTO renames; RNTO needs an RNFR right before it" {
	writer
	echo content >"$ROOT/old"
	echo other >"$ROOT/keep"
	mkdir "$ROOT/sub"
	chown -R "$SYSUSER:" "$ROOT"
	ftp "RNFR old" "RNTO new" "RNTO again" "RNFR nothere" "RNTO x" \
		"RNFR keep" "NOOP" "RNTO kept" "RNFR new" "RNTO sub/moved" \
		"RNFR sub" "RNTO /dir"
	assert_equal "$(reply_to 1)" '350 Ready for RNTO'
	assert_equal "$(reply_to 2)" '250 Renamed /old to /new'
	assert_equal "$(reply_to 3)" '503 RNFR required first'
	assert_equal "$(reply_to 4)" '550 /nothere: No such file or directory'
	assert_equal "$(reply_to 5)" '503 RNFR required first'
	assert_equal "$(reply_to 6)" '350 Ready for RNTO'
	assert_equal "$(reply_to 7)" '200 NOOP ok'
	assert_equal "$(reply_to 8)" '503 RNFR required first'
	assert_equal "$(reply_to 9)" '350 Ready for RNTO'
	assert_equal "$(reply_to 10)" '250 Renamed /new to /sub/moved'
	assert_equal "$(reply_to 11)" '350 Ready for RNTO'
	assert_equal "$(reply_to 12)" '250 Renamed /sub to /dir'
	[ ! -e "$ROOT/old" ]
	[ ! -e "$ROOT/new" ]
	[ ! -e "$ROOT/x" ]
	[ ! -e "$ROOT/kept" ]
	assert_equal "$(cat "$ROOT/dir/moved")" content
	assert_equal "$(cat "$ROOT/keep")" other
}

# ---- sizes and times ----

@test "SIZE answers the byte count in TYPE I, 550 for a directory and in TYPE A" {
	reader
	head -c 1234 /dev/zero >"$ROOT/file"
	: >"$ROOT/empty"
	mkdir "$ROOT/dir"
	chmod -R a+rX "$ROOT"
	ftp "TYPE I" "SIZE file" "SIZE /dir/../file" "SIZE empty" "SIZE dir" \
		"SIZE nothere" "TYPE A" "SIZE file" "TYPE I" "SIZE file"
	assert_equal "$(reply_to 1)" '200 Switching to Binary mode'
	assert_equal "$(reply_to 2)" '213 1234'
	assert_equal "$(reply_to 3)" '213 1234'
	assert_equal "$(reply_to 4)" '213 0'
	assert_equal "$(reply_to 5)" '550 /dir: not a plain file'
	assert_equal "$(reply_to 6)" '550 /nothere: No such file or directory'
	assert_equal "$(reply_to 7)" '200 Switching to ASCII mode'
	assert_equal "$(reply_to 8)" '550 SIZE is not answered in ASCII mode; send TYPE I first'
	assert_equal "$(reply_to 10)" '213 1234'
}

@test "MDTM answers the mtime as YYYYMMDDHHMMSS in UTC" {
	far_time_zone
	reader
	echo x >"$ROOT/file"
	echo y >"$ROOT/late"
	touch -d '2021-03-04 05:06:07 UTC' "$ROOT/file"
	touch -d '1999-12-31 23:59:59 UTC' "$ROOT/late"
	chmod -R a+rX "$ROOT"
	ftp "MDTM file" "MDTM /late" "MDTM nothere"
	assert_equal "$(reply_to 1)" '213 20210304050607'
	assert_equal "$(reply_to 2)" '213 19991231235959'
	assert_equal "$(reply_to 3)" '550 /nothere: No such file or directory'
}

@test "MFMT sets the mtime on disk and answers 213 Modify=" {
	far_time_zone
	writer
	echo x >"$ROOT/file"
	chown "$SYSUSER:" "$ROOT/file"
	ftp "MFMT 20200102030405 file" "MDTM file" "MFMT 2020 file" "MFMT 20200102030405" \
		"MFMT 20201332030405 file" "MFMT 20200102030405 nothere"
	assert_equal "$(reply_to 1)" '213 Modify=20200102030405; file'
	assert_equal "$(reply_to 2)" '213 20200102030405'
	assert_equal "$(reply_to 3)" '501 Bad time 2020: use YYYYMMDDHHMMSS (UTC)'
	assert_equal "$(reply_to 4)" '501 Usage: MFMT YYYYMMDDHHMMSS path'
	assert_equal "$(reply_to 5)" '501 Bad time 20201332030405: use YYYYMMDDHHMMSS (UTC)'
	assert_equal "$(reply_to 6)" '550 /nothere: No such file or directory'
	assert_equal "$(stat -c %Y "$ROOT/file")" "$(date -u -d '2020-01-02 03:04:05' +%s)"
	[ ! -e "$ROOT/nothere" ]
}

@test "MFMT and SITE UTIME refuse what MDTM cannot answer, and answer what was stored" {
	far_time_zone
	writer
	echo x >"$ROOT/file"
	chown "$SYSUSER:" "$ROOT/file"
	touch -d '2021-01-01 00:00:00 UTC' "$ROOT/file"
	ftp "MFMT 02600101000000 file" "MFMT 19691231235959 file" "MFMT 20250231000000 file" \
		"SITE UTIME 09991231000000 file" "MFMT 19700101000000 file" "MDTM file"
	assert_equal "$(reply_to 1)" '501 Bad time 02600101000000: use YYYYMMDDHHMMSS (UTC)'
	assert_equal "$(reply_to 2)" '501 Bad time 19691231235959: use YYYYMMDDHHMMSS (UTC)'
	assert_equal "$(reply_to 3)" '501 Bad time 20250231000000: use YYYYMMDDHHMMSS (UTC)'
	assert_equal "$(reply_to 4)" '501 Usage: SITE UTIME YYYYMMDDHHMMSS PATH'
	assert_equal "$(reply_to 5)" '213 Modify=19700101000000; file'
	assert_equal "$(reply_to 6)" '213 19700101000000'
	assert_equal "$(stat -c %Y "$ROOT/file")" 0
}

@test "SITE UTIME sets the mtime, in both forms" {
	far_time_zone
	writer
	echo x >"$ROOT/file"
	echo y >"$ROOT/other"
	echo z >"$ROOT/with space"
	chown "$SYSUSER:" "$ROOT"/*
	ftp "SITE UTIME 20200102030405 file" \
		"SITE UTIME other 20190101000000 20220203040506 20190101000000 UTC" \
		"SITE UTIME with space 20190101000000 20180101000000 20190101000000 UTC" \
		"SITE UTIME file" "SITE UTIME other 1 2 3 UTC" "SITE UTIME 20200102030405 nothere"
	assert_equal "$(reply_to 1)" '200 Modification time set'
	assert_equal "$(reply_to 2)" '200 Modification time set'
	assert_equal "$(reply_to 3)" '200 Modification time set'
	assert_equal "$(reply_to 4)" '501 Usage: SITE UTIME YYYYMMDDHHMMSS PATH'
	assert_equal "$(reply_to 5)" '501 Usage: SITE UTIME PATH ATIME MTIME CTIME UTC'
	assert_equal "$(reply_to 6)" '550 /nothere: No such file or directory'
	assert_equal "$(stat -c %Y "$ROOT/file")" "$(date -u -d '2020-01-02 03:04:05' +%s)"
	assert_equal "$(stat -c %Y "$ROOT/other")" "$(date -u -d '2022-02-03 04:05:06' +%s)"
	assert_equal "$(stat -c %Y "$ROOT/with space")" "$(date -u -d '2018-01-01 00:00:00' +%s)"
}

# ---- SITE ----

@test "SITE CHMOD changes permission bits; setuid, setgid and sticky are refused" {
	writer
	echo x >"$ROOT/file"
	mkdir "$ROOT/dir"
	chown "$SYSUSER:" "$ROOT/file" "$ROOT/dir"
	chmod 644 "$ROOT/file"
	chmod 755 "$ROOT/dir"
	ftp "SITE CHMOD 600 file" "SITE CHMOD 4755 file" "SITE CHMOD 2755 file" \
		"SITE CHMOD 1777 dir" "SITE CHMOD 711 /dir" "SITE CHMOD abc file" \
		"SITE CHMOD 644" "SITE CHMOD 644 nothere" "site chmod 0640 file"
	assert_equal "$(reply_to 1)" '200 SITE CHMOD command ok'
	refused='550 Only permission bits (up to 777) may be set; no setuid, setgid or sticky bits'
	assert_equal "$(reply_to 2)" "$refused"
	assert_equal "$(reply_to 3)" "$refused"
	assert_equal "$(reply_to 4)" "$refused"
	assert_equal "$(reply_to 5)" '200 SITE CHMOD command ok'
	assert_equal "$(reply_to 6)" '501 Bad mode abc: use octal, e.g. 644'
	assert_equal "$(reply_to 7)" '501 Usage: SITE CHMOD MODE PATH'
	assert_equal "$(reply_to 8)" '550 /nothere: No such file or directory'
	assert_equal "$(reply_to 9)" '200 SITE CHMOD command ok'
	assert_equal "$(stat -c %a "$ROOT/file")" 640
	assert_equal "$(stat -c %a "$ROOT/dir")" 711
}

@test "SITE CHMOD keeps the mode when refused" {
	writer
	echo x >"$ROOT/file"
	mkdir "$ROOT/dir"
	chown "$SYSUSER:" "$ROOT/file" "$ROOT/dir"
	chmod 600 "$ROOT/file"
	chmod 700 "$ROOT/dir"
	ftp "SITE CHMOD 4755 file" "SITE CHMOD 2755 file" "SITE CHMOD 1777 dir" "SITE CHMOD 7777 dir"
	for i in 1 2 3 4; do
		assert_equal "$(reply_to $i | cut -c1-4)" '550 '
	done
	assert_equal "$(stat -c %a "$ROOT/file")" 600
	assert_equal "$(stat -c %a "$ROOT/dir")" 700
}

@test "SITE UMASK shows the mask, refuses a looser one, applies a stricter one" {
	writer
	ftp "SITE UMASK" "MKD before" "SITE UMASK 002" "SITE UMASK 000" "SITE UMASK 077" \
		"SITE UMASK" "MKD after" "SITE UMASK 022" "SITE UMASK 9"
	assert_equal "$(reply_to 1)" '200 Your current UMASK is 022'
	assert_equal "$(reply_to 2)" '257 "/before" created'
	assert_equal "$(reply_to 3)" '550 The mask may only be made stricter than 022'
	assert_equal "$(reply_to 4)" '550 The mask may only be made stricter than 022'
	assert_equal "$(reply_to 5)" '200 UMASK set to 077'
	assert_equal "$(reply_to 6)" '200 Your current UMASK is 077'
	assert_equal "$(reply_to 7)" '257 "/after" created'
	# back to the configured mask is still allowed
	assert_equal "$(reply_to 8)" '200 UMASK set to 022'
	assert_equal "$(reply_to 9)" '501 Bad mask 9: use octal, e.g. 022'
	assert_equal "$(stat -c %a "$ROOT/before")" 755
	assert_equal "$(stat -c %a "$ROOT/after")" 700
}

@test "SITE HELP is a multi-line 214 reply; an unknown SITE command is 500" {
	reader
	run chat "USER alice" "PASS pw" "SITE HELP" "SITE FROB x" "QUIT"
	assert_line --index 3 '214-SITE commands:'
	assert_line --index 4 ' CHMOD MODE PATH'
	assert_line --index 5 ' UMASK [MASK]'
	assert_line --index 6 ' UTIME YYYYMMDDHHMMSS PATH'
	assert_line --index 7 ' HELP'
	assert_line --index 8 '214 Help OK'
	assert_line --index 9 '500 Unknown SITE command FROB'
	assert_line --index 10 '221 Goodbye'
	wait_sessions_gone
}

# ---- umask and ownership ----

@test "umask = 027: MKD makes mode 750, owned by the system_user" {
	writer "umask = 027"
	ftp "MKD d" "SITE UMASK" "MKD d/e"
	assert_equal "$(reply_to 1)" '257 "/d" created'
	assert_equal "$(reply_to 2)" '200 Your current UMASK is 027'
	assert_equal "$(stat -c %a "$ROOT/d")" 750
	assert_equal "$(stat -c %a "$ROOT/d/e")" 750
	assert_equal "$(stat -c %U "$ROOT/d")" "$SYSUSER"
	assert_equal "$(stat -c %G "$ROOT/d")" "$(id -gn "$SYSUSER")"
}

# ---- allow_write ----

write_commands=(
	"MKD newdir" "XMKD newdir2" "RMD dir" "XRMD dir" "DELE file" "RNFR file" "RNTO renamed"
	"MFMT 20200102030405 file" "SITE CHMOD 777 file" "SITE UTIME 20200102030405 file"
)

# refused_writes VALUE: every write command is refused, nothing changes
refused_writes() {
	writer "allow_write = $1"
	mkdir "$ROOT/dir"
	echo x >"$ROOT/file"
	chown "$SYSUSER:" "$ROOT/dir" "$ROOT/file"
	chmod 644 "$ROOT/file"
	touch -d '2010-01-01 00:00:00 UTC' "$ROOT/file"
	before=$(tree_state)
	ftp "${write_commands[@]}"
	local i verb
	for i in "${!write_commands[@]}"; do
		verb=${write_commands[$i]%% *}
		if [ "$verb" = SITE ]; then
			verb=$(echo "${write_commands[$i]}" | cut -d' ' -f1-2)
		fi
		assert_equal "$(reply_to "$((i + 1))")" \
			"550 Permission denied: $verb is not allowed for this account"
	done
	assert_equal "$(tree_state)" "$before"
}

@test "allow_write = no refuses MKD RMD DELE RNFR RNTO MFMT SITE CHMOD/UTIME" {
	refused_writes no
}

@test "allow_write = upload refuses them too" {
	refused_writes upload
}

@test "allow_write = yes allows the same commands" {
	writer "allow_write = yes"
	mkdir "$ROOT/dir"
	echo x >"$ROOT/file"
	chown "$SYSUSER:" "$ROOT/dir" "$ROOT/file"
	ftp "MKD newdir" "XMKD newdir2" "RMD dir" "XRMD newdir2" \
		"MFMT 20200102030405 file" "SITE CHMOD 600 file" \
		"SITE UTIME 20210102030405 file" "RNFR file" "RNTO renamed" "DELE renamed"
	for i in 1 2; do
		assert_equal "$(reply_to $i | cut -c1-4)" '257 '
	done
	for i in 3 4 10; do
		assert_equal "$(reply_to $i | cut -c1-4)" '250 '
	done
	assert_equal "$(reply_to 5 | cut -c1-4)" '213 '
	assert_equal "$(reply_to 6 | cut -c1-4)" '200 '
	assert_equal "$(reply_to 7 | cut -c1-4)" '200 '
	assert_equal "$(reply_to 8 | cut -c1-4)" '350 '
	assert_equal "$(reply_to 9 | cut -c1-4)" '250 '
	assert_equal "$(ls -A "$ROOT")" newdir
}

# ---- confinement ----

@test "confinement: .. /.. // . never leave the root" {
	writer
	mkdir -p "$ROOT/sub/inner"
	chown -R "$SYSUSER:" "$ROOT"
	outside_tree
	before_tmp=$(ls -A "$BATS_TEST_TMPDIR")
	ftp "CWD /.." "PWD" "CWD //sub//./inner/" "PWD" "CWD ../../../../.." "PWD" \
		"MKD ../../../x" "MKD /../../y" "MKD sub/../../z" "MKD ./sub/./w" "MKD ." \
		"DELE ../outside/decoy" "DELE ../../outside/decoy" "RNFR ../outside/decoy" \
		"SIZE ../outside/decoy" "MDTM ../outside/decoy" "SITE CHMOD 777 ../outside/decoy" \
		"CWD ../outside" "CWD sub" "RMD ../../outside/sub"
	assert_equal "$(reply_to 1)" '250 Directory changed to /'
	assert_equal "$(reply_to 2)" '257 "/" is the current directory'
	assert_equal "$(reply_to 3)" '250 Directory changed to /sub/inner'
	assert_equal "$(reply_to 4)" '257 "/sub/inner" is the current directory'
	assert_equal "$(reply_to 5)" '250 Directory changed to /'
	assert_equal "$(reply_to 6)" '257 "/" is the current directory'
	assert_equal "$(reply_to 7)" '257 "/x" created'
	assert_equal "$(reply_to 8)" '257 "/y" created'
	assert_equal "$(reply_to 9)" '257 "/z" created'
	assert_equal "$(reply_to 10)" '257 "/sub/w" created'
	assert_equal "$(reply_to 11)" '550 /: File exists'
	assert_equal "$(reply_to 12)" '550 /outside/decoy: No such file or directory'
	assert_equal "$(reply_to 13)" '550 /outside/decoy: No such file or directory'
	assert_equal "$(reply_to 14)" '550 /outside/decoy: No such file or directory'
	assert_equal "$(reply_to 15)" '550 /outside/decoy: No such file or directory'
	assert_equal "$(reply_to 16)" '550 /outside/decoy: No such file or directory'
	assert_equal "$(reply_to 17)" '550 /outside/decoy: No such file or directory'
	assert_equal "$(reply_to 18)" '550 /outside: No such file or directory'
	assert_equal "$(reply_to 19)" '250 Directory changed to /sub'
	assert_equal "$(reply_to 20)" '550 /outside/sub: No such file or directory'
	[ -d "$ROOT/x" ] && [ -d "$ROOT/y" ] && [ -d "$ROOT/z" ] && [ -d "$ROOT/sub/w" ]
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR")" "$before_tmp"
	assert_outside_intact
}

@test "confinement: backslashes and percent-encodings are taken literally" {
	writer
	outside_tree
	before_tmp=$(ls -A "$BATS_TEST_TMPDIR")
	ftp 'MKD ..\..\bs' 'CWD ..\..' 'MKD %2e%2e%2fpct' 'CWD %2e%2e' 'CWD %2e%2e%2f%2e%2e' \
		'DELE %2e%2e/outside/decoy' 'DELE ..\outside\decoy' 'CWD ..\..\bs' 'PWD'
	assert_equal "$(reply_to 1)" '257 "/..\..\bs" created'
	assert_equal "$(reply_to 2)" '550 /..\..: No such file or directory'
	assert_equal "$(reply_to 3)" '257 "/%2e%2e%2fpct" created'
	assert_equal "$(reply_to 4)" '550 /%2e%2e: No such file or directory'
	assert_equal "$(reply_to 5)" '550 /%2e%2e%2f%2e%2e: No such file or directory'
	assert_equal "$(reply_to 6)" '550 /%2e%2e/outside/decoy: No such file or directory'
	assert_equal "$(reply_to 7)" '550 /..\outside\decoy: No such file or directory'
	assert_equal "$(reply_to 8)" '250 Directory changed to /..\..\bs'
	assert_equal "$(reply_to 9)" '257 "/..\..\bs" is the current directory'
	[ -d "$ROOT/..\\..\\bs" ]
	[ -d "$ROOT/%2e%2e%2fpct" ]
	assert_equal "$(ls -A "$ROOT" | sort)" "$(printf '%s\n' '%2e%2e%2fpct' '..\..\bs' | sort)"
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR")" "$before_tmp"
	assert_outside_intact
}

@test "confinement: a path longer than 4096 bytes is 553 File name too long" {
	writer
	echo x >"$ROOT/a"
	chown "$SYSUSER:" "$ROOT/a"
	long=$(printf 'a/%.0s' $(seq 2100))	# 4200 bytes
	# 2047 components "/a/a.../a" make 4094 bytes: still a path
	fits=$(printf '/a%.0s' $(seq 2047))
	# 2048 make 4096 bytes, one more than fits with its NUL
	over=$(printf '/a%.0s' $(seq 2048))
	before=$(tree_state)
	ftp "CWD $long" "MKD $long" "DELE $long" "RNFR $long" "SIZE $long" "MDTM $long" \
		"SITE CHMOD 777 $long" "RMD $long" "MFMT 20200102030405 $long" \
		"RNFR a" "RNTO $long" "CWD $over" "CWD $fits" "PWD"
	for i in $(seq 9); do
		assert_equal "$(reply_to "$i")" '553 File name too long'
	done
	assert_equal "$(reply_to 10)" '350 Ready for RNTO'
	assert_equal "$(reply_to 11)" '553 File name too long'
	assert_equal "$(reply_to 12)" '553 File name too long'
	assert_equal "$(reply_to 13)" "550 $fits: Not a directory"
	assert_equal "$(reply_to 14)" '257 "/" is the current directory'
	assert_equal "$(tree_state)" "$before"
}

@test "confinement: a NUL byte in the command line is 501 and nothing happens" {
	writer
	echo x >"$ROOT/a"
	mkdir "$ROOT/d"
	chown "$SYSUSER:" "$ROOT/a" "$ROOT/d"
	chmod 644 "$ROOT/a"
	before=$(tree_state)
	run chat "USER alice" "PASS pw" \
		'raw:CWD d\x00b\r\n' "replies:1" "PWD" \
		'raw:MKD n\x00x\r\n' "replies:1" \
		'raw:DELE a\x00b\r\n' "replies:1" \
		'raw:RMD d\x00b\r\n' "replies:1" \
		'raw:RNFR a\x00b\r\n' "replies:1" "RNTO c" \
		'raw:SIZE a\x00b\r\n' "replies:1" \
		'raw:MDTM a\x00b\r\n' "replies:1" \
		'raw:SITE CHMOD 777 a\x00b\r\n' "replies:1" \
		'raw:\x00\r\n' "replies:1" "NOOP" "QUIT"
	assert_line --index 2 '230 Login successful'
	assert_line --index 3 '501 NUL byte in command'
	assert_line --index 4 '257 "/" is the current directory'
	assert_line --index 5 '501 NUL byte in command'
	assert_line --index 6 '501 NUL byte in command'
	assert_line --index 7 '501 NUL byte in command'
	assert_line --index 8 '501 NUL byte in command'
	assert_line --index 9 '503 RNFR required first'
	assert_line --index 10 '501 NUL byte in command'
	assert_line --index 11 '501 NUL byte in command'
	assert_line --index 12 '501 NUL byte in command'
	assert_line --index 13 '501 NUL byte in command'
	assert_line --index 14 '200 NOOP ok'
	assert_line --index 15 '221 Goodbye'
	wait_sessions_gone
	assert_equal "$(tree_state)" "$before"
}

# ---- symbolic links ----

# links: etc-link -> /etc, up -> ../../.. (the run directory above the
# test's), out-link -> $OUT, file-link -> $OUT/decoy
make_links() {
	echo inner >"$ROOT/inner.txt"
	ln -s /etc "$ROOT/etc-link"
	ln -s ../../.. "$ROOT/up"
	ln -s "$OUT" "$ROOT/out-link"
	ln -s "$OUT/decoy" "$ROOT/file-link"
	chown -h "$SYSUSER:" "$ROOT"/*
	# $OUT seen through up: run/test/N/outside
	VIA_UP="up/${BATS_TEST_TMPDIR#"$BATS_RUN_TMPDIR"/}/outside"
}

@test "symlinks = contain: links never lead outside the root" {
	writer
	outside_tree
	make_links
	before_tmp=$(ls -A "$BATS_TEST_TMPDIR")
	ftp "TYPE I" "CWD etc-link" "SIZE etc-link/passwd" "MDTM etc-link/passwd" \
		"SIZE $VIA_UP/decoy" "SIZE up/inner.txt" "CWD up" "PWD" "CDUP" \
		"SITE CHMOD 777 file-link" "SITE CHMOD 777 out-link/decoy" "MKD out-link/x" \
		"MKD $VIA_UP/y" "DELE $VIA_UP/sub/somefile" "DELE out-link/decoy" \
		"RNFR out-link/decoy" "RNFR inner.txt" "RNTO out-link/stolen" \
		"RMD out-link/sub" "SIZE file-link" "MFMT 20200102030405 out-link/decoy"
	assert_equal "$(reply_to 1)" '200 Switching to Binary mode'
	assert_equal "$(reply_to 2)" '550 /etc-link: No such file or directory'
	assert_equal "$(reply_to 3)" '550 /etc-link/passwd: No such file or directory'
	assert_equal "$(reply_to 4)" '550 /etc-link/passwd: No such file or directory'
	assert_equal "$(reply_to 5)" "550 /$VIA_UP/decoy: No such file or directory"
	# ../../.. from the root is the root itself
	assert_equal "$(reply_to 6)" '213 6'
	assert_equal "$(reply_to 7)" '250 Directory changed to /up'
	assert_equal "$(reply_to 8)" '257 "/up" is the current directory'
	assert_equal "$(reply_to 10)" '550 /file-link: is a symbolic link'
	assert_equal "$(reply_to 11)" '550 /out-link/decoy: No such file or directory'
	assert_equal "$(reply_to 12)" '550 /out-link/x: No such file or directory'
	assert_equal "$(reply_to 13)" "550 /$VIA_UP/y: No such file or directory"
	assert_equal "$(reply_to 14)" "550 /$VIA_UP/sub/somefile: No such file or directory"
	assert_equal "$(reply_to 15)" '550 /out-link/decoy: No such file or directory'
	assert_equal "$(reply_to 16)" '550 /out-link/decoy: No such file or directory'
	assert_equal "$(reply_to 17)" '350 Ready for RNTO'
	assert_equal "$(reply_to 18)" '550 /out-link/stolen: No such file or directory'
	assert_equal "$(reply_to 19)" '550 /out-link/sub: No such file or directory'
	assert_equal "$(reply_to 20)" '550 /file-link: No such file or directory'
	assert_equal "$(reply_to 21)" '550 /out-link/decoy: No such file or directory'
	[ -f "$ROOT/inner.txt" ]
	[ ! -e "$ROOT/x" ] && [ ! -e "$ROOT/y" ]
	assert_equal "$(ls -A "$BATS_TEST_TMPDIR")" "$before_tmp"
	assert_equal "$(stat -c %a /etc/passwd)" 644
	assert_outside_intact
}

@test "symlinks = contain: DELE and MFMT of a link act on the link, not its target" {
	writer
	outside_tree
	make_links
	ftp "MFMT 20200102030405 file-link" "DELE file-link" "RNFR out-link" "RNTO moved-link"
	assert_equal "$(reply_to 1)" '213 Modify=20200102030405; file-link'
	assert_equal "$(reply_to 2)" '250 /file-link removed'
	assert_equal "$(reply_to 3)" '350 Ready for RNTO'
	assert_equal "$(reply_to 4)" '250 Renamed /out-link to /moved-link'
	[ ! -L "$ROOT/file-link" ]
	[ -L "$ROOT/moved-link" ]
	assert_outside_intact
}

@test "symlinks = follow: a link to a directory outside is followed (Allegro)" {
	writer "symlinks = follow"
	outside_tree
	make_links
	ftp "TYPE I" "SIZE out-link/decoy" "SIZE $VIA_UP/decoy" "MDTM file-link" \
		"CWD out-link" "PWD" "SIZE decoy" "CWD .." "PWD" "CWD ../.." "PWD"
	size=$(stat -c %s "$OUT/decoy")
	assert_equal "$(reply_to 2)" "213 $size"
	assert_equal "$(reply_to 3)" "213 $size"
	assert_equal "$(reply_to 4)" '213 20010101000000'
	assert_equal "$(reply_to 5)" '250 Directory changed to /out-link'
	assert_equal "$(reply_to 6)" '257 "/out-link" is the current directory'
	assert_equal "$(reply_to 7)" "213 $size"
	# .. stays lexical: back to the root, not to the link target's parent
	assert_equal "$(reply_to 8)" '250 Directory changed to /'
	assert_equal "$(reply_to 10)" '250 Directory changed to /'
	assert_equal "$(reply_to 11)" '257 "/" is the current directory'
	assert_outside_intact
}

@test "a directory that may be entered but not read is 550 to LIST, NLST and MLSD" {
	require_root
	writer
	mkdir "$ROOT/dropbox"
	touch "$ROOT/dropbox/hidden"
	chown -R root: "$ROOT/dropbox"
	chmod 711 "$ROOT/dropbox"
	run python3 - "$PORT" <<-'PY'
	import ftplib, sys
	c = ftplib.FTP()
	c.connect("127.0.0.1", int(sys.argv[1]), timeout=20)
	c.login("alice", "pw")
	for cmd in ("LIST dropbox", "NLST dropbox", "MLSD dropbox"):
	    try:
	        c.retrlines(cmd, print)
	    except ftplib.error_perm as e:
	        print(e)
	print(c.cwd("dropbox"))
	PY
	assert_output "550 /dropbox: Permission denied
550 /dropbox: Permission denied
550 /dropbox: Permission denied
250 Directory changed to /dropbox"
}
