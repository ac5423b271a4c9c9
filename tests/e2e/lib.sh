# lib.sh - private Postfix harness for relayguard end-to-end tests.
#
# Sourced (bash) by tests/e2e/t_*.sh and the demo.  It builds a throw-away
# Postfix instance in a temporary directory (its own main.cf/master.cf,
# queue, data directory and log file), an smtp-sink next hop that dumps
# every message to a file, and drives the instance with swaks through
# XCLIENT, so one loopback client can pose as any address with any SASL
# login.  Everything listens on 127.0.0.1 only.  The system Postfix
# (/etc/postfix/main.cf, /var/spool/postfix) is never written, and
# /etc/postfix/main.cf need not exist (postfix-script only looks there for
# multi_instance_directories); the package's own files (postfix-files in
# meta_directory, the daemons) are used read-only.
#
# Contract
#   - needs root (Postfix starts its master only as root) and the tools of
#     scripts/deps.sh; without them e2e_init skips the test (exit 77), or
#     fails it when CI=true or E2E_REQUIRE=1;
#   - every wait is bounded; every process started here is recorded and
#     stopped by an EXIT/INT/TERM/HUP trap; the temporary directory is
#     removed unless KEEP=1;
#   - assertions print "ok - ..." / "not ok - ..." and e2e_done prints
#     "e2e: N passed, M failed" (exit 1 when M > 0).
#
# Typical test:
#   . "$(dirname "$0")/lib.sh"
#   e2e_init
#   sink_start
#   pf_create                       # or: pf_create "inet:127.0.0.1:$MILTER_PORT"
#   pf_start
#   smtp_send -a 203.0.113.7 -l alice -s "hello"
#   e2e_assert_reply "$SW_RESULT" "250" "accepted"
#   pf_wait_queue_empty
#   e2e_assert_true "reached the sink" sink_find "$SW_ID"
#   e2e_done

# --- globals ---------------------------------------------------------------

E2E_PASS=0
E2E_FAIL=0
E2E_DIR=""
E2E_NAME=${E2E_NAME:-$(basename -- "$0")}
E2E_BUILD=${E2E_BUILD:-${1:-build}}
E2E_SEQ=0
E2E_PORTS_USED=" "
E2E_BG_PIDS=()
E2E_BG_NAMES=()
declare -gA E2E_START=()
E2E_LOG_MARK=0
PF_CONF=""
PF_QUEUE=""
PF_LOG=""
PF_MASTER_PID=""
PF_SASL=""
PF_CHECKED=""
SINK_DIR=""
SINK_PID=""
SMTP_PORT=""
SINK_PORT=""
MILTER_PORT=""

E2E_SWAKS_TIMEOUT=${E2E_SWAKS_TIMEOUT:-30}   # per SMTP read, seconds
E2E_START_TIMEOUT=${E2E_START_TIMEOUT:-15}   # daemon start-up, seconds
E2E_WAIT_TIMEOUT=${E2E_WAIT_TIMEOUT:-20}     # default for e2e_wait_until users
E2E_STOP_GRACE=${E2E_STOP_GRACE:-10}         # SIGTERM to SIGKILL, seconds

# Postfix lives in sbin; a non-login root shell may not have it.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin ;; esac
case ":$PATH:" in *:/sbin:*) ;; *) PATH=$PATH:/sbin ;; esac
export PATH

# --- output and assertions -----------------------------------------------

# e2e_diag - print diagnostic lines prefixed with "# " (stdin or args)
e2e_diag() {
    local cut='{ if (length($0) > 300) $0 = substr($0, 1, 300) "..."; print "# " $0 }'
    if [ $# -gt 0 ]; then
        printf '%s\n' "$@" | awk "$cut"
    else
        awk "$cut"
    fi
}

# e2e_pass - count and print a passed check
e2e_pass() {
    E2E_PASS=$((E2E_PASS + 1))
    printf 'ok - %s\n' "$1"
}

# e2e_fail - count and print a failed check, then optional diagnostics
e2e_fail() {
    E2E_FAIL=$((E2E_FAIL + 1))
    printf 'not ok - %s\n' "$1"
    shift
    [ $# -gt 0 ] && e2e_diag "$@"
    return 0
}

# e2e_assert_true - DESC CMD...: passes when CMD exits 0
e2e_assert_true() {
    local desc=$1; shift
    if "$@" >/dev/null 2>&1; then e2e_pass "$desc"
    else e2e_fail "$desc" "command failed: $*"; fi
}

# e2e_assert_false - DESC CMD...: passes when CMD exits non-zero
e2e_assert_false() {
    local desc=$1; shift
    if "$@" >/dev/null 2>&1; then e2e_fail "$desc" "command succeeded: $*"
    else e2e_pass "$desc"; fi
}

# e2e_assert_eq - GOT WANT DESC: string equality
e2e_assert_eq() {
    if [ "$1" = "$2" ]; then e2e_pass "$3"
    else e2e_fail "$3" "got:  '$1'" "want: '$2'"; fi
}

# e2e_assert_match - STRING ERE DESC: STRING matches the extended regex
e2e_assert_match() {
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then e2e_pass "$3"
    else e2e_fail "$3" "'$1'" "does not match /$2/"; fi
}

# e2e_assert_file_match - FILE ERE DESC: some line of FILE matches
e2e_assert_file_match() {
    if [ -f "$1" ] && grep -Eq -- "$2" "$1"; then e2e_pass "$3"
    else e2e_fail "$3" "no line of ${1:-<none>} matches /$2/"; fi
}

# e2e_assert_reply - REPLY PREFIX DESC: an SMTP reply starts with PREFIX
# ("250", "451 4.7.1", "550 5.7.1"); on failure shows the swaks transcript.
e2e_assert_reply() {
    case $1 in
    "$2"*) e2e_pass "$3" ;;
    *)  e2e_fail "$3" "got reply:  '$1'" "want prefix: '$2'"
        [ -n "${SW_OUT:-}" ] && [ -f "$SW_OUT" ] &&
            grep -E '^(<|\*\*\*| -> [A-Z]{4})' "$SW_OUT" |
                grep -vE '^<(-|\*\*) +[0-9]{3}-' | tail -n 14 | e2e_diag
        ;;
    esac
}

# e2e_done - print the summary line and exit (1 when anything failed)
e2e_done() {
    if [ $((E2E_PASS + E2E_FAIL)) -eq 0 ]; then
        e2e_fail "$E2E_NAME made no assertions"
    fi
    if [ -n "${E2E_RUNNER:-}" ]; then
        printf '# %s: %d passed, %d failed\n' "$E2E_NAME" "$E2E_PASS" "$E2E_FAIL"
    else
        printf 'e2e: %d passed, %d failed\n' "$E2E_PASS" "$E2E_FAIL"
    fi
    [ "$E2E_FAIL" -eq 0 ] && exit 0
    exit 1
}

# e2e_bail - REASON: record a failure and stop the test here
e2e_bail() {
    e2e_fail "$1 (giving up on $E2E_NAME)"
    e2e_done
}

# e2e_skip - REASON: skip the whole test (exit 77), or fail it under CI
e2e_skip() {
    if [ "${CI:-}" = true ] || [ -n "${E2E_REQUIRE:-}" ]; then
        e2e_fail "$E2E_NAME: cannot run: $1"
        e2e_done
    fi
    printf '# skip %s: %s\n' "$E2E_NAME" "$1"
    exit 77
}

# e2e_need - TOOL...: skip the test (as e2e_skip) unless every TOOL is on
# the PATH
e2e_need() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || e2e_skip "needs $c (scripts/deps.sh)"
    done
}

# --- waiting ---------------------------------------------------------------

# e2e__now_ms - wall clock in milliseconds
e2e__now_ms() {
    local t=${EPOCHREALTIME/[.,]/}
    printf '%s\n' $(( ${t:-$(date +%s%N | cut -c1-16)} / 1000 ))
}

# e2e_wait_until - TIMEOUT CMD...: poll CMD every 0.1 s until it exits 0;
# returns 1 once TIMEOUT seconds (integer) of wall time have passed, however
# long each try takes.  Never waits forever.
e2e_wait_until() {
    local deadline=$(( $(e2e__now_ms) + $1 * 1000 )); shift
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(e2e__now_ms)" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# --- ports -----------------------------------------------------------------

# e2e__port_free - PORT: can we bind 127.0.0.1:PORT right now?  No
# SO_REUSEADDR, so ports in TIME_WAIT count as busy too.
e2e__port_free() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
            LocalPort => $ARGV[0], Proto => "tcp", Listen => 1, ReuseAddr => 0);
        exit($s ? 0 : 1);' "$1"
}

# e2e_listening - PORT: does a TCP socket listen on PORT right now
# (ss -ltn)? Not "the port cannot be bound" (! e2e__port_free): a
# connection of an earlier run in TIME_WAIT on the port refuses the bind
# as well, with nothing listening.
e2e_listening() {
    ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q .
}

# e2e_port_free - PORT: nothing is bound to 127.0.0.1:PORT (so nothing
# listens there either)
e2e_port_free() {
    e2e__port_free "$1"
}

# e2e_pick_port - VAR: set VAR to a free TCP port on 127.0.0.1, below the
# kernel's ephemeral range and not handed out before in this test.
e2e_pick_port() {
    local lo=20000 hi=32000 eph_lo p i
    if read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null &&
       [ "$eph_lo" -gt 12000 ] 2>/dev/null; then
        hi=$((eph_lo - 1))
        [ "$hi" -le "$lo" ] && lo=10000
    fi
    for i in $(seq 1 200); do
        p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo) ))
        case $E2E_PORTS_USED in *" $p "*) continue ;; esac
        if e2e__port_free "$p"; then
            E2E_PORTS_USED="$E2E_PORTS_USED$p "
            printf -v "$1" '%s' "$p"
            return 0
        fi
    done
    echo "e2e: no free loopback port found" >&2
    return 1
}

# e2e__banner - PORT: connect to 127.0.0.1:PORT, succeed on a 220 banner
# within 3 s (then say QUIT).
e2e__banner() {
    perl -MIO::Socket::INET -e '
        $SIG{ALRM} = sub { exit 2 }; alarm 3;
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
            PeerPort => $ARGV[0], Proto => "tcp", Timeout => 2) or exit 1;
        my $l = <$s>; defined $l && $l =~ /^220[ -]/ or exit 3;
        print $s "QUIT\r\n"; exit 0;' "$1"
}

# e2e_wait_listen - PORT [TIMEOUT]: wait until an SMTP server on
# 127.0.0.1:PORT answers with a 220 banner
e2e_wait_listen() {
    e2e_wait_until "${2:-$E2E_START_TIMEOUT}" e2e__banner "$1"
}

# --- setup and cleanup -------------------------------------------------------

# e2e_require - check root and the tools; skip (or fail under CI) if absent
e2e_require() {
    local c meta
    [ "$(id -u)" = 0 ] || e2e_skip "needs root to start a private Postfix"
    for c in postfix postconf postqueue postsuper postcat smtp-sink swaks perl; do
        command -v "$c" >/dev/null 2>&1 || e2e_skip "missing $c (run make deps)"
    done
    getent passwd postfix >/dev/null || e2e_skip "no postfix user"
    getent passwd nobody >/dev/null || e2e_skip "no nobody user"
    getent group postdrop >/dev/null || e2e_skip "no postdrop group"
    meta=$(postconf -dh meta_directory 2>/dev/null)
    [ -f "${meta:-/etc/postfix}/postfix-files" ] ||
        e2e_skip "no ${meta:-/etc/postfix}/postfix-files (broken postfix package)"
}

# e2e_init - [NAME]: check prerequisites, make the temporary directory
# (E2E_DIR), pick SMTP_PORT, SINK_PORT and MILTER_PORT, install the trap.
e2e_init() {
    [ -n "${1:-}" ] && E2E_NAME=$1
    e2e_require
    E2E_DIR=$(mktemp -d "${E2E_TMPDIR:-/tmp}/rg-e2e.XXXXXX") || {
        echo "e2e: mktemp failed" >&2; exit 1; }
    # postfix (queue), nobody (sink) and postlogd must traverse it.
    chmod 755 "$E2E_DIR"
    trap e2e__cleanup EXIT
    # A reader that went away (tests/e2e/t_x.sh | less, then q) must not
    # kill the shell before its cleanup ran: writes just fail instead.
    trap '' PIPE
    trap 'exit 129' HUP
    trap 'exit 130' INT
    trap 'exit 143' TERM
    PF_CONF=$E2E_DIR/etc
    PF_QUEUE=$E2E_DIR/q
    PF_LOG=$E2E_DIR/maillog
    SINK_DIR=$E2E_DIR/sink
    e2e_pick_port SMTP_PORT && e2e_pick_port SINK_PORT &&
        e2e_pick_port MILTER_PORT || exit 1
    export E2E_DIR SMTP_PORT SINK_PORT MILTER_PORT
    case $E2E_BUILD in /*) ;; *) E2E_BUILD=$(cd "$E2E_BUILD" 2>/dev/null && pwd || echo "$E2E_BUILD") ;; esac
    [ -n "${KEEP:-}" ] && e2e_diag "KEEP=1: files stay in $E2E_DIR"
    return 0
}

# e2e__starttime - PID: print the process's start time (clock ticks since
# boot), which tells it apart from a later process with the same pid
e2e__starttime() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
}

# e2e__record - PID: note PID and its start time in E2E_START and in
# $E2E_DIR/pids (for run.sh, should this test be killed before its trap
# runs), so that only that very process is ever signalled
e2e__record() {
    local st
    st=$(e2e__starttime "$1")
    [ -n "$st" ] || return 0
    E2E_START[$1]=$st
    printf '%s %s\n' "$1" "$st" >>"$E2E_DIR/pids"
}

# e2e__ours - PID: is PID still the process we started (not a reused pid)?
e2e__ours() {
    [ -n "${E2E_START[$1]:-}" ] && [ "$(e2e__starttime "$1")" = "${E2E_START[$1]}" ]
}

# e2e_bg - NAME CMD...: start CMD in the background (output in
# $E2E_DIR/NAME.log); it is stopped at exit.  Sets E2E_BG_PID.  CMD must
# stay in the foreground (e.g. the milter's -f) and be the process to stop
# (only that pid is signalled, not children it forks).
e2e_bg() {
    local name=$1; shift
    "$@" >"$E2E_DIR/$name.log" 2>&1 </dev/null &
    E2E_BG_PID=$!
    e2e__record "$E2E_BG_PID"
    E2E_BG_PIDS+=("$E2E_BG_PID")
    E2E_BG_NAMES+=("$name")
}

# e2e__alive - PID: is PID a live (non-zombie) process?
e2e__alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case $st in Z*|"") return 1 ;; esac
    return 0
}

# e2e_alive - PID: is PID a live (non-zombie) process?
e2e_alive() {
    e2e__alive "$1"
}

# e2e_bg_stop - PID [SIGNAL]: signal a process started by e2e_bg or
# sink_start (default TERM), wait up to E2E_STOP_GRACE (10) seconds for it
# to go, then SIGKILL.  A libmilter milter needs about 5.6 s to return from
# smfi_main() after SIGTERM (its listener's poll timeout), so the grace
# must be longer than that.  A pid that is no longer that process is left
# alone.
e2e_bg_stop() {
    local pid=$1 sig=${2:-TERM}
    [ -n "$pid" ] || return 0
    if e2e__ours "$pid"; then
        kill -s "$sig" "$pid" 2>/dev/null
        e2e_wait_until "$E2E_STOP_GRACE" eval '! e2e__ours '"$pid"' || ! e2e__alive '"$pid" ||
            { e2e__ours "$pid" && kill -s KILL "$pid" 2>/dev/null; }
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# e2e__cleanup - EXIT trap: stop Postfix, background processes and the
# sink, show the mail log when something failed, remove E2E_DIR.
e2e__cleanup() {
    local rc=$? i
    trap - EXIT HUP INT TERM
    [ -n "$E2E_DIR" ] || exit "$rc"
    pf_stop >/dev/null 2>&1
    for i in "${!E2E_BG_PIDS[@]}"; do
        e2e_bg_stop "${E2E_BG_PIDS[$i]}"
    done
    sink_stop
    if [ "$E2E_FAIL" -gt 0 ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; }; then
        if [ -s "$PF_LOG" ]; then
            e2e_diag "last lines of $PF_LOG:"
            tail -n 30 "$PF_LOG" | e2e_diag
        fi
        for i in "${!E2E_BG_NAMES[@]}"; do
            [ -s "$E2E_DIR/${E2E_BG_NAMES[$i]}.log" ] || continue
            e2e_diag "last lines of ${E2E_BG_NAMES[$i]}.log:"
            tail -n 15 "$E2E_DIR/${E2E_BG_NAMES[$i]}.log" | e2e_diag
        done
    fi
    if [ -n "${KEEP:-}" ]; then
        e2e_diag "kept $E2E_DIR"
    else
        rm -rf -- "$E2E_DIR"
    fi
    exit "$rc"
}

# --- Postfix instance ----------------------------------------------------------

# pf_create - [MILTERS]: write $PF_CONF/main.cf and master.cf for a private
# instance: smtpd on 127.0.0.1:$SMTP_PORT, every message relayed to the sink
# on 127.0.0.1:$SINK_PORT, XCLIENT allowed from 127.0.0.0/8.  MILTERS is an
# smtpd_milters value ("inet:127.0.0.1:$MILTER_PORT"); empty means none.
# Relaying: clients in mynetworks (127.0.0.0/8) or with an XCLIENT LOGIN
# may send anywhere, others only to example.net; with PF_SASL=no (no Cyrus
# SASL mechanisms installed) anyone may relay.  Sets PF_SASL.  Change more
# settings with pf_set before pf_start.
pf_create() {
    local milters=${1:-} protos=ipv4 relay_domains
    mkdir -p "$PF_CONF" "$SINK_DIR" || return 1
    mkdir -p -m 755 "$PF_QUEUE" || return 1   # postfix(1) chdirs here first
    chown nobody "$SINK_DIR"
    # XCLIENT ADDR=IPV6:... is refused ("501 5.5.4 Bad ADDR syntax")
    # unless inet_protocols includes ipv6; use it where ::1 exists.
    grep -q ' lo$' /proc/net/if_inet6 2>/dev/null && protos=all
    pf__sasl_setup
    cat >"$PF_CONF/main.cf" <<EOF || return 1
# Private Postfix instance for relayguard end-to-end tests (tests/e2e/lib.sh).
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $E2E_DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.e2e.test
mydomain = e2e.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery in e2e tests
alias_maps =
alias_database =
biff = no
inet_interfaces = loopback-only
inet_protocols = $protos
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$SINK_PORT
default_transport = smtp:[127.0.0.1]:$SINK_PORT
relay_transport = relay:[127.0.0.1]:$SINK_PORT
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtpd_authorized_xclient_hosts = 127.0.0.0/8
# XCLIENT LOGIN= sets the SASL login (milters get {auth_authen} and
# {auth_type}=XCLIENT either way), but permit_sasl_authenticated honours it
# only when SASL is enabled (PF_SASL, see pf__sasl_setup).
smtpd_sasl_auth_enable = $PF_SASL
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
relay_domains = $relay_domains
smtpd_milters = $milters
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 15s
maillog_file = $PF_LOG
maillog_file_prefixes = $E2E_DIR
# Fast retries, no artificial slow-downs, bounded lifetimes.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
delay_warning_time = 0
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_timeout = 60s
EOF
    # No service runs chrooted (5th column "n").
    cat >"$PF_CONF/master.cf" <<EOF || return 1
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf__sasl_setup - set PF_SASL (yes/no) and relay_domains for pf_create.
# smtpd_sasl_auth_enable = yes needs Cyrus SASL mechanism plugins
# (libsasl2-modules, only a Recommends of Postfix): without them every
# smtpd dies with "fatal: no SASL authentication mechanisms".  Then SASL
# stays off, milters still see the XCLIENT login, and every domain is a
# relay domain so that logged-in clients can still relay (so can anyone).
# E2E_SASL=yes|no forces the choice.
pf__sasl_setup() {
    local f
    PF_SASL=${E2E_SASL:-}
    if [ -z "$PF_SASL" ]; then
        PF_SASL=no
        for f in /usr/lib/*/sasl2/lib*.so* /usr/lib/sasl2/lib*.so*; do
            case $f in *'*'*|*/libsasldb.so*) continue ;; esac
            PF_SASL=yes
            break
        done
    fi
    if [ "$PF_SASL" = yes ]; then
        relay_domains=example.net
    else
        relay_domains=static:ALL
        e2e_diag "no Cyrus SASL mechanisms (libsasl2-modules): SASL off, open relay"
    fi
}

# pf_set - 'name = value'...: change main.cf (postconf -e); takes effect
# at the next pf_start / pf_restart
pf_set() {
    postconf -c "$PF_CONF" -e "$@"
}

# pf_get - NAME: print the instance's value of a main.cf parameter
pf_get() {
    postconf -c "$PF_CONF" -h "$1"
}

# pf__master_pid - print the running master's pid (from the queue's pid file)
pf__master_pid() {
    local pid
    [ -f "$PF_QUEUE/pid/master.pid" ] || return 1
    read -r pid <"$PF_QUEUE/pid/master.pid" || return 1
    [ -n "$pid" ] && e2e__alive "$pid" || return 1
    # A stale pid file may name a reused pid: our master has our MAIL_CONFIG.
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null |
        grep -qxF "MAIL_CONFIG=$PF_CONF" || return 1
    printf '%s\n' "$pid"
}

# pf_running - is this instance's master running?
pf_running() {
    pf__master_pid >/dev/null
}

# pf_start - check (first time only) and start the instance, wait for its
# smtpd banner.  Sets PF_MASTER_PID.  Returns 1 (with diagnostics) if it
# does not come up.
pf_start() {
    if [ -z "${PF_CHECKED:-}" ] &&
       ! postfix -c "$PF_CONF" check >"$E2E_DIR/pf-check.log" 2>&1; then
        e2e_diag "postfix check failed:"; e2e_diag <"$E2E_DIR/pf-check.log"
        if [ -s "$PF_LOG" ]; then
            tail -n 10 "$PF_LOG" | e2e_diag
        else
            # It cannot even log when maillog_file is outside the prefixes.
            e2e_diag "no $PF_LOG: is maillog_file under maillog_file_prefixes?"
        fi
        return 1
    fi
    PF_CHECKED=1
    # "postfix start" would run the same checks again (about 2 s on a busy
    # machine); its quick-start file, as left by "postfix quick-stop",
    # skips them.  Configuration errors still show: the master refuses to
    # start, or the banner probe below finds no working smtpd.
    : >"$PF_QUEUE/quick-start"
    if ! postfix -c "$PF_CONF" start >"$E2E_DIR/pf-start.log" 2>&1; then
        e2e_diag "postfix start failed:"; e2e_diag <"$E2E_DIR/pf-start.log"
        [ -f "$PF_LOG" ] && tail -n 10 "$PF_LOG" | e2e_diag
        return 1
    fi
    PF_MASTER_PID=$(pf__master_pid)
    if ! e2e_wait_listen "$SMTP_PORT"; then
        e2e_diag "postfix smtpd on 127.0.0.1:$SMTP_PORT does not answer"
        [ -f "$PF_LOG" ] && grep -E 'fatal|panic|error|warning' "$PF_LOG" | tail -n 10 | e2e_diag
        return 1
    fi
}

# pf__group_left - PGID: live (non-zombie) processes in process group PGID
pf__group_left() {
    ps -e -o pid=,pgid=,stat= | awk -v g="$1" '$2 == g && $3 !~ /^Z/ { print $1 }'
}

# pf_stop - stop the instance the way "postfix stop" does (SIGTERM to the
# master, which takes its children along) without its 1 s polling sleep;
# after 5 s SIGKILL whatever is left in the master's process group (the
# master is a group leader; its children share the group).  Safe to call
# twice.
pf_stop() {
    local pid pgid left
    [ -n "$PF_QUEUE" ] || return 0
    pid=$(pf__master_pid) || pid=""
    # Children of a master that died stay in its group: stop them too.
    pgid=${pid:-${PF_MASTER_PID:-}}
    PF_MASTER_PID=""
    [ -n "$pgid" ] || return 0
    [ -n "$pid" ] && kill -s TERM "$pid" 2>/dev/null
    if ! e2e_wait_until 5 eval '[ -z "$(pf__group_left '"$pgid"')" ]'; then
        left=$(pf__group_left "$pgid")
        [ -n "$left" ] && kill -s KILL $left 2>/dev/null
    fi
    return 0
}

# pf_restart - stop and start again (new main.cf settings, fresh smtpd
# processes: unlike "postfix reload", no old smtpd can take a connection)
pf_restart() {
    pf_stop && pf_start
}

# --- queue ---------------------------------------------------------------------

# pf_queue_json - postqueue -j of the instance (one JSON object per line)
pf_queue_json() {
    postqueue -c "$PF_CONF" -j
}

# pf_queue_list - [QUEUE]: print "queue_name queue_id" per queued message,
# optionally only those in QUEUE (hold, deferred, active, incoming, maildrop)
pf_queue_list() {
    pf_queue_json | sed -n 's/^{"queue_name": "\([a-z]*\)", "queue_id": "\([0-9A-Za-z]*\)".*/\1 \2/p' |
        awk -v q="${1:-}" 'q == "" || $1 == q'
}

# pf_queue_count - [QUEUE]: number of queue files, counted on disk (works
# while Postfix is stopped).  No QUEUE: all of incoming, active, deferred,
# hold, maildrop.
pf_queue_count() {
    local q dirs
    if [ -n "${1:-}" ]; then dirs=$1; else dirs="incoming active deferred hold maildrop"; fi
    for q in $dirs; do
        [ -d "$PF_QUEUE/$q" ] && find "$PF_QUEUE/$q" -type f
    done | wc -l
}

# pf_queue_of - ID: print the queue ID is in (empty if not queued)
pf_queue_of() {
    pf_queue_list | awk -v id="$1" '$2 == id { print $1 }'
}

# pf_postcat - ID [postcat options]: show a queued message (postcat -q)
pf_postcat() {
    local id=$1; shift
    postcat -c "$PF_CONF" "$@" -q "$id"
}

# pf_release - ID|ALL: release from hold (postsuper -H), then flush
pf_release() {
    postsuper -c "$PF_CONF" -H "$1" && pf_flush
}

# pf_hold - ID|ALL: put on hold (postsuper -h)
pf_hold() {
    postsuper -c "$PF_CONF" -h "$1"
}

# pf_delete - ID|ALL: delete from the queue (postsuper -d)
pf_delete() {
    postsuper -c "$PF_CONF" -d "$1"
}

# pf_flush - attempt delivery of all deferred mail now (postqueue -f)
pf_flush() {
    postqueue -c "$PF_CONF" -f
}

# pf__in_flight_empty - nothing in incoming, active, deferred or maildrop
pf__in_flight_empty() {
    [ "$(pf_queue_count "incoming active deferred maildrop")" -eq 0 ]
}

# pf_wait_queue_empty - [TIMEOUT]: wait until no message is in flight
# (incoming/active/deferred/maildrop; hold does not count).  1 on timeout.
pf_wait_queue_empty() {
    e2e_wait_until "${1:-$E2E_WAIT_TIMEOUT}" pf__in_flight_empty
}

# pf_wait_queue_count - QUEUE N [TIMEOUT]: wait until QUEUE holds N files
pf_wait_queue_count() {
    e2e_wait_until "${3:-$E2E_WAIT_TIMEOUT}" eval '[ "$(pf_queue_count '"$1"')" -eq '"$2"' ]'
}

# --- mail log ------------------------------------------------------------------

# pf_log_mark - remember the log's current end; pf_log_since and
# pf_wait_log then look only at later lines
pf_log_mark() {
    E2E_LOG_MARK=$(stat -c %s "$PF_LOG" 2>/dev/null || echo 0)
}

# pf_log_since - print the mail log after the last pf_log_mark
pf_log_since() {
    [ -f "$PF_LOG" ] && tail -c +$((E2E_LOG_MARK + 1)) "$PF_LOG"
}

# pf_log_grep - ERE: lines of the log (since the mark) matching ERE
pf_log_grep() {
    pf_log_since | grep -E -- "$1"
}

# pf_wait_log - ERE [TIMEOUT]: wait until the log (since the mark) has a
# line matching ERE (postlogd writes asynchronously)
pf_wait_log() {
    e2e_wait_until "${2:-$E2E_WAIT_TIMEOUT}" pf_log_grep "$1"
}

# pf_wait_delivered - QUEUEID [TIMEOUT]: wait for "QUEUEID: to=<...>
# status=sent" in the log
pf_wait_delivered() {
    e2e_wait_until "${2:-$E2E_WAIT_TIMEOUT}" grep -Eq -- "$1: to=<.*status=sent" "$PF_LOG"
}

# --- smtp-sink next hop ----------------------------------------------------------

# sink_start - [smtp-sink options]: start smtp-sink on 127.0.0.1:$SINK_PORT,
# one file per message in $SINK_DIR; waits for its banner.  Extra options
# (e.g. -r RCPT for 4xx replies) go before the address.
sink_start() {
    mkdir -p "$SINK_DIR" && chown nobody "$SINK_DIR" || return 1
    smtp-sink -u nobody -d "$SINK_DIR/%H%M%S." "$@" "127.0.0.1:$SINK_PORT" 100 \
        >"$E2E_DIR/sink.log" 2>&1 </dev/null &
    SINK_PID=$!
    e2e__record "$SINK_PID"
    if ! e2e_wait_listen "$SINK_PORT"; then
        e2e_diag "smtp-sink on 127.0.0.1:$SINK_PORT does not answer"
        e2e_diag <"$E2E_DIR/sink.log"
        return 1
    fi
}

# sink_stop - stop smtp-sink (safe to call twice)
sink_stop() {
    [ -n "$SINK_PID" ] || return 0
    e2e_bg_stop "$SINK_PID"
    SINK_PID=""
}

# sink_count - number of messages the sink has received
sink_count() {
    [ -d "$SINK_DIR" ] || { echo 0; return; }
    find "$SINK_DIR" -type f | wc -l
}

# sink_find - STRING: print the sink file(s) containing STRING (fixed
# string, e.g. a message's SW_ID or a unique Subject); 1 if none
sink_find() {
    [ -d "$SINK_DIR" ] || return 1
    find "$SINK_DIR" -type f -exec grep -lF -- "$1" {} + | grep .
}

# sink_wait_count - N [TIMEOUT]: wait until the sink has at least N messages
sink_wait_count() {
    e2e_wait_until "${2:-$E2E_WAIT_TIMEOUT}" eval '[ "$(sink_count)" -ge '"$1"' ]'
}

# sink_wait_find - STRING [TIMEOUT]: wait until a sink message contains STRING
sink_wait_find() {
    e2e_wait_until "${2:-$E2E_WAIT_TIMEOUT}" sink_find "$1"
}

# sink_clear - forget every message received so far
sink_clear() {
    [ -d "$SINK_DIR" ] && find "$SINK_DIR" -type f -delete
    return 0
}

# --- sending with swaks -------------------------------------------------------------

# smtp_send - send one message to the instance with swaks.
#   -a ADDR     XCLIENT ADDR (IPv4, or IPV6:2001:db8::1); NAME is then
#               [UNAVAILABLE] unless -n is given
#   -l LOGIN    XCLIENT LOGIN (the SASL login the milter sees)
#   -n NAME     XCLIENT NAME (client host name)
#   -e HELO     HELO/EHLO name (default client.e2e.test)
#   -f FROM     envelope sender (default sender@example.org)
#   -t TO       recipient (repeatable; default rcpt@example.net)
#   -s SUBJECT  Subject header
#   -H HEADER   extra header line "Name: value" (repeatable)
#   -b BODY     message body
#   -q PHASE    swaks --quit-after (e.g. rcpt)
#   -- ARGS     passed to swaks as they are (e.g. --xclient 'raw attrs')
# Sets:
#   SW_ID      unique id, also sent as header "X-E2E-Id: SW_ID"
#   SW_OUT     file with the full swaks transcript;  SW_RC  swaks' exit code
#   SW_BANNER SW_XCLIENT SW_EHLO SW_MAIL SW_RCPT SW_DATA SW_DOT
#              last reply line ("451 4.7.1 ...") to each phase, "" if not
#              reached; SW_RCPT is the last RCPT's reply, SW_RCPTS all of
#              them, one per line; SW_DOT is the reply at end of data
#   SW_RESULT  the first 4xx/5xx reply of the session (before QUIT), else
#              SW_DOT: what the message finally got
#   SW_QUEUEID the queue id from "250 ... queued as ID", or ""
#   SW_ERROR   swaks' own "***" error lines, if any
# Returns swaks' exit code.
smtp_send() {
    local addr="" login="" name="" helo=client.e2e.test from=sender@example.org
    local subject="" body="" quit="" opt k v
    local -a tos=() hdrs=() extra=() args=()
    while [ $# -gt 0 ]; do
        opt=$1
        case $opt in
        --) shift; extra=("$@"); break ;;
        -a|-l|-n|-e|-f|-t|-s|-H|-b|-q)
            [ $# -ge 2 ] || { echo "smtp_send: $opt needs a value" >&2; return 1; }
            v=$2; shift 2
            case $opt in
            -a) addr=$v ;;    -l) login=$v ;;    -n) name=$v ;;
            -e) helo=$v ;;    -f) from=$v ;;     -t) tos+=("$v") ;;
            -s) subject=$v ;; -H) hdrs+=("$v") ;; -b) body=$v ;;
            -q) quit=$v ;;
            esac ;;
        *) echo "smtp_send: unknown option $opt" >&2; return 1 ;;
        esac
    done
    [ ${#tos[@]} -gt 0 ] || tos=(rcpt@example.net)
    E2E_SEQ=$((E2E_SEQ + 1))
    SW_ID="${E2E_NAME%.sh}-$$-$E2E_SEQ-$RANDOM"
    SW_OUT=$E2E_DIR/swaks.$E2E_SEQ.out
    args=(--server "127.0.0.1:$SMTP_PORT" --timeout "$E2E_SWAKS_TIMEOUT"
          --helo "$helo" --from "$from" --to "$(IFS=,; echo "${tos[*]}")"
          --add-header "X-E2E-Id: $SW_ID")
    [ -n "$addr" ] && [ -z "$name" ] && name='[UNAVAILABLE]'
    [ -n "$addr" ] && args+=(--xclient-addr "$addr")
    [ -n "$name" ] && args+=(--xclient-name "$name")
    [ -n "$login" ] && args+=(--xclient-login "$login")
    [ -n "$subject" ] && args+=(--header "Subject: $subject")
    for v in "${hdrs[@]}"; do args+=(--add-header "$v"); done
    [ -n "$body" ] && args+=(--body "$body")
    [ -n "$quit" ] && args+=(--quit-after "$quit")
    timeout -k 5 $((E2E_SWAKS_TIMEOUT * 6)) \
        swaks "${args[@]}" "${extra[@]}" >"$SW_OUT" 2>&1 </dev/null
    SW_RC=$?
    SW_BANNER="" SW_XCLIENT="" SW_EHLO="" SW_MAIL="" SW_RCPT="" SW_RCPTS=""
    SW_DATA="" SW_DOT="" SW_RESULT="" SW_QUEUEID="" SW_ERROR=""
    while IFS=$'\t' read -r k v; do
        case $k in
        BANNER|XCLIENT|EHLO|MAIL|RCPT|DATA|DOT|RESULT|QUEUEID|ERROR)
            printf -v "SW_$k" '%s' "$v" ;;
        RCPTS) SW_RCPTS="${SW_RCPTS:+$SW_RCPTS$'\n'}$v" ;;
        esac
    done < <(smtp__parse "$SW_OUT")
    return "$SW_RC"
}

# smtp__parse - FILE: turn a swaks transcript into "PHASE<TAB>reply" lines.
# Client lines start " -> ", server replies "<- " (expected) or "<**"
# (unexpected); the body after a 354 is skipped up to the lone ".".
smtp__parse() {
    awk '
    function emit(k, v) { gsub(/[\t\r]/, " ", v); print k "\t" v }
    BEGIN { phase = "BANNER"; indata = 0; result = ""; dot = "" }
    /^ -> / {
        cmd = substr($0, 5)
        if (indata) { if (cmd == ".") { phase = "DOT"; indata = 0 }; next }
        if (cmd ~ /^XCLIENT( |$)/)            phase = "XCLIENT"
        else if (cmd ~ /^(EHLO|HELO|LHLO) /) phase = "EHLO"
        else if (cmd ~ /^MAIL FROM:/)         phase = "MAIL"
        else if (cmd ~ /^RCPT TO:/)           phase = "RCPT"
        else if (cmd == "DATA")               phase = "DATA"
        else if (cmd == "QUIT")               phase = "QUIT"
        else                                  phase = "OTHER"
        next
    }
    /^<(-|\*\*) / {
        line = substr($0, 4); sub(/^ +/, "", line)
        if (line !~ /^[0-9][0-9][0-9]/) next
        if (substr(line, 4, 1) == "-") next      # not the last line yet
        if (phase == "OTHER") next
        emit(phase, line)
        if (phase == "RCPT") emit("RCPTS", line)
        if (phase == "DATA" && line ~ /^354/) indata = 1
        if (phase == "DOT") {
            dot = line
            if (match(line, /queued as [0-9A-Za-z]+/))
                emit("QUEUEID", substr(line, RSTART + 10, RLENGTH - 10))
        }
        if (result == "" && phase != "QUIT" && line ~ /^[45]/) result = line
        next
    }
    /^\*\*\* / { emit("ERROR", substr($0, 5)) }
    END { emit("RESULT", result != "" ? result : dot) }
    ' "$1"
}
