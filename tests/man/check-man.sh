#!/bin/sh
# check-man.sh - the man pages render without a warning and keep up with
# the code: every configuration key of policy/cfg.c's descriptor tables
# and every metric, action and applies_to word of policy/cfg_value.c has
# a tag (a ".B KEY" line) in relayguard.conf(5); every command of
# relayguardctl's table (ctl/ctl.c) has a ".SS COMMAND" section in
# relayguardctl(8), and every stats key and Prometheus series of
# ctl/cmd_stats.c is named there. The shipped configuration keeps up too:
# every key etc/relayguard.conf sets has a tag in relayguard.conf(5), and
# every "(why: docs/POLICY-RATIONALE.md#NAME)" of its comments has its
# "### NAME" section there.
#
# usage: check-man.sh [MANDIR]      (default man/; run from the source top)
#        check-man.sh --self-test   breaks copies of man/, the configuration
#                                   and the rationale six ways and expects
#                                   each to fail
set -u

# render - one page through man(1), warnings as errors; 0 if clean
render() {
    errf=$(mktemp)
    MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$1" >/dev/null 2>"$errf"
    rc=$?
    if [ $rc -ne 0 ] || [ -s "$errf" ]; then
        echo "man: $1: exit $rc" >&2
        sed 's/^/    /' "$errf" >&2
        rm -f "$errf"
        return 1
    fi
    rm -f "$errf"
    return 0
}

# tagged PAGE WORD - the page has a ".B WORD", ".BR WORD ..." or a
# "SECTION WORD" heading
tagged() {
    grep -Eq "^\.(B|BR|BI) \"?$2(\"|\$| )|^\.SH \"SECTION $2\"\$" "$1"
}

# cfg_keys - every key name of the descriptor tables
cfg_keys() {
    sed -n 's/^[[:space:]]*{"\([a-z_0-9]*\)", CFG_T_.*/\1/p' policy/cfg.c | sort -u
}

# vocab ARRAY - the words of one of cfg_value.c's name arrays
vocab() {
    sed -n "/^static const char \*const $1\[/,/^};/p" policy/cfg_value.c \
        | grep -o '"[a-z_]*"' | tr -d '"'
}

# conf_keys CONF - every key the configuration file sets (strings and
# comments dropped first: "fd00::/8" and "# e.g. x = 1" are no keys)
conf_keys() {
    sed -e 's/"[^"]*"//g' -e 's/#.*//' "$1" \
        | grep -o '[a-z_0-9][a-z_0-9]*[[:space:]]*[=:]' \
        | sed 's/[[:space:]]*[=:]$//' | sort -u
}

# why_links CONF - the NAMEs of the configuration's "(why: ...#NAME)"
why_links() {
    grep -o '(why: docs/POLICY-RATIONALE\.md#[^)]*)' "$1" \
        | sed 's/.*#\(.*\))$/\1/' | sort -u
}

# check_conf MANDIR CONF DOC - the configuration's keys have tags in the
# man page, its why-links sections in DOC; the number of failures
check_conf() {
    conf5="$1/relayguard.conf.5" bad=0
    for ck in $(conf_keys "$2"); do
        if ! tagged "$conf5" "$ck"; then
            echo "man: $conf5: no tag for \"$ck\", set in $2" >&2
            bad=$((bad + 1))
        fi
    done
    for cw in $(why_links "$2"); do
        if ! grep -q "^### $cw\$" "$3"; then
            echo "man: $2: (why: ...#$cw) has no \"### $cw\" in $3" >&2
            bad=$((bad + 1))
        fi
    done
    return $bad
}

# ctl_commands - the names of relayguardctl's command table
ctl_commands() {
    sed -n '/^static const struct cmddef cmds\[\]/,/^};/p' ctl/ctl.c \
        | sed -n 's/^[[:space:]]*{"\([a-z_]*\)", cmd_.*/\1/p'
}

# stats_names - JSON/table keys and Prometheus names of cmd_stats.c
stats_names() {
    sed -n 's/^[[:space:]]*{STATS_[A-Z_]*, "\([a-z_]*\)", "\([a-z_]*\)",.*/\1 \2/p' \
        ctl/cmd_stats.c | tr ' ' '\n'
    sed -n 's/^[[:space:]]*{"\([a-z_]*\)", "\(counter\|gauge\)",.*/\1/p' \
        ctl/cmd_stats.c
    grep -o 'prom_\(head\|actions\)([a-z>-]*, "[a-z_]*"' ctl/cmd_stats.c \
        | sed 's/.*"\([a-z_]*\)"$/\1/'
}

# check DIR - every check on the pages in DIR; the number of failures
check() {
    dir=$1 bad=0
    for p in "$dir"/*.[1-8]; do
        render "$p" || bad=$((bad + 1))
    done
    conf="$dir/relayguard.conf.5" ctl="$dir/relayguardctl.8"
    for k in $(cfg_keys) $(vocab action_names) $(vocab applies_names) \
             $(vocab metric_names); do
        if ! tagged "$conf" "$k"; then
            echo "man: $conf: no tag for \"$k\" (policy/cfg*.c)" >&2
            bad=$((bad + 1))
        fi
    done
    for c in $(ctl_commands); do
        if ! grep -q "^\.SS $c\$" "$ctl"; then
            echo "man: $ctl: no section for the command \"$c\"" >&2
            bad=$((bad + 1))
        fi
    done
    for s in $(stats_names); do
        if ! grep -Eq "(^|[^a-z_])${s}([^a-z_]|\$)" "$ctl"; then
            echo "man: $ctl: stats name \"$s\" not documented" >&2
            bad=$((bad + 1))
        fi
    done
    return $bad
}

# self_test - each kind of breakage must be caught
self_test() {
    t=$(mktemp -d) fails=0
    for how in macro key command stat; do
        rm -rf "$t/man"
        cp -r man "$t/man"
        case $how in
        macro)   printf '.NOSUCHMACRO x\n' >>"$t/man/relayguard-milter.8" ;;
        key)     sed -i '/^\.B lock_timeout$/d' "$t/man/relayguard.conf.5" ;;
        command) sed -i 's/^\.SS stats$/.SS statistics/' "$t/man/relayguardctl.8" ;;
        stat)    sed -i 's/store_owner_dead_total/store_owner_dead/' \
                     "$t/man/relayguardctl.8" ;;
        esac
        if check "$t/man" 2>/dev/null; then
            echo "man: self-test: a broken $how was not caught" >&2
            fails=$((fails + 1))
        fi
    done
    # the configuration: a key set there that the man page does not name,
    # and a why-link with no section
    for how in conf-key conf-why; do
        rm -rf "$t/man" && cp -r man "$t/man"
        cp etc/relayguard.conf "$t/conf" && cp docs/POLICY-RATIONALE.md "$t/doc"
        case $how in
        conf-key) sed -i 's/^\(  *\)dry_run = true;/\1dry_run = true; no_such_key = 1;/' "$t/conf" ;;
        conf-why) sed -i 's/^### coarse_km$/### coarse/' "$t/doc" ;;
        esac
        if check_conf "$t/man" "$t/conf" "$t/doc" 2>/dev/null; then
            echo "man: self-test: a broken $how was not caught" >&2
            fails=$((fails + 1))
        fi
    done
    rm -rf "$t"
    return $fails
}

command -v man >/dev/null 2>&1 || { echo "man: man(1) missing (man-db)" >&2; exit 1; }
if [ "${1:-}" = "--self-test" ]; then
    self_test && echo "man: self-test: 6 kinds of breakage caught"
    exit $?
fi
dir=${1:-man}
n=$(ls "$dir"/*.[1-8] | wc -l)
if check "$dir" && check_conf "$dir" etc/relayguard.conf docs/POLICY-RATIONALE.md; then
    echo "man: $n pages render cleanly; keys, commands and stats all documented;" \
         "etc/relayguard.conf's $(conf_keys etc/relayguard.conf | wc -l) keys tagged," \
         "its $(why_links etc/relayguard.conf | wc -l) why-links resolve"
    exit 0
fi
echo "man: FAILED" >&2
exit 1
