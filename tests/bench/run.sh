#!/usr/bin/env bash
# make bench: cellftpd against vsftpd, side by side in one run.
#
# Both servers serve the same tree to anonymous users, each started per
# connection by systemd-socket-activate (vsftpd with listen=NO) inside
# `ftpbench reap`, a child subreaper that accounts the CPU of every
# session process. Rounds alternate (cellftpd, vsftpd, cellftpd, ...);
# every transfer's size and content is checked by ftpbench. Each round
# ends with the same transfers through an ideal server (threads of
# ftpbench, no FTP): the most any server could reach here.
#
#   tests/bench/run.sh [quick]      environment: ROUNDS, SECONDS_PER_TEST,
#                                   BENCH_DIR, CELLFTPD, OUT
set -euo pipefail
cd "$(dirname "$0")/../.."

quick=${1:-}
ROUNDS=${ROUNDS:-$([ "$quick" = quick ] && echo 2 || echo 5)}
SECS=${SECONDS_PER_TEST:-$([ "$quick" = quick ] && echo 1 || echo 5)}
B=${BENCH_DIR:-/tmp/cellftpd-bench}
CELLFTPD=${CELLFTPD:-$PWD/cellftpd}
OUT=${OUT:-$PWD/build/bench-results.md}
if [ "$quick" = quick ]; then
	BIG=$((16 << 20)) UP=$((8 << 20)) MID=$((4 << 20)) IDLE=10
else
	BIG=$((1 << 30)) UP=$((512 << 20)) MID=$((64 << 20)) IDLE=50
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "make bench runs as root (it starts both servers as inetd would)" >&2
	exit 1
fi
missing=""
for p in vsftpd iperf3 python3 haproxy; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing Debian packages:$missing"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
id ftp >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin ftp

mkdir -p build
cc -O2 -pthread -o build/ftpbench tests/bench/ftpbench.c -lssl -lcrypto
FB=$PWD/build/ftpbench

# the tree: root-owned (vsftpd refuses a writable anonymous root)
mkdir -p "$B/tree/pub" "$B/tree/incoming"
chown ftp: "$B/tree/incoming"
chmod 755 "$B" "$B/tree" "$B/tree/pub"
for f in "k1:1024" "mid:$MID" "big:$BIG"; do
	name=${f%%:*} size=${f#*:}
	[ "$(stat -c %s "$B/tree/pub/$name" 2>/dev/null)" = "$size" ] ||
		"$FB" make "$B/tree/pub/$name" "$size"
	cat "$B/tree/pub/$name" >/dev/null	# into the page cache
done
sum_of() { "$FB" sum "$B/tree/pub/$1" | cut -d' ' -f2; }
K1=$(sum_of k1) MIDSUM=$(sum_of mid) BIGSUM=$(sum_of big)

cat >"$B/cellftpd.conf" <<EOF
[server]
banner = bench
passive_ports = 50000-50999
log = syslog
[user anonymous]
system_user = ftp
root = $B/tree
allow_write = upload
EOF
cat >"$B/vsftpd.conf" <<EOF
listen=NO
listen_ipv6=NO
anonymous_enable=YES
local_enable=NO
write_enable=YES
anon_upload_enable=YES
anon_root=$B/tree
no_anon_password=YES
pasv_enable=YES
pasv_min_port=51000
pasv_max_port=51999
ftpd_banner=bench
xferlog_enable=NO
secure_chroot_dir=/var/run/vsftpd/empty
EOF
mkdir -p /var/run/vsftpd/empty
# FTPS: the same servers with explicit TLS required for login and data,
# a throw-away certificate, and data connections that must resume the
# control connection's TLS session (vsftpd's require_ssl_reuse default)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -keyout "$B/tls.pem" -out "$B/tls.pem" 2>/dev/null
sed "/^log = /a tls = explicit\ntls_certificate = $B/tls.pem" "$B/cellftpd.conf" >"$B/cellftpd-tls.conf"
cat "$B/vsftpd.conf" - >"$B/vsftpd-tls.conf" <<EOF
ssl_enable=YES
allow_anon_ssl=YES
force_anon_logins_ssl=YES
force_anon_data_ssl=YES
rsa_cert_file=$B/tls.pem
rsa_private_key_file=$B/tls.pem
ssl_ciphers=HIGH
EOF
# rate limits of 10 MiB/s both ways, as each server spells them
RATE=$((10 << 20))
sed "/^log = /a max_rate_download = 10M\nmax_rate_upload = 10M" "$B/cellftpd.conf" >"$B/cellftpd-rate.conf"
printf 'anon_max_rate=%s\n' "$RATE" | cat "$B/vsftpd.conf" - >"$B/vsftpd-rate.conf"
# behind a balancer: PROXY v2 headers from any loopback address
# (passive ports below the ephemeral range: HAProxy binds them all at
# once, and the client's own connections must not hold one)
sed -e "/^log = /a proxy_protocol = v2\nproxy_from = 127.0.0.0/8" \
	-e "s/^passive_ports = .*/passive_ports = 21000-21999/" "$B/cellftpd.conf" >"$B/cellftpd-proxy.conf"
chmod 600 "$B"/*.conf "$B/tls.pem"

PORT=0 REAPER=0
# a failed measurement ends the run, and never leaves a server behind
trap '[ "$REAPER" -gt 0 ] && kill "$REAPER" 2>/dev/null; [ "$HAPROXY" -gt 0 ] && kill "$HAPROXY" 2>/dev/null; true' EXIT
start() {	# start cellftpd|vsftpd [-tls]
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	local cmd
	if [ "$1" = cellftpd ]; then
		cmd=("$CELLFTPD" -c "$B/cellftpd${2:-}.conf")
	else
		cmd=(/usr/sbin/vsftpd "$B/vsftpd${2:-}.conf")
	fi
	"$FB" reap systemd-socket-activate --accept --inetd -l "${ADDR:-127.0.0.1}:$PORT" \
		"${cmd[@]}" 2>"$B/reap.err" &
	REAPER=$!
	for _ in $(seq 100); do
		ss -Hltn "sport = :$PORT" | grep -q LISTEN && return 0
		sleep 0.02
	done
	echo "$1 did not start" >&2
	exit 1
}

# HAProxy on 127.0.0.1:$HPORT in front of the server started on
# 127.0.0.11:$PORT, with send-proxy-v2 and a frontend for the passive
# range, as conf/haproxy.cfg has it (no health checks: they would count)
HPORT=0 HAPROXY=0 HACPU=0
haproxy_start() {
	HPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	cat >"$B/haproxy.cfg" <<-EOF
	global
		maxconn 4000
	defaults
		mode tcp
		timeout connect 5s
		timeout client 1m
		timeout server 1m
	frontend ftp
		bind 127.0.0.1:$HPORT
		default_backend host
	backend host
		server host1 127.0.0.11:$PORT send-proxy-v2
	frontend data
		bind 127.0.0.1:21000-21999
		default_backend data
	backend data
		server host1 127.0.0.11 send-proxy-v2
	EOF
	haproxy -db -f "$B/haproxy.cfg" >"$B/haproxy.log" 2>&1 &
	HAPROXY=$!
	for _ in $(seq 100); do
		ss -Hltn "sport = :$HPORT" | grep -q LISTEN && return 0
		sleep 0.02
	done
	echo "haproxy did not start" >&2
	cat "$B/haproxy.log" >&2
	exit 1
}
haproxy_stop() {	# HACPU: microseconds HAProxy used
	HACPU=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1e6 / hz}' "/proc/$HAPROXY/stat")
	kill "$HAPROXY"
	wait "$HAPROXY" || true
	HAPROXY=0
}

CPU=0
stop() {	# CPU: microseconds of all session processes (not in a subshell:
	kill -TERM "$REAPER"	# only this shell can wait for the reaper)
	wait "$REAPER" || true
	REAPER=0
	CPU=$(awk '/^cpu_us/ {print $2 + $3; found = 1} END {exit !found}' "$B/reap.err")
}

# PSS and USS (kB) of every process below the launcher, and their count
memory() {
	local launcher pids
	launcher=$(pgrep -P "$REAPER")
	pids=$(pgrep -P "$launcher"; for p in $(pgrep -P "$launcher"); do pgrep -P "$p" || true; done)
	local pss=0 uss=0 n=0 p
	for p in $pids; do
		read -r a b <<<"$(awk '/^Pss:/ {pss=$2} /^Private_(Clean|Dirty):/ {uss+=$2} END {print pss, uss}' "/proc/$p/smaps_rollup")"
		pss=$((pss + a)) uss=$((uss + b)) n=$((n + 1))
	done
	echo "$pss $uss $n"
}

raw=$B/raw.tsv
: >"$raw"
mbs() { python3 -c "print($2/$4/1e6)"; }	# MB/s from "bytes B seconds S"
record() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$raw"; }	# round server metric value

for r in $(seq "$ROUNDS"); do
	for server in cellftpd vsftpd; do
		for c in 1 8; do
			start "$server"
			read -r _ n _ s _ p50 _ p99 < <("$FB" sessions "$PORT" "$c" "$SECS" /pub/k1 1024 "$K1")
			stop
			cpu=$CPU
			record "$r" "$server" "sessions/s c=$c" "$(python3 -c "print($n/$s)")"
			record "$r" "$server" "p50 latency c=$c (ms)" "$(python3 -c "print($p50/1000)")"
			record "$r" "$server" "p99 latency c=$c (ms)" "$(python3 -c "print($p99/1000)")"
			record "$r" "$server" "CPU per session c=$c (ms)" "$(python3 -c "print($cpu/1000/$n)")"
		done
		start "$server"
		read -r _ bytes _ s < <("$FB" retr "$PORT" /pub/big "$BIG" "$BIGSUM")
		stop
		cpu=$CPU
		record "$r" "$server" "RETR $((BIG >> 20)) MiB (MB/s)" "$(python3 -c "print($bytes/$s/1e6)")"
		record "$r" "$server" "RETR CPU per GB (ms)" "$(python3 -c "print($cpu/1000/($bytes/1e9))")"
		start "$server" -tls
		read -r _ bytes _ s < <("$FB" retr-tls "$PORT" /pub/big "$BIG" "$BIGSUM")
		stop
		cpu=$CPU
		record "$r" "$server" "FTPS RETR $((BIG >> 20)) MiB (MB/s)" "$(python3 -c "print($bytes/$s/1e6)")"
		record "$r" "$server" "FTPS RETR CPU per GB (ms)" "$(python3 -c "print($cpu/1000/($bytes/1e9))")"
		start "$server"
		name="/incoming/up-$server-$r"
		read -r _ bytes _ s < <("$FB" stor "$PORT" "$name" "$UP")
		stop
		cpu=$CPU
		# the upload arrived whole and right
		[ "$("$FB" sum "$B/tree$name")" = "$("$FB" make /dev/stdout "$UP" | "$FB" sum /dev/stdin)" ]
		rm -f "$B/tree$name"
		record "$r" "$server" "STOR $((UP >> 20)) MiB (MB/s)" "$(python3 -c "print($bytes/$s/1e6)")"
		record "$r" "$server" "STOR CPU per GB (ms)" "$(python3 -c "print($cpu/1000/($bytes/1e9))")"
		start "$server"
		read -r _ bytes _ s < <("$FB" retr "$PORT" /pub/mid "$MID" "$MIDSUM" 4)
		stop
		record "$r" "$server" "4 parallel RETR $((MID >> 20)) MiB (MB/s)" "$(python3 -c "print($bytes/$s/1e6)")"
		# at a rate limit of 10 MiB/s: how close each server keeps to it
		start "$server" -rate
		read -r _ bytes _ s < <("$FB" retr "$PORT" /pub/mid "$MID" "$MIDSUM")
		stop
		record "$r" "$server" "RETR $((MID >> 20)) MiB at 10 MiB/s (% of the rate)" \
			"$(python3 -c "print($bytes/$s/$RATE*100)")"
		start "$server" -rate
		name="/incoming/rate-$server-$r"
		read -r _ bytes _ s < <("$FB" stor "$PORT" "$name" "$MID")
		stop
		rm -f "$B/tree$name"
		record "$r" "$server" "STOR $((MID >> 20)) MiB at 10 MiB/s (% of the rate)" \
			"$(python3 -c "print($bytes/$s/$RATE*100)")"
		start "$server"
		"$FB" idle "$PORT" "$IDLE" 4 >"$B/idle.out" &
		idle=$!
		for _ in $(seq 200); do grep -q ready "$B/idle.out" && break; sleep 0.02; done
		sleep 0.5
		read -r pss uss procs < <(memory)
		wait "$idle"
		stop
		record "$r" "$server" "idle session PSS (kB)" "$((pss / IDLE))"
		record "$r" "$server" "idle session USS (kB)" "$((uss / IDLE))"
		record "$r" "$server" "processes per idle session" "$(python3 -c "print($procs/$IDLE)")"
	done
	# behind a balancer: the same sessions (c=8) with a PROXY v2 header
	# from the client itself, then through HAProxy with send-proxy-v2
	# (the direct sessions again, next to them: the same conditions)
	start cellftpd
	read -r _ n _ s _ _ < <("$FB" sessions "$PORT" 8 "$SECS" /pub/k1 1024 "$K1")
	stop
	record "$r" proxy-direct "sessions/s c=8" "$(python3 -c "print($n/$s)")"
	record "$r" proxy-direct "CPU per session c=8 (ms)" "$(python3 -c "print($CPU/1000/$n)")"
	start cellftpd -proxy
	read -r _ n _ s _ _ < <(FTPBENCH_PROXY=v2 "$FB" sessions "$PORT" 8 "$SECS" /pub/k1 1024 "$K1")
	stop
	record "$r" proxy-header "sessions/s c=8" "$(python3 -c "print($n/$s)")"
	record "$r" proxy-header "CPU per session c=8 (ms)" "$(python3 -c "print($CPU/1000/$n)")"
	ADDR=127.0.0.11 start cellftpd -proxy
	haproxy_start
	read -r _ n _ s _ _ < <("$FB" sessions "$HPORT" 8 "$SECS" /pub/k1 1024 "$K1")
	haproxy_stop
	stop
	record "$r" proxy-haproxy "sessions/s c=8" "$(python3 -c "print($n/$s)")"
	record "$r" proxy-haproxy "CPU per session c=8 (ms)" "$(python3 -c "print($CPU/1000/$n)")"
	record "$r" proxy-haproxy "HAProxy CPU per session c=8 (ms)" "$(python3 -c "print($HACPU/1000/$n)")"
	# the same transfers with no FTP server at all: threads of ftpbench
	# sending as an ideal server would, received and checked as above
	for kind in sendfile rw; do
		record "$r" "ideal-$kind" "RETR $((BIG >> 20)) MiB (MB/s)" \
			"$(mbs $("$FB" ceiling "retr-$kind" "$B/tree/pub/big" "$BIG" "$BIGSUM" 1))"
		record "$r" "ideal-$kind" "4 parallel RETR $((MID >> 20)) MiB (MB/s)" \
			"$(mbs $("$FB" ceiling "retr-$kind" "$B/tree/pub/mid" "$MID" "$MIDSUM" 4))"
	done
	record "$r" "ideal-rw" "STOR $((UP >> 20)) MiB (MB/s)" \
		"$(mbs $("$FB" ceiling stor "$B/tree/incoming/ceiling" "$UP" 0 1))"
	record "$r" "ideal-rw" "FTPS RETR $((BIG >> 20)) MiB (MB/s)" \
		"$(mbs $("$FB" ceiling retr-tls "$B/tree/pub/big" "$BIG" "$BIGSUM" 1 "$B/tls.pem"))"
done

iperf3 -s -1 -B 127.0.0.1 -p 5299 >/dev/null 2>&1 &
sleep 0.3
plain=$(iperf3 -c 127.0.0.1 -p 5299 -t 3 -J | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e6)')
iperf3 -s -1 -B 127.0.0.1 -p 5299 >/dev/null 2>&1 &
sleep 0.3
zc=$(iperf3 -c 127.0.0.1 -p 5299 -t 3 -Z -J | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]/8e6)')

python3 - "$raw" "$ROUNDS" "$plain" "$zc" "$quick" >"$OUT" <<'PY'
import collections, statistics, sys, datetime, platform, os
raw, rounds, plain, zc, quick = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
v = collections.defaultdict(dict)
order = []
for line in open(raw):
    r, server, metric, value = line.rstrip("\n").split("\t")
    if metric not in order:
        order.append(metric)
    v[(metric, server)][int(r)] = float(value)
higher = lambda m: "MB/s" in m or "sessions/s" in m
print(f"# make bench{' quick' if quick else ''}: cellftpd against vsftpd\n")
print(f"{datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC, {platform.node()}, {os.cpu_count()} cores, "
      f"{rounds} interleaved rounds, medians (min–max).\n")
print("| measure | cellftpd | vsftpd | ratio (per round, median) | goal |")
print("|---|---|---|---|---|")
goals = {"% of the rate": "95–105 %", "FTPS": "", "sessions/s c=1": "≥ 2×", "sessions/s c=8": "≥ 2×", "4 parallel": "≥ 1.3×",
         "RETR": "≥ 1.5×", "STOR": "≥ 2×", "PSS": "≤ 0.5×", "USS": "≤ 1×", "processes": "= 1"}
for m in order:
    c, s = v[(m, "cellftpd")], v[(m, "vsftpd")]
    ratios = [c[r] / s[r] for r in c if r in s and s[r] != 0]
    fmt = lambda d: f"{statistics.median(d.values()):.3g} ({min(d.values()):.3g}–{max(d.values()):.3g})"
    goal = next((g for k, g in goals.items() if m.startswith(k) or k in m), "")
    if "CPU" in m or "latency" in m:
        goal = "lower is better"
    if c and s:
        print(f"| {m} | {fmt(c)} | {fmt(s)} | {statistics.median(ratios):.2f}× | {goal} |")
print(f"| loopback limit (iperf3, MB/s) | {plain:.0f} plain, {zc:.0f} with -Z | | | |")
med = lambda m, s: statistics.median(v[(m, s)].values())
print("\nWhat the transfer goals need, against an ideal server: ftpbench's own threads")
print("sending over loopback with sendfile or 256 KiB pread/write (STOR: 256 KiB reads")
print("written to a file; FTPS: pread and SSL_write), no FTP, the same client and")
print("checks. A goal that needs more than both ideal servers reach cannot be met on")
print("this machine with this client.\n")
print("| transfer | goal | needs (MB/s) | ideal, sendfile | ideal, read/write | cellftpd |")
print("|---|---|---|---|---|---|")
for m in order:
    if ("ideal-rw" not in [k[1] for k in v if k[0] == m]) or not v[(m, "vsftpd")]:
        continue
    goal = next(g for k, g in goals.items() if m.startswith(k) or k in m)
    need = f"{float(goal.split()[1].rstrip('×')) * med(m, 'vsftpd'):.0f}" if goal else "—"
    cell = lambda srv: f"{med(m, srv):.0f}" if v[(m, srv)] else "—"
    print(f"| {m.replace(' (MB/s)', '')} | {goal + ' vsftpd' if goal else '—'} | {need} | "
          f"{cell('ideal-sendfile')} | {cell('ideal-rw')} | {cell('cellftpd')} |")
print("\nBehind a balancer (cellftpd only: vsftpd has no PROXY protocol), 8 clients,")
print("each a whole session (login, EPSV, RETR of 1 KiB, QUIT), the three runs one")
print("after the other in each round; ratios to the direct run of the same round,")
print("medians.\n")
print("| path | sessions/s | ratio to direct | cellftpd CPU per session (ms) | CPU ratio | HAProxy CPU per session (ms) |")
print("|---|---|---|---|---|---|")
d_s, d_c = v[("sessions/s c=8", "proxy-direct")], v[("CPU per session c=8 (ms)", "proxy-direct")]
for srv, label in (("proxy-direct", "direct"), ("proxy-header", "PROXY v2 header, no balancer"),
                   ("proxy-haproxy", "through HAProxy, send-proxy-v2")):
    ss_, cc = v[("sessions/s c=8", srv)], v[("CPU per session c=8 (ms)", srv)]
    rs = statistics.median(ss_[r] / d_s[r] for r in ss_ if r in d_s)
    rc = statistics.median(cc[r] / d_c[r] for r in cc if r in d_c)
    ha = v.get(("HAProxy CPU per session c=8 (ms)", srv))
    print(f"| {label} | {statistics.median(ss_.values()):.0f} | {rs:.2f}× | "
          f"{statistics.median(cc.values()):.3f} | {rc:.3f}× | "
          f"{statistics.median(ha.values()):.3f} |" if ha else
          f"| {label} | {statistics.median(ss_.values()):.0f} | {rs:.2f}× | "
          f"{statistics.median(cc.values()):.3f} | {rc:.3f}× | — |")
hc = v[("CPU per session c=8 (ms)", "proxy-header")]
cost = statistics.median((hc[r] - d_c[r]) / d_c[r] for r in hc if r in d_c)
print(f"\nThe PROXY v2 header costs {cost:+.1%} of a session's CPU (goal: under 2 %).")
retr = [m for m in order if m.startswith("RETR") and "MB/s" in m][0]
print("\nFTPS download rate as a share of the plaintext one (medians): " +
      ", ".join(f"{s} {med('FTPS ' + retr, s) / med(retr, s):.0%}" for s in ("cellftpd", "vsftpd")) + ".")
PY
cat "$OUT"
echo "written to $OUT"
