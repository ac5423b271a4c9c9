#!/bin/bash
# t_collector.sh - relayguard-collector on flows made by the real nfcapd
# (tests/collector/mkflows.sh: an IPFIX exporter sending the scenarios of
# tests/collector/scenarios.py to nfcapd on loopback):
#   - five days of history, then day D: every scenario gets its flag with
#     its evidence (rogue server, biflow and IPv6 rogues, the residence-
#     hall PC and its controller on 7629, the new mail server's jump from
#     5 to 14,000, the fan-out to 75 servers); whitelisted, failed-attempt
#     and web-only hosts are not flagged; the mail-clients table;
#   - the rogue list (atomic, one address per line with flag and time);
#   - whitelist add/list/remove and its effect;
#   - nfdump text and csv on standard input, malformed lines counted with
#     their line numbers; a truncated file's nfdump error is a warning;
#   - the history in SQLite (WAL), not counted twice.
# Usage: tests/e2e/t_collector.sh [BUILD_DIR]   (KEEP=1 keeps the temp dir)

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
e2e_need nfcapd nfdump python3 sqlite3
gen=$RG_FLOWGEN B=$RG_COLL D=$E2E_DIR
rg_analyze_conf "$D/c.conf"
cat >"$D/names" <<NAMES
10.20.0.25 mail.example.edu
10.20.2.2 mx2.example.edu
10.20.133.16 d133h16.resnet.example.edu
NAMES

# jq-like checks on the JSON document with python3: "EXPR" must be true
jcheck() {
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
F = {(f["host"], f["kind"]): f["evidence"] for f in d["flags"]}
sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"
}

e2e_assert_true "config check (-n) accepts the test configuration" "$B" -n -c "$D/c.conf"
"$B" >/dev/null 2>&1
e2e_assert_eq "$?" 64 "no command: usage (64), before any configuration is read"
sed 's/names_file/min_packets = 0; names_file/' "$D/c.conf" >"$D/bad.conf"
"$B" -n -c "$D/bad.conf" >"$D/bad.out" 2>&1
e2e_assert_eq "$?" 78 "a bad threshold is a configuration error (78)"
e2e_assert_file_match "$D/bad.out" 'bad.conf:[0-9]+: collector.flows.min_packets' \
    "the error names file, line and key"

sed 's/local_networks = \[[^]]*\];//' "$D/c.conf" >"$D/nolocal.conf"
"$B" -c "$D/nolocal.conf" analyze "$D" >"$D/nolocal.out" 2>&1
e2e_assert_eq "$?" 78 "analyze without local networks is a configuration error"
e2e_assert_file_match "$D/nolocal.out" 'local_networks is empty' "... and says why"

n=$("$gen/mkflows.sh" history "$D/hist") || e2e_bail "no history flows"
e2e_pass "history days through nfcapd: $n records"
n=$("$gen/mkflows.sh" main "$D/main") || e2e_bail "no day-D flows"
e2e_pass "day D through nfcapd: $n records"

"$B" -c "$D/c.conf" analyze --json "$D/hist" >"$D/hist.json"
e2e_assert_eq "$?" 0 "analyze of the history days"
e2e_assert_true "history days counted" jcheck "$D/hist.json" 'd["history_updated"]'

"$B" -c "$D/c.conf" analyze --json --report "$D/report.html" "$D/main" >"$D/main.json"
e2e_assert_eq "$?" 0 "analyze of day D"
want='{("10.20.1.7","rogue_server"),("10.20.1.8","rogue_server"),("fd00:20::7","rogue_server"),
("10.20.6.6","rogue_server"),("10.20.133.16","direct_sender"),("10.20.2.2","rogue_server"),
("10.20.2.2","volume_jump"),("10.20.3.3","direct_sender"),("10.20.3.3","fan_out"),
("10.20.7.7","rogue_server")}'
e2e_assert_true "exactly the expected flags" jcheck "$D/main.json" "set(F) == $want"
e2e_assert_true "rogue 10.20.1.7: 10 external clients, 30 connections" jcheck "$D/main.json" \
    'F[("10.20.1.7","rogue_server")]["external_clients"] == 10 and F[("10.20.1.7","rogue_server")]["connections"] == 30'
e2e_assert_true "biflow rogue 10.20.1.8 (records from the server): 4 clients, 30 connections" \
    jcheck "$D/main.json" 'F[("10.20.1.8","rogue_server")]["external_clients"] == 4 and F[("10.20.1.8","rogue_server")]["connections"] == 30'
e2e_assert_true "biflows over the threshold only in their out direction count (10.20.7.7)" \
    jcheck "$D/main.json" 'F[("10.20.7.7","rogue_server")]["connections"] == 5'
e2e_assert_true "IPv6 rogue fd00:20::7 with its 6 clients" jcheck "$D/main.json" \
    'F[("fd00:20::7","rogue_server")]["external_clients"] == 6'
e2e_assert_true "residence-hall PC: 2000 sends to 40 servers, controller 203.0.113.100 on 7629" \
    jcheck "$D/main.json" 'F[("10.20.133.16","direct_sender")]["connections"] == 2000 and F[("10.20.133.16","direct_sender")]["external_servers"] == 40 and F[("10.20.133.16","direct_sender")]["controller"]["peer"] == "203.0.113.100" and F[("10.20.133.16","direct_sender")]["controller"]["port"] == 7629'
e2e_assert_true "new mail server: 14000 against a baseline of 5 over 5 days" jcheck "$D/main.json" \
    'F[("10.20.2.2","volume_jump")]["connections"] == 14000 and F[("10.20.2.2","volume_jump")]["baseline"] == 5 and F[("10.20.2.2","volume_jump")]["baseline_days"] == 5'
e2e_assert_true "... and its byte volume: the day's bytes against the mean of the 5 days" \
    jcheck "$D/main.json" 'F[("10.20.2.2","volume_jump")]["bytes"] == 14000 * 2400 and F[("10.20.2.2","volume_jump")]["baseline_bytes"] == 5 * 2400'
e2e_assert_true "its name looks like mail, it served on 5 days before" jcheck "$D/main.json" \
    'F[("10.20.2.2","rogue_server")]["named_like_mail"] and F[("10.20.2.2","rogue_server")]["served_days"] == 5'
e2e_assert_true "fan-out: 75 servers within the minute" jcheck "$D/main.json" \
    'F[("10.20.3.3","fan_out")]["servers"] == 75'
e2e_assert_true "mail clients: the PC first with 2000 connections, the whitelisted server listed" \
    jcheck "$D/main.json" 'd["mail_clients"][0]["host"] == "10.20.133.16" and d["mail_clients"][0]["connections"] == 2000 and "10.20.0.25" in [c["host"] for c in d["mail_clients"]]'
e2e_assert_true "no malformed lines, no warnings" jcheck "$D/main.json" \
    'd["stats"]["malformed_lines"] == 0 and d["warnings"] == []'

"$B" -c "$D/c.conf" analyze "$D/main" >"$D/summary.txt"
e2e_assert_file_match "$D/summary.txt" "^flows read [0-9]+, SMTP flows with a local host [0-9]+ \\(not counted: [0-9]+ between two outside hosts; those under min_packets/min_bytes were left out by nfdump's filter\\), malformed lines 0, flags 10" \
    "summary: what the SMTP count holds (files: nfdump's filter dropped the small flows)"
e2e_assert_file_match "$D/summary.txt" '^  direct_sender +10\.20\.133\.16 +connections=2000 peers=40 name=d133h16' \
    "summary: one line per flag"
e2e_assert_file_match "$D/summary.txt" '^ +10\.20\.133\.16 +2000 +4884000 +2660000 +7544000$' \
    "summary: the local mail clients table"

# --- the rogue list ---------------------------------------------------------
e2e_assert_file_match "$D/rogue.list" '^10\.20\.1\.7 # rogue_server 2026-11-10T08:00:00Z expires=20[0-9T:-]*Z reason="flagged from flows"$' \
    "rogue list: address, flag, time, expiry and reason"
e2e_assert_file_match "$D/rogue.list" '^10\.20\.133\.16 # direct_sender ' "rogue list: the PC"
e2e_assert_false "rogue list: no whitelisted server" grep -q '^10\.20\.0\.25' "$D/rogue.list"
e2e_assert_eq "$(grep -vc '^#' "$D/rogue.list")" 8 "rogue list: 8 hosts"
e2e_assert_false "rogue list: no temporary file left" ls "$D"/rogue.list.tmp.*

# --- history ------------------------------------------------------------------
e2e_assert_eq "$(sqlite3 "$D/history.db" 'PRAGMA journal_mode')" wal "history in WAL mode"
e2e_assert_eq "$(sqlite3 "$D/history.db" "SELECT conns FROM host_day WHERE host = '10.20.2.2' AND day = 20767")" \
    14000 "history: 10.20.2.2 served 14000 on day D"
"$B" -c "$D/c.conf" analyze --json "$D/main" >"$D/again.json"
e2e_assert_true "the same file again: history not updated, flags the same" jcheck "$D/again.json" \
    "not d['history_updated'] and set(F) == $want"
e2e_assert_eq "$(sqlite3 "$D/history.db" "SELECT conns FROM host_day WHERE host = '10.20.2.2' AND day = 20767")" \
    14000 "history: not counted twice"

mkdir -p "$D/extra"
cp "$(ls "$D/hist"/nfcapd.* | head -n 1)" "$D/extra/nfcapd.202611060000"
"$B" -c "$D/c.conf" analyze --json "$D/hist" "$D/extra" >"$D/extra.json"
e2e_assert_true "a counted file and a new one: only the new one is added" jcheck "$D/extra.json" \
    'd["history_updated"] and any("only the 1 new" in w for w in d["warnings"])'
e2e_assert_eq "$(sqlite3 "$D/history.db" "SELECT conns FROM host_day WHERE host = '10.20.2.2' AND day = 20762")" \
    10 "history: the new file's 5 connections added to the day's 5"
sqlite3 "$D/history.db" "INSERT INTO host_day VALUES ('10.20.9.9', 1000, 1, 1, 0, 100, 3, 1, 1)"
"$B" -c "$D/c.conf" analyze "$D/main" >/dev/null
e2e_assert_eq "$(sqlite3 "$D/history.db" "SELECT count(*) FROM host_day WHERE day = 1000")" 0 \
    "history: rows older than the retention are deleted"
e2e_assert_eq "$(sqlite3 "$D/history.db" "SELECT count(*) FROM host_day WHERE day = 20767")" 10 \
    "history: ... and recent ones kept"

# --- whitelist ----------------------------------------------------------------
e2e_assert_true "whitelist add" "$B" -c "$D/c.conf" whitelist add 10.20.6.6 verified by the postmaster
"$B" -c "$D/c.conf" whitelist list >"$D/wl.out"
e2e_assert_file_match "$D/wl.out" '^10\.20\.0\.25/32 +config$' "whitelist list: configured entry"
e2e_assert_file_match "$D/wl.out" '^10\.20\.6\.6/32 +learned by=[^ ]+ at=20[0-9-]+T[0-9:]+Z reason="verified by the postmaster"$' \
    "whitelist list: learned entry with who, when, why"
"$B" -c "$D/c.conf" analyze --json "$D/main" >"$D/wl.json"
e2e_assert_true "a whitelisted host is not flagged" jcheck "$D/wl.json" \
    '("10.20.6.6","rogue_server") not in F and len(F) == 9'
e2e_assert_false "... nor on the rogue list" grep -q '^10\.20\.6\.6 ' "$D/rogue.list"
e2e_assert_true "whitelist remove" "$B" -c "$D/c.conf" whitelist remove 10.20.6.6/32
"$B" -c "$D/c.conf" whitelist remove 10.20.6.6/32 2>/dev/null
e2e_assert_eq "$?" 65 "removing it twice is a data error"

# --- standard input: fmt and csv, malformed lines ---------------------------
TZ=UTC nfdump -R "$D/main" -q -N -6 -o 'fmt:%tsr %td %pr %sa %sp %da %dp %ipkt %ibyt %opkt %obyt %flg %fl' \
    | sed -e '100i this is not a flow' -e '2000i 1794297601.000 0.9 6 10.20.1.7' >"$D/main.txt"
"$B" -c "$D/c.conf" analyze --json - <"$D/main.txt" >"$D/stdin.json"
e2e_assert_eq "$?" 0 "analyze - (nfdump fmt text on stdin)"
e2e_assert_true "stdin: two malformed lines, at 100 and 2001" jcheck "$D/stdin.json" \
    'd["stats"]["malformed_lines"] == 2 and [b["line"] for b in d["malformed"]] == [100, 2001]'
e2e_assert_true "stdin: the same flags" jcheck "$D/stdin.json" "set(F) == $want"
e2e_assert_true "stdin: the failed SYN/RST attempts are below the threshold" jcheck "$D/stdin.json" \
    'd["stats"]["below_threshold"] == 100 and d["stats"]["nfdump_filtered"] is False'
"$B" -c "$D/c.conf" analyze - <"$D/main.txt" >"$D/stdin.txt" 2>/dev/null
e2e_assert_file_match "$D/stdin.txt" '^flows read [0-9]+, SMTP flows with a local host [0-9]+ \(not counted: 100 under min_packets/min_bytes, [0-9]+ between two outside hosts\), malformed lines 2, flags 10' \
    "summary of stdin: the flows under the thresholds counted as left out"
e2e_assert_true "stdin: the controller is found too" jcheck "$D/stdin.json" \
    'F[("10.20.133.16","direct_sender")]["controller"]["port"] == 7629'
TZ=UTC nfdump -R "$D/main" -N -6 -o csv >"$D/main.csv"
"$B" -c "$D/c.conf" analyze --json - <"$D/main.csv" >"$D/csv.json"
e2e_assert_true "stdin csv (with its Summary trailer): the same flags, nothing malformed" \
    jcheck "$D/csv.json" "set(F) == $want and d['stats']['malformed_lines'] == 0"

# --- a truncated file ----------------------------------------------------------
f=$(ls "$D/main"/nfcapd.* | head -n 1)
head -c 300 "$f" >"$D/nfcapd.202611100000"
"$B" -c "$D/c.conf" analyze --json "$D/nfcapd.202611100000" >"$D/trunc.json"
e2e_assert_eq "$?" 0 "a truncated file is not fatal"
e2e_assert_true "... nfdump's complaint is a warning" jcheck "$D/trunc.json" \
    'any("nfdump" in w for w in d["warnings"]) and d["flags"] == []'

# --- the report -----------------------------------------------------------------
e2e_assert_file_match "$D/report.html" '<svg ' "report has inline SVG plots"
e2e_assert_file_match "$D/report.html" 'id="mail-clients"' "report has the mail-clients table"
e2e_assert_false "report loads nothing from outside" grep -Eq '(src|href)="(https?:)?//' "$D/report.html"
e2e_assert_false "report has no script" grep -qi '<script' "$D/report.html"

# --- run: the daemon follows the flow directory ------------------------------
mkdir -p "$D/spool"
sed -e "s|history.db|run.db|; s|report_dir = \"$D\"|report_dir = \"$D/reports\"|" \
    -e "s|flows: {|flows: { directory = \"$D/spool\";|" "$D/c.conf" >"$D/run.conf"
e2e_bg run "$B" -f -c "$D/run.conf" run
runpid=$E2E_BG_PID
cp "$(ls "$D/hist"/nfcapd.* | head -n 1)" "$D/spool/nfcapd.202611050900"
cp "$(ls "$D/main"/nfcapd.* | head -n 1)" "$D/spool/nfcapd.current.4242"
e2e_assert_true "run: the rotated file is analysed and reported" \
    e2e_wait_until 20 test -s "$D/reports/nfcapd.202611050900.html"
mv "$D/spool/nfcapd.current.4242" "$D/spool/nfcapd.202611100800"   # nfcapd rotates
e2e_assert_true "run: the next rotated file too" \
    e2e_wait_until 20 test -s "$D/reports/nfcapd.202611100800.html"
e2e_assert_file_match "$D/reports/nfcapd.202611100800.html" 'direct_sender.*10\.20\.133\.16' \
    "run: its report flags the PC"
# the daemon writes run.db while the test reads it (a correlation pass, the
# file's bookkeeping after its report): the reads wait for its lock
# instead of failing at once with "database is locked"
runq() { sqlite3 -cmd '.timeout 10000' "$D/run.db" "$1"; }
imported_two() { [ "$(runq 'SELECT count(*) FROM imported')" = 2 ]; }
e2e_wait_until 20 imported_two
e2e_assert_eq "$(runq 'SELECT count(*) FROM imported')" 2 \
    "run: two files counted, nfcapd.current never"
e2e_assert_eq "$(runq "SELECT conns FROM host_day WHERE host = '10.20.2.2' AND day = 20767")" \
    14000 "run: day D in the daemon's history"
e2e_assert_file_match "$D/run.log" 'analysed file=.*nfcapd\.202611100800 .*flags=10' "run: logs each file"
kill -TERM "$runpid"
gone() { ! e2e_alive "$1"; }
e2e_assert_true "run: stops on SIGTERM" e2e_wait_until 10 gone "$runpid"

# --- nfcapd -x: nfcapd runs the collector on each file it closes ------------
sed "s|history.db|x.db|" "$D/c.conf" >"$D/x.conf"
MKFLOWS_X="$B -c $D/x.conf analyze --report $D/x.html %d/%f" \
    "$gen/mkflows.sh" main "$D/xdir" >/dev/null
e2e_assert_true "nfcapd -x 'relayguard-collector ... analyze %d/%f' reports the closed file" \
    e2e_wait_until 30 test -s "$D/x.html"
e2e_assert_file_match "$D/x.html" 'direct_sender.*10\.20\.133\.16' "... with the PC flagged"

# --- the report in a real browser ------------------------------------------
if command -v chromium >/dev/null 2>&1; then
    chr="chromium --headless --no-sandbox --disable-gpu --user-data-dir=$D/chromium"
    timeout 90 $chr --window-size=1280,2400 --screenshot="$D/report.png" \
        "file://$D/report.html" >/dev/null 2>&1
    e2e_assert_true "chromium renders the report to a screenshot" test -s "$D/report.png"
    timeout 90 $chr --dump-dom "file://$D/report.html" 2>/dev/null >"$D/report.dom"
    python3 - "$D/report.dom" >"$D/report.txt" <<'PY'
import html.parser, sys
# one line per table row, cells joined by "|"; a table inside a cell (a
# flag's evidence) gives rows of its own, its text stays out of the cell
class T(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.rows = []; self.cells = []
    def handle_starttag(self, tag, a):
        if tag == "tr": self.rows.append([])
        if tag in ("td", "th") and self.rows: self.cells.append("")
    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cells: self.rows[-1].append(self.cells.pop().strip())
        if tag == "tr" and self.rows: print("|".join(self.rows.pop()))
    def handle_data(self, d):
        if self.cells: self.cells[-1] += d
T().feed(open(sys.argv[1]).read())
PY
    e2e_assert_file_match "$D/report.txt" '^direct_sender\|10\.20\.133\.16\|d133h16\.resnet\.example\.edu\|' \
        "rendered page: the PC in the flags table"
    e2e_assert_file_match "$D/report.txt" '^fan_out\|10\.20\.3\.3\|' "rendered page: the fan-out host"
    e2e_assert_file_match "$D/report.txt" '^external_servers\|[0-9]+$' \
        "rendered page: a flag's evidence as a table (key|value rows)"
    e2e_assert_file_match "$D/report.txt" '^10\.20\.133\.16\|2000\|4884000\|2660000\|7544000$' \
        "rendered page: the mail-clients row of the PC"
    e2e_assert_eq "$(grep -o '<svg' "$D/report.dom" | wc -l)" 16 "rendered page: two plots for each of the 8 flagged hosts"
else
    e2e_fail "chromium is missing (scripts/deps.sh installs it)"
fi

e2e_done
