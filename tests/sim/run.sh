#!/bin/sh
# run.sh - the efficacy harness checks itself (part of make check): a tiny
# site (check/tiny.mix: 6 users, 9 days, a botnet and a spam run) replayed
# with a fixed policy (check/check.conf), scored by score.py.
#   1. without impossible-travel: the attacks and the collateral are known
#      from the policy alone (botnet 3 of 10 through, many-countries then
#      blocks the login for a day; spam run 2 of 5 at 50 recipients an
#      hour), no honest message is stopped;
#   2. with it: honest mail is held (home <-> phone hub), and score.py's
#      (and stops.py's) count and users agree with a count made here from
#      the raw files;
#   3. a verdict file that lost or swapped a line is refused (exit 2);
#   4. --goal fails when attacks are missing from the run;
#   5. attackers that retry a tempfailed message (retry.py) are counted
#      by message, and --goal judges other attacks by attacks.tsv;
#   6. sweep.sh names each run's misses and sums them by target, and
#      --keep keeps each run's files, --sites replays them; compare.py
#      names a regression between two kept sweeps;
#   7. shuffle.mix: each seed draws another site within the [shuffle]
#      specs (check/drawn.py), the same seed the same files, and a mix
#      without [shuffle] writes no drawn.mix;
#   8. [mix] base keeps the base's site; style = trip rotates over one
#      foreign country's networks in stints; pace = victim sends at the
#      victim's mean volume within its hours (stealth.mix's attackers);
#   9. uni6.mix's and wide.mix's keys: international users at home on
#      IPv6 ([international] ipv6), night shifts ([shifts]), and a trip
#      attacker's hotel that is not the site's travellers' hotel (F15b);
#  10. F22: an international user's trip home has flight time, and a heavy
#      sender's newsletter leaves from where the sender is (the office,
#      the family's line abroad), unless [heavy] newsletter_home says a
#      machine at home sends it;
#  11. nearby.mix's attack sources: the site's webmail, its VPN exit, a
#      home line of another ISP in the victim's own city;
#  12. holdout.mix (the held-out site) still makes a site: its four
#      carriers, its seven attacks with all their messages;
#  13. probe-neighbour.mix's keys: a phone-only victim, proxies in the
#      site users' home /24s, a sticky proxy session (stint).
# usage: tests/sim/run.sh BUILD_DIR        prints "sim: N passed, M failed"
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
ctl=$build/relayguardctl
tmp=$(mktemp -d /tmp/rg-sim-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fail=0
export TZ=UTC TMPDIR=$tmp

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "# $2"; }
# same NAME GOT WANT
same() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got:  $2
# want: $3"; fi; }

python3 "$here/gen.py" --mix "$here/check/tiny.mix" --seed 5 --out "$tmp" &&
    perl "$here/../geoip/make-test-db.pl" --plan "$tmp/plan.tsv" "$tmp" >/dev/null ||
    { echo "sim: 0 passed, 1 failed"; exit 1; }
sed "s|GEO|$tmp|g" "$here/check/check.conf" >"$tmp/travel.conf"
sed '/"impossible-travel"/,+1d' "$tmp/travel.conf" >"$tmp/plain.conf"
grep -v '^#' "$tmp/truth.tsv" >"$tmp/truth.rows"

# the numbers the policy implies, counted from truth.tsv
n=$(awk -F'\t' '$6 == "honest"' "$tmp/truth.rows" | wc -l)
victim=$(awk -F'\t' '$7 == "botnet" { print $3; exit }' "$tmp/truth.rows")
k=$(awk -F'\t' -v v="$victim" '$6 == "collateral" && $3 == v' "$tmp/truth.rows" | wc -l)
[ "$n" -gt 100 ] && [ "$k" -gt 0 ] && ok "the site has $n honest messages, $k of the botnet victim's after the attack" ||
    not_ok "the site has honest messages and collateral" "n=$n k=$k"

# 1. without impossible-travel
"$ctl" replay -c "$tmp/plain.conf" --verdicts "$tmp/mail.log" >"$tmp/plain.v" 2>"$tmp/err" ||
    not_ok "replay plain" "$(cat "$tmp/err")"
got=$(python3 "$here/score.py" "$tmp/truth.tsv" "$tmp/plain.v" 2>&1)
same "plain policy: no honest stop, botnet 3/10, spam run 2/5, all $k collateral refused" "$got" \
    "efficacy: honest held/refused 0 of $n (0.00 %), users affected 0 of 6; delivered of each attack: botnet 3/10, proxies 0/0, low-and-slow 0/0, spam run 2/5, one-ip 0/0; collateral $k"

# 2. with it: score.py agrees with a count of the raw verdicts
"$ctl" replay -c "$tmp/travel.conf" --verdicts "$tmp/mail.log" >"$tmp/travel.v" 2>"$tmp/err" ||
    not_ok "replay travel" "$(cat "$tmp/err")"
paste "$tmp/truth.rows" "$tmp/travel.v" | awk -F'\t' '
    $6 == "honest" && $9 ~ /action=(quarantine|tempfail|reject) / { x++; u[$7] = 1 }
    END { for (k in u) nu++; printf "%d %d\n", x, nu }' >"$tmp/count"
read -r x u <"$tmp/count"
got=$(python3 "$here/score.py" "$tmp/truth.tsv" "$tmp/travel.v" 2>&1 | cut -d';' -f1)
pct=$(awk -v x="$x" -v n="$n" 'BEGIN { printf "%.2f", 100 * x / n }')
same "travel policy: honest stops counted as the raw verdicts say ($x)" "$got" \
    "efficacy: honest held/refused $x of $n ($pct %), users affected $u of 6"
[ "$x" -gt 0 ] && ok "travel policy holds some honest mail" || not_ok "travel policy holds some honest mail" "x=$x"
cp "$tmp/travel.v" "$tmp/verdicts.txt"
got=$(python3 "$here/stops.py" "$tmp" 2>&1 | tail -1)
same "stops.py: per user, the same total" "$got" "stops: $x honest messages of $u users"

# 3. pairing is checked
sed 1d "$tmp/plain.v" >"$tmp/short.v"
python3 "$here/score.py" "$tmp/truth.tsv" "$tmp/short.v" >/dev/null 2>&1
same "a verdict line missing: exit 2" "$?" 2
first=$(awk '/user="u001@/ { print NR; exit }' "$tmp/plain.v")
other=$(awk '/user="u00[2-6]@/ { print NR; exit }' "$tmp/plain.v")
awk -v a="$first" -v b="$other" 'NR == FNR { l[FNR] = $0; next }
    { print FNR == a ? l[b] : FNR == b ? l[a] : $0 }' "$tmp/plain.v" "$tmp/plain.v" >"$tmp/swap.v"
python3 "$here/score.py" "$tmp/truth.tsv" "$tmp/swap.v" >/dev/null 2>&1
same "two verdict lines swapped: exit 2" "$?" 2

# 4. --goal
python3 "$here/score.py" --goal "$tmp/truth.tsv" "$tmp/plain.v" >"$tmp/goal" 2>&1
same "--goal without proxies, low-and-slow, one-ip: exit 1" "$?" 1
grep -q '^goal missed: proxies is not in the run$' "$tmp/goal" &&
    ok "--goal names the missing attack" || not_ok "--goal names the missing attack" "$(cat "$tmp/goal")"

# 5. attackers retry a tempfailed message two hours later (retry.py), and
#    an attack outside the five judged by one of their targets
#    (attacks.tsv): the botnet's login is blocked for a day, so each of its
#    7 refused messages is refused again (3 of 10 delivered, 17 attempts);
#    the spam run's 3 refused messages come back in a fresh hour, where
#    two fit under 50 recipients (4 of 5 delivered, 8 attempts); "extra"
#    sends 10 messages of 5 recipients (50, not over the limit): all
#    delivered, more than the botnet's 3 it is judged by
mkdir "$tmp/retry"
{ sed '/^\[attack\./a retry = 7200' "$here/check/tiny.mix"
  printf '[attack.extra]\nstyle = one_addr\ngoal = botnet\nday = 8\nhour = 4\n'
  printf 'messages = 10\ninterval = 60\nrcpts = 5 .. 5\ncountries = RU\n'
} >"$tmp/retry.mix"
python3 "$here/gen.py" --mix "$tmp/retry.mix" --seed 5 --out "$tmp/retry" &&
    cp "$tmp"/GeoLite2-*.mmdb "$tmp/retry/" ||
    not_ok "gen.py with retries"
python3 "$here/retry.py" "$tmp/retry" -- "$ctl" replay -c "$tmp/plain.conf" \
    --verdicts "$tmp/retry/mail.log" 2>"$tmp/err" ||
    not_ok "retry.py settles" "$(cat "$tmp/err")"
n2=$(awk -F'\t' '$6 == "honest"' "$tmp/retry/full.tsv" | wc -l)
firsts=$(grep -c '/0$' "$tmp/retry/full.tsv")
got=$(python3 "$here/score.py" --detail --goal --attacks "$tmp/retry/attacks.tsv" \
    "$tmp/retry/truth.tsv" "$tmp/retry/verdicts.txt" 2>&1)
same "retries: a message counts once, delivered if any attempt was" \
    "$(echo "$got" | head -1)" \
    "efficacy: honest held/refused 0 of $n2 (0.00 %), users affected 0 of 6; delivered of each attack: botnet 3/10, proxies 0/0, low-and-slow 0/0, spam run 4/5, one-ip 0/0; collateral $k"
echo "$got" | grep -q '^  attack botnet: delivered 3 of 10 (17 attempts' &&
    echo "$got" | grep -q '^  attack spam-run: delivered 4 of 5 (8 attempts' &&
    ok "retries: attempts counted apart (17 and 8)" ||
    not_ok "retries: attempts counted apart (17 and 8)" "$got"
sent=$(grep -vc '^#' "$tmp/retry/truth.tsv")
same "retry.py sends a retry only after a tempfail (7 + 3 of $firsts)" "$sent" $((firsts + 7 + 3))
echo "$got" | grep -q '^goal missed: extra delivered 10 > 3 (judged as botnet)$' &&
    ok "--goal judges another attack by the target attacks.tsv names" ||
    not_ok "--goal judges another attack by the target attacks.tsv names" "$got"

# 6. sweep.sh: a run per seed, the misses named and summed, exit 1 (the
#    tiny site has no proxies, low-and-slow or one-ip: absent = missed)
got=$("$here/sweep.sh" --keep "$tmp/kept" "$build" "5..6" "$here/check/tiny.mix" 2>&1)
same "sweep.sh: exit 1 when a run misses" "$?" 1
same "sweep.sh: one line a run, the summary" \
    "$(echo "$got" | grep -c '^sweep: .*tiny.mix seed [56]: MISSED: honest held')/$(echo "$got" | grep -c '^sweep: 2 runs, 2 missed a target$')" "2/1"
echo "$got" | grep -q '^sweep: misses by target:.* proxies (absent) x2;' &&
    ok "sweep.sh: misses counted by target" ||
    not_ok "sweep.sh: misses counted by target" "$got"

[ -s "$tmp/kept/tiny-6/truth.tsv" ] && grep -q '^efficacy: ' "$tmp/kept/tiny-5.out" &&
    ok "sweep.sh --keep: each run's files and output kept" ||
    not_ok "sweep.sh --keep: each run's files and output kept" "$(ls -R "$tmp/kept" 2>&1)"

# --sites: the kept sites replayed, not generated again: the same lines;
# seed 6's site under the label of seed 5 prints seed 6's line
got=$("$here/sweep.sh" --sites "$tmp/kept" --keep "$tmp/again" "$build" "5..6" "$here/check/tiny.mix" 2>&1)
for s in 5 6; do
    cmp -s "$tmp/kept/tiny-$s.out" "$tmp/again/tiny-$s.out" || echo "tiny-$s.out differs"
done >"$tmp/cmp"
same "sweep.sh --sites: the kept sites replayed print the same lines" "$(cat "$tmp/cmp")" ""
got=$("$here/efficacy.sh" --site "$tmp/kept/tiny-6" "$build" 5 "$here/check/tiny.mix" 2>&1 | grep '^efficacy: ')
same "efficacy.sh --site: the site replayed is the one named, not the seed's" \
    "$got" "$(grep '^efficacy: ' "$tmp/kept/tiny-6.out")"
got=$("$here/efficacy.sh" --site "$tmp/kept" "$build" 5 "$here/check/tiny.mix" 2>&1)
same "efficacy.sh --site: a directory that is no kept site is refused" \
    "$?/$got" "64/efficacy: $tmp/kept: no mail.log (not a kept site)"

# compare.py: the same sweep twice is no change; one more botnet message
# through and a target newly missed are a regression, named
got=$(python3 "$here/compare.py" "$tmp/kept" "$tmp/kept" 2>&1)
same "compare.py: a sweep against itself: exit 0, nothing changed" "$?/$(echo "$got" | tail -1)" \
    "0/compare: 2 runs, 0 regressed; missed 2 -> 2"
mkdir "$tmp/kept2"
sed -e 's/^\(  attack botnet: delivered \)\([0-9]*\)/\1999/' \
    -e '$a goal missed: honest held/refused 9.99 % > 0.1 %' \
    "$tmp/kept/tiny-5.out" >"$tmp/kept2/tiny-5.out"
cp "$tmp/kept/tiny-6.out" "$tmp/kept2/"
got=$(python3 "$here/compare.py" "$tmp/kept" "$tmp/kept2" 2>&1)
rc=$?
echo "$got" | grep -q '^REGRESSION tiny seed 5: botnet [0-9]*/10 -> 999/10; newly missed: honest held/refused$' &&
    [ $rc -eq 1 ] && ok "compare.py: a regression named, exit 1" ||
    not_ok "compare.py: a regression named, exit 1" "rc=$rc $got"

# 7. shuffle.mix (small: 40 users, 10 days; only the draws are checked)
shuf=$here/mix/shuffle.mix
for s in 1 2 3 4 5 6; do
    python3 "$here/gen.py" --mix "$shuf" --seed $s --users 40 --days 10 \
        --out "$tmp/shuf$s" 2>/dev/null || not_ok "gen.py shuffle.mix seed $s"
done
got=$(python3 "$here/check/drawn.py" "$shuf" "$tmp"/shuf[1-6]/drawn.mix 2>&1)
same "shuffle.mix: 6 seeds, 6 different sites, every draw within its spec" "$?/$got" "0/"
python3 "$here/gen.py" --mix "$shuf" --seed 2 --users 40 --days 10 --out "$tmp/shuf2b" 2>/dev/null
for f in drawn.mix mail.log truth.tsv plan.tsv; do
    cmp -s "$tmp/shuf2/$f" "$tmp/shuf2b/$f" || echo "$f"
done >"$tmp/cmp"
same "shuffle.mix: the same seed draws the same site" "$(cat "$tmp/cmp")" ""
[ ! -e "$tmp/drawn.mix" ] && [ ! -e "$tmp/retry/drawn.mix" ] &&
    ok "a mix without [shuffle]: no drawn.mix" || not_ok "a mix without [shuffle]: no drawn.mix"

# 8. attackers that imitate an owner (stealth.mix), on tiny.mix's site
#    through [mix] base: the same site, then "trip" (one foreign country,
#    stints of 2 messages on a fixed line there, then on its mobile
#    carrier, a new address each) and "mimic" (pace = victim: tiny's 6
#    messages a workday times 2 over its waking hours 7-23, one German
#    home line: 4800 s apart from 07:00, its start at 05:00 waits)
mkdir "$tmp/stealth"
cat >"$tmp/stealth.mix" <<EOF
[mix]
base = $here/check/tiny.mix
[attack.trip]
style = trip
goal = low-and-slow
nets = broadband mobile
stint = 2 .. 2
countries = FR
day = 8
hour = 9
messages = 12
interval = 600
rcpts = 1 .. 1
[attack.mimic]
style = one_addr
goal = low-and-slow
source = residential
pace = victim
pace_factor = 2
hours = victim
day = 7
hour = 5
messages = 10
rcpts = 1 .. 1
EOF
python3 "$here/gen.py" --mix "$tmp/stealth.mix" --seed 5 --out "$tmp/stealth" 2>"$tmp/err" ||
    not_ok "gen.py stealth" "$(cat "$tmp/err")"
rows() { grep -v '^#' "$1" | awk -F'\t' '$7 != "trip" && $7 != "mimic" { print $2, $3, $4, $7 }'; }
rows "$tmp/truth.tsv" >"$tmp/base.rows"
rows "$tmp/stealth/truth.tsv" >"$tmp/stealth.rows"
[ -s "$tmp/base.rows" ] && cmp -s "$tmp/base.rows" "$tmp/stealth.rows" &&
    ok "[mix] base: the base mix's site and attacks unchanged" ||
    not_ok "[mix] base: the base mix's site and attacks unchanged" "$(diff "$tmp/base.rows" "$tmp/stealth.rows" 2>&1 | head -5)"
# each trip message: B the French line's first address (b another), M a
# new address of the French carrier (m one seen before), ? elsewhere
got=$(awk -F'\t' 'FNR == NR { if ($1 == "geo") { split($2, a, "."); org[a[1] "." a[2] "." a[3]] = $12 }; next }
    $7 == "trip" { split($4, a, "."); o = org[a[1] "." a[2] "." a[3]]
	if (o == "Example Broadband FR") { if (fix == "") fix = $4; k = ($4 == fix) ? "B" : "b" }
	else if (o == "Example Mobile FR") k = seen[$4]++ ? "m" : "M"
	else k = "?"
	printf "%s", k }
    END { print "" }' "$tmp/stealth/plan.tsv" "$tmp/stealth/truth.tsv")
same "trip: stints of 2 on one French line (B) and the French carrier (M: a new address each)" \
    "$got" "BBMMBBMMBBMM"
# mimic's send times, in seconds after local midnight of day 7
got=$(awk -F'\t' -v t0="$(date -u -d '2026-03-02 00:00' +%s)" '$7 == "mimic" {
	printf "%s%d", n++ ? " " : "", $2 - (t0 - 3600 + 7 * 86400); c[$4] = 1 }
    END { for (k in c) nc++; printf " (%d address)\n", nc }' "$tmp/stealth/truth.tsv")
same "mimic: the victim's pace within its hours, from one address" "$got" \
    "25200 30000 34800 39600 44400 49200 54000 58800 63600 68400 (1 address)"
printf 'trip\ttrip\tlow-and-slow\nmimic\tone_addr\tlow-and-slow\n' >"$tmp/want.att"
grep -E '^(trip|mimic)	' "$tmp/stealth/attacks.tsv" | sort -r >"$tmp/got.att"
cmp -s "$tmp/want.att" "$tmp/got.att" && ok "both judged as low-and-slow (attacks.tsv)" ||
    not_ok "both judged as low-and-slow (attacks.tsv)" "$(cat "$tmp/got.att")"

# 9. tiny.mix's six users, all international students from TR at home
#    for the whole run on IPv6 and on night shifts (20:00 to 08:00
#    local), and a trip attacker on a hotel and the mobile carrier of FR
mkdir "$tmp/uni6"
cat >"$tmp/uni6.mix" <<EOF
[mix]
base = $here/check/tiny.mix
[international]
users = 1
countries = TR
trips = 1
trip_first = 0 .. 0
trip_days = 9 .. 9
phone_share = 0.5
ipv6 = 1
[shifts]
users = 1
hours = 20 .. 32
[attack.trip]
style = trip
goal = low-and-slow
nets = hotel mobile
stint = 2 .. 2
countries = FR
day = 8
hour = 9
messages = 8
interval = 600
rcpts = 1 .. 1
EOF
python3 "$here/gen.py" --mix "$tmp/uni6.mix" --seed 5 --out "$tmp/uni6" 2>"$tmp/err" ||
    not_ok "gen.py uni6" "$(cat "$tmp/err")"
# honest rows by way in; a home line: one address a (shift's) day per user in the
# /48 of the family's ISP (Example Broadband TR); a SIM: a new /64 of the
# TR carrier's /48 each time; anything else is counted as "other"
got=$(awk -F'\t' 'FNR == NR { if ($1 == "geo") { split($3, a, ":"); org[a[3]] = $12 }; next }
    $6 == "honest" { split($4, a, ":"); o = org[a[3]]; day = int(($2 + 3600 - 43200) / 86400)
	if ($8 == "abroad-home6" && o == "Example Broadband TR") { h++; if (!(($3, day, $4) in seen)) { seen[$3, day, $4] = 1; per[$3, day]++ } }
	else if ($8 == "abroad-mobile6" && o == "Example Mobile TR") { m++; p64[a[4]]++ }
	else other++ }
    END { for (k in per) if (per[k] > 1) multi++
	  for (k in p64) if (p64[k] > 1) again++
	  printf "home %s mobile %s other %d multi %d again %d\n", (h > 0 ? "yes" : "no"),
	      (m > 0 ? "yes" : "no"), other, multi, again }' "$tmp/uni6/plan.tsv" "$tmp/uni6/truth.tsv")
same "[international] ipv6: at home a /64 a day of the family ISP, a new /64 of the local carrier each time" \
    "$got" "home yes mobile yes other 0 multi 0 again 0"
# [shifts]: every honest message in the night (local 20:00 to 08:00, the
# last session's messages up to half an hour later)
got=$(awk -F'\t' '$6 == "honest" { h = (($2 + 3600) % 86400) / 3600
	if (h >= 20 || h < 8.5) night++; else day++ }
    END { printf "night %s, day %d\n", (night > 0 ? "yes" : "no"), day }' "$tmp/uni6/truth.tsv")
same "[shifts]: the night shift's mail within its hours" "$got" "night yes, day 0"
# F15b: the trip attacker's hotel is a hotel of FR of its own, not the
# network the site's travellers stay in (Example Hotel WiFi FR)
got=$(awk -F'\t' 'FNR == NR { if ($1 == "geo") { split($2, a, "."); org[a[1] "." a[2] "." a[3]] = $12 }; next }
    $7 == "trip" { split($4, a, "."); seen[org[a[1] "." a[2] "." a[3]]]++ }
    END { for (o in seen) print o }' "$tmp/uni6/plan.tsv" "$tmp/uni6/truth.tsv" | sort | tr '\n' ';')
same "trip: another hotel than the travellers' (its own network) and the carrier" \
    "$got" "Example Mobile FR;Example Other Hotel FR;"

# 10. F22 (simulator artefacts): tiny.mix's site without its attacks, all
#     six users heavy senders with a newsletter of 300 every workday, at the
#     office all day (hours 0 .. 24) and home in CN for days 2-4 (flying
#     out on day 2, back on day 5), mail at any hour (0 .. 24): so no
#     newsletter may come from the German home line, and between a German
#     place and CN lies at least the flight (distance / 800 km/h + 2 h)
f22mix() {
    sed '/^\[heavy\]/,/^$/d; /^\[attack\./,$d; s/^day_hours = .*/day_hours = 0 .. 24/' "$here/check/tiny.mix"
    cat <<EOF
[heavy]
users = 1
messages_workday = 6
rcpts = 1 .. 15
newsletters_per_week = 5
newsletter_rcpts = 300 .. 300
newsletter_home = $1
[office]
users = 1
days = 1
hours = 0 .. 24
ips = 2
city = Frankfurt
commute_km = 2000
wifi = 1
[international]
users = 1
countries = CN
trips = 1
trip_first = 2 .. 2
trip_days = 3 .. 3
phone_share = 0.5
EOF
}
for h in 0 1; do
    mkdir "$tmp/f22-$h"
    f22mix $h >"$tmp/f22-$h.mix"
    python3 "$here/gen.py" --mix "$tmp/f22-$h.mix" --seed 5 --out "$tmp/f22-$h" 2>"$tmp/err" ||
        not_ok "gen.py F22 mix (newsletter_home = $h)" "$(cat "$tmp/err")"
done
# the newsletters by way in (sorted), then the changes of country against
# the flight's time
f22() {
    python3 - "$here" "$1" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import gen
out = sys.argv[2]
city = {}
for line in open(out + '/users.tsv', encoding='utf-8'):
    if not line.startswith('#'):
        f = line.split('\t')
        city[f[0]] = f[2]
rows, ways = {}, {}
for line in open(out + '/truth.tsv', encoding='utf-8'):
    f = line.rstrip('\n').split('\t')
    if line.startswith('#') or f[5] != 'honest':
        continue
    rows.setdefault(f[2], []).append((int(f[1]), f[7].startswith('abroad')))
    if int(f[4]) == 300:
        ways[f[7]] = ways.get(f[7], 0) + 1
short = changes = 0
for login, r in rows.items():
    need = (gen.km(gen.CITIES[city[login]], gen.COUNTRIES['CN'][2:4]) / 800
            + 2) * 3600
    for (t0, a0), (t1, a1) in zip(r, r[1:]):
        if a0 != a1:
            changes += 1
            short += t1 - t0 < need
print(' '.join('%s %d' % kv for kv in sorted(ways.items())))
print('changes of country %s, %d quicker than a flight' % (
    'yes' if changes >= 2 * len(rows) else 'no (%d)' % changes, short))
PY
}
got=$(f22 "$tmp/f22-0" 2>&1)
same "F22a: a trip home takes the flight's time (out on day 2, back on day 5)" \
    "$(echo "$got" | tail -1)" "changes of country yes, 0 quicker than a flight"
echo "$got" | head -1 | grep -Eq '^abroad-home [0-9]+ office [0-9]+$' &&
    ok "F22b: the newsletter from the office or the family's line abroad, none from home" ||
    not_ok "F22b: the newsletter from the office or the family's line abroad, none from home" "$got"
got=$(f22 "$tmp/f22-1" 2>&1 | head -1)
echo "$got" | grep -Eq '^home [0-9]+$' &&
    ok "F22b: newsletter_home = 1: every newsletter from the machine at home" ||
    not_ok "F22b: newsletter_home = 1: every newsletter from the machine at home" "$got"

# 11. nearby.mix's attack sources on tiny.mix's site: webmail (the
#     webmail host, 127.0.0.1), vpn (an exit address of the corporate VPN:
#     .10-.13 of its /24) and victim_city (a home line of another ISP in
#     the victim's own city)
mkdir "$tmp/near"
{ cat <<EOF
[mix]
base = $here/check/tiny.mix
EOF
  for a in webmail vpn victim_city; do
      printf '[attack.%s]\nstyle = one_addr\nsource = %s\ngoal = low-and-slow\n' $a $a
      printf 'day = 8\nhour = 9\nmessages = 5\ninterval = 300\nrcpts = 1 .. 1\n'
  done
} >"$tmp/near.mix"
python3 "$here/gen.py" --mix "$tmp/near.mix" --seed 5 --out "$tmp/near" 2>"$tmp/err" ||
    not_ok "gen.py nearby sources" "$(cat "$tmp/err")"
got=$(awk -F'\t' 'FILENAME ~ /plan/ { if ($1 == "geo") { split($2, a, "."); n = a[1] "." a[2] "." a[3]; org[n] = $12; city[n] = $7 }; next }
    FILENAME ~ /users/ { home[$1] = $3; next }
    $6 == "honest" && $8 == "home" { split($4, a, "."); isp[$3] = org[a[1] "." a[2] "." a[3]] }
    $6 == "attack" { split($4, a, "."); n = a[1] "." a[2] "." a[3]
	if ($7 == "webmail") k = ($4 == "127.0.0.1") ? "localhost" : "other"
	else if ($7 == "vpn") k = (org[n] == "Example Corp VPN" && a[4] >= 10 && a[4] <= 13) ? "exit" : "other"
	else if ($7 == "victim_city") { k = (city[n] == home[$3] && org[n] != isp[$3] && org[n] ~ /^Example/) ? "town" : "other"; v = $3 }
	if ($7 ~ /^(webmail|vpn|victim_city)$/) seen[$7 " " k]++ }
    END { for (s in seen) print s, seen[s] }' "$tmp/near/plan.tsv" "$tmp/near/users.tsv" "$tmp/near/truth.tsv" | sort | tr '\n' ';')
same "sources webmail, vpn, victim_city: the webmail host, a VPN exit, another ISP in the victim's city" \
    "$got" "victim_city town 5;vpn exit 5;webmail localhost 5;"

# 12. holdout.mix, the held-out site (not tuned on): gen.py still makes it
#     (60 users instead of 180: the draws are checked, not the verdicts);
#     every phone on one of its four carriers, each attack all its messages
python3 "$here/gen.py" --mix "$here/mix/holdout.mix" --seed 3 --users 60 --out "$tmp/hold" 2>"$tmp/err" ||
    not_ok "gen.py holdout" "$(cat "$tmp/err")"
got=$(awk -F'\t' 'NR > 1 && $4 != "-" { print $4 }' "$tmp/hold/users.tsv" | sort -u | tr '\n' ' ')
same "holdout.mix: the phones on its four carriers" "$got" "congstar telefonica tmobile vodafone "
got=$(awk -F'\t' '$6 == "attack" { n[$7]++ } END { for (a in n) print a, n[a] }' "$tmp/hold/truth.tsv" | sort | tr '\n' ';')
same "holdout.mix: seven attacks, each with all its messages" "$got" \
    "botnet 80;burst 400;internal 1500;low-and-slow 200;one-ip 30;proxies 120;spam-run 150;"

# 13. probe-neighbour.mix's keys (tiny.mix's site, 12 users): victim =
#     phone_only (no home line before its attack: those left from the
#     phone), pool / source = site_homes (every address in a home /24 of
#     another user: that user's ISP in its city), stint (proxies keep an
#     address for that many messages)
mkdir "$tmp/pn"
{ cat <<EOF
[mix]
base = $here/check/tiny.mix
EOF
  printf '[attack.pn]\nstyle = proxies\npool = site_homes\nvictim = phone_only\nstint = 2\n'
  printf 'goal = proxies\nday = 8\nhour = 9\nmessages = 6\ninterval = 180\nrcpts = 1 .. 1\n'
  printf '[attack.pn-sticky]\nstyle = one_addr\nsource = site_homes\n'
  printf 'goal = proxies\nday = 8\nhour = 12\nmessages = 6\ninterval = 180\nrcpts = 1 .. 1\n'
} >"$tmp/pn.mix"
python3 "$here/gen.py" --mix "$tmp/pn.mix" --seed 5 --users 12 --out "$tmp/pn" 2>"$tmp/err" ||
    not_ok "gen.py probe-neighbour keys" "$(cat "$tmp/err")"
got=$(awk -F'\t' 'FILENAME ~ /plan/ { if ($1 == "geo") { split($2, a, "."); n = a[1] "." a[2] "." a[3]; org[n] = $12; city[n] = $7 }; next }
    FILENAME ~ /users/ { home[$1] = $3; next }
    FNR == 1 { next }
    $8 == "home" { split($4, a, "."); isp[$3] = org[a[1] "." a[2] "." a[3]] }
    $7 == "pn" && !t0 { t0 = $2; v = $3 }
    { r[NR] = $0 }
    END { for (u in isp) if (u != v) near[isp[u] "/" home[u]] = 1
	for (i in r) { split(r[i], f, "\t"); split(f[4], a, "."); n = a[1] "." a[2] "." a[3]
	    if (f[7] ~ /^pn/) { k = ((org[n] "/" city[n]) in near) ? "near" : "other"; seen[f[7] " " k]++
		if (f[7] == "pn") ips[f[4]] = 1; else one[f[4]] = 1 }
	    if (f[3] == v && f[2] < t0 && f[8] == "home") early++ }
	print "pn-home-lines", early + 0; for (s in seen) print s, seen[s]
	n = 0; for (x in ips) n++; print "pn-addresses", n; n = 0; for (x in one) n++; print "sticky-addresses", n }' \
    "$tmp/pn/plan.tsv" "$tmp/pn/users.tsv" "$tmp/pn/truth.tsv" | sort | tr '\n' ';')
same "phone_only: no home line before the attack; site_homes: the users' /24s; stint 2: 3 addresses" \
    "$got" "pn near 6;pn-addresses 3;pn-home-lines 0;pn-sticky near 6;sticky-addresses 1;"

# 14. probe-home.mix's keys (tiny.mix's site): victim = late with trip = D
#     (the victim's first D days a trip from the day it joins: hotel and
#     roaming phone only) and away = 1 (silent from the trip's end until
#     the attack)
mkdir "$tmp/ph"
{ cat <<EOF
[mix]
base = $here/check/tiny.mix
EOF
  printf '[attack.ph]\nstyle = one_addr\nsource = residential\nvictim = late\nlate_phone = 1\n'
  printf 'joined = 7\ntrip = 4\naway = 1\ngoal = low-and-slow\nday = 8\nhour = 9\nmessages = 3\n'
  printf 'interval = 480\nrcpts = 1 .. 1\n'
} >"$tmp/ph.mix"
python3 "$here/gen.py" --mix "$tmp/ph.mix" --seed 5 --out "$tmp/ph" 2>"$tmp/err" ||
    not_ok "gen.py probe-home keys" "$(cat "$tmp/err")"
got=$(awk -F'\t' 'FNR == 1 { next }
    $7 == "ph" && !t0 { t0 = $2; v = $3 }
    { r[NR] = $0 }
    END { for (i in r) { split(r[i], f, "\t"); if (f[3] != v) continue
	    if (!first || f[2] < first) first = f[2] }
	for (i in r) { split(r[i], f, "\t"); if (f[3] != v || f[6] == "attack") continue
	    d = int(f[2] / 86400) - int(first / 86400)
	    k = (d < 4) ? "trip" : (f[2] < t0 ? "after" : "attack")
	    print k ((f[8] == "hotel" || f[8] == "roaming") ? "-abroad" : "-home") } }' \
    "$tmp/ph/truth.tsv" | sort -u | tr '\n' ';')
same "late victim trip = 4, away = 1: hotel and roaming phone on its first 4 days, silent until the attack" \
    "$got" "attack-home;trip-abroad;"

echo "sim: $pass passed, $fail failed"
[ $fail -eq 0 ]
