#!/bin/sh
# bench_intake.sh - the event side of make bench-collector (not a test).
#
# 1. Intake: "relayguard-collector listen" on a unix datagram socket
#    receives BENCH_EVENTS (default 300,000) signed events from
#    bench_events (the milter's record, sealed with the same key before
#    the clock starts, sent with sendmmsg), checks each MAC, sequence and
#    time, stores them in SQLite and correlates every second, as "run"
#    does. BENCH_INTAKE_ROUNDS (default 3) rounds, each on a fresh
#    database. Per round: the events stored (the collector's own
#    counters) must equal those sent, with nothing refused; the rate is
#    taken over the wall time from the first send to the collector's exit
#    after the last commit, and over the collector's CPU time (user +
#    system, its getrusage at exit; on a shared machine the wall figure
#    says as much about the neighbours as about the collector).
#    A unix datagram socket queues at most net.unix.max_dgram_qlen
#    datagrams, whatever its buffer: 512 where systemd sets it (Debian),
#    the kernel's 10 in a bare container. When we may (root, unshare), the
#    collector runs in a network namespace of its own with 512 (the path
#    is reachable from any namespace); the line says which.
# 1b. At a milter's pace: a history of BENCH_PACE_HISTORY (default
#    200,000) events, then BENCH_PACE_EVENTS (default 20,000) sent as the
#    milter's sender thread sends them (batch datagrams, a send per 256
#    events or 250 ms) at BENCH_PACE_RATE (default 4,000) a second: the
#    collector's CPU (/proc ticks) and the bytes it wrote (/proc/PID/io),
#    per event - what a busy milter's events cost beside it, where the
#    flood above shows the most it can take.
# 2. Gaps: 50,000 events over loopback UDP with every 1,000th sequence
#    number left out: stored + kernel_drops must equal those sent (the
#    collector reads the socket's drop count, so drops after the last
#    datagram received count too), and seq_gaps at least the 50 left out.
# 3. The milter's engine path with events on and off (bench_milter_events,
#    interleaved rounds, medians).
# Prints
#   intake: N events/s verified and stored (wall, median), M per CPU second ...
#   intake at a milter's pace: ... C us of collector CPU and W bytes written an event
#   intake over udp: ... seq_gaps=G (50 left out) kernel_drops=K
#   milter: per message events off A us, on B us; with/without = R
# and writes "wall cpu ok" of the intake to BUILD/bench/intake/result.
# Exits 1 when a count check failed.
# Usage: bench/bench_intake.sh BUILD_DIR
set -eu
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
n=${BENCH_EVENTS:-300000}
rounds=${BENCH_INTAKE_ROUNDS:-3}
B=$build/relayguard-collector
dir=$build/bench/intake
rm -rf "$dir"
mkdir -p "$dir"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/key"
chmod 600 "$dir/key"
fail=0

# conf ADDRESS - the collector's configuration
conf() {
    cat <<CONF
collector: { address = "$1"; key_file = "$dir/key"; database = "$dir/db.sqlite";
  incidents_file = ""; report_dir = "$dir"; };
CONF
}

# counter NAME - a counter of the last run's database
counter() {
    "$B" -c "$dir/c.conf" events --json --last 0 |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["counters"].get(sys.argv[1], 0))' "$1"
}

# refused - the events the last run refused, all reasons
refused() {
    "$B" -c "$dir/c.conf" events --json --last 0 |
        python3 -c 'import json, sys; print(sum(v for k, v in json.load(sys.stdin)["counters"].items() if k.startswith("refused_")))'
}

# qlen - the unix datagram queue the collector gets: 512 in a namespace of
# its own when we may, else the machine's
NS=""
if [ "$(id -u)" = 0 ] && unshare -n sysctl -qw net.unix.max_dgram_qlen=512 2>/dev/null; then
    NS=1
    qlen=512
else
    qlen=$(cat /proc/sys/net/unix/max_dgram_qlen 2>/dev/null || echo "?")
fi

# listen ARGS... - the collector in the background (pid in $pid), once
# it receives
listen() {
    rm -f "$dir/listen.log"
    if [ -n "$NS" ]; then
        unshare -n sh -c 'sysctl -qw net.unix.max_dgram_qlen=512 && exec "$@"' sh \
            "$B" -c "$dir/c.conf" listen "$@" >"$dir/listen.log" 2>&1 &
    else
        "$B" -c "$dir/c.conf" listen "$@" >"$dir/listen.log" 2>&1 &
    fi
    pid=$!
    i=0
    while ! grep -q 'receiving events' "$dir/listen.log" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
}

# stop - the collector, if it still runs
pid=""
stop() {
    [ -z "$pid" ] && return 0
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
}
trap stop EXIT

# cpu_s - the collector's CPU seconds, from its last log line
cpu_s() {
    sed -n 's/.*listen: cpu user=\([0-9.]*\) system=\([0-9.]*\).*/\1 \2/p' "$dir/listen.log" |
        awk '{ printf "%.3f", $1 + $2 }'
}

# run COUNT - one listen + send on the unix socket; "stored wall_ms cpu_s sent refused"
run() {
    rm -f "$dir"/db.sqlite* "$dir/ev.sock"
    conf "unix:$dir/ev.sock" >"$dir/c.conf"
    listen --count "$1"
    # a lost event never comes: give up 60 s after the sender ended
    "$build/bench/bench_events" "$dir/key" "unix:$dir/ev.sock" "$1" >"$dir/send.out"
    (sleep 60; kill -TERM "$pid" 2>/dev/null) &
    dog=$!
    wait "$pid" || true
    e=$(date +%s%N)
    kill "$dog" 2>/dev/null || true
    s=$(sed -n 's/.*start_ns=\([0-9]*\).*/\1/p' "$dir/send.out")
    sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$dir/send.out")
    echo "$(counter stored) $(( (e - s) / 1000000 )) $(cpu_s) $sent $(refused)"
}

: >"$dir/rounds"
r=0
while [ $r -lt "$rounds" ]; do
    run "$n" >>"$dir/rounds"
    r=$((r + 1))
done
awk -v n="$n" -v qlen="$qlen" -v out="$dir/result" '
{ w[NR] = $1 / ($2 / 1000); c[NR] = ($3 > 0 ? $1 / $3 : 0); if ($1 != $4 || $5 != 0 || $4 != n) bad++ }
function median(a, k,   i, j, t, b) {
    for (i = 1; i <= k; i++) b[i] = a[i]
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }
    return k % 2 ? b[(k + 1) / 2] : (b[k / 2] + b[k / 2 + 1]) / 2
}
END {
    printf "intake: %.0f events/s verified and stored (wall, median of %d rounds of %d),", median(w, NR), NR, n
    printf " %.0f per CPU second of the collector; unix socket queue %s;", median(c, NR), qlen
    printf "%s\n", bad ? " NOT ALL STORED in " bad " rounds (stored != sent, or refused)" : " stored = sent in every round"
    printf "%.0f %.0f %d\n", median(w, NR), median(c, NR), bad ? 0 : 1 >out
}' "$dir/rounds"
grep -q ' 1$' "$dir/result" || fail=1

# 1b. at a milter's pace, on a history
hist_n=${BENCH_PACE_HISTORY:-200000}
pace_n=${BENCH_PACE_EVENTS:-20000}
rate=${BENCH_PACE_RATE:-4000}
rm -f "$dir"/db.sqlite* "$dir/ev.sock"
conf "unix:$dir/ev.sock" >"$dir/c.conf"
listen --count "$hist_n"
"$build/bench/bench_events" "$dir/key" "unix:$dir/ev.sock" "$hist_n" >"$dir/send.out"
wait "$pid" || true
pid=""
listen --seconds 600
# proc_cpu - the collector's user + system ticks
proc_cpu() { sed 's/^.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }'; }
# its first correlation pass goes over the whole window: wait for it
last=-1
i=0
while [ "$(proc_cpu)" != "$last" ] && [ $i -lt 120 ]; do last=$(proc_cpu); sleep 1; i=$((i + 1)); done
c0=$(proc_cpu)
w0=$(awk '/^write_bytes/ { print $2 }' "/proc/$pid/io")
"$build/bench/bench_events" "$dir/key" "unix:$dir/ev.sock" "$pace_n" 0 "$rate" >"$dir/send.out"
i=0
while [ "$(counter stored)" -lt $((hist_n + pace_n)) ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1.2
c1=$(proc_cpu)
w1=$(awk '/^write_bytes/ { print $2 }' "/proc/$pid/io")
stop
stored=$(( $(counter stored) - hist_n ))
echo "$stored $pace_n $rate $hist_n $((c1 - c0)) $((w1 - w0)) $(getconf CLK_TCK)" | awk '{
    printf "intake at a milter'"'"'s pace: %d of %d events at %d/s (batch datagrams) on a history of %d: %.1f us of collector CPU and %.0f bytes written an event%s\n",
        $1, $2, $3, $4, $5 / $7 / $1 * 1e6, $6 / $1, ($1 == $2 ? "" : "; NOT ALL STORED")
}'
[ "$stored" = "$pace_n" ] || fail=1

# 2. loopback UDP with known gaps; the collector stops once the socket's
# queue is empty and its count stayed the same for 2 s
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
rm -f "$dir"/db.sqlite*
conf "udp:127.0.0.1:$port" >"$dir/c.conf"
NS="" listen --seconds 300
"$build/bench/bench_events" "$dir/key" "udp:127.0.0.1:$port" 50000 1000 >"$dir/send.out"
hexport=$(printf '%04X' "$port")
# queued - bytes waiting in the collector's UDP socket
queued() {
    q=$(awk -v p=":$hexport" '$2 ~ p"$" { split($5, q, ":"); print q[2] }' /proc/net/udp)
    echo $((0x${q:-0}))
}
last=-1
same=0
i=0
while [ $same -lt 4 ] && [ $i -lt 240 ]; do
    sleep 0.5
    now="$(counter stored) $(queued)"
    case $now in "$last") same=$((same + 1)) ;; *) same=0 ;; esac
    case $now in *" 0") ;; *) same=0 ;; esac
    last=$now
    i=$((i + 1))
done
stop
stored=$(counter stored)
drops=$(counter kernel_drops)
gaps=$(counter seq_gaps)
sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$dir/send.out")
if [ $((stored + drops)) -eq "$sent" ] && [ "$gaps" -ge 50 ]; then ok="stored + kernel_drops = sent"
else ok="COUNTS DO NOT ADD UP"; fail=1; fi
echo "intake over udp: $stored of $sent stored; seq_gaps=$gaps (50 left out by the sender) kernel_drops=$drops; $ok"

# 3. the milter's engine path, events on and off
mkdir -p "$dir/geo" "$dir/state"
perl "$here/../tests/geoip/make-test-db.pl" "$dir/geo" >/dev/null
for mode in on off; do
    cat >"$dir/milter-$mode.conf" <<CONF
milter: { socket = "inet:10025@127.0.0.1"; };
state: { path = "$dir/state/state-$mode"; max_users = 10000; max_clients = 10000;
         ips_per_user = 16; };
geoip: { city_db = "$dir/geo/GeoLite2-City.mmdb"; asn_db = "$dir/geo/GeoLite2-ASN.mmdb"; };
networks: { internal = [ "10.0.0.0/8" ]; trusted = [ "127.0.0.0/8" ]; };
policy: { rules = (
    { name = "many-countries"; applies_to = "authenticated";
      metric = "distinct_countries"; window = "10m"; limit = 3; action = "tempfail"; },
    { name = "impossible-travel"; applies_to = "authenticated";
      metric = "travel_kmh"; limit = 1000; action = "quarantine"; },
    { name = "user-messages"; applies_to = "authenticated";
      metric = "messages"; window = "1h"; limit = 100000; action = "tempfail"; },
    { name = "rogue-host"; applies_to = "any"; metric = "rogue_listed"; action = "reject"; }
  ); };
CONF
done
conf "unix:$dir/ev.sock" >>"$dir/milter-on.conf"
conf "unix:$dir/ev.sock" >"$dir/c.conf"
rm -f "$dir"/db.sqlite* "$dir/ev.sock"
listen --seconds 600
"$build/bench/bench_milter_events" "$dir/milter-on.conf" "$dir/milter-off.conf" \
    "${BENCH_MILTER_MESSAGES:-20000}" "${BENCH_MILTER_ROUNDS:-7}" 2>/dev/null
stop
exit $fail
