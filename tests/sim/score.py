#!/usr/bin/env python3
"""score.py - the efficacy line from truth.tsv and replay's verdict lines.

usage: score.py [--goal] [--detail] [--users USERS] [--attacks ATTACKS]
                [--row LABELS] TRUTH VERDICTS

TRUTH is gen.py's truth.tsv, VERDICTS the output of
`relayguardctl replay --verdicts` over gen.py's mail.log: one verdict line
per submission in the same order (gen.py writes each submission's lines
together and in time order). Every pair is checked (login, client, and the
queue id when the verdict has one); a mismatch is an error (exit 2), so a
change in replay's order can never score the wrong message.

"delivered" = accept or tag; "stopped" = quarantine (held), tempfail or
reject, each submission counted once as logged. When an attack retries a
tempfailed message (truth.tsv's "try" column: the first attempt's queue id
/ attempt; see retry.py), an attack's figures count messages, not
attempts: a message is delivered when any of its attempts was, stopped
when every attempt was.

Prints the efficacy line, then with --detail more lines (tags on honest
mail, the rules behind honest stops, the internal host, the parallel
burst, collateral). --goal: exit 1 unless issue 16's targets are met.
--row "default,1" prints instead one row of EFFICACY.md's tables.
"""
import argparse
import re
import sys

ATTACKS = [('botnet', 'botnet'), ('proxies', 'proxies'),
           ('low-and-slow', 'low-and-slow'), ('spam-run', 'spam run'),
           ('one-ip', 'one-ip')]
# issue 16: most delivered messages per attack
GOAL_DELIVERED = {'botnet': 3, 'proxies': 5, 'low-and-slow': 10,
                  'spam-run': 10, 'one-ip': 6}
GOAL_HONEST_PCT = 0.1
GOAL_USERS_PCT = 2.0
STOP = {'quarantine', 'tempfail', 'reject'}
PASS = {'accept', 'tag'}
VERDICT = re.compile(r'^(\S+): action=(\S+) rule=(\S+) user="((?:[^"\\]|\\.)*)" '
                     r'client=\[([^\]]*)\]')


def read_truth(path):
    rows = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#'):
                continue
            f = line.rstrip('\n').split('\t')
            qid, t, login, client, rc, cls, who, via = f[:8]
            msg = f[8].rsplit('/', 1)[0] if len(f) > 8 else qid
            rows.append((qid, login if login != '-' else '', client, cls, who,
                         via, msg))
    return rows


def read_verdicts(path):
    out = []
    with open(path, encoding='utf-8', errors='replace') as f:
        for n, line in enumerate(f, 1):
            m = VERDICT.match(line)
            if not m:
                sys.exit('score.py: %s:%d: not a verdict line' % (path, n))
            out.append(m.groups())
    return out


def pair(truth, verdicts):
    """[(truth row, action, rule)], checking that both describe one submission"""
    if len(truth) != len(verdicts):
        print('score.py: %d submissions in truth, %d verdicts'
              % (len(truth), len(verdicts)), file=sys.stderr)
        sys.exit(2)
    out = []
    for i, (t, v) in enumerate(zip(truth, verdicts)):
        qid, action, rule, user, client = v
        if user != t[1].lower() or client != t[2] or qid not in (t[0], 'NOQUEUE'):
            print('score.py: submission %d: truth %s %s %s, verdict %s %s %s'
                  % (i + 1, t[0], t[1], t[2], qid, user, client), file=sys.stderr)
            sys.exit(2)
        if action not in STOP | PASS:
            sys.exit('score.py: unknown action %s' % action)
        out.append((t, action, rule))
    return out


def tally(pairs):
    """counts per class and attack"""
    s = {'n': 0, 'stopped': 0, 'tagged': 0, 'users': set(), 'hit': set(),
         'rules': {}, 'tag_rules': {}, 'att': {}, 'coll': 0, 'coll_n': 0,
         'moves': {}, 'hits': {}, 'host': 0, 'host_n': 0, 'msgs': {},
         'tries': {}}
    last = {}
    for (qid, login, client, cls, who, via, msg), action, rule in pairs:
        stop = action in STOP
        move = '%s>%s' % (last.get(login, 'first'), via)
        last[login] = via
        if cls == 'honest':
            s['n'] += 1
            s['users'].add(who)
            if stop:
                s['stopped'] += 1
                s['hit'].add(who)
                s['hits'][who] = s['hits'].get(who, 0) + 1
                key = '%s %s' % (rule, action)
                s['rules'][key] = s['rules'].get(key, 0) + 1
                s['moves'][move] = s['moves'].get(move, 0) + 1
            elif action == 'tag':
                s['tagged'] += 1
                s['tag_rules'][rule] = s['tag_rules'].get(rule, 0) + 1
        elif cls == 'host':
            s['host_n'] += 1
            s['host'] += stop
        elif cls == 'collateral':
            s['coll_n'] += 1
            s['coll'] += stop
        else:
            a = s['att'].setdefault(who, [0, 0, None, {}])
            sent = s['msgs'].setdefault(who, {})	# message -> delivered
            s['tries'][who] = s['tries'].get(who, 0) + 1
            if msg not in sent:
                sent[msg] = False
                a[1] += 1
            if not stop and not sent[msg]:
                sent[msg] = True
                a[0] += 1
            elif stop:
                a[3][rule] = a[3].get(rule, 0) + 1
                if a[2] is None:
                    a[2] = 'message %d by %s' % (a[1], rule)
    return s


def line(s):
    pct = 100.0 * s['stopped'] / s['n'] if s['n'] else 0.0
    att = ', '.join('%s %d/%d' % (label, *s['att'].get(key, [0, 0])[:2])
                    for key, label in ATTACKS)
    return ('efficacy: honest held/refused %d of %d (%.2f %%), users affected '
            '%d of %d; delivered of each attack: %s; collateral %d'
            % (s['stopped'], s['n'], pct, len(s['hit']), len(s['users']),
               att, s['coll']))


def counts(d):
    """'key n, key n' by n, largest first"""
    return ', '.join('%s %d' % kv for kv in sorted(
        d.items(), key=lambda kv: (-kv[1], kv[0]))) or 'none'


def row(s, label):
    """one row of EFFICACY.md's tables: label columns, then the figures"""
    pct = 100.0 * s['stopped'] / s['n'] if s['n'] else 0.0
    cells = label.split(',') + [
        '{:,} of {:,} ({:.2f} %)'.format(s['stopped'], s['n'], pct),
        '%d of %d' % (len(s['hit']), len(s['users'])), '{:,}'.format(s['tagged'])]
    cells += ['%d/%d' % tuple(s['att'].get(key, [0, 0])[:2]) for key, _ in ATTACKS]
    cells.append('%d of %d' % (s['coll'], s['coll_n']))
    return '| ' + ' | '.join(cells) + ' |'


def detail(s, kinds):
    print('  honest stops by rule: %s' % counts(s['rules']))
    print('  honest stops by move (the login\'s previous way in > this one): %s'
          % counts(s['moves']))
    if kinds:
        users, hit, msgs = {}, {}, {}
        for u in s['users']:
            k = kinds.get(u, '?')
            users[k] = users.get(k, 0) + 1
            if u in s['hit']:
                hit[k] = hit.get(k, 0) + 1
                msgs[k] = msgs.get(k, 0) + s['hits'][u]
        print('  users affected by kind: %s' % ', '.join(
            '%s %d of %d (%d msgs)' % (k, hit.get(k, 0), users[k], msgs.get(k, 0))
            for k in sorted(users)))
    print('  honest tagged: %d (%s)' % (s['tagged'], counts(s['tag_rules'])))
    print('  collateral: %d of %d of the victims\' own messages after their '
          'attack began held/refused' % (s['coll'], s['coll_n']))
    print('  honest internal hosts: %d of %d messages held/refused'
          % (s['host'], s['host_n']))
    for who in sorted(s['att']):
        d, n, first, rules = s['att'][who]
        tries = s['tries'][who]
        print('  attack %s: delivered %d of %d%s, first stopped: %s; stops: %s'
              % (who, d, n, ' (%d attempts: retried after tempfail)' % tries
                 if tries > n else '', first or 'never', counts(rules)))


def read_attacks(path):
    """gen.py's attacks.tsv: attack name -> the target it is judged by"""
    out = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            if not line.startswith('#'):
                name, _, cls = line.rstrip('\n').split('\t')[:3]
                out[name] = cls
    return out


def goal(s, goals=None):
    """the issue's targets; returns the list of misses. goals (attack ->
    target, from attacks.tsv) adds the mix's other attacks judged by one of
    the five targets (e.g. an IPv6 one-ip judged as one-ip)"""
    miss = []
    pct = 100.0 * s['stopped'] / s['n'] if s['n'] else 0.0
    upct = 100.0 * len(s['hit']) / len(s['users']) if s['users'] else 0.0
    if pct > GOAL_HONEST_PCT:
        miss.append('honest held/refused %.2f %% > %.1f %%' % (pct, GOAL_HONEST_PCT))
    if upct > GOAL_USERS_PCT:
        miss.append('users affected %.1f %% > %.0f %%' % (upct, GOAL_USERS_PCT))
    for key, most in GOAL_DELIVERED.items():
        d, n = s['att'].get(key, [0, 0])[:2]
        if n == 0:
            miss.append('%s is not in the run' % key)
        elif d > most:
            miss.append('%s delivered %d > %d' % (key, d, most))
    for who, cls in sorted((goals or {}).items()):
        if who in GOAL_DELIVERED or cls not in GOAL_DELIVERED:
            continue
        d, n = s['att'].get(who, [0, 0])[:2]
        if n and d > GOAL_DELIVERED[cls]:
            miss.append('%s delivered %d > %d (judged as %s)'
                        % (who, d, GOAL_DELIVERED[cls], cls))
    return miss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--goal', action='store_true')
    ap.add_argument('--detail', action='store_true')
    ap.add_argument('--users', help="gen.py's users.tsv (kinds in --detail)")
    ap.add_argument('--attacks', help="gen.py's attacks.tsv (--goal judges "
                    "the mix's other attacks by the target named there)")
    ap.add_argument('--row', metavar='LABELS',
                    help='print a markdown table row instead (LABELS: a,b columns)')
    ap.add_argument('truth')
    ap.add_argument('verdicts')
    a = ap.parse_args()
    s = tally(pair(read_truth(a.truth), read_verdicts(a.verdicts)))
    if a.row:
        print(row(s, a.row))
        return 0
    print(line(s))
    if a.detail:
        kinds = {}
        if a.users:
            with open(a.users, encoding='utf-8') as f:
                kinds = dict(l.split('\t')[:2] for l in f if not l.startswith('#'))
        detail(s, kinds)
    if a.goal:
        miss = goal(s, read_attacks(a.attacks) if a.attacks else None)
        for m in miss:
            print('goal missed: %s' % m)
        print('goal: %s' % ('met' if not miss else 'MISSED'))
        return 1 if miss else 0
    return 0


if __name__ == '__main__':
    sys.exit(main())
