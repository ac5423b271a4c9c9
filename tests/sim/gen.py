#!/usr/bin/env python3
"""gen.py - a seeded simulated site for `make efficacy` (issue 16).

usage: gen.py --mix FILE --seed N --out DIR [--users N] [--days N]

Reads a mix (tests/sim/mix/*.mix: the honest behaviours and the attacks
as data) and writes into DIR:

  mail.log   Postfix syslog lines (RFC 3339 stamps, as Debian 12's
             rsyslog writes them) that `relayguardctl replay` reads: per
             submission smtpd's connect and "QID: client=HOST[IP],
             sasl_username=..." and qmgr's "from=<..>, size=, nrcpt=",
             each submission's lines together and in time order, so replay
             judges them in exactly the order of truth.tsv;
  truth.tsv  one line per submission in that order: qid, time, login,
             client, class (honest | attack | collateral | host: an
             honest internal host), who (the honest user, the host, or
             the attack's name), via (how it came: home, mobile,
             vpn, hotel, roaming, privacy, webmail; the attack's style);
  users.tsv  each honest user's kind, home city, carrier and hub, the
             day they join and the days they are away;
  attacks.tsv each attack's style and the target it is judged by
             (score.py --attacks); with retrying attacks truth.tsv has a
             last column "try" (first attempt's queue id / attempt) and
             holds every attempt (retry.py picks those sent);
  plan.tsv   the GeoIP plan of every network used, in the format of
             tests/geoip/make-test-db.pl (City and ASN: country, city,
             location with accuracy radius, AS number and organisation).

Only reserved ranges are used (198.18.0.0/15 for fixed networks,
100.64.0.0/10 for the carriers' CGNAT pools, 10.0.0.0/8 internal,
127.0.0.1 webmail, 2001:db8::/32 for each network's IPv6 /48), and
private AS numbers. Same mix and seed, same files.
"""
import argparse
import datetime
import math
import os
import random
import sys

from world import (CITIES, COUNTRIES, HOME_ISPS, OTHER_CUSTOMER_NETS, Geo,
                   Mix, Pool, ip_text, km, parse_range)


class Site:
    """the population, its submissions and the truth about each"""

    def __init__(self, mix, seed, users, days):
        self.mix = mix
        self.rnd = random.Random(seed)
        self.geo = Geo(mix, self.rnd)
        self.nusers = users or int(mix.num('site', 'users'))
        self.days = days or int(mix.num('site', 'days'))
        self.domain = mix.get('site', 'domain')
        d = datetime.date.fromisoformat(mix.get('site', 'start'))
        self.t0 = int(datetime.datetime(d.year, d.month, d.day,
                                        tzinfo=datetime.timezone.utc).timestamp())
        self.t0 -= int(mix.num('site', 'utc_offset_h') * 3600)	# local midnight
        self.subs = []		# [time, order, login, client, rcpts, size, class, who]
        self.users = [self.make_user(i) for i in range(self.nusers)]
        self.victims = {}	# login -> time its attack started
        self.chosen = {}	# attack section -> its victims chosen early
        self.used = {}		# attack name -> (victims, address, network)
        self.retries = False	# some attack retries after a tempfail

    def draw(self, sec, key):
        lo, hi = self.mix.rng(sec, key)
        return self.rnd.uniform(lo, hi)

    def idraw(self, sec, key):
        lo, hi = self.mix.rng(sec, key)
        return self.rnd.randint(int(lo), int(hi))

    def make_user(self, i):
        """one honest user: home, phone, and the traits of the mix"""
        m, r = self.mix, self.rnd
        u = {'login': 'u%03d@%s' % (i + 1, self.domain), 'kind': 'normal'}
        u['isp'] = r.randrange(len(HOME_ISPS))
        u['city'] = r.choice(sorted(CITIES))
        if r.random() < m.num('honest', 'phone_users'):
            self.give_phone(u)
        for trait in ('vpn', 'travel', 'heavy'):
            if r.random() < m.num(trait, 'users'):
                u['kind'] = trait
                break
        if u['kind'] == 'travel':
            if 'carrier' not in u:	# a traveller's phone roams
                self.give_phone(u)
            u['trip'] = (r.randrange(max(1, self.days - 5)),
                         self.idraw('travel', 'trip_days'),
                         r.choice(m.words('travel', 'countries')))
        if i < int(m.num('privacy', 'count')):
            u['kind'] = 'privacy'
        u['home'] = self.geo.home_pool(u['isp'], u['city'])
        self.absences(u)
        self.extra_traits(u)
        return u

    def extra_traits(self, u):
        """the traits of the optional sections [office], [international]
        and [ipv6] (no draw at all without them)"""
        m, r = self.mix, self.rnd
        if m.cp.has_section('office'):
            u['office'] = r.random() < m.num('office', 'users')
            if u['office']:	# people live within a commute of the office
                near = [c for c in sorted(CITIES) if km(CITIES[c], CITIES[
                    m.get('office', 'city')]) <= m.num('office', 'commute_km')]
                u['city'] = r.choice(near)
                u['home'] = self.geo.home_pool(u['isp'], u['city'])
        if (m.cp.has_section('international')
                and r.random() < m.num('international', 'users')):
            u['native'] = r.choice(m.words('international', 'countries'))
            if r.random() < m.num('international', 'trips'):
                first = self.idraw('international', 'trip_first')
                u['hometrip'] = (first, first + self.idraw('international',
                                                           'trip_days'))
            if m.cp.has_option('international', 'ipv6'):	# at home on IPv6
                u['v6native'] = r.random() < m.num('international', 'ipv6')
        if 'trip' in u and m.cp.has_option('travel', 'local_sim'):
            u['localsim'] = r.random() < m.num('travel', 'local_sim')
        if m.cp.has_section('ipv6'):
            u['v6home'] = r.random() < m.num('ipv6', 'home_users')
            u['v6mobile'] = ('carrier' in u
                             and r.random() < m.num('ipv6', 'mobile_users'))
        if m.cp.has_option('honest', 'volume_sigma'):	# light and busy users
            u['volume'] = r.lognormvariate(0, m.num('honest', 'volume_sigma'))
        if m.cp.has_section('shifts') and r.random() < m.num('shifts', 'users'):
            u['hours'] = m.rng('shifts', 'hours')	# a night shift's waking hours

    def absences(self, u):
        """a vacation (no mail for days), or joining the site late"""
        m, r = self.mix, self.rnd
        u['away'] = (0, 0)
        if r.random() < m.num('honest', 'vacation_users', '0'):
            first = r.randrange(self.days)
            u['away'] = (first, first + self.idraw('honest', 'vacation_days'))
        u['joins'] = 0
        if r.random() < m.num('honest', 'new_users', '0'):
            u['joins'] = r.randrange(1, max(2, self.days - 2))

    def pick_carrier(self):
        names = self.mix.words('carriers', 'names')
        weights = [float(w) for w in self.mix.words('carriers', 'weights')]
        return self.rnd.choices(names, weights)[0]

    def give_phone(self, u):
        """a carrier, a hub, and a home city at hub_km from that hub"""
        r = self.rnd
        u['carrier'] = self.pick_carrier()
        u['hub'] = r.choice(sorted(self.geo.carriers[u['carrier']]))
        u['phone_use'] = self.draw('honest', 'phone_use')
        lo, hi = self.mix.rng('carriers', 'hub_km')
        hub = CITIES[u['hub']]
        fit = [c for c in sorted(CITIES) if lo <= km(CITIES[c], hub) <= hi]
        if not fit:		# the nearest to the range
            fit = [min(sorted(CITIES), key=lambda c: min(
                abs(km(CITIES[c], hub) - lo), abs(km(CITIES[c], hub) - hi)))]
        u['city'] = r.choice(fit)

    def phone_addr(self, u):
        """a new CGNAT address of the user's carrier for each connection
        (on an IPv6 carrier a new /64 of the hub's network)"""
        hubs = self.geo.carriers[u['carrier']]
        hub = u['hub']
        if len(hubs) > 1 and self.rnd.random() < self.mix.num('honest', 'phone_other_hub'):
            hub = self.rnd.choice(sorted(h for h in hubs if h != hub))
        if u.get('v6mobile'):
            return self.geo.addr6(hubs[hub])
        return Pool(self.rnd, [hubs[hub]]).pick()

    def add(self, t, login, client, rcpts, cls, who, via):
        size = int(self.rnd.lognormvariate(9.5, 1.2)) + 600
        self.subs.append([int(t), len(self.subs), login, client, rcpts,
                          min(size, 25000000), cls, who, via])

    def add_retries(self, backoff, new_client=None):
        """the submission just added may be tried again after a tempfail:
        attempt j comes backoff[0] + .. + backoff[j-1] seconds after the
        first, the same message (login, recipients, size) from the same
        client (new_client(): another one). All are written; retry.py
        keeps an attempt only if the one before it was tempfailed"""
        first = self.subs[-1]
        self.retries = True
        first.append((first[1], 0))
        t = first[0]
        for j, wait in enumerate(backoff, 1):
            t += wait
            ip = new_client() if new_client else first[3]
            self.subs.append([int(t), len(self.subs)] + [first[2], ip]
                             + first[4:9] + [(first[1], j)])

    def rcpts(self):
        x = self.rnd.random()
        if x < self.mix.num('honest', 'rcpts_many'):
            return self.rnd.randint(4, 10)
        if x < self.mix.num('honest', 'rcpts_many') + self.mix.num('honest', 'rcpts_few'):
            return self.rnd.randint(2, 3)
        return 1


def poisson(rnd, mean):
    """a Poisson draw (Knuth; the means here are small)"""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rnd.random()
        if p <= limit:
            return k
        k += 1


def honest_day(site, u, d):
    """one user's submissions of day d (local midnight + d days)"""
    m, r = site.mix, site.rnd
    day0 = site.t0 + d * 86400
    workday = d % 7 < 5
    if d < u['joins'] or u['away'][0] <= d < u['away'][1]:
        return
    vol = u.get('volume', 1)
    letter = None
    if u['kind'] == 'heavy':
        n = poisson(r, (m.num('heavy', 'messages_workday') if workday else 1)
                    * vol)
        if workday and r.random() < m.num('heavy', 'newsletters_per_week') / 5:
            site.add(day0 + r.randint(9, 16) * 3600 + r.randrange(3600),
                     u['login'], u['home'].pick(),
                     site.idraw('heavy', 'newsletter_rcpts'), 'honest', u['login'],
                     'home')
            letter = site.subs[-1]	# its place is set once the day's is known
    else:
        n = poisson(r, m.num('honest', 'messages_workday' if workday
                             else 'messages_weekend') * vol)
    ctx = {'home': u['home'].pick(), 'vpn': None, 'trip': None}
    if u['kind'] == 'vpn' and workday and r.random() < m.num('vpn', 'days'):
        start = day0 + r.randint(8, 15) * 3600 + r.randrange(3600)
        ctx['vpn'] = (start, start + site.draw('vpn', 'hours') * 3600)
    if 'trip' in u and u['trip'][0] <= d < u['trip'][0] + u['trip'][1]:
        if 'hotel' not in u:
            u['hotel'] = site.geo.hotel_addr(u['trip'][2])
        ctx['trip'] = u['hotel']
    if 'office' in u or 'native' in u or u.get('v6home'):
        extra_ctx(site, u, d, ctx, workday)
    lo, hi = u.get('hours') or m.rng('honest', 'day_hours')
    landed = flight(site, u, d, day0 + lo * 3600)
    flying = landed if landed > day0 + lo * 3600 else 0	# a flight day
    if letter:
        letter_place(site, u, ctx, letter, flying)
    while n > 0:
        k = min(n, site.idraw('honest', 'session_messages'))
        n -= k
        t = day0 + r.uniform(lo, hi) * 3600
        if t >= landed:
            session(site, u, ctx, t, k)
    if workday and r.random() < m.num('honest', 'busy_days', '0'):
        k = site.idraw('honest', 'busy_messages')
        span = site.draw('honest', 'busy_hours') * 3600
        session(site, u, ctx, max(flying, day0 + r.uniform(9, 16) * 3600), k,
                span / k)


def letter_place(site, u, ctx, letter, landed):
    """a heavy sender's newsletter (the submission letter, drawn from the
    home line) leaves from where the sender is at its hour, as a session
    from the desk does: the family's line abroad, the hotel, the office or
    campus in its hours; on a flight day not before the plane has landed
    (landed; 0 on other days).
    [heavy] newsletter_home (default 0.1) is the share that a machine at
    home sends anyway (a desktop client's scheduled send, a home server);
    drawn only when the sender is away, so a site without [office] or
    [international] is the same as before"""
    m, r = site.mix, site.rnd
    t = max(letter[0], int(landed))
    off = ctx.get('office')
    if ctx.get('abroad'):
        ip = ctx['abroad']
        via = 'abroad-home6' if ':' in ip else 'abroad-home'
    elif ctx['trip']:
        ip, via = ctx['trip'], 'hotel'
    elif off and off[0] <= t < off[1]:
        ip, via = None, 'office'
    else:
        letter[0] = t
        return
    if r.random() < m.num('heavy', 'newsletter_home', '0.1'):
        return			# the machine at home, at the hour drawn
    letter[0] = t
    letter[3], letter[8] = (ip or r.choice(off[2])), via


def flight(site, u, d, start):
    """on the day a trip starts or ends, no mail until the plane has
    landed (the day's first hour + 800 km an hour + 2 hours at the
    airports); otherwise the start of the day. Trips of [travel] with its
    key flights; an international user's trips home unless
    [international] flights = 0"""
    legs = []
    if 'trip' in u and site.mix.cp.has_option('travel', 'flights'):
        first, days, cc = u['trip']
        legs.append((first, first + days, cc))
    if 'hometrip' in u and site.mix.get('international', 'flights', '1') != '0':
        legs.append(u['hometrip'] + (u['native'],))
    for first, back, cc in legs:
        if d in (first, back):
            dest = COUNTRIES[cc][2:4]
            return start + (km(CITIES[u['city']], dest) / 800.0 + 2) * 3600
    return start


def extra_ctx(site, u, d, ctx, workday):
    """the day's places of the optional sections: at the office (or
    campus) in its hours, at the family's home abroad, the home line's
    IPv6 address of the day (a new prefix and privacy address daily)"""
    m, r, geo = site.mix, site.rnd, site.geo
    day0 = site.t0 + d * 86400
    if u.get('office') and workday and r.random() < m.num('office', 'days'):
        lo, hi = m.rng('office', 'hours')
        ips = geo.office_ips
        if geo.visits and r.random() < m.num('office', 'visits', '0'):
            ips = r.choice(geo.visits)
        ctx['office'] = (day0 + lo * 3600, day0 + hi * 3600, ips)
    trip = u.get('hometrip')
    if trip and trip[0] <= d < trip[1]:
        ctx['abroad'] = site.geo.pick_net(geo.abroad[u['native']][:2],
                                          u.get('v6native'))[0]
    if u.get('v6home'):
        ctx['home6'] = geo.addr6(u['home'].nets[r.randrange(len(u['home'].nets))])


def place(site, u, ctx, t, phone):
    """the optional sections' way in at time t, or None"""
    m, r = site.mix, site.rnd
    if ctx.get('abroad'):
        if phone or r.random() < m.num('international', 'phone_share'):
            sim = site.geo.foreign_mobile(u['native'])
            if u.get('v6native'):	# a new /64 of the carrier each time
                return site.geo.addr6(sim), 'abroad-mobile6'
            return Pool(r, [sim]).pick(), 'abroad-mobile'
        return ctx['abroad'], ('abroad-home6' if ':' in ctx['abroad']
                               else 'abroad-home')
    off = ctx.get('office')
    if off and off[0] <= t < off[1] and (
            not phone or r.random() < m.num('office', 'wifi')):
        return r.choice(off[2]), 'office'
    return None


def session(site, u, ctx, t, k, gap=None):
    """k messages minutes apart from one device (a trip mixes two);
    with gap (seconds, a backlog) from the desk: home, VPN or hotel"""
    m, r = site.mix, site.rnd
    phone = 'carrier' in u and r.random() < u.get('phone_use', 0.5) and not gap
    webmail = r.random() < m.num('honest', 'webmail_use') and not gap
    exit_cc = r.choice(sorted(site.geo.privacy))
    for _ in range(k):
        extra = (place(site, u, ctx, t, phone)
                 if 'office' in ctx or 'abroad' in ctx else None)
        if ctx['trip'] and u.get('localsim'):	# a local SIM or eSIM
            roam = r.random() < m.num('travel', 'phone_share')
            ip, via = ((Pool(r, [site.geo.foreign_mobile(u['trip'][2])]).pick(),
                        'local-sim') if roam else (ctx['trip'], 'hotel'))
        elif ctx['trip']:
            roam = r.random() < m.num('travel', 'phone_share')
            ip, via = ((site.phone_addr(u), 'roaming') if roam
                       else (ctx['trip'], 'hotel'))
        elif extra:
            ip, via = extra
        elif webmail:
            ip, via = '127.0.0.1', 'webmail'
        elif phone:
            ip, via = site.phone_addr(u), 'mobile'
        elif u['kind'] == 'privacy':
            ip, via = Pool(r, [site.geo.privacy[exit_cc]]).pick(), 'privacy'
        elif ctx['vpn'] and ctx['vpn'][0] <= t < ctx['vpn'][1]:
            if site.geo.vpn is None:	# the VPN ends at the office
                ip, via = r.choice(site.geo.office_ips), 'vpn'
            else:
                ip, via = ip_text(site.geo.vpn[0] + 10 + r.randrange(4)), 'vpn'
        elif u.get('v6home') and r.random() < m.num('ipv6', 'home_use'):
            ip, via = ctx['home6'], 'home6'
        else:
            ip, via = ctx['home'], 'home'
        rc = (site.idraw('heavy', 'rcpts') if u['kind'] == 'heavy'
              else site.rcpts())
        site.add(t, u['login'], ip, rc, 'honest', u['login'], via)
        t += gap or site.draw('honest', 'session_gap_min') * 60


def internal_hosts(site):
    """honest internal hosts without a login (printers, scanners, cron)"""
    m, r = site.mix, site.rnd
    for h in range(int(m.num('internal', 'hosts', '0'))):
        ip = '10.1.0.%d' % (10 + h)
        for d in range(site.days):
            n = poisson(r, m.num('internal', 'messages_workday') if d % 7 < 5 else 0)
            for _ in range(n):
                t = site.t0 + d * 86400 + r.uniform(7, 19) * 3600
                site.add(t, '', ip, 1, 'host', 'host ' + ip, 'internal')


def pick_victims(site, n, want='normal'):
    """n users that no attack has taken yet: of the plain kind (normal),
    plain with a phone (phone; phone_only too: see phone_only), a heavy
    sender with a phone (heavy_phone), international (intl), at the office or
    campus (office), a user of the corporate VPN (vpn)"""
    test = {'normal': lambda u: u['kind'] == 'normal',
            'phone': lambda u: u['kind'] == 'normal' and 'carrier' in u,
            'heavy_phone': lambda u: u['kind'] == 'heavy' and 'carrier' in u,
            'phone_only': lambda u: u['kind'] == 'normal' and 'carrier' in u,
            'intl': lambda u: 'native' in u,
            'office': lambda u: u.get('office'),
            'vpn': lambda u: u['kind'] == 'vpn'}[want]
    pool = [u['login'] for u in site.users
            if test(u) and u['login'] not in site.victims]
    if len(pool) < n:
        sys.exit('gen.py: not enough users for the attacks')
    return site.rnd.sample(pool, n)


def phone_only(site, victim, start):
    """victim = phone_only: a plain user with a phone whose mail before
    its attack went through the phone and the webmail alone (probe F30's
    first home line: a login with no home place anywhere). Its home-line
    submissions before start leave from its phone instead (a new address
    of its carrier each, drawn after the rest of the site is made, so
    only a mix that asks for it draws them)"""
    for s in site.subs:
        if s[2] == victim['login'] and s[0] < start and s[8] in ('home',
                                                                 'home6'):
            s[3], s[8] = site.phone_addr(victim), 'mobile'


def attack_start(site, sec):
    m = site.mix
    return (site.t0 + int(m.num(sec, 'day')) * 86400
            + m.num(sec, 'hour') * 3600)


def late_victims(site, seed):
    """victim = late: the victim joins the site `joined` days before its
    attack (a login still in its learning week). Chosen with a random
    source of its own, and its mail before that day dropped after the
    honest mail is made (drop_before_join), so the rest of the site is
    the same as without the attack. late_phone = 1: one with a phone.
    away = 1: the victim, its first day over, is away (no mail of its
    own) until the attack starts: a login whose usual rests on one day;
    back = H: until H hours before it (the owner back home). trip = D:
    the victim spends its first D days on a trip (trip_country, GB
    unless given: hotel and roaming phone); with away = 1 it is silent
    from the trip's end instead (a traveller back home, not mailing)"""
    m = site.mix
    for sec in m.attacks():
        if m.get(sec, 'victim', 'normal') != 'late':
            continue
        day = int(m.num(sec, 'day'))
        first = day - int(m.num(sec, 'joined'))
        phone = m.get(sec, 'late_phone', '0') == '1'
        pool = [u for u in site.users if u['kind'] == 'normal'
                and (not phone or 'carrier' in u)
                and u['login'] not in site.victims and u['joins'] <= first
                and not (u['away'][0] <= day and first < u['away'][1])]
        if not pool:
            sys.exit('gen.py: %s: no user to be a late victim' % sec)
        u = random.Random('%d/%s' % (seed, sec)).choice(pool)
        u['late'] = first	# joins then: set by drop_before_join
        trip = int(m.num(sec, 'trip', '0'))
        if trip:	# its learning week a trip, from the day it joins
            u['trip'] = (first, trip, m.get(sec, 'trip_country', 'GB'))
        if m.get(sec, 'away', '0') == '1':	# silent from its second day
            u['silent'] = (site.t0 + (first + max(1, trip)) * 86400,
                           attack_start(site, sec)
                           - m.num(sec, 'back', '0') * 3600)
        site.victims[u['login']] = attack_start(site, sec)
        site.chosen[sec] = [u['login']]


def drop_before_join(site):
    """a late victim's honest mail before the day it joins is dropped,
    and an away one's while it is away"""
    joins, silent = {}, {}
    for u in site.users:
        if 'late' in u:
            u['joins'] = u['late']
            joins[u['login']] = u['joins']
        if 'silent' in u:
            silent[u['login']] = u['silent']
    site.subs = [x for x in site.subs if (x[2] not in joins
                 or x[0] >= site.t0 + joins[x[2]] * 86400)
                 and not (x[2] in silent
                          and silent[x[2]][0] <= x[0] < silent[x[2]][1])]


def attack_source(site, sec, ncc, victim):
    """(nets, v6) where one_addr, one_ip and burst attackers sit:
    abroad (countries), residential (a German home line of another
    customer), victim_isp (another customer of the victim's own home
    ISP), victim_isp_town (one of it in the victim's own town), native
    (a home line of the victim's native country's ISP),
    victim_city (a home line of another ISP in the victim's own city:
    the /24s the site's users of that ISP and city have too), site_homes
    (a home line of the site's other users, as proxies' pool site_homes)"""
    m, geo = site.mix, site.geo
    src = m.get(sec, 'source', 'abroad')
    if src == 'residential':
        return geo.customers
    if src == 'site_homes':
        return site_homes(site, sec, victim)
    if src == 'victim_city':
        return [n for i in range(len(HOME_ISPS)) if i != victim['isp']
                for n in geo.home[(i, victim['city'])]]
    if src == 'victim_isp':
        k = OTHER_CUSTOMER_NETS * victim['isp']
        return geo.customers[k:k + OTHER_CUSTOMER_NETS]
    if src == 'victim_isp_town':
        return [geo.town_customer(victim['isp'], victim['city'])]
    if src == 'native':
        return geo.abroad[victim['native']][:2]
    if src != 'abroad':
        sys.exit('gen.py: %s: unknown source %s' % (sec, src))
    return geo.abroad[site.rnd.choice(ncc)]


def site_exit(site, sec):
    """source = webmail | vpn: the site's own way in that many logins
    share, with a stolen password: its webmail (the submission comes from
    the webmail host, 127.0.0.1, as the site's webmail users' do) or its
    corporate VPN (one of the exit addresses the VPN's users get; with
    [vpn] exit = office the office's NAT)"""
    if site.mix.get(sec, 'source') == 'webmail':
        return '127.0.0.1'
    if site.geo.vpn is None:
        return site.rnd.choice(site.geo.office_ips)
    return ip_text(site.geo.vpn[0] + 10 + site.rnd.randrange(4))


def proxy_nets(site, sec, victim):
    """the rotating proxies' networks (a new address a message, or with
    `stint` one kept for that many messages, drawn each time: a sticky
    session): home (German home lines of the
    site's ISPs), mobile (the carriers' CGNAT pools), victim_carrier
    (the victim's own carrier's pools), victim_isp (the victim's own home
    ISP's other customers), site_homes (the home /24s of the site's other
    users: lines in a neighbourhood of the site's people; `homes_in` =
    victim_city or victim_isp keeps those of the victim's city or ISP)"""
    geo, pool = site.geo, site.mix.get(sec, 'pool', 'home')
    if pool == 'home':
        return geo.customers
    if pool == 'site_homes':
        return site_homes(site, sec, victim)
    if pool == 'mobile':
        return [n for c in sorted(geo.carriers) for _, n in
                sorted(geo.carriers[c].items())]
    if pool == 'victim_carrier':
        return [n for _, n in sorted(geo.carriers[victim['carrier']].items())]
    if pool == 'victim_isp':
        k = OTHER_CUSTOMER_NETS * victim['isp']
        return geo.customers[k:k + OTHER_CUSTOMER_NETS]
    sys.exit('gen.py: %s: unknown pool %s' % (sec, pool))


def site_homes(site, sec, victim):
    """pool = site_homes: the home /24s (geo.home) of the site's users
    other than the victim, in the users' order"""
    near = site.mix.get(sec, 'homes_in', 'site')
    keep = {'site': lambda u: True,
            'victim_city': lambda u: u['city'] == victim['city'],
            'victim_isp': lambda u: u['isp'] == victim['isp']}.get(near)
    if keep is None:
        sys.exit('gen.py: %s: unknown homes_in %s' % (sec, near))
    nets = []
    for u in site.users:
        if u['login'] != victim['login'] and keep(u):
            nets += [n for n in u['home'].nets if n not in nets]
    if not nets:
        sys.exit('gen.py: %s: no site home in %s' % (sec, near))
    return nets


def attack_times(site, sec, t, n, step):
    """the send times: every `interval` seconds, with `jitter` (a share of
    it, drawn each time) and only within local `hours` (a slow botnet
    working office hours over several days); with `burst_messages`
    (drawn each time) a pause of `pause_min` minutes (drawn each time) after
    each burst: a patient attacker that waits out an hour's block; with
    `lead_messages` a pause of `lead_pause_min` minutes (drawn once) after
    that many first messages only: a thief who tries the password once and
    comes back when the login's first hours are over (probe-wait.mix)"""
    m, r = site.mix, site.rnd
    jit = m.num(sec, 'jitter', '0')
    hours = m.get(sec, 'hours', ' ').strip()
    bursts = m.cp.has_option(sec, 'burst_messages')
    lead = int(m.num(sec, 'lead_messages', '0'))
    if lead:
        pause = site.draw(sec, 'lead_pause_min') * 60
    if not jit and not hours and not bursts:
        return [t + k * step + (pause if lead and k >= lead else 0)
                for k in range(n)]
    if hours == 'victim':	# the hours the site's people send in
        hours = m.get('honest', 'day_hours')
    lo, hi = parse_range(hours) if hours else (0, 24)
    out, left = [], site.idraw(sec, 'burst_messages') if bursts else 0
    for _ in range(n):
        h = ((t - site.t0) % 86400) / 3600.0
        if not lo <= h < hi:
            t += ((lo - h) % 24) * 3600
        out.append(t)
        t += step * (1 + jit * (2 * r.random() - 1))
        if lead and len(out) == lead:
            t += pause
        if bursts:
            left -= 1
            if left <= 0:
                t += site.draw(sec, 'pause_min') * 60
                left = site.idraw(sec, 'burst_messages')
    return out


def trip_plan(site, sec, ncc, n):
    """style = trip: an attacker that looks like a traveller, on `nets`
    (2-3 networks of ONE foreign country, drawn from `countries`):
    broadband and hosting (a line there: one address each), hotel (a
    hotel's Wi-Fi there, not the one the site's travellers use: one
    address),
    mobile (the country's carrier, coarse, as travellers' local SIMs:
    a new address each message). It stays on a network for `stint`
    messages (drawn each time), then moves to the next, in turn. Returns
    for each message a function giving its address"""
    m, r, geo = site.mix, site.rnd, site.geo
    cc = r.choice(ncc)
    ways = []
    for kind in m.words(sec, 'nets'):
        if kind == 'mobile':
            ways.append(lambda: Pool(r, [geo.foreign_mobile(cc)]).pick())
            continue
        if kind == 'hotel':
            nets = [geo.other_hotel(cc)]
        else:
            nets = {'broadband': geo.abroad[cc][:2],
                    'hosting': geo.abroad[cc][2:]}.get(kind)
        if nets is None:
            sys.exit('gen.py: %s: unknown net %s' % (sec, kind))
        ip = geo.pick_net(nets)[0]
        ways.append(lambda ip=ip: ip)
    plan, k = [], 0
    while len(plan) < n:
        plan += [ways[k % len(ways)]] * site.idraw(sec, 'stint')
        k += 1
    return plan[:n]


def victim_pace(site, sec, victim):
    """pace = victim: the interval at which the attacker sends, within
    its hours, `pace_factor` times the victim's mean workday volume"""
    m = site.mix
    hours = m.get(sec, 'hours')
    lo, hi = parse_range(m.get('honest', 'day_hours') if hours == 'victim'
                         else hours)
    per_day = (m.num('honest', 'messages_workday') * victim.get('volume', 1)
               * m.num(sec, 'pace_factor', '1'))
    return (hi - lo) * 3600 / max(per_day, 0.5)


def attack(site, sec):
    """the submissions of one [attack.NAME] section"""
    m, r = site.mix, site.rnd
    name = sec.split('.', 1)[1]
    style = m.get(sec, 'style')
    day = int(m.num(sec, 'day'))
    if day >= site.days:
        print('gen.py: %s: day %d is past the run, left out' % (name, day),
              file=sys.stderr)
        return
    t = site.t0 + day * 86400 + m.num(sec, 'hour') * 3600
    n = int(m.num(sec, 'messages'))
    step = m.num(sec, 'interval', '1')
    if style == 'internal':
        for k in range(n):
            site.add(t + k * step, '', m.get(sec, 'host'), 1, 'attack', name,
                     'internal')
        return
    ncc = m.words(sec, 'countries', 'DE')
    again_of = m.get(sec, 'same_victims', ' ').strip()	# an earlier section's
    logins = (site.used[again_of][0] if again_of else site.chosen.get(sec)
              or pick_victims(site, int(m.num(sec, 'accounts', '1')),
                              m.get(sec, 'victim', 'normal')))
    for v in logins:
        if not again_of:	# the victims' collateral starts with the first
            site.victims[v] = t
    victim = next(u for u in site.users if u['login'] == logins[0])
    if m.get(sec, 'victim', 'normal') == 'phone_only':
        phone_only(site, victim, t)
    v6 = m.get(sec, 'ipv6', '0') == '1'
    rotate = m.get(sec, 'rotate6', '0') == '1'	# a new address of one /64 each
    fixed = net = None
    if m.get(sec, 'pace', '') == 'victim':
        step = victim_pace(site, sec, victim)
    trip = trip_plan(site, sec, ncc, n) if style == 'trip' else None
    addr_of = m.get(sec, 'same_addr', ' ').strip()
    if addr_of:		# the address of an earlier one_addr / one_ip section
        fixed, net = site.used[addr_of][1:]
    elif m.get(sec, 'source', '') in ('webmail', 'vpn'):
        fixed = site_exit(site, sec)
    elif style not in ('proxies', 'trip'):
        fixed, net = site.geo.pick_net(attack_source(site, sec, ncc, victim), v6)
    site.used[sec.split('.', 1)[1]] = (logins, fixed, net)
    sub = r.randrange(1 << 16) if rotate else None
    par = int(m.num(sec, 'parallel', '1'))
    times = (attack_times(site, sec, t, n, step) if style != 'burst'
             else [t + k // par for k in range(n)])
    backoff = [float(x) for x in m.words(sec, 'retry', ' ')]
    again = ((lambda: site.geo.pick_net(proxy_nets(site, sec, victim), v6)[0])
             if style == 'proxies' else None)
    sticky = m.cp.has_option(sec, 'stint')	# proxies: a sticky session
    stay = 0
    for k in range(n):
        if style == 'botnet':
            ip = site.geo.pick_net(site.geo.abroad[ncc[k % len(ncc)]], v6)[0]
        elif style == 'proxies' and stay == 0:
            ip = site.geo.pick_net(proxy_nets(site, sec, victim), v6)[0]
            stay = site.idraw(sec, 'stint') - 1 if sticky else 0
        elif style == 'proxies':
            stay -= 1
        elif style in ('one_addr', 'one_ip', 'burst'):
            ip = site.geo.addr6(net, sub) if rotate else fixed
        elif style == 'trip':
            ip = trip[k]()
        else:
            sys.exit('gen.py: %s: unknown style %s' % (sec, style))
        site.add(times[k], logins[k % len(logins)], ip,
                 site.idraw(sec, 'rcpts'), 'attack', name, style)
        if backoff:
            site.add_retries(backoff, again)


def label_collateral(site):
    """a victim's own mail from its attack's start on is collateral"""
    for s in site.subs:
        start = site.victims.get(s[2])
        if s[6] == 'honest' and start is not None and s[0] >= start:
            s[6] = 'collateral'


def stamp(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        '%Y-%m-%dT%H:%M:%S.000000+00:00')


def write_log(site, out):
    """mail.log and truth.tsv, submissions in time order, lines together"""
    site.subs.sort(key=lambda s: (s[0], s[1]))
    qids = {s[1]: '%011X' % (0x3C0000000 + n * 7) for n, s in enumerate(site.subs)}
    with open(os.path.join(out, 'mail.log'), 'w', encoding='utf-8') as log, \
            open(os.path.join(out, 'truth.tsv'), 'w', encoding='utf-8') as tr:
        tr.write('#qid\ttime\tlogin\tclient\trcpts\tclass\twho\tvia%s\n'
                 % ('\ttry' if site.retries else ''))
        for n, sub in enumerate(site.subs):
            t, order, login, ip, rc, size, cls, who, via = sub[:9]
            qid = qids[order]
            ts, pid = stamp(t), 2000 + n % 30000
            host = 'localhost' if ip.startswith('127.') else 'unknown'
            auth = ', sasl_method=PLAIN, sasl_username=' + login if login else ''
            sender = login or 'scanner@' + site.domain
            log.write(
                '%s mx postfix/smtpd[%d]: connect from %s[%s]\n'
                '%s mx postfix/smtpd[%d]: %s: client=%s[%s]%s\n'
                '%s mx postfix/qmgr[66]: %s: from=<%s>, size=%d, nrcpt=%d '
                '(queue active)\n'
                '%s mx postfix/smtpd[%d]: disconnect from %s[%s] ehlo=1 '
                'mail=1 rcpt=%d data=1 quit=1 commands=5\n'
                % (ts, pid, host, ip, ts, pid, qid, host, ip, auth,
                   ts, qid, sender, size, rc, ts, pid, host, ip, rc))
            tr.write('%s\t%d\t%s\t%s\t%d\t%s\t%s\t%s'
                     % (qid, t, login or '-', ip, rc, cls, who, via))
            if site.retries:	# the first attempt's queue id / attempt
                first, j = sub[9] if len(sub) > 9 else (order, 0)
                tr.write('\t%s/%d' % (qids[first], j))
            tr.write('\n')


def main():
    ap = argparse.ArgumentParser(description='simulated site for make efficacy')
    ap.add_argument('--mix', required=True)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', required=True)
    ap.add_argument('--users', type=int, default=0)
    ap.add_argument('--days', type=int, default=0)
    a = ap.parse_args()
    mix = Mix(a.mix)
    drawn = mix.shuffle(a.seed)
    if drawn is not None:	# the site this seed drew, for a closer look
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, 'drawn.mix'), 'w', encoding='utf-8') as f:
            f.write('# drawn by gen.py from %s, seed %d\n' % (a.mix, a.seed))
            f.write(drawn)
    site = Site(mix, a.seed, a.users, a.days)
    late_victims(site, a.seed)
    for d in range(site.days):
        for u in site.users:
            honest_day(site, u, d)
    drop_before_join(site)
    internal_hosts(site)
    for sec in site.mix.attacks():
        attack(site, sec)
    label_collateral(site)
    os.makedirs(a.out, exist_ok=True)
    write_log(site, a.out)
    site.geo.net.write(os.path.join(a.out, 'plan.tsv'))
    with open(os.path.join(a.out, 'attacks.tsv'), 'w', encoding='utf-8') as f:
        f.write('#attack\tstyle\tgoal\n')
        for sec in site.mix.attacks():
            name = sec.split('.', 1)[1]
            f.write('%s\t%s\t%s\n' % (name, site.mix.get(sec, 'style'),
                                       site.mix.get(sec, 'goal', name)))
    with open(os.path.join(a.out, 'users.tsv'), 'w', encoding='utf-8') as f:
        f.write('#login\tkind\tcity\tcarrier\thub\tjoins\taway\n')
        for u in site.users:
            f.write('%s\t%s\t%s\t%s\t%s\t%d\t%d-%d\n'
                    % (u['login'], u['kind'], u['city'], u.get('carrier', '-'),
                       u.get('hub', '-'), u['joins'], *u['away']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
