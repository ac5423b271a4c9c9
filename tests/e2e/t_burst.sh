#!/bin/bash
# t_burst.sh - limits hold when one login sends in parallel (issue 11, 1):
#   1 20 parallel sessions of one login against a messages limit of 5
#     (window 1h, tempfail): at most 5 reach the sink, the others get 451;
#   2 20 parallel sessions of 10 recipients each against a recipients
#     limit of 50: at most 50 recipients are accepted and delivered;
#   Postfix holds every session 2 s at DATA, so all of them are open at once.
#   4 a login through a trusted relay (webmail) is judged on its rates.
#   3 after the sessions end the login's counts (relayguardctl show --json)
#     are exactly what got through: refused and aborted transactions gave
#     their units back, including sessions that quit after RCPT.
# Usage: tests/e2e/t_burst.sh [BUILD_DIR]
# e2e: hour-sensitive (1h counts and limits; run.sh starts it clear of a full hour)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

BURST=20
RCPTS=10
BURST_NO=0

e2e_init
rg_setup '
    , { name = "burst-messages"; applies_to = "authenticated";
        metric = "messages"; window = "1h"; limit = 5; action = "tempfail"; }
    , { name = "burst-recipients"; applies_to = "authenticated";
        metric = "recipients"; window = "1h"; limit = 50; action = "tempfail"; }'
# the recipients login may send many messages: only its recipients count
awk '{ print } /^  \);$/ && !done { print "  overrides = ( { user = \"rcptbot\"; rule = \"burst-messages\"; limit = 1000; } );"; done = 1 }' \
    "$RG_CONF" >"$RG_CONF.new" && mv "$RG_CONF.new" "$RG_CONF"
# every session waits 2 s at DATA, after its MAIL and RCPTs were judged:
# the 20 transactions are open at once, as a botnet's are, so the engine
# cannot rely on one message's end landing before the next one's MAIL
pf_set "smtpd_data_restrictions = sleep 2"
pf_restart || e2e_bail "private Postfix did not restart"
rg_stop
rg_start || e2e_bail "relayguard-milter did not restart: $(tail -n 5 "$RG_LOG")"
e2e_pass "milter with messages limit 5 and recipients limit 50 behind Postfix on $SMTP_PORT"

# burst - LOGIN TAG N [smtp_send options]: N sessions at once, each its own
# transcript; waits for all; one line per session in $E2E_DIR/TAG.results:
# final reply code, RCPTs accepted, reply code to MAIL, RCPTs refused
burst() {
    local login=$1 tag=$2 n=$3 i; shift 3
    local -a pids=()
    : >"$E2E_DIR/$tag.results"
    BURST_NO=$((BURST_NO + 1))
    for i in $(seq 1 "$n"); do
        (
            E2E_SEQ=$((BURST_NO * 1000 + i))	# a transcript of its own
            rg_send "$login" 198.18.3.50 -s "$tag $i" "$@"
            printf '%s\t%s\t%s\t%s\n' "${SW_RESULT%% *}" \
                "$(printf '%s\n' "$SW_RCPTS" | grep -c '^250')" \
                "${SW_MAIL%% *}" "$(printf '%s\n' "$SW_RCPTS" | grep -c '^4')" \
                >>"$E2E_DIR/$tag.results"
        ) &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
}

# count_of - LOGIN COUNTER: the login's counter over the last hour
count_of() {
    rg_ctl show "$1" --json | rg_json "$2" 1h
}

# --- 1 messages ------------------------------------------------------------------
burst msgbot msgs "$BURST"
ok=$(grep -c '^250' "$E2E_DIR/msgs.results")
refused=$(grep -c '^451' "$E2E_DIR/msgs.results")
e2e_assert_eq "$((ok + refused))" "$BURST" "1: every session got an answer (250 or 451)"
e2e_assert_true "1: at most 5 of $BURST parallel messages accepted (got $ok)" [ "$ok" -le 5 ]
e2e_assert_true "1: and at least one" [ "$ok" -ge 1 ]
e2e_assert_eq "$(awk -F'\t' '$1 == "451" && $3 != "451"' "$E2E_DIR/msgs.results" | wc -l)" 0 \
    "1: every refused message was refused at MAIL FROM"
pf_wait_queue_empty 20 || true
sink_wait_count "$ok" 10 || true
sleep 1
got=$(grep -lF 'Subject: msgs ' "$SINK_DIR"/* 2>/dev/null | wc -l)
e2e_assert_eq "$got" "$ok" "1: the sink got exactly the $ok accepted messages"
e2e_assert_true "1: at most 5 reached the sink" [ "$got" -le 5 ]
e2e_assert_file_match "$RG_LOG" 'action=tempfail rule=burst-messages user="msgbot" .*6 messages in 1h \(limit 5\)' \
    "1: the refusals name the rule and the sixth message"

# --- 3a the count is exact afterwards ---------------------------------------------
e2e_assert_eq "$(count_of msgbot messages)" "$ok" "3: msgbot's messages count is what got through"
# sessions under the limit that quit after RCPT (no DATA): the milter's
# abort and close give their message and recipients back
for i in 1 2 3; do rg_send quitter 198.18.3.51 -q rcpt -s "quit $i" -t a@example.net -t b@example.net; done
e2e_assert_eq "$SW_RCPT" "250 2.1.5 Ok" "3: the quitter's recipients were accepted"
# Postfix sends the milter its abort and its quit without waiting for an
# answer: the give-back may come after swaks has its 221
e2e_wait_until 20 eval '[ "$(count_of quitter messages)" = 0 ] &&
    [ "$(count_of quitter recipients)" = 0 ]' || true
e2e_assert_eq "$(count_of quitter messages)" 0 "3: sessions that quit after RCPT leave no message counted"
e2e_assert_eq "$(count_of quitter recipients)" 0 "3: nor recipients"
rg_send quitter 198.18.3.51 -s "quitter sends"
e2e_assert_reply "$SW_RESULT" "250" "3: the quitter's next message goes through"
e2e_assert_eq "$(count_of quitter messages)" 1 "3: and counts once"

# --- 2 recipients ----------------------------------------------------------------
tos=()
for i in $(seq 1 "$RCPTS"); do tos+=(-t "r$i@example.net"); done
sink_before=$(sink_count)
burst rcptbot rcpts "$BURST" "${tos[@]}"
acc_msgs=$(grep -c '^250' "$E2E_DIR/rcpts.results")
acc_rcpts=$(awk -F'\t' '$1 == "250" { n += $2 } END { print n + 0 }' "$E2E_DIR/rcpts.results")
e2e_assert_true "2: at most 50 recipients accepted in delivered messages (got $acc_rcpts in $acc_msgs)" \
    [ "$acc_rcpts" -le 50 ]
e2e_assert_true "2: and some" [ "$acc_rcpts" -ge 1 ]
e2e_assert_eq "$(awk -F'\t' '$1 == "451" && $4 == 0' "$E2E_DIR/rcpts.results" | wc -l)" 0 \
    "2: every refused message had a recipient refused at RCPT TO"
pf_wait_queue_empty 20 || true
sink_wait_count $((sink_before + acc_msgs)) 10 || true
sleep 1
sunk=$(grep -hc '^X-Rcpt-Args' $(grep -lF 'Subject: rcpts ' "$SINK_DIR"/* 2>/dev/null) /dev/null \
    | awk '{ n += $1 } END { print n + 0 }')
e2e_assert_eq "$sunk" "$acc_rcpts" "2: the sink got exactly the accepted recipients"
e2e_assert_true "2: at most 50 recipients reached the sink" [ "$sunk" -le 50 ]

# --- 3b the count is exact afterwards ---------------------------------------------
e2e_assert_eq "$(count_of rcptbot recipients)" "$acc_rcpts" \
    "3: rcptbot's recipients count is what got through"
e2e_assert_eq "$(count_of rcptbot messages)" "$acc_msgs" \
    "3: rcptbot's messages count is what got through"
# --- 4 a login through a trusted relay (webmail) ------------------------------------
# 127.0.0.0/8 is trusted: without a login it is never judged, with one it
# is judged on the login's rates, but its address is not the login's
codes=""
for n in 1 2 3 4 5 6; do
    rg_send webuser 127.0.0.5 -s "webmail $n"
    codes="$codes ${SW_RESULT%% *}"
done
e2e_assert_match "$codes" '^( 250){5} 451$' "4: webmail login: 5 accepted, the 6th tempfailed ($codes)"
e2e_assert_file_match "$RG_LOG" 'action=tempfail rule=burst-messages user="webuser" client=\[127\.0\.0\.5\] .*class=authenticated' \
    "4: the refusal is logged as an authenticated session"
e2e_assert_eq "$(rg_ctl show webuser --json | rg_json ips)" 0 \
    "4: the relay's address is not remembered as the login's"
e2e_assert_eq "$(count_of webuser messages)" 5 "4: webuser counted 5 messages"
codes=""
for n in 1 2 3 4 5 6; do
    rg_send - 127.0.0.5 -s "relay $n"
    codes="$codes ${SW_RESULT%% *}"
done
e2e_assert_match "$codes" '^( 250){6}$' "4: the relay without a login is trusted ($codes)"
e2e_done
