#!/usr/bin/env python3
"""retry.py - replay a site whose attackers retry a tempfailed message.

usage: retry.py [--rounds N] DIR -- REPLAY-COMMAND...

gen.py writes every attempt an attack could make when a mix gives
`retry` backoffs (truth.tsv's last column "try" = the first attempt's
queue id / attempt number), but a real sender tries again only after a
temporary failure (4xx): after a delivery or a hold it has nothing to
resend, after a 5xx it gives up. Which attempts happen depends on the
verdicts, and the verdicts on which attempts happened (every attempt
counts in the login's windows), so this finds the fixed point:

  round 0: the first attempts only;
  round k: attempt j of a message is sent iff attempt j-1 was sent and
           the last round's replay tempfailed it;
  until a round sends the same attempts as the one before (at most
  --rounds, default the most retries of a message + 10, as each round
  adds at most one attempt to a message; exit 3 if they never settle).

DIR holds gen.py's mail.log and truth.tsv; they are kept as full.log and
full.tsv, and DIR/mail.log, DIR/truth.tsv and DIR/verdicts.txt become
those of the attempts sent. REPLAY-COMMAND is run with DIR/mail.log in
place and must print one verdict line per submission (relayguardctl
replay --verdicts). Prints "retry: R rounds, A attempts of M messages".
"""
import os
import subprocess
import sys

ACTION = ' action='


def read(dirname):
    """full.tsv rows (header apart) and full.log in blocks of 4 lines"""
    with open(os.path.join(dirname, 'full.tsv'), encoding='utf-8') as f:
        lines = f.read().splitlines(True)
    head, rows = lines[0], [l for l in lines[1:] if not l.startswith('#')]
    with open(os.path.join(dirname, 'full.log'), encoding='utf-8') as f:
        log = f.read().splitlines(True)
    if len(log) != 4 * len(rows):
        sys.exit('retry.py: %d log lines for %d submissions (want 4 each)'
                 % (len(log), len(rows)))
    keys = []
    for r in rows:
        first, j = r.rstrip('\n').split('\t')[-1].rsplit('/', 1)
        keys.append((first, int(j)))
    return head, rows, log, keys


def write(dirname, head, rows, log, sent):
    with open(os.path.join(dirname, 'truth.tsv'), 'w', encoding='utf-8') as t, \
            open(os.path.join(dirname, 'mail.log'), 'w', encoding='utf-8') as m:
        t.write(head)
        for i in sent:
            t.write(rows[i])
            m.writelines(log[4 * i:4 * i + 4])


def replay(dirname, cmd):
    """the verdict lines' actions, in order"""
    out = subprocess.run(cmd, stdout=subprocess.PIPE, check=True,
                         encoding='utf-8', errors='replace').stdout
    with open(os.path.join(dirname, 'verdicts.txt'), 'w', encoding='utf-8') as f:
        f.write(out)
    acts = []
    for line in out.splitlines():
        at = line.find(ACTION)
        acts.append(line[at + len(ACTION):].split(' ', 1)[0] if at >= 0 else '')
    return acts


def next_sent(keys, sent, acts):
    """attempt j goes out iff attempt j-1 went out and was tempfailed"""
    if len(acts) != len(sent):
        sys.exit('retry.py: %d verdicts for %d submissions' % (len(acts), len(sent)))
    failed = {keys[i] for i, a in zip(sent, acts) if a == 'tempfail'}
    return [i for i, (first, j) in enumerate(keys)
            if j == 0 or (first, j - 1) in failed]


def main():
    argv = sys.argv[1:]
    rounds = 0
    if argv[:1] == ['--rounds']:
        rounds, argv = int(argv[1]), argv[2:]
    if len(argv) < 3 or argv[1] != '--':
        sys.exit('usage: retry.py [--rounds N] DIR -- REPLAY-COMMAND...')
    dirname, cmd = argv[0], argv[2:]
    os.replace(os.path.join(dirname, 'mail.log'), os.path.join(dirname, 'full.log'))
    os.replace(os.path.join(dirname, 'truth.tsv'), os.path.join(dirname, 'full.tsv'))
    head, rows, log, keys = read(dirname)
    sent = [i for i, (_, j) in enumerate(keys) if j == 0]
    rounds = rounds or max(j for _, j in keys) + 10
    for n in range(1, rounds + 1):
        write(dirname, head, rows, log, sent)
        acts = replay(dirname, cmd)
        again = next_sent(keys, sent, acts)
        if again == sent:
            print('retry: %d rounds, %d attempts of %d messages'
                  % (n, len(sent), sum(1 for _, j in keys if j == 0)),
                  file=sys.stderr)
            return 0
        sent = again
    print('retry: the attempts did not settle in %d rounds' % rounds,
          file=sys.stderr)
    return 3


if __name__ == '__main__':
    sys.exit(main())
