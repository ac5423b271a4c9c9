#!/bin/bash
# t_state_two_sizes.sh - two milters configured with different capacities
# on one state file (a second instance started with max_users raised)
# must not replace each other's file in a loop: the second one uses the
# file as it is and says so at warning level; neither reattaches to a
# replaced file, and the first one's admin block holds in both.
# Usage: tests/e2e/t_state_two_sizes.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_setup
e2e_assert_true "an admin blocks a login" rg_ctl block victim --for 2h
ino=$(stat -c %i "$E2E_DIR/state/state")

# the second instance: its own socket and pidfile, max_users raised
e2e_pick_port PORT2 || e2e_bail "no second port"
sed -e "s/max_users = 1000;/max_users = 3000;/" \
    -e "s/inet:$MILTER_PORT@/inet:$PORT2@/" \
    -e "s|milter.pid|milter2.pid|" "$RG_CONF" >"$E2E_DIR/rg2.conf"
e2e_bg milter2 "$RG_MILTER" -f -c "$E2E_DIR/rg2.conf"
PID2=$E2E_BG_PID
e2e_assert_true "the second milter starts" e2e_wait_until 10 e2e_listening "$PORT2"
sleep 3		# the maintenance threads look at the file every second

e2e_assert_true "both milters run" eval 'e2e_alive "$RG_PID" && e2e_alive "$PID2"'
e2e_assert_eq "$(stat -c %i "$E2E_DIR/state/state")" "$ino" "the state file was not replaced"
e2e_assert_false "the first milter never reattached" grep -q "was replaced; reattached" "$RG_LOG"
e2e_assert_true "the second says it uses the file as it is" \
    grep -Eq "warning: state file .* has 1000 users.*not the configured 3000.*another process uses it" "$E2E_DIR/milter2.log"
rg_send victim 198.18.1.40 -s "blocked"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "the block holds"
e2e_done
