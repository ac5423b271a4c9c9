#!/bin/bash
# t_feedback.sh - what the collector learns changes what the milter does,
# and the milter never waits for the collector:
#   1. "relayguard-collector run" follows a flow directory: a file of
#      flows (real nfcapd) dropped there flags 10.20.1.7; within seconds
#      it is on the rogue list, the milter reloads the list (mtime poll)
#      and its next message through Postfix gets the rogue-host refusal;
#   2. an incident (one IP, four logins) puts that IP on the list with its
#      reason and expiry, and its next message is refused too;
#   3. the collector stopped (SIGSTOP) with its socket queue full: mail
#      takes no longer than with a collector that reads, every message is
#      delivered, and each event is a counted drop (fire and forget);
#   4. events over loopback UDP (collector.address udp:127.0.0.1:PORT,
#      the milter reloaded) are verified and stored.
# Usage: tests/e2e/t_feedback.sh [BUILD_DIR]   (KEEP=1 keeps the temp dir)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_collector_init
gen=$RG_FLOWGEN B=$RG_COLL D=$E2E_DIR
RG_COLLECTOR=$(rg_collector_section "unix:$D/events.sock")
rg_setup

# stat_of KEY - a counter of relayguardctl stats --json
stat_of() { "$RG_CTL" -c "$RG_CONF" --json stats | rg_json "$1"; }

# loads - how many times the milter has loaded the rogue list
loads() { grep -c 'rogue list .*networks' "$RG_LOG"; }

# 1. flows dropped into the followed directory
n=$("$gen/mkflows.sh" main "$D/staging") || e2e_bail "no flows"
e2e_bg collector "$B" -f -c "$RG_CONF" run
CPID=$E2E_BG_PID
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start: $(cat "$D/collector.log")"
rg_send usr1 10.20.1.7 -s "before the flows"
e2e_assert_reply "$SW_RESULT" "250" "10.20.1.7 before any flow: delivered"
before=$(loads)
t0=$(date +%s)
mv "$D"/staging/nfcapd.2* "$D/flows/"
e2e_assert_true "the rogue list names 10.20.1.7 (from $n flow records)" \
    e2e_wait_until 20 grep -q '^10\.20\.1\.7 # rogue_server .* reason="flagged from flows"' "$D/rogue.txt"
e2e_assert_true "the milter loads the new list" \
    e2e_wait_until 10 bash -c "[ \$(grep -c 'rogue list .*networks' '$RG_LOG') -gt $before ]"
t1=$(date +%s)
e2e_assert_true "flows to a loaded list within 20 s (took $((t1 - t0)) s)" test $((t1 - t0)) -le 20
rg_send usr1 10.20.1.7 -s "after the flows"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "10.20.1.7's next message: refused (rogue-host)"
e2e_assert_true "stats: the milter reports the list's size and age" bash -c \
    "\"$RG_CTL\" -c \"$RG_CONF\" stats | grep -Eq '^ *rogue list +[1-9][0-9]* entries, written [0-9]+[smh] ago'"

# 2. an incident's host: one IP, four logins
for u in ann bob cat dan; do rg_send "$u" 198.18.7.7 -s "bot as $u"; done
e2e_assert_true "198.18.7.7 on the list as an incident host" \
    e2e_wait_until 15 grep -q '^198\.18\.7\.7 # incident .* expires=.* reason="incident many_logins INC-' "$D/rogue.txt"
before=$(loads)
e2e_wait_until 10 bash -c "[ \$(grep -c 'rogue list .*networks' '$RG_LOG') -gt $before ]"
rg_send eve 198.18.7.7 -s "the bot again"
e2e_assert_reply "$SW_RESULT" "550 5.7.1" "198.18.7.7's next message: refused"

# 3. latency: a collector that reads, then one stopped with a full queue
# secs_of_mail FROM N - each of N messages' seconds, one a line
secs_of_mail() {
    local i s e
    for i in $(seq "$2"); do
        s=$(date +%s%N)
        rg_send lat "$1" -s "latency $i" >/dev/null
        e=$(date +%s%N)
        case $SW_RESULT in 250*) ;; *) echo "refused: $SW_RESULT" >&2 ;; esac
        echo "$(( (e - s) / 1000000 ))"
    done
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
secs_of_mail 198.18.1.10 5 >"$D/lat.running"
kill -STOP "$CPID"
python3 - "$D/events.sock" >"$D/fill.out" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setblocking(False)
n = 0
try:
    while True:
        s.sendto(b"x" * 200, sys.argv[1]); n += 1
except BlockingIOError:
    print("full after", n)
PY
e2e_assert_file_match "$D/fill.out" '^full after [0-9]+' "the stopped collector's queue is full"
dropped=$(stat_of events_dropped)
secs_of_mail 198.18.1.11 5 >"$D/lat.stopped" 2>"$D/lat.err"
# the milter's sender thread gives a batch 20 ms for room before it
# drops it: the last event is counted a moment after its message, and
# must be while the collector is still stopped
drops_since() { test "$(stat_of events_dropped)" -ge $((dropped + $1)); }
e2e_wait_until 20 drops_since 5
e2e_assert_true "collector stopped: the 5 events are counted drops, not waits" drops_since 5
kill -CONT "$CPID"
e2e_assert_eq "$(cat "$D/lat.err")" "" "collector stopped: every message delivered"
# the two medians are of different moments: the stopped one may come in
# a busier few seconds on a loaded machine (swaks alone takes seconds
# there), so it has 3 s over twice the running one. A milter that waits
# for the collector still fails: with no bound on the wait for room
# Postfix gives up on it after milter_command_timeout (10 s) and the
# message is not delivered either; a bounded wait fails when it is over
# 3 s plus the running median a message
run=$(median <"$D/lat.running") stop=$(median <"$D/lat.stopped")
e2e_assert_true "collector stopped: median $stop ms a message, running $run ms" \
    test "$stop" -le $((run * 2 + 3000))

# 4. events over loopback UDP
kill -TERM "$CPID"
e2e_wait_until 10 bash -c "! kill -0 $CPID" || e2e_fail "collector did not stop"
e2e_pick_port EVENT_PORT || e2e_bail "no port for the collector"
python3 - "$RG_CONF" "udp:127.0.0.1:$EVENT_PORT" "$D/events.sock" <<'PY'
import sys
p, new, old = sys.argv[1:]
s = open(p).read().replace('"unix:%s"' % old, '"%s"' % new)
open(p, "w").write(s)
PY
e2e_assert_file_match "$RG_CONF" "udp:127.0.0.1:$EVENT_PORT" "collector.address is now UDP"
e2e_bg collector2 "$B" -f -c "$RG_CONF" run
CPID=$E2E_BG_PID
e2e_wait_until 10 grep -q "receiving events on udp:127.0.0.1:$EVENT_PORT" "$D/collector2.log" ||
    e2e_bail "collector did not start on UDP: $(cat "$D/collector2.log")"
reloads=$(stat_of reloads)
kill -USR1 "$RG_PID"
e2e_wait_until 10 bash -c "[ \$(\"$RG_CTL\" -c \"$RG_CONF\" --json stats | perl -MJSON::PP -e 'print decode_json(join \"\", <STDIN>)->{reloads}') -gt $reloads ]" ||
    e2e_fail "the milter did not reload"
rg_send udpuser 198.18.1.12 -s "over udp"
e2e_assert_reply "$SW_RESULT" "250" "a message with the UDP collector"
e2e_assert_true "its event came over UDP, verified and stored" e2e_wait_until 10 bash -c \
    "\"$B\" -c \"$RG_CONF\" events --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(e[\"login\"] == \"udpuser\" and e[\"client\"] == \"198.18.1.12\" for e in d[\"events\"]) else 1)'"
e2e_done
