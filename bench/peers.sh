#!/bin/bash
# peers.sh - relayguard's two front ends against their peers through one
# real Postfix (make bench-peers; never part of make check).
#
# One private Postfix (tests/e2e/lib.sh), one smtpd port per contender:
#   none     no filter
#   null     the null milter (bench/nullmilter.c: connect, MAIL, RCPT and
#            end of message answering continue)
#   milter   relayguard-milter
#   policyd  relayguard-policyd (check_policy_service at RCPT)
#   postfwd  Debian's postfwd (postfwd2), a rate(sasl_username/...) rule
#   prl      Debian's policyd-rate-limit, sqlite backend, by SASL login
# relayguard runs the sample configuration's rules (none fires on this
# load: each login keeps one address, about three logins share one).
# Accepted mail is discarded (transport discard:) so that delivery does
# not blur the differences. The load: PEERS_SESSIONS SMTP sessions per
# contender and round (default 400), 20 at a time, one message each, an
# XCLIENT login drawn from 10,000 users; PEERS_ROUNDS rounds (default 7),
# the contenders in a new random order each round. Ratios are medians of
# the per-round ratios of messages per second; the added latency is a
# contender's latency percentile minus that of "none".
#
# Prints:
#   peers: policyd/none=… policyd/postfwd=… policyd/prl=… milter/null=… milter/none=…
#   latency added per message (ms): …
# plus the targets met or missed, the CPU each filter daemon used per
# message (robust where throughput is noisy: a shared machine), the load
# generator's CPU share and every contender's refusals (there must be none).
# Usage: bench/peers.sh [BUILD_DIR]
#   (PEERS_POLICYD=FILE, PEERS_MILTER=FILE: measure those binaries instead)

E2E_NAME=bench-peers
. "$(dirname -- "$0")/../tests/e2e/lib.sh"
. "$(dirname -- "$0")/../tests/e2e/relayguard.sh"

ROUNDS=${PEERS_ROUNDS:-7}
SESSIONS=${PEERS_SESSIONS:-400}
CONC=${PEERS_CONCURRENCY:-20}
USERS=${PEERS_USERS:-10000}
CONTENDERS="none null milter policyd postfwd prl"
LOAD=$RG_SRC/bench/peers_load.py
POLICYD=${PEERS_POLICYD:-}	# another relayguard-policyd binary to measure
[ -n "${PEERS_MILTER:-}" ] && RG_MILTER=$PEERS_MILTER	# another milter binary

e2e_init
for c in python3 postfwd2 policyd-rate-limit; do
    command -v "$c" >/dev/null || e2e_bail "missing $c (scripts/deps.sh)"
done
for v in NULL_PORT PD_PORT PFW_PORT PRL_PORT P_none P_null P_milter P_policyd \
    P_postfwd P_prl; do
    e2e_pick_port "$v" || e2e_bail "no free port"
done

# config - relayguard: the sample rules (etc/relayguard.conf), both front ends
config() {
    rg_config
    python3 - "$RG_SRC/etc/relayguard.conf" "$RG_CONF" "$PD_PORT" <<'PY'
import re, sys
sample, conf, port = sys.argv[1:4]
text = open(sample).read()
rules = re.search(r"\n  rules = \((.*?)\n  \);", text, re.S).group(1)
mine = open(conf).read()
mine = re.sub(r"  rules = \((.*?)\n  \);", lambda m: "  rules = (" + rules + "\n  );",
              mine, flags=re.S)
mine += 'policyd: { socket = "inet:%s@127.0.0.1"; max_connections = 1024; };\n' % port
open(conf, "w").write(mine)
# policyd keeps its own state file: a policyd of another build may count
# with another layout, and the milter's numbers stay the milter's
open(conf + ".policyd", "w").write(mine.replace('/state/state"', '/state/policyd-state"'))
PY
}

# peers_conf - postfwd's rule and policyd-rate-limit's configuration
peers_conf() {
    cat >"$E2E_DIR/postfwd.cf" <<EOF
id=RATE01; protocol_state==RCPT; sasl_username=~.
    action=rate(sasl_username/1000/3600/450 4.7.1 too many messages)
EOF
    mkdir -p "$E2E_DIR/prl"
    chown nobody:nogroup "$E2E_DIR/prl"
    cat >"$E2E_DIR/prl.yaml" <<EOF
debug: False
user: "nobody"
group: "nogroup"
pidfile: "$E2E_DIR/prl/prl.pid"
sqlite_config:
    database: "$E2E_DIR/prl/db.sqlite3"
backend: 0
SOCKET: ["127.0.0.1", $PRL_PORT]
limits:
    - [1000, 3600]
limits_by_id: {}
limit_by_sasl: True
limit_by_sender: False
limit_by_ip: False
limited_networks: []
success_action: "dunno"
fail_action: "defer_if_permit Rate limit reach, retry later"
db_error_action: "dunno"
report: False
delay_to_close: 300
EOF
}

# postfix_ports - one smtpd per contender; accepted mail is discarded
postfix_ports() {
    local c
    pf_create
    pf_set "default_transport = discard" "relay_transport = discard" \
        "smtpd_policy_service_default_action = 451 4.3.5 policy service unavailable" \
        "bench_policyd = check_policy_service inet:127.0.0.1:$PD_PORT" \
        "bench_postfwd = check_policy_service inet:127.0.0.1:$PFW_PORT" \
        "bench_prl = check_policy_service inet:127.0.0.1:$PRL_PORT" \
        "default_process_limit = 200"
    {
        echo "127.0.0.1:$P_none inet n - n - - smtpd"
        echo "127.0.0.1:$P_null inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$NULL_PORT"
        echo "127.0.0.1:$P_milter inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$MILTER_PORT"
        for c in policyd postfwd prl; do
            echo "127.0.0.1:$(port_of "$c") inet n - n - - smtpd -o smtpd_recipient_restrictions=\$bench_$c"
        done
    } >>"$PF_CONF/master.cf"
}

# port_of - NAME: the smtpd port of a contender
port_of() {
    local v=P_$1
    echo "${!v}"
}

# postfwd_start - postfwd2 as a daemon (its rate() needs the cache daemon,
# which --nodaemon leaves out); its master is stopped at exit like ours
postfwd_start() {
    local pid
    postfwd2 --nodns --noidlestats --norulestats \
        --server_socket "tcp:127.0.0.1:$PFW_PORT" --user nobody --group nogroup \
        --pidfile "$E2E_DIR/postfwd.pid" -f "$E2E_DIR/postfwd.cf" \
        >"$E2E_DIR/postfwd.log" 2>&1 </dev/null
    e2e_wait_until 20 test -s "$E2E_DIR/postfwd.pid" || e2e_bail "postfwd2 did not start"
    pid=$(cat "$E2E_DIR/postfwd.pid")
    e2e__record "$pid"
    E2E_BG_PIDS+=("$pid")
    E2E_BG_NAMES+=(postfwd)
    DAEMONS="$DAEMONS postfwd=$pid"
}

# start_all - the filters, then Postfix
start_all() {
    e2e_bg nullmilter "$E2E_BUILD/bench/nullmilter" "inet:$NULL_PORT@127.0.0.1"
    DAEMONS="null=$E2E_BG_PID"
    rg_start || e2e_bail "relayguard-milter did not start: $(tail -n 5 "$RG_LOG")"
    DAEMONS="$DAEMONS milter=$RG_PID"
    e2e_bg policyd "${POLICYD:-$E2E_BUILD/relayguard-policyd}" -f -c "$RG_CONF.policyd"
    DAEMONS="$DAEMONS policyd=$E2E_BG_PID"
    postfwd_start
    e2e_bg prl policyd-rate-limit --file "$E2E_DIR/prl.yaml"
    DAEMONS="$DAEMONS prl=$E2E_BG_PID"
    for p in "$NULL_PORT" "$PD_PORT" "$PFW_PORT" "$PRL_PORT"; do
        e2e_wait_until 20 eval "! e2e__port_free $p" || e2e_bail "nothing listens on $p"
    done
    postfix_ports
    pf_start || e2e_bail "private Postfix did not start"
    for c in $CONTENDERS; do
        e2e_wait_listen "$(port_of "$c")" || e2e_bail "smtpd of $c does not answer"
    done
}

# cpu_ticks - NAME=PID...: "NAME TICKS" per daemon, the CPU clock ticks of
# PID and every process below it (postfwd2 preforks its servers), the
# children already reaped included
cpu_ticks() {
    python3 - "$@" <<'PY'
import os, sys
kids = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            f = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kids.setdefault(int(f[1]), []).append((int(p), f))
def ticks(pid, f):
    t = sum(int(x) for x in f[11:15])
    return t + sum(ticks(c, g) for c, g in kids.get(pid, []))
for arg in sys.argv[1:]:
    name, pid = arg.split("=")
    try:
        f = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        print(name, ticks(int(pid), f))
    except OSError:
        print(name, 0)
PY
}

# load - NAME SESSIONS SEED: one run against a contender, JSON on stdout
load() {
    python3 "$LOAD" "$(port_of "$1")" "$2" "$CONC" "$USERS" "$3"
}

rg_geo || e2e_bail "cannot generate GeoIP test databases"
config
peers_conf
start_all
# Warm-up: every contender accepts every message of a short run.
for c in $CONTENDERS; do
    out=$(load "$c" 60 0)
    case $out in *'"fail": 0,'*) ;; *) e2e_bail "warm-up of $c failed: ${out:0:300}" ;; esac
done
RES=$E2E_DIR/results
mkdir -p "$RES"
cpu_ticks $DAEMONS >"$RES/cpu.before"
for ((r = 1; r <= ROUNDS; r++)); do
    for c in $(printf '%s\n' $CONTENDERS | shuf); do
        load "$c" "$SESSIONS" "$r" >"$RES/$r.$c.json"
    done
    echo "round $r of $ROUNDS done" >&2
done
cpu_ticks $DAEMONS >"$RES/cpu.after"
python3 "$RG_SRC/bench/peers_report.py" "$RES" "$ROUNDS" "$CONTENDERS"
refused=$(grep -c 'action=\(tempfail\|reject\|quarantine\|tag\)' "$RG_LOG" "$E2E_DIR/policyd.log" |
          awk -F: '{ s += $2 } END { print s + 0 }')
echo "relayguard verdicts other than accept: $refused"
exit 0	# the EXIT trap stops everything
