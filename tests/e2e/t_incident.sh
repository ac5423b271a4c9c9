#!/bin/bash
# t_incident.sh - the loop of issue 13 end to end: flows made by the real
# nfcapd (tests/collector/mkflows.sh) flag hosts; the private Postfix with
# relayguard-milter sends each verdict as a signed event over a unix
# datagram socket to "relayguard-collector run", which stores it and
# correlates:
#   - a login used from a host the flows flagged (10.20.1.7, a rogue
#     server) is an incident naming the login, the host, the flag, the
#     queue id; the host's mail is refused (rogue list, rogue-host rule);
#   - the residence-hall PC (10.20.133.16, direct_sender) relaying through
#     the MTA is an incident;
#   - one IP with four logins is an incident;
#   - usr1's mail accepted before its refusal: an incident with that queue
#     id and the "relayguardctl contain" command;
#   - incidents go to incidents_file as JSON lines (a file logrotate moved
#     away is created anew, mode 0640) and survive a restart of the
#     collector, also after SIGKILL; "rogue add" pins a host on the list
#     the milter reads, with who and why; mail flows while the collector
#     is away;
#   - each incident is one alert mail, through this Postfix's sendmail to
#     the sink; one that failed before a SIGKILL goes out after the restart,
#     and none is sent twice;
#   - the HTML report shows the incidents and each login's timeline.
# Usage: tests/e2e/t_incident.sh [BUILD_DIR]   (KEEP=1 keeps the temp dir)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_collector_init
gen=$RG_FLOWGEN B=$RG_COLL D=$E2E_DIR
# sendmail of the private Postfix; fails (75) while sendmail.fail exists
cat >"$D/sendmail" <<EOF
#!/bin/sh
[ -e "$D/sendmail.fail" ] && exit 75
exec /usr/sbin/sendmail -C "$PF_CONF" "\$@"
EOF
chmod 755 "$D/sendmail"
RG_COLLECTOR=$(rg_collector_section "unix:$D/events.sock" "$D/incidents.jsonl" \
    "alerts: { to = \"secops@example.org\"; from = \"relayguard@mx.example.org\";
            sendmail = \"$D/sendmail\"; max_per_hour = 20; timeout = \"20s\"; retry = \"2s\"; };")
rg_setup

# 1. a key readable by the group is refused with a clear error
chmod 640 "$D/event.key"
"$B" -c "$RG_CONF" listen --seconds 1 >"$D/badkey.out" 2>&1
e2e_assert_eq "$?" 78 "collector refuses a group-readable key (78)"
e2e_assert_file_match "$D/badkey.out" 'event\.key: mode 0640 .*chmod 0600' "... and says why"
chmod 600 "$D/event.key"

# 2. flows: day D of the scenarios flags 10.20.1.7 and the PC 10.20.133.16
n=$("$gen/mkflows.sh" main "$D/main") || e2e_bail "no flows"
"$B" -c "$RG_CONF" analyze "$D/main" >"$D/analyze.out" 2>&1
e2e_assert_eq "$?" 0 "analyze of $n flow records"
e2e_assert_file_match "$RG_CONF" "rogue.txt" "milter and collector share rogue.list_path"
e2e_assert_file_match "$D/rogue.txt" '^10\.20\.1\.7 # rogue_server' "10.20.1.7 on the rogue list"

e2e_bg collector "$B" -f -c "$RG_CONF" run
CPID=$E2E_BG_PID
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start: $(cat "$D/collector.log")"
e2e_wait_until 10 grep -q 'rogue list .*networks' "$RG_LOG" || e2e_bail "milter did not load the rogue list"

# 3. the login from the flagged host: refused, and an incident
rg_send usr1 198.18.1.10 -s "usr1 from home"
e2e_assert_reply "$SW_RESULT" "250" "usr1 from an ordinary address: delivered"
SW_QUEUEID_HOME=$SW_QUEUEID
rg_send usr1 10.20.1.7 -s "usr1 from the rogue server"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "usr1 from the flagged host: refused (rogue-host rule)"
e2e_assert_true "incident: usr1 used from the flagged 10.20.1.7" e2e_wait_until 10 icheck \
    'I[("login_from_flagged","usr1")]["hosts"] == ["10.20.1.7"] and I[("login_from_flagged","usr1")]["flags"] == ["rogue_server"] and I[("login_from_flagged","usr1")]["open"]'
e2e_assert_true "... its id is INC- and 12 hex digits" icheck \
    '__import__("re").fullmatch("INC-[0-9a-f]{12}", I[("login_from_flagged","usr1")]["id"])'
e2e_assert_true "incident: usr1's mail accepted before the refusal, with the command that holds it" \
    e2e_wait_until 10 icheck \
    "I[('accepted_before_refusal','usr1')]['queue_ids'] == ['$SW_QUEUEID_HOME'] and I[('accepted_before_refusal','usr1')]['contain'] == \"relayguardctl contain --scan -- 'usr1'\""
id1=$(python3 -c 'import json,sys; print([i["id"] for i in json.load(open(sys.argv[1]))["incidents"] if i["kind"] == "login_from_flagged"][0])' "$D/inc.json")
e2e_assert_true "alert mail for $id1 delivered through Postfix to the sink" \
    sink_wait_find "Subject: [relayguard] $id1 opened: login_from_flagged usr1" 30
f=$(sink_find "$id1 opened" | head -1)
e2e_assert_file_match "$f" '^  hosts: 10\.20\.1\.7' "... with the host"
e2e_assert_file_match "$f" '^  flow flags: rogue_server' "... the flow flag"
e2e_assert_file_match "$f" '^    10\.20\.1\.7 rogue_server, flagged ' "... and the flows that matched"
e2e_assert_file_match "$f" '^  rules: rogue-host' "... the rule"

# 4. the PC relaying through the MTA (no login, internal)
rg_send - 10.20.133.16 -s "spam from the PC"
e2e_assert_true "incident: 10.20.133.16 relays and sends port-25 mail directly" \
    e2e_wait_until 10 icheck 'I[("relay_and_direct","10.20.133.16")]["flags"] == ["direct_sender"]'

# 5. one IP, four logins
for u in ann bob cat dan; do rg_send "$u" 198.18.7.7 -s "bot as $u"; done
e2e_assert_true "incident: 198.18.7.7 used for 4 logins" e2e_wait_until 10 icheck \
    'sorted(I[("many_logins","198.18.7.7")]["logins"]) == ["ann","bob","cat","dan"]'

# 6. more evidence updates the incident, the id stays
id=$(python3 -c 'import json,sys; print([i["id"] for i in json.load(open(sys.argv[1]))["incidents"] if i["kind"] == "login_from_flagged"][0])' "$D/inc.json")
mv "$D/incidents.jsonl" "$D/incidents.jsonl.1"		# as logrotate does
rg_send usr1 10.20.1.7 -s "usr1 again"
e2e_assert_true "the same incident grows to 2 events" e2e_wait_until 10 icheck \
    "I[('login_from_flagged','usr1')]['events'] == 2 and I[('login_from_flagged','usr1')]['id'] == '$id'"
e2e_assert_eq "$(grep -c "\"id\": \"$id\"" "$D/incidents.jsonl.1")" 1 "incidents_file: opened (rotated away since)"
e2e_assert_eq "$(grep -c "\"change\": \"updated\", \"id\": \"$id\"" "$D/incidents.jsonl")" 1 \
    "... then updated, in a new file after the rotation"
e2e_assert_eq "$(stat -c %a "$D/incidents.jsonl")" 640 "... created with mode 0640"
e2e_assert_true "incidents_file: one JSON object a line" python3 -c '
import json, sys
[json.loads(l) for l in open(sys.argv[1])]' "$D/incidents.jsonl"

# 7. events and counters
"$B" -c "$RG_CONF" events --json >"$D/events.json"
e2e_assert_true "events: stored and listed, none refused" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
c = d["counters"]; E = d["events"]
assert c["stored"] >= 8, c
assert not any(k.startswith("refused") and v for k, v in c.items()), c
assert any(e["login"] == "usr1" and e["client"] == "10.20.1.7" and e["action"] == "reject" and e["rule"] == "rogue-host" for e in E), E' \
    "$D/events.json"

# 8. restart: nothing lost
kill -TERM "$CPID"
e2e_wait_until 10 bash -c "! kill -0 $CPID" || e2e_fail "collector did not stop"
e2e_assert_false "the socket is removed at exit" test -e "$D/events.sock"
rg_send usr1 198.18.1.10 -s "collector away"
e2e_assert_reply "$SW_RESULT" "250" "mail flows while the collector is away"
e2e_bg collector2 "$B" -f -c "$RG_CONF" run
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not restart"
e2e_assert_true "after a restart: the four incidents are there" icheck \
    'len(I) == 4 and I[("login_from_flagged","usr1")]["id"] == "'"$id"'"'
CPID=$E2E_BG_PID

# 8b. SIGKILL while an alert could not be sent: the incident and its mail
# survive; nothing already mailed is mailed again
: >"$D/sendmail.fail"
rg_send usr3 10.20.1.7 -s "usr3 from the rogue server"
e2e_assert_true "incident: usr3 from the flagged host" e2e_wait_until 10 icheck \
    'I[("login_from_flagged","usr3")]["open"]'
e2e_assert_true "... its alert failed (sendmail exit 75)" \
    e2e_wait_until 10 grep -q 'alert mail not sent.*exit 75' "$E2E_DIR/collector2.log"
kill -KILL "$CPID"
e2e_wait_until 10 bash -c "! kill -0 $CPID" || e2e_fail "collector did not die"
rm -f "$D/sendmail.fail" "$D/events.sock"
e2e_bg collector3 "$B" -f -c "$RG_CONF" run
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not restart"
e2e_assert_true "after SIGKILL: five incidents" icheck 'len(I) == 5'
id3=$(python3 -c 'import json,sys; print([i["id"] for i in json.load(open(sys.argv[1]))["incidents"] if i["subject"] == "usr3"][0])' "$D/inc.json")
e2e_assert_true "... and usr3's alert mail reaches the sink after the restart" \
    sink_wait_find "Subject: [relayguard] $id3 opened" 30
e2e_assert_eq "$(grep -l "^Subject: \[relayguard\] $id1 opened" "$SINK_DIR"/* | wc -l)" 1 \
    "the first alert was not sent again by a restarted collector"
for k in relay_and_direct many_logins accepted_before_refusal; do
    e2e_assert_true "alert mail for the $k incident" sink_wait_find "opened: $k " 30
done

# 8c. the HTML report: the incidents with their evidence as tables, a
# timeline per login, flag evidence as tables (not raw JSON)
"$B" -c "$RG_CONF" analyze --report "$D/report.html" "$D/main" >/dev/null 2>&1
e2e_assert_file_match "$D/report.html" "<table id=\"incident-list\">.*<td class=\"l\">$id1</td>" \
    "report: the incidents table"
e2e_assert_file_match "$D/report.html" "<th class=\"l\">hold what was accepted</th><td class=\"l\"><code>relayguardctl contain --scan -- 'usr1'</code>" \
    "report: the contain command in the evidence table"
e2e_assert_file_match "$D/report.html" '<h3 class="login">usr1</h3><table class="timeline">.*<td class="l">10\.20\.1\.7</td><td class="l"></td><td></td><td class="l">reject</td><td class="l">rogue-host</td><td class="l"></td><td class="l">rogue_server</td>' \
    "report: usr1's timeline (client, verdict, rule, the flows' flag)"
e2e_assert_false "report: no flag evidence as raw JSON" grep -q '<code>{' "$D/report.html"
e2e_assert_file_match "$D/report.html" '<table class="ev"><tr><th class="l">external_clients</th>' \
    "report: flag evidence as a table"

# 9. rogue add: pinned with who and why, on the list, refused by the milter
"$B" -c "$RG_CONF" rogue add 198.51.100.9 --for 1h --reason "phish kit host" >/dev/null
e2e_assert_eq "$?" 0 "rogue add"
e2e_assert_file_match "$D/rogue.txt" '^198\.51\.100\.9 # pinned ' "the pin is on the rogue list"
e2e_assert_file_match "$D/rogue.txt" '^10\.20\.1\.7 # rogue_server' "... beside the flagged hosts"
"$B" -c "$RG_CONF" rogue list >"$D/rogue.out"
e2e_assert_file_match "$D/rogue.out" '^pin +198\.51\.100\.9 +by=root at=.* expires=.* reason="phish kit host"' \
    "rogue list: who, when, expiry, why"
# the collector rewrites the list too (always from every committed change,
# under the writers' lock): wait until the milter's last load has as many
# networks as the list with the pin
nets=$(grep -c '^[0-9a-f]' "$D/rogue.txt")
e2e_wait_until 10 bash -c "grep 'rogue list .*networks' '$RG_LOG' | tail -1 | grep -q ': $nets networks'"
rg_send usr2 198.51.100.9 -s "from the pinned host"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "mail from the pinned host is refused"
"$B" -c "$RG_CONF" rogue remove 198.51.100.9 >/dev/null
e2e_assert_false "rogue remove: off the list" grep -q '^198\.51\.100\.9' "$D/rogue.txt"
e2e_done
