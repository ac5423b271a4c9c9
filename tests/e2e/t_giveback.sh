#!/bin/bash
# t_giveback.sh - through the milter protocol alone (miltertest, Sendmail's
# macros): a message that is aborted, cut by a closed connection or left
# for a new MAIL FROM gives back the message and recipients it counted
# when they were known (tests/e2e/giveback.lua); afterwards the login's
# counts are exactly the one message that ended.
# Usage: tests/e2e/t_giveback.sh [BUILD_DIR]
# e2e: hour-sensitive (1h counts and limits; run.sh starts it clear of a full hour)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_miltertest giveback.lua
e2e_assert_eq "$rc" 0 "miltertest script ran to the end"
e2e_assert_eq "$(printf '%s\n' "$out" | grep -c '^ok - ')" 3 "all three sessions ran"
[ "$rc" = 0 ] || e2e_diag "$out"
# close is handled after miltertest hangs up: give it a moment
e2e_wait_until 20 eval '[ "$(rg_ctl show quitter --json | rg_json messages 1h)" = 1 ]'
json=$(rg_ctl show quitter --json)
e2e_assert_eq "$(printf '%s' "$json" | rg_json messages 1h)" 1 \
    "the login counts the one message that ended"
e2e_assert_eq "$(printf '%s' "$json" | rg_json recipients 1h)" 1 \
    "and its one recipient: aborted, cut and replaced messages gave theirs back"
for ip in 198.18.3.70 198.18.3.71 198.18.3.72; do
    cj=$(rg_ctl show "$ip" --json)
    want=0
    [ "$ip" = 198.18.3.70 ] && want=1
    e2e_assert_eq "$(printf '%s' "$cj" | rg_json client messages 1h)" "$want" \
        "client $ip counts $want message(s)"
done
rg_stop TERM
e2e_done
