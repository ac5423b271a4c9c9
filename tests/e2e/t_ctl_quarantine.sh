#!/bin/bash
# t_ctl_quarantine.sh - relayguardctl quarantine against a private Postfix,
# no milter: check_sender_access HOLD puts messages on hold, and each
# carries the X-Relayguard header the milter would add, so:
#   a) quarantine list shows every held message with queue id, login and
#      client (from Postfix's envelope), country, rule and reason (from the
#      header); a header that disagrees with the envelope is flagged; a
#      message that is not on hold is not listed; --json agrees;
#   b) terminal escapes in a header never reach the terminal;
#   c) quarantine show prints the summary and the message;
#   d) release delivers one to the sink; delete removes one; both refuse a
#      message that is not on hold (exit 1) and a bad queue id (exit 2).
# Usage: tests/e2e/t_ctl_quarantine.sh [BUILD_DIR]   (KEEP=1 keeps files)

. "$(dirname -- "$0")/lib.sh"

e2e_init
CTL=$E2E_BUILD/relayguardctl
[ -x "$CTL" ] || e2e_bail "no $CTL (run make)"
sink_start || e2e_bail "smtp-sink did not start"
pf_create
pf_set 'smtpd_sender_restrictions = check_sender_access inline:{ { held@example.org = HOLD relayguard e2e } }'
pf_start || e2e_bail "private Postfix did not start"

# ctl - run relayguardctl on this instance; output in OUT, status in RC
ctl() {
    OUT=$("$CTL" -C "$PF_CONF" "$@" 2>"$E2E_DIR/ctl.err"); RC=$?
}

# --- three held messages, one delivered ---------------------------------------
smtp_send -a 203.0.113.7 -l alice -f held@example.org -s "q one" \
    -H 'X-Relayguard: action=quarantine rule=many-networks user="alice" client=[203.0.113.7] country=BR reason="7 networks in 1h: 203.0.113.0/24,..."'
e2e_assert_reply "$SW_RESULT" "250" "alice's message accepted (held)"
q1=$SW_QUEUEID id1=$SW_ID
smtp_send -a 198.51.100.23 -l bob -f held@example.org -s "q two" \
    -H 'X-Relayguard: action=quarantine rule=impossible-travel user="bob" client=[198.51.100.23] country=CN reason="8200 km/h from DE"'
q2=$SW_QUEUEID id2=$SW_ID
esc=$'\e[2J\e]0;pwned\a'
smtp_send -a 192.0.2.66 -l mallory -f held@example.org -s "q three" \
    -H "X-Relayguard: action=quarantine rule=many-countries user=\"alice\" client=[192.0.2.66] country=KP reason=\"${esc}forged\""
q3=$SW_QUEUEID
smtp_send -a 203.0.113.8 -l carol -s "not held"
q4=$SW_QUEUEID id4=$SW_ID
e2e_assert_true "three messages on hold" pf_wait_queue_count hold 3 10
e2e_assert_true "the fourth is delivered" pf_wait_delivered "$q4" 15

# --- a) list --------------------------------------------------------------------------
ctl quarantine list
e2e_assert_eq "$RC" 0 "a: quarantine list exits 0"
line1=$(printf '%s\n' "$OUT" | grep "^$q1 ")
e2e_assert_match "$line1" "^$q1 +[0-9]+[smhd] +alice +203\.0\.113\.7 +BR +many-networks +7 networks" \
    "a: alice's message: id, age, login, client, country, rule, reason"
e2e_assert_match "$(printf '%s\n' "$OUT" | grep "^$q2 ")" "bob +198\.51\.100\.23 +CN +impossible-travel +8200 km" \
    "a: bob's message listed with its rule and reason"
e2e_assert_match "$(printf '%s\n' "$OUT" | grep "^$q3 ")" "mallory +192\.0\.2\.66 +KP .*FORGED\?" \
    "a: a header naming another user than the envelope is flagged"
e2e_assert_false "a: the delivered message is not listed" grep -q "$q4" <<<"$OUT"
e2e_assert_match "$OUT" '\(3 of 3 messages on hold\)' "a: footer counts the held messages"
e2e_assert_eq "$(printf '%s\n' "$OUT" | awk 'length($0) > 80' | wc -l)" 0 "a: no line wider than 80 columns"

ctl --json quarantine list
e2e_assert_eq "$RC" 0 "a: --json quarantine list exits 0"
got=$(printf '%s' "$OUT" | perl -MJSON::PP -e '
    my $d = decode_json(join "", <STDIN>);
    my %m = map { $_->{queue_id} => $_ } @{$d->{messages}};
    my $a = $m{$ARGV[0]}; my $c = $m{$ARGV[1]};
    print join(",", $d->{held}, $a->{login}, $a->{client}, $a->{queue},
        $a->{relayguard}{rule}, $a->{relayguard}{country},
        $a->{suspect} ? "s" : "-", $c->{suspect} ? "s" : "-",
        $c->{relayguard}{user}), "\n";' "$q1" "$q3" 2>&1)
e2e_assert_eq "$got" "3,alice,203.0.113.7,hold,many-networks,BR,-,s,alice" \
    "a: JSON has the held count, envelope login/client, rule, country, suspect flag"

# --- b) no terminal escapes -------------------------------------------------------------
e2e_assert_false "b: no ESC or BEL byte in the table" grep -q $'[\e\a]' <<<"$OUT$("$CTL" -C "$PF_CONF" quarantine list 2>&1)"
ctl quarantine show "$q3"
e2e_assert_false "b: no ESC or BEL byte in show" grep -q $'[\e\a]' <<<"$OUT"

# --- c) show ------------------------------------------------------------------------------
ctl quarantine show "$q1"
e2e_assert_eq "$RC" 0 "c: quarantine show exits 0"
e2e_assert_match "$OUT" "rule +many-networks" "c: show has the rule"
e2e_assert_match "$OUT" "login +alice" "c: show has the envelope login"
e2e_assert_match "$OUT" "X-E2E-Id: $id1" "c: show prints the message (postcat)"
e2e_assert_match "$OUT" "Subject: q one" "c: show prints its headers"

# --- d) release, delete, refusals ---------------------------------------------------------
ctl quarantine release "$q1"
e2e_assert_eq "$RC:$OUT" "0:released $q1" "d: release exits 0"
e2e_assert_true "d: released message is delivered" pf_wait_delivered "$q1" 15
e2e_assert_true "d: released message is in the sink" sink_wait_find "$id1" 5
ctl quarantine delete "$q2"
e2e_assert_eq "$RC:$OUT" "0:deleted $q2" "d: delete exits 0"
e2e_assert_eq "$(pf_queue_of "$q2")" "" "d: deleted message is gone from the queue"
pf_flush
sleep 1
e2e_assert_false "d: deleted message never reaches the sink" sink_find "$id2"
ctl quarantine release "$q2"
e2e_assert_eq "$RC" 1 "d: release of a message not on hold exits 1"
ctl quarantine delete "$q4"
e2e_assert_eq "$RC" 1 "d: delete of a delivered message exits 1"
ctl quarantine show "$q1"
e2e_assert_eq "$RC" 1 "d: show of a message no longer queued exits 1"
ctl quarantine release "$q3;rm"
e2e_assert_eq "$RC" 2 "d: a queue id with shell syntax is refused (exit 2)"
ctl quarantine delete ../../etc
e2e_assert_eq "$RC" 2 "d: a path is refused as a queue id (exit 2)"
ctl quarantine list
e2e_assert_match "$OUT" '\(1 of 1 messages on hold\)' "d: one message left on hold"
e2e_assert_eq "$(pf_queue_of "$q3")" "hold" "d: the untouched message is still on hold"

# --- the tools unavailable ---------------------------------------------------------------
OUT=$("$CTL" -C "$E2E_DIR/nonexistent" quarantine list 2>&1); RC=$?
e2e_assert_eq "$RC" 69 "an unusable Postfix instance is exit 69"
e2e_assert_match "$OUT" 'postqueue' "... and the error names the tool"

e2e_done
