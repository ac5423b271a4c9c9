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
#   rg_setup [RULES] [MILTER]   all of it: sink, GeoIP, config, Postfix with
#                               the milter, the milter; bails on failure
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

# rg__listening - does something accept TCP on the milter port?
rg__listening() {
    ! e2e__port_free "$MILTER_PORT"
}

# rg_miltertest - SCRIPT: the milter alone, driven by miltertest's Lua
# script SCRIPT (in tests/e2e) as Sendmail would; sets out and rc
rg_miltertest() {
    command -v miltertest >/dev/null || e2e_skip "missing miltertest (run make deps)"
    rg_geo || e2e_bail "cannot generate GeoIP test databases"
    rg_config
    rg_start || e2e_bail "relayguard-milter did not start: $(cat "$RG_LOG")"
    out=$(RG_MILTER_SOCK="inet:$MILTER_PORT@127.0.0.1" \
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

# rg_setup - the usual start of a test: sink, GeoIP databases, configuration
# ($1 extra rules, $2 extra milter settings), Postfix with the milter, and
# the milter itself; gives up the test when any of it fails
rg_setup() {
    sink_start || e2e_bail "smtp-sink did not start"
    rg_geo || e2e_bail "cannot generate GeoIP test databases"
    rg_config "$@"
    pf_create "inet:127.0.0.1:$MILTER_PORT"
    pf_start || e2e_bail "private Postfix did not start"
    rg_start || e2e_bail "relayguard-milter did not start: $(cat "$RG_LOG")"
}
