#!/bin/bash
# t_alerts_retry.sh - alert mail is sent at least once and, in normal
# operation, once: the private Postfix with relayguard-milter sends its
# verdicts as events to "relayguard-collector run", whose alerts go
# through a sendmail wrapper (held, failing or passing on to this
# Postfix's sendmail) to smtp-sink (alerts.retry = 2s):
#   1. the incident grows while sendmail still runs for its opening: the
#      opening names the first host, and the growth is still mailed as
#      the one update (the opening's record named the grown evidence, so
#      the update was lost);
#   2. sendmail fails, the collector is killed (SIGKILL) before the next
#      try and restarted: the mail arrives, once;
#   3. the collector is killed (SIGKILL, with its sendmail) while sendmail
#      runs: after the restart the mail arrives, once, not before the
#      retry wait; nothing mailed before is mailed again;
#   4. sendmail fails once, and nothing else happens: the mail goes out
#      when the retry wait (2 s) is over, not at the next correlation
#      pass (which comes every 10 s when no event comes).
# Usage: tests/e2e/t_alerts_retry.sh [BUILD_DIR]   (KEEP=1 keeps the temp dir)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
D=$E2E_DIR
# the wrapper: counts its runs (and their times, ms, in sm.times); exit
# 75 while sm.fail exists, and once for sm.fail1; waits (its pid in
# sm.held) while sm.hold exists; then this Postfix's sendmail
cat >"$D/sendmail" <<EOF
#!/bin/sh
echo \$\$ >>"$D/sm.runs"
date +%s%3N >>"$D/sm.times"
if [ -e "$D/sm.fail" ]; then cat >/dev/null; exit 75; fi
if [ -e "$D/sm.fail1" ]; then rm -f "$D/sm.fail1"; cat >/dev/null; exit 75; fi
if [ -e "$D/sm.hold" ]; then
    echo \$\$ >"$D/sm.held.tmp"; mv "$D/sm.held.tmp" "$D/sm.held"
    while [ -e "$D/sm.hold" ]; do sleep 0.1; done
fi
exec /usr/sbin/sendmail -C "$PF_CONF" "\$@"
EOF
chmod 755 "$D/sendmail"
rg_alerts_setup 'max_per_hour = 20; timeout = "30s"; retry = "2s";'

# collector NAME - relayguard-collector run in the background (CPID, CLOG)
collector() {
    rm -f "$D/events.sock"
    e2e_bg "$1" "$B" -f -c "$RG_CONF" run
    CPID=$E2E_BG_PID CLOG=$E2E_DIR/$1.log
    e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start: $(cat "$CLOG")"
}

# kill9 - SIGKILL the collector and wait for it to be gone
kill9() {
    kill -KILL "$CPID"
    e2e_wait_until 10 bash -c "! kill -0 $CPID 2>/dev/null" || e2e_fail "collector did not die"
}

collector collector1
for h in 198.51.100.9 198.51.100.10; do
    "$B" -c "$RG_CONF" rogue add "$h" --for 1h --reason "t_alerts_retry" >/dev/null ||
        e2e_bail "rogue add $h"
done
e2e_wait_until 10 grep -q 'rogue list .*: 2 networks' "$RG_LOG" ||
    e2e_bail "the milter did not load the two pins"

# 1. the incident grows while sendmail runs for its opening
: >"$D/sm.hold"
rg_send usr1 198.51.100.9 -s "usr1 from the first pinned host"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "usr1 from a pinned host: refused"
e2e_assert_true "sendmail runs for usr1's opening (and is held)" e2e_wait_until 15 test -s "$D/sm.held"
rg_send usr1 198.51.100.10 -s "usr1 from the second pinned host"
e2e_assert_true "the incident grows to two hosts meanwhile" e2e_wait_until 10 icheck \
    'sorted(I[("login_from_flagged","usr1")]["hosts"]) == ["198.51.100.10","198.51.100.9"]'
id1=$(inc_id usr1)
rm -f "$D/sm.hold" "$D/sm.held"
e2e_assert_true "the opening reaches the sink" \
    sink_wait_find "Subject: [relayguard] $id1 opened: login_from_flagged usr1" 30
f=$(sink_find "$id1 opened" | head -1)
e2e_assert_file_match "$f" '^  hosts: 198\.51\.100\.9$' "... naming the first host only"
e2e_assert_true "the growth is mailed as the update" \
    sink_wait_find "Subject: [relayguard] $id1 escalated: login_from_flagged usr1" 30
f=$(sink_find "$id1 escalated" | head -1)
e2e_assert_file_match "$f" '^  hosts: 198\.51\.100\.9, 198\.51\.100\.10' "... naming both hosts"

# 2. sendmail fails; SIGKILL before the next try; the restart sends it once
: >"$D/sm.fail"
rg_send usr2 198.51.100.9 -s "usr2"
e2e_assert_true "incident of usr2" e2e_wait_until 10 icheck 'I[("login_from_flagged","usr2")]'
id2=$(inc_id usr2)
e2e_assert_true "its alert fails (sendmail exit 75), tried again in 2 s" \
    e2e_wait_until 10 grep -q 'alert mail not sent (tried again in 2 s).*exit 75' "$CLOG"
kill9
rm -f "$D/sm.fail"
collector collector2
e2e_assert_true "after the restart usr2's alert reaches the sink" \
    sink_wait_find "Subject: [relayguard] $id2 opened" 30

# 3. SIGKILL (collector and its sendmail) while sendmail runs
: >"$D/sm.hold"
rg_send usr3 198.51.100.9 -s "usr3"
e2e_assert_true "incident of usr3" e2e_wait_until 10 icheck 'I[("login_from_flagged","usr3")]'
id3=$(inc_id usr3)
e2e_assert_true "sendmail runs for usr3's opening (and is held)" e2e_wait_until 15 test -s "$D/sm.held"
held=$(cat "$D/sm.held")
kill9
kill -KILL "$held" 2>/dev/null
rm -f "$D/sm.hold" "$D/sm.held"
runs=$(wc -l <"$D/sm.runs")
collector collector3
e2e_assert_true "after the restart usr3's alert reaches the sink" \
    sink_wait_find "Subject: [relayguard] $id3 opened" 30
e2e_assert_true "... sent by one sendmail run after the restart" \
    test "$(wc -l <"$D/sm.runs")" -eq $((runs + 1))

# 4. one failure, then quiet: the retry goes out when its wait is over
sleep 3			# usr3's incident is no news any more
: >"$D/sm.fail1"
rg_send usr4 198.51.100.9 -s "usr4"
e2e_assert_true "incident of usr4" e2e_wait_until 10 icheck 'I[("login_from_flagged","usr4")]'
id4=$(inc_id usr4)
e2e_assert_true "usr4's alert fails once" \
    e2e_wait_until 10 grep -q 'alert mail not sent (tried again in 2 s).*exit 75' "$CLOG"
e2e_assert_true "usr4's alert reaches the sink" \
    sink_wait_find "Subject: [relayguard] $id4 opened" 20
late=$(( $(tail -n 1 "$D/sm.times") - $(tail -n 2 "$D/sm.times" | head -n 1) ))
e2e_assert_true "... tried again 1-7 s after the failed run ($late ms; old: ~10 s)" \
    test "$late" -ge 1000 -a "$late" -le 7000

sleep 4			# an alert pass follows each correlation pass
e2e_assert_eq "$(mails_with "^Subject: \[relayguard\] $id1 ")" 2 "usr1: two mails (opened, escalated)"
e2e_assert_eq "$(mails_with "^Subject: \[relayguard\] $id2 ")" 1 "usr2: one mail"
e2e_assert_eq "$(mails_with "^Subject: \[relayguard\] $id3 ")" 1 "usr3: one mail"
e2e_assert_eq "$(sink_count)" 5 "five mails in all"
e2e_assert_eq "$(sqlite3 "$D/collector.db" ".timeout 5000" "SELECT tries FROM alert_retry")" 0 \
    "no failed try left (alert_retry.tries 0)"
e2e_assert_eq "$(sqlite3 "$D/collector.db" ".timeout 5000" "SELECT count(*) FROM alert_try")" 0 \
    "no item waits for a retry (alert_try empty)"
e2e_done
