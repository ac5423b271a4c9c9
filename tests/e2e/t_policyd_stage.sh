#!/bin/bash
# t_policyd_stage.sh - relayguard-policyd asked at RCPT and at end of data
# (smtpd_end_of_data_restrictions, policyd.end_of_data) by a real Postfix:
#   1 the end-of-data request carries the size: a message over a bytes
#     limit is refused after DATA (550), its verdict line carries the
#     queue id Postfix logged; a small one is accepted and counted once;
#     one that quits after RCPT is given back when its instance expires;
#   2 20 parallel sessions of one login against a limit of 5: at most 5
#     reach the sink, and the login's count is what got through;
#   3 the daemon killed (SIGKILL) while sessions are in flight (one at
#     least waiting at DATA): Postfix applies
#     smtpd_policy_service_default_action (451 4.3.5, at RCPT or at end
#     of data) and none of them is accepted; restarted, it serves again;
#   4 SIGUSR1 reloads: the new reply text is in the next refusal;
#   5 hostile clients: a request never ended (idle_timeout), a silent
#     connection, a client that never reads its answers (write_timeout),
#     a flood over max_connections; each closed and counted in stats;
#   6 SIGTERM drains: a request half sent before the signal is answered,
#     new connections are refused, the daemon exits 0.
# Usage: tests/e2e/t_policyd_stage.sh [BUILD_DIR]
# e2e: hour-sensitive (1h counts and limits; run.sh starts it clear of a full hour)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
e2e_pick_port POLICY_PORT
rg_prepare '
    , { name = "burst-messages"; applies_to = "authenticated";
        metric = "messages"; window = "1h"; limit = 5; action = "tempfail"; }
    , { name = "big-message"; applies_to = "authenticated";
        metric = "bytes"; window = "1h"; limit = 100000; action = "reject"; }'
cat >>"$RG_CONF" <<CONF
policyd: { socket = "inet:$POLICY_PORT@127.0.0.1";
  pidfile = "$E2E_DIR/state/policyd.pid";
  end_of_data = true; instance_timeout = "4s";
  idle_timeout = "3s"; write_timeout = "2s"; drain_timeout = "10s";
  max_connections = 40;
  reply_tempfail = "policyd says slow down"; };
CONF
pf_create
pf_set "smtpd_recipient_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT" \
    "smtpd_end_of_data_restrictions = check_policy_service inet:127.0.0.1:$POLICY_PORT" \
    "smtpd_policy_service_default_action = 451 4.3.5 policy service unavailable" \
    "smtpd_restriction_classes = held_at_data" "held_at_data = sleep 10" \
    "smtpd_data_restrictions = check_client_access inline:{198.18.3.70=held_at_data}, sleep 2"
pf_start || e2e_bail "private Postfix did not start"
rg_policyd_start policyd || e2e_bail "relayguard-policyd did not start"
e2e_pass "policyd at RCPT and end of data behind Postfix on $SMTP_PORT"

# stat_of - a counter of relayguardctl stats --json
stat_of() {
    rg_ctl stats --json | rg_json "$@"
}

# count_of - LOGIN COUNTER: the login's counter over the last hour
count_of() {
    rg_ctl show "$1" --json | rg_json "$2" 1h
}

# --- 1 end of data: size, queue id, give-back ------------------------------------
head -c 150000 /dev/zero | tr '\0' 'x' | fold -w 70 >"$E2E_DIR/big.txt"
rg_send bigbob 198.18.3.60 -s "big one" -b "@$E2E_DIR/big.txt"
e2e_assert_reply "$SW_RCPT" "250" "1: the big message passes RCPT"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "1: and is rejected at end of data (size over 100000)"
e2e_assert_false "1: it never reaches the sink" sink_find "$SW_ID"
qid=$(grep -oE '[0-9A-F]{6,}: action=reject rule=big-message user="bigbob"' "$PD_LOG" | cut -d: -f1)
e2e_assert_match "$qid" '^[0-9A-F]{6,}$' "1: the verdict line carries a queue id"
# smtpd's log line goes through postlogd, which may write it after the
# client has its reply
e2e_assert_true "1: the queue id is the one Postfix logged for it" \
    pf_wait_log "$qid: reject: END-OF-MESSAGE" 10
rg_send smallsue 198.18.3.61 -s "small one" -t a@example.net -t b@example.net
e2e_assert_reply "$SW_RESULT" "250" "1: a small message is accepted"
e2e_assert_eq "$(count_of smallsue messages)" 1 "1: and counted once"
e2e_assert_eq "$(count_of smallsue recipients)" 2 "1: with its two recipients"
rg_send quitter 198.18.3.62 -s "quit" -q rcpt
e2e_assert_eq "$(count_of quitter messages)" 1 "1: a session that quit after RCPT is counted at first"
e2e_assert_true "1: and given back once its instance expires (no end of data)" \
    e2e_wait_until 10 eval '[ "$(count_of quitter messages)" = 0 ]'

# --- 2 20 parallel sessions of one login, limit 5 ----------------------------------
: >"$E2E_DIR/burst.results"
pids=()
for i in $(seq 1 20); do
    (
        E2E_SEQ=$((1000 + i))
        rg_send burstbot 198.18.3.50 -s "burst $i"
        printf '%s\n' "${SW_RESULT%% *}" >>"$E2E_DIR/burst.results"
    ) &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
ok=$(grep -c '^250' "$E2E_DIR/burst.results")
refused=$(grep -c '^451' "$E2E_DIR/burst.results")
e2e_assert_eq "$((ok + refused))" 20 "2: every session got 250 or 451"
e2e_assert_true "2: at most 5 of 20 accepted (got $ok)" [ "$ok" -le 5 ]
e2e_assert_true "2: and at least one" [ "$ok" -ge 1 ]
pf_wait_queue_empty 20 || true
sink_wait_count 999 3 || true
got=$(grep -lF 'Subject: burst ' "$SINK_DIR"/* 2>/dev/null | wc -l)
e2e_assert_eq "$got" "$ok" "2: the sink got exactly the $ok accepted"
e2e_assert_eq "$(count_of burstbot messages)" "$ok" "2: burstbot's count is what got through"

# --- 3 the daemon killed mid-run -----------------------------------------------------
: >"$E2E_DIR/kill.results"
pids=()
for i in $(seq 1 6); do
    (
        E2E_SEQ=$((2000 + i))
        rg_send "killed$i" 198.18.3.70 -s "killed $i"
        printf '%s|%s\n' "$SW_RCPT" "$SW_RESULT" >>"$E2E_DIR/kill.results"
    ) &
    pids+=($!)
done
# the first one past RCPT (Postfix logs the queue file's client= line)
# waits 12 s at DATA (198.18.3.70 is held_at_data, 10 s more than the
# others' 2): kill now, while it is in flight (the others are before or
# after their RCPT, whatever the machine's load). With only 2 s, the
# poll for postlogd's line and the kill could come after its end-of-data
# request on a loaded machine: the policyd answers it, the message goes
# through, and the 451 and sink checks fail
e2e_wait_until 20 eval 'grep -q "sasl_username=killed" "$PF_LOG"'
kill -KILL "$PD_PID"
for p in "${pids[@]}"; do wait "$p"; done
e2e_assert_eq "$(grep -c '|451 4.3.5' "$E2E_DIR/kill.results")" 6 \
    "3: all 6 sessions in flight get the default action 451 4.3.5"
e2e_assert_true "3: (at least one had passed RCPT before the kill)" \
    grep -q '^250' "$E2E_DIR/kill.results"
pf_wait_queue_empty 10 || true
e2e_assert_false "3: none of them reaches the sink" eval 'grep -qF "Subject: killed " "$SINK_DIR"/*'
rg_send after 198.18.3.71 -s "while down" -q rcpt
e2e_assert_reply "$SW_RCPT" "451 4.3.5" "3: while it is down, RCPT gets the default action"
rg_policyd_start policyd2 || e2e_bail "relayguard-policyd did not restart"
rg_send after 198.18.3.71 -s "restarted"
e2e_assert_reply "$SW_RESULT" "250" "3: restarted, it serves again"

# --- 4 SIGUSR1 reload ------------------------------------------------------------------
sed -i 's/policyd says slow down/reloaded text/' "$RG_CONF"
kill -USR1 "$PD_PID"
e2e_assert_true "4: the reload is logged" e2e_wait_until 5 grep -q "reloaded " "$PD_LOG"
# burstbot is at its limit (part 2); a session quitting after RCPT counts
# only until its instance expires, so try at most twice
for i in 1 2; do
    rg_send burstbot 198.18.3.50 -s "after reload" -q rcpt
    case $SW_RCPT in 451*) break ;; esac
done
e2e_assert_match "$SW_RCPT" "^451 4\.7\.1 .*: reloaded text$" "4: the next refusal has the new text"
e2e_assert_eq "$(stat_of reloads)" 1 "4: stats: one reload"

# --- 5 hostile clients -------------------------------------------------------------------
# pd_raw - perl code run with a connected socket $s; prints what it prints
pd_raw() {
    perl -MIO::Socket::INET -e '
        $SIG{PIPE} = "IGNORE";
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or die "connect: $!";
        eval $ARGV[1]; die $@ if $@;' "$POLICY_PORT" "$1"
}
# read_all - (perl) what comes back until EOF or $t seconds; "EOF" on EOF
read_all='sub read_all { my ($t) = @_; my $all = ""; local $SIG{ALRM} = sub { die "T\n" };
    eval { alarm $t; while (sysread($s, my $b, 65536)) { $all .= $b } alarm 0; $all .= "EOF" };
    return $all }'
unf0=$(stat_of policyd_unfinished)
e2e_assert_eq "$(pd_raw "$read_all"' print $s "request=smtpd_access_policy\n"; print read_all(8)')" "EOF" \
    "5: a request never ended is closed after idle_timeout"
e2e_assert_eq "$(stat_of policyd_unfinished)" $((unf0 + 1)) "5: stats: counted as unfinished"
idle0=$(stat_of policyd_idle_closed)
e2e_assert_eq "$(pd_raw "$read_all"' print read_all(8)')" "EOF" "5: a silent connection is closed"
e2e_assert_true "5: stats: counted as idle" [ "$(stat_of policyd_idle_closed)" -gt "$idle0" ]
stall0=$(stat_of policyd_write_stalled)
pd_raw 'my $req = "request=smtpd_access_policy\n\n" x 20000; alarm 20;
    for (1 .. 40) { last unless defined syswrite($s, $req) }'
e2e_assert_true "5: a client that never reads is closed after write_timeout" \
    e2e_wait_until 5 eval '[ "$(stat_of policyd_write_stalled)" -gt "$stall0" ]'
e2e_assert_file_match "$PD_LOG" 'policy connection closed: answer not read for 2s' \
    "5: and logged"
pd_raw 'my @c; for (1 .. 60) { push @c, IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") }
    sleep 1'
# the daemon may take the 60 from its listen queue after the client left
# (they are counted all the same: it accepts what is queued in one go)
e2e_assert_true "5: a flood over max_connections is refused and counted" \
    e2e_wait_until 10 eval '[ "$(stat_of policyd_refused_connections)" -ge 20 ]'
e2e_assert_file_match "$PD_LOG" 'policy connection refused: 40 open' "5: and logged"
rg_send after 198.18.3.71 -s "after the hostile ones"
e2e_assert_reply "$SW_RESULT" "250" "5: Postfix is still served"

# --- 6 SIGTERM drains ------------------------------------------------------------------
# The half must be in the daemon's buffer when SIGTERM comes (a
# connection with nothing read yet is closed at once), and the rest must
# wait until the test has seen the drain: the client writes its port to
# half.sent after the half, and sends the rest once "go" exists.
half="request=smtpd_access_policy\nprotocol_state=RCPT\n"
rm -f "$E2E_DIR/half.sent" "$E2E_DIR/go"
pd_raw "$read_all"' print $s "'"$half"'";
    open(my $f, ">", "$ENV{E2E_DIR}/half.sent.new") or die; print $f $s->sockport, "\n"; close $f;
    rename("$ENV{E2E_DIR}/half.sent.new", "$ENV{E2E_DIR}/half.sent") or die;
    select(undef, undef, undef, 0.05) until -e "$ENV{E2E_DIR}/go";
    print $s "instance=drain1\nclient_address=198.18.3.80\nsasl_username=dora\n\n";
    print read_all(8)' >"$E2E_DIR/drain.out" &
drainer=$!
# pd__half_read - the daemon has read the half: its end of the client's
# connection has nothing left in its receive queue
pd__half_read() {
    local cport
    read -r cport <"$E2E_DIR/half.sent" 2>/dev/null && [ -n "$cport" ] || return 1
    ss -Htn state established "( sport = :$POLICY_PORT and dport = :$cport )" |
        awk '{ n++; if ($1 != 0) bad = 1 } END { exit !(n == 1 && !bad) }'
}
e2e_wait_until 20 pd__half_read || e2e_fail "6: the daemon did not read the half request"
kill -TERM "$PD_PID"
e2e_wait_until 10 grep -q 'stopping: ' "$PD_LOG"
e2e_assert_false "6: new connections are refused while draining" \
    perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]") or exit 1' "$POLICY_PORT"
touch "$E2E_DIR/go"
wait "$drainer"
e2e_assert_eq "$(tr '\n' '|' <"$E2E_DIR/drain.out")" "action=DUNNO||EOF" \
    "6: the request half sent before SIGTERM is answered, then closed"
wait "$PD_PID"
e2e_assert_eq "$?" 0 "6: the daemon exits 0"
e2e_assert_file_match "$PD_LOG" 'stopping: 1 connections with a request in flight' "6: the drain is logged"
e2e_done
