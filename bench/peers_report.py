#!/usr/bin/env python3
"""peers_report - the summary of bench/peers.sh.

Usage: peers_report.py RESULTS_DIR ROUNDS "none null milter ..."

Reads RESULTS_DIR/ROUND.NAME.json (peers_load.py's output) and prints the
medians of the per-round throughput ratios in one "peers:" line, the
latency each contender adds per message (its p50 and p99 minus those of
"none"), the targets of issue 14, the failures and the load generator's
CPU share.
"""
import json
import os
import statistics
import sys

RATIOS = [("policyd", "none"), ("policyd", "postfwd"), ("policyd", "prl"),
          ("milter", "null"), ("milter", "none")]
TARGETS = [("policyd", "postfwd", 1.05), ("policyd", "prl", 1.2),
           ("policyd", "none", 0.9), ("milter", "null", 0.95)]


def pct(values, p):
    """The p-th percentile (nearest rank) of values."""
    v = sorted(values)
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def ticks(path):
    """NAME -> clock ticks, from a cpu.* file."""
    out = {}
    with open(path) as f:
        for line in f:
            name, t = line.split()
            out[name] = int(t)
    return out


def cpu_line(res, names, rounds):
    """CPU milliseconds per message of each filter daemon."""
    if not os.path.exists(res + "/cpu.after"):
        return
    before, after = ticks(res + "/cpu.before"), ticks(res + "/cpu.after")
    hz = os.sysconf("SC_CLK_TCK")
    parts = []
    for n in names:
        if n not in after:
            continue
        msgs = 0
        for r in range(1, rounds + 1):
            with open("%s/%d.%s.json" % (res, r, n)) as f:
                msgs += json.load(f)["ok"]
        ms = 1000.0 * (after[n] - before.get(n, 0)) / hz / max(msgs, 1)
        parts.append("%s=%.2f" % (n, ms))
    print("filter daemon CPU per message (ms): " + " ".join(parts))


def main():
    res, rounds, names = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
    rate = {n: [] for n in names}
    lat = {n: [] for n in names}
    fails = {n: 0 for n in names}
    cpu = wall = 0.0
    for r in range(1, rounds + 1):
        for n in names:
            with open("%s/%d.%s.json" % (res, r, n)) as f:
                d = json.load(f)
            rate[n].append(d["ok"] / d["wall"] if d["wall"] > 0 else 0.0)
            lat[n].extend(d["lat"])
            fails[n] += d["fail"]
            cpu += d["cpu"]
            wall += d["wall"]
    ratio = {}
    for a, b in RATIOS:
        ratio[(a, b)] = statistics.median(
            x / y for x, y in zip(rate[a], rate[b]) if y > 0)
    print("peers: " + " ".join("%s/%s=%.2f" % (a, b, ratio[(a, b)])
                               for a, b in RATIOS))
    base50, base99 = pct(lat["none"], 50), pct(lat["none"], 99)
    print("latency added per message (ms, p50/p99 over none's %.1f/%.1f): " % (base50, base99)
          + " ".join("%s=%+.1f/%+.1f" % (n, pct(lat[n], 50) - base50,
                                          pct(lat[n], 99) - base99)
                     for n in names if n != "none"))
    print("messages/s, median of rounds: "
          + " ".join("%s=%.0f" % (n, statistics.median(rate[n])) for n in names))
    for a, b, t in TARGETS:
        got = ratio[(a, b)]
        print("target %s/%s >= %.2f: %.2f %s" % (a, b, t, got, "met" if got >= t else "MISSED"))
    cpu_line(res, names, rounds)
    print("failed sessions: " + " ".join("%s=%d" % (n, fails[n]) for n in names))
    print("load generator CPU: %.0f%% of one core while it ran" % (100.0 * cpu / wall))


if __name__ == "__main__":
    main()
