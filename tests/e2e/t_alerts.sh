#!/bin/bash
# t_alerts.sh - the alert mail's escalation and digest, end to end: the
# private Postfix with relayguard-milter sends its verdicts as events to
# "relayguard-collector run", whose alerts go through this Postfix's
# sendmail to smtp-sink (alerts.max_per_hour = 3):
#   1. usr1 from a pinned host is an incident: one "opened" mail;
#   2. usr1 from a second pinned host: the incident names a new host,
#      exactly one "escalated" mail (In-Reply-To the first);
#   3. usr1 from a third: more evidence, no more mail;
#   4. usr2's incident takes the hour's last mail; usr3, usr4 and usr5
#      wait (the log says so), nothing more reaches the sink;
#   5. the hour passes (the mails' times in the collector's database are
#      moved back an hour: the limit counts the last hour's mails): the
#      three go out as one digest naming each of them, and nothing after;
#   6. the milter skipped no line of the rogue list the collector wrote.
# Usage: tests/e2e/t_alerts.sh [BUILD_DIR]   (KEEP=1 keeps the temp dir)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_alerts_setup 'max_per_hour = 3; timeout = "20s";'

e2e_bg collector "$B" -f -c "$RG_CONF" run
CLOG=$E2E_DIR/collector.log
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start: $(cat "$CLOG")"
for h in 198.51.100.9 198.51.100.10 198.51.100.11; do
    "$B" -c "$RG_CONF" rogue add "$h" --for 1h --reason "t_alerts" >/dev/null ||
        e2e_bail "rogue add $h"
done
# every message below is refused, none accepted first (which would be an
# incident of its own)
e2e_wait_until 10 grep -q 'rogue list .*: 3 networks' "$RG_LOG" ||
    e2e_bail "the milter did not load the three pins"

# 1. the opening
rg_send usr1 198.51.100.9 -s "usr1 from the first pinned host"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "usr1 from a pinned host: refused"
e2e_assert_true "incident: usr1 from a pinned host" e2e_wait_until 10 icheck \
    'I[("login_from_flagged","usr1")]["hosts"] == ["198.51.100.9"]'
id1=$(inc_id usr1)
e2e_assert_true "the opening's mail reaches the sink" \
    sink_wait_find "Subject: [relayguard] $id1 opened: login_from_flagged usr1" 30

# 2. a second host: one update
rg_send usr1 198.51.100.10 -s "usr1 from the second pinned host"
e2e_assert_true "the incident grows to two hosts" e2e_wait_until 10 icheck \
    'sorted(I[("login_from_flagged","usr1")]["hosts"]) == ["198.51.100.10","198.51.100.9"]'
e2e_assert_true "one escalation mail" \
    sink_wait_find "Subject: [relayguard] $id1 escalated: login_from_flagged usr1" 30
f=$(sink_find "$id1 escalated" | head -1)
e2e_assert_file_match "$f" "^In-Reply-To: <$id1\.opened@mx\.example\.org>" "... in reply to the opening"
e2e_assert_file_match "$f" '^  hosts: 198\.51\.100\.9, 198\.51\.100\.10' "... with both hosts"

# 3. a third host: no second update
rg_send usr1 198.51.100.11 -s "usr1 from the third pinned host"
e2e_assert_true "the incident grows to three hosts" e2e_wait_until 10 icheck \
    'len(I[("login_from_flagged","usr1")]["hosts"]) == 3'
sleep 3			# alert passes follow each correlation pass (1 s)
e2e_assert_eq "$(mails_with "^Subject: \[relayguard\] $id1 ")" 2 \
    "usr1's incident: exactly two mails (opened, escalated once)"

# 4. the hour's last mail, then the rest waits
rg_send usr2 198.51.100.9 -s "usr2"
e2e_assert_true "incident of usr2" e2e_wait_until 10 icheck 'I[("login_from_flagged","usr2")]'
id2=$(inc_id usr2)
e2e_assert_true "usr2's opening is the hour's third mail" \
    sink_wait_find "Subject: [relayguard] $id2 opened" 30
for u in usr3 usr4 usr5; do rg_send "$u" 198.51.100.9 -s "$u"; done
e2e_assert_true "incidents of usr3, usr4, usr5" e2e_wait_until 10 icheck \
    'all(I.get(("login_from_flagged", u)) for u in ("usr3", "usr4", "usr5"))'
ids=""
for u in usr3 usr4 usr5; do ids="$ids $(inc_id "$u")"; done
e2e_assert_true "the collector logs them as waiting for a digest" e2e_wait_until 10 \
    bash -c "grep -oE 'waiting_for_digest=[0-9]+' '$CLOG' | awk -F= '{s+=\$2} END {exit !(s == 3)}'"
sleep 2
e2e_assert_eq "$(sink_count)" 3 "no fourth mail within the hour"

# 5. an hour later: one digest of the three
sqlite3 "$D/collector.db" ".timeout 5000" "UPDATE alert_mail SET sent_ms = sent_ms - 3600000" ||
    e2e_fail "could not age the alert log"
e2e_assert_true "one digest mail" \
    sink_wait_find "Subject: [relayguard] digest: 3 incident alerts (limit 3 an hour)" 30
f=$(sink_find "Subject: [relayguard] digest" | head -1)
for i in $ids; do
    e2e_assert_file_match "$f" "^Incident $i opened:" "the digest has $i"
done
e2e_assert_false "... and not what was mailed before" grep -q "^Incident $id2" "$f"
sleep 3
e2e_assert_eq "$(sink_count)" 4 "nothing after the digest"
e2e_assert_false "the milter read every line of the rogue list (incident lines are long)" \
    grep -q 'bad lines skipped' "$RG_LOG"
e2e_done
