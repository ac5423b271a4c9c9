#!/bin/bash
# t_socket.sh - the milter on a unix socket, the default layout: the
# socket's directory is made for the milter's user and group (0750), the
# socket itself is 0660 in the milter's group, so the MTA (here: group
# postfix) reaches it and another local user cannot connect; mail through
# the private Postfix is judged over it. A socket that cannot be made is
# refused with the directory and the system's reason.
# Usage: tests/e2e/t_socket.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_prepare
SOCK=$E2E_DIR/spool/relayguard/milter.sock
mkdir -p -m 755 "$E2E_DIR/spool"
sed -i "s|socket = \"inet:$MILTER_PORT@127.0.0.1\";|socket = \"unix:$SOCK\";|; s|group = \"nogroup\";|group = \"postfix\";|" "$RG_CONF"
grep -q "unix:$SOCK" "$RG_CONF" || e2e_bail "could not configure the socket"
pf_create "unix:$SOCK"
pf_start || e2e_bail "private Postfix did not start"
e2e_bg milter "$RG_MILTER" -f -c "$RG_CONF"
RG_PID=$E2E_BG_PID
RG_LOG=$E2E_DIR/milter.log
e2e_wait_until 10 test -S "$SOCK" || e2e_bail "no socket: $(cat "$RG_LOG")"

e2e_assert_eq "$(stat -c '%a %U %G' "$(dirname "$SOCK")")" "750 nobody postfix" \
    "the socket's directory belongs to the milter's user and group, 0750"
e2e_assert_eq "$(stat -c '%a %U %G' "$SOCK")" "660 nobody postfix" \
    "the socket is 0660 in the milter's group"

# connect - as the given setpriv options: 0 if a connection was made
connect() {
    setpriv "$@" -- perl -MIO::Socket::UNIX -e \
        'exit(IO::Socket::UNIX->new(Peer => $ARGV[0]) ? 0 : 1)' "$SOCK"
}
e2e_assert_false "a local user outside the group cannot connect" \
    connect --reuid 4243 --regid 4243 --clear-groups
e2e_assert_true "a member of the group can" \
    connect --reuid 4243 --regid "$(getent group postfix | cut -d: -f3)" --clear-groups

rg_send alice 198.18.1.7 -s "over the unix socket"
e2e_assert_reply "$SW_RESULT" "250" "mail through Postfix is accepted"
e2e_assert_true "the milter judged it (its log names the login)" \
    e2e_wait_until 5 grep -q 'user="alice"' "$RG_LOG"
e2e_assert_true "it reached the sink" sink_wait_find "$SW_ID" 10
rg_stop

# A socket that cannot be made says why: the system's reason, for the
# directory the milter (now nobody) may not create it in.
# fail_start - SOCKET: start the milter on it; sets out and rc
fail_start() {
    sed -i "s|socket = \"unix:[^\"]*\";|socket = \"unix:$1\";|" "$RG_CONF"
    out=$(timeout 20 "$RG_MILTER" -f -c "$RG_CONF" 2>&1)
    rc=$?
}
fail_start "$E2E_DIR/no/such/milter.sock"
e2e_assert_eq "$rc" 69 "a socket in a missing directory: exit 69"
e2e_assert_match "$out" "cannot listen on unix:$E2E_DIR/no/such/milter.sock: directory $E2E_DIR/no/such: No such file or directory" \
    "its message names the directory and the system's reason"
mkdir -p -m 755 "$E2E_DIR/rootonly"
fail_start "$E2E_DIR/rootonly/milter.sock"
e2e_assert_eq "$rc" 69 "a socket in root's directory: exit 69"
e2e_assert_match "$out" "cannot listen on unix:$E2E_DIR/rootonly/milter.sock: directory $E2E_DIR/rootonly: Permission denied" \
    "its message says Permission denied"
e2e_done
