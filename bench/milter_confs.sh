# milter_confs.sh - sourced by the milter benchmarks (bench_milter_cpu.sh,
# bench_milter_instr.sh), after e2e_init: a fresh event key, the GeoIP test
# databases and two milter configurations that differ in the collector
# section alone, $D/on.conf (events to unix:$D/events.sock) and
# $D/off.conf, with the per-login limit out of the way, a unix milter
# socket and an empty flows directory (for "relayguard-collector run").
# Over TCP, miltertest's separate small writes of a macro and its
# command meet Nagle and the delayed ACK (40 ms twice a message), which
# made a round of 2,000 messages take minutes.
D=$E2E_DIR
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/event.key"
chmod 600 "$D/event.key"
chown nobody "$D/event.key"
mkdir -p "$D/flows"
ON="collector: { address = \"unix:$D/events.sock\"; key_file = \"$D/event.key\";
  database = \"$D/collector.db\"; incidents_file = \"\"; report_dir = \"$D\"; flows: { directory = \"$D/flows\"; }; };"
rg_geo || e2e_bail "no GeoIP test databases"
RG_COLLECTOR=$ON rg_config "" ""
cp "$RG_CONF" "$D/on.conf"
RG_COLLECTOR="" rg_config "" ""
cp "$RG_CONF" "$D/off.conf"
sed -i -e 's/limit = 100; action = "tempfail"; }/limit = 1000000; action = "tempfail"; }/' \
    -e "s|socket = \"inet:$MILTER_PORT@127.0.0.1\"|socket = \"unix:$D/state/milter.sock\"|" \
    "$D/on.conf" "$D/off.conf"
