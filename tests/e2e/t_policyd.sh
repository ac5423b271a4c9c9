#!/bin/bash
# t_policyd.sh - relayguard-policyd behind a real, private Postfix, asked
# by check_policy_service in smtpd_recipient_restrictions (no milter):
#   1 the stolen login of seed 002 (one country a minute, through XCLIENT
#     LOGIN=) is accepted first, then tempfailed at RCPT once it passes
#     the many-countries limit, and later attempts stay refused; refused
#     mail never reaches the sink; the verdict line is logged; the two
#     impossible-travel messages get HOLD (Postfix's hold queue);
#   3 hostile requests (an over-long line, a line without '=') close that
#     connection and are logged; unknown attributes are ignored;
#   2 Postfix keeps its policy connection: one connection served every
#     request (the daemon logs no closed connection).
#   5 a tag verdict is a PREPEND: the X-Relayguard header reaches the sink;
#   6 an internal burst (no login, 10.0.0.0/8) is tempfailed after 20;
#   7 the closed connections of 3 are counted by reason in relayguardctl
#     stats, next to the verdicts.
# Usage: tests/e2e/t_policyd.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
e2e_pick_port POLICY_PORT
rg_prepare '
    , { name = "tag-all"; applies_to = "authenticated"; metric = "messages";
        window = "1h"; limit = 100000; action = "tag"; }'
# "tagme" is tagged from its first message on
awk '{ print } /^  \);$/ && !done { print "  overrides = ( { user = \"tagme\"; rule = \"tag-all\"; limit = 0; } );"; done = 1 }' \
    "$RG_CONF" >"$RG_CONF.new" && mv "$RG_CONF.new" "$RG_CONF"
printf 'policyd: { socket = "inet:%s@127.0.0.1"; pidfile = "%s"; };\n' \
    "$POLICY_PORT" "$E2E_DIR/state/policyd.pid" >>"$RG_CONF"
pf_create
pf_set "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT" \
    "smtpd_policy_service_default_action = 451 4.3.5 policy service unavailable"
pf_start || e2e_bail "private Postfix did not start"
rg_policyd_start policyd || e2e_bail "relayguard-policyd did not start"
e2e_pass "policyd listening on 127.0.0.1:$POLICY_PORT behind Postfix on $SMTP_PORT"

# --- 1 stolen login, one country a minute -----------------------------------
for n in 1 2 3 4 5 6; do
    rg_send usr1 "198.18.$n.10" -s "stolen $n"
    results[$n]=$SW_RESULT
    rcpts[$n]=$SW_RCPT
    ids[$n]=$SW_ID
done
e2e_assert_reply "${results[1]}" "250" "1: first login from BR accepted"
e2e_assert_match "${rcpts[4]}" "^451 4\.7\.1 " "1: fourth country (IN) tempfailed at RCPT"
e2e_assert_match "${rcpts[6]}" "^451 4\.7\.1 " "1: later attempts refused by the block"
e2e_assert_true "1: the impossible-travel ones (CN, DE) are in the hold queue" \
    pf_wait_queue_count hold 2 20
pf_wait_queue_empty 10 || true
e2e_assert_true "1: the first message reached the sink" sink_wait_find "${ids[1]}" 10
e2e_assert_false "1: the tempfailed ones did not" sink_find "${ids[4]}"
e2e_assert_false "1: nor the blocked one" sink_find "${ids[6]}"
e2e_assert_true "1: the verdict line names rule, user, client and country" \
    e2e_wait_until 5 grep -Eq 'action=tempfail rule=many-countries user="usr1" client=\[198\.18\.4\.10\] country=IN' "$PD_LOG"

# --- 2 kept-open connections ------------------------------------------------
e2e_assert_false "2: no policy connection closed for bad input" \
    grep -q "policy connection closed" "$PD_LOG"

# --- 3 hostile requests: the connection is closed, the daemon serves on ------
# pd_talk - send $1 (perl string syntax) on a new connection; print what
# comes back before the daemon closes it or 3 s pass
pd_talk() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]",
                                      Timeout => 3) or die "connect: $!";
        print $s eval $ARGV[1];
        $SIG{ALRM} = sub { print "TIMEOUT"; exit };
        alarm 3;
        my $all = "";
        while (sysread($s, my $b, 4096)) { $all .= $b; last if $all =~ /\n\n/ }
        print $all, $all =~ /\n\n/ ? "" : "EOF";' "$POLICY_PORT" "$1"
}
e2e_assert_eq "$(pd_talk '"sasl_username=" . ("x" x 5000) . "\n\n"')" "EOF" \
    "3: a line over the limit: closed without an answer"
e2e_assert_eq "$(pd_talk '"no equals sign\n\n"')" "EOF" \
    "3: a line without = : closed without an answer"
e2e_assert_eq "$(pd_talk '"request=smtpd_access_policy\nfuture=1\n\n"')" "action=DUNNO" \
    "3: unknown attributes are ignored, the request answered"
e2e_assert_true "3: bad input is logged" \
    grep -q "policy connection closed: line 1: line too long" "$PD_LOG"
rg_send bob 198.18.3.20 -s "after hostile input"
e2e_assert_reply "$SW_RESULT" "250" "3: Postfix is still served afterwards"
# --- 4 a daemon started with a relative -c still finds its file ----------------
# (it detaches with chdir("/") before it opens the state: the name is made
# absolute first)
e2e_pick_port DETACHED_PORT || e2e_bail "no port for the detached daemon"
sed -e "s/inet:$POLICY_PORT@/inet:$DETACHED_PORT@/" -e "s|state/policyd.pid|state/detached.pid|" \
    "$RG_CONF" >"$E2E_DIR/detached.conf"
(cd "$E2E_DIR" && "$E2E_BUILD/relayguard-policyd" -c detached.conf)
e2e_assert_eq "$?" 0 "4: without -f the daemon detaches (exit 0)"
e2e_wait_until 10 e2e_listening "$DETACHED_PORT" || true
MAIN_PORT=$POLICY_PORT POLICY_PORT=$DETACHED_PORT
e2e_assert_eq "$(pd_talk '"request=smtpd_access_policy\nprotocol_state=RCPT\nsasl_username=carol\nclient_address=198.18.3.30\ninstance=d1\nrecipient=r\@example.net\n\n"')" \
    "action=DUNNO" "4: the detached daemon, started with a relative -c, answers"
POLICY_PORT=$MAIN_PORT
e2e_wait_until 20 test -s "$E2E_DIR/state/detached.pid" || true
DPID=$(cat "$E2E_DIR/state/detached.pid" 2>/dev/null)
e2e_assert_match "$DPID" '^[0-9]+$' "4: the detached daemon wrote its pidfile"
e2e_assert_eq "$(stat -c %U "/proc/${DPID:-0}" 2>/dev/null)" nobody \
    "4: and runs as policyd.user (the milter's user, nobody)"
[ -n "$DPID" ] && kill -TERM "$DPID"
e2e_assert_true "4: SIGTERM stops it and its pidfile goes" \
    e2e_wait_until 10 eval '! test -e "$E2E_DIR/state/detached.pid"'

# --- 5 tag: PREPEND at RCPT, the header at the sink -------------------------
rg_send tagme 198.18.1.10 -s "tag me"
e2e_assert_reply "$SW_RESULT" "250" "5: the tagged message is accepted"
e2e_assert_true "5: it reaches the sink" sink_wait_find "${SW_ID}" 10
e2e_assert_true "5: with the X-Relayguard header naming the rule" \
    eval 'grep -l "$SW_ID" "$SINK_DIR"/* | xargs grep -Eq "^X-Relayguard: .*tag-all"'
e2e_assert_file_match "$PD_LOG" 'action=tag rule=tag-all user="tagme"' "5: the tag is logged"

# --- 6 internal burst ----------------------------------------------------------
codes=""
for n in $(seq 1 22); do
    rg_send - 10.1.2.3 -s "internal $n" -q rcpt
    codes="$codes ${SW_RCPT%% *}"
done
e2e_assert_match "$codes" '^( 250){20} 451 451$' "6: an internal host: 20 accepted, then tempfailed"
e2e_assert_file_match "$PD_LOG" 'action=tempfail rule=internal-burst user="" client=\[10\.1\.2\.3\]' \
    "6: the burst is logged"

# --- 7 stats --------------------------------------------------------------------
st=$(rg_ctl stats --json)
e2e_assert_eq "$(printf '%s' "$st" | rg_json policyd_line_too_long)" 1 "7: stats: one line too long"
e2e_assert_eq "$(printf '%s' "$st" | rg_json policyd_syntax)" 1 "7: stats: one line without ="
e2e_assert_eq "$(printf '%s' "$st" | rg_json policyd_unknown_attributes)" 1 \
    "7: stats: one request with an unknown attribute"
e2e_assert_true "7: stats: the verdicts of policyd are counted" \
    [ "$(printf '%s' "$st" | rg_json verdicts tempfail)" -ge 3 ]
e2e_done
