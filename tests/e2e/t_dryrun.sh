#!/bin/bash
# t_dryrun.sh - milter.dry_run: every verdict is logged as "would", every
# message is accepted and delivered, nothing is held.
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
rg_stop TERM
e2e_done
