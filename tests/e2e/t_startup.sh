#!/bin/bash
# t_startup.sh - the milter's start-up as root: SIGUSR1 sent while it is
# still starting does not kill it (it waits until the signal thread runs,
# then reloads), and a pidfile that the daemon user
# replaced by a symbolic link does not make root overwrite the link's
# target. No Postfix: only the milter.
# Usage: tests/e2e/t_startup.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_geo || e2e_bail "cannot generate GeoIP test databases"
rg_config
# The daemon user (nobody) owns the pidfile's directory: it plants a link.
echo "precious" >"$E2E_DIR/victim"
chmod 644 "$E2E_DIR/victim"
runuser -u nobody -- ln -s "$E2E_DIR/victim" "$E2E_DIR/state/milter.pid" ||
    e2e_bail "nobody could not plant the link"
rg_start || e2e_bail "relayguard-milter did not start: $(cat "$RG_LOG")"
e2e_assert_eq "$(cat "$E2E_DIR/victim")" "precious" "the link's target was not overwritten"
e2e_assert_true "the link was left as it was" test -L "$E2E_DIR/state/milter.pid"
e2e_assert_file_match "$RG_LOG" "pidfile .*symbolic link" "the milter says why it wrote no pidfile"
rg_stop

# The milter reads its configuration from a FIFO: until we feed it, it
# waits in main(), past the loader, before any handler could exist.
mkfifo "$E2E_DIR/fifo.conf"
e2e_bg milter "$RG_MILTER" -f -c "$E2E_DIR/fifo.conf"
RG_PID=$E2E_BG_PID
RG_LOG=$E2E_DIR/milter.log
# rg__usr1_in - MASK: SIGUSR1 (10, the mask's bit 0x200) is in the
# milter's signal mask MASK of /proc/PID/status (SigBlk, ShdPnd)
rg__usr1_in() {
    local m
    m=$(awk -v k="$1:" '$1 == k { print $2 }' "/proc/$RG_PID/status" 2>/dev/null)
    [ -n "$m" ] && (( 0x$m & 0x200 ))
}
# The signal must come once main() has blocked it, not at a fixed time:
# until the shell e2e_bg forked has exec'd the milter and the dynamic
# loader has run (more than half a second on a loaded machine), SIGUSR1
# still has its default action and kills the process.
e2e_assert_true "the starting milter blocks SIGUSR1" e2e_wait_until 10 rg__usr1_in SigBlk
kill -USR1 "$RG_PID"
e2e_assert_true "SIGUSR1 waits, pending, while the milter reads its configuration" \
    e2e_wait_until 10 rg__usr1_in ShdPnd
e2e_assert_true "SIGUSR1 during start-up does not kill the milter" e2e_alive "$RG_PID"
# Feed it: once for start-up, once for the runtime, once for the reload.
# Each copy must reach the milter alone: a writer that opened the FIFO
# while the milter still read the copy before would join the two into one
# file with every setting twice. So the feeder holds its end open until
# the milter holds the other, then closes it and waits until the milter
# has read to the end and closed its own, before the next copy.
rg__reads_fifo() {
    ls -l "/proc/$RG_PID/fd" 2>/dev/null | grep -q -- "-> $E2E_DIR/fifo.conf\$"
}
(
    for i in 1 2 3; do
        exec 3>"$E2E_DIR/fifo.conf" # waits until the milter opens it
        cat "$RG_CONF" >&3
        e2e_wait_until 10 rg__reads_fifo || exit 1
        exec 3>&-
        e2e_wait_until 10 eval '! rg__reads_fifo' || exit 1
    done
) &
feeder=$!
e2e__record "$feeder"
e2e_assert_true "the milter then listens" e2e_wait_until 10 rg__listening
e2e_assert_true "the signal that waited is a reload" e2e_wait_until 10 grep -q "reloaded" "$RG_LOG"
e2e_assert_true "the milter is alive" e2e_alive "$RG_PID"
rg_stop
kill "$feeder" 2>/dev/null
e2e_done
