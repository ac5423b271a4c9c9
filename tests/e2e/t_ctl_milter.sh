#!/bin/bash
# t_ctl_milter.sh - relayguardctl against a running relayguard-milter
# behind a private Postfix:
#   1 after a stolen-login replay (seed 002: a new country every message),
#     "show" lists the addresses with countries, AS numbers and the AS
#     organisations, and the block the rule set; "users" ranks the login
#     first; "stats" counts the rule; "quarantine list" shows the message
#     the milter held, with the milter's own header (rule, login, client);
#     "sites" reads the live state (site learning is off here: no entries);
#   2 "block USER" makes the user's next message fail at MAIL FROM
#     (550 5.7.1); "unblock" lets it through; "block IP" refuses a host;
#   3 "contain USER" puts the user's queued mail on hold (the next hop is
#     down, so mail stays queued): the queue ids the milter recorded, and
#     with --scan every queued message of that login; released, they are
#     delivered.
# Usage: tests/e2e/t_ctl_milter.sh [BUILD_DIR]   (KEEP=1 keeps the files)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
[ -x "$RG_MILTER" ] && [ -x "$RG_CTL" ] || e2e_bail "build the milter and relayguardctl first (make)"
rg_setup

# ctl - relayguardctl on this instance; output in OUT, status in RC
ctl() {
    OUT=$("$RG_CTL" -c "$RG_CONF" -C "$PF_CONF" "$@" 2>"$E2E_DIR/ctl.err"); RC=$?
}

# --- 1 a stolen login, replayed ------------------------------------------------
for n in 1 2 3 4 5; do
    rg_send usr1 "198.18.$n.10" -s "stolen $n"
done
e2e_assert_reply "$SW_RESULT" "451 4.7.1" "1: the replay ends tempfailed (many-countries)"
ctl show usr1
e2e_assert_eq "$RC" 0 "1: show usr1 exits 0"
e2e_assert_match "$OUT" "198\.18\.1\.10 +[0-9]+[smh] +[0-9]+[smh] +1 +BR +AS64496 +own +Exemplo Telecomunica" \
    "1: show lists the first address with country, ASN, why it is familiar (its own network) and organisation"
e2e_assert_match "$OUT" "198\.18\.4\.10 +.* IN +AS64499 +learning +Example Broadband India" \
    "1: ... and the fourth country's address"
e2e_assert_match "$OUT" "learning +yes, until " "1: show says usr1 is still learning"
e2e_assert_match "$OUT" "AS64496 +BR +[0-9-]+ +[0-9-]+ +1 +yes" "1: ... its network learned from the first message (let through)"
e2e_assert_match "$OUT" "usual hour +1 message, 1 recipient in an hour" "1: ... and its usual hour from that message"
e2e_assert_match "$OUT" "usual day +1 message in a day; last day [0-9]+; a trip abroad may send [0-9]+ a day" \
    "1: ... its usual day from that message, and a trip's allowance"
e2e_assert_match "$OUT" "countries BR,CN,DE,IN" "1: show counts the countries in the window"
e2e_assert_match "$OUT" "block +tempfail [0-9h m]+ rule many-countries" \
    "1: show has the block the rule set"
e2e_assert_eq "$(printf '%s\n' "$OUT" | perl -CSD -ne 'chomp; print "$_\n" if length > 80' | wc -l)" 0 \
    "1: show fits 80 columns (characters: the AS names are UTF-8)"
ctl --json show usr1
e2e_assert_eq "$(printf '%s' "$OUT" | rg_json learning active)" 1 "1: show --json: learning.active"
e2e_assert_eq "$(printf '%s' "$OUT" | rg_json ips 0 familiar)" learning "1: show --json: each address says why it is familiar"
e2e_assert_eq "$(printf '%s' "$OUT" | rg_json usual_day messages)" 1 "1: show --json: usual_day.messages"
ctl users
e2e_assert_match "$(printf '%s\n' "$OUT" | sed -n 2p)" "^usr1 +5 +5 +5 .* tempfail [0-9hm]+ rule many-countries$" \
    "1: users ranks usr1 first: 5 addresses, countries and ASNs, blocked"
ctl stats --prometheus
e2e_assert_match "$OUT" 'relayguard_rule_firings_total\{rule="many-countries"\} [1-9]' \
    "1: stats counts the rule's firings"
e2e_assert_match "$OUT" 'relayguard_blocked\{kind="user"\} 1' "1: stats counts the block in force"
ctl --json sites
e2e_assert_eq "$RC:$(printf '%s' "$OUT" | rg_json networks_total):$(printf '%s' "$OUT" | rg_json site_logins)" "0:0:0" \
    "1: sites --json reads the live state: no site network while site learning is off"
e2e_assert_true "1: the milter held messages" e2e_wait_until 10 eval '[ "$(pf_queue_count hold)" -ge 1 ]'
held=$(pf_queue_count hold)
ctl quarantine list
e2e_assert_match "$OUT" "usr1 +198\.18\.[0-9]+\.10 +[A-Z]{2} +impossible-travel +[0-9]+ km/h" \
    "1: quarantine list shows the milter's hold: login, client, country, rule, reason"
e2e_assert_false "1: the milter's own header is not flagged as forged" grep -q "FORGED" <<<"$OUT"

# --- 2 block and unblock ---------------------------------------------------------
rg_send bob 198.18.3.30 -s "bob before"
e2e_assert_reply "$SW_RESULT" "250" "2: bob is accepted"
ctl block bob --reason "phished" --for 10m
e2e_assert_eq "$RC" 0 "2: block bob exits 0"
e2e_assert_match "$OUT" "blocked user bob: reject 10m admin" "2: block reports the block"
rg_send bob 198.18.3.30 -s "bob blocked"
e2e_assert_reply "$SW_MAIL" "550 5.7.1" "2: bob's next message fails at MAIL FROM"
e2e_assert_file_match "$RG_LOG" 'user="bob".*blocked.*admin' "2: the milter logs the admin block"
ctl unblock bob
e2e_assert_eq "$RC:$OUT" "0:unblocked user bob" "2: unblock bob exits 0"
rg_send bob 198.18.3.30 -s "bob after"
e2e_assert_reply "$SW_RESULT" "250" "2: bob's message is accepted again"
ctl block 198.18.3.31 --action tempfail
rg_send bob 198.18.3.31 -s "from a blocked host"
e2e_assert_reply "$SW_MAIL" "451 4.7.1" "2: a blocked address is refused at MAIL FROM"
ctl unblock 198.18.3.31
e2e_assert_eq "$RC" 0 "2: unblock the address"

# --- 3 contain ---------------------------------------------------------------------
pf_wait_queue_empty 10 || true
sink_stop			# the next hop is down: mail stays queued
ids=() qids=()
for n in 1 2 3 4 5; do
    rg_send carol 198.18.3.50 -s "carol $n"
    ids[$n]=$SW_ID qids[$n]=$SW_QUEUEID
done
e2e_assert_reply "$SW_RESULT" "250" "3: carol's messages are accepted"
# qmgr may be slow to move mail to a dead next hop on a loaded machine
# (seen: 19 s in incoming); a flush wakes it, and the wait is generous.
pf_flush
e2e_assert_true "3: all five wait in the deferred queue" pf_wait_queue_count deferred 5 45
ctl show carol
e2e_assert_match "$OUT" "queue ids +${qids[5]} ${qids[4]} ${qids[3]}" "3: the state has carol's last three queue ids"
ctl contain carol
e2e_assert_eq "$RC" 0 "3: contain carol exits 0"
e2e_assert_match "$OUT" "carol: 3 held, 0 already held" "3: the three recorded ids are held"
e2e_assert_eq "$(pf_queue_of "${qids[5]}")" "hold" "3: the newest is on hold"
e2e_assert_eq "$(pf_queue_of "${qids[1]}")" "deferred" "3: the oldest is not known to the state"
ctl --json contain carol --scan
got=$(printf '%s' "$OUT" | perl -MJSON::PP -e 'my $d = decode_json(join "", <STDIN>);
    print "$d->{held} $d->{already_held}\n"' 2>&1)
e2e_assert_eq "$got" "2 3" "3: --scan finds the other two by their envelope login"
e2e_assert_eq "$(pf_queue_count hold)" "$((held + 5))" "3: all five of carol's are on hold"
sink_start || e2e_bail "smtp-sink did not restart"
ctl quarantine release "${qids[2]}"
e2e_assert_eq "$RC" 0 "3: release one of carol's"
e2e_assert_true "3: it is delivered once the next hop is back" sink_wait_find "${ids[2]}" 20
ctl contain nobody
e2e_assert_eq "$RC" 1 "3: contain of an unknown login exits 1"

e2e_done
