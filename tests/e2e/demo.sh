#!/bin/bash
# demo.sh - make demo: a private Postfix on a loopback port with
# relayguard-milter behind it and smtp-sink as next hop; replays the seed
# 002 stolen login (a new country every message) and a seed 000 internal
# host burst through XCLIENT, shows what each message got and the live
# per-user table, replays the mail log with relayguardctl replay, runs
# relayguard-collector over a generated day of flows (seeds 000 and 004),
# then stops everything it started.
# Usage: tests/e2e/demo.sh BUILD_DIR   (KEEP=1 keeps the files)

E2E_NAME=demo
. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

say() { printf '\n== %s\n' "$*"; }
show() {  # LABEL: one line per message
    printf '  %-44s %s\n' "$1" "${SW_RESULT:-no reply}"
}

e2e_init demo
rg_setup
say "Postfix on 127.0.0.1:$SMTP_PORT, relayguard-milter on 127.0.0.1:$MILTER_PORT, sink on :$SINK_PORT"
echo "   policy: $RG_CONF"

# demo_collector - seed 000 and 004 as flows: the real nfcapd stores a
# generated day (tests/collector), relayguard-collector flags the hosts
demo_collector() {
    local col=$RG_COLL gen=$RG_FLOWGEN
    [ -x "$col" ] || return 0
    say "relayguard-collector: a day of network flows (seeds 000 and 004) through the real nfcapd"
    rg_analyze_conf "$E2E_DIR/collector.conf"
    printf '10.20.0.25 mail.example.edu\n10.20.133.16 d133h16.resnet.example.edu\n' \
        >"$E2E_DIR/names"
    "$gen/mkflows.sh" main "$E2E_DIR/flows" >/dev/null || { echo "  (no flows made)"; return 0; }
    "$col" -c "$E2E_DIR/collector.conf" analyze --report "$E2E_DIR/report.html" \
        "$E2E_DIR/flows" 2>&1 | sed 's/^/  /' | head -n 30
    echo "  rogue list for the milter ($E2E_DIR/rogue.list):"
    sed 's/^/    /' "$E2E_DIR/rogue.list" | head -n 8
    echo "  report: $E2E_DIR/report.html (KEEP=1 keeps it)"
}

say "Seed 002: usr1's password was stolen; a botnet logs in from a new country each time"
countries=(- BR CN DE IN RU US VN FR)
for n in 1 2 3 4 5 6 7 8; do
    rg_send usr1 "198.18.$n.$((10 + n))" -s "cheap pills $n"
    show "usr1 from 198.18.$n.$((10 + n)) (${countries[$n]})"
done

say "Meanwhile alice works from home (Berlin) and her phone (Potsdam)"
for n in 1 2 3 4; do
    a=198.18.3.20; [ $((n % 2)) = 0 ] && a=198.18.13.20
    rg_send alice "$a" -s "minutes $n"
    show "alice from $a (DE)"
done

say "Seed 000: an infected residence-hall PC (10.1.2.3, no login) starts blasting"
for n in $(seq 1 24); do
    rg_send - 10.1.2.3 -s "spam $n"
    [ "$n" -le 2 ] || [ "$n" -ge 20 ] && show "10.1.2.3 message $n"
    [ "$n" = 3 ] && echo "  ..."
done

pf_wait_queue_empty 5 >/dev/null 2>&1
say "Held for review (Postfix hold queue)"
pf_queue_json | grep '"queue_name": "hold"' | sed 's/.*"queue_id": "\([0-9A-F]*\)".*/\1/' |
while read -r id; do
    printf '  %s  %s\n' "$id" "$(pf_postcat "$id" -h | grep '^X-Relayguard:' | cut -c1-110)"
done

say "The milter's verdict lines (syslog in production)"
grep -E 'action=(tempfail|reject|quarantine|tag)' "$RG_LOG" | sed 's/^relayguard-milter: [a-z]*: /  /' |
    cut -c1-160 | head -n 12

say "Delivered to the next hop: $(sink_count) messages"
if [ -x "$RG_CTL" ]; then
    say "relayguardctl users"
    rg_ctl users | sed 's/^/  /'
    say "relayguardctl show usr1"
    rg_ctl show usr1 | sed 's/^/  /'
    say "relayguardctl clients"
    rg_ctl clients | sed 's/^/  /'
    say "relayguardctl stats"
    stats=$(rg_ctl stats)
    printf '%s\n' "$stats" | sed 's/^/  /'
else
    say "relayguardctl is not built yet; the live table is in $RG_CONF's state file"
fi
if [ -x "$RG_CTL" ]; then
    say "relayguardctl replay: the same rules over Postfix's own log of this demo"
    "$RG_CTL" replay -c "$RG_CONF" "$PF_LOG" 2>&1 | sed 's/^/  /' | head -n 30
fi
rg_stop TERM
demo_collector
[ -x "$RG_CTL" ] && e2e_assert_match "$stats" 'site +judging since [0-9-]+ [0-9:]+; learning' \
    "stats says since when the site is judged"
e2e_pass "demo finished"
say "Stopping Postfix, the milter and the sink"
e2e_done
