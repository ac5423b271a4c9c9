#!/bin/bash
# t_events.sh - the milter's events to the collector: one HMAC-SHA256
# signed binary record per verdict (policy/event_rec.h, decoded here by an
# independent reader), sequence numbers counting up; a collector
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

# A collector stand-in, written from policy/event_rec.h alone: receive
# datagrams for a while (single records or batches of them), check each
# record's HMAC-SHA256 (the last 32 bytes, over all before them) with the
# shared key, print "good|bad SEQ FIELDS".
cat >"$E2E_DIR/collector.pl" <<'PERL'
use strict; use IO::Socket::INET; use Digest::SHA qw(hmac_sha256);
my ($port, $keyfile, $want) = @ARGV;
open(my $kf, '<', $keyfile) or die; my $key = <$kf>; chomp $key;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                              Proto => 'udp') or die "bind: $!";
my @actions = qw(accept tag quarantine tempfail reject);
my @classes = qw(authenticated internal external trusted);
$| = 1; print "ready\n";
my $n = 0;
local $SIG{ALRM} = sub { exit 0 }; alarm 120;	# a bound only: it ends at the 4th
# A datagram is one record, or a batch of them ("RGEB", version 1, a
# reserved byte, a 16-bit count, then each record after its 16-bit length).
sub records {
    my ($d) = @_;
    return ($d) if substr($d, 0, 4) ne "RGEB";
    my ($ver, $res, $count) = unpack('x4 C C n', $d);
    return ('') if $ver != 1 || $res != 0 || $count == 0;
    my ($o, @r) = (8);
    for (1 .. $count) {
        return ('') if length($d) - $o < 2;
        my $l = unpack("x$o n", $d); $o += 2;
        return ('') if $l == 0 || $l > length($d) - $o;
        push @r, substr($d, $o, $l); $o += $l;
    }
    return $o == length($d) ? @r : ('');
}
while ($n < $want && $s->recv(my $dgram, 65536)) {
  for my $d (records($dgram)) {
    $n++;
    my $body = substr($d, 0, -32);
    if (length($d) < 74 + 32 || substr($d, 0, 5) ne "RGEV\x01"
        || hmac_sha256($body, $key) ne substr($d, -32)) {
        print "bad 0\n"; next;
    }
    my ($ph, $act, $cls, $fl, $res, $rule, $boot, $seq, $ms, $client, $asn, $cc,
        $rcpts, $bytes, $until) = unpack('x5 C C C C C n Q> Q> Q> a16 N a2 N Q> N', $body);
    my @str = unpack('x74 (C/a)5', $body);
    my $ip = substr($client, 0, 12) eq "\0" x 10 . "\xff\xff"
        ? join('.', unpack('x12 C4', $client)) : 'v6';
    print "good $seq action=$actions[$act] rule=$str[1] user=$str[2] client=$ip",
        " country=$cc class=$classes[$cls] node=$str[0] boot=", ($boot ? 'set' : 'zero'),
        " time=", (abs($ms / 1000 - time) < 60 ? 'now' : 'off'), "\n";
  }
}
PERL
perl "$E2E_DIR/collector.pl" "$EVENT_PORT" "$E2E_DIR/event.key" 4 >"$E2E_DIR/events.out" &
cpid=$!
e2e_wait_until 20 grep -q ready "$E2E_DIR/events.out" || e2e_bail "collector stand-in did not start"
for n in 1 2 3 4; do rg_send usr1 "198.18.$n.10" -s "event $n"; done
wait "$cpid"
e2e_assert_eq "$(grep -c '^good ' "$E2E_DIR/events.out")" 4 "four verdicts, four records with a valid HMAC"
e2e_assert_eq "$(grep -c '^bad ' "$E2E_DIR/events.out")" 0 "no record fails verification"
e2e_assert_eq "$(awk '/^good/ { printf "%s ", $2 }' "$E2E_DIR/events.out")" "1 2 3 4 " "sequence numbers count up from 1"
e2e_assert_match "$(grep '^good 4 ' "$E2E_DIR/events.out")" 'action=tempfail rule=many-countries user=usr1 client=198\.18\.4\.10 country=IN class=authenticated node=[^ ]+ boot=set time=now' \
    "the record carries the verdict's fields (the layout of policy/event_rec.h)"

# The collector is gone now: mail flows, drops are counted.
for n in 5 6 7; do rg_send alice "198.18.3.2$n" -s "no collector $n"; done
e2e_assert_reply "$SW_RESULT" "250" "with no collector listening, mail still flows"
# the sender thread sends (and so finds the collector gone) every 250 ms
# (policy/evq.c): wait until it has counted a drop
e2e_wait_until 20 eval "rg_ctl --json stats | grep -Eq '\"events_dropped\": *[1-9]'"
e2e_assert_match "$(rg_ctl --json stats)" '"events_dropped": *[1-9]' "relayguardctl stats counts the dropped events"
rg_stop TERM
e2e_done
