#!/bin/bash
# t_harness.sh - end-to-end test of the harness itself, no relayguard code:
#   a) no milter: XCLIENT ADDR=203.0.113.7 LOGIN=alice is relayed to the
#      sink, whose copy names the XCLIENT client; an unauthenticated
#      outsider is refused relaying (so the login really counts);
#   c) hold queue round trip: a HOLD from check_sender_access shows in
#      postqueue -j as queue_name "hold" and never reaches the sink until
#      postsuper -H releases it;
#   b) smtpd_milters pointing at a port where nothing listens, with
#      milter_default_action = tempfail: 451 4.7.1, nothing queued, nothing
#      in the sink.
# Usage: tests/e2e/t_harness.sh [BUILD_DIR]   (KEEP=1 keeps the temp dir)

. "$(dirname -- "$0")/lib.sh"

e2e_init
sink_start || e2e_bail "smtp-sink did not start"
pf_create
pf_set 'smtpd_sender_restrictions = check_sender_access inline:{ { hold@example.org = HOLD e2e hold test } }'
pf_start || e2e_bail "private Postfix did not start"
e2e_pass "private Postfix answers on 127.0.0.1:$SMTP_PORT, sink on 127.0.0.1:$SINK_PORT"
e2e_assert_eq "$(pf_get config_directory)" "$PF_CONF" "instance runs on its own config directory"

# --- a) XCLIENT with a SASL login, relayed to the sink ----------------------
pf_log_mark
smtp_send -a 203.0.113.7 -l alice -s "harness a"
e2e_assert_reply "$SW_XCLIENT" "220" "a: XCLIENT ADDR=203.0.113.7 LOGIN=alice accepted"
e2e_assert_reply "$SW_RESULT" "250 2.0.0" "a: message accepted"
e2e_assert_match "$SW_QUEUEID" '^[0-9A-F]{6,}$' "a: queue id taken from the reply ($SW_QUEUEID)"
qid=$SW_QUEUEID
e2e_assert_true "a: postfix logs the XCLIENT client and login" \
    pf_wait_log "$qid: client=unknown\[203\.0\.113\.7\], sasl_method=XCLIENT, sasl_username=alice" 5
e2e_assert_true "a: delivered to the sink (status=sent)" pf_wait_delivered "$qid" 15
e2e_assert_true "a: message is in the sink" sink_wait_find "$SW_ID" 5
f=$(sink_find "$SW_ID" | head -n 1)
e2e_assert_file_match "$f" '^Received: from client\.e2e\.test \(unknown \[203\.0\.113\.7\]\)$' \
    "a: sink copy's Received header shows the XCLIENT address"
e2e_assert_file_match "$f" "by mx\.e2e\.test \(Postfix\) with ESMTPA id $qid\$" \
    "a: Received says ESMTPA (authenticated) with the same queue id"
e2e_assert_file_match "$f" '^Subject: harness a$' "a: sink copy keeps the Subject"
e2e_assert_eq "$(sink_count)" 1 "a: exactly one message in the sink"
e2e_assert_true "a: queue drains" pf_wait_queue_empty 10
e2e_assert_eq "$(pf_queue_count)" 0 "a: nothing left in any queue"

if [ "$PF_SASL" = yes ]; then
    smtp_send -a 198.51.100.9 -t victim@elsewhere.example -s "harness a relay"
    e2e_assert_reply "$SW_RCPT" "554 5.7.1" "a: no login, foreign domain: relay access denied"
    e2e_assert_reply "$SW_RESULT" "554 5.7.1" "a: SW_RESULT is the first refusal"
    e2e_assert_eq "$SW_QUEUEID" "" "a: refused message has no queue id"
else
    e2e_diag "skip relay-denied checks: SASL is off (install libsasl2-modules)"
fi

# --- c) hold queue round trip --------------------------------------------------
pf_log_mark
smtp_send -a 203.0.113.7 -l alice -f hold@example.org -s "harness c"
e2e_assert_reply "$SW_RESULT" "250" "c: held message accepted"
qid=$SW_QUEUEID
e2e_assert_true "c: one message in the hold queue" pf_wait_queue_count hold 1 5
e2e_assert_eq "$(pf_queue_of "$qid")" "hold" "c: postqueue -j lists $qid with queue_name hold"
e2e_assert_match "$(pf_queue_json)" "\"queue_name\": \"hold\", \"queue_id\": \"$qid\".*\"sender\": \"hold@example.org\"" \
    "c: postqueue -j record has the sender"
e2e_assert_true "c: hold reason is in the log" \
    pf_wait_log "hold: RCPT from unknown\[203\.0\.113\.7\]: <hold@example.org>: Sender address e2e hold test" 5
e2e_assert_match "$(pf_postcat "$qid" -h)" "X-E2E-Id: $SW_ID" "c: postcat -q shows the held message"
pf_flush
sleep 1
e2e_assert_false "c: held message does not reach the sink, even after a flush" sink_find "$SW_ID"
e2e_assert_true "c: postsuper -H releases it" pf_release "$qid"
e2e_assert_true "c: released message is delivered" pf_wait_delivered "$qid" 15
e2e_assert_true "c: released message is in the sink" sink_wait_find "$SW_ID" 5
e2e_assert_true "c: queue drains" pf_wait_queue_empty 10
e2e_assert_eq "$(pf_queue_count)" 0 "c: nothing left in any queue, hold included"

# --- b) milter configured but down, milter_default_action = tempfail ------------
e2e_assert_true "b: nothing listens on the milter port $MILTER_PORT" e2e__port_free "$MILTER_PORT"
# a connect timeout far above the bound below, so that a session that
# waited for it is told from one that did not on a loaded machine too
pf_set "smtpd_milters = inet:127.0.0.1:$MILTER_PORT" "milter_connect_timeout = 60s"
pf_restart || e2e_bail "restart with smtpd_milters failed"
e2e_assert_eq "$(pf_get milter_default_action)" "tempfail" "b: milter_default_action is tempfail"
pf_log_mark
before=$(sink_count)
SECONDS=0
smtp_send -a 203.0.113.7 -l alice -s "harness b"
took=$SECONDS
e2e_assert_reply "$SW_RESULT" "451 4.7.1" "b: milter down gives 451 4.7.1"
e2e_assert_reply "$SW_MAIL" "4" "b: refused at MAIL FROM"
e2e_assert_eq "$SW_QUEUEID" "" "b: no queue id"
e2e_assert_true "b: postfix logs the failed milter connection" \
    pf_wait_log "warning: connect to Milter service inet:127\.0\.0\.1:$MILTER_PORT: Connection refused" 5
e2e_assert_true "b: the answer came without waiting for a timeout (${took}s)" [ "$took" -le 20 ]
pf_flush
sleep 1
e2e_assert_eq "$(pf_queue_count)" 0 "b: nothing queued"
e2e_assert_false "b: message is not in the sink" sink_find "$SW_ID"
e2e_assert_eq "$(sink_count)" "$before" "b: sink count unchanged"

e2e_done
