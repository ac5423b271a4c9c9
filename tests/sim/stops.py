#!/usr/bin/env python3
"""stops.py - who of the honest users was stopped, and why (issue 16).

usage: stops.py DIR

DIR is a run kept by `efficacy.sh --keep DIR` or `make efficacy-sweep
KEEP=...` (truth.tsv, verdicts.txt, users.tsv). Prints one line per
honest user with a message held, tempfailed or rejected: the user's kind,
home city, carrier, join day and days away (users.tsv), how many messages,
on which days (counted from the log's first UTC day), by which rules, by
which ways in (home, mobile, hotel, ...), then the first stop's evidence.
Users with the most stops first; the last line is the total, which must
agree with score.py's "honest held/refused X".
"""
import collections
import os
import re
import sys

STOPPED = ('quarantine', 'tempfail', 'reject')


def rows(path):
    with open(path, encoding='utf-8') as f:
        return [l.rstrip('\n').split('\t') for l in f if not l.startswith('#')]


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: stops.py DIR')
    d = sys.argv[1]
    truth = rows(os.path.join(d, 'truth.tsv'))
    with open(os.path.join(d, 'verdicts.txt'), encoding='utf-8') as f:
        verdicts = [l.rstrip('\n') for l in f]
    if len(truth) != len(verdicts):
        sys.exit('stops.py: %d submissions, %d verdicts' % (len(truth), len(verdicts)))
    users = {u[0]: u for u in rows(os.path.join(d, 'users.tsv'))}
    day0 = min(int(t[1]) for t in truth) // 86400
    per = {}
    for t, v in zip(truth, verdicts):
        m = re.search(r'action=(\S+) rule=(\S+)', v)
        if t[5] != 'honest' or not m or m.group(1) not in STOPPED:
            continue
        e = per.setdefault(t[6], {'n': 0, 'rules': collections.Counter(),
                                  'via': collections.Counter(), 'days': set(),
                                  'why': None})
        e['n'] += 1
        e['rules'][m.group(2)] += 1
        e['via'][t[7]] += 1
        e['days'].add(int(t[1]) // 86400 - day0)
        if e['why'] is None:
            r = re.search(r'reason="([^"]*)"', v)
            e['why'] = r.group(1) if r else ''
    total = 0
    for who, e in sorted(per.items(), key=lambda x: (-x[1]['n'], x[0])):
        u = users.get(who, [who] + ['?'] * 6)
        total += e['n']
        print('%s %d: %s, %s, carrier %s, joins %s, away %s; days %s; %s; via %s'
              % (who, e['n'], u[1], u[2], u[3], u[5], u[6],
                 ','.join(str(x) for x in sorted(e['days'])),
                 ' '.join('%s %d' % kv for kv in e['rules'].most_common()),
                 ' '.join('%s %d' % kv for kv in e['via'].most_common())))
        print('    first: %s' % e['why'])
    print('stops: %d honest messages of %d users' % (total, len(per)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
