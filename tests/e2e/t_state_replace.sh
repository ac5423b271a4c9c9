#!/bin/bash
# t_state_replace.sh - the state file is replaced without losing what
# matters, and never silently. (1) max_users raised during an incident,
# then SIGUSR1: the file is resized, an admin block set before is still
# enforced, and the milter logs at warning level what it carried over.
# (2) the header damaged while the milter is stopped (its checksum word,
# offset 128 of struct store_hdr): at
# start the file is replaced, the entries salvaged, the block still holds
# and the loss (none here) is logged.
# Usage: tests/e2e/t_state_replace.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_setup
for i in 1 2 3; do
    rg_send "known$i" "198.18.$i.20" -s "learn $i"
done
e2e_assert_true "an admin blocks a login" rg_ctl block victim --for 2h --reason incident
rg_send victim 198.18.1.21 -s "blocked before"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "the block is enforced"

# 1: max_users raised, then a reload
sed -i 's/max_users = 1000;/max_users = 3000;/' "$RG_CONF"
kill -USR1 "$RG_PID"
e2e_assert_true "the reload resizes the file and says what it carried" \
    e2e_wait_until 10 grep -Eq "warning: state file .* resized from 1000 users.*to the configured 3000.*carried 4 users \(1 blocked\)" "$RG_LOG"
rg_send victim 198.18.1.22 -s "blocked after resize"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "after the resize the block is still enforced"
e2e_assert_match "$(rg_ctl stats 2>/dev/null)" "3008|3,008|max_users[^0-9]*30" \
    "relayguardctl sees the new capacity"
rg_send known1 198.18.1.23 -s "still flowing"
e2e_assert_reply "$SW_RESULT" "250" "other mail flows"

# 2: the header's checksum damaged while the milter is stopped
rg_stop TERM
printf '\x01\x02\x03\x04' | dd of="$E2E_DIR/state/state" bs=1 seek=128 \
    conv=notrunc status=none
rg_start || e2e_bail "the milter did not start: $(tail -n 5 "$RG_LOG")"
e2e_assert_true "the replacement of the invalid file is logged with what it kept" \
    e2e_wait_until 10 grep -Eq "warning: state file .* was invalid \(header checksum mismatch\) and is replaced: carried 4 users \(1 blocked\)" "$RG_LOG"
rg_send victim 198.18.1.24 -s "blocked after salvage"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "after the salvage the block is still enforced"
e2e_done
