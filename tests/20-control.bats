#!/usr/bin/env bats
# The control connection: line reading, Telnet, limits, the command
# table's checks and the informational commands.

load helper

setup() {
	make_root
	write_conf <<-EOF
	[server]
	log = stderr
	idle_timeout = ${IDLE:-30}
	[user alice]
	password = pw
	root = $ROOT
	EOF
	start_server
}

login=("USER alice" "PASS pw")

@test "the greeting is 220 with the default banner" {
	run chat
	assert_output "220 FTP server ready"
}

@test "before login only USER PASS QUIT FEAT HELP SYST NOOP HOST AUTH answer" {
	for cmd in "CWD /" "PWD" "LIST" "RETR x" "STOR x" "MKD x" "TYPE I" \
	    "SITE HELP" "STAT" "OPTS UTF8 ON" "ACCT x" "REIN" "PASV" "SIZE x" \
	    "MDTM x" "DELE x" "RNFR x" "MODE S" "STRU F" "ALLO 10" "CDUP" "XPWD"; do
		run chat "$cmd"
		assert_line --index 1 "530 Please log in with USER and PASS first"
	done
	run chat "NOOP" "SYST" "HOST example.org" "QUIT"
	assert_output "220 FTP server ready
200 NOOP ok
215 UNIX Type: L8
220 Host accepted
221 Goodbye"
}

@test "unknown commands are 500 and the session goes on" {
	run chat "FOO" "XYZZYXYZZY bar" "NOOP"
	assert_output "220 FTP server ready
500 Unknown command FOO
500 Unknown command
200 NOOP ok"
}

@test "verbs are case-insensitive" {
	run chat "noop" "sYsT"
	assert_line --index 1 "200 NOOP ok"
	assert_line --index 2 "215 UNIX Type: L8"
}

@test "a missing or extra argument is 501" {
	run chat "${login[@]}" "MKD" "NOOP now" "PWD x" "USER" "PASS again"
	assert_line --index 3 "501 MKD needs an argument"
	assert_line --index 4 "501 NOOP takes no argument"
	assert_line --index 5 "501 PWD takes no argument"
	assert_line --index 6 "501 USER needs an argument"
	assert_line --index 7 "503 Already logged in"
}

@test "bare LF ends a line as CR LF does" {
	run chat "raw:NOOP\n" "replies:1" "raw:SYST\r\n" "replies:1"
	assert_line --index 1 "200 NOOP ok"
	assert_line --index 2 "215 UNIX Type: L8"
}

@test "Telnet IAC sequences are removed, IAC IAC is a 0xff byte" {
	run chat "raw:NO\xff\xf4\xff\xf2OP\r\n" "replies:1" \
		"raw:\xff\xfb\x01SY\xff\xfd\x03ST\r\n" "replies:1"
	assert_line --index 1 "200 NOOP ok"
	assert_line --index 2 "215 UNIX Type: L8"
	run chat "${login[@]}" "raw:MKD caf\xff\xff\r\n" "replies:1"
	assert_line --index 3 "550 Permission denied: MKD is not allowed for this account"
}

@test "an over-long line is 500 and the session goes on" {
	long=$(head -c 20000 /dev/zero | tr '\0' 'A')
	run chat "NOOP $long" "NOOP"
	assert_output "220 FTP server ready
500 Command line too long (at most 8190 bytes)
200 NOOP ok"
}

@test "a NUL byte in a line is 501 and the session goes on" {
	run chat "raw:NO\x00OP\r\n" "replies:1" "NOOP"
	assert_line --index 1 "501 NUL byte in command"
	assert_line --index 2 "200 NOOP ok"
}

@test "pipelined commands are answered in order" {
	run chat "raw:NOOP\r\nSYST\r\nUSER alice\r\nPASS pw\r\nPWD\r\nQUIT\r\n" "replies:6"
	assert_output "220 FTP server ready
200 NOOP ok
215 UNIX Type: L8
331 Please specify the password
230 Login successful
257 \"/\" is the current directory
221 Goodbye"
	wait_sessions_gone
}

@test "an idle session gets 421 after idle_timeout and is closed" {
	stop_server
	IDLE=1 setup
	run chat "sleep:2" "replies:1" "close?"
	assert_output "220 FTP server ready
421 Timeout (1 seconds): closing control connection
CLOSED"
	run chat "${login[@]}" "sleep:2" "replies:1" "close?"
	assert_line --index 3 "421 Timeout (1 seconds): closing control connection"
	assert_line --index 4 "CLOSED"
	run server_log
	assert_output --partial "idle for 1 seconds; closing"
	wait_sessions_gone
}

@test "an HTTP request line closes the session at once, without a reply" {
	run chat "raw:GET / HTTP/1.1\r\nHost: x\r\n\r\n" "close?"
	assert_output "220 FTP server ready
CLOSED"
	run chat "raw:POST /cgi HTTP/1.0\r\n" "close?"
	assert_line --index 1 "CLOSED"
	run server_log
	assert_output --partial "HTTP request line on the FTP port; closing"
	wait_sessions_gone
}

@test "FEAT is an RFC 2389 multi-line reply" {
	run chat "FEAT"
	assert_output "220 FTP server ready
211-Features:
 EPRT
 EPSV
 HOST
 MDTM
 MFMT
 MLST type*;size*;modify*;perm*;unique*;UNIX.mode*;UNIX.owner*;UNIX.group*;
 UTF8
 REST STREAM
 SIZE
 TVFS
211 End"
}

@test "HELP lists the commands; HELP CMD answers for one" {
	run chat "HELP" "HELP cwd" "HELP BOGUS"
	assert_line --index 1 "214-The following commands are recognized."
	assert_line --regexp "^ ABOR ACCT ALLO APPE AUTH CCC CDUP CWD"
	assert_line "214 Help OK"
	assert_line "214 CWD is understood"
	assert_line "502 Unknown command BOGUS"
}

@test "STAT shows the session's state" {
	run chat "${login[@]}" "TYPE I" "STAT"
	assert_line --index 4 "211-FTP server status:"
	assert_line " Connected to 127.0.0.1"
	assert_line " Logged in as alice"
	assert_line " TYPE: BINARY, STRUcture: File, MODE: Stream"
	assert_line " Session timeout in seconds is 30"
	assert_line "211 End of status"
}

@test "TYPE, MODE, STRU and ALLO" {
	run chat "${login[@]}" "TYPE A" "TYPE I" "TYPE L 8" "TYPE A N" "TYPE E" "TYPE X" \
		"MODE S" "MODE B" "MODE Q" "STRU F" "STRU R" "STRU Q" "ALLO 1000"
	assert_output "220 FTP server ready
331 Please specify the password
230 Login successful
200 Switching to ASCII mode
200 Switching to Binary mode
200 Switching to Binary mode
200 Switching to ASCII mode
504 Type E not supported; use A or I
501 Unknown type X
200 Mode set to Stream
504 Only Stream mode is supported
501 Unknown mode Q
200 Structure set to File
504 Only File structure is supported
501 Unknown structure Q
202 No storage allocation necessary"
}

@test "HOST before USER is accepted, after USER it is 503, garbage 501" {
	run chat "HOST ftp.example.org" "HOST [::1]" "HOST bad/name" "USER alice" \
		"HOST ftp.example.org"
	assert_output "220 FTP server ready
220 Host accepted
220 Host accepted
501 Not a valid host name
331 Please specify the password
503 HOST must come before USER"
}

@test "OPTS UTF8 is accepted, other options are 501" {
	run chat "${login[@]}" "OPTS UTF8 ON" "OPTS UTF8 OFF" "OPTS FOO BAR"
	assert_line --index 3 "200 UTF8 mode on: names are sent as they are stored"
	assert_line --index 4 "200 UTF8 mode off: names are still sent as they are stored"
	assert_line --index 5 "501 Option not understood"
}

@test "REIN after login says why it is not available" {
	run chat "${login[@]}" "REIN" "PWD"
	assert_line --index 3 "502 REIN is not available after login; QUIT and reconnect to log in as another user"
	assert_line --index 4 "257 \"/\" is the current directory"
}

@test "QUIT answers 221, closes, and leaves no process behind" {
	run chat "${login[@]}" "QUIT" "close?"
	assert_line --index 3 "221 Goodbye"
	assert_line --index 4 "CLOSED"
	wait_sessions_gone
	run server_log
	assert_output --partial "127.0.0.1 alice: logout: 0 files (0 bytes) down, 0 files (0 bytes) up"
}

@test "-d logs the dialogue with the password masked" {
	stop_server
	start_server -d
	run chat "USER alice" "PASS very-secret-pw" "NOOP"
	run server_log
	assert_output --partial "127.0.0.1 -: <- USER alice"
	assert_output --partial "<- PASS ****"
	assert_output --partial "-> 200 NOOP ok"
	refute_output --partial "very-secret-pw"
}

@test "IPv6: addresses come from the socket, EPSV and EPRT carry the data" {
	stop_server
	echo "over IPv6" >"$ROOT/six.txt"
	export LISTEN=::1
	start_server
	run chat "${login[@]}" "STAT" "PASV" "EPSV 1" "EPSV"
	assert_line " Connected to ::1"
	assert_line "522 PASV needs IPv4; use EPSV"
	assert_line "522 Network protocol not supported, use (2)"
	assert_line --regexp '^229 Entering Extended Passive Mode \(\|\|\|[0-9]+\|\)$'
	run curl -sS -g "ftp://alice:pw@[::1]:$PORT/six.txt"
	assert_output "over IPv6"
	run curl -sS -g --ftp-port ::1 "ftp://alice:pw@[::1]:$PORT/six.txt"
	assert_output "over IPv6"
	run server_log
	assert_output --regexp "::1 -: connect to ::1 port $PORT"
}
