# collector_unit.sh - sourced by the benchmarks that run the collector
# beside the milter: UNIT_SCHED, the command prefix that gives a process
# the CPU and I/O scheduling of the shipped unit
# (etc/systemd/relayguard-collector.service: Nice=, CPUSchedulingPolicy=,
# IOSchedulingClass=, IOSchedulingPriority=), so a bench runs the
# collector as a real deployment does - no advantage, no handicap; and
# unit_sched_check PID, which says how PID's nice and policy differ
# from the unit's (nothing when they agree); and unit_collector_start,
# which starts it so (for the e2e harness's benches).
UNIT_FILE=${UNIT_FILE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/etc/systemd/relayguard-collector.service}
# unit_key KEY - the value of KEY= in the unit's [Service] section
unit_key() { sed -n "s/^$1=//p" "$UNIT_FILE" | tail -n 1; }
UNIT_NICE=$(unit_key Nice)
UNIT_POLICY=$(unit_key CPUSchedulingPolicy)
UNIT_IOCLASS=$(unit_key IOSchedulingClass)
UNIT_IOPRIO=$(unit_key IOSchedulingPriority)
UNIT_SCHED=""
[ -n "$UNIT_NICE" ] && UNIT_SCHED="nice -n $UNIT_NICE"
case $UNIT_POLICY in
    "") ;;
    batch | idle | other) UNIT_SCHED="$UNIT_SCHED chrt --$UNIT_POLICY 0" ;;
    *) echo "collector_unit.sh: CPUSchedulingPolicy=$UNIT_POLICY not handled" >&2; exit 1 ;;
esac
case $UNIT_IOCLASS in
    "") ;;
    best-effort) UNIT_SCHED="$UNIT_SCHED ionice -c 2 -n ${UNIT_IOPRIO:-4}" ;;
    idle) UNIT_SCHED="$UNIT_SCHED ionice -c 3" ;;
    *) echo "collector_unit.sh: IOSchedulingClass=$UNIT_IOCLASS not handled" >&2; exit 1 ;;
esac
# unit_sched_check PID - "" when PID runs with the unit's nice and policy
unit_sched_check() {
    local f nice pol want=0
    f=$(sed 's/^.*) //' "/proc/$1/stat") || { echo "no process $1"; return; }
    nice=$(echo "$f" | awk '{ print $17 }')
    pol=$(echo "$f" | awk '{ print $39 }')	# 0 other, 3 batch, 5 idle
    case $UNIT_POLICY in batch) want=3 ;; idle) want=5 ;; esac
    [ "$nice" = "${UNIT_NICE:-0}" ] || echo "nice $nice, the unit's ${UNIT_NICE:-0}"
    [ "$pol" = "$want" ] || echo "policy $pol, the unit's $want ($UNIT_POLICY)"
}
# unit_collector_start CONF - "relayguard-collector run" on CONF in the
# background (e2e_bg; its pid in CPID) as the unit runs it, with a unix
# queue of 512 (the package's sysctl.d setting) when we may, as
# bench_intake.sh does; BENCH_COLLECTOR: another binary. The unit's
# Nice= is absolute: a bench run under "nice -n 5" gives the collector
# nice 10 all the same, not 15
unit_collector_start() {
    local bin=${BENCH_COLLECTOR:-$E2E_BUILD/relayguard-collector}
    local UNIT_SCHED=${UNIT_SCHED/nice -n $UNIT_NICE/nice -n $(( ${UNIT_NICE:-0} - $(nice) ))}
    if unshare -n sysctl -qw net.unix.max_dgram_qlen=512 2>/dev/null; then
        e2e_bg collector unshare -n sh -c 'sysctl -qw net.unix.max_dgram_qlen=512 && exec "$@"' sh \
            $UNIT_SCHED "$bin" -f -c "$1" run
    else
        e2e_bg collector $UNIT_SCHED "$bin" -f -c "$1" run
    fi
    CPID=$E2E_BG_PID
}
