#!/bin/bash
# bench_milter_cpu.sh - the whole milter's cost per message with events on
# and off (part of make bench-collector; not a test). A real
# relayguard-milter (the e2e harness's private configuration, GeoIP test
# databases) driven by miltertest (bench/milter_load.lua: one connection
# per message, as Postfix opens them); "relayguard-collector listen"
# receives the events. Rounds alternate events on and off (the
# configuration's collector section swapped and SIGUSR1: the same
# process); per round the milter's CPU time (perf task-clock of the
# milter process, all its threads; without perf, user + system from
# /proc/PID/stat) and context switches over the messages, and the
# collector's CPU time beside it (it shares the machine: its cost is
# printed apart, never counted in the milter's). Prints
#   milter (miltertest): CPU per message events off A us, on B us; with/without = R
#   milter context switches per message off X, on Y; collector CPU per message on Z us
# R: the median of the per-round ratios of messages per CPU second of
# the milter process (the target figure). BENCH_MILTER_ROUNDS pairs
# (default 10) of BENCH_MILTER_MESSAGES (default 2000).
# Usage: bench/bench_milter_cpu.sh BUILD_DIR
here=$(cd "$(dirname "$0")" && pwd)
set -- "$(cd "${1:-build}" && pwd)"
. "$here/../tests/e2e/lib.sh"
. "$here/../tests/e2e/relayguard.sh"
e2e_init
msgs=${BENCH_MILTER_MESSAGES:-2000}
rounds=${BENCH_MILTER_ROUNDS:-10}
B=$E2E_BUILD/relayguard-collector
D=$E2E_DIR
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/event.key"
chmod 600 "$D/event.key"
chown nobody "$D/event.key"
ON="collector: { address = \"unix:$D/events.sock\"; key_file = \"$D/event.key\";
  database = \"$D/collector.db\"; incidents_file = \"\"; report_dir = \"$D\"; };"
rg_geo || e2e_bail "no GeoIP test databases"
RG_COLLECTOR=$ON rg_config "" ""
cp "$RG_CONF" "$D/on.conf"
RG_COLLECTOR="" rg_config "" ""
cp "$RG_CONF" "$D/off.conf"
# a unix milter socket: over TCP, miltertest's separate small writes of a
# macro and its command meet Nagle and the delayed ACK (40 ms twice a
# message), which made a round of 2,000 messages take minutes
sed -i -e 's/limit = 100; action = "tempfail"; }/limit = 1000000; action = "tempfail"; }/' \
    -e "s|socket = \"inet:$MILTER_PORT@127.0.0.1\"|socket = \"unix:$D/state/milter.sock\"|" \
    "$D/on.conf" "$D/off.conf"
cp "$D/on.conf" "$RG_CONF"
# the collector with a unix queue of 512 (systemd's setting) when we may,
# as bench_intake.sh does
if unshare -n sysctl -qw net.unix.max_dgram_qlen=512 2>/dev/null; then
    e2e_bg collector unshare -n sh -c 'sysctl -qw net.unix.max_dgram_qlen=512 && exec "$@"' sh \
        "${BENCH_COLLECTOR:-$B}" -c "$D/on.conf" listen
else
    e2e_bg collector "${BENCH_COLLECTOR:-$B}" -c "$D/on.conf" listen
fi
CPID=$E2E_BG_PID
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start"
e2e_bg milter "$RG_MILTER" -f -c "$RG_CONF"
RG_PID=$E2E_BG_PID
RG_LOG=$E2E_DIR/milter.log
e2e_wait_until 10 test -S "$D/state/milter.sock" || e2e_bail "milter did not start"

# ticks [PID] - the milter's (or PID's) CPU seconds from /proc (CLK_TCK steps: coarse)
ticks() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/${1:-$RG_PID}/stat"; }
reloads() { "$RG_CTL" -c "$RG_CONF" --json stats | rg_json reloads; }
# switch MODE - the milter on MODE's configuration
switch() {
    local r
    r=$(reloads)
    cp "$D/$1.conf" "$RG_CONF"
    kill -USR1 "$RG_PID"
    e2e_wait_until 10 test "$(reloads)" -gt "$r" || e2e_bail "no reload"
}
# perf stat counts the milter's task-clock in ns, its connection threads
# included (they are created after the start: inherited); without perf,
# /proc/PID/stat's ticks (10 ms at CLK_TCK 100, 2 % of a round)
PERF=""
if command -v perf >/dev/null && perf stat -e task-clock -x, -p $$ -o /dev/null -- true 2>/dev/null; then
    PERF=1
fi
# round MODE BASE - "MODE cpu_s wall_s switches collector_cpu_s sender_cpu_s"
# for msgs messages (sender: the milter's event thread, perf --per-thread)
round() {
    local a b s e pp="" ca cb cs=0 snd=0
    switch "$1"
    if [ -n "$PERF" ]; then
        perf stat --per-thread -e task-clock,context-switches -x, -p "$RG_PID" -o "$D/perf.out" &
        pp=$!
        sleep 0.3
    fi
    a=$(ticks)
    ca=$(ticks "$CPID")
    s=$(date +%s%N)
    RG_MILTER_SOCK="unix:$D/state/milter.sock" RG_MSGS=$msgs RG_BASE=$2 \
        miltertest -s "$here/milter_load.lua" >"$D/mt.out" 2>&1 ||
        e2e_bail "miltertest failed: $(tail -n 3 "$D/mt.out" | tr '\n' ' ')"
    e=$(date +%s%N)
    b=$(ticks)
    # the collector stores what came at the end of the round meanwhile
    sleep 0.1
    cb=$(ticks "$CPID")
    if [ -n "$pp" ]; then
        kill -INT "$pp"
        wait "$pp"
        a=0
        b=$(awk -F, '$4 == "task-clock" { t += $2 } END { print t / 1000 }' "$D/perf.out")
        cs=$(awk -F, '$4 == "context-switches" { t += $2 } END { print t + 0 }' "$D/perf.out")
        snd=$(awk -F, '$4 == "task-clock" && $1 ~ /^rg-events-/ { t += $2 } END { print t / 1000 }' "$D/perf.out")
    fi
    echo "$1 $(echo "$a $b" | awk '{ print $2 - $1 }') $(( (e - s) / 1000 ))e-6 $cs $(echo "$ca $cb" | awk '{ print $2 - $1 }') $snd"
}
# warm: the logins exist (in a subshell, so that a failure is printed)
warm=$(round off 0)
case $warm in off\ *) ;; *) echo "$warm"; e2e_bail "the warm-up round failed" ;; esac
: >"$D/rounds"
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then round on "$((r * msgs))"; round off "$((r * msgs))"
    else round off "$((r * msgs))"; round on "$((r * msgs))"; fi >>"$D/rounds"
done
sent=$("$RG_CTL" -c "$RG_CONF" --json stats | rg_json events_sent)
dropped=$("$RG_CTL" -c "$RG_CONF" --json stats | rg_json events_dropped)
awk -v m="$msgs" -v sent="$sent" -v dropped="$dropped" -v how="${PERF:+perf task-clock}" \
    -v out="$E2E_BUILD/bench/milter-result" '
$1 == "on" { on[++a] = $2; won[a] = $3; son[a] = $4; con[a] = $5; snd[a] = $6 }
$1 == "off" { off[++b] = $2; woff[b] = $3; soff[b] = $4; coff[b] = $5 }
function median(v, k,   i, j, t, c) {
    for (i = 1; i <= k; i++) c[i] = v[i]
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
    return k % 2 ? c[(k + 1) / 2] : (c[k / 2] + c[k / 2 + 1]) / 2
}
END {
    for (i = 1; i <= a; i++) { r[i] = off[i] / on[i]; w[i] = woff[i] / won[i] }
    printf "milter (miltertest): CPU per message events off %.1f us, on %.1f us; with/without = %.3f CPU, %.3f wall (medians of %d interleaved pairs of rounds of %d messages; CPU of the milter process from %s; events sent %s, dropped %s)\n",
        median(off, b) / m * 1e6, median(on, a) / m * 1e6, median(r, a), median(w, a), a, m,
        how != "" ? how : "/proc/PID/stat", sent, dropped
    printf "milter context switches per message off %.2f, on %.2f; collector CPU per message (not in the figure above) on %.1f us, off %.1f us (/proc ticks)\n",
        median(soff, b) / m, median(son, a) / m, median(con, a) / m * 1e6, median(coff, b) / m * 1e6
    printf "of the milter CPU with events on, the sender thread (rg-events) per message %.2f us\n",
        median(snd, a) / m * 1e6
    printf "per pair (off/on CPU):"
    for (i = 1; i <= a; i++) printf " %.3f", r[i]
    printf "\n"
    printf "%.3f %.3f\n", median(r, a), median(w, a) >out
}' "$D/rounds"
