#!/bin/bash
# bench_milter_cpu.sh - the whole milter's cost per message with events on
# and off (part of make bench-collector; not a test). A real
# relayguard-milter (the e2e harness's private configuration, GeoIP test
# databases) driven by miltertest (bench/milter_load.lua: one connection
# per message, as Postfix opens them); "relayguard-collector run"
# receives the events, started as the shipped systemd unit starts it
# (the unit's nice, CPU policy and I/O class). Rounds alternate events
# on and off in ABBA order (pair 1 on, off; pair 2 off, on; ...): the
# configuration's collector section swapped and SIGUSR1, the same
# process. The two configurations
# differ in that section alone (checked: the bench stops otherwise).
#
# Per round, from perf stat of the milter process (all its threads, the
# connection threads inherited): its CPU time (task-clock), and exact
# counts a CPU clock cannot blur - context switches, migrations, page
# faults, system calls, futex calls, wake-ups it made (sched_wakeup) -
# plus cycles and instructions where the machine has the counters (a VM
# often has none: then "not supported" is printed); the user/system
# split from /proc/PID/stat (ticks; the sum of all rounds); the
# collector's CPU apart (it shares the machine; never in the figure).
#
# The figure (the target of issue 13): messages per CPU second of the
# milter with events / without, per pair of rounds; printed are its
# median (the figure), a distribution-free 95 % confidence interval of
# the median (order statistics of the pairs), the 20 % trimmed mean and
# the ratio of the summed CPU times, and whether the interval decides
# 0.98 (wholly above: met; wholly below: not met; else undecided - the
# machine too noisy for the number of pairs).
# BENCH_MILTER_ROUNDS pairs (default 16) of BENCH_MILTER_MESSAGES
# (default 2000). BENCH_MILTER_KEEP=DIR keeps every round's perf output.
# A third mode, null (events on, sent to a reader that drops them), runs
# in every block unless BENCH_MILTER_NULL=0: off/null is what the
# milter's own events cost, null/on what the collector's work beside it
# costs the milter on the same cores. BENCH_MILTER_WAKERS=1 also records
# every wake-up on the machine during each round and prints, per message
# and mode, who woke whom around the milter (bench/wakers.py; system-wide,
# so on a shared machine the neighbours' wake-ups of these tasks count).
# The rounds run one after the other, and this VM's speed moves by
# +-15 % from one round to the next: 96 pairs of 8,000 still left 0.98
# undecided (session 17). The figure of make bench-collector now comes
# from bench_milter_pair.sh (two instances fed at the same time; this
# script with BENCH_MILTER_MODE=abba); this one keeps the exact counts
# per mode (perf) and the null mode.
# Usage: bench/bench_milter_cpu.sh BUILD_DIR
here=$(cd "$(dirname "$0")" && pwd)
set -- "$(cd "${1:-build}" && pwd)"
. "$here/../tests/e2e/lib.sh"
. "$here/../tests/e2e/relayguard.sh"
e2e_init
msgs=${BENCH_MILTER_MESSAGES:-2000}
rounds=${BENCH_MILTER_ROUNDS:-16}
B=$E2E_BUILD/relayguard-collector
. "$here/milter_confs.sh"
# the two configurations: the collector section and nothing else
grep -v '^$' "$D/off.conf" >"$D/off.cmp"
grep -v -e '^$' -e '^collector: { address = ' -e '^  database = .*report_dir = .*; };$' "$D/on.conf" >"$D/on.cmp"
cmp -s "$D/off.cmp" "$D/on.cmp" && [ "$(wc -l <"$D/on.conf")" = "$(($(wc -l <"$D/off.conf") + 1))" ] ||
    e2e_bail "on.conf and off.conf differ outside the collector section: $(diff "$D/off.conf" "$D/on.conf")"
# null: events on, sent to a reader that drops them unread (a socket
# whose reader costs next to nothing): what the milter's own sending
# costs, apart from what the collector's work beside it on the same
# cores costs the milter (set BENCH_MILTER_NULL=0 to leave it out)
sed "s|unix:$D/events.sock|unix:$D/null.sock|" "$D/on.conf" >"$D/null.conf"
cp "$D/on.conf" "$RG_CONF"
# the collector as the shipped unit runs it: "run" (the flow follower
# and the event thread), with the unit's Nice=, CPUSchedulingPolicy= and
# I/O class (bench/collector_unit.sh; checked below)
. "$here/collector_unit.sh"
unit_collector_start "$D/on.conf"
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start"
unit=$(unit_sched_check "$CPID")
[ -z "$unit" ] || e2e_bail "the collector does not run as the unit would: $unit"
modes="on off"
if [ "${BENCH_MILTER_NULL:-1}" = 1 ]; then
    e2e_bg nullsink python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
while True: s.recv(65536)' "$D/null.sock"
    e2e_wait_until 10 test -S "$D/null.sock" || e2e_bail "the null reader did not start"
    modes="on off null"
fi
e2e_bg milter "$RG_MILTER" -f -c "$RG_CONF"
RG_PID=$E2E_BG_PID
RG_LOG=$E2E_DIR/milter.log
e2e_wait_until 10 test -S "$D/state/milter.sock" || e2e_bail "milter did not start"

# ticks [PID] - "utime stime" of the milter (or PID) in CLK_TCK ticks
# (its dead threads included)
ticks() { sed 's/^.*) //' "/proc/${1:-$RG_PID}/stat" | awk '{ print $12, $13 }'; }
# thread_ticks - "TID COMM UTIME STIME" of every thread of the milter
thread_ticks() {
    local f
    for f in /proc/"$RG_PID"/task/*/stat; do
        sed 's/^\([0-9]*\) (\(.*\)) /\1 \2 /' "$f" 2>/dev/null
    done | awk '{ print $1, $2, $14, $15 }'
}
# threads - each thread of the milter: its name, state and where in the
# kernel it waits, with the kernel stack when we may read it (root): what
# a stalled reload waits for
threads() {
    local t
    for t in /proc/"$RG_PID"/task/*; do
        printf '%s %s %s; ' "$(cat "$t/comm")" "$(awk '{ print $3 }' "$t/stat")" "$(cat "$t/wchan")"
        tr '\n' ' ' <"$t/stack" 2>/dev/null
    done
}
reloads() { "$RG_CTL" -c "$RG_CONF" --json stats | rg_json reloads; }
# collector_has N - has the collector stored N events or more?
collector_has() {
    test "$("$B" -c "$D/on.conf" events --json --last 0 |
        sed -n 's/.*"stored": \([0-9]*\).*/\1/p')" -ge "$1"
}
# reloaded_since N - has the milter reloaded since its count was N? (a
# function, so each try reads the count again: "test $(reloads) -gt N"
# as e2e_wait_until's command read it once, before the first try, and a
# reload slower than that read - at load 14-20 - looked like none)
reloaded_since() { test "$(reloads)" -gt "$1"; }
# switch MODE - the milter on MODE's configuration
switch() {
    local r
    r=$(reloads)
    cp "$D/$1.conf" "$RG_CONF"
    kill -USR1 "$RG_PID"
    e2e_wait_until 30 reloaded_since "$r" ||
        e2e_bail "no reload in 30 s; the milter's threads (name, state, kernel wait): $(threads)"
}
# perf stat: task-clock (ns, the milter's threads, its connection threads
# inherited) and the exact counts; events the machine lacks are dropped
# (a VM without a PMU has no cycles or instructions)
command -v perf >/dev/null || e2e_bail "no perf (linux-perf)"
EVENTS=task-clock
MISSING=""
for ev in context-switches cpu-migrations page-faults raw_syscalls:sys_enter \
    syscalls:sys_enter_futex sched:sched_wakeup cycles instructions ${BENCH_MILTER_EVENTS:-}; do
    if perf stat -e "$ev" -x, -o "$D/probe.out" -- true 2>/dev/null &&
       ! grep -q 'not supported\|not counted' "$D/probe.out"; then
        EVENTS=$EVENTS,$ev
    else
        MISSING="$MISSING $ev"
    fi
done
# round MODE BASE N - N messages on MODE; appends to $D/rounds:
#   "MODE pair cpu_s wall_s utime stime collector_s sender_s EV=count..."
round() {
    local pp s e u0 u1 c0 c1 hz ev
    switch "$1"
    wp=""
    if [ "${BENCH_MILTER_WAKERS:-0}" = 1 ]; then
        perf record -q -a -e sched:sched_wakeup -o "$D/wakers.$3.$1" 2>/dev/null &
        wp=$!
    fi
    perf stat --per-thread -e "$EVENTS" -x, -p "$RG_PID" -o "$D/perf.out" &
    pp=$!
    sleep 0.3
    thread_ticks >"$D/thr.0"
    u0=$(ticks) c0=$(ticks "$CPID")
    s=$(date +%s%N)
    RG_MILTER_SOCK="unix:$D/state/milter.sock" RG_MSGS=$msgs RG_BASE=$2 \
        miltertest -s "$here/milter_load.lua" >"$D/mt.out" 2>&1 ||
        e2e_bail "miltertest failed: $(tail -n 3 "$D/mt.out" | tr '\n' ' ')"
    e=$(date +%s%N)
    u1=$(ticks)
    thread_ticks >"$D/thr.1"
    # the collector stores what came at the end of the round meanwhile
    sleep 0.1
    c1=$(ticks "$CPID")
    kill -INT "$pp" $wp
    wait "$pp" $wp
    # an "on" round's events are all stored before the next round starts
    # (the intake gathers the milter's batches for a second; its work
    # must not fall into the next round), and the collector's CPU after
    # the round is counted apart: work moved past a short round is not
    # work saved
    c2=$c1
    if [ "$1" = on ]; then
        on_events=$((on_events + msgs))
        e2e_wait_until 10 collector_has "$on_events"
        c2=$(ticks "$CPID")
    fi
    # the events counters since the last round (a drop in a stop's drain
    # shows in the round after the switch)
    ev=$("$RG_CTL" -c "$RG_CONF" --json stats)
    ev="$(echo "$ev" | rg_json events_sent) $(echo "$ev" | rg_json events_dropped)"
    [ -n "${BENCH_MILTER_KEEP:-}" ] && cp "$D/perf.out" "$BENCH_MILTER_KEEP/perf.$3.$1"
    hz=$(getconf CLK_TCK)
    awk -F, -v mode="$1" -v pair="$3" -v wall="$(( (e - s) / 1000 ))" -v u="$u0 $u1" \
        -v c="$c0 $c1" -v hz="$hz" '
    /^#/ || NF < 4 { next }
    $2 ~ /^[0-9.]+$/ { v[$4] += $2; if ($1 ~ /^rg-events-/ && $4 == "task-clock") snd += $2 }
    END {
        split(u, a, " "); split(c, b, " ")
        printf "%s %d %.6f %.6f %d %d %.3f %.6f", mode, pair, v["task-clock"] / 1000,
            wall / 1e6, a[3] - a[1], a[4] - a[2], (b[3] + b[4] - b[1] - b[2]) / hz, snd / 1000
        for (k in v) if (k != "task-clock") printf " %s=%d", k, v[k]
        # user and system ticks of the sender thread over the round
        # (/proc of each thread; it lives through the round, where
        # libmilter workers may end before its end: theirs are the
        # process figures less the sender thread)
        while ((getline l < thr0) > 0) { split(l, t, " "); t0[t[1]] = t[3] " " t[4] }
        while ((getline l < thr1) > 0) {
            split(l, t, " "); split(t0[t[1]] == "" ? "0 0" : t0[t[1]], z, " ")
            if (t[2] == "rg-events") { su += t[3] - z[1]; ss += t[4] - z[2] }
        }
        split(ev, x, " "); split(evlast, y, " ")
        split(c2, t2, " ")
        printf " tk_snd_u=%d tk_snd_s=%d tk_col_after=%d ev_sent=%d ev_dropped=%d\n", su, ss,
            t2[1] + t2[2] - b[3] - b[4], x[1] - y[1], x[2] - y[2]
    }' thr0="$D/thr.0" thr1="$D/thr.1" ev="$ev" evlast="$evlast" c2="$c2" "$D/perf.out" >>"$D/rounds"
    evlast=$ev
}
[ -n "${BENCH_MILTER_KEEP:-}" ] && mkdir -p "$BENCH_MILTER_KEEP"
: >"$D/rounds"
evlast="0 0"
on_events=0
# warm: the logins exist
round off 0 0
: >"$D/rounds"
# block r: the modes in turn, reversed every other block (ABBA; with
# null ABC CBA BCA ACB CAB BAC: each mode as often first, middle, last)
set -- $modes
for r in $(seq "$rounds"); do
    case $(( (r - 1) % ($# == 3 ? 6 : 2) )) in
    0) order="$1 $2 ${3:-}" ;; 1) order="${3:-} $2 $1" ;; 2) order="$2 $3 $1" ;;
    3) order="$1 $3 $2" ;; 4) order="$3 $1 $2" ;; 5) order="$2 $1 $3" ;;
    esac
    for mode in $order; do round "$mode" "$((r * msgs))" "$r"; done
done
sent=$("$RG_CTL" -c "$RG_CONF" --json stats | rg_json events_sent)
dropped=$("$RG_CTL" -c "$RG_CONF" --json stats | rg_json events_dropped)
[ -n "${BENCH_MILTER_KEEP:-}" ] && cp "$D/rounds" "$BENCH_MILTER_KEEP/rounds"
awk -v m="$msgs" -v sent="$sent" -v dropped="$dropped" -v missing="$MISSING" \
    -v hz="$(getconf CLK_TCK)" -v out="$E2E_BUILD/bench/milter-result" -f "$here/stats_lib.awk" -f "$here/bench_milter_stats.awk" "$D/rounds"
if [ "${BENCH_MILTER_WAKERS:-0}" = 1 ]; then
    python3 "$here/wakers.py" "$msgs" "$D"/wakers.[1-9]*.*
    rm -f "$D"/wakers.*
fi
