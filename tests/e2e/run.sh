#!/bin/bash
# run.sh - run every tests/e2e/t_*.sh against BUILD_DIR, one after the
# other, and print one summary line "e2e: N passed, M failed".
# A test counts its own "ok - " / "not ok - " lines; one that exits
# non-zero without a "not ok" line, or runs past E2E_TEST_TIMEOUT seconds
# (default 180), counts as one failure; exit 77 with no checks is a skip.
# Should a test be killed before its trap ran, the Postfix instance and
# the processes it recorded are stopped here.
# Usage: tests/e2e/run.sh BUILD_DIR [t_name.sh ...]

here=$(cd -- "$(dirname -- "$0")" && pwd)
build=${1:-build}
shift 2>/dev/null
case $build in /*) ;; *) build=$(cd -- "$build" 2>/dev/null && pwd || echo "$PWD/$build") ;; esac
# Each test makes its temp dir under one private directory of this run,
# so that what a killed test left behind is found (and nothing of a
# concurrent run is touched).  postfix and nobody must traverse it.
runtmp=$(mktemp -d "${E2E_TMPDIR:-/tmp}/rg-e2e-run.XXXXXX") || exit 1
chmod 755 "$runtmp"
export E2E_RUNNER=1 E2E_BUILD=$build E2E_TMPDIR=$runtmp

if [ $# -gt 0 ]; then
    tests=()
    for t in "$@"; do tests+=("$here/$(basename -- "$t")"); done
else
    tests=("$here"/t_*.sh)
    [ -e "${tests[0]}" ] || tests=()
fi

# clear_of_hour - T: a test whose header says "# e2e: hour-sensitive"
# counts in the milter's hour buckets (1h windows, bytes), and a sum read
# after a full hour of units added before it counts their bucket only
# for the part still in the window, rounded down: 5 messages sent in an
# hour's last 30 s are 4 twenty seconds later (a limit of 5 lets a sixth
# through, an exact count is one short). Such a test starts with at
# least E2E_HOUR_MARGIN (150) seconds left in the hour (UTC, the
# buckets' hours), or waits here, outside its own timeout, until the hour
# has passed.
clear_of_hour() {
    local left
    grep -q '^# e2e: hour-sensitive' "$1" || return 0
    left=$((3600 - $(date +%s) % 3600))
    [ "$left" -gt "${E2E_HOUR_MARGIN:-150}" ] && return 0
    echo "# $(basename -- "$1") waits ${left}s for the hour to pass (hour-sensitive)"
    sleep "$((left + 1))" &
    wait "$!"
}

# reap - DIR: stop what a killed test left running in its temp dir
reap() {
    local d=$1 pid st now
    if [ -f "$d/etc/main.cf" ] && [ -f "$d/q/pid/master.pid" ]; then
        timeout -k 2 15 postfix -c "$d/etc" stop >/dev/null 2>&1
    fi
    if [ -f "$d/pids" ]; then
        while read -r pid st; do
            now=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $20 }')
            [ -n "$now" ] && [ "$now" = "$st" ] && kill -s KILL "$pid" 2>/dev/null
        done <"$d/pids"
    fi
    [ -n "${KEEP:-}" ] || rm -rf -- "$d"
}

# reap_all - stop and remove whatever the tests left under runtmp
reap_all() {
    local d
    for d in "$runtmp"/rg-e2e.*; do
        [ -d "$d" ] && reap "$d"
    done
    return 0
}
# on_exit - stop a test still running, then clean up after it
on_exit() {
    if [ -n "${tpid:-}" ]; then
        kill -s TERM "$tpid" 2>/dev/null
        wait "$tpid" 2>/dev/null
        wait "$tailpid" 2>/dev/null
    fi
    reap_all
    [ -n "${KEEP:-}" ] || rm -rf -- "$runtmp"
    [ -n "${log:-}" ] && rm -f -- "$log"
}
tpid=""
log=""
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

pass=0 fail=0 skip=0
for t in "${tests[@]}"; do
    name=$(basename -- "$t")
    clear_of_hour "$t"
    log=$(mktemp) || exit 1
    echo "# $name"
    started=$SECONDS
    # In the background, so that a signal to this script runs its trap at
    # once (the trap stops the test, whose own trap then cleans up).
    timeout -k 20 "${E2E_TEST_TIMEOUT:-180}" bash "$t" "$build" >"$log" 2>&1 </dev/null &
    tpid=$!
    tail -s 0.2 -n +1 -f --pid="$tpid" "$log" &
    tailpid=$!
    wait "$tpid"
    rc=$?
    tpid=""
    wait "$tailpid"
    echo "# $name took $((SECONDS - started))s"
    p=$(grep -c '^ok - ' "$log")
    f=$(grep -c '^not ok - ' "$log")
    rm -f -- "$log"
    if [ "$rc" -eq 77 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        skip=$((skip + 1))
        continue
    fi
    if [ "$rc" -eq 124 ]; then
        echo "not ok - $name timed out after ${E2E_TEST_TIMEOUT:-180}s"
        f=$((f + 1))
    elif [ "$rc" -gt 128 ]; then
        echo "not ok - $name killed by signal $((rc - 128))"
        f=$((f + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $name exited with status $rc"
        f=$((f + 1))
    fi
    # Left behind: either KEEP=1 or a test killed before its trap ran.
    reap_all
    pass=$((pass + p))
    fail=$((fail + f))
done

[ "$skip" -gt 0 ] && echo "# $skip test file(s) skipped (need root and the packages of scripts/deps.sh)"
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
