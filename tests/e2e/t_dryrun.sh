#!/bin/bash
# t_dryrun.sh - milter.dry_run: every verdict is logged as "would", every
# message is accepted and delivered, nothing is held; the block a rule
# decided is a would-be block (relayguardctl says so) that is not
# enforced once dry run is switched off, and unblock --all lifts it.
# Usage: tests/e2e/t_dryrun.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_setup "" "dry_run = true;"
e2e_assert_file_match "$RG_LOG" 'listening on .*\(dry run\)' "start-up line says dry run"

codes=""
for n in 1 2 3 4 5 6; do
    rg_send usr1 "198.18.$n.10" -s "dry $n"
    codes="$codes ${SW_RESULT%% *}"
done
e2e_assert_eq "$codes" " 250 250 250 250 250 250" "dry run: all six stolen-login messages accepted"
e2e_assert_true "dry run: all six delivered" sink_wait_count 6 15
e2e_assert_eq "$(pf_queue_count hold)" 0 "dry run: nothing held"
e2e_assert_file_match "$RG_LOG" 'action=quarantine rule=impossible-travel .* dry_run=would' \
    "dry run: the quarantine is logged as would"
e2e_assert_file_match "$RG_LOG" 'action=tempfail rule=many-countries .*4 countries in 10m.* dry_run=would' \
    "dry run: the tempfail is logged as would"
e2e_assert_false "dry run: no X-Relayguard header added" grep -rq '^X-Relayguard:' "$SINK_DIR"
e2e_assert_true "dry run: the block is shown as a would-be block" \
    eval 'rg_ctl show usr1 | grep -Eq "^block .*would tempfail .* rule many-countries \(dry run\)"'
e2e_assert_true "dry run: the would-be block is in force for nobody (stats)" \
    eval 'rg_ctl stats --prometheus | grep -q "^relayguard_blocked{kind=\"user\"} 0$"'
e2e_assert_true "dry run: no block counted as set (stats)" \
    eval 'rg_ctl stats --prometheus | grep -q "^relayguard_blocks_set_total 0$"'

# Dry run off, and the limit raised the way an admin tunes after the
# first week: only the block could refuse the login's next message.
sed -i 's/dry_run = true;/dry_run = false;/; s/limit = 3;/limit = 10;/' "$RG_CONF"
kill -USR1 "$RG_PID"
e2e_assert_true "dry run off: reloaded" e2e_wait_until 20 grep -q "reloaded $RG_CONF" "$RG_LOG"
rg_send usr1 198.18.6.10 -s "after dry run"
e2e_assert_eq "${SW_RESULT%% *}" 250 "dry run off: the would-be block is not enforced"
e2e_assert_true "dry run off: delivered" sink_wait_count 7 15
e2e_assert_false "dry run off: no verdict of a block in force" grep -q 'login blocked for' "$RG_LOG"
e2e_assert_true "unblock --all lifts the would-be block" \
    eval 'rg_ctl unblock --all --rule many-countries | grep -q "^unblocked 1 user and 0 addresses$"'
e2e_assert_true "after unblock --all no block is left" \
    eval 'rg_ctl show usr1 | grep -Eq "^block +none"'
rg_stop TERM
e2e_done
