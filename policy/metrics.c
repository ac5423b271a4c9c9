/*
 * metrics - the rule metrics of SPEC.md section 5, one function each.
 *
 * Distinct counts look at the user's remembered addresses whose last
 * sighting falls inside the window; counters sum the store's sliding
 * windows plus what this transaction adds before it is stored. Evidence
 * lists are sorted and bounded so a log line stays readable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"
#include "metrics.h"

#define EV_LIST_MAX 12		/* items named in one piece of evidence */

typedef uint64_t (*metric_fn) (const struct metrics_ctx *, uint32_t,
			       char *, size_t);

/* metrics_in_window - was a sighting at t inside the last w seconds? */
bool metrics_in_window(uint32_t t, uint32_t now, uint32_t w)
{
    return t >= now || now - t < w;
}

/* ev_list - "a,b,c" from sorted strings, bounded */
static void ev_list(char *buf, size_t len, char (*items)[ADDR_STRLEN], size_t n)
{
    size_t i, used = 0;

    buf[0] = 0;
    for (i = 0; i < n && i < EV_LIST_MAX && used < len; i++)
	used += (size_t) snprintf(buf + used, len - used, "%s%s", i ? "," : "",
				  items[i]);
    if (n > EV_LIST_MAX && used < len)
	snprintf(buf + used, len - used, ",...");
}

/* cmp_str - qsort order for fixed-size strings */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* A "distinct" metric: what makes two addresses the same, and how the
 * evidence names it. Keys are 16 raw bytes, compared without formatting;
 * text is made only for a rule that fires. */
struct distinct_kind {
    bool (*key) (const struct store_ip *, struct addr *);
    void (*fmt) (const struct addr *, char *);
    const char *what;
};

/* key_ip, key_prefix, key_country, key_asn - false: no such datum */
static bool key_ip(const struct store_ip *ip, struct addr *k)
{
    *k = ip->ip;
    return true;
}

static bool key_prefix(const struct store_ip *ip, struct addr *k)
{
    addr_prefix(&ip->ip, k);
    return true;
}

static bool key_country(const struct store_ip *ip, struct addr *k)
{
    char cc[3];

    memset(k, 0, sizeof(*k));
    store_ip_cc(ip, cc);
    memcpy(k->b, cc, 2);
    return cc[0] != 0;
}

static bool key_asn(const struct store_ip *ip, struct addr *k)
{
    memset(k, 0, sizeof(*k));
    memcpy(k->b, &ip->asn, sizeof(ip->asn));
    return ip->asn != 0;
}

/* fmt_ip, fmt_prefix, fmt_country, fmt_asn - a key as evidence text */
static void fmt_ip(const struct addr *k, char *out)
{
    addr_format(k, out, ADDR_STRLEN);
}

static void fmt_prefix(const struct addr *k, char *out)
{
    size_t n;

    addr_format(k, out, ADDR_STRLEN - 4);
    n = strlen(out);
    snprintf(out + n, ADDR_STRLEN - n, "/%d",
	     addr_is_v4(k) ? ADDR_V4_PREFIX : ADDR_V6_PREFIX);
}

static void fmt_country(const struct addr *k, char *out)
{
    snprintf(out, ADDR_STRLEN, "%.2s", (const char *) k->b);
}

static void fmt_asn(const struct addr *k, char *out)
{
    uint32_t asn;

    memcpy(&asn, k->b, sizeof(asn));
    snprintf(out, ADDR_STRLEN, "AS%u", asn);
}

static const struct distinct_kind kind_ips = {key_ip, fmt_ip, "addresses"};
static const struct distinct_kind kind_prefixes = {key_prefix, fmt_prefix, "networks"};
static const struct distinct_kind kind_countries = {key_country, fmt_country, "countries"};
static const struct distinct_kind kind_asns = {key_asn, fmt_asn, "providers"};

/* distinct - one key per recent address, deduplicated; the count */
static size_t distinct(const struct metrics_ctx *c, uint32_t w,
		       const struct distinct_kind *kind, struct addr *out)
{
    size_t i, j, n = 0;

    for (i = 0; c->user != NULL && i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];
	struct addr k;

	if (!metrics_in_window(ip->last_seen, c->now, w) || !kind->key(ip, &k))
	    continue;
	for (j = 0; j < n && !addr_equal(&out[j], &k); j++)
	    ;
	if (j == n)
	    out[n++] = k;
    }
    return n;
}

/* distinct_metric - value of one distinct count; evidence when asked */
static uint64_t distinct_metric(const struct metrics_ctx *c, uint32_t w,
				const struct distinct_kind *kind,
				char *ev, size_t evlen)
{
    struct addr keys[STORE_IPS_MAX];
    char items[STORE_IPS_MAX][ADDR_STRLEN];
    char list[RULES_REASON_MAX], win[16];
    size_t i, n = distinct(c, w, kind, keys);

    if (ev == NULL)
	return n;
    for (i = 0; i < n; i++)
	kind->fmt(&keys[i], items[i]);
    qsort(items, n, sizeof(items[0]), cmp_str);
    ev_list(list, sizeof(list), items, n);
    rules_format_duration(w, win, sizeof(win));
    snprintf(ev, evlen, "%zu %s in %s: %s", n, kind->what, win, list);
    return n;
}

static uint64_t m_distinct_ips(const struct metrics_ctx *c, uint32_t w,
			       char *ev, size_t evlen)
{
    return distinct_metric(c, w, &kind_ips, ev, evlen);
}

static uint64_t m_distinct_prefixes(const struct metrics_ctx *c, uint32_t w,
				    char *ev, size_t evlen)
{
    return distinct_metric(c, w, &kind_prefixes, ev, evlen);
}

static uint64_t m_distinct_countries(const struct metrics_ctx *c, uint32_t w,
				     char *ev, size_t evlen)
{
    return distinct_metric(c, w, &kind_countries, ev, evlen);
}

static uint64_t m_distinct_asns(const struct metrics_ctx *c, uint32_t w,
				char *ev, size_t evlen)
{
    return distinct_metric(c, w, &kind_asns, ev, evlen);
}

/* granted - does an override make this country usual? */
static bool granted(const struct metrics_ctx *c, const char *cc)
{
    size_t i, j;

    for (i = 0; i < c->nov; i++)
	for (j = 0; j < c->ov[i]->countries.n; j++)
	    if (memcmp(c->ov[i]->countries.v[j], cc, 2) == 0)
		return true;
    return false;
}

/* metrics_learning_end - learning_period after the first message */
uint64_t metrics_learning_end(const struct cfg *cfg, const struct store_user *u)
{
    return (uint64_t) u->first_seen + cfg->policy.learning_s;
}

/* learning - is the login still in its learning period? */
static bool learning(const struct metrics_ctx *c)
{
    return c->now < metrics_learning_end(c->cfg, c->user);
}

/* earlier_country - did the login use a country before day? */
static bool earlier_country(const struct metrics_ctx *c, uint16_t day)
{
    for (size_t i = 0; i < STORE_COUNTRIES; i++)
	if (c->user->countries[i].cc[0] != 0
	    && c->user->countries[i].first_day < day)
	    return true;
    return false;
}

/* trip_country - a country first used while the login learned, after
 * another one on an earlier day, and on fewer than METRICS_USUAL_MIN_DAYS
 * days: the first days of a trip (or of a stranger), which the learning
 * grace does not make usual. A heavy sender's first evening at the
 * family's home abroad fell on the learning week's last day; the country
 * was then "usual", so its line and local SIM were two places, the line a
 * second home and no trip (tests/sim wide seed 1: 322 messages refused
 * over six days, probe F18). */
static bool trip_country(const struct metrics_ctx *c,
			 const struct store_country *k)
{
    if (!metrics_site_learned(c) || k->days >= METRICS_USUAL_MIN_DAYS)
	return false;
    return earlier_country(c, k->first_day);
}

/* usual - learned (seen while learning, not a trip's first days, or on
 * enough days) or granted */
static bool usual(const struct metrics_ctx *c, const struct store_country *k)
{
    uint64_t learn_end = metrics_learning_end(c->cfg, c->user) / STORE_DAY_S;

    return (k->first_day < learn_end && !trip_country(c, k))
	|| k->days >= METRICS_USUAL_MIN_DAYS || granted(c, k->cc);
}

/* metrics_usual_country - is the country one of the login's usual ones
 * (learned, or granted by an override)? */
bool metrics_usual_country(const struct metrics_ctx *c, const char *cc)
{
    for (size_t i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *k = &c->user->countries[i];

	if (k->cc[0] != 0 && memcmp(k->cc, cc, 2) == 0 && usual(c, k))
	    return true;
    }
    return granted(c, cc);
}

/* m_new_country - the client's country is not one of the user's usual */
static uint64_t m_new_country(const struct metrics_ctx *c, uint32_t w,
			      char *ev, size_t evlen)
{
    const char *cc = c->f->geo.cc;
    char list[3 * STORE_COUNTRIES + 1] = "";
    size_t i, used = 0;
    bool is_usual = false;

    (void) w;
    if (cc[0] == 0 || learning(c))
	return 0;
    for (i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *k = &c->user->countries[i];

	if (k->cc[0] == 0 || !usual(c, k))
	    continue;
	if (memcmp(k->cc, cc, 2) == 0)
	    is_usual = true;
	used += (size_t) snprintf(list + used, sizeof(list) - used, "%s%.2s",
				  used ? "," : "", k->cc);
    }
    if (is_usual || granted(c, cc))
	return 0;
    if (ev != NULL)
	snprintf(ev, evlen, "new country %.2s (usual: %s)", cc, used ? list : "none");
    return 1;
}

/* learn_end_day - the day the login's learning period ends */
static uint64_t learn_end_day(const struct metrics_ctx *c)
{
    return metrics_learning_end(c->cfg, c->user) / STORE_DAY_S;
}

/* metrics_client_logins - how many logins came from an address (s, its
 * entry) within the last w seconds */
uint32_t metrics_client_logins(const struct store_client *s, uint32_t now,
			       uint32_t w)
{
    uint32_t i, n = 0;

    for (i = 0; i < s->nlogins && i < STORE_CLIENT_LOGINS; i++)
	if (metrics_in_window(s->logins[i].last_seen, now, w))
	    n++;
    return n;
}

/* metrics_site_network - enough logins on enough days vouched for it */
bool metrics_site_network(const struct cfg *cfg, const struct store_client *s,
			  uint32_t now)
{
    if (cfg->policy.site_logins == 0 || s->vouch_days < cfg->policy.site_days)
	return false;
    return metrics_client_logins(s, now, METRICS_SITE_WINDOW_S)
	>= cfg->policy.site_logins;
}

/* metrics_same_network - two addresses in one /24 (/48) */
bool metrics_same_network(const struct addr *a, const struct addr *b)
{
    struct addr x, y;

    addr_prefix(a, &x);
    addr_prefix(b, &y);
    return addr_equal(&x, &y);
}

/* metrics_site_known - pinned by the admin, the client address vouched for by
 * another login within METRICS_VOUCH_S, or in the client's network when
 * that is one of the site's (not a fresh line there past a backlog day:
 * c->site_stranger, rules_neigh.c). A vouch is no longer enough once the
 * address shows itself the later of two lines in use at once
 * (metrics_two_lines): the login vouched for it itself, as its own
 * place, until the owner's line sent beside it (G seed 153). */
bool metrics_site_known(const struct metrics_ctx *c, const struct addr *ip)
{
    if (addr_cidr_list_match(&c->cfg->policy.familiar_networks, ip))
	return true;
    if (c->site && !c->site_stranger
	&& metrics_same_network(ip, &c->f->client))
	return true;
    return c->client != NULL && c->client->vouched != 0
	&& addr_equal(ip, &c->f->client)
	&& metrics_in_window(c->client->vouched, c->now, METRICS_VOUCH_S)
	&& !metrics_two_lines(c, ip, c->f->geo.asn);
}

/* metrics_learned_net - the login's learned entry for a network, or NULL */
const struct store_net *metrics_learned_net(const struct metrics_ctx *c,
					    const struct addr *ip, uint32_t asn)
{
    uint64_t key = store_net_key(ip, asn);

    for (size_t i = 0; i < STORE_NETS; i++)
	if (c->user->nets[i].days != 0 && c->user->nets[i].key == key)
	    return &c->user->nets[i];
    return NULL;
}

/* metrics_country - the login's record of a country, or NULL */
const struct store_country *metrics_country(const struct metrics_ctx *c,
					    const char *cc)
{
    for (size_t i = 0; i < STORE_COUNTRIES; i++)
	if (c->user->countries[i].cc[0] != 0
	    && memcmp(c->user->countries[i].cc, cc, 2) == 0)
	    return &c->user->countries[i];
    return NULL;
}

/* metrics_unfamiliar_ip - the next unfamiliar address of the window, a
 * learning login's stranger included (metrics.h) */
const struct store_ip *metrics_unfamiliar_ip(const struct metrics_ctx *c,
					     uint32_t w, size_t *i)
{
    while (c->user != NULL && *i < c->user->nips && *i < STORE_IPS_MAX) {
	const struct store_ip *ip = &c->user->ips[(*i)++];

	char cc[3];

	store_ip_cc(ip, cc);
	if (metrics_in_window(ip->last_seen, c->now, w)
	    && !metrics_volume_familiar(c, &ip->ip, ip->asn, cc))
	    return ip;
    }
    return NULL;
}

/* metrics_user_ip - the login's entry of an address, or NULL */
const struct store_ip *metrics_user_ip(const struct metrics_ctx *c,
				       const struct addr *ip)
{
    return store_user_ip(c->user, ip);
}

/* metrics_ip_cc - the country of an address: the client's, or a
 * remembered address's (self: its entry, metrics_user_ip); "" if
 * unknown */
void metrics_ip_cc(const struct metrics_ctx *c, const struct addr *ip,
		   const struct store_ip *self, char cc[3])
{
    cc[0] = 0;
    if (addr_equal(ip, &c->f->client)) {
	memcpy(cc, c->f->geo.cc, 2);
	cc[2] = 0;
    } else if (self != NULL)
	store_ip_cc(self, cc);
}

/* metrics_site_learned - are learning strangers judged: policy.learning_strangers
 * on and the site past its own first learning period (from its first
 * judgement; not while that lies ahead: a clock stepped back)? In the
 * site's first week every login is learning, and a trip then is no
 * stranger than any other place (tests/sim: travellers held on travel
 * seeds 3, 8, 9, 10 when judged from the first day). */
bool metrics_site_learned(const struct metrics_ctx *c)
{
    return c->cfg->policy.learning_strangers && c->site_start != 0
	&& c->now >= (uint64_t) c->site_start + c->cfg->policy.learning_s;
}

/* stranger_origin - was a learned network first used on the day its
 * country was, after the login had mail from another country on an
 * earlier day (how an attacker abroad starts; the learning grace never
 * covers such a network, only use on familiar_days days does)? */
static bool stranger_origin(const struct metrics_ctx *c,
			    const struct store_net *n, const char *cc)
{
    const struct store_country *k = cc[0] ? metrics_country(c, cc) : NULL;

    if (!metrics_site_learned(c) || k == NULL
	|| k->first_day != n->first_day || granted(c, cc))
	return false;
    return earlier_country(c, k->first_day);
}

/* metrics_net_own - a learned network (its country cc, "" unknown) is
 * the login's own: used on familiar_days days, or first used while it
 * was learning (not a stranger's: stranger_origin) */
bool metrics_net_own(const struct metrics_ctx *c, const struct store_net *n,
		     const char *cc)
{
    if (n->days >= c->cfg->policy.familiar_days)
	return true;
    return n->first_day < learn_end_day(c) && !stranger_origin(c, n, cc);
}

/* metrics_own_network - a network the login learned as its own,
 * wherever on it the address is */
bool metrics_own_network(const struct metrics_ctx *c, const struct addr *ip,
			 uint32_t asn)
{
    const struct store_net *n = c->user ? metrics_learned_net(c, ip, asn) : NULL;
    char cc[3];

    if (n == NULL)
	return false;
    metrics_ip_cc(c, ip, metrics_user_ip(c, ip), cc);
    return metrics_net_own(c, n, cc);
}

/* metrics_own_place - a network the login learned as its own, and not
 * a fine place of it far from the login's anchors there (metrics_place.c:
 * a line of the owner's ISP in another city), unless other logins came
 * from the client address today (a NAT of the site's people: another
 * site of the campus's research network), nor a stray line of it in
 * town (metrics_stray_line), nor the later of two lines of it in use at
 * once (metrics_two_lines) */
bool metrics_own_place(const struct metrics_ctx *c, const struct addr *ip,
		       uint32_t asn)
{
    const struct store_ip *self = c->user ? metrics_user_ip(c, ip) : NULL;

    return metrics_own_network(c, ip, asn)
	&& (!metrics_far_place(c, ip, asn, NULL) || metrics_shared_client(c, ip))
	&& (self == NULL || !metrics_second_home(c, self))
	&& !metrics_stray_line(c, ip, asn) && !metrics_two_lines(c, ip, asn);
}

/* metrics_site_voucher - an own network learned while the login was
 * learning, or first used at least a learning period ago: what may make
 * the client's /24 (/48) the site's (a stolen login warmed for two days
 * may not); also from a far place of it (another site of the campus's
 * network: the site's networks need several logins on several days) */
bool metrics_site_voucher(const struct metrics_ctx *c, const struct addr *ip,
			  uint32_t asn)
{
    const struct store_net *n = c->user ? metrics_learned_net(c, ip, asn) : NULL;
    uint64_t today = c->now / STORE_DAY_S;

    if (n == NULL || !metrics_own_network(c, ip, asn))
	return false;
    return n->first_day < learn_end_day(c)
	|| today >= n->first_day + c->cfg->policy.learning_s / STORE_DAY_S;
}

/* familiar - a place the login (or the site) knows */
static bool familiar(const struct metrics_ctx *c, const struct addr *ip,
		     uint32_t asn)
{
    if (c->user == NULL || learning(c) || metrics_site_known(c, ip))
	return true;
    return metrics_own_place(c, ip, asn) || metrics_first_home(c, ip);
}

/* metrics_familiar - familiar, once per address an evaluation
 * (metrics_memo.c) */
bool metrics_familiar(const struct metrics_ctx *c, const struct addr *ip,
		      uint32_t asn)
{
    uint8_t *m = metrics_memo_familiar(c, ip, asn);

    if (m != NULL && *m != METRICS_MEMO_NONE)
	return *m == METRICS_MEMO_YES;
    return metrics_memo_put(m, familiar(c, ip, asn));
}

/* country_before_today - did the login have a message let through from
 * the country (NULL: from any) on a day before today? */
static bool country_before_today(const struct metrics_ctx *c, const char *cc)
{
    uint64_t today = c->now / STORE_DAY_S;

    for (size_t i = 0; i < STORE_COUNTRIES; i++) {
	const struct store_country *k = &c->user->countries[i];

	if (k->cc[0] != 0 && (cc == NULL || memcmp(k->cc, cc, 2) == 0)
	    && k->first_day < today)
	    return true;
    }
    return false;
}

/* metrics_shared_client - did another login come from the client address
 * within a day (a VPN exit, a NAT: a place of the site's people)? */
bool metrics_shared_client(const struct metrics_ctx *c, const struct addr *ip)
{
    if (c->client == NULL || !addr_equal(ip, &c->f->client))
	return false;
    /* more than one: the login itself is one */
    return metrics_client_logins(c->client, c->now, STORE_DAY_S) > 1;
}

/* metrics_learning_stranger - a place the learning grace does not cover:
 * the login is learning, had mail let through from a country before
 * today (its first located day's places are all new), and the network
 * and its country are both new today (or unknown). A login stolen on its
 * third day is used from abroad at once; its owner's new places in the
 * first week are mostly in countries it used before (a new home line,
 * the phone). Not a country an override grants, nor an address the site
 * knows (metrics_site_known: pinned, of a site network, or vouched for
 * by a login's tenured own place). An address another login merely came
 * from within a day is no longer enough: a thief's second stolen login
 * made a learning login's stranger familiar (probe-red learn-pair,
 * 210-240 of 240). A learning login vouches only for places that are
 * no stranger's, so its own vouch never covers one. */
bool metrics_learning_stranger(const struct metrics_ctx *c,
			       const struct addr *ip, uint32_t asn,
			       const char *cc)
{
    uint64_t today = c->now / STORE_DAY_S;
    const struct store_net *n;

    if (!metrics_site_learned(c) || c->user == NULL || cc[0] == 0
	|| !learning(c)
	|| !country_before_today(c, NULL) || granted(c, cc)
	|| addr_cidr_list_match(&c->cfg->policy.familiar_networks, ip)
	|| metrics_site_known(c, ip))
	return false;
    n = metrics_learned_net(c, ip, asn);
    if (metrics_far_line_stranger(c, ip, asn, n))
	return true;
    if (n != NULL && n->first_day < today)	/* learned on an earlier day */
	return n->days < c->cfg->policy.familiar_days
	    && stranger_origin(c, n, cc);
    return !country_before_today(c, cc);
}

/* metrics_volume_familiar - familiar, and not a learning login's stranger
 * (what the volume rules and the usual hour go by) */
bool metrics_volume_familiar(const struct metrics_ctx *c, const struct addr *ip,
			     uint32_t asn, const char *cc)
{
    return metrics_familiar(c, ip, asn)
	&& !metrics_learning_stranger(c, ip, asn, cc);
}

/* metrics_known_place - pinned, the site's or the login's own learned
 * place; no learning grace */
bool metrics_known_place(const struct metrics_ctx *c, const struct addr *ip,
			 uint32_t asn)
{
    return c->user != NULL
	&& (metrics_site_known(c, ip) || metrics_own_place(c, ip, asn));
}

/* metrics_located_before_today - country_before_today(c, NULL): mail
 * let through from a located place on an earlier day, for the other
 * metric files */
bool metrics_located_before_today(const struct metrics_ctx *c)
{
    return country_before_today(c, NULL);
}

/* net_text - a network as evidence: "AS64500 (RU)", "198.18.5.0/24" */
static void net_text(const struct addr *ip, uint32_t asn, const char cc[3],
		     char *out, size_t len)
{
    struct addr p;
    char a[ADDR_STRLEN];
    int n;

    if (store_net_key(ip, asn) == asn)
	n = snprintf(out, len, "AS%u", asn);
    else {
	addr_prefix(ip, &p);
	n = snprintf(out, len, "%s/%d", addr_format(&p, a, sizeof(a)),
		     addr_is_v4(ip) ? ADDR_V4_PREFIX : ADDR_V6_PREFIX);
    }
    if (cc[0] != 0 && n > 0 && (size_t) n < len)
	snprintf(out + n, len - (size_t) n, " (%.2s)", cc);
}

/* metrics_net_text - net_text for the other metric files */
void metrics_net_text(const struct addr *ip, uint32_t asn, const char cc[3],
		      char *out, size_t len)
{
    net_text(ip, asn, cc, out, len);
}

/* client_net - 1, with "WHAT network AS64500 (RU)" (the client's) as
 * evidence */
static uint64_t client_net(const struct metrics_ctx *c, const char *what,
			   char *ev, size_t evlen)
{
    char net[ADDR_STRLEN + 16];

    if (ev != NULL) {
	net_text(&c->f->client, c->f->geo.asn, c->f->geo.cc, net, sizeof(net));
	snprintf(ev, evlen, "%s network %s", what, net);
    }
    return 1;
}

/* m_new_network - the login never sent a message let through from the
 * client's network, though it did from others (also while it is
 * learning; a login's very first place is no signal) */
static uint64_t m_new_network(const struct metrics_ctx *c, uint32_t w,
			      char *ev, size_t evlen)
{
    (void) w;
    if (c->user->nets[0].days == 0 || metrics_site_known(c, &c->f->client)
	|| metrics_learned_net(c, &c->f->client, c->f->geo.asn) != NULL)
	return 0;
    return client_net(c, "new", ev, evlen);
}

/* m_unfamiliar_network - the client's network is not a familiar place,
 * or a learning login's stranger (metrics_learning_stranger) */
static uint64_t m_unfamiliar_network(const struct metrics_ctx *c, uint32_t w,
				     char *ev, size_t evlen)
{
    size_t n;
    uint32_t km;

    (void) w;
    if (metrics_familiar(c, &c->f->client, c->f->geo.asn)) {
	if (!metrics_learning_stranger(c, &c->f->client, c->f->geo.asn,
				       c->f->geo.cc))
	    return 0;
	client_net(c, "unfamiliar", ev, evlen);
	if (ev == NULL || (n = strlen(ev)) >= evlen)
	    return 1;
	if (metrics_far_line(c, &c->f->client, &km))
	    snprintf(ev + n, evlen - n, ": a line %u km from a learning"
		     " login's places in the country", km);
	else
	    snprintf(ev + n, evlen - n, ": new today to a learning login, as"
		     " is its country");
	return 1;
    }
    client_net(c, "unfamiliar", ev, evlen);
    metrics_far_text(c, &c->f->client, c->f->geo.asn, ev, evlen);
    return 1;
}

/* noun_len - how much of a plural noun ending in s to print after a count:
 * "1 message", "2 messages" */
static int noun_len(uint64_t count, const char *plural)
{
    return (int) strlen(plural) - (count == 1);
}

/* m_unfamiliar_networks - distinct unfamiliar networks among the
 * login's addresses seen in the window */
static uint64_t m_unfamiliar_networks(const struct metrics_ctx *c, uint32_t w,
				      char *ev, size_t evlen)
{
    uint64_t keys[STORE_IPS_MAX];
    char items[STORE_IPS_MAX][ADDR_STRLEN], list[RULES_REASON_MAX], d[16];
    size_t i = 0, j, n = 0;
    const struct store_ip *ip;

    while ((ip = metrics_unfamiliar_ip(c, w, &i)) != NULL) {
	uint64_t k = store_net_key(&ip->ip, ip->asn);
	char cc[3];

	for (j = 0; j < n && keys[j] != k; j++)
	    ;
	if (j < n)
	    continue;
	keys[n] = k;
	store_ip_cc(ip, cc);
	if (ev != NULL)
	    net_text(&ip->ip, ip->asn, cc, items[n], sizeof(items[n]));
	n++;
    }
    if (ev == NULL)
	return n;
    qsort(items, n, sizeof(items[0]), cmp_str);
    ev_list(list, sizeof(list), items, n);
    rules_format_duration(w, d, sizeof(d));
    snprintf(ev, evlen, "%zu unfamiliar %.*s in %s: %s", n,
	     noun_len(n, "networks"), "networks", d, list);
    return n;
}

/* m_unfamiliar_messages - messages (MAIL FROMs, this one included, the
 * refused ones too) from the login's addresses in unfamiliar networks
 * within the window, by each address's per-day counts (store_ip_recent):
 * one address abroad sending all afternoon adds up whatever the owner's
 * own volume, and an owner's hotel refused on a busy first day is
 * judged afresh a day later */
static uint64_t m_unfamiliar_messages(const struct metrics_ctx *c, uint32_t w,
				      char *ev, size_t evlen)
{
    uint64_t n = 0;
    size_t i, k = 0;
    char d[16];
    bool stranger = metrics_learning_stranger(c, &c->f->client,
					      c->f->geo.asn, c->f->geo.cc);
    bool new_day = metrics_trip_new_day(c, w), today = false, second = false;

    if (c->family_stay)
	return 0;		/* metrics_settled.c */

    for (i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];

	if (!metrics_in_window(ip->last_seen, c->now, w)
	    || (metrics_familiar(c, &ip->ip, ip->asn)
		&& !(addr_equal(&ip->ip, &c->f->client) && stranger)))
	    continue;
	n += metrics_address_recent(c, ip, w, new_day, &today);
	second |= metrics_second_home(c, ip);
	k++;
    }
    n = (n + STORE_IP_PARTS / 2) / STORE_IP_PARTS;	/* rounded once */
    if (ev != NULL) {
	rules_format_duration(w, d, sizeof(d));
	snprintf(ev, evlen, "%llu %.*s from %zu unfamiliar address%s in %s%s",
		 (unsigned long long) n, noun_len(n, "messages"), "messages",
		 k, k == 1 ? "" : "es", d,
		 today ? " (a place known since an earlier day: today's)"
		 : "");
	metrics_second_home_text(second, ev, evlen);
    }
    return n;
}

/* metrics_usual_floor - a learning login's usual hour, at least the
 * policy's floor */
bool metrics_usual_floor(const struct metrics_ctx *c, uint16_t *msgs,
			 uint16_t *rcpts)
{
    const struct cfg_policy *p = &c->cfg->policy;
    bool raised = false;

    if (c->user == NULL || !learning(c))
	return false;
    if (*msgs < p->learning_msgs)
	*msgs = (uint16_t) p->learning_msgs, raised = true;
    if (*rcpts < p->learning_rcpts)
	*rcpts = (uint16_t) p->learning_rcpts, raised = true;
    return raised;
}

/* over_usual - a window's count past the login's busiest usual hour */
static uint64_t over_usual(const struct metrics_ctx *c, enum store_counter k,
			   uint32_t w, const char *what, char *ev, size_t evlen)
{
    uint64_t v = c->win ? store_win_sum(c->win, k, c->now, w) : 0;
    uint64_t usual = k == STORE_MSGS ? c->usual_msgs : c->usual_rcpts;
    uint64_t slack = k == STORE_RCPTS ? metrics_rcpts_slack(c, usual, w) : 0;
    char d[16];

    if (c->cls != RULES_CLASS_AUTHENTICATED)
	return 0;
    if (ev != NULL) {
	rules_format_duration(w, d, sizeof(d));
	snprintf(ev, evlen, "%llu %.*s in %s, usual <= %llu%s",
		 (unsigned long long) v, noun_len(v, what), what, d,
		 (unsigned long long) usual,
		 c->usual_floor && usual == (k == STORE_MSGS
					     ? c->cfg->policy.learning_msgs
					     : c->cfg->policy.learning_rcpts)
		 ? " (a learning login's floor)" : "");
	metrics_slack_text(slack, ev, evlen);
    }
    if (v > usual && c->family_stay)
	return 0;			/* metrics_settled.c */
    if (k == STORE_MSGS && v > usual) {	/* metrics_settled.c, _roam.c */
	usual = metrics_settled_usual(c, usual, ev, evlen);
	usual = metrics_sim_usual(c, usual, ev, evlen);
	usual = metrics_roaming_usual(c, v, usual, w, ev, evlen);
    }
    if (k == STORE_RCPTS)
	usual = metrics_roaming_rcpts(c, v, usual + slack, w, ev, evlen) - slack;
    usual += slack;
    if (k == STORE_RCPTS)
	v = metrics_bulk_alone(c, v, usual - slack, usual, w);
    return v > usual ? v - usual : 0;
}

static uint64_t m_messages_over_usual(const struct metrics_ctx *c, uint32_t w,
				      char *ev, size_t evlen)
{
    return over_usual(c, STORE_MSGS, w, "messages", ev, evlen);
}

static uint64_t m_recipients_over_usual(const struct metrics_ctx *c,
					uint32_t w, char *ev, size_t evlen)
{
    return over_usual(c, STORE_RCPTS, w, "recipients", ev, evlen);
}

/* counter - a window sum of the user or client, this transaction's units
 * included (counted before the rules are judged) */
static uint64_t counter(const struct metrics_ctx *c, enum store_counter k,
			uint32_t w, const char *what, char *ev, size_t evlen)
{
    uint64_t v = c->win ? store_win_sum(c->win, k, c->now, w) : 0;
    char d[16];

    if (ev == NULL)
	return v;
    rules_format_duration(w, d, sizeof(d));
    snprintf(ev, evlen, "%llu %.*s in %s", (unsigned long long) v,
	     noun_len(v, what), what, d);
    return v;
}

static uint64_t m_messages(const struct metrics_ctx *c, uint32_t w,
			   char *ev, size_t evlen)
{
    return counter(c, STORE_MSGS, w, "messages", ev, evlen);
}

static uint64_t m_recipients(const struct metrics_ctx *c, uint32_t w,
			     char *ev, size_t evlen)
{
    return counter(c, STORE_RCPTS, w, "recipients", ev, evlen);
}

static uint64_t m_bytes(const struct metrics_ctx *c, uint32_t w,
			char *ev, size_t evlen)
{
    return counter(c, STORE_BYTES, w, "bytes", ev, evlen);
}

/* m_users_per_ip - distinct logins seen from the client address, or
 * from its /64 for IPv6 (one customer's: rotating inside it is one) */
static uint64_t m_users_per_ip(const struct metrics_ctx *c, uint32_t w,
			       char *ev, size_t evlen)
{
    const struct store_client *e = c->client64 ? c->client64 : c->client;
    char a[ADDR_STRLEN], d[16];
    struct addr net = c->f->client;
    uint64_t n = metrics_client_logins(e, c->now, w);

    if (ev == NULL)
	return n;
    if (c->client64 != NULL)
	memset(&net.b[8], 0, 8);
    rules_format_duration(w, d, sizeof(d));
    snprintf(ev, evlen, "%llu logins from %s%s in %s", (unsigned long long) n,
	     addr_format(&net, a, sizeof(a)), c->client64 ? "/64" : "", d);
    return n;
}

/* m_rogue_listed - the collector flagged the client address */
static uint64_t m_rogue_listed(const struct metrics_ctx *c, uint32_t w,
			       char *ev, size_t evlen)
{
    char a[ADDR_STRLEN];

    (void) w;
    if (!c->f->rogue_listed)
	return 0;
    if (ev != NULL)
	snprintf(ev, evlen, "%s is on the rogue list",
	     addr_format(&c->f->client, a, sizeof(a)));
    return 1;
}

/* What each metric is, needs, and when it can be judged. A counter is
 * judged in the phase its unit is counted in (messages at MAIL,
 * recipients at RCPT, bytes at end of message), once: a later phase
 * would see other sessions' units counted since and refuse a message
 * that was within the limit when its unit was counted. Address metrics
 * say something about the client's own address, so they do not apply
 * to a session relayed by a trusted host. */
static const struct {
    metric_fn fn;
    unsigned geo_caps;		/* GeoIP data it needs */
    bool user, client;		/* state it needs */
    bool addr;			/* about the client's address */
    unsigned phases;		/* bit per enum rules_phase */
} metric_table[CFG_METRIC_COUNT] = {
#define AT(p) (1u << (p))
    [CFG_METRIC_DISTINCT_IPS] = {m_distinct_ips, 0, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_DISTINCT_PREFIXES] = {m_distinct_prefixes, 0, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_DISTINCT_COUNTRIES] = {m_distinct_countries, GEO_CAP_COUNTRY, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_DISTINCT_ASNS] = {m_distinct_asns, GEO_CAP_ASN, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_NEW_COUNTRY] = {m_new_country, GEO_CAP_COUNTRY, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_TRAVEL_KMH] = {metrics_travel_kmh, GEO_CAP_LOCATION, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_MESSAGES] = {m_messages, 0, false, false, false, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_RECIPIENTS] = {m_recipients, 0, false, false, false, AT(RULES_PHASE_RCPT)},
    [CFG_METRIC_BYTES] = {m_bytes, 0, false, false, false, AT(RULES_PHASE_EOM)},
    [CFG_METRIC_USERS_PER_IP] = {m_users_per_ip, 0, false, true, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_ROGUE_LISTED] = {m_rogue_listed, 0, false, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_UNFAMILIAR_NETWORK] = {m_unfamiliar_network, 0, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_UNFAMILIAR_NETWORKS] = {m_unfamiliar_networks, 0, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_MESSAGES_OVER_USUAL] = {m_messages_over_usual, 0, false, false, false, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_RECIPIENTS_OVER_USUAL] = {m_recipients_over_usual, 0, false, false, false, AT(RULES_PHASE_RCPT)},
    [CFG_METRIC_UNFAMILIAR_MESSAGES] = {m_unfamiliar_messages, 0, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_NEW_NETWORK] = {m_new_network, 0, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_UNFAMILIAR_PLACES] = {metrics_network_hops, 0, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_UNFAMILIAR_MESSAGES_OVER_USUAL] = {metrics_unfamiliar_messages_over_usual, 0, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_COARSE_MESSAGES_OVER_USUAL] = {metrics_coarse_messages_over_usual, GEO_CAP_LOCATION, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_NEW_COUNTRIES] = {metrics_new_countries, GEO_CAP_COUNTRY, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_RECIPIENTS_OVER_PRIOR_USUAL] = {metrics_recipients_over_prior_usual, 0, false, false, false, AT(RULES_PHASE_RCPT)},
    [CFG_METRIC_RELAYED_MESSAGES_OVER_USUAL] = {metrics_relayed_messages_over_usual, 0, true, false, false, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_CARRIER_NETWORKS] = {metrics_carrier_networks, GEO_CAP_LOCATION | GEO_CAP_COUNTRY, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_REVISIT_MESSAGES] = {metrics_revisit_messages, GEO_CAP_COUNTRY | GEO_CAP_LOCATION, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_SHARED_MESSAGES_OVER_USUAL] = {metrics_shared_messages_over_usual, 0, true, true, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_NEWCOMER_MESSAGES] = {metrics_newcomer_messages, GEO_CAP_COUNTRY | GEO_CAP_ASN, true, false, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_NEWCOMER_RECIPIENTS] = {metrics_newcomer_recipients, GEO_CAP_COUNTRY | GEO_CAP_ASN, false, false, true, AT(RULES_PHASE_RCPT)},
    [CFG_METRIC_BULK_MESSAGES] = {metrics_bulk_messages, 0, false, false, false, AT(RULES_PHASE_RCPT)},
    [CFG_METRIC_NEW_EXIT] = {metrics_new_exit, 0, true, true, true, AT(RULES_PHASE_MAIL)},
    [CFG_METRIC_PRIOR_RECIPIENTS_OVER_USUAL] = {metrics_prior_recipients_bulk, 0, false, false, false, AT(RULES_PHASE_RCPT)},
    [CFG_METRIC_NEWCOMER_LINE_RECIPIENTS] = {metrics_newcomer_line_recipients, GEO_CAP_LOCATION, false, false, true, AT(RULES_PHASE_RCPT)},
    [CFG_METRIC_ABROAD_LINE_MESSAGES_OVER_USUAL] = {metrics_abroad_line_messages, GEO_CAP_COUNTRY | GEO_CAP_LOCATION, true, false, true, AT(RULES_PHASE_MAIL)},
#undef AT
};

/* metrics_phase - is the metric judged in this phase? */
bool metrics_phase(enum cfg_metric m, enum rules_phase phase)
{
    return (unsigned) m < CFG_METRIC_COUNT
	&& (metric_table[m].phases & (1u << phase)) != 0;
}

/* metrics_geo_needs - the GeoIP data a metric needs */
unsigned metrics_geo_needs(enum cfg_metric m)
{
    return (unsigned) m < CFG_METRIC_COUNT ? metric_table[m].geo_caps : 0;
}

/* metrics_available - are the data the metric needs at hand? */
bool metrics_available(enum cfg_metric m, const struct metrics_ctx *c)
{
    if ((unsigned) m >= CFG_METRIC_COUNT)
	return false;
    return (c->f->geo_caps & metric_table[m].geo_caps) == metric_table[m].geo_caps
	&& !(metric_table[m].addr && c->relayed)
	&& (!metric_table[m].user || c->user != NULL)
	&& (!metric_table[m].client || c->client != NULL);
}

/* metrics_eval - the value of one metric, with its evidence */
uint64_t metrics_eval(enum cfg_metric m, const struct metrics_ctx *c,
		      uint32_t window_s, char *ev, size_t evlen)
{
    if (ev != NULL && evlen > 0)
	ev[0] = 0;
    if (!metrics_available(m, c))
	return 0;
    return metric_table[m].fn(c, window_s, ev, evlen);
}
