#!/bin/bash
# t_state_damage.sh - noise over the stripe headers of the live state
# file (bytes 4096-12287: the user stripes' robust mutexes and list heads)
# must not take mail down: once with the milter stopped (it must start and
# judge mail again, not die at the first message on every restart) and
# once while it runs (the next message touching a damaged stripe must not
# kill it). Every message of a batch of logins that touches every stripe
# is accepted and reaches the sink, and the milter is alive afterwards;
# the noise does not reach the slots, so a block set before it holds.
# Usage: tests/e2e/t_state_damage.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

NLOGINS=${NLOGINS:-24}

# damage - noise over bytes 4096..12287 of the state file, in place
damage() {
    dd if=/dev/urandom of="$E2E_DIR/state/state" bs=4096 seek=1 count=2 \
        conv=notrunc status=none
}

# batch - TAG: one message from each of NLOGINS logins; how many got 250
batch() {
    local i ok=0
    for i in $(seq 1 "$NLOGINS"); do
        rg_send "dmg$i" "198.18.1.$i" -s "$1 $i" -H "X-E2E-Batch: $1"
        case $SW_RESULT in 250*) ok=$((ok + 1)) ;; esac
    done
    echo "$ok"
}

e2e_init
rg_setup
rg_send alice 198.18.1.200 -s "before"
e2e_assert_reply "$SW_RESULT" "250" "a message before the damage is accepted"
e2e_assert_true "an admin blocks a login before the damage" \
    rg_ctl block mallory --for 2h --reason incident

# 1: damaged while the milter is stopped, then started again
rg_stop TERM
damage
rg_start || e2e_bail "the milter did not start on a damaged state file: $(tail -n 5 "$RG_LOG")"
got=$(batch stopped)
e2e_assert_eq "$got" "$NLOGINS" "after damage at rest: every message accepted"
e2e_assert_true "the milter is alive after the batch" e2e_alive "$RG_PID"
e2e_assert_true "the batch reached the sink" sink_wait_count $((NLOGINS + 1)) 20
rg_send mallory 198.18.1.201 -s "blocked?"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "the block set before the damage is still enforced (the stripes are rebuilt from their slots)"

# 2: damaged under the running milter
damage
got=$(batch running)
e2e_assert_eq "$got" "$NLOGINS" "after damage while running: every message accepted"
e2e_assert_true "the milter is still the same process" e2e_alive "$RG_PID"
e2e_assert_true "that batch reached the sink too" sink_wait_count $((2 * NLOGINS + 1)) 20
e2e_assert_match "$(rg_ctl --json stats 2>/dev/null)" '"stripe_resets": *[1-9]' \
    "the repairs are counted (relayguardctl stats: stripe_resets)"
e2e_assert_false "no crash in the milter's log" \
    grep -Eq 'Assertion|SIGILL|SIGABRT|Illegal' "$RG_LOG"

# and the state is usable: a block set by the admin holds
e2e_assert_true "relayguardctl can block a login in the repaired file" \
    rg_ctl block dmg1 --for 1h
rg_send dmg1 198.18.1.1 -s "blocked"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "a block set after the damage is enforced"
e2e_done
