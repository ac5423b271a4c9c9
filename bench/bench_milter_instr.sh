#!/bin/bash
# bench_milter_instr.sh - the milter's user-space instructions per message
# with events on and off, counted exactly (valgrind's callgrind), beside
# bench_milter_cpu.sh's CPU time (make bench-milter-instr; not a test).
# A count of instructions does not move with the machine's load, so it
# shows a change of a few hundred instructions a message that the CPU
# clock of a shared machine cannot; it says nothing of the kernel's
# share (system calls, wake-ups: bench_milter_cpu.sh counts those) nor of
# cache misses. Under valgrind, libcrypto finds no SHA extensions and
# hashes in plain code, so the seal counts more instructions than it
# runs natively.
#
# The same milter, configuration and load as bench_milter_cpu.sh (events
# on: the collector reads them), each mode run twice from a fresh state,
# for N1 and N2 messages (BENCH_INSTR_N1, default 50; BENCH_INSTR_N2,
# default 250); per message = (count(N2) - count(N1)) / (N2 - N1), so the
# start, the reload and the exit cancel out. Prints the totals and the
# functions (inclusive counts) whose cost a message differs most.
# Usage: bench/bench_milter_instr.sh BUILD_DIR
here=$(cd "$(dirname "$0")" && pwd)
set -- "$(cd "${1:-build}" && pwd)"
. "$here/../tests/e2e/lib.sh"
. "$here/../tests/e2e/relayguard.sh"
e2e_init
n1=${BENCH_INSTR_N1:-50}
n2=${BENCH_INSTR_N2:-250}
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
    e2e_bail "no valgrind (callgrind)"
. "$here/milter_confs.sh"
e2e_bg collector "$E2E_BUILD/relayguard-collector" -c "$D/on.conf" listen
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start"
mkdir -m 777 "$D/cg"
# run MODE N - the milter under callgrind for N messages from a fresh
# state; its count in $D/cg/MODE.N (made here and handed to nobody: the
# milter writes it after it dropped root)
run() {
    local f=$D/cg/$1.$2
    rm -rf "$D/state"/*
    cp "$D/$1.conf" "$RG_CONF"
    : >"$f"
    chown nobody "$f"
    e2e_bg milter valgrind --tool=callgrind --callgrind-out-file="$f" "$RG_MILTER" -f -c "$RG_CONF"
    e2e_wait_until 120 test -S "$D/state/milter.sock" || e2e_bail "milter did not start"
    RG_MILTER_SOCK="unix:$D/state/milter.sock" RG_MSGS=$2 RG_BASE=0 \
        miltertest -s "$here/milter_load.lua" >"$D/mt.out" 2>&1 ||
        e2e_bail "miltertest failed: $(tail -n 3 "$D/mt.out" | tr '\n' ' ')"
    E2E_STOP_GRACE=60 e2e_bg_stop "$E2E_BG_PID"
    callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$f" >"$f.inc" 2>/dev/null ||
        e2e_bail "callgrind wrote no count for $1 $2"
}
for n in "$n1" "$n2"; do run on "$n"; run off "$n"; done
python3 - "$D/cg" "$n1" "$n2" <<'PY'
import collections, re, sys
d, n1, n2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    c = collections.Counter()
    for line in open("%s/%s.inc" % (d, name)):
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*)$", line)
        if m:			# one function may show under two file names
            k = re.sub(r" \[.*\]$", "", m.group(2).strip())
            k = re.sub(r"^(/\S*/|\./)(policy|milter|collector|ctl)/", r"\2/", k)
            c[k] = max(c[k], int(m.group(1).replace(",", "")))
    return c
cnt = {(mode, n): load("%s.%d" % (mode, n)) for mode in ("on", "off") for n in (n1, n2)}
per = {mode: {k: (cnt[mode, n2][k] - cnt[mode, n1][k]) / (n2 - n1)
              for k in set(cnt[mode, n1]) | set(cnt[mode, n2])} for mode in ("on", "off")}
on, off = per["on"].get("PROGRAM TOTALS", 0), per["off"].get("PROGRAM TOTALS", 0)
print("milter user-space instructions per message (callgrind, %d - %d messages): events off %.0f, on %.0f: %+.0f (user space only, SHA-256 without its CPU extensions)"
      % (n2, n1, off, on, on - off))
rows = []
for k in set(per["on"]) | set(per["off"]):
    a, b = per["on"].get(k, 0), per["off"].get(k, 0)
    if k != "PROGRAM TOTALS" and abs(a - b) >= 100:
        rows.append((a - b, a, b, k))
rows.sort(key=lambda r: -abs(r[0]))
print("  functions (inclusive, per message) that differ most: change, on, off")
for r in rows[:24]:
    print("  %+8.0f %8.0f %8.0f  %s" % r)
PY
