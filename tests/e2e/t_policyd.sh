#!/bin/bash
# t_policyd.sh - relayguard-policyd behind a real, private Postfix, asked
# by check_policy_service in smtpd_recipient_restrictions (no milter):
#   1 the stolen login of seed 002 (one country a minute, through XCLIENT
#     LOGIN=) is accepted first, then tempfailed at RCPT once it passes
#     the many-countries limit, and later attempts stay refused; refused
#     mail never reaches the sink; the verdict line is logged; the two
#     impossible-travel messages get HOLD (Postfix's hold queue);
#   2 Postfix keeps its policy connection: one connection served every
#     request (the daemon logs no closed connection).
# Usage: tests/e2e/t_policyd.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
e2e_pick_port POLICY_PORT
sink_start || e2e_bail "smtp-sink did not start"
rg_geo || e2e_bail "cannot generate GeoIP test databases"
rg_config
printf 'policyd: { socket = "inet:%s@127.0.0.1"; };\n' "$POLICY_PORT" >>"$RG_CONF"
pf_create
pf_set "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT" \
    "smtpd_policy_service_default_action = 451 4.3.5 policy service unavailable"
pf_start || e2e_bail "private Postfix did not start"
PD_LOG=$E2E_DIR/policyd.log
e2e_bg policyd "$E2E_BUILD/relayguard-policyd" -f -c "$RG_CONF"
PD_PID=$E2E_BG_PID
e2e_wait_until 10 eval '! e2e__port_free "$POLICY_PORT"' \
    || e2e_bail "relayguard-policyd did not start"
e2e_pass "policyd listening on 127.0.0.1:$POLICY_PORT behind Postfix on $SMTP_PORT"

# --- 1 stolen login, one country a minute -----------------------------------
for n in 1 2 3 4 5 6; do
    rg_send usr1 "198.18.$n.10" -s "stolen $n"
    results[$n]=$SW_RESULT
    rcpts[$n]=$SW_RCPT
    ids[$n]=$SW_ID
done
e2e_assert_reply "${results[1]}" "250" "1: first login from BR accepted"
e2e_assert_match "${rcpts[4]}" "^450 4\.7\.1 " "1: fourth country (IN) tempfailed at RCPT"
e2e_assert_match "${rcpts[6]}" "^450 4\.7\.1 " "1: later attempts refused by the block"
e2e_assert_true "1: the impossible-travel ones (CN, DE) are in the hold queue" \
    pf_wait_queue_count hold 2 5
pf_wait_queue_empty 10 || true
e2e_assert_true "1: the first message reached the sink" sink_wait_find "${ids[1]}" 10
e2e_assert_false "1: the tempfailed ones did not" sink_find "${ids[4]}"
e2e_assert_false "1: nor the blocked one" sink_find "${ids[6]}"
e2e_assert_true "1: the verdict line names rule, user, client and country" \
    e2e_wait_until 5 grep -Eq 'action=tempfail rule=many-countries user="usr1" client=\[198\.18\.4\.10\] country=IN' "$PD_LOG"

# --- 2 kept-open connections ------------------------------------------------
e2e_assert_false "2: no policy connection closed for bad input" \
    grep -q "policy connection closed" "$PD_LOG"
e2e_done
