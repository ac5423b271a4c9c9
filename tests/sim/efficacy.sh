#!/bin/sh
# efficacy.sh - replay a simulated site with the shipped policy and print
# the efficacy line of issue 16 (see tests/sim/README.md).
#
# usage: tests/sim/efficacy.sh [--goal] [--keep DIR] [--conf FILE]
#                              [--row LABELS] BUILD_DIR SEED MIX
#   MIX is a name in tests/sim/mix/ (default, mobile-heavy, ...) or a path.
#   --conf replays another configuration instead of etc/relayguard.conf
#   (only its GeoIP paths are replaced; dry_run is forced off).
#   --goal exits 1 unless the issue's targets are met.
#   --row LABELS prints a row of EFFICACY.md's table instead of the line.
#   --keep DIR keeps the generated files (mail.log, truth.tsv, plan.tsv,
#   the databases, the configuration copy, verdicts.txt) in DIR.
#   --site DIR replays a site kept before (a --keep directory) instead of
#   generating one: only the engine and the configuration differ from the
#   run that kept it (SEED and MIX are then labels; DIR is not written).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
goal= keep= row= site= conf=$top/etc/relayguard.conf
while [ $# -gt 3 ]; do
    case $1 in
    --goal) goal=--goal; shift ;;
    --keep) keep=$2; shift 2 ;;
    --conf) conf=$2; shift 2 ;;
    --site) site=$2; shift 2 ;;
    --row) row=$2; shift 2 ;;
    *) break ;;
    esac
done
[ $# -eq 3 ] || { echo "usage: efficacy.sh [--goal] [--keep DIR] [--site DIR] [--conf FILE] [--row LABELS] BUILD_DIR SEED MIX" >&2; exit 64; }
build=$1 seed=$2 mix=$3
case $mix in */*) ;; *) mix=$here/mix/$mix.mix ;; esac
[ -n "$site" ] || [ -r "$mix" ] || { echo "efficacy: no mix $mix" >&2; exit 64; }
site_files="mail.log truth.tsv plan.tsv users.tsv attacks.tsv GeoLite2-City.mmdb GeoLite2-ASN.mmdb"
if [ -n "$site" ]; then
    for f in $site_files; do
	[ -r "$site/$f" ] || { echo "efficacy: $site: no $f (not a kept site)" >&2; exit 64; }
    done
    site=$(cd "$site" && pwd)
fi

if [ -n "$keep" ]; then
    mkdir -p "$keep"; dir=$(cd "$keep" && pwd)
else
    dir=$(mktemp -d /tmp/rg-efficacy.XXXXXX)
    trap 'rm -rf "$dir"' EXIT INT TERM
fi

if [ -z "$site" ]; then
    python3 "$here/gen.py" --mix "$mix" --seed "$seed" --out "$dir"
    perl "$top/tests/geoip/make-test-db.pl" --plan "$dir/plan.tsv" "$dir" >/dev/null
elif [ "$site" != "$dir" ]; then
    for f in $site_files; do cp "$site/$f" "$dir/"; done
    [ ! -r "$site/drawn.mix" ] || cp "$site/drawn.mix" "$dir/"
fi

# the configuration as shipped; only the paths change, and dry run is off
# (replay judges as if enforcing anyway; the copy says so explicitly)
sed -e "s|^\([[:space:]]*city_db[[:space:]]*=\).*|\1 \"$dir/GeoLite2-City.mmdb\";|" \
    -e "s|^\([[:space:]]*country_db[[:space:]]*=\).*|\1 \"\";|" \
    -e "s|^\([[:space:]]*asn_db[[:space:]]*=\).*|\1 \"$dir/GeoLite2-ASN.mmdb\";|" \
    -e "s|^\([[:space:]]*dry_run[[:space:]]*=\).*|\1 false;|" \
    -e "/^state:/,/^};/s|^\([[:space:]]*path[[:space:]]*=\).*|\1 \"$dir/state\";|" \
    -e "s|^\([[:space:]]*snapshot_path[[:space:]]*=\).*|\1 \"\";|" \
    -e "s|^\([[:space:]]*list_path[[:space:]]*=\).*|\1 \"\";|" \
    "$conf" >"$dir/relayguard.conf"
# a layout the substitutions missed must not measure the wrong thing
for want in "city_db = \"$dir/GeoLite2-City.mmdb\";" "asn_db = \"$dir/GeoLite2-ASN.mmdb\";"; do
    grep -qF "$want" "$dir/relayguard.conf" ||
        { echo "efficacy: $conf: no $want after the substitution" >&2; exit 70; }
done
if grep -Eq '^[[:space:]]*dry_run[[:space:]]*=[[:space:]]*true' "$dir/relayguard.conf"; then
    echo "efficacy: dry_run is still on in the copy" >&2; exit 70
fi

# attackers that retry a tempfailed message (a "try" column): retry.py
# replays until the attempts sent and the verdicts agree
if head -1 "$dir/truth.tsv" | grep -q "$(printf '\ttry$')"; then
    python3 "$here/retry.py" "$dir" -- env TMPDIR="$dir" TZ=UTC \
	"$build/relayguardctl" replay -c "$dir/relayguard.conf" \
	--verdicts "$dir/mail.log"
else
    TMPDIR=$dir TZ=UTC "$build/relayguardctl" replay -c "$dir/relayguard.conf" \
	--verdicts "$dir/mail.log" >"$dir/verdicts.txt"
fi
if [ -n "$row" ]; then
    python3 "$here/score.py" --row "$row" "$dir/truth.tsv" "$dir/verdicts.txt"
    exit
fi
python3 "$here/score.py" --detail $goal --users "$dir/users.tsv" \
    --attacks "$dir/attacks.tsv" "$dir/truth.tsv" "$dir/verdicts.txt"
