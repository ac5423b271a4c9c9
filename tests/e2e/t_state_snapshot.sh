#!/bin/bash
# t_state_snapshot.sh - blocks and learned countries outlive the state
# file (a reboot empties its tmpfs): with state.snapshot_path set, an
# admin block and a login's countries are saved when the milter stops;
# the state file is deleted, the milter started again restores them from
# the snapshot, and the block is enforced on the next message.
# Usage: tests/e2e/t_state_snapshot.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_prepare
sed -i "s|ips_per_user = 16; };|ips_per_user = 16;\n         snapshot_path = \"$E2E_DIR/state/snap/snapshot\"; snapshot_interval = \"10s\"; };|" "$RG_CONF"
grep -q snapshot_path "$RG_CONF" || e2e_bail "could not configure the snapshot"
pf_create "inet:127.0.0.1:$MILTER_PORT"
pf_start || e2e_bail "private Postfix did not start"
rg_start || e2e_bail "relayguard-milter did not start: $(cat "$RG_LOG")"

rg_send traveller 198.18.3.30 -s "from DE"
e2e_assert_reply "$SW_RESULT" "250" "a login is seen from DE"
e2e_assert_true "an admin blocks another login" rg_ctl block victim --for 3h --reason incident
rg_send victim 198.18.1.30 -s "blocked"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "the block is enforced"

# every snapshot_interval (10 s here) a snapshot is written while it runs
e2e_assert_true "a periodic snapshot is written while the milter runs" \
    e2e_wait_until 25 test -s "$E2E_DIR/state/snap/snapshot"
rm -f "$E2E_DIR/state/snap/snapshot"
# the stop writes the snapshot; the "reboot" deletes the state file
rg_stop TERM
e2e_assert_true "the stop wrote a snapshot" test -s "$E2E_DIR/state/snap/snapshot"
e2e_assert_file_match "$RG_LOG" "state snapshot .*: 2 users, [0-9]+ clients, 1 blocks in force" \
    "the milter said what it saved"
rm -f "$E2E_DIR/state/state"
rg_start || e2e_bail "the milter did not start again: $(tail -n 5 "$RG_LOG")"
e2e_assert_file_match "$RG_LOG" "state snapshot .* restored: 2 users, [0-9]+ clients, 1 blocks in force" \
    "at start the snapshot is restored into the new state file"
rg_send victim 198.18.1.31 -s "blocked after reboot"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "after the state file was lost, the block is still enforced"
e2e_assert_match "$(rg_ctl show traveller 2>/dev/null)" "DE [0-9]+ days?" \
    "the learned country came back"
rg_send traveller 198.18.3.31 -s "still DE"
e2e_assert_reply "$SW_RESULT" "250" "the other login's mail flows"
e2e_done
