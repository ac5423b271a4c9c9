#!/bin/bash
# t_drain.sh - a graceful stop: SIGUSR2 while an SMTP transaction is half
# way (after RCPT) lets that transaction finish with the milter's verdict;
# new connections then get Postfix's milter_default_action (tempfail).
# Usage: tests/e2e/t_drain.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

e2e_init
rg_setup

# A slow client: stops after RCPT until told to go on (a file appears).
cat >"$E2E_DIR/slow.pl" <<'PERL'
use strict; use IO::Socket::INET;
my ($port, $go) = @ARGV; $| = 1;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                              Proto => 'tcp', Timeout => 10) or die "connect: $!";
local $SIG{ALRM} = sub { print "timeout\n"; exit 1 }; alarm 60;
sub reply { my $r = ''; while (my $l = <$s>) { $r = $l; last if $l =~ /^\d{3} / } $r =~ s/\r?\n//; $r }
sub cmd { print $s "$_[0]\r\n"; my $r = reply(); print "$_[0] -> $r\n"; $r }
reply();
cmd("EHLO slow.e2e.test");
cmd("XCLIENT ADDR=198.18.3.77 NAME=[UNAVAILABLE] LOGIN=slowpoke");
cmd("EHLO slow.e2e.test");
cmd("MAIL FROM:<slow\@example.org>");
cmd("RCPT TO:<rcpt\@example.net>");
print "waiting\n";
sleep 0.1 until -e $go;
cmd("DATA");
print $s "Subject: slow\r\nX-E2E-Id: slow-drain\r\n\r\nhello\r\n";
my $r = cmd(".");
cmd("QUIT");
PERL
perl "$E2E_DIR/slow.pl" "$SMTP_PORT" "$E2E_DIR/go" >"$E2E_DIR/slow.out" 2>&1 &
spid=$!
e2e_wait_until 15 grep -q waiting "$E2E_DIR/slow.out" || e2e_bail "slow client did not reach RCPT: $(cat "$E2E_DIR/slow.out")"
kill -USR2 "$RG_PID"
sleep 1
e2e_assert_true "the milter is still running while a session is open" e2e_alive "$RG_PID"
touch "$E2E_DIR/go"
wait "$spid"
e2e_assert_match "$(grep '^\. -> ' "$E2E_DIR/slow.out")" '^\. -> 250 ' "the transaction in flight finishes and is queued"
e2e_assert_true "the milter judged it (verdict line)" grep -q 'user="slowpoke"' "$RG_LOG"
e2e_assert_true "the milter then stops" e2e_wait_until 15 eval '! e2e_alive '"$RG_PID"
e2e_assert_file_match "$RG_LOG" "graceful stop: waiting for 1 sessions" "it waited for the open session"
e2e_assert_file_match "$RG_LOG" "stopped" "and says it stopped"
e2e_assert_true "the message reached the sink" sink_wait_find slow-drain 10
rg_send alice 198.18.3.20 -s "after stop"
e2e_assert_reply "$SW_RESULT" "451 4.7.1" "after the stop, Postfix tempfails new mail"
e2e_done
