#!/usr/bin/perl
# gen-log.pl - a synthetic mail log for relayguardctl replay: three days
# of a small site, in Postfix or Sendmail syslog form.
#
#   gen-log.pl [--mta postfix|sendmail] [--stamp classic|maillog|rfc3339|journal]
#              [--start EPOCH] [--garbage N] [--users N] [--days N]
#              [--burst N] [--seed N]
#
# The population (addresses from tests/geoip/plan.tsv):
#   - honest logins u01..uNN: 5-12 messages a day between 08:00 and 20:00,
#     from home (198.18.3.N, Berlin) or their phone (198.18.13.N, Potsdam);
#     u07 travels to Paris (198.18.8.7) on day 2;
#   - usr1, seed 002: honest from home on day 1, then on day 2 at 10:00 a
#     botnet drives it: 30 attempts a minute apart, each from another
#     address, the countries cycling BR CN IN RU US VN FR GB JP AU ZA;
#   - 10.1.2.3, seed 000: an internal host without a login that sends
#     N messages (--burst, default 300) one a second on day 3 at 02:00;
#     honest internal hosts 10.1.2.10-15 send a few a day.
# Nothing was refused live (the log of a site before relayguard).
# With tests/replay/replay.conf the rules must then give:
#   many-countries: the 4th attempt of usr1 and the 26 after it (block)
#   internal-burst: every message of 10.1.2.3 past the 100th
# --garbage N adds N lines that are not syslog lines (binary bytes, a
# line longer than 8 KiB, bad dates) between the others: the report must
# count exactly N. Output on stdout, sorted by time; times in UTC.
use strict;
use warnings;
use Getopt::Long;
use POSIX qw(strftime);

my ($mta, $stamp, $start, $garbage, $users, $days, $burst, $seed) =
    ('postfix', 'classic', 1767218400, 0, 40, 3, 300, 2);   # 2025-12-31 22:00
GetOptions('mta=s' => \$mta, 'stamp=s' => \$stamp, 'start=i' => \$start,
           'garbage=i' => \$garbage, 'users=i' => \$users, 'days=i' => \$days,
           'burst=i' => \$burst, 'seed=i' => \$seed) or die "usage\n";
srand($seed);

my @lines;          # [time, seq, text]
my $seq = 0;
my $qn = 0;
my @stolen_rows = (1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12);

sub stamp {
    my ($t) = @_;
    my @g = gmtime($t);
    return strftime('%b %e %H:%M:%S', @g) if $stamp eq 'classic';
    return strftime('%b %d %H:%M:%S', @g) if $stamp eq 'maillog';
    return strftime('%Y-%m-%dT%H:%M:%S', @g) . sprintf('.%06d+00:00', $seq % 1000000)
        if $stamp eq 'rfc3339';
    return strftime('%Y-%m-%dT%H:%M:%S+0000', @g) if $stamp eq 'journal';
    die "unknown --stamp $stamp\n";
}

sub line { my ($t, $text) = @_; push @lines, [$t, $seq++, $text]; }

sub qid {
    $qn++;
    return $mta eq 'postfix' ? sprintf('%X', 0x4A000000 + $qn * 7919)
        : sprintf('0B%02dAb%06d', $qn % 100, $qn);
}

# message - one submission: time, login ('' for none), client, recipients
sub message {
    my ($t, $login, $ip, $rcpts) = @_;
    my $q = qid();
    my $pid = 1000 + $qn % 5000;
    my $from = ($login ne '' ? $login : 'host') . '@example.com';
    my $size = 800 + int(rand(40000));
    if ($mta eq 'postfix') {
        line($t, "mx postfix/smtpd[$pid]: connect from unknown[$ip]");
        line($t, "mx postfix/smtpd[$pid]: $q: client=unknown[$ip]"
             . ($login ne '' ? ", sasl_method=PLAIN, sasl_username=$login" : ''));
        line($t, "mx postfix/cleanup[77]: $q: message-id=<$qn\@example.com>");
        line($t + 1, "mx postfix/qmgr[66]: $q: from=<$from>, size=$size, nrcpt=$rcpts (queue active)");
        line($t + 1, "mx postfix/smtpd[$pid]: disconnect from unknown[$ip] ehlo=1 mail=1 rcpt=$rcpts data=1 quit=1 commands=5");
        for my $r (1 .. $rcpts) {
            line($t + 2, "mx postfix/smtp[88]: $q: to=<r$r\@example.net>, relay=mx.example.net[192.0.2.200]:25, delay=1.1, delays=0.1/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)");
        }
        line($t + 2, "mx postfix/qmgr[66]: $q: removed");
    } else {
        my $relay = $qn % 2 ? "[$ip]" : "client$qn.example.org [$ip]";
        line($t, "mx sm-mta[$pid]: AUTH=server, relay=$relay, authid=$login, mech=PLAIN, bits=0")
            if $login ne '';
        line($t + 1, "mx sm-mta[$pid]: $q: from=<$from>, size=$size, class=0, nrcpts=$rcpts, msgid=<$qn\@example.com>, proto=" . ($login ne '' ? 'ESMTPA' : 'ESMTP') . ", daemon=MTA, relay=$relay");
        line($t + 2, "mx sm-mta[" . ($pid + 1) . "]: $q: to=<r1\@example.net>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=120000, relay=mx.example.net. [192.0.2.200], dsn=2.0.0, stat=Sent (Ok)");
    }
}

# the honest population
for my $d (0 .. $days - 1) {
    for my $u (1 .. $users) {
        my $login = sprintf('u%02d', $u);
        my $n = 5 + int(rand(8));
        for my $k (1 .. $n) {
            my $t = $start + $d * 86400 + int(rand(12 * 3600));
            my $ip = rand() < 0.5 ? "198.18.3.$u" : "198.18.13.$u";
            $ip = '198.18.8.7' if $u == 7 && $d == 1;
            message($t, $login, $ip, 1 + int(rand(3)));
        }
    }
    for my $h (10 .. 15) {
        message($start + $d * 86400 + int(rand(12 * 3600)), '', "10.1.2.$h", 1)
            for 1 .. 3;
    }
}
# usr1: honest on day 1, stolen on day 2 (seed 002)
message($start + 12 * 3600 + $_ * 1800, 'usr1', '198.18.3.200', 1) for 0 .. 3;
for my $k (0 .. 29) {
    my $row = $stolen_rows[$k % @stolen_rows];
    message($start + 86400 + 12 * 3600 + $k * 60, 'usr1', "198.18.$row." . (10 + $k), 1);
}
# the infected internal host (seed 000)
message($start + 2 * 86400 + 4 * 3600 + $_, '', '10.1.2.3', 1) for 0 .. $burst - 1;

# lines that are not syslog lines
my @junk = ("\x00\x01\x02 binary \xff\xfe", '#' . ('x' x 9000), 'Foo 12 10:00:00 mx x: y',
            'Dec 32 10:00:00 mx postfix/smtpd[1]: z', '2026-13-01T00:00:00Z mx a[1]: b', '',
            'Dec  5 25:61:00 mx postfix/qmgr[1]: A: from=<a>, size=1, nrcpt=1',
            'mx postfix/smtpd[1]: no time at all');
for my $g (1 .. $garbage) {
    my $t = $start + int(rand($days * 86400));
    my $j = $junk[$g % @junk];
    $j = "# junk $g" if $j eq '';
    push @lines, [$t, $seq++, $j, 1];
}

for my $l (sort { $a->[0] <=> $b->[0] || $a->[1] <=> $b->[1] } @lines) {
    print $l->[3] ? "$l->[2]\n" : stamp($l->[0]) . " $l->[2]\n";
}
