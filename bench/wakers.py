#!/usr/bin/env python3
"""wakers.py - who wakes whom around the milter, per message and mode
(bench_milter_cpu.sh with BENCH_MILTER_WAKERS=1).

Usage: wakers.py MESSAGES FILE...   (FILE: perf.data of "perf record -a
-e sched:sched_wakeup" over one round, named ....MODE)

Counts each sched_wakeup whose waker (the task current when the wake-up
was made: a thread, or whatever ran when an interrupt made it) or wakee
is one of the bench's processes, by (waker, wakee), and prints them per
message of each mode. A wake-up made from an interrupt counts against
the task it interrupted: "milter -> collector" is the collector's timer
or a send waking it while a milter thread ran.
"""
import collections
import re
import subprocess
import sys

NAMES = (("relayguard-mil", "milter"), ("rg-events", "milter-sender"),
         ("miltertest", "miltertest"), ("relayguard-col", "collector"),
         ("python3", "python3"), ("swapper", "idle"), ("kworker", "kworker"),
         ("ksoftirqd", "ksoftirqd"), ("jbd2", "jbd2"))
OURS = {"milter", "milter-sender", "miltertest", "collector"}
LINE = re.compile(r"\s*(.+?)\s+sched:sched_wakeup:\s+comm=(.+?) pid=")


def name(comm):
    """the bench's name for a task's comm"""
    for prefix, n in NAMES:
        if comm.startswith(prefix):
            return n
    return "other"


def main():
    msgs = int(sys.argv[1])
    count = collections.defaultdict(collections.Counter)
    rounds = collections.Counter()
    for f in sys.argv[2:]:
        mode = f.rsplit(".", 1)[1]
        rounds[mode] += 1
        out = subprocess.run(["perf", "script", "-i", f, "-F", "comm,event,trace"],
                             capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            m = LINE.match(line)
            if m:
                pair = (name(m.group(1)), name(m.group(2)))
                if pair[0] in OURS or pair[1] in OURS:
                    count[mode][pair] += 1
    modes = [m for m in ("off", "null", "on") if rounds[m]]
    pairs = sorted({p for m in modes for p in count[m]})
    print("  wake-ups a message (sched_wakeup, system-wide), waker -> wakee: " +
          " / ".join(modes))
    for p in pairs:
        v = [count[m][p] / (msgs * rounds[m]) for m in modes]
        if max(v) >= 0.005:
            print("    %-30s %s" % ("%s -> %s" % p, " ".join("%7.3f" % x for x in v)))


if __name__ == "__main__":
    main()
