#!/bin/bash
# bench_milter_pair.sh - the milter's cost per message with events on and
# off, measured on two milter instances at the same time (make
# bench-milter-pair, and the milter figure of make bench-collector; not a
# test). Why: the ABBA rounds of bench_milter_cpu.sh run one after the
# other, and this VM's speed moves by +-15 % from one round to the next,
# so 96 pairs of 8,000 messages still left 0.98 undecided. Here both
# configurations see the same machine at the same moment.
#
# Two relayguard-milter processes, a and b (the e2e harness's private
# configuration, GeoIP test databases; each its own state file, socket
# and pid file; otherwise the same file), one with events on (to
# "relayguard-collector run", started as the shipped unit starts it), the
# other off. One miltertest (bench/milter_load.lua) sends every message
# to both in lock step: message i to one, then the same message i to the
# other, one connection each. Per block of BENCH_PAIR_MESSAGES (default
# 400) each instance's CPU time is read from the kernel's process CPU
# clock (clock_gettime of the pid's CPUCLOCK: nanoseconds, all threads,
# dead ones included) before and after the block, while both are idle;
# the block's figure is CPU(off instance) / CPU(on instance), i.e.
# messages per CPU second with events / without. Between blocks both
# instances reload (SIGUSR1, every block, so a reload's after-effects
# fall on both) and the roles rotate over the four combinations of which
# instance has events and which socket goes first, cancelling any
# asymmetry of the two processes (the figures per combination are
# printed). BENCH_PAIR_BLOCKS blocks (default 64) after one unmeasured
# warm block.
#
# Printed: the median of the blocks' ratios, its distribution-free 95 %
# confidence interval (order statistics, stats_lib.awk), the 20 %
# trimmed mean, the ratio of the summed CPU times, and the verdict on
# 0.98 (met only when the interval lies wholly above it); CPU per
# message of each role, the sender thread's share (its schedstat
# nanoseconds), the collector's CPU per event during the blocks (not in
# the figure: it shares the cores, and since both instances run at the
# same moments its side effects fall on both alike, so the figure is the
# milter's own cost), and the event counts (sent, dropped, stored).
#
# Controls (that the method works; BENCH_PAIR_CONTROL):
#   same     both instances with events off: must give 1.000 with a tight
#            interval (its width is the method's resolution)
#   burn:NS  both off and both run with bench/preload/burn_accept.so
#            (LD_PRELOAD); the instance in the "on" role spends NS more
#            nanoseconds of CPU after each accept() (one a message): the
#            expected ratio, printed beside the measured one, is
#            cpu / (cpu + NS) - the method must find it
# The old design (rounds one after the other, one instance, exact perf
# counts per mode) stays: bench/bench_milter_cpu.sh (BENCH_MILTER_MODE=abba
# for bench_collector.sh).
# Usage: bench/bench_milter_pair.sh BUILD_DIR
here=$(cd "$(dirname "$0")" && pwd)
set -- "$(cd "${1:-build}" && pwd)"
. "$here/../tests/e2e/lib.sh"
. "$here/../tests/e2e/relayguard.sh"
e2e_init
msgs=${BENCH_PAIR_MESSAGES:-400}
blocks=${BENCH_PAIR_BLOCKS:-64}
control=${BENCH_PAIR_CONTROL:-}
burn=0
case $control in
    "") ;;
    same) ;;
    burn:[0-9]*) burn=${control#burn:} ;;
    *) e2e_bail "BENCH_PAIR_CONTROL: same or burn:NS, not $control" ;;
esac
B=$E2E_BUILD/relayguard-collector
. "$here/milter_confs.sh"
# each instance its own state directory (state file, socket, pid file)
for i in a b; do
    mkdir -p "$D/s$i"
    chown nobody:nogroup "$D/s$i"
    for m in on off; do
        sed "s|$D/state/|$D/s$i/|g" "$D/$m.conf" >"$D/$i.$m.conf"
    done
    cmp -s "$D/$i.off.conf" "$D/off.conf" && e2e_bail "no state path to move in off.conf"
    printf '%-20d\n' 0 >"$D/$i.burn"
done
# the role "on" takes: events on, or (controls) the same off configuration
role_on=on
[ -n "$control" ] && role_on=off
. "$here/collector_unit.sh"
unit_collector_start "$D/on.conf"
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start"
unit=$(unit_sched_check "$CPID")
[ -z "$unit" ] || e2e_bail "the collector does not run as the unit would: $unit"
preload=""
if [ "$burn" -gt 0 ]; then
    preload=$E2E_BUILD/bench/burn_accept.so
    [ -f "$preload" ] || e2e_bail "no $preload (make $preload)"
fi
declare -A PID
for i in a b; do
    cp "$D/$i.off.conf" "$D/$i.conf"
    e2e_bg "milter-$i" env ${preload:+LD_PRELOAD=$preload} RG_BURN_FILE="$D/$i.burn" \
        "$RG_MILTER" -f -c "$D/$i.conf"
    PID[$i]=$E2E_BG_PID
done
for i in a b; do
    e2e_wait_until 10 test -S "$D/s$i/milter.sock" || e2e_bail "milter $i did not start: $(cat "$E2E_DIR/milter-$i.log")"
done

# stat I KEY - a number from instance I's relayguardctl stats
stat() { "$RG_CTL" -c "$D/$1.conf" --json stats | rg_json "$2"; }
# reloaded_since I N - has instance I reloaded since its count was N?
reloaded_since() { test "$(stat "$1" reloads)" -gt "$2"; }
# roles ON - instance ON in the "on" role, the other off (ON none: both
# off); both reload
roles() {
    local i r
    for i in a b; do
        r[${#r[@]}]=$(stat "$i" reloads)
        if [ "$i" = "$1" ]; then cp "$D/$i.$role_on.conf" "$D/$i.conf"; else cp "$D/$i.off.conf" "$D/$i.conf"; fi
        printf '%-20d\n' "$([ "$i" = "$1" ] && echo "$burn" || echo 0)" 1<>"$D/$i.burn"
        kill -USR1 "${PID[$i]}"
    done
    e2e_wait_until 30 reloaded_since a "${r[0]}" || e2e_bail "instance a did not reload in 30 s"
    e2e_wait_until 30 reloaded_since b "${r[1]}" || e2e_bail "instance b did not reload in 30 s"
}
# clocks - "cpu_a cpu_b cpu_collector snd_a snd_b" in nanoseconds: each
# process's CPU clock (all its threads, ended ones included), and each
# milter's event sender threads (rg-events; schedstat) as "TID:NS,...";
# with FILE, every thread's CPU into it (BENCH_PAIR_THREADS)
clocks() {
    python3 - "${PID[a]}" "${PID[b]}" "$CPID" ${1:+"$1"} <<'PY'
import glob, sys, time
pids = [int(p) for p in sys.argv[1:4]]
out = [str(time.clock_gettime_ns(((~p) << 3) | 2)) for p in pids]
for p in pids[:2]:
    snd = []
    for t in glob.glob("/proc/%d/task/*" % p):
        try:
            if open(t + "/comm").read().strip() == "rg-events":
                snd.append("%s:%s" % (t.rsplit("/", 1)[1], open(t + "/schedstat").read().split()[0]))
        except OSError:
            pass
    out.append(",".join(snd) or "-")
print(" ".join(out))
if len(sys.argv) > 4:
    # every thread's CPU (BENCH_PAIR_THREADS): "PID TID COMM NS"
    with open(sys.argv[4], "w") as f:
        for p in pids:
            for t in glob.glob("/proc/%d/task/*" % p):
                try:
                    f.write("%d %s %s %s\n" % (p, t.rsplit("/", 1)[1], open(t + "/comm").read().strip(),
                                               open(t + "/schedstat").read().split()[0]))
                except OSError:
                    pass
PY
}
# block R ON FIRST - one block: instance ON in the "on" role, socket FIRST
# first; appends "R ON FIRST cpu_on cpu_off cpu_collector snd_on" (ns)
block() {
    local other=a second t0 t1
    [ "$2" = a ] && other=b
    second=a; [ "$3" = a ] && second=b
    roles "$2"
    t0=$(clocks ${BENCH_PAIR_THREADS:+"$BENCH_PAIR_THREADS/thr.$1.0"})
    RG_MILTER_SOCK="unix:$D/s$3/milter.sock" RG_MILTER_SOCK2="unix:$D/s$second/milter.sock" \
        RG_MSGS=$msgs RG_BASE=$(( $1 * msgs )) \
        miltertest -s "$here/milter_load.lua" >"$D/mt.out" 2>&1 ||
        e2e_bail "miltertest failed: $(tail -n 3 "$D/mt.out" | tr '\n' ' ')"
    t1=$(clocks ${BENCH_PAIR_THREADS:+"$BENCH_PAIR_THREADS/thr.$1.1"})
    [ "$(echo "$t0 $t1" | wc -w)" = 10 ] || e2e_bail "cannot read the CPU clocks: $t0 / $t1"
    awk -v r="$1" -v on="$2" -v first="$3" -v t0="$t0" -v t1="$t1" 'BEGIN {
        split(t0, x, " "); split(t1, y, " ")
        io = on == "a" ? 1 : 2; ix = 3 - io
        # the sender threads alive through the block
        n = split(x[3 + io], s0, ","); for (i = 1; i <= n; i++) { split(s0[i], kv, ":"); was[kv[1]] = kv[2] }
        n = split(y[3 + io], s1, ","); snd = 0
        for (i = 1; i <= n; i++) { split(s1[i], kv, ":"); if (kv[1] in was) snd += kv[2] - was[kv[1]] }
        printf "%d %s %s %d %d %d %d\n", r, on, first, y[io] - x[io], y[ix] - x[ix], y[3] - x[3], snd
    }' >>"$D/blocks"
}

echo "bench_milter_pair: ${control:-events on vs off}, $blocks blocks of $msgs messages to each of two instances; load $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$D/blocks"
# warm: the logins exist in both states
block 0 none a
: >"$D/blocks"
# the four combinations of (instance on, socket first) in turn
for r in $(seq "$blocks"); do
    case $(( (r - 1) % 4 )) in
        0) block "$r" a a ;; 1) block "$r" b b ;; 2) block "$r" a b ;; 3) block "$r" b a ;;
    esac
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
# every event the on role sent is stored (only with events on)
sent=$(( $(stat a events_sent) + $(stat b events_sent) ))
dropped=$(( $(stat a events_dropped) + $(stat b events_dropped) ))
stored=0
if [ -z "$control" ]; then
    collector_has() {
        stored=$("$B" -c "$D/on.conf" events --json --last 0 | sed -n 's/.*"stored": \([0-9]*\).*/\1/p')
        test "${stored:-0}" -ge "$1"
    }
    e2e_wait_until 30 collector_has "$sent"
fi
[ -n "${BENCH_PAIR_KEEP:-}" ] && cp "$D/blocks" "$BENCH_PAIR_KEEP"
awk -v m="$msgs" -v control="$control" -v burn="$burn" -v sent="$sent" -v dropped="$dropped" \
    -v stored="$stored" -v load="$load_end" -v out="$E2E_BUILD/bench/milter-result" \
    -f "$here/stats_lib.awk" -f "$here/bench_milter_pair.awk" "$D/blocks" || e2e_bail "no figures"
want=$(( blocks * msgs ))
if [ -z "$control" ] && { [ "$sent" -ne "$want" ] || [ "$dropped" -ne 0 ] || [ "$stored" -lt "$sent" ]; }; then
    echo "bench_milter_pair: events: sent $sent of $want, dropped $dropped, stored $stored" >&2
    exit 1
fi
exit 0
