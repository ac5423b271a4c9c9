#!/bin/sh
# bench_replay.sh - relayguardctl replay over a generated Postfix log:
# LINES lines (default 5,000,000: about a month at a 10,000-user site),
# end to end (read, parse, join, engine, report). Prints lines/s and the
# peak memory (maximum resident set size). A figure, not a test.
# usage: bench/bench_replay.sh BUILD_DIR [LINES]          (make bench-replay)
set -eu
build=$1 lines=${2:-5000000}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/rg-bench-replay.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM

perl "$here/tests/geoip/make-test-db.pl" "$tmp" >/dev/null
cat >"$tmp/bench.conf" <<CONF
state: { path = "/nonexistent"; max_users = 20000; max_clients = 20000; ips_per_user = 16; };
geoip: { city_db = "$tmp/GeoLite2-City.mmdb"; asn_db = "$tmp/GeoLite2-ASN.mmdb"; };
networks: { internal = [ "10.0.0.0/8" ]; trusted = [ "127.0.0.0/8" ]; };
policy: { rules = (
  { name = "many-countries"; applies_to = "authenticated"; metric = "distinct_countries";
    window = "10m"; limit = 3; action = "tempfail"; block_for = "1h"; },
  { name = "impossible-travel"; applies_to = "authenticated"; metric = "travel_kmh";
    limit = 1000; action = "quarantine"; },
  { name = "user-messages"; applies_to = "authenticated"; metric = "messages";
    window = "1h"; limit = 40; action = "tempfail"; },
  { name = "user-recipients"; applies_to = "authenticated"; metric = "recipients";
    window = "1h"; limit = 200; action = "tempfail"; },
  { name = "internal-burst"; applies_to = "internal"; metric = "messages";
    window = "10m"; limit = 100; action = "tempfail"; block_for = "1h"; }
); };
CONF

# A month of 10,000 logins, in time order as syslog writes it: 7 lines a
# message; one login in a hundred is driven from abroad now and then.
echo "bench-replay: generating $lines lines"
perl -e '
    use POSIX qw(strftime);
    my ($want, $t, $n, $q) = ($ARGV[0], 1764547200, 0, 0);
    srand(7);
    while ($n < $want) {
        $t += int(rand(8));
        my $u = int(rand(10000));
        my $ip = $u % 100 == 0 && rand() < 0.2
            ? "198.18." . (1 + int(rand(12))) . "." . int(rand(250))
            : "198.18.3." . ($u % 250);
        my $ts = strftime("%b %e %H:%M:%S", gmtime($t));
        my $id = sprintf("%X", 0x10000000 + $q++);
        my $r = 1 + int(rand(3));
        print "$ts mx postfix/smtpd[", 100 + $u % 900, "]: connect from unknown[$ip]\n",
            "$ts mx postfix/smtpd[", 100 + $u % 900, "]: $id: client=unknown[$ip], sasl_method=PLAIN, sasl_username=user$u\@example.org\n",
            "$ts mx postfix/cleanup[5]: $id: message-id=<$q\@example.org>\n",
            "$ts mx postfix/qmgr[6]: $id: from=<user$u\@example.org>, size=", 900 + int(rand(50000)), ", nrcpt=$r (queue active)\n",
            "$ts mx postfix/smtpd[", 100 + $u % 900, "]: disconnect from unknown[$ip] ehlo=1 auth=1 mail=1 rcpt=$r data=1 quit=1 commands=6\n",
            "$ts mx postfix/smtp[7]: $id: to=<r\@example.net>, relay=mx.example.net[192.0.2.9]:25, delay=0.3, delays=0.1/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n",
            "$ts mx postfix/qmgr[6]: $id: removed\n";
        $n += 7;
    }' "$lines" >"$tmp/maillog"
touch -d '2025-12-31 12:00' "$tmp/maillog"
n=$(wc -l <"$tmp/maillog")
echo "bench-replay: replaying $n lines ($(du -m "$tmp/maillog" | cut -f1) MB)"
start=$(date +%s.%N)
TZ=UTC /usr/bin/time -f '%M' -o "$tmp/rss" "$build/relayguardctl" replay --json \
    -c "$tmp/bench.conf" "$tmp/maillog" >"$tmp/out.json"
end=$(date +%s.%N)
sed 's/"rules".*//' "$tmp/out.json" | cut -c1-400
awk -v n="$n" -v s="$start" -v e="$end" -v rss="$(cat "$tmp/rss")" 'BEGIN {
    printf "bench-replay: %d lines in %.2f s = %.0f lines/s; peak memory %.1f MB\n",
        n, e - s, n / (e - s), rss / 1024 }'
