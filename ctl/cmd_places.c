/*
 * cmd_places - the part of "show USER" that says what the judgement of
 * a login rests on: whether it is still learning, its familiar networks
 * (AS number or prefix, first and last day used, days seen), its usual
 * busiest hour of messages and recipients, its usual busiest day of
 * messages and the trip allowance the engine makes of it (the smaller
 * of that day and METRICS_TRIP_DAY_HOURS busiest hours), its usual hour
 * on its own carrier's pool (what carrier-volume counts past) and the day
 * it last rose, the hubs of its carriers' pools it was noted at, its
 * usual recipients hour as it stood before today (what
 * recipients_over_prior_usual counts past), its messages through the
 * site's webmail (the last hour's, its busiest hour of the days before
 * and of today, what webmail-volume counts past), the last mail from
 * its home place (trip_home, second_home), and for each
 * remembered
 * address whether it is familiar and why (its own network, learning,
 * pinned by the admin, vouched for by another login).
 *
 * Contract: reads a copy of the user entry and, per address, the client
 * entry (for the vouched time) through the read-only handle; a busy
 * client entry is reported as such, never waited for. Whether an address
 * is familiar is the engine's answer (metrics_familiar and
 * metrics_own_place); cmd_places_why only names the reason, so a new
 * kind of familiarity is one more case there.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd_places.h"
#include "metrics.h"
#include "store_view.h"
#include "text.h"

#define LINE_MAX_TEXT 512
#define DATE_MAX 16		/* "2026-11-22" and a NUL, with room */
#define NET_MAX (ADDR_STRLEN + 16)
#define V4_HIGH_MASK 0xff000000u	/* a /24 key leaves these bits 0 */
#define HUBS_SHOWN 16		/* known hubs read, at most */

/* learn_end - when the login's learning period ends (seconds) */
static uint64_t learn_end(const struct cmd_places *p)
{
    return metrics_learning_end(p->c->cfg, p->u);
}

/* vouched_now - is a vouched time still making the address familiar? */
static bool vouched_now(const struct cmd_places *p, uint32_t t)
{
    return t != 0 && (t >= p->c->now || p->c->now - t < METRICS_VOUCH_S);
}

/* site_load - what the site's entry of address i's network says (as
 * rules.c site_note reads it at MAIL): one of the site's networks, a
 * neighbour's; unread (busy, unknown) it says neither */
static void site_load(struct ctl *c, struct cmd_places *p, uint32_t i)
{
    struct store_client site;
    struct addr key;

    if (p->c->cfg->policy.site_logins == 0)
	return;
    store_site_key(&p->u->ips[i].ip, &key);
    if (ctl_client_get(c, &key, &site) != STORE_OK)
	return;
    p->site[i] = metrics_site_network(p->c->cfg, &site, p->c->now);
    p->neighbour[i] = metrics_neighbour_network(p->c->cfg, &site,
						p->c->now);
}

/* cmd_places_load - the vouched time of every address of the login, and
 * its network's standing with the site */
int cmd_places_load(struct ctl *c, const struct store_user *u,
		    struct cmd_places *p)
{
    struct store_client cl;

    memset(p, 0, sizeof(*p));
    p->c = c;
    p->u = u;
    for (uint32_t i = 0; i < u->nips && i < STORE_IPS_MAX; i++) {
	int rc = ctl_client_get(c, &u->ips[i].ip, &cl);

	if (rc == STORE_OK)
	    p->vouched[i] = cl.vouched;
	else if (rc == STORE_TIMEOUT)
	    p->busy[i] = true;
	else if (rc != STORE_NOTFOUND)
	    return rc;
	site_load(c, p, i);
    }
    return STORE_OK;
}

/* first_home - is address i a first home line (metrics_first_home), as
 * the engine judges it with the client there: its place as remembered */
static bool first_home(const struct cmd_places *p, uint32_t i,
		       const struct metrics_ctx *base)
{
    const struct store_ip *ip = &p->u->ips[i];
    struct rules_facts f = { .client = ip->ip };
    struct metrics_ctx mc = *base;

    if (!p->neighbour[i])
	return false;
    f.geo.asn = ip->asn;
    f.geo.has_loc = ip->lat_c != STORE_NO_LOC;
    f.geo.acc_km = (uint16_t) store_ip_radius(ip);
    store_ip_cc(ip, f.geo.cc);
    mc.f = &f;
    mc.neighbour = true;
    return metrics_first_home(&mc, &ip->ip);
}

/* cmd_places_why - the engine's verdict on address i, with its reason */
enum cmd_place_why cmd_places_why(const struct cmd_places *p, uint32_t i)
{
    const struct store_ip *ip = &p->u->ips[i];
    struct rules_facts f = { .client = ip->ip };
    struct store_client cl = { .ip = ip->ip, .vouched = p->vouched[i] };
    struct metrics_ctx mc = { .cfg = p->c->cfg, .f = &f, .now = p->c->now,
	.cls = RULES_CLASS_AUTHENTICATED, .user = p->u, .client = &cl,
	.site_start = store_site_start(p->c->st, 0) };

    f.geo.asn = ip->asn;
    mc.site = p->site[i];
    if (!metrics_familiar(&mc, &ip->ip, ip->asn))
	return first_home(p, i, &mc) ? CMD_PLACE_NEIGHBOUR
	    : p->busy[i] ? CMD_PLACE_BUSY : CMD_PLACE_NO;
    if (metrics_own_place(&mc, &ip->ip, ip->asn))
	return CMD_PLACE_OWN;
    if (p->c->now < learn_end(p))
	return CMD_PLACE_LEARNING;
    if (addr_cidr_list_match(&p->c->cfg->policy.familiar_networks, &ip->ip))
	return CMD_PLACE_PINNED;
    if (vouched_now(p, p->vouched[i]))
	return CMD_PLACE_VOUCHED;
    return CMD_PLACE_SITE;
}

/* cmd_places_word - a reason as one word for tables and JSON */
const char *cmd_places_word(enum cmd_place_why why)
{
    static const char *const words[] = {
	[CMD_PLACE_NO] = "no", [CMD_PLACE_OWN] = "own",
	[CMD_PLACE_LEARNING] = "learning", [CMD_PLACE_PINNED] = "pinned",
	[CMD_PLACE_VOUCHED] = "vouched", [CMD_PLACE_SITE] = "site",
	[CMD_PLACE_NEIGHBOUR] = "neighbour", [CMD_PLACE_BUSY] = "busy",
    };

    return (size_t) why < sizeof(words) / sizeof(words[0]) ? words[why]
	: "?";
}

/* day_text - a day number as a UTC date */
static void day_text(uint16_t day, char *buf, size_t len)
{
    time_t t = (time_t) day * STORE_DAY_S;
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y-%m-%d", &tm) == 0)
	snprintf(buf, len, "day %u", day);
}

/* net_address - a remembered address in the network, or NULL */
static const struct store_ip *net_address(const struct cmd_places *p,
					  const struct store_net *n)
{
    for (uint32_t i = 0; i < p->u->nips && i < STORE_IPS_MAX; i++)
	if (store_net_key(&p->u->ips[i].ip, p->u->ips[i].asn) == n->key)
	    return &p->u->ips[i];
    return NULL;
}

/* net_name - "AS64500", "198.18.5.0/24", "2001:db8:7::/48"; the
 * country of a remembered address in it, "" if none is left */
static void net_name(const struct cmd_places *p, const struct store_net *n,
		     char *name, size_t len, char cc[3])
{
    const struct store_ip *ip = net_address(p, n);
    uint32_t k = (uint32_t) n->key;
    struct addr pre;
    char a[ADDR_STRLEN];

    cc[0] = '\0';
    if (ip != NULL)
	store_ip_cc(ip, cc);
    if (!(n->key & STORE_NET_PREFIX))
	snprintf(name, len, "AS%u", k);
    else if (ip != NULL) {
	addr_prefix(&ip->ip, &pre);
	snprintf(name, len, "%s/%d", addr_format(&pre, a, sizeof(a)),
		 addr_is_v4(&ip->ip) ? ADDR_V4_PREFIX : ADDR_V6_PREFIX);
    } else if (!(k & V4_HIGH_MASK))
	snprintf(name, len, "%u.%u.%u.0/%d", k >> 16, (k >> 8) & 0xff,
		 k & 0xff, ADDR_V4_PREFIX);
    else
	snprintf(name, len, "an IPv6 /%d", ADDR_V6_PREFIX);
}

/* net_familiar - the engine's answer (metrics_net_own): seen on
 * familiar_days days, or first used while the login was learning and
 * not with a country new that day */
static bool net_familiar(const struct cmd_places *p, const struct store_net *n)
{
    struct rules_facts f = { .client = { .b = { 0 } } };
    struct metrics_ctx mc = { .cfg = p->c->cfg, .f = &f, .now = p->c->now,
	.cls = RULES_CLASS_AUTHENTICATED, .user = p->u,
	.site_start = store_site_start(p->c->st, 0) };
    const struct store_ip *ip = net_address(p, n);
    char cc[3] = "";

    if (ip != NULL)
	store_ip_cc(ip, cc);
    return metrics_net_own(&mc, n, cc);
}

/* learning_line - "yes, until ...: ..." or "no, ended ..."; whether a
 * stranger stays unfamiliar depends on the site (ctl_strangers_from) */
static void learning_line(const struct cmd_places *p, char *line, size_t len)
{
    uint64_t end = learn_end(p);
    uint32_t from = ctl_strangers_from(p->c);
    char until[TEXT_TIME_MAX], site[TEXT_TIME_MAX];

    text_time(end > UINT32_MAX ? UINT32_MAX : (uint32_t) end, until,
	      sizeof(until));
    text_time(from, site, sizeof(site));
    if (p->u->first_seen == 0)
	snprintf(line, len, "not started: it starts with the login's first"
		 " message");
    else if (p->c->now >= end)
	snprintf(line, len, "no, ended %s", until);
    else if (from != 0 && p->c->now >= from)
	snprintf(line, len, "yes, until %s: every network and country counts"
		 " as familiar (but a stranger's: a network and country both"
		 " new today), new_country stays quiet", until);
    else if (from != 0 && from < end)
	snprintf(line, len, "yes, until %s: every network and country counts"
		 " as familiar (a stranger's too until %s, the end of the"
		 " site's first learning period), new_country stays quiet",
		 until, site);
    else if (from != 0)
	snprintf(line, len, "yes, until %s: every network and country counts"
		 " as familiar (a stranger's too: the site is in its first"
		 " learning period), new_country stays quiet", until);
    else
	snprintf(line, len, "yes, until %s: every network and country counts"
		 " as familiar, new_country stays quiet", until);
}

/* usual_line - the busiest hour learned from familiar places, and the
 * last hour's counts beside it */
static void usual_line(const struct cmd_places *p, char *line, size_t len)
{
    uint64_t m = store_win_sum(&p->u->win, STORE_MSGS, p->c->now, 3600);
    uint64_t r = store_win_sum(&p->u->win, STORE_RCPTS, p->c->now, 3600);

    if (p->u->usual_msgs == 0 && p->u->usual_rcpts == 0)
	snprintf(line, len, "none yet (learned only from familiar places);"
		 " last hour %llu, %llu", (unsigned long long) m,
		 (unsigned long long) r);
    else
	snprintf(line, len, "%u message%s, %u recipient%s in an hour; last"
		 " hour %llu, %llu", p->u->usual_msgs,
		 p->u->usual_msgs == 1 ? "" : "s", p->u->usual_rcpts,
		 p->u->usual_rcpts == 1 ? "" : "s", (unsigned long long) m,
		 (unsigned long long) r);
}

/* trip_day - a trip's allowance a day: the engine's
 * metrics_usual_day over the login's usual hour (a learning login's
 * raised to the policy's floor, as rules.c note_place does) */
static uint64_t trip_day(const struct cmd_places *p)
{
    struct metrics_ctx mc = { .cfg = p->c->cfg, .now = p->c->now,
	.cls = RULES_CLASS_AUTHENTICATED, .user = p->u,
	.site_start = store_site_start(p->c->st, 0) };
    uint16_t msgs = p->u->usual_msgs, rcpts = p->u->usual_rcpts;

    mc.usual_floor = metrics_usual_floor(&mc, &msgs, &rcpts);
    mc.usual_msgs = msgs, mc.usual_rcpts = rcpts;
    return metrics_usual_day(&mc);
}

/* usual_day_line - the busiest rolling day learned from familiar
 * places, the last day's count, and a trip's allowance made of them */
static void usual_day_line(const struct cmd_places *p, char *line,
			   size_t len)
{
    uint64_t d = store_win_sum(&p->u->win, STORE_MSGS, p->c->now, STORE_DAY_S);
    unsigned long long trip = (unsigned long long) trip_day(p);
    size_t used;

    if (p->u->usual_day == 0)
	used = (size_t) snprintf(line, len, "none yet (learned only from"
				 " familiar places); last day %llu",
				 (unsigned long long) d);
    else
	used = (size_t) snprintf(line, len, "%u message%s in a day; last"
				 " day %llu", p->u->usual_day,
				 p->u->usual_day == 1 ? "" : "s",
				 (unsigned long long) d);
    if (used < len)
	snprintf(line + used, len - used, "; a trip abroad may send %llu a"
		 " day (%s%u busiest hours)", trip,
		 p->u->usual_day == 0 ? "" : "at most ",
		 METRICS_TRIP_DAY_HOURS);
}

/* on_off - a policy key's state as a word */
static const char *on_off(bool on)
{
    return on ? "on" : "off";
}

/* home_line - the last mail let through from the login's home place
 * (what trip_home and second_home read, metrics_home.c) */
static void home_line(const struct cmd_places *p, char *line, size_t len)
{
    const struct cfg_policy *c = &p->c->cfg->policy;
    char at[TEXT_TIME_MAX], ago[TEXT_AGE_MAX];
    size_t used;

    if (p->u->home_seen == 0)
	used = (size_t) snprintf(line, len, "no mail from it yet");
    else {
	text_time(p->u->home_seen, at, sizeof(at));
	text_age(p->c->now, p->u->home_seen, ago, sizeof(ago));
	used = (size_t) snprintf(line, len, "last mail %s (%s ago)", at, ago);
    }
    if (used < len)
	snprintf(line + used, len - used, "; trip_home %s, second_home %s",
		 on_off(c->trip_home), on_off(c->second_home));
}

/* coarse_past - what carrier-volume counts past: the usual coarse hour,
 * at least its floor (metrics_carrier.c) */
static unsigned coarse_past(const struct cmd_places *p)
{
    return p->u->usual_coarse > METRICS_COARSE_FLOOR ? p->u->usual_coarse
	: METRICS_COARSE_FLOOR;
}

/* coarse_raised - did the usual coarse hour rise today past learning
 * (by one a day, store_carrier.c)? What the engine asks of the day byte,
 * and all it can tell: the byte keeps the low byte of the day (store_wrap.c
 * rolls it so that it never reads as today's wrongly), learning writes
 * none, so its 0 is a raise on a day ...00 as well as "never" (show took
 * the one for the other), and an earlier day reads the same as one 256
 * days before it. */
static bool coarse_raised(const struct cmd_places *p)
{
    return p->u->usual_coarse != 0
	&& store_view_day(p->u, p->u->coarse_day) == p->c->now / STORE_DAY_S;
}

/* coarse_line - the usual hour on the login's own carrier's pool, and
 * whether it rose today */
static void coarse_line(const struct cmd_places *p, char *line, size_t len)
{
    size_t used;

    if (p->u->usual_coarse == 0) {
	snprintf(line, len, "none yet (learned from its own networks' coarse"
		 " addresses); carrier-volume counts past %u", coarse_past(p));
	return;
    }
    used = (size_t) snprintf(line, len, "%u message%s in an hour from its own"
			     " networks' coarse addresses; carrier-volume"
			     " counts past %u", p->u->usual_coarse,
			     p->u->usual_coarse == 1 ? "" : "s", coarse_past(p));
    if (coarse_raised(p) && used < len)
	snprintf(line + used, len - used, "; raised today (by one a day"
		 " past learning)");
}

/* hubs_known - how many of the login's known hubs count as known now
 * (noted before today); *n: how many it has, *day: the latest note's */
static unsigned hubs_known(const struct cmd_places *p, uint16_t *tags,
			   unsigned *n, uint16_t *day)
{
    unsigned k = 0;

    *n = store_view_hubs(p->u, tags, HUBS_SHOWN, day);
    for (unsigned i = 0; i < *n; i++)
	k += store_user_hub_known(p->u, tags[i], p->c->now);
    return k;
}

/* hubs_line - the hubs of its carriers' pools the login was noted at
 * (carrier-volume: an address at a hub new to the login) */
static void hubs_line(const struct cmd_places *p, char *line, size_t len)
{
    uint16_t tags[HUBS_SHOWN], day;
    unsigned n, known = hubs_known(p, tags, &n, &day);
    char d[DATE_MAX];

    if (n == 0) {
	snprintf(line, len, "none yet (noted from mail let through from its"
		 " own networks' coarse addresses)");
	return;
    }
    day_text(day, d, sizeof(d));
    snprintf(line, len, "%u noted, %u known (noted before today); last"
	     " noted %s", n, known, d);
}

/* prior_today - was the usual recipients hour kept today (before
 * today's mail could raise it, store_prior.c)? *kept: the hour kept */
static bool prior_today(const struct cmd_places *p, uint16_t *kept)
{
    uint8_t lo;

    *kept = store_view_prior(p->u, &lo);
    return store_view_day(p->u, lo) == p->c->now / STORE_DAY_S;
}

/* prior_line - the usual recipients hour as it stood before today (what
 * recipients_over_prior_usual counts past) */
static void prior_line(const struct cmd_places *p, char *line, size_t len)
{
    uint16_t kept, r = store_user_prior_rcpts(p->u, p->c->now);

    if (prior_today(p, &kept))
	snprintf(line, len, "%u recipient%s in an hour as it stood before"
		 " today (now %u); recipients_over_prior_usual counts past"
		 " it", r, r == 1 ? "" : "s", p->u->usual_rcpts);
    else
	snprintf(line, len, "%u recipient%s in an hour, the usual hour (it"
		 " was not raised today); recipients_over_prior_usual counts"
		 " past it", r, r == 1 ? "" : "s");
}

/* relay_past - what webmail-volume counts past (metrics_relay.c) */
static uint64_t relay_past(const struct cmd_places *p)
{
    struct metrics_ctx mc = { .cfg = p->c->cfg, .now = p->c->now,
	.cls = RULES_CLASS_AUTHENTICATED, .user = p->u, .relayed = true,
	.site_start = store_site_start(p->c->st, 0) };

    return metrics_relayed_usual(&mc);
}

/* webmail_line - the login's messages through a trusted relay (the
 * site's webmail): the last hour's, its busiest hour let through on the
 * days before and today, and what webmail-volume counts past */
static void webmail_line(const struct cmd_places *p, char *line, size_t len)
{
    struct store_view_relay r;

    store_view_relay(p->u, p->c->now, &r);
    snprintf(line, len, "%u message%s in the last hour; busiest hour let"
	     " through %u on the days before, %u today; webmail-volume"
	     " counts past %llu", r.hour, r.hour == 1 ? "" : "s", r.usual,
	     r.today, (unsigned long long) relay_past(p));
}

/* vouched_line - the login's addresses the site vouched for; 0 if none */
static size_t vouched_line(const struct cmd_places *p, char *line, size_t len)
{
    size_t used = 0, n = 0;

    line[0] = '\0';
    for (uint32_t i = 0; i < p->u->nips && i < STORE_IPS_MAX && used < len;
	 i++) {
	char a[ADDR_STRLEN], ago[TEXT_AGE_MAX];

	if (!vouched_now(p, p->vouched[i]))
	    continue;
	text_age(p->c->now, p->vouched[i], ago, sizeof(ago));
	used += (size_t) snprintf(line + used, len - used, "%s%s (%s ago)",
				  n++ ? ", " : "",
				  addr_format(&p->u->ips[i].ip, a, sizeof(a)),
				  ago);
    }
    return n;
}

/* nets_line - "3 learned, 2 familiar (after 2 days, ...)" */
static void nets_line(const struct cmd_places *p, char *line, size_t len)
{
    unsigned n = 0, fam = 0;

    for (int i = 0; i < STORE_NETS; i++)
	if (p->u->nets[i].days != 0) {
	    n++;
	    fam += net_familiar(p, &p->u->nets[i]);
	}
    snprintf(line, len, "%u learned, %u familiar (after %u day%s, or first"
	     " used while learning)", n, fam,
	     p->c->cfg->policy.familiar_days,
	     p->c->cfg->policy.familiar_days == 1 ? "" : "s");
}

/* cmd_places_rows - learning, networks, usual hour and day, carrier,
 * known hubs, prior hour, webmail, home place, vouched (only when it
 * has any) */
int cmd_places_rows(const struct cmd_places *p, struct table *kv)
{
    static const struct {
	const char *key;
	void (*fill)(const struct cmd_places *, char *, size_t);
    } rows[] = {
	{"learning", learning_line}, {"networks", nets_line},
	{"usual hour", usual_line}, {"usual day", usual_day_line},
	{"carrier", coarse_line}, {"known hubs", hubs_line},
	{"prior hour", prior_line}, {"webmail", webmail_line},
	{"home place", home_line},
    };
    char line[LINE_MAX_TEXT];
    const char *cells[] = { "", line };
    int rc = 0;

    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
	rows[i].fill(p, line, sizeof(line));
	cells[0] = rows[i].key;
	rc |= table_add(kv, cells);
    }
    if (vouched_line(p, line, sizeof(line)) > 0) {
	cells[0] = "vouched";
	rc |= table_add(kv, cells);
    }
    return rc;
}

/* cmd_places_nets_table - every learned network of the login */
int cmd_places_nets_table(const struct cmd_places *p)
{
    static const struct table_col cols[] = {
	{"NETWORK", TABLE_LEFT, 1, 15, 0}, {"CC", TABLE_LEFT, 0, 0, 0},
	{"FIRST USED", TABLE_LEFT, 0, 0, 0}, {"LAST USED", TABLE_LEFT, 0, 0, 0},
	{"DAYS", TABLE_RIGHT, 0, 0, 0}, {"FAMILIAR", TABLE_LEFT, 0, 0, 0},
    };
    struct table *t = table_new(cols, sizeof(cols) / sizeof(cols[0]));
    int rc = t == NULL ? -1 : 0;

    for (int i = 0; rc == 0 && i < STORE_NETS; i++) {
	const struct store_net *n = &p->u->nets[i];
	char name[NET_MAX], cc[3], first[DATE_MAX], last[DATE_MAX], days[8];
	const char *cells[] = { name, cc, first, last, days,
	    net_familiar(p, n) ? "yes" : "not yet" };

	if (n->days == 0)
	    continue;
	net_name(p, n, name, sizeof(name), cc);
	day_text(n->first_day, first, sizeof(first));
	day_text(n->last_day, last, sizeof(last));
	snprintf(days, sizeof(days), "%u", n->days);
	rc = table_add(t, cells);
    }
    if (rc == 0 && table_rows(t) > 0) {
	fputc('\n', p->c->out);
	rc = table_print(t, p->c->out, TABLE_WIDTH);
    }
    table_free(t);
    return rc;
}

/* nets_json - "networks": every learned network */
static void nets_json(const struct cmd_places *p, struct json *j)
{
    json_key(j, "networks");
    json_arr(j);
    for (int i = 0; i < STORE_NETS; i++) {
	const struct store_net *n = &p->u->nets[i];
	char name[NET_MAX], cc[3];

	if (n->days == 0)
	    continue;
	net_name(p, n, name, sizeof(name), cc);
	json_obj(j);
	json_kstr(j, "network", name);
	json_kuint(j, "asn", n->key & STORE_NET_PREFIX ? 0 : n->key);
	json_kstr(j, "country", cc);
	json_kuint(j, "first_day", n->first_day);
	json_kuint(j, "last_day", n->last_day);
	json_kuint(j, "days", n->days);
	json_kbool(j, "familiar", net_familiar(p, n));
	json_obj_end(j);
    }
    json_arr_end(j);
}

/* hubs_json - "hubs": the known hubs' tags, how many count as known,
 * the latest note's day */
static void hubs_json(const struct cmd_places *p, struct json *j)
{
    uint16_t tags[HUBS_SHOWN], day;
    unsigned n, known = hubs_known(p, tags, &n, &day);

    json_key(j, "hubs");
    json_obj(j);
    json_key(j, "noted");
    json_arr(j);
    for (unsigned i = 0; i < n; i++)
	json_uint(j, tags[i]);
    json_arr_end(j);
    json_kuint(j, "known", known);
    json_key(j, "last_day");
    if (n == 0)
	json_null(j);
    else
	json_uint(j, day);
    json_obj_end(j);
}

/* prior_json - "prior_usual": the recipients hour before today */
static void prior_json(const struct cmd_places *p, struct json *j)
{
    uint16_t kept;
    bool today = prior_today(p, &kept);

    json_key(j, "prior_usual");
    json_obj(j);
    json_kuint(j, "recipients", store_user_prior_rcpts(p->u, p->c->now));
    json_kbool(j, "kept_today", today);
    json_obj_end(j);
}

/* webmail_json - "webmail": webmail_line's counts */
static void webmail_json(const struct cmd_places *p, struct json *j)
{
    struct store_view_relay r;

    store_view_relay(p->u, p->c->now, &r);
    json_key(j, "webmail");
    json_obj(j);
    json_kuint(j, "last_hour", r.hour);
    json_kuint(j, "usual", r.usual);
    json_kuint(j, "today", r.today);
    json_kuint(j, "counts_past", relay_past(p));
    json_obj_end(j);
}

/* cmd_places_json - learning, usual_hour, usual_day, usual_coarse,
 * hubs, prior_usual, webmail, home, networks, vouched */
void cmd_places_json(const struct cmd_places *p, struct json *j)
{
    uint64_t end = learn_end(p);
    char a[ADDR_STRLEN];

    json_key(j, "learning");
    json_obj(j);
    json_kbool(j, "active", p->u->first_seen != 0 && p->c->now < end);
    json_key(j, "until");
    if (p->u->first_seen == 0)
	json_null(j);		/* starts with the first message */
    else
	json_uint(j, end);
    json_key(j, "strangers_from");
    if (ctl_strangers_from(p->c) == 0)
	json_null(j);
    else
	json_uint(j, ctl_strangers_from(p->c));
    json_obj_end(j);
    json_key(j, "usual_hour");
    json_obj(j);
    json_kuint(j, "messages", p->u->usual_msgs);
    json_kuint(j, "recipients", p->u->usual_rcpts);
    json_obj_end(j);
    json_key(j, "usual_day");
    json_obj(j);
    json_kuint(j, "messages", p->u->usual_day);
    json_kuint(j, "trip_allowance", trip_day(p));
    json_obj_end(j);
    json_key(j, "usual_coarse");
    json_obj(j);
    json_kuint(j, "messages", p->u->usual_coarse);
    json_kuint(j, "counts_past", coarse_past(p));
    json_key(j, "raised_day");
    if (!coarse_raised(p))
	json_null(j);
    else
	json_uint(j, p->c->now / STORE_DAY_S);
    json_obj_end(j);
    hubs_json(p, j);
    prior_json(p, j);
    webmail_json(p, j);
    json_key(j, "home");
    json_obj(j);
    json_key(j, "seen");
    if (p->u->home_seen == 0)
	json_null(j);
    else
	json_uint(j, p->u->home_seen);
    json_kbool(j, "trip_home", p->c->cfg->policy.trip_home);
    json_kbool(j, "second_home", p->c->cfg->policy.second_home);
    json_obj_end(j);
    nets_json(p, j);
    json_key(j, "vouched");
    json_arr(j);
    for (uint32_t i = 0; i < p->u->nips && i < STORE_IPS_MAX; i++)
	if (vouched_now(p, p->vouched[i])) {
	    json_obj(j);
	    json_kstr(j, "address", addr_format(&p->u->ips[i].ip, a,
						sizeof(a)));
	    json_kuint(j, "at", p->vouched[i]);
	    json_kuint(j, "until", (uint64_t) p->vouched[i]
		       + METRICS_VOUCH_S);
	    json_obj_end(j);
	}
    json_arr_end(j);
}
