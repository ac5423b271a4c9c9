# relayguard.sh - the relayguard side of the end-to-end tests and the demo,
# on top of lib.sh: test GeoIP databases, a milter configuration, starting
# and stopping relayguard-milter under the private Postfix.
#
#   rg_geo                      generate GeoIP test databases in $E2E_DIR/geo
#   rg_config [EXTRA_RULES]     write $RG_CONF (base policy + optional rules)
#   rg_start                    start the milter (foreground, log $RG_LOG)
#   rg_stop [SIGNAL]            stop it
#   rg_ctl ARGS...              relayguardctl -c $RG_CONF ARGS...
#   rg_send LOGIN ADDR [smtp_send options]   one message through XCLIENT
#   rg_json KEY...              a value of the JSON on stdin (an array: its length)
#   rg_prepare [RULES] [MILTER] sink, GeoIP and config; bails on failure
#   rg_setup [RULES] [MILTER]   all of it: rg_prepare, Postfix with the
#                               milter, the milter; bails on failure
#   rg_policyd_start NAME       relayguard-policyd on $POLICY_PORT (log NAME.log)
#   rg_collector_init [TOOL...] a collector test: tools, event key, flow dir
#   rg_collector_section ADDR [INCIDENTS [MORE]]  a collector { } section
#   icheck EXPR                 the collector's incidents (--json) satisfy EXPR
#   rg_alerts_setup ALERT_KEYS  an alert test: event key, collector section
#                               with alerts through $E2E_DIR/sendmail, then
#                               rg_setup; inc_id LOGIN, mails_with ERE
#   rg_analyze_conf FILE        a collector config for "analyze" of the flows
#   rg_miltertest SCRIPT        no MTA: GeoIP, config, the milter, then
#                               miltertest runs tests/e2e/SCRIPT against it
#                               (its output in $out, its exit code in $rc)

RG_MILTER=$E2E_BUILD/relayguard-milter
RG_CTL=$E2E_BUILD/relayguardctl
RG_CONF=""
RG_LOG=""
RG_PID=""
RG_SRC=$(cd "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)

# rg_geo - the databases of tests/geoip/plan.tsv
rg_geo() {
    mkdir -p "$E2E_DIR/geo" &&
        perl "$RG_SRC/tests/geoip/make-test-db.pl" "$E2E_DIR/geo" >/dev/null
}

# rg_config - a configuration for the private instance; $1: extra rules
# (libconfig groups, comma-first), $2: extra milter settings; RG_COLLECTOR
# may hold a collector { ... } section
rg_config() {
    RG_CONF=$E2E_DIR/relayguard.conf
    RG_LOG=$E2E_DIR/milter.log
    mkdir -p "$E2E_DIR/state"
    chown nobody:nogroup "$E2E_DIR/state"
    cat >"$RG_CONF" <<CONF
milter: {
  socket = "inet:$MILTER_PORT@127.0.0.1";
  user = "nobody"; group = "nogroup";
  pidfile = "$E2E_DIR/state/milter.pid";
  on_error = "tempfail";
  add_header = true;
  ${2:-}
};
state: { path = "$E2E_DIR/state/state"; max_users = 1000; max_clients = 1000;
         ips_per_user = 16; };
geoip: { city_db = "$E2E_DIR/geo/GeoLite2-City.mmdb";
         asn_db = "$E2E_DIR/geo/GeoLite2-ASN.mmdb"; };
networks: { internal = [ "10.0.0.0/8" ]; trusted = [ "127.0.0.0/8" ]; };
rogue: { list_path = "$E2E_DIR/rogue.txt"; };
${RG_COLLECTOR:-}
policy: {
  rules = (
    { name = "many-countries"; applies_to = "authenticated";
      metric = "distinct_countries"; window = "10m"; limit = 3;
      action = "tempfail"; block_for = "1h"; },
    { name = "impossible-travel"; applies_to = "authenticated";
      metric = "travel_kmh"; limit = 1000; action = "quarantine"; },
    { name = "user-messages"; applies_to = "authenticated";
      metric = "messages"; window = "1h"; limit = 100; action = "tempfail"; },
    { name = "internal-burst"; applies_to = "internal";
      metric = "messages"; window = "10m"; limit = 20;
      action = "tempfail"; block_for = "1h"; },
    { name = "rogue-host"; applies_to = "any";
      metric = "rogue_listed"; action = "reject"; }
    ${1:-}
  );
};
CONF
}

# rg_start - run the milter in the foreground (logging to $RG_LOG) and wait
# until it accepts connections
rg_start() {
    e2e_bg milter "$RG_MILTER" -f -c "$RG_CONF"
    RG_PID=$E2E_BG_PID
    ln -sf "$E2E_DIR/milter.log" "$E2E_DIR/milter.log.link" 2>/dev/null
    RG_LOG=$E2E_DIR/milter.log
    e2e_wait_until 10 rg__listening || return 1
}

# rg__listening - does something listen on the milter port?
rg__listening() {
    e2e_listening "$MILTER_PORT"
}

# rg_miltertest - SCRIPT: the milter alone, driven by miltertest's Lua
# script SCRIPT (in tests/e2e) as Sendmail would; sets out and rc
rg_miltertest() {
    command -v miltertest >/dev/null || e2e_skip "missing miltertest (run make deps)"
    rg_geo || e2e_bail "cannot generate GeoIP test databases"
    rg_config
    rg_start || e2e_bail "relayguard-milter did not start: $(cat "$RG_LOG")"
    out=$(RG_MILTER_SOCK="inet:$MILTER_PORT@127.0.0.1" \
          RG_MTLIB="$RG_SRC/tests/e2e/mtlib.lua" \
          timeout 60 miltertest -s "$RG_SRC/tests/e2e/$1" 2>&1)
    rc=$?
}

# rg_stop - SIGNAL (default TERM)
rg_stop() {
    e2e_bg_stop "$RG_PID" "${1:-TERM}"
    RG_PID=""
}

# rg_ctl - relayguardctl on this instance's configuration
rg_ctl() {
    "$RG_CTL" -c "$RG_CONF" "$@"
}

# rg_send - LOGIN ADDR [smtp_send options]: LOGIN "-" for none
rg_send() {
    local login=$1 addr=$2; shift 2
    if [ "$login" = - ]; then smtp_send -a "$addr" "$@"
    else smtp_send -a "$addr" -l "$login" "$@"; fi
}

# rg_json - KEY...: follow the keys (array indexes too) into the JSON
# document on stdin and print the value found, an array's length, or ""
rg_json() {
    perl -MJSON::PP -e '
        my $v = decode_json(join "", <STDIN>);
        for my $k (@ARGV) { $v = ref $v eq "ARRAY" ? $v->[$k] : $v->{$k} }
        print ref $v eq "ARRAY" ? scalar @$v : $v // "", "\n"' "$@"
}

# rg_prepare - what every test needs before its MTA: the sink, GeoIP
# databases, the configuration ($1 extra rules, $2 extra milter settings);
# gives up the test when any of it fails
rg_prepare() {
    sink_start || e2e_bail "smtp-sink did not start"
    rg_geo || e2e_bail "cannot generate GeoIP test databases"
    rg_config "$@"
}

# rg_setup - the usual start of a test: rg_prepare, Postfix with the
# milter, and the milter itself; gives up the test when any of it fails
rg_setup() {
    rg_prepare "$@"
    pf_create "inet:127.0.0.1:$MILTER_PORT"
    pf_start || e2e_bail "private Postfix did not start"
    rg_start || e2e_bail "relayguard-milter did not start: $(cat "$RG_LOG")"
}

# rg_policyd_start - NAME: relayguard-policyd with $RG_CONF in the
# foreground (log NAME.log, its pid PD_PID, its log PD_LOG), until it
# listens on $POLICY_PORT
rg_policyd_start() {
    e2e_bg "$1" "$E2E_BUILD/relayguard-policyd" -f -c "$RG_CONF"
    PD_PID=$E2E_BG_PID
    PD_LOG=$E2E_DIR/$1.log
    e2e_wait_until 10 e2e_listening "$POLICY_PORT"
}

RG_COLL=$E2E_BUILD/relayguard-collector
RG_FLOWGEN=$RG_SRC/tests/collector

# rg_collector_init - a test of relayguard-collector with events: skips
# without nfcapd, nfdump, python3 (and the tools named as arguments);
# writes an event key $E2E_DIR/event.key (0600, owned by nobody, the
# milter's user) and makes the flow directory $E2E_DIR/flows and an
# empty names file $E2E_DIR/names
rg_collector_init() {
    e2e_need nfcapd nfdump python3 "$@"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$E2E_DIR/event.key"
    chmod 600 "$E2E_DIR/event.key"
    chown nobody "$E2E_DIR/event.key"
    mkdir -p "$E2E_DIR/flows"
    : >"$E2E_DIR/names"
}

# icheck EXPR - the collector's "incidents --json" ($B, the collector
# binary; files in $E2E_DIR) satisfies EXPR, a python3 expression over I,
# the incidents by (kind, subject)
icheck() {
    "$B" -c "$RG_CONF" incidents --json >"$E2E_DIR/inc.json" 2>"$E2E_DIR/inc.err" || return 1
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
I = {(i["kind"], i["subject"]): i for i in d["incidents"]}
sys.exit(0 if eval(sys.argv[2]) else 1)' "$E2E_DIR/inc.json" "$1"
}

# rg_alerts_setup - ALERT_KEYS: the start of an alert test (t_alerts*.sh):
# skips without python3 or sqlite3; B the collector, D $E2E_DIR; an event
# key and flow directory; $D/sendmail, unless the test wrote its own, a
# wrapper around this Postfix's sendmail; the collector's events on
# $D/events.sock and alerts from relayguard@mx.example.org to
# secops@example.org through $D/sendmail with ALERT_KEYS (max_per_hour,
# timeout...); then rg_setup (sink, Postfix, milter)
rg_alerts_setup() {
    local c
    for c in python3 sqlite3; do
        command -v "$c" >/dev/null 2>&1 || e2e_skip "needs $c (scripts/deps.sh)"
    done
    B=$RG_COLL
    D=$E2E_DIR
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/event.key"
    chmod 600 "$D/event.key"
    chown nobody "$D/event.key"
    mkdir -p "$D/flows"
    if [ ! -e "$D/sendmail" ]; then
        printf '#!/bin/sh\nexec /usr/sbin/sendmail -C "%s" "$@"\n' "$PF_CONF" >"$D/sendmail"
        chmod 755 "$D/sendmail"
    fi
    RG_COLLECTOR="collector: {
  address = \"unix:$D/events.sock\"; key_file = \"$D/event.key\";
  database = \"$D/collector.db\"; report_dir = \"$D/reports\"; incidents_file = \"\";
  incident_logins = 10;
  alerts: { to = \"secops@example.org\"; from = \"relayguard@mx.example.org\";
            sendmail = \"$D/sendmail\"; $1 };
  flows: { directory = \"$D/flows\"; local_networks = [ \"10.20.0.0/16\" ]; };
};"
    rg_setup
}

# inc_id LOGIN - the id of LOGIN's login_from_flagged incident (in the
# last icheck's $E2E_DIR/inc.json)
inc_id() {
    python3 -c 'import json,sys; print([i["id"] for i in json.load(open(sys.argv[1]))["incidents"] if i["subject"] == sys.argv[2]][0])' "$E2E_DIR/inc.json" "$1"
}

# mails_with ERE - how many sink messages have a line matching ERE
mails_with() { find "$SINK_DIR" -type f -exec grep -lE -- "$1" {} + 2>/dev/null | wc -l; }

# rg_collector_section - ADDRESS [INCIDENTS_FILE [MORE]]: the collector
# section of rg_collector_init's files: events on ADDRESS, incidents as
# JSON lines to INCIDENTS_FILE ("" none), MORE (e.g. alerts: { ... };)
rg_collector_section() {
    cat <<CONF
collector: {
  address = "$1"; key_file = "$E2E_DIR/event.key";
  database = "$E2E_DIR/collector.db"; report_dir = "$E2E_DIR/reports";
  incidents_file = "${2:-}";
  ${3:-}
  flows: { directory = "$E2E_DIR/flows"; local_networks = [ "10.20.0.0/16" ];
           mail_servers = [ "10.20.0.25/32" ]; names_file = "$E2E_DIR/names"; };
};
CONF
}

# rg_analyze_conf - FILE: a collector configuration for "analyze" of the
# flows tests/collector makes (v4 and v6 site networks and mail servers):
# history in $E2E_DIR/history.db, reports and the rogue list in $E2E_DIR,
# host names from $E2E_DIR/names
rg_analyze_conf() {
    cat >"$1" <<CONF
collector: {
  database = "$E2E_DIR/history.db";
  report_dir = "$E2E_DIR";
  flows: {
    local_networks = [ "10.20.0.0/16", "fd00:20::/32" ];
    mail_servers = [ "10.20.0.25/32", "fd00:20::25/128" ];
    names_file = "$E2E_DIR/names";
  };
};
rogue: { list_path = "$E2E_DIR/rogue.list"; };
CONF
}
