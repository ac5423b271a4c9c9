#!/usr/bin/env python3
"""standing.py - EFFICACY.md's "Where it stands" table from kept sweeps (issue 16).

usage: standing.py ROOT

ROOT holds one directory per set of kept sites (X, T, F, G, N, H, H2..H5:
the names EFFICACY.md uses), each with the MIX-SEED.out files that
`sweep.sh --keep` or `sweep.sh --sites` wrote (efficacy.sh --goal's
output). Prints one Markdown row per set and mix: the seeds, how many
runs met every target, the honest messages held or refused summed over
the seeds, and which targets were missed in how many runs; then the
runs meeting every target in all. A set's directory that is missing is
left out.
"""
import collections
import os
import re
import sys

SETS = [('X', ''), ('T', ' (T, tuning)'), ('F', ' (F, tuning)'),
        ('G', ' (G, tuning)'), ('N', ' (probe)'), ('H', ' (held out)'),
        ('H2', ' (held out)'), ('H3', ' (held out)'), ('H4', ' (held out)'),
        ('H5', ' (held out)')]


def runs(d):
    """{mix: [(seed, honest held, honest messages, [targets missed])]}"""
    mixes = collections.defaultdict(list)
    for name in sorted(os.listdir(d)):
        m = re.fullmatch(r'(.+)-(\d+)\.out', name)
        if not m:
            continue
        with open(os.path.join(d, name), encoding='utf-8') as f:
            text = f.read()
        h = re.search(r'^efficacy: honest held/refused (\d+) of (\d+)',
                      text, re.M)
        if not h:
            sys.exit('standing.py: %s: no efficacy line' % name)
        # "goal missed: honest held/refused ..." and "users affected ..."
        # name the honest goals by their first word
        missed = sorted(set(re.findall(r'^goal missed: (\S+)', text, re.M)))
        mixes[m.group(1)].append((int(m.group(2)), int(h.group(1)),
                                  int(h.group(2)), missed))
    return mixes


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: standing.py ROOT')
    print('| site (mix, seeds) | runs meeting every target '
          '| honest held/refused, summed | targets missed (runs) |')
    print('|---|---|---|---|')
    met_all = runs_all = 0
    per_set = []
    for s, label in SETS:
        d = os.path.join(sys.argv[1], s)
        if not os.path.isdir(d):
            continue
        met_set = runs_set = 0
        for mix, rs in sorted(runs(d).items()):
            seeds = [r[0] for r in rs]
            met = sum(1 for r in rs if not r[3])
            held, n = sum(r[1] for r in rs), sum(r[2] for r in rs)
            miss = collections.Counter(t for r in rs for t in r[3])
            print('| %s %d-%d%s | %d of %d | %d of %d (%.3f %%) | %s |' % (
                mix, min(seeds), max(seeds), label, met, len(rs), held, n,
                100.0 * held / n if n else 0.0,
                ', '.join('%s x%d' % kv for kv in miss.most_common()) or '-'))
            met_set += met
            runs_set += len(rs)
        per_set.append('%s %d of %d' % (s, met_set, runs_set))
        met_all += met_set
        runs_all += runs_set
    print('\nruns meeting every target: %d of %d (%s)' % (
        met_all, runs_all, ', '.join(per_set)))


if __name__ == '__main__':
    main()
