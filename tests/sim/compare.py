#!/usr/bin/env python3
"""compare.py - two kept sweeps side by side (issue 16).

usage: compare.py [--md] BEFORE AFTER

BEFORE and AFTER are directories written by `make efficacy-sweep
KEEP=DIR` (sweep.sh --keep): one MIX-SEED.out per run, the output of
efficacy.sh --goal. For the runs both have, prints per mix the runs that
missed a target before and after, then every change of a run: honest
messages stopped and users affected, and each attack's delivered count
(the efficacy line's five and the detail lines' others). A change for the
worse is a REGRESSION line: a target newly missed, more honest messages
stopped, or more of an attack delivered. --md prints the per-mix table in
Markdown. Exit 1 when there is a regression, 0 otherwise.
"""
import collections
import os
import re
import sys


def load(d):
    """{(mix, seed): run} of a kept sweep"""
    runs = {}
    for name in os.listdir(d):
        m = re.fullmatch(r'(.+)-(\d+)\.out', name)
        if not m:
            continue
        with open(os.path.join(d, name), encoding='utf-8') as f:
            text = f.read()
        run = {'missed': re.findall(r'^goal missed: (.*)$', text, re.M),
               'attacks': {}}
        h = re.search(r'^efficacy: honest held/refused (\d+) of (\d+) .*?'
                      r'users affected (\d+) of (\d+)', text, re.M)
        if not h:
            run['broken'] = True
        else:
            run['honest'], run['users'] = int(h.group(1)), int(h.group(3))
            run['n'], run['m'] = int(h.group(2)), int(h.group(4))
        for a in re.finditer(r'^  attack (\S+): delivered (\d+) of (\d+)',
                             text, re.M):
            run['attacks'][a.group(1)] = (int(a.group(2)), int(a.group(3)))
        runs[(m.group(1), int(m.group(2)))] = run
    return runs


def target(line):
    """the name of a missed target: 'spam-run', 'honest held/refused'"""
    return re.sub(r' (delivered .*|is not in the run|[0-9.]+ %.*)$', '', line)


def changes(b, a):
    """(regressions, gains) of one run as text"""
    if b.get('broken') or a.get('broken'):
        return (['run failed'] if a.get('broken') else []), []
    worse, better = [], []
    for key, label in (('honest', 'honest stopped'), ('users', 'users affected')):
        if a[key] != b[key]:
            (worse if a[key] > b[key] else better).append(
                '%s %d -> %d' % (label, b[key], a[key]))
    for name in sorted(set(b['attacks']) | set(a['attacks'])):
        x, y = b['attacks'].get(name), a['attacks'].get(name)
        if x and y and x[0] != y[0]:
            (worse if y[0] > x[0] else better).append(
                '%s %d/%d -> %d/%d' % (name, x[0], x[1], y[0], y[1]))
    tb, ta = {target(t) for t in b['missed']}, {target(t) for t in a['missed']}
    worse += ['newly missed: %s' % t for t in sorted(ta - tb)]
    better += ['now met: %s' % t for t in sorted(tb - ta)]
    return worse, better


def main():
    args = sys.argv[1:]
    md = bool(args) and args[0] == '--md'
    args = args[1:] if md else args
    if len(args) != 2:
        sys.exit('usage: compare.py [--md] BEFORE AFTER')
    before, after = load(args[0]), load(args[1])
    both = sorted(set(before) & set(after))
    if not both:
        sys.exit('compare.py: no run in both')
    per = collections.OrderedDict()
    for k in both:
        p = per.setdefault(k[0], [0, 0, 0, []])
        p[0] += 1
        p[1] += bool(before[k]['missed'] or before[k].get('broken'))
        p[2] += bool(after[k]['missed'] or after[k].get('broken'))
    if md:
        print('| mix | runs | missed before | missed after |')
        print('|---|---|---|---|')
    for mix, (n, mb, ma, _) in per.items():
        print(('| %s | %d | %d | %d |' if md else
               'compare: %s: %d runs, missed %d -> %d') % (mix, n, mb, ma))
    regress = 0
    for k in both:
        worse, better = changes(before[k], after[k])
        if worse:
            regress += 1
            print('REGRESSION %s seed %d: %s%s' % (
                k[0], k[1], '; '.join(worse),
                ' (better: %s)' % '; '.join(better) if better else ''))
        elif better:
            print('better %s seed %d: %s' % (k[0], k[1], '; '.join(better)))
    print('compare: %d runs, %d regressed; missed %d -> %d' % (
        len(both), regress, sum(p[1] for p in per.values()),
        sum(p[2] for p in per.values())))
    return 1 if regress else 0


if __name__ == '__main__':
    sys.exit(main())
