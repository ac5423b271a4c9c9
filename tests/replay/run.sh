#!/bin/sh
# run.sh - relayguardctl replay over generated logs (tests/replay/gen-log.pl)
# with tests/replay/replay.conf: the expected per-rule counts in Postfix
# (classic, maillog_file, RFC 3339 and journalctl short-iso times) and
# Sendmail form, across New Year; with lines that are not syslog lines
# (counted exactly), a truncated plain and gzip file, and the log split
# over three files given out of order.
# usage: tests/replay/run.sh BUILD_DIR      prints "replay: N passed, M failed"
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
ctl=$build/relayguardctl
tmp=$(mktemp -d /tmp/rg-replay-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fail=0
export TZ=UTC

ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "# $2"; }

# expect NAME JSONFILE ERE - the JSON document matches ERE
expect() {
    if grep -Eq -- "$3" "$2"; then ok "$1"; else not_ok "$1" "$(head -c 600 "$2")"; fi
}

# rules - the expected per-rule counts of the full three days
rules() {
    expect "$1: many-countries tempfailed the 4th attempt and 26 after it (27, 1 login, 27 clients)" "$2" \
        '"name":"many-countries","tagged":0,"held":0,"tempfailed":27,"rejected":0,"by_block":26,"logins":1,"clients":27,'
    expect "$1: internal-burst tempfailed 200 of 300 (1 client)" "$2" \
        '"name":"internal-burst","tagged":0,"held":0,"tempfailed":200,"rejected":0,"by_block":199,"logins":0,"clients":1,'
    expect "$1: user-messages never fired on honest users" "$2" \
        '"name":"user-messages","tagged":0,"held":0,"tempfailed":0,"rejected":0,'
    expect "$1: usr1 heads the flagged logins, stopped by many-countries" "$2" \
        '"top_logins":\[\{"login":"usr1",.*"stopped":27,"tagged":0,"stopped_by":"many-countries","stop_action":"tempfail","stopped_at":176734818[01]\}'
}

# years NAME JSONFILE - first submission on 2025-12-31 (from 22:00 UTC),
# last before 2026-01-04: the year is right across New Year
years() {
    first=$(sed -n 's/.*"first":\([0-9]*\),"last":[0-9]*,"live".*/\1/p' "$2")
    last=$(sed -n 's/.*"first":[0-9]*,"last":\([0-9]*\),"live".*/\1/p' "$2")
    if [ "${first:-0}" -ge 1767218400 ] && [ "$first" -lt 1767225600 ] &&
        [ "${last:-0}" -gt 1767398400 ] && [ "$last" -lt 1767484800 ]; then
        ok "$1: first and last submission in the right years"
    else not_ok "$1: first and last submission in the right years" "first $first last $last"; fi
}

# run NAME JSONFILE LOG... - replay with the test policy
replay() {
    name=$1 json=$2; shift 2
    "$ctl" replay --json -c "$tmp/replay.conf" "$@" >"$json" 2>"$json.err"
    rc=$?
    if [ $rc -eq 0 ]; then ok "$name: exit 0"; else not_ok "$name: exit 0" "exit $rc: $(cat "$json.err")"; fi
}

perl "$here/../geoip/make-test-db.pl" "$tmp" >/dev/null || { echo "replay: 0 passed, 1 failed"; exit 1; }
sed "s|GEO|$tmp|g" "$here/replay.conf" >"$tmp/replay.conf"

for form in postfix:classic postfix:maillog postfix:rfc3339 postfix:journal sendmail:classic; do
    mta=${form%%:*} stamp=${form#*:}
    log=$tmp/$mta-$stamp.log
    perl "$here/gen-log.pl" --mta "$mta" --stamp "$stamp" >"$log"
    touch -d '2026-01-03 23:00' "$log"     # the year of classic stamps
    replay "$form" "$tmp/$form.json" "$log"
    rules "$form" "$tmp/$form.json"
    expect "$form: every line understood, 1,450 submissions" "$tmp/$form.json" '"bad_lines":0,.*"submissions":1450,'
    # 2025-12-31 22:00 .. 2026-01-03 10:00 UTC: the year is right across New Year
    years "$form" "$tmp/$form.json"
done

log=$tmp/postfix-classic.log
perl "$here/gen-log.pl" --garbage 40 >"$tmp/broken.log"
replay "broken" "$tmp/broken.json" "$tmp/broken.log"
rules "broken" "$tmp/broken.json"
years "broken (written today: Dec 31 is last year's)" "$tmp/broken.json"
expect "broken: the 40 lines that are not syslog lines are counted" "$tmp/broken.json" '"bad_lines":40,'
expect "broken: and sampled" "$tmp/broken.json" '"bad_samples":\["[^"]+broken.log:[0-9]+: '

{ printf 'Dec 31 23:00:00 mx postfix/smtpd[1]: \0AB\n\0\0\n'; head -c 20000 /dev/zero
  printf '\nDec 31 23:00:01 mx postfix/qmgr[1]: x\nno newline at the end'; } >"$tmp/nul.log"
replay "NULs and a 20 KB line of NULs" "$tmp/nul.json" "$tmp/nul.log"
expect "NULs and a 20 KB line of NULs: 5 lines, 3 of them not understood" "$tmp/nul.json" '"lines":5,"bad_lines":3,'

size=$(wc -c <"$log")
head -c $((size * 2 / 3)) "$log" >"$tmp/cut.log"
replay "truncated" "$tmp/cut.json" "$tmp/cut.log"
expect "truncated: at most the cut line is not understood" "$tmp/cut.json" '"bad_lines":[01],'
head -c $((size * 2 / 3)) "$log" | gzip | head -c 20000 >"$tmp/cut.log.gz"
replay "truncated gzip" "$tmp/cutgz.json" "$tmp/cut.log.gz"
expect "truncated gzip: what was there is replayed" "$tmp/cutgz.json" '"submissions":[1-9]'

# 64 rules that never fire before the three: theirs are the 65th-67th
# (a configuration holds 96); relayguardctl replay counted 64 of them
awk '{ print } /^  rules = \($/ { for (i = 0; i < 64; i++)
    printf "    { name = \"f%d\"; applies_to = \"authenticated\"; metric = \"messages\"; window = \"1h\"; limit = 100000; action = \"tag\"; },\n", i }' \
    "$tmp/replay.conf" >"$tmp/many.conf"
"$ctl" replay --json -c "$tmp/many.conf" "$log" >"$tmp/many.json" 2>"$tmp/many.err"
rules "rules 65-67" "$tmp/many.json"

gzip -c "$log" >"$tmp/log.gz"
"$ctl" replay --json -c "$tmp/replay.conf" - <"$tmp/log.gz" >"$tmp/stdin.json" 2>&1
rules "gzip on standard input" "$tmp/stdin.json"

awk -v d="$tmp" '{ print > (d "/part." (NR % 3)) }' "$log"
replay "three files out of order" "$tmp/split.json" "$tmp/part.2" "$tmp/part.0" "$tmp/part.1"
rules "three files out of order" "$tmp/split.json"
expect "three files out of order: every submission joined" "$tmp/split.json" '"submissions":1450,"warm_up":0,"unjoined":0,'

"$ctl" replay --json -c "$tmp/replay.conf" --from '2026-01-02' --to '2026-01-02 23:59' "$log" >"$tmp/day2.json"
expect "--from/--to: day 2 alone keeps usr1's 27 refusals" "$tmp/day2.json" '"name":"many-countries","tagged":0,"held":0,"tempfailed":27,'
expect "--from/--to: and leaves out day 3's burst" "$tmp/day2.json" '"name":"internal-burst","tagged":0,"held":0,"tempfailed":0,'
"$ctl" replay -c "$tmp/replay.conf" /nonexistent/log >/dev/null 2>"$tmp/missing.err"
rc=$?
if [ $rc -eq 69 ] && grep -q '/nonexistent/log' "$tmp/missing.err"; then ok "a missing log: exit 69, named"
else not_ok "a missing log: exit 69, named" "exit $rc"; fi

for bad in "--from yesterday" "--to 2026-01-02 --from 2026-01-03" "--verdicts --json" "--limit -1"; do
    # shellcheck disable=SC2086 # the words are the options
    "$ctl" replay -c "$tmp/replay.conf" $bad "$log" >/dev/null 2>"$tmp/usage.err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q 'usage:' "$tmp/usage.err"; then ok "replay $bad: exit 2 with the usage"
    else not_ok "replay $bad: exit 2 with the usage" "exit $rc"; fi
done
"$ctl" replay -c "$tmp/replay.conf" >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then ok "replay without a log: exit 2"; else not_ok "replay without a log: exit 2" "exit $rc"; fi

echo "replay: $pass passed, $fail failed"
[ $fail -eq 0 ]
