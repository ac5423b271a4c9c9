#!/usr/bin/perl
#
# make-test-db.pl - write relayguard's synthetic GeoIP test databases.
#
# usage: make-test-db.pl [--plan FILE] [--fixtures] OUTDIR
#
# Reads the plan (default: plan.tsv beside this script; its header says
# which documentation range is which country, city, ASN) and writes into
# OUTDIR, which must exist:
#
#   GeoLite2-City.mmdb     country, registered_country, city, location
#   GeoLite2-Country.mmdb  country, registered_country
#   GeoLite2-ASN.mmdb      autonomous_system_number, _organization
#
# all with ip_version 6, IPv4 reachable through ::ffff:0:0/96 (and the
# 6to4 alias, as in MaxMind's own files), record size 28, the key layout
# of MaxMind's GeoLite2 files.
#
# --fixtures also writes the hostile files the unit tests feed to
# policy/geo.c. They live outside the plan on purpose (198.18.250-254.x,
# 2001:db8:250::/48), so golden and end-to-end tests never see them:
#
#   RG-Test-Country-IPv4.mmdb   the plan's country data, ip_version 4
#   RG-Test-Hostile-City.mmdb   right types, wrong values:
#       198.18.250.0/24  cc "d3", registered "DEU", lat 123.5, lon -200.25,
#                        accuracy 65535           -> nothing usable
#       198.18.251.0/24  cc "D", registered "FR", lat NaN, lon +Inf
#                        -> cc FR (fallback), no location
#       198.18.252.0/24  cc "XK", lat 90, lon -180, accuracy 0 (edges: valid)
#       198.18.253.0/24  cc "DE", Berlin, accuracy 65535  -> location kept,
#                        accuracy dropped
#       198.18.254.0/24  cc "DE", latitude only           -> no location
#       2001:db8:250::/48  same as 198.18.250.0/24
#   RG-Test-Hostile-ASN.mmdb
#       198.18.250.0/24  AS 0, org with CR, LF, 0x01, 0x7f and 300 bytes
#       198.18.251.0/24  AS 64496, org "RGBADUTF8\xff\xfe tail" (invalid
#                        UTF-8, patched into the file after writing)
#       198.18.252.0/24  AS 64497, org 62 x "x" then "é" (straddles the
#                        63-byte limit of struct geo_info.org)
#   RG-Test-BadTypes-City.mmdb  198.18.250.0/24: iso_code as uint32,
#       registered_country as a string, latitude/longitude/accuracy_radius
#       as strings
#   RG-Test-BadTypes-ASN.mmdb   198.18.250.0/24: ASN as a string,
#       organisation as uint32
#
# Needs Debian's libmaxmind-db-writer-perl (tested with 0.300003). The
# test ranges are reserved networks, so remove_reserved_networks => 0 is
# essential: the writer would silently drop them otherwise.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use Getopt::Long qw(GetOptions);
use MaxMind::DB::Writer::Tree;

my $RECORD_SIZE = 28;
my $ORG_LIMIT_FILL = 62;	# bytes of "x" before the straddling "é"

my %GEO_TYPES = (
    country                        => 'map',
    registered_country             => 'map',
    city                           => 'map',
    location                       => 'map',
    names                          => 'map',
    en                             => 'utf8_string',
    iso_code                       => 'utf8_string',
    latitude                       => 'double',
    longitude                      => 'double',
    accuracy_radius                => 'uint16',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

my %BAD_TYPES = (
    %GEO_TYPES,
    iso_code                       => 'uint32',
    registered_country             => 'utf8_string',
    latitude                       => 'utf8_string',
    longitude                      => 'utf8_string',
    accuracy_radius                => 'utf8_string',
    autonomous_system_number       => 'utf8_string',
    autonomous_system_organization => 'uint32',
);

my @COLUMNS = qw(kind net4 net6 cc rcc country city lat lon acc_km asn org);

# main - parse arguments, read the plan, write the databases
sub main {
    my $plan = File::Spec->catfile(dirname($0), 'plan.tsv');
    my $fixtures = 0;

    GetOptions('plan=s' => \$plan, 'fixtures' => \$fixtures)
        or usage();
    usage() unless @ARGV == 1;
    my $out = $ARGV[0];
    die "make-test-db.pl: $out: not a directory\n" unless -d $out;

    my @rows = read_plan($plan);
    write_plan_dbs($out, \@rows);
    write_fixtures($out, \@rows) if $fixtures;
    return 0;
}

# usage - print the synopsis and exit with EX_USAGE
sub usage {
    print STDERR "usage: make-test-db.pl [--plan FILE] [--fixtures] OUTDIR\n";
    exit 64;
}

# read_plan - parse plan.tsv into a list of hashes, checking every field
sub read_plan {
    my ($path) = @_;
    my @rows;

    open my $fh, '<:encoding(UTF-8)', $path
        or die "make-test-db.pl: $path: $!\n";
    while (my $line = <$fh>) {
        chomp $line;
        next if $line =~ /^\s*(#|$)/;
        my @f = split /\t/, $line, -1;
        die "make-test-db.pl: $path:$.: expected " . scalar(@COLUMNS)
            . " tab-separated fields, got " . scalar(@f) . "\n"
            unless @f == @COLUMNS;
        my %r;
        @r{@COLUMNS} = map { $_ eq '-' ? undef : $_ } @f;
        check_row($path, $., \%r);
        push @rows, \%r;
    }
    close $fh;
    die "make-test-db.pl: $path: no rows\n" unless @rows;
    return @rows;
}

# check_row - reject a plan row that would make a misleading database
sub check_row {
    my ($path, $lineno, $r) = @_;
    my $where = "make-test-db.pl: $path:$lineno";

    die "$where: kind must be geo or regonly\n"
        unless defined $r->{kind} && $r->{kind} =~ /^(geo|regonly)$/;
    die "$where: net4 and net6 are required\n"
        unless defined $r->{net4} && defined $r->{net6};
    for my $cc (grep { defined } @{$r}{qw(cc rcc)}) {
        die "$where: bad ISO code '$cc'\n" unless $cc =~ /^[A-Z]{2}$/;
    }
    die "$where: asn must be a number\n"
        unless defined $r->{asn} && $r->{asn} =~ /^[0-9]+$/;
    return if $r->{kind} eq 'regonly';
    die "$where: a geo row needs cc, city, lat, lon, acc_km\n"
        if grep { !defined $r->{$_} } qw(cc city lat lon acc_km);
    die "$where: latitude out of range\n" if abs($r->{lat}) > 90;
    die "$where: longitude out of range\n" if abs($r->{lon}) > 180;
    return;
}

# new_tree - a GeoLite2-shaped tree that keeps the reserved test ranges
sub new_tree {
    my ($type, $types, $ip_version) = @_;
    $ip_version //= 6;

    return MaxMind::DB::Writer::Tree->new(
        ip_version               => $ip_version,
        record_size              => $RECORD_SIZE,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => "relayguard test data ($type)" },
        map_key_type_callback    => sub { $types->{ $_[0] } },
        merge_strategy           => 'none',
        alias_ipv6_to_ipv4       => $ip_version == 6 ? 1 : 0,
        remove_reserved_networks => 0,
    );
}

# country_record - the country part of a record (GeoLite2 layout)
sub country_record {
    my ($r) = @_;
    my %rec;

    $rec{country} = { iso_code => $r->{cc}, names => { en => $r->{country} } }
        if defined $r->{cc};
    $rec{registered_country} =
        { iso_code => $r->{rcc}, names => { en => $r->{country} } }
        if defined $r->{rcc};
    return \%rec;
}

# city_record - country part plus city name and location
sub city_record {
    my ($r) = @_;
    my $rec = country_record($r);

    return $rec unless $r->{kind} eq 'geo';
    $rec->{city} = { names => { en => $r->{city} } };
    $rec->{location} = {
        latitude        => $r->{lat} + 0,
        longitude       => $r->{lon} + 0,
        accuracy_radius => $r->{acc_km} + 0,
    };
    return $rec;
}

# asn_record - the GeoLite2-ASN record of a row
sub asn_record {
    my ($r) = @_;

    return {
        autonomous_system_number       => $r->{asn} + 0,
        autonomous_system_organization => $r->{org} // '',
    };
}

# write_tree - write a tree to OUTDIR/NAME through a temporary file
sub write_tree {
    my ($tree, $out, $name) = @_;
    my $path = File::Spec->catfile($out, $name);
    my $tmp = "$path.tmp.$$";

    open my $fh, '>:raw', $tmp or die "make-test-db.pl: $tmp: $!\n";
    $tree->write_tree($fh);
    close $fh or die "make-test-db.pl: $tmp: $!\n";
    rename $tmp, $path or die "make-test-db.pl: rename $tmp: $!\n";
    return $path;
}

# write_plan_dbs - the three databases of the plan
sub write_plan_dbs {
    my ($out, $rows) = @_;
    my %trees = (
        'GeoLite2-City.mmdb'    => [ new_tree('GeoLite2-City', \%GEO_TYPES),
                                     \&city_record ],
        'GeoLite2-Country.mmdb' => [ new_tree('GeoLite2-Country', \%GEO_TYPES),
                                     \&country_record ],
        'GeoLite2-ASN.mmdb'     => [ new_tree('GeoLite2-ASN', \%GEO_TYPES),
                                     \&asn_record ],
    );

    for my $name (sort keys %trees) {
        my ($tree, $record) = @{ $trees{$name} };
        for my $r (@$rows) {
            $tree->insert_network($_, $record->($r)) for @{$r}{qw(net4 net6)};
        }
        write_tree($tree, $out, $name);
    }
    return;
}

# write_fixtures - the hostile and IPv4-only files for the unit tests
sub write_fixtures {
    my ($out, $rows) = @_;

    my $v4 = new_tree('GeoLite2-Country', \%GEO_TYPES, 4);
    $v4->insert_network($_->{net4}, country_record($_)) for @$rows;
    write_tree($v4, $out, 'RG-Test-Country-IPv4.mmdb');

    write_hostile_city($out);
    write_hostile_asn($out);
    write_bad_types($out);
    return;
}

# write_hostile_city - well-typed city records with out-of-range values
sub write_hostile_city {
    my ($out) = @_;
    my $t = new_tree('GeoLite2-City', \%GEO_TYPES);
    my $bad = {
        country            => { iso_code => 'd3' },
        registered_country => { iso_code => 'DEU' },
        location => { latitude => 123.5, longitude => -200.25,
                      accuracy_radius => 65535 },
    };

    $t->insert_network('198.18.250.0/24', $bad);
    $t->insert_network('2001:db8:250::/48', $bad);
    $t->insert_network('198.18.251.0/24', {
        country            => { iso_code => 'D' },
        registered_country => { iso_code => 'FR' },
        location => { latitude => 'NaN' + 0, longitude => 9**9**9,
                      accuracy_radius => 10 },
    });
    $t->insert_network('198.18.252.0/24', {
        country  => { iso_code => 'XK' },
        location => { latitude => 90, longitude => -180,
                      accuracy_radius => 0 },
    });
    $t->insert_network('198.18.253.0/24', {
        country  => { iso_code => 'DE' },
        location => { latitude => 52.52, longitude => 13.405,
                      accuracy_radius => 65535 },
    });
    $t->insert_network('198.18.254.0/24', {
        country  => { iso_code => 'DE' },
        location => { latitude => 52.52 },
    });
    write_tree($t, $out, 'RG-Test-Hostile-City.mmdb');
    return;
}

# write_hostile_asn - organisations a log line must never carry verbatim
sub write_hostile_asn {
    my ($out) = @_;
    my $t = new_tree('GeoLite2-ASN', \%GEO_TYPES);

    $t->insert_network('198.18.250.0/24', {
        autonomous_system_number       => 0,
        autonomous_system_organization =>
            "Evil\r\nInjected: x\x01\x7f" . ('A' x 300),
    });
    $t->insert_network('198.18.251.0/24', {
        autonomous_system_number       => 64496,
        autonomous_system_organization => 'RGBADUTF8XX tail',
    });
    $t->insert_network('198.18.252.0/24', {
        autonomous_system_number       => 64497,
        autonomous_system_organization =>
            ('x' x $ORG_LIMIT_FILL) . "\x{e9}",
    });
    my $path = write_tree($t, $out, 'RG-Test-Hostile-ASN.mmdb');
    patch_file($path, 'RGBADUTF8XX', "RGBADUTF8\xff\xfe");
    return;
}

# patch_file - overwrite one marker in a written file, same length
sub patch_file {
    my ($path, $from, $to) = @_;

    die "make-test-db.pl: patch lengths differ\n"
        unless length($from) == length($to);
    open my $fh, '+<:raw', $path or die "make-test-db.pl: $path: $!\n";
    local $/;
    my $data = <$fh>;
    my $n = ($data =~ s/\Q$from\E/$to/g);
    die "make-test-db.pl: $path: marker '$from' found $n times\n"
        unless $n == 1;
    seek $fh, 0, 0 or die "make-test-db.pl: $path: $!\n";
    print {$fh} $data or die "make-test-db.pl: $path: $!\n";
    close $fh or die "make-test-db.pl: $path: $!\n";
    return;
}

# write_bad_types - records whose fields have the wrong MMDB types
sub write_bad_types {
    my ($out) = @_;
    my $city = new_tree('GeoLite2-City', \%BAD_TYPES);
    my $asn = new_tree('GeoLite2-ASN', \%BAD_TYPES);

    $city->insert_network('198.18.250.0/24', {
        country            => { iso_code => 276 },
        registered_country => 'DE',
        location => { latitude => '52.52', longitude => '13.40',
                      accuracy_radius => '20' },
    });
    $asn->insert_network('198.18.250.0/24', {
        autonomous_system_number       => '64496',
        autonomous_system_organization => 7,
    });
    write_tree($city, $out, 'RG-Test-BadTypes-City.mmdb');
    write_tree($asn, $out, 'RG-Test-BadTypes-ASN.mmdb');
    return;
}

exit main();
