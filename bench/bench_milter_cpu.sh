#!/bin/bash
# bench_milter_cpu.sh - the whole milter's cost per message with events on
# and off (part of make bench-collector; not a test). A real
# relayguard-milter (the e2e harness's private configuration, GeoIP test
# databases) driven by miltertest (bench/milter_load.lua: one connection
# per message, as Postfix opens them); "relayguard-collector listen"
# receives the events. Rounds alternate events on and off (the
# configuration's collector section swapped and SIGUSR1: the same
# process); per round the milter's CPU time (user + system, from
# /proc/PID/stat) over the messages. Prints
#   milter (miltertest): CPU per message events off A us, on B us; with/without = R
# R: the median of the per-round ratios of messages per CPU second.
# Usage: bench/bench_milter_cpu.sh BUILD_DIR
here=$(cd "$(dirname "$0")" && pwd)
set -- "$(cd "${1:-build}" && pwd)"
. "$here/../tests/e2e/lib.sh"
. "$here/../tests/e2e/relayguard.sh"
e2e_init
msgs=${BENCH_MILTER_MESSAGES:-2000}
rounds=${BENCH_MILTER_ROUNDS:-6}
B=$E2E_BUILD/relayguard-collector
D=$E2E_DIR
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/event.key"
chmod 600 "$D/event.key"
chown nobody "$D/event.key"
ON="collector: { address = \"unix:$D/events.sock\"; key_file = \"$D/event.key\";
  database = \"$D/collector.db\"; incidents_file = \"\"; report_dir = \"$D\"; };"
rg_geo || e2e_bail "no GeoIP test databases"
RG_COLLECTOR=$ON rg_config "" ""
cp "$RG_CONF" "$D/on.conf"
RG_COLLECTOR="" rg_config "" ""
cp "$RG_CONF" "$D/off.conf"
sed -i 's/limit = 100; action = "tempfail"; }/limit = 1000000; action = "tempfail"; }/' "$D/on.conf" "$D/off.conf"
cp "$D/on.conf" "$RG_CONF"
e2e_bg collector "$B" -c "$D/on.conf" listen
e2e_wait_until 10 test -S "$D/events.sock" || e2e_bail "collector did not start"
rg_start || e2e_bail "milter did not start: $(cat "$RG_LOG")"

cpu() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$RG_PID/stat"; }
reloads() { "$RG_CTL" -c "$RG_CONF" --json stats | rg_json reloads; }
# switch MODE - the milter on MODE's configuration
switch() {
    local r
    r=$(reloads)
    cp "$D/$1.conf" "$RG_CONF"
    kill -USR1 "$RG_PID"
    e2e_wait_until 10 test "$(reloads)" -gt "$r" || e2e_bail "no reload"
}
# round MODE BASE - the milter's CPU seconds for msgs messages
round() {
    local a b
    switch "$1"
    a=$(cpu)
    RG_MILTER_SOCK="inet:$MILTER_PORT@127.0.0.1" RG_MSGS=$msgs RG_BASE=$2 \
        miltertest -s "$here/milter_load.lua" >/dev/null 2>&1 || e2e_bail "miltertest failed"
    b=$(cpu)
    echo "$1 $(echo "$a $b" | awk '{ print $2 - $1 }')"
}
round off 0 >/dev/null	# warm: the logins exist
: >"$D/rounds"
for r in $(seq "$rounds"); do
    if [ $((r % 2)) = 1 ]; then round on "$((r * msgs))"; round off "$((r * msgs))"
    else round off "$((r * msgs))"; round on "$((r * msgs))"; fi >>"$D/rounds"
done
sent=$("$RG_CTL" -c "$RG_CONF" --json stats | rg_json events_sent)
awk -v m="$msgs" -v sent="$sent" '
$1 == "on" { on[++a] = $2 } $1 == "off" { off[++b] = $2 }
function median(v, k,   i, j, t, c) {
    for (i = 1; i <= k; i++) c[i] = v[i]
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (c[j] < c[i]) { t = c[i]; c[i] = c[j]; c[j] = t }
    return k % 2 ? c[(k + 1) / 2] : (c[k / 2] + c[k / 2 + 1]) / 2
}
END {
    for (i = 1; i <= a; i++) r[i] = off[i] / on[i]
    printf "milter (miltertest): CPU per message events off %.0f us, on %.0f us; with/without = %.3f (median of %d interleaved rounds of %d messages; %s events sent)\n",
        median(off, b) / m * 1e6, median(on, a) / m * 1e6, median(r, a), a, m, sent
}' "$D/rounds"
