#!/usr/bin/env python3
"""drawn.py - checks gen.py's [shuffle] draws (run by tests/sim/run.sh).

usage: drawn.py MIX DRAWN...

Each DRAWN is the drawn.mix gen.py wrote for one seed of MIX. Every key of
MIX's [shuffle] must have been replaced by a value its spec allows (inside
the range, one of the choices, a subset in order, weights summing to 1;
absent only where "none" or a dropped section allows it), and no two
DRAWN files may be the same site. Prints one line per fault, exits 1 on
any.
"""
import configparser
import sys


def parse(path):
    cp = configparser.ConfigParser(inline_comment_prefixes=('#',))
    cp.optionxform = str
    if not cp.read(path, encoding='utf-8'):
        sys.exit('drawn.py: %s: cannot read' % path)
    return cp


def bounds(text):
    parts = [p.strip() for p in text.split('..')]
    return float(parts[0]), float(parts[-1]), all('.' not in p for p in parts)


def allowed(spec, value, drawn):
    """why value is not what spec may draw, or None"""
    w = spec.split()
    if w[:2] == ['one', 'of']:
        rest = spec.split('of', 1)[1]
        choices = ([x.strip() for x in rest.split('|')] if '|' in rest
                   else w[2:])
        return None if value in choices else 'not one of %s' % choices
    if w[0] == 'some' and 'of' in w:
        k = w.index('of')
        lo, hi, _ = bounds(' '.join(w[1:k]))
        pool, got = w[k + 1:], value.split()
        if not lo <= len(got) <= hi:
            return '%d words, not %g to %g' % (len(got), lo, hi)
        idx = [pool.index(x) if x in pool else -1 for x in got]
        if -1 in idx or idx != sorted(set(idx)):
            return 'not a subset of %s in its order' % pool
        return None
    if w[0] == 'weights':
        sec, key = w[1].rsplit('.', 1)
        x = [float(v) for v in value.split()]
        n = len(drawn.get(sec, key).split())
        if len(x) != n or abs(sum(x) - 1) > 0.01 or min(x) <= 0:
            return 'not %d positive weights summing to 1' % n
        return None
    span = w[0] == 'span'
    text = ' '.join(w[1:] if span else w)
    if '..' not in text:
        return None if value == spec else 'not %s' % spec
    lo, hi, whole = bounds(text)
    try:
        got = [float(v) for v in value.split('..')] if span else [float(value)]
    except ValueError:
        return 'not a number'
    if whole and any(v != int(v) for v in got):
        return 'not whole'
    if any(not lo <= v <= hi for v in got):
        return 'outside %g .. %g' % (lo, hi)
    if span and (len(got) != 2 or got[1] - got[0] < (hi - lo) / 4 - 1):
        return 'not a range a quarter of %g .. %g wide' % (lo, hi)
    return None


def check(mix, path):
    """the faults of one drawn file"""
    drawn, bad = parse(path), []
    if drawn.has_section('shuffle'):
        bad.append('[shuffle] left in')
    for name, spec in mix.items('shuffle'):
        sec, key = name.rsplit('.', 1)
        if sec == 'keep' or not drawn.has_section(sec):
            if sec != 'keep' and not any(
                    n == 'keep.' + sec for n, _ in mix.items('shuffle')):
                bad.append('[%s] dropped, no keep.%s' % (sec, sec))
            continue
        if not drawn.has_option(sec, key):
            if spec.split()[-1] != 'none':
                bad.append('%s missing' % name)
            continue
        why = allowed(spec, drawn.get(sec, key), drawn)
        if why:
            bad.append('%s = %s: %s' % (name, drawn.get(sec, key), why))
    return ['%s: %s' % (path, b) for b in bad]


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: drawn.py MIX DRAWN...')
    mix = parse(sys.argv[1])
    if not mix.has_section('shuffle'):
        sys.exit('drawn.py: %s has no [shuffle]' % sys.argv[1])
    faults, sites = [], {}
    for path in sys.argv[2:]:
        faults += check(mix, path)
        with open(path, encoding='utf-8') as f:
            body = ''.join(l for l in f if not l.startswith('#'))
        if body in sites:
            faults.append('%s: the same site as %s' % (path, sites[body]))
        sites[body] = path
    for f in faults:
        print(f)
    return 1 if faults else 0


if __name__ == '__main__':
    sys.exit(main())
