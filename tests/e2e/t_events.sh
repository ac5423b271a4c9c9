#!/bin/bash
# t_events.sh - the milter's events to the collector: one HMAC-SHA256
# signed datagram per verdict, sequence numbers counting up; a collector
# that is away costs nothing but a counted drop.
# Usage: tests/e2e/t_events.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
e2e_pick_port EVENT_PORT || e2e_bail "no port for the collector"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$E2E_DIR/event.key"
chmod 600 "$E2E_DIR/event.key"
chown nobody "$E2E_DIR/event.key"
RG_COLLECTOR="collector: { address = \"udp:127.0.0.1:$EVENT_PORT\"; key_file = \"$E2E_DIR/event.key\"; };"
rg_setup

# A collector stand-in: receive datagrams for a while, verify each one's
# HMAC with the shared key, print "good|bad SEQ PAYLOAD" per datagram.
cat >"$E2E_DIR/collector.pl" <<'PERL'
use strict; use IO::Socket::INET; use Digest::SHA qw(hmac_sha256_hex);
my ($port, $keyfile, $want) = @ARGV;
open(my $kf, '<', $keyfile) or die; my $key = <$kf>; chomp $key;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                              Proto => 'udp') or die "bind: $!";
$| = 1; print "ready\n";
my $n = 0;
local $SIG{ALRM} = sub { exit 0 }; alarm 20;
while ($n < $want && $s->recv(my $d, 2000)) {
    $n++;
    if ($d =~ /^RG1 ([0-9a-f]{16}) (\d+) (\d+) ([0-9a-f]{64}) (.*)$/s) {
        my $mac = hmac_sha256_hex("$1 $2 $3 $5", $key);
        print(($mac eq $4 ? "good" : "bad"), " $2 $5\n");
    } else { print "bad 0 $d\n"; }
}
PERL
perl "$E2E_DIR/collector.pl" "$EVENT_PORT" "$E2E_DIR/event.key" 4 >"$E2E_DIR/events.out" &
cpid=$!
e2e_wait_until 5 grep -q ready "$E2E_DIR/events.out" || e2e_bail "collector stand-in did not start"
for n in 1 2 3 4; do rg_send usr1 "198.18.$n.10" -s "event $n"; done
wait "$cpid"
e2e_assert_eq "$(grep -c '^good ' "$E2E_DIR/events.out")" 4 "four verdicts, four datagrams with a valid HMAC"
e2e_assert_eq "$(grep -c '^bad ' "$E2E_DIR/events.out")" 0 "no datagram fails verification"
e2e_assert_eq "$(awk '/^good/ { printf "%s ", $2 }' "$E2E_DIR/events.out")" "1 2 3 4 " "sequence numbers count up from 1"
e2e_assert_match "$(grep '^good 4 ' "$E2E_DIR/events.out")" 'action=tempfail rule=many-countries user="usr1" client=\[198\.18\.4\.10\] country=IN' \
    "the payload is the verdict's key=value line"

# The collector is gone now: mail flows, drops are counted.
for n in 5 6 7; do rg_send alice "198.18.3.2$n" -s "no collector $n"; done
e2e_assert_reply "$SW_RESULT" "250" "with no collector listening, mail still flows"
e2e_assert_match "$(rg_ctl --json stats)" '"events_dropped": *[1-9]' "relayguardctl stats counts the dropped events"
rg_stop TERM
e2e_done
