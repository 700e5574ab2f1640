# Shared by every tests/*.bats: a real cellftpd behind systemd's own
# launcher on a free 127.0.0.1 port, with its own tree and configuration.
#
#   setup:     make_root; write_conf <<EOF ... EOF; start_server
#   dialogue:  chat "USER x" "PASS y" ...   (tests/ftpchat.py)
#   teardown:  stop_server (called by the default teardown below)

bats_load_library bats-support
bats_load_library bats-assert

CELLFTPD="${CELLFTPD:-$BATS_TEST_DIRNAME/../cellftpd}"
FTPCHAT="$BATS_TEST_DIRNAME/ftpchat.py"

# What a run takes of the host, so that two runs can share one (make
# check CHECK_PORTS=... CHECK_PASSIVE_PORTS=... CHECK_ACCOUNT_PREFIX=...):
#   CHECK_PORTS           the servers' control ports (free_port)
#   CHECK_PASSIVE_PORTS   the passive ranges, each file's at its offset
#                         from PASSIVE_BASE, the range's start; they
#                         take its first PASSIVE_SPAN ports
#   CHECK_ACCOUNT_PREFIX  the system accounts and groups the tests
#                         create: ${ACCOUNT_PREFIX}d-data, ...
CHECK_PORTS=${CHECK_PORTS:-20000-29999}
CHECK_PASSIVE_PORTS=${CHECK_PASSIVE_PORTS:-50000-59999}
PASSIVE_SPAN=8400
export PASSIVE_BASE=${CHECK_PASSIVE_PORTS%-*}
ACCOUNT_PREFIX=${CHECK_ACCOUNT_PREFIX:-cf}
if ! [[ $CHECK_PORTS =~ ^[0-9]+-[0-9]+$ && $CHECK_PASSIVE_PORTS =~ ^[0-9]+-[0-9]+$ ]] ||
	((${CHECK_PORTS%-*} < 1024 || ${CHECK_PORTS#*-} > 65535 ||
	${CHECK_PORTS#*-} - ${CHECK_PORTS%-*} < 99 ||
	PASSIVE_BASE < 1024 || ${CHECK_PASSIVE_PORTS#*-} > 65535 ||
	${CHECK_PASSIVE_PORTS#*-} - PASSIVE_BASE + 1 < PASSIVE_SPAN)); then
	echo "CHECK_PORTS ($CHECK_PORTS) needs 100 ports and CHECK_PASSIVE_PORTS" \
		"($CHECK_PASSIVE_PORTS) $PASSIVE_SPAN, within 1024-65535" >&2
	exit 1
fi
if ! [[ $ACCOUNT_PREFIX =~ ^[a-z][a-z0-9]{0,15}$ ]]; then
	echo "CHECK_ACCOUNT_PREFIX ($ACCOUNT_PREFIX): a lower-case letter, then up to 15 letters or digits" >&2
	exit 1
fi

# The account the pre-login process runs as by default: "cellftpd"
# where that account exists (a package made it), else "nobody".
if getent passwd cellftpd >/dev/null; then PRELOGIN_USER=cellftpd; else PRELOGIN_USER=nobody; fi

# A directory the session user can enter (mktemp makes 0700 ones).
make_root() {
	ROOT="$BATS_TEST_TMPDIR/root"
	mkdir -p "$ROOT"
	chmod 755 "$BATS_TEST_TMPDIR" "$ROOT"
}

# The configuration comes on stdin; it lands in $CONF, mode 0644.
write_conf() {
	CONF="$BATS_TEST_TMPDIR/cellftpd.conf"
	cat >"$CONF"
	chmod 644 "$CONF"
}

# alice_conf [server:LINE | section:LINE | LINE]...: $CONF with [server]
# (log to stderr, umask 022, the server: lines, passive_ports
# $RANGE_LO-$RANGE_HI unless given), [user alice] (password pw, $SYSUSER,
# root $ROOT, the other lines, allow_write = yes unless given) and after it
# the section: lines, e.g. a [passive_addresses] section.
alice_conf() {
	local srv="" usr="" tail="" line
	for line in "$@"; do
		case $line in
		server:*) srv+="${line#server:}"$'\n' ;;
		section:*) tail+="${line#section:}"$'\n' ;;
		*) usr+="$line"$'\n' ;;
		esac
	done
	[[ "$srv" == *"passive_ports ="* ]] || srv+="passive_ports = $RANGE_LO-$RANGE_HI"$'\n'
	[[ "$usr" == *"allow_write ="* ]] || usr+="allow_write = yes"$'\n'
	write_conf <<-EOF
	[server]
	log = stderr
	umask = 022
	${srv}
	[user alice]
	password = pw
	system_user = $SYSUSER
	root = $ROOT
	${usr}
	${tail}
	EOF
}

# own_root: as root, the account $SYSUSER, owning $ROOT
own_root() {
	require_root
	add_account "$SYSUSER"
	make_root
	chown "$SYSUSER:" "$ROOT"
}

# serve [conf arguments...]: own_root, the configuration by the file's own
# conf function, the server (started with $SERVE_OPTS, e.g. -i). A file
# may define its own serve instead.
serve() {
	own_root
	conf "$@"
	# shellcheck disable=SC2086 # options, one word each
	start_server ${SERVE_OPTS:-}
}

# ---- files and transfers of alice's sessions ----

# mkfile PATH BYTES: random bytes at $ROOT/PATH, owned by the account.
mkfile() {
	mkdir -p "$(dirname "$ROOT/$1")"
	head -c "$2" /dev/urandom >"$ROOT/$1"
	chown -R "$SYSUSER:" "$ROOT"
}

# A local random file outside the root: local_file NAME BYTES
local_file() {
	head -c "$2" /dev/urandom >"$BATS_TEST_TMPDIR/$1"
}

checksum() {
	sha256sum <"$1" | cut -d' ' -f1
}

# The log has a successful transfer line: log_xfer upload|download PATH BYTES
log_xfer() {
	wait_log "alice: $1 $2, $3 bytes in "
	grep -qE -- "alice: $1 $2, $3 bytes in [0-9]+ ms\$" "$SERVER_LOG" || {
		echo "no successful '$1 $2, $3 bytes' in the log" >&2
		server_log >&2
		return 1
	}
}

no_temp_files() {
	run find "$ROOT" -name '.cellftpd-upload*'
	assert_output ""
}

# The session's processes, parent first: "PID UID" lines.
session_tree() {
	local top
	top=$(sessions | head -1)
	[ -n "$top" ] || return 1
	echo "$top $(awk '/^Uid:/ {print $2}' "/proc/$top/status")"
	local kid
	for kid in $(pgrep -P "$top"); do
		echo "$kid $(awk '/^Uid:/ {print $2}' "/proc/$kid/status")"
	done
}

# wait_session_tree: session_tree once the session has its two processes
# (up to 2 s)
wait_session_tree() {
	for _ in $(seq 40); do
		[ "$(session_tree 2>/dev/null | wc -l)" -eq 2 ] && break
		sleep 0.05
	done
	session_tree
}

# assert_session_tree PARENT_UID CHILD_UID: the session has its two
# processes, running as these uids; PARENT and CHILD are their pids
assert_session_tree() {
	local parent_uid child_uid
	run wait_session_tree
	assert_equal "${#lines[@]}" 2
	read -r PARENT parent_uid <<<"${lines[0]}"
	read -r CHILD child_uid <<<"${lines[1]}"
	assert_equal "$parent_uid" "$1"
	assert_equal "$child_uid" "$2"
}

# test_cert DIR [SAN]: a throw-away self-signed certificate DIR/cert.pem
# and its key DIR/key.pem (mode 600), for SAN (default IP:127.0.0.1).
test_cert() {
	mkdir -p "$1"
	(umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 2 -subj "/CN=cellftpd test" -addext "subjectAltName=${2:-IP:127.0.0.1}" \
		-keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null) &&
		[ -s "$1/cert.pem" ] && [ -s "$1/key.pem" ]
}

# free_port: a port of CHECK_PORTS that nothing on 127.0.0.1 holds now
free_port() {
	python3 - "${CHECK_PORTS%-*}" "${CHECK_PORTS#*-}" <<-'PY'
	import random, socket, sys
	lo, hi = int(sys.argv[1]), int(sys.argv[2])
	for port in random.sample(range(lo, hi + 1), min(200, hi - lo + 1)):
	    s = socket.socket()
	    try:
	        s.bind(("127.0.0.1", port))
	    except OSError:
	        continue
	    finally:
	        s.close()
	    print(port)
	    break
	else:
	    sys.exit("no free port in %d-%d" % (lo, hi))
	PY
}

# start_server [cellftpd options...]: sets PORT, SERVER_PID, SERVER_LOG.
start_server() {
	launch "$CELLFTPD" -c "$CONF" "$@"
}

# launch PROGRAM [ARGS...]: any command line behind the launcher, on
# 127.0.0.1, or on [::1] when LISTEN=::1.
launch() {
	SERVER_LOG="$BATS_TEST_TMPDIR/server.log"
	local try
	for try in 1 2 3; do
		PORT=$(free_port)
		local addr="127.0.0.1:$PORT"
		[ "${LISTEN:-}" = "::1" ] && addr="[::1]:$PORT"
		systemd-socket-activate --accept --inetd -l "$addr" \
			"$@" 2>>"$SERVER_LOG" 3>&- &
		SERVER_PID=$!
		local i
		for i in $(seq 50); do
			if ss -Hltn "sport = :$PORT" | grep -q LISTEN; then
				return 0
			fi
			kill -0 "$SERVER_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null || true
	done
	echo "server did not start on 127.0.0.1:$PORT" >&2
	cat "$SERVER_LOG" >&2
	return 1
}

# Sessions still running under the launcher (pid list, empty if none).
sessions() {
	[ -n "${SERVER_PID:-}" ] && pgrep -P "$SERVER_PID" || true
}

# Waits up to 5 s for every session of this server to end.
wait_sessions_gone() {
	local i
	for i in $(seq 100); do
		[ -z "$(sessions)" ] && return 0
		sleep 0.05
	done
	echo "sessions left behind: $(sessions)" >&2
	return 1
}

stop_server() {
	if [ -n "${SERVER_PID:-}" ]; then
		local child
		for child in $(sessions); do
			kill "$child" 2>/dev/null
		done
		kill "$SERVER_PID" 2>/dev/null
		wait "$SERVER_PID" 2>/dev/null || true
		SERVER_PID=
	fi
	return 0
}

teardown() {
	stop_server
	if declare -F cleanup >/dev/null; then
		cleanup
	fi
}

# chat LINE...: the whole dialogue, one reply line per output line.
chat() {
	FTP_HOST="${LISTEN:-127.0.0.1}" python3 "$FTPCHAT" "$PORT" "$@"
}

# The server's log lines (log = stderr in test configurations).
server_log() {
	cat "$SERVER_LOG"
}

# Waits up to 5 s for TEXT in the server log.
wait_log() {
	local _
	for _ in $(seq 100); do
		grep -qF -- "$1" "$SERVER_LOG" && return 0
		sleep 0.05
	done
	echo "not in the log: $1" >&2
	server_log >&2
	return 1
}

# curl against the test server: ftp_curl [curl options] PATH
ftp_curl() {
	local path="${*: -1}"
	curl -sS --max-time 20 "${@:1:$#-1}" "ftp://127.0.0.1:$PORT/$path"
}

# Sanitizer builds (make check SANITIZE=1) leave out the seccomp filter,
# whose allow-list is for the server's calls, not the sanitizer runtime's,
# and their allocator keeps freed memory in quarantine on purpose.
sanitizer_build() {
	local conf="$BATS_TEST_TMPDIR/empty.conf"
	: >"$conf"
	chmod 600 "$conf"
	"$CELLFTPD" -t -c "$conf" | grep -q "not in this build"
}

# stop_background: end the clients a test started behind it (BG_PIDS)
stop_background() {
	local pid
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}

require_production_build() {
	if sanitizer_build; then
		skip "a sanitizer build has no seccomp filter and keeps freed memory"
	fi
}

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "needs root (creates system accounts or changes identity)"
	fi
}

# Test system accounts, removed again by remove_accounts.
TEST_ACCOUNTS=()
add_account() {	# add_account NAME [useradd options...]
	local name=$1
	shift
	userdel -r "$name" >/dev/null 2>&1 || true
	useradd --no-create-home --shell /usr/sbin/nologin "$@" "$name"
	TEST_ACCOUNTS+=("$name")
}

remove_accounts() {
	local name
	for name in "${TEST_ACCOUNTS[@]}"; do
		userdel "$name" >/dev/null 2>&1 || true
	done
	TEST_ACCOUNTS=()
}

# memory_holds PID HEX...: how many readable mappings of process PID hold
# any of the byte strings given in hex ("found N").
memory_holds() {
	python3 - "$@" <<-'PY'
	import re, sys
	pid, needles = sys.argv[1], [bytes.fromhex(h) for h in sys.argv[2:]]
	found = 0
	with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
	    for line in maps:
	        m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (r)", line)
	        if not m or "[vvar]" in line or "[vsyscall]" in line:
	            continue
	        start, end = int(m.group(1), 16), int(m.group(2), 16)
	        try:
	            mem.seek(start)
	            chunk = mem.read(end - start)
	        except OSError:
	            continue
	        found += any(n in chunk for n in needles)
	print("found", found)
	PY
}

# ns_private_dev_run: the start of a script that a test runs as
# "unshare --mount --propagation private -- sh SCRIPT $T ...": set -e,
# T=$1, /dev a tmpfs of its own with the machine's null, zero, urandom
# and random, and /run an empty tmpfs with /run/systemd/journal; the
# script goes on with its own listeners (a syslog socket on /dev/log,
# a journal socket, a journald) and nothing of the machine is touched.
ns_private_dev_run() {
	cat <<-'SH'
	set -e
	T=$1
	mkdir -p "$T/olddev"
	mount --bind /dev "$T/olddev"
	mount -t tmpfs -o mode=755 tmpfs /dev
	for n in null zero urandom random; do
		touch "/dev/$n"
		mount --bind "$T/olddev/$n" "/dev/$n"
	done
	mount -t tmpfs -o mode=755 tmpfs /run
	mkdir -p /run/systemd/journal
	SH
}
