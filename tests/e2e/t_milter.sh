#!/bin/bash
# t_milter.sh - relayguard-milter behind a real, private Postfix:
#   1 a stolen login from many countries (seed 002) is quarantined, then
#     tempfailed and blocked; refused mail never reaches the sink;
#   2 a legitimate user sending many messages from home and phone (two
#     addresses, one country) gets every message delivered;
#   3 an internal host without a login past its rate is tempfailed (seed 000);
#   4 quarantine: held in Postfix's hold queue, the reason findable;
#   5 the milter killed with SIGKILL: Postfix tempfails, nothing passes
#     unfiltered; restarted, it still knows the stolen login;
#   6 SIGUSR1 with a broken configuration keeps the old one running;
#   7 hostile SMTP input (2,000-byte login, CR/LF in HELO and login through
#     XCLIENT) does not crash it and is logged sanitised;
#   8 the rogue list written by the collector is picked up without restart.
# Usage: tests/e2e/t_milter.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_setup
e2e_pass "milter listening on 127.0.0.1:$MILTER_PORT behind Postfix on $SMTP_PORT"

# --- 1 stolen login, one country a minute -----------------------------------
ids=()
for n in 1 2 3 4 5 6; do
    rg_send usr1 "198.18.$n.10" -s "stolen $n"
    results[$n]=$SW_RESULT
    ids[$n]=$SW_ID
done
e2e_assert_reply "${results[1]}" "250" "1: first login from BR accepted"
e2e_assert_reply "${results[2]}" "250" "1: second (CN, impossible travel) accepted for quarantine"
e2e_assert_reply "${results[4]}" "451 4.7.1" "1: fourth country (IN) tempfailed"
e2e_assert_reply "${results[6]}" "451 4.7.1" "1: later attempts refused by the block"
pf_wait_queue_empty 10 || true
e2e_assert_true "1: the first message reached the sink" sink_wait_find "${ids[1]}" 10
e2e_assert_false "1: the quarantined one did not" sink_find "${ids[2]}"
e2e_assert_false "1: the tempfailed ones did not" sink_find "${ids[4]}"
e2e_assert_file_match "$RG_LOG" 'action=tempfail rule=many-countries user="usr1" client=\[198\.18\.4\.10\] country=IN .*4 countries in 10m: BR,CN,DE,IN \(limit 3\)' \
    "1: verdict line names rule, user, client, country and evidence"

# --- 4 quarantine: the hold queue, with the reason --------------------------------
e2e_assert_true "4: two messages in the hold queue" pf_wait_queue_count hold 2 5
held=$(pf_queue_json | grep '"queue_name": "hold"' | head -n 1 | sed 's/.*"queue_id": "\([0-9A-F]*\)".*/\1/')
e2e_assert_match "$(pf_postcat "$held" -h)" '^X-Relayguard: action=quarantine rule=impossible-travel user="usr1"' \
    "4: held message carries the X-Relayguard header with rule and user"
e2e_assert_true "4: Postfix logs the milter hold of that message" \
    pf_wait_log "$held: milter-hold: END-OF-MESSAGE" 5
e2e_assert_file_match "$RG_LOG" "^relayguard-milter: notice: $held: action=quarantine rule=impossible-travel .*reason=\"[0-9]+ km/h" \
    "4: the milter's log names the held queue id with its reason"

# --- 2 a legitimate user, home and phone ------------------------------------------
ok=0
for n in $(seq 1 12); do
    if [ $((n % 2)) = 0 ]; then a=198.18.3.20; else a=198.18.13.20; fi
    rg_send alice "$a" -s "alice $n"
    case $SW_RESULT in 250*) ok=$((ok + 1)) ;; esac
    last=$SW_ID
done
e2e_assert_eq "$ok" 12 "2: alice's 12 messages from Berlin and Potsdam accepted"
e2e_assert_true "2: and delivered" sink_wait_find "$last" 10
e2e_assert_false "2: none of alice's was held" eval "pf_queue_json | grep -q alice"

# --- 3 an internal host past its rate ----------------------------------------------
codes=""
for n in $(seq 1 22); do
    rg_send - 10.1.2.3 -s "burst $n"
    codes="$codes ${SW_RESULT%% *}"
done
e2e_assert_match "$codes" '^( 250){20} 451 451$' "3: internal host: 20 accepted, then 451"
e2e_assert_file_match "$RG_LOG" 'action=tempfail rule=internal-burst user="" client=\[10\.1\.2\.3\] .*class=internal' \
    "3: the burst is logged with rule internal-burst"

# --- 8 the rogue list, reloaded when it changes ---------------------------------------
rg_send - 198.51.100.66 -s "before the list"
e2e_assert_reply "$SW_RESULT" "250" "8: an unlisted external host is accepted"
printf '# written by the collector\n198.51.100.64/28\nnot-an-address\n' >"$E2E_DIR/rogue.txt"
e2e_assert_true "8: the milter loads the new list" \
    e2e_wait_until 20 grep -q "rogue list .*: 1 networks" "$RG_LOG"
rg_send - 198.51.100.66 -s "after the list"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "8: a listed host is rejected"
e2e_assert_file_match "$RG_LOG" 'rogue list .*1 bad lines skipped \(first: line 3\)' \
    "8: the bad line is counted and named"

# --- 6 SIGUSR1 with a broken configuration --------------------------------------------
cp "$RG_CONF" "$E2E_DIR/good.conf"
printf 'policy: { rules = ( { name = "x"; metric = "bogus"; } ); };\n' >>"$RG_CONF"
kill -USR1 "$RG_PID"
e2e_assert_true "6: the bad reload is refused and logged" \
    e2e_wait_until 20 grep -q "reload of .* failed, keeping the running configuration" "$RG_LOG"
e2e_assert_true "6: the milter is still running" e2e__alive "$RG_PID"
rg_send usr1 198.18.7.10 -s "after bad reload"
e2e_assert_reply "$SW_RESULT" "451 4.7.1" "6: the old rules and the block still apply"
cp "$E2E_DIR/good.conf" "$RG_CONF"
kill -USR1 "$RG_PID"
e2e_assert_true "6: a good reload is taken" e2e_wait_until 20 grep -q "reloaded $RG_CONF" "$RG_LOG"

# --- 7 hostile input -------------------------------------------------------------------
long=$(head -c 255 /dev/zero | tr '\0' 'A')
rg_send "$long" 198.18.3.30 -s "long login"
e2e_assert_reply "$SW_RESULT" "250" "7: a 255-byte login (the XCLIENT maximum) is judged, not a crash"
smtp_send -- --xclient "ADDR=198.18.3.31 LOGIN=evil+0D+0Aaction=accept+00x HELO=bad+0D+0Ahelo+1B[31m"
e2e_assert_true "7: the milter survives CR/LF/NUL/ESC through XCLIENT" e2e__alive "$RG_PID"
e2e_assert_false "7: no raw control byte reaches the log" grep -qP '[\x00-\x08\x0b-\x1f]' "$RG_LOG"
e2e_assert_false "7: no injected line in the log" grep -q '^action=accept' "$RG_LOG"
e2e_assert_file_match "$RG_LOG" 'user="evil\?\?action=accept' "7: the login is logged with CR/LF replaced"

# --- 5 SIGKILL, then a restart ---------------------------------------------------------
rg_stop KILL
before=$(sink_count)
rg_send bob 198.18.3.40 -s "while the milter is dead"
e2e_assert_reply "$SW_RESULT" "451 4.7.1" "5: milter dead: Postfix tempfails"
e2e_assert_eq "$(pf_queue_count)" "$(pf_queue_count hold)" "5: nothing accepted unfiltered"
rg_start || e2e_bail "restart failed: $(tail -n 5 "$RG_LOG")"
rg_send bob 198.18.3.40 -s "after restart"
e2e_assert_reply "$SW_RESULT" "250" "5: restarted milter accepts an honest login"
rg_send usr1 198.18.3.41 -s "stolen after restart"
e2e_assert_reply "$SW_RESULT" "451 4.7.1" "5: and still knows the stolen login is blocked"
pf_wait_queue_empty 10 || true
e2e_assert_eq "$(sink_count)" "$((before + 1))" "5: only bob's second message was delivered"

rg_stop TERM
e2e_assert_true "the milter stops on SIGTERM" e2e_wait_until 5 grep -q "stopped" "$RG_LOG"
e2e_done
