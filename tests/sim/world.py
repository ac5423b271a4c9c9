"""world.py - the simulated world gen.py draws a site from (issue 16).

The German cities and the foreign countries with their coordinates, the
VPN exits, the home ISPs, the mix file (Mix: the honest behaviours and
the attacks as data, with shuffle.mix's drawn values), and the networks
(Net, Pool) and their GeoIP plan (Geo: home lines, carriers' CGNAT
pools, hotels, VPN exits, attackers' networks). Only reserved ranges and
private AS numbers. Pure data and drawing: the same seed draws the same
world.
"""
import configparser
import io
import math
import os
import random
import sys

# German cities: name -> (lat, lon)
CITIES = {
    'Berlin': (52.520, 13.405), 'Hamburg': (53.551, 9.994),
    'München': (48.137, 11.575), 'Köln': (50.938, 6.960),
    'Frankfurt': (50.110, 8.682), 'Stuttgart': (48.776, 9.183),
    'Düsseldorf': (51.228, 6.773), 'Leipzig': (51.340, 12.375),
    'Dortmund': (51.514, 7.466), 'Bremen': (53.079, 8.802),
    'Dresden': (51.050, 13.738), 'Hannover': (52.376, 9.732),
    'Nürnberg': (49.452, 11.077), 'Freiburg': (47.999, 7.842),
    'Kiel': (54.323, 10.123), 'Rostock': (54.092, 12.099),
    'Passau': (48.575, 13.461), 'Augsburg': (48.371, 10.898),
    'Münster': (51.961, 7.626), 'Karlsruhe': (49.007, 8.404),
    'Saarbrücken': (49.240, 6.997), 'Erfurt': (50.978, 11.029),
    'Magdeburg': (52.121, 11.628), 'Regensburg': (49.013, 12.102),
    'Kassel': (51.312, 9.479), 'Konstanz': (47.660, 9.176),
    'Flensburg': (54.793, 9.447), 'Göttingen': (51.541, 9.916),
    'Aachen': (50.776, 6.084), 'Greifswald': (54.093, 13.387),
    'Cottbus': (51.756, 14.333), 'Ulm': (48.401, 9.987),
}

# countries abroad: code -> (name, city, lat, lon)
COUNTRIES = {
    'FR': ('France', 'Paris', 48.857, 2.352),
    'GB': ('United Kingdom', 'London', 51.507, -0.128),
    'ES': ('Spain', 'Madrid', 40.417, -3.704),
    'IT': ('Italy', 'Rome', 41.903, 12.496),
    'NL': ('Netherlands', 'Amsterdam', 52.368, 4.904),
    'AT': ('Austria', 'Vienna', 48.208, 16.373),
    'CH': ('Switzerland', 'Zurich', 47.377, 8.541),
    'US': ('United States', 'New York', 40.713, -74.006),
    'PL': ('Poland', 'Warsaw', 52.230, 21.012),
    'SE': ('Sweden', 'Stockholm', 59.329, 18.069),
    'RO': ('Romania', 'Bucharest', 44.426, 26.103),
    'BR': ('Brazil', 'São Paulo', -23.551, -46.633),
    'CN': ('China', 'Beijing', 39.904, 116.407),
    'IN': ('India', 'Mumbai', 19.076, 72.878),
    'RU': ('Russia', 'Moscow', 55.756, 37.617),
    'VN': ('Vietnam', 'Hanoi', 21.029, 105.854),
    'JP': ('Japan', 'Tokyo', 35.676, 139.650),
    'AU': ('Australia', 'Sydney', -33.869, 151.209),
    'ZA': ('South Africa', 'Johannesburg', -26.204, 28.047),
    'NG': ('Nigeria', 'Lagos', 6.524, 3.379),
    'ID': ('Indonesia', 'Jakarta', -6.208, 106.846),
    'TR': ('Turkey', 'Istanbul', 41.008, 28.978),
    'UA': ('Ukraine', 'Kyiv', 50.450, 30.523),
}
VPN_EXITS = {'US-Ashburn': ('US', 'United States', 'Ashburn', 39.044, -77.487),
             'GB-London': ('GB', 'United Kingdom', 'London', 51.507, -0.128),
             'NL-Amsterdam': ('NL', 'Netherlands', 'Amsterdam', 52.368, 4.904),
             'FR-Paris': ('FR', 'France', 'Paris', 48.857, 2.352),
             'US-Dallas': ('US', 'United States', 'Dallas', 32.777, -96.797),
             'SG-Singapore': ('SG', 'Singapore', 'Singapore', 1.352, 103.820)}

HOME_ISPS = ['Example DSL Nord', 'Example Kabel', 'Example Fibre Süd',
             'Example Telecom Festnetz']
ASN_BASE = 4200000000		# RFC 6996 private 32-bit AS numbers
CITY_ACC_KM = 50
OTHER_CUSTOMER_NETS = 6		# per home ISP: /24s none of the site's users have


def parse_range(text):
    """'a .. b' or 'a' -> (lo, hi) as floats"""
    parts = [p.strip() for p in text.split('..')]
    lo = float(parts[0])
    return lo, float(parts[1]) if len(parts) > 1 else lo


def km(a, b):
    """great-circle distance of two (lat, lon) in km"""
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(min(1.0, h)))


class Mix:
    """the mix file: typed access to its values"""

    def __init__(self, path):
        paths = [path]
        while True:			# another mix (its base first), then this one
            cp = self.parse(paths[:1])
            if not cp.has_option('mix', 'base'):
                break
            paths.insert(0, os.path.join(os.path.dirname(paths[0]),
                                         cp.get('mix', 'base')))
            if len(paths) > 8:
                sys.exit('gen.py: %s: [mix] base nests too deep' % path)
        self.cp = self.parse(paths)
        self.cp.remove_section('mix')

    @staticmethod
    def parse(paths):
        """the files' sections merged, in order: a later file's keys
        replace an earlier one's, its new keys and sections come last"""
        cp = configparser.ConfigParser(inline_comment_prefixes=('#',))
        cp.optionxform = str
        for path in paths:
            if not cp.read(path, encoding='utf-8'):
                sys.exit('gen.py: %s: cannot read' % path)
        return cp

    def get(self, sec, key, default=None):
        if self.cp.has_option(sec, key):
            return self.cp.get(sec, key)
        if default is None:
            sys.exit('gen.py: mix: [%s] %s is missing' % (sec, key))
        return default

    def num(self, sec, key, default=None):
        return float(self.get(sec, key, default))

    def rng(self, sec, key, default=None):
        return parse_range(self.get(sec, key, default))

    def words(self, sec, key, default=None):
        return self.get(sec, key, default).split()

    def attacks(self):
        return [s for s in self.cp.sections() if s.startswith('attack.')]

    def shuffle(self, seed):
        """[shuffle]: each key SECTION.KEY is a draw (from the seed, by a
        random source of its own) that replaces [SECTION] KEY, in file
        order, so every seed is another site; keep.SECTION = P keeps the
        section with probability P. Returns the drawn mix's text, or None
        without [shuffle]"""
        if not self.cp.has_section('shuffle'):
            return None
        r = random.Random('shuffle/%d' % seed)
        for name, spec in self.cp.items('shuffle'):
            sec, key = name.rsplit('.', 1)
            if sec == 'keep':
                if r.random() >= float(spec) and self.cp.has_section(key):
                    self.cp.remove_section(key)
                continue
            if not self.cp.has_section(sec):	# dropped by keep.
                continue
            value = shuffle_draw(r, spec, self)
            if value == 'none':
                self.cp.remove_option(sec, key)
            else:
                self.cp.set(sec, key, value)
        self.cp.remove_section('shuffle')
        out = io.StringIO()
        self.cp.write(out)
        return out.getvalue()


def shuffle_draw(r, spec, mix):
    """one [shuffle] value: 'a .. b' (an integer if both are, else 3
    decimals), 'span a .. b' (a range 'x .. y'
    inside it, at least a quarter of it wide), 'one of A B ..'
    (repeats weigh; 'one of A | B ..' for choices of several words), 'some N .. M of A B ..' (N to M of them, in their
    order), 'weights SEC.KEY' (one weight per word of that value, summing
    to 1); anything else is taken as it is"""
    w = spec.split()
    if w[:2] == ['one', 'of']:
        rest = spec.split('of', 1)[1]
        return r.choice([x.strip() for x in rest.split('|')] if '|' in rest
                        else w[2:])
    if w[0] == 'some' and 'of' in w:
        k = w.index('of')
        lo, hi = parse_range(' '.join(w[1:k]))
        pick = r.sample(range(len(w) - k - 1), r.randint(int(lo), int(hi)))
        return ' '.join(w[k + 1 + i] for i in sorted(pick))
    if w[0] == 'weights':
        sec, key = w[1].rsplit('.', 1)
        x = [r.uniform(1, 4) for _ in mix.words(sec, key)]
        return ' '.join('%.3f' % (v / sum(x)) for v in x)
    span = w[0] == 'span'
    text = ' '.join(w[1:] if span else w)
    if '..' not in text:
        return spec
    lo, hi = parse_range(text)
    whole = all('.' not in p.strip() for p in text.split('..'))
    fmt = (lambda v: str(int(round(v)))) if whole else (lambda v: '%.3f' % v)
    if not span:
        return (str(r.randint(int(lo), int(hi))) if whole
                else fmt(r.uniform(lo, hi)))
    # a range at least a quarter of the whole wide, inside it
    a, b = sorted((r.uniform(lo, hi), r.uniform(lo, hi)))
    wide = (hi - lo) / 4
    if b - a < wide:
        a = min(max(lo, (a + b - wide) / 2), hi - wide)
        b = a + wide
    return '%s .. %s' % (fmt(a), fmt(b))


class Net:
    """the GeoIP plan: networks handed out from reserved ranges"""

    def __init__(self):
        self.rows = []
        self.v6 = {}		# base of an IPv4 network -> its /48's number
        self.next24 = (198 << 24) | (18 << 16)	# 198.18.0.0/15: 512 /24s
        self.next16 = (100 << 24) | (64 << 16)	# 100.64.0.0/10: 64 /16s
        # /24s past 198.18.0.0/15 (a mix with wider home pools) are taken
        # from 100.64.0.0/10's top down, clear of its /16s
        self.top24 = (100 << 24) | (128 << 16)

    def add(self, bits, cc, country, city, loc, acc, asn, org):
        """one network of 2**(32-bits) addresses; returns (base, size)"""
        size = 1 << (32 - bits)
        if bits >= 24 and self.next24 < ((198 << 24) | (20 << 16)):
            base = self.next24
            self.next24 += max(size, 256)
        elif bits >= 24:
            self.top24 -= 256	# a /24 or a smaller network's own /24
            base = self.top24
            if self.top24 < self.next16:
                sys.exit('gen.py: 198.18.0.0/15 and 100.64.0.0/10 are full')
        else:
            base = self.next16
            self.next16 += size
            if self.next16 > self.top24:
                sys.exit('gen.py: 100.64.0.0/10 is full')
        net4 = '%s/%d' % (ip_text(base), bits)
        net6 = '2001:db8:%x::/48' % (len(self.rows) + 1)
        self.v6[base] = len(self.rows) + 1
        self.rows.append((net4, net6, cc, country, city, loc, acc, asn, org))
        return base, size

    def write(self, path):
        with open(path, 'w', encoding='utf-8') as f:
            f.write('# plan.tsv - written by tests/sim/gen.py\n')
            for net4, net6, cc, country, city, loc, acc, asn, org in self.rows:
                f.write('\t'.join(['geo', net4, net6, cc, cc, country, city,
                                   '%.3f' % loc[0], '%.3f' % loc[1],
                                   str(int(acc)), str(asn), org]) + '\n')


def ip_text(n):
    return '%d.%d.%d.%d' % (n >> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255)


def ip6_text(n48, sub, iid):
    """an address in 2001:db8:N48::/48: subnet (16 bits), interface id"""
    return '2001:db8:%x:%x:%x:%x:%x:%x' % (
        n48, sub, iid >> 48, (iid >> 32) & 0xffff, (iid >> 16) & 0xffff,
        iid & 0xffff)


class Pool:
    """addresses of one or more networks; pick() a random one"""

    def __init__(self, rnd, nets):
        self.rnd = rnd
        self.nets = nets

    def pick(self):
        base, size = self.nets[self.rnd.randrange(len(self.nets))]
        return ip_text(base + 1 + self.rnd.randrange(size - 2))


class Geo:
    """every network of the site and its attackers, built once per run"""

    def __init__(self, mix, rnd):
        self.net = Net()
        self.rnd = rnd
        asn = iter(range(ASN_BASE + 1, ASN_BASE + 100000))
        self.asn = asn
        self.lazy = {}		# networks added on first use (optional sections)
        self.add_homes(rnd, asn, int(mix.num('site', 'home_nets', 2)))
        self.add_carriers(mix, asn)
        self.add_abroad(mix, asn)
        self.fix_home_acc(mix)
        self.add_office(mix, asn)

    def add_homes(self, rnd, asn, nets):
        """home ISPs: `nets` /24s per ISP and city ([site] home_nets, 2
        unless set: a home line's daily address is drawn from them), and
        other customers"""
        self.home = {}
        self.customers = []	# the ISPs' other customers: residential proxies
        for i, isp in enumerate(HOME_ISPS):
            a = next(asn)
            for city, loc in CITIES.items():
                for _ in range(nets):
                    self.home.setdefault((i, city), []).append(self.net.add(
                        24, 'DE', 'Germany', city, loc, 0, a, isp))
            for _ in range(OTHER_CUSTOMER_NETS):
                city = rnd.choice(sorted(CITIES))
                self.customers.append(self.net.add(
                    24, 'DE', 'Germany', city, CITIES[city], 0, a, isp))

    def add_carriers(self, mix, asn):
        """carriers: one /16 CGNAT pool per hub, coarse location"""
        self.carriers = {}
        acc = mix.num('carriers', 'acc_km')
        for name in mix.words('carriers', 'names'):
            a = next(asn)
            org = 'Example Mobile %s' % name.capitalize()
            self.carriers[name] = {
                hub: self.net.add(16, 'DE', 'Germany', hub, CITIES[hub], acc,
                                  a, org)
                for hub in mix.words('carriers', 'hubs_' + name)}

    def add_abroad(self, mix, asn):
        """per country a broadband and a hosting AS (two /24s each: where
        attackers come from) and a hotel's network; the VPN exits"""
        self.abroad, self.hotels = {}, {}
        for cc, (cname, city, lat, lon) in COUNTRIES.items():
            for org in ('Example Broadband %s', 'Example Hosting %s'):
                a = next(asn)
                self.abroad.setdefault(cc, []).extend(self.net.add(
                    24, cc, cname, city, (lat, lon), CITY_ACC_KM, a, org % cc)
                    for _ in range(2))
            self.hotels[cc] = self.net.add(24, cc, cname, city, (lat, lon),
                                           CITY_ACC_KM, next(asn),
                                           'Example Hotel WiFi %s' % cc)
        self.vpn = None		# exit = office: the office's NAT addresses
        if mix.get('vpn', 'exit') != 'office':
            cc, cname, city, lat, lon = VPN_EXITS[mix.get('vpn', 'exit')]
            self.vpn = self.net.add(24, cc, cname, city, (lat, lon), 100,
                                    next(asn), 'Example Corp VPN')
        a = next(asn)
        self.privacy = {}
        for cc in mix.words('privacy', 'countries'):
            cname, city, lat, lon = COUNTRIES[cc]
            self.privacy[cc] = self.net.add(24, cc, cname, city, (lat, lon),
                                            CITY_ACC_KM, a,
                                            'Example Privacy VPN')

    def fix_home_acc(self, mix):
        """home lines get a radius drawn from home_acc_km per network"""
        lo, hi = mix.rng('honest', 'home_acc_km')
        rows = self.net.rows
        for i, r in enumerate(rows):
            if r[2] == 'DE' and r[6] == 0:
                rows[i] = r[:6] + (int(self.rnd.uniform(lo, hi)),) + r[7:]

    def add_office(self, mix, asn):
        """[office]: the site's shared NAT (an office, a campus: ips
        addresses every login there shares) and the same organisation's
        other sites (visit_cities: eduroam at another university of the
        research network), all in one AS"""
        self.office, self.office_ips, self.visits = None, [], []
        if not mix.cp.has_section('office'):
            return
        a, city = next(asn), mix.get('office', 'city')
        org = mix.get('office', 'org', 'Example Office Fibre')
        acc = mix.num('office', 'acc_km', '20')
        self.office = self.net.add(24, 'DE', 'Germany', city, CITIES[city],
                                   acc, a, org)
        self.office_ips = [ip_text(self.office[0] + 10 + i)
                           for i in range(int(mix.num('office', 'ips', '1')))]
        for c in mix.words('office', 'visit_cities', ' '):
            base, _ = self.net.add(24, 'DE', 'Germany', c, CITIES[c], acc, a, org)
            self.visits.append([ip_text(base + 10 + i) for i in range(4)])

    def foreign_mobile(self, cc):
        """a mobile carrier in country cc (an international user's SIM at
        home), added on first use; coarse like the German carriers"""
        if ('mobile', cc) not in self.lazy:
            cname, city, lat, lon = COUNTRIES[cc]
            self.lazy[('mobile', cc)] = self.net.add(
                24, cc, cname, city, (lat, lon), 200, next(self.asn),
                'Example Mobile %s' % cc)
        return self.lazy[('mobile', cc)]

    def addr6(self, net, sub=None):
        """an address in the IPv6 /48 of the network net (base, size):
        a random /64 (or subnet sub) and interface id"""
        n48 = self.net.v6[net[0]]
        if sub is None:
            sub = self.rnd.randrange(1 << 16)
        return ip6_text(n48, sub, self.rnd.getrandbits(64))

    def pick_net(self, nets, v6=False):
        """an address of one of nets, as Pool.pick draws it; v6: in the
        network's IPv6 /48 instead. Returns (address, network)"""
        net = nets[self.rnd.randrange(len(nets))]
        if v6:
            return self.addr6(net), net
        return ip_text(net[0] + 1 + self.rnd.randrange(net[1] - 2)), net

    def home_pool(self, isp, city):
        return Pool(self.rnd, self.home[(isp, city)])

    def town_customer(self, isp, city):
        """another customer's /24 of home ISP isp in city (added on first
        use, the ISP's AS, a radius as its lines there): a residential
        proxy of the victim's ISP in the victim's own town"""
        if ('town', isp, city) not in self.lazy:
            row = self.net.rows[self.net.v6[self.home[(isp, city)][0][0]] - 1]
            self.lazy[('town', isp, city)] = self.net.add(
                24, 'DE', 'Germany', city, CITIES[city], row[6], row[7],
                row[8])
        return self.lazy[('town', isp, city)]

    def abroad_addr(self, cc):
        return Pool(self.rnd, self.abroad[cc]).pick()

    def hotel_addr(self, cc):
        return Pool(self.rnd, [self.hotels[cc]]).pick()

    def other_hotel(self, cc):
        """another hotel's Wi-Fi in country cc (its own network and AS,
        added on first use): where an attacker posing as a traveller
        sits, not the hotel the site's own travellers stay in"""
        if ('hotel', cc) not in self.lazy:
            cname, city, lat, lon = COUNTRIES[cc]
            self.lazy[('hotel', cc)] = self.net.add(
                24, cc, cname, city, (lat, lon), CITY_ACC_KM, next(self.asn),
                'Example Other Hotel %s' % cc)
        return self.lazy[('hotel', cc)]
