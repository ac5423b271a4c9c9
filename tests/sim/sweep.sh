#!/bin/sh
# sweep.sh - make efficacy over seeds x mixes with issue 16's targets
# (score.py --goal): one line per run, the targets each run missed, a
# summary; exit 1 if any run missed one. Not part of make check.
#
# usage: tests/sim/sweep.sh [--conf FILE] [--keep DIR] BUILD_DIR SEEDS MIXES
#   SEEDS: "1..10", "1 2 3" or "1..3 7"; MIXES: names in tests/sim/mix/
#   or paths, space-separated ("all": every tests/sim/mix/*.mix).
#   --keep DIR keeps each run's files in DIR/MIX-SEED/ (efficacy.sh
#   --keep) and its full output (detail lines) in DIR/MIX-SEED.out.
#   --sites DIR replays the sites a --keep sweep left in DIR/MIX-SEED/
#   instead of generating them (efficacy.sh --site): another engine or
#   configuration on the same logs, without the generator's time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
conf= keep= sites=
while [ $# -gt 3 ]; do
    case $1 in
    --conf) conf="--conf $2"; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --sites) sites=$2; shift 2 ;;
    *) break ;;
    esac
done
[ $# -eq 3 ] || { echo "usage: sweep.sh [--conf FILE] [--keep DIR] [--sites DIR] BUILD_DIR SEEDS MIXES" >&2; exit 64; }
if [ -n "$keep" ]; then mkdir -p "$keep" || exit 64; fi
build=$1 seeds= mixes=$3
for s in $2; do
    case $s in
    *..*) a=${s%%..*} b=${s##*..}
	  seeds="$seeds $(seq "$a" "$b" | tr '\n' ' ')" ;;
    *) seeds="$seeds $s" ;;
    esac
done
if [ "$mixes" = all ]; then
    mixes=$(cd "$here/mix" && ls ./*.mix | sed 's|^\./||; s|\.mix$||' | tr '\n' ' ')
fi
out=$(mktemp /tmp/rg-sweep.XXXXXX)
sum=$(mktemp /tmp/rg-sweep-sum.XXXXXX)
trap 'rm -f "$out" "$sum"' EXIT INT TERM
runs=0 missed=0
for m in $mixes; do
    for s in $seeds; do
	runs=$((runs + 1))
	kd=
	[ -n "$keep" ] && kd="--keep $keep/$(basename "$m" .mix)-$s"
	[ -n "$sites" ] && kd="$kd --site $sites/$(basename "$m" .mix)-$s"
	# shellcheck disable=SC2086
	"$here/efficacy.sh" --goal $conf $kd "$build" "$s" "$m" >"$out" 2>&1
	rc=$?
	[ -n "$keep" ] && cp "$out" "$keep/$(basename "$m" .mix)-$s.out"
	eff=$(sed -n 's/^efficacy: \(honest \)/\1/p' "$out")
	if [ $rc -eq 0 ]; then
	    echo "sweep: $m seed $s: met: $eff"
	    continue
	fi
	missed=$((missed + 1))
	if [ -z "$eff" ]; then
	    echo "sweep: $m seed $s: FAILED (exit $rc): $(tail -1 "$out")"
	    echo "run failed" >>"$sum"
	    continue
	fi
	echo "sweep: $m seed $s: MISSED: $eff"
	sed -n 's/^goal missed: /    missed: /p' "$out"
	# the target's name: what precedes " delivered", " is not", or the figure
	sed -n 's/^goal missed: //p' "$out" |
	    sed -e 's/ delivered .*//' -e 's/ is not in the run/ (absent)/' \
		-e 's/ [0-9.]* %.*//' >>"$sum"
    done
done
echo "sweep: $runs runs, $missed missed a target"
if [ -s "$sum" ]; then
    printf 'sweep: misses by target:'
    sort "$sum" | uniq -c | sort -rn | awk '{ n = $1; $1 = ""; printf " %s%s x%d;", sep, substr($0, 2), n }'
    echo
fi
[ $missed -eq 0 ]
