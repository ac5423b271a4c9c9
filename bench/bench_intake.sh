#!/bin/sh
# bench_intake.sh - the event side of make bench-collector (not a test).
#
# 1. Intake: "relayguard-collector listen" on a unix datagram socket
#    receives BENCH_EVENTS (default 300,000) signed events from
#    bench_events (the milter's record, sealed with the same key), checks
#    each MAC, sequence and time, stores them in SQLite and correlates
#    every second, as "run" does. BENCH_INTAKE_ROUNDS (default 3) rounds,
#    each on a fresh database; per round the events stored (from the
#    collector's own counters: every one must be there) over the wall
#    time from the first send to the collector's exit, and over the
#    collector's CPU time (user + system; the machine may be shared, and
#    then the wall figure says more about the neighbours than about us).
# 2. Gaps: 50,000 events over loopback UDP with every 1,000th sequence
#    number left out: the collector must count exactly those 50 (plus
#    whatever the kernel dropped, which it reports as kernel_drops).
# 3. The milter's cost per message with events on and off
#    (bench_milter_events, interleaved rounds, medians).
# Prints
#   intake: N events/s verified and stored (wall, median), M events per CPU second
#   intake over udp: ... seq_gaps=G (50 left out) kernel_drops=K
#   milter: per message events off A us, on B us; with/without = R
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

# cpu_s PID - user + system seconds of a running process
cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' "/proc/$1/stat"
}

# run ADDRESS COUNT [SKIP] - one listen + send; prints "stored wall_s cpu_s"
run() {
    rm -f "$dir"/db.sqlite* "$dir/ev.sock"
    conf "$1" >"$dir/c.conf"
    "$B" -c "$dir/c.conf" listen --count "$(($2 - ${3:+$2 / $3}${3:-0}))" \
        >"$dir/listen.log" 2>&1 &
    pid=$!
    i=0
    while ! grep -q 'receiving events' "$dir/listen.log" && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    s=$(date +%s%N)
    "$build/bench/bench_events" "$dir/key" "$1" "$2" ${3:-} >"$dir/send.out"
    cpu=0
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        cpu=$(cpu_s "$pid" 2>/dev/null || echo "$cpu")
        sleep 0.05
        i=$((i + 1))
        # lost datagrams never come: stop 90 s after the sender ended
        [ $i -eq 1800 ] && kill -TERM "$pid"
    done
    e=$(date +%s%N)
    wait "$pid" || true
    echo "$(counter stored) $(( (e - s) / 1000000 )) $cpu"
}

: >"$dir/rounds"
r=0
while [ $r -lt "$rounds" ]; do
    run "unix:$dir/ev.sock" "$n" >>"$dir/rounds"
    r=$((r + 1))
done
awk -v n="$n" '
{ w[NR] = $1 / ($2 / 1000); c[NR] = ($3 > 0 ? $1 / $3 : 0); if ($1 != n) bad++ }
function median(a, k,   i, j, t, b) {
    for (i = 1; i <= k; i++) b[i] = a[i]
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (b[j] < b[i]) { t = b[i]; b[i] = b[j]; b[j] = t }
    return k % 2 ? b[(k + 1) / 2] : (b[k / 2] + b[k / 2 + 1]) / 2
}
END {
    printf "intake: %.0f events/s verified and stored (wall, median of %d rounds of %d),", median(w, NR), NR, n
    printf " %.0f events per CPU second of the collector%s\n", median(c, NR),
        bad ? "; NOT ALL STORED in " bad " rounds" : "; all stored"
}' "$dir/rounds"

# 2. loopback UDP with known gaps
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
set -- $(run "udp:127.0.0.1:$port" 50000 1000)
echo "intake over udp: $1 of 50000 stored in $2 ms; seq_gaps=$(counter seq_gaps) (50 left out by the sender) kernel_drops=$(counter kernel_drops)"

# 3. the milter's per-message cost, events on and off
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
"$B" -c "$dir/c.conf" listen --seconds 600 >"$dir/listen.log" 2>&1 &
pid=$!
i=0
while ! grep -q 'receiving events' "$dir/listen.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
"$build/bench/bench_milter_events" "$dir/milter-on.conf" "$dir/milter-off.conf" \
    "${BENCH_MILTER_MESSAGES:-20000}" "${BENCH_MILTER_ROUNDS:-7}" 2>/dev/null
kill -TERM "$pid"
wait "$pid" || true
