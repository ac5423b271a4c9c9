#!/bin/sh
# bench_sites.sh - the engine's CPU on real traffic: relayguardctl replay
# of kept simulated sites (tests/sim/sweep.sh --keep), two builds in
# interleaved rounds (A B, then B A, ...), so that a loaded or shared
# machine's drift falls on both alike. Prints per site the median CPU
# time (user + system) of each build, their ratio B/A, and whether the
# two builds' verdicts are byte-identical (they must be, for a change
# that only makes the engine faster). A figure, not a test.
# usage: bench/bench_sites.sh BUILD_A BUILD_B SITE_DIR...   (ROUNDS=5)
set -eu
[ $# -ge 3 ] || { echo "usage: bench_sites.sh BUILD_A BUILD_B SITE_DIR..." >&2; exit 64; }
a=$1 b=$2; shift 2
rounds=${ROUNDS:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/rg-bench-sites.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

# median - the middle value of the numbers on stdin (the mean of two)
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
        else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# run BUILD DIR OUT - one replay; its CPU seconds appended to OUT.cpu
run() {
    TMPDIR=$2 TZ=UTC /usr/bin/time -f "%U %S" -o "$3.t" \
        "$1/relayguardctl" replay -c "$2/relayguard.conf" \
        --verdicts "$2/mail.log" >"$3.verdicts"
    awk '{ print $1 + $2 }' "$3.t" >>"$3.cpu"
}

for site in "$@"; do
    name=$(basename "$site")
    d=$tmp/$name
    # the site's files and its configuration with local paths, as
    # efficacy.sh --site makes them (the kept directory is not written)
    seed=${name##*-} mix=${name%-*}
    "$here/tests/sim/efficacy.sh" --site "$site" --keep "$d" "$a" "$seed" "$mix" >/dev/null || true
    i=0
    while [ $i -lt "$rounds" ]; do
        if [ $((i % 2)) -eq 0 ]; then run "$a" "$d" "$d/a"; run "$b" "$d" "$d/b"
        else run "$b" "$d" "$d/b"; run "$a" "$d" "$d/a"; fi
        i=$((i + 1))
    done
    ma=$(median <"$d/a.cpu") mb=$(median <"$d/b.cpu")
    same=identical
    cmp -s "$d/a.verdicts" "$d/b.verdicts" || same=DIFFERENT
    printf 'sites: %s: %s rounds, CPU median A %s s, B %s s, B/A %s; verdicts %s\n' \
        "$name" "$rounds" "$ma" "$mb" "$(awk -v x="$ma" -v y="$mb" 'BEGIN { printf "%.3f", y / x }')" "$same"
done
