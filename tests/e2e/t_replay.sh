#!/bin/bash
# t_replay.sh - relayguardctl replay over the maillog of this suite's own
# private Postfix gives the verdicts the live milter gave:
#   1 a stolen login (seed 002: a new country a message, then a block), an
#     honest login from two addresses, a message with three recipients, an
#     internal host past its rate (seed 000);
#   2 replay --verdicts over Postfix's maillog_file prints, message by
#     message, the milter's own verdict lines (queue id, action, rule,
#     user, client, country, class, phase);
#   3 the report's per-rule counts match the milter's verdict lines, and
#     the stolen login heads the flagged logins;
#   4 --compare with a configuration without the location rules: the
#     stolen login's messages pass, it is freed, and it says so;
#   5 the same log gzipped, cut in two files given newest first, and on
#     standard input gives the same verdicts.
# Usage: tests/e2e/t_replay.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_setup
e2e_pass "milter listening on 127.0.0.1:$MILTER_PORT behind Postfix on $SMTP_PORT"

# --- 1 traffic -------------------------------------------------------------------------
for n in 1 2 3 4 5 6; do
    rg_send usr1 "198.18.$n.10" -s "stolen $n"
done
for n in 1 2 3 4; do
    if [ $((n % 2)) = 0 ]; then a=198.18.3.20; else a=198.18.13.20; fi
    rg_send alice "$a" -s "alice $n"
done
rg_send alice 198.18.3.20 -t one@example.net -t two@example.net -t three@example.net -s "three"
e2e_assert_reply "$SW_RESULT" "250" "1: three recipients accepted"
for n in $(seq 1 22); do
    rg_send - 10.1.2.3 -s "burst $n"
done
e2e_assert_reply "$SW_RESULT" "451 4.7.1" "1: the internal burst ends in tempfail"
last=$(grep -c 'action=' "$RG_LOG")
pf_wait_queue_empty 10 || true
# postlogd writes Postfix's lines after the sessions ended: the replay
# below reads the log, so wait for the last session's line, the second
# refusal of the burst (the first of them was there a session earlier)
e2e_wait_until 20 eval '[ "$(grep -c "milter-reject: MAIL from unknown\[10\.1\.2\.3\]" "$PF_LOG")" -ge 2 ]' || true

# The milter's verdict lines, reduced to the fields replay must reproduce
# (reasons hold durations measured on two clocks: left out).
verdict_fields() {
    sed -n 's/^.*\(\(NOQUEUE\|[0-9A-Za-z]\{5,\}\): action=.*\)$/\1/p' |
        sed 's/ reason="\([^"\\]\|\\.\)*"//; s/ helo="[^"]*"//; s/ dry_run=would//'
}
verdict_fields <"$RG_LOG" >"$E2E_DIR/live.txt"
e2e_assert_eq "$(wc -l <"$E2E_DIR/live.txt")" "$last" "1: every milter verdict line was read"

# --- 2 replay verdicts = live verdicts ----------------------------------------------------
"$RG_CTL" replay --verdicts -c "$RG_CONF" "$PF_LOG" >"$E2E_DIR/replay.out" 2>"$E2E_DIR/replay.err"
e2e_assert_eq "$?" 0 "2: replay --verdicts exits 0"
verdict_fields <"$E2E_DIR/replay.out" >"$E2E_DIR/replayed.txt"
e2e_assert_eq "$(wc -l <"$E2E_DIR/replayed.txt")" "$(wc -l <"$E2E_DIR/live.txt")" \
    "2: as many verdicts replayed as the milter gave"
if diff -u "$E2E_DIR/live.txt" "$E2E_DIR/replayed.txt" >"$E2E_DIR/verdicts.diff"; then
    e2e_pass "2: replayed verdicts equal the milter's, line by line"
else
    e2e_diag <"$E2E_DIR/verdicts.diff"
    e2e_fail "2: replayed verdicts equal the milter's, line by line"
fi
e2e_assert_match "$(cat "$E2E_DIR/replayed.txt")" 'action=tempfail rule=many-countries user="usr1" client=\[198\.18\.4\.10\] country=IN' \
    "2: the fourth country of the stolen login is tempfailed in the replay too"
e2e_assert_match "$(cat "$E2E_DIR/replayed.txt")" 'action=quarantine rule=impossible-travel user="usr1"' \
    "2: and the impossible journeys are held"

# --- 3 the report ------------------------------------------------------------------------
"$RG_CTL" replay --json -c "$RG_CONF" "$PF_LOG" >"$E2E_DIR/replay.json"
e2e_assert_eq "$?" 0 "3: replay --json exits 0"
count_live() { grep -c "action=$1 rule=$2 " "$E2E_DIR/live.txt"; }
json=$(cat "$E2E_DIR/replay.json")
for rule in many-countries:tempfail:tempfailed impossible-travel:quarantine:held \
    internal-burst:tempfail:tempfailed; do
    IFS=: read -r name act key <<<"$rule"
    want=$(count_live "$act" "$name")
    e2e_assert_match "$json" "\"name\":\"$name\",[^}]*\"$key\":$want," \
        "3: $name: $want messages $key, as the milter's lines say"
done
e2e_assert_match "$json" '"top_logins":\[\{"login":"usr1","countries":6,' \
    "3: usr1 heads the flagged logins with its 6 countries"
e2e_assert_match "$json" '"bad_lines":0,' "3: every line of Postfix's log understood"
live_held=$(grep -c 'action=quarantine' "$E2E_DIR/live.txt")
live_tf=$(grep -c 'action=tempfail' "$E2E_DIR/live.txt")
e2e_assert_match "$json" "\"live\":\\{\"accept\":[0-9]+,\"hold\":$live_held,\"tempfail\":$live_tf,\"reject\":0," \
    "3: what the live system did, read from Postfix's lines: $live_held held, $live_tf tempfailed"
"$RG_CTL" replay -c "$RG_CONF" "$PF_LOG" >"$E2E_DIR/replay.txt"
e2e_assert_file_match "$E2E_DIR/replay.txt" '^many-countries +0 +0 +[1-9]' "3: the text table has the rule's row"
"$RG_CTL" replay -c "$RG_CONF" --html "$E2E_DIR/replay.html" "$PF_LOG" >/dev/null
e2e_assert_file_match "$E2E_DIR/replay.html" '<h3>usr1</h3>' "3: the HTML page has usr1"
e2e_assert_file_match "$E2E_DIR/replay.html" '^<svg .*<title>tempfail many-countries IN</title>' \
    "3: and its timeline with the refusal in IN"
e2e_assert_false "3: and no script" grep -qi '<script' "$E2E_DIR/replay.html"

# --- 4 --compare -----------------------------------------------------------------------
sed -e '/name = "many-countries"/,/block_for = "1h"; },/d' \
    -e '/name = "impossible-travel"/,/action = "quarantine"; },/d' "$RG_CONF" >"$E2E_DIR/lenient.conf"
"$RG_CTL" replay --json -c "$RG_CONF" --compare "$E2E_DIR/lenient.conf" "$PF_LOG" >"$E2E_DIR/compare.json"
stopped=$(grep -cE 'action=(quarantine|tempfail) rule=[^ ]+ user="usr1"' "$E2E_DIR/live.txt")
e2e_assert_match "$(cat "$E2E_DIR/compare.json")" "\"compare\":\\{\"newly_stopped\":0,\"newly_passed\":$stopped," \
    "4: without the location rules the $stopped stopped messages of usr1 pass"
refused=$(grep -cE 'action=tempfail rule=[^ ]+ user="usr1"' "$E2E_DIR/live.txt")
e2e_assert_match "$(cat "$E2E_DIR/compare.json")" "\"newly_refused\":0,\"no_longer_refused\":$refused," \
    "4: of them $refused were refused (the others held)"
e2e_assert_match "$(cat "$E2E_DIR/compare.json")" '"logins_caught":\[\],"logins_freed":\[\{"login":"usr1","rule":"impossible-travel"\}\]' \
    "4: and usr1 is freed"
"$RG_CTL" replay -c "$E2E_DIR/lenient.conf" --compare "$RG_CONF" "$PF_LOG" >"$E2E_DIR/compare.txt"
e2e_assert_file_match "$E2E_DIR/compare.txt" "messages newly stopped: $stopped, newly let through: 0" \
    "4: the other way round they are newly stopped"
e2e_assert_file_match "$E2E_DIR/compare.txt" '^  login usr1: newly caught \(impossible-travel\)' \
    "4: and usr1 is named as newly caught"

# --- 5 gzip, two files in the wrong order, standard input ------------------------------------
half=$(( $(wc -l <"$PF_LOG") / 2 ))
head -n "$half" "$PF_LOG" >"$E2E_DIR/maillog.1"
tail -n +"$((half + 1))" "$PF_LOG" | gzip >"$E2E_DIR/maillog.gz"
"$RG_CTL" replay --verdicts -c "$RG_CONF" "$E2E_DIR/maillog.gz" "$E2E_DIR/maillog.1" |
    verdict_fields >"$E2E_DIR/split.txt"
e2e_assert_true "5: a gzipped part and a plain part, newest first: same verdicts" \
    cmp -s "$E2E_DIR/split.txt" "$E2E_DIR/live.txt"
"$RG_CTL" replay --verdicts -c "$RG_CONF" - <"$PF_LOG" | verdict_fields >"$E2E_DIR/stdin.txt"
e2e_assert_true "5: standard input: same verdicts" cmp -s "$E2E_DIR/stdin.txt" "$E2E_DIR/live.txt"
e2e_done
