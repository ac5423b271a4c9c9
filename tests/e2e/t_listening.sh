#!/bin/bash
# t_listening.sh - the harness's "it listens" check (e2e_listening, what
# rg_start, rg_policyd_start and the tests wait for before they connect)
# asks for a socket in LISTEN state. A port held only by a connection in
# TIME_WAIT refuses a bind without SO_REUSEADDR too (e2e__port_free
# fails), and the check that read "not bindable" as "listening" took it
# for a daemon that had started. No Postfix, no relayguard: perl's
# sockets only.
# Usage: tests/e2e/t_listening.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"

e2e_init
e2e_pick_port P || e2e_bail "no free port"
# A TIME_WAIT on 127.0.0.1:$P: the accepting side closes first, then
# the listener and the client go.
perl -MIO::Socket::INET -e '
    my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
        LocalPort => $ARGV[0], Proto => "tcp", Listen => 1,
        ReuseAddr => 1) or die "listen: $!";
    my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
        PeerPort => $ARGV[0], Proto => "tcp") or die "connect: $!";
    my $a = $l->accept or die "accept: $!";
    close $l;
    close $a;
    sysread($c, my $buf, 1);
    close $c;' "$P" || e2e_bail "could not leave a connection in TIME_WAIT"
e2e_assert_true "a connection in TIME_WAIT holds 127.0.0.1:$P" \
    eval "ss -Htn state time-wait '( sport = :$P )' | grep -q ."
e2e_assert_false "the port cannot be bound (what the old check took for listening)" \
    e2e__port_free "$P"
e2e_assert_false "nothing listens on it" e2e_listening "$P"
# A listener on it (SO_REUSEADDR, as the daemons bind): it listens.
e2e_bg listener perl -MIO::Socket::INET -e '
    my $l = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
        LocalPort => $ARGV[0], Proto => "tcp", Listen => 1,
        ReuseAddr => 1) or die "listen: $!";
    sleep 30;' "$P"
e2e_assert_true "a listener on it is seen listening" e2e_wait_until 10 e2e_listening "$P"
e2e_bg_stop "$E2E_BG_PID" TERM
e2e_assert_true "once it is gone, nothing listens" e2e_wait_until 5 eval "! e2e_listening $P"

e2e_done
