/*
 * detect - judge local SMTP hosts and raise flags with evidence (see
 * detect.h). The rules, in the US-CERT slides' words:
 *   rogue_server   a local host answers SMTP for external clients and is
 *                  not a known mail server (whitelisted or an MX of ours);
 *   direct_sender  a local host that is no known mail server opens
 *                  connections to external port 25 (seed 000's PC);
 *   volume_jump    a day's SMTP connections far above the host's history;
 *   fan_out        many distinct external mail servers within a window.
 * Traits that make a host look like a mail server (its name, mostly mail
 * traffic, a history of serving) are evidence for the admin's whitelist
 * decision; they do not silence a flag by themselves.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"

static const char *const kind_names[DET_KIND_COUNT] = {
    "rogue_server", "direct_sender", "volume_jump", "fan_out",
};

/* det_kind_name - the JSON name of a flag kind */
const char *det_kind_name(enum det_kind k)
{
    return (unsigned) k < DET_KIND_COUNT ? kind_names[k] : "?";
}

/* det_named_mail - does a label of the name start with a mail word? */
bool det_named_mail(const char *name)
{
    static const char *const words[] = {"smtp", "mail", "relay", "mx", "mta"};
    const char *p = name;
    size_t i;

    while (*p) {
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
	    if (strncasecmp(p, words[i], strlen(words[i])) == 0)
		return true;
	while (*p && *p != '.' && *p != '-')
	    p++;
	while (*p == '.' || *p == '-')
	    p++;
    }
    return false;
}

/* det_known - a known mail server: whitelisted or an MX of ours */
bool det_known(const struct det_traits *t)
{
    return t->whitelisted || t->is_mx;
}

/* day_of - the UTC day of a time */
static int64_t day_of(int64_t ms)
{
    return ms >= 0 ? ms / DET_MS_PER_DAY : -((-ms + DET_MS_PER_DAY - 1) / DET_MS_PER_DAY);
}

/* cmp_ev_day_peer - events by day, then peer */
static int cmp_ev_day_peer(const void *x, const void *y)
{
    const struct an_ev *a = x, *b = y;
    int64_t da = day_of(a->t_ms), db = day_of(b->t_ms);

    if (da != db)
	return da < db ? -1 : 1;
    return memcmp(&a->peer, &b->peer, sizeof(a->peer));
}

/* cmp_u16 - ports in order */
static int cmp_u16(const void *x, const void *y)
{
    return (int) *(const uint16_t *) x - (int) *(const uint16_t *) y;
}

/* count_ports - distinct local ports of events [i, j) */
static uint32_t count_ports(const struct an_ev *v, size_t i, size_t j)
{
    uint16_t *p = malloc((j - i) * sizeof(*p));
    uint32_t n = 0;
    size_t k;

    if (p == NULL)
	return 0;
    for (k = i; k < j; k++)
	p[k - i] = v[k].local_port;
    qsort(p, j - i, sizeof(*p), cmp_u16);
    for (k = 0; k < j - i; k++)
	n += k == 0 || p[k] != p[k - 1];
    free(p);
    return n;
}

/* det_days - the host's SMTP per UTC day; 0, or -1 when out of memory */
int det_days(const struct an_host *h, struct det_day **out, size_t *n)
{
    struct an_ev *v;
    size_t i, j, k;

    *out = NULL;
    *n = 0;
    if (h->ev.n == 0)
	return 0;
    if ((v = malloc(h->ev.n * sizeof(*v))) == NULL
	|| (*out = calloc(h->ev.n, sizeof(**out))) == NULL) {
	free(v);
	return -1;
    }
    memcpy(v, h->ev.v, h->ev.n * sizeof(*v));
    qsort(v, h->ev.n, sizeof(*v), cmp_ev_day_peer);
    for (i = 0; i < h->ev.n; i = j) {
	struct det_day *d = &(*out)[(*n)++];

	d->day = day_of(v[i].t_ms);
	for (j = i; j < h->ev.n && day_of(v[j].t_ms) == d->day; j++) {
	    d->conns += v[j].conns;
	    d->served += v[j].role == AN_SERVER ? v[j].conns : 0;
	    d->sent += v[j].role == AN_CLIENT ? v[j].conns : 0;
	    d->bytes += v[j].bytes_in + v[j].bytes_out;
	    d->pkts += v[j].pkts;
	}
	for (k = i; k < j; k++)
	    d->peers += k == i || memcmp(&v[k].peer, &v[k - 1].peer, sizeof(v[k].peer)) != 0;
	d->ports = count_ports(v, i, j);
    }
    free(v);
    return 0;
}

/* share - percent of part in all, -1 when all is unknown */
static int share(uint64_t part, uint64_t all)
{
    if (all == 0)
	return -1;
    return part >= all ? 100 : (int) (part * 100 / all);
}

/* det_shares - the share of mail in the host's flows and bytes */
void det_shares(const struct an_host *h, struct det_flag *f)
{
    f->share_flows = share(h->smtp_flows, h->all_flows);
    f->share_bytes = share(h->smtp_bytes, h->all_bytes);
}

/* base_flag - a flag with the role's totals filled in */
static struct det_flag base_flag(const struct an_host *h, enum det_kind k,
				 enum an_role role, const struct det_traits *t)
{
    struct det_flag f;
    struct addr peers[1];
    size_t i;

    memset(&f, 0, sizeof(f));
    f.host = h->a;
    f.kind = k;
    f.traits = *t;
    f.first_ms = INT64_MAX;
    f.last_ms = INT64_MIN;
    det_shares(h, &f);
    for (i = 0; i < h->ev.n; i++) {
	const struct an_ev *e = &h->ev.v[i];

	if (e->role != role || !e->external)
	    continue;
	f.conns += e->conns;
	f.bytes_in += e->bytes_in;
	f.bytes_out += e->bytes_out;
	if (e->t_ms < f.first_ms)
	    f.first_ms = e->t_ms;
	if (e->t_ms > f.last_ms)
	    f.last_ms = e->t_ms;
    }
    f.peers = det_peers(h, role, peers, NULL, 0);
    f.t_ms = f.first_ms;
    return f;
}

/* push - append a flag; -1 when out of memory */
static int push(struct det_flag **v, size_t *n, const struct det_flag *f)
{
    struct det_flag *p = realloc(*v, (*n + 1) * sizeof(**v));

    if (p == NULL)
	return -1;
    p[(*n)++] = *f;
    *v = p;
    return 0;
}

/* baseline - mean connections (and bytes) of the history days in the
 * window before day */
static double baseline(const struct det_cfg *c, const struct det_hist *hist,
		       int64_t day, uint32_t *ndays, double *bytes)
{
    int64_t from = day - (int64_t) (c->history_window_s / 86400);
    double sum = 0, bsum = 0;
    size_t i;

    *ndays = 0;
    for (i = 0; i < hist->n; i++)
	if (hist->day[i] < day && hist->day[i] >= from) {
	    sum += (double) hist->conns[i];
	    bsum += hist->bytes ? (double) hist->bytes[i] : 0;
	    (*ndays)++;
	}
    *bytes = *ndays ? bsum / *ndays : 0;
    return *ndays ? sum / *ndays : 0;
}

/* volume_jumps - a flag per day far above the baseline */
static int volume_jumps(const struct det_cfg *c, const struct an_host *h,
			const struct det_traits *t, const struct det_hist *hist,
			const struct det_day *days, size_t ndays,
			struct det_flag **flags, size_t *nflags)
{
    size_t i;

    for (i = 0; i < ndays; i++) {
	uint32_t nb;
	double bb, b = baseline(c, hist, days[i].day, &nb, &bb);
	struct det_flag f;

	if (nb == 0 || days[i].conns < c->volume_jump_min_flows
	    || (double) days[i].conns < c->volume_jump_factor * (b < 1 ? 1 : b))
	    continue;
	f = base_flag(h, DET_VOLUME_JUMP, AN_CLIENT, t);
	f.day = days[i].day;
	f.day_conns = days[i].conns;
	f.day_bytes = days[i].bytes;
	f.baseline = b;
	f.baseline_bytes = bb;	/* seed 004: the byte volume jumps too */
	f.baseline_days = nb;
	f.t_ms = days[i].day * DET_MS_PER_DAY;
	if (push(flags, nflags, &f) != 0)
	    return -1;
    }
    return 0;
}

struct tpeer {
    int64_t t;
    struct addr peer;
};

/* cmp_tpeer - by time */
static int cmp_tpeer(const void *x, const void *y)
{
    const struct tpeer *a = x, *b = y;

    return a->t < b->t ? -1 : a->t > b->t;
}

/* slot_of - the count slot of a peer in an open-addressing map */
static size_t slot_of(const struct addr *keys, const bool *used, size_t mask,
		      const struct addr *k)
{
    size_t i = ((size_t) k->b[15] * 131 + k->b[14] * 31 + k->b[13] + k->b[12] * 7919u
		+ k->b[7] * 104729u) & mask;

    while (used[i] && !addr_equal(&keys[i], k))
	i = (i + 1) & mask;
    return i;
}

/* max_fan_out - most distinct servers within a window of sorted sends */
static uint32_t max_fan_out(const struct tpeer *v, size_t n, int64_t win_ms,
			    int64_t *at)
{
    size_t cap = 16, i, j = 0, mask;
    struct addr *keys;
    uint32_t *cnt, distinct = 0, best = 0;
    bool *used;

    while (cap < 2 * n)
	cap *= 2;
    mask = cap - 1;
    keys = calloc(cap, sizeof(*keys));
    cnt = calloc(cap, sizeof(*cnt));
    used = calloc(cap, sizeof(*used));
    if (keys == NULL || cnt == NULL || used == NULL)
	goto out;
    for (i = 0; i < n; i++) {
	size_t s = slot_of(keys, used, mask, &v[i].peer);

	used[s] = true;
	keys[s] = v[i].peer;
	distinct += cnt[s]++ == 0;
	while (v[i].t - v[j].t >= win_ms) {
	    size_t o = slot_of(keys, used, mask, &v[j++].peer);

	    distinct -= --cnt[o] == 0;
	}
	if (distinct > best) {
	    best = distinct;
	    *at = v[j].t;
	}
    }
  out:
    free(keys);
    free(cnt);
    free(used);
    return best;
}

/* fan_out - the host's busiest window of distinct external servers */
static int fan_out(const struct det_cfg *c, const struct an_host *h,
		   const struct det_traits *t, struct det_flag **flags,
		   size_t *nflags)
{
    struct tpeer *v = malloc((h->ev.n + 1) * sizeof(*v));
    struct det_flag f;
    size_t i, n = 0;
    int64_t at = 0;
    uint32_t best;
    int rc = 0;

    if (v == NULL)
	return -1;
    for (i = 0; i < h->ev.n; i++)
	if (h->ev.v[i].role == AN_CLIENT && h->ev.v[i].external && h->ev.v[i].conns)
	    v[n++] = (struct tpeer) {h->ev.v[i].t_ms, h->ev.v[i].peer};
    qsort(v, n, sizeof(*v), cmp_tpeer);
    best = max_fan_out(v, n, (int64_t) c->fan_out_window_s * 1000, &at);
    if (best >= c->fan_out_servers) {
	f = base_flag(h, DET_FAN_OUT, AN_CLIENT, t);
	f.servers = best;
	f.window_ms = at;
	f.t_ms = at;
	rc = push(flags, nflags, &f);
    }
    free(v);
    return rc;
}

/* det_host - every flag one host earns; 0, or -1 when out of memory */
int det_host(const struct det_cfg *c, const struct an_host *h,
	     const struct det_traits *t, const struct det_hist *hist,
	     const struct det_day *days, size_t ndays,
	     struct det_flag **flags, size_t *nflags)
{
    struct det_flag srv = base_flag(h, DET_ROGUE_SERVER, AN_SERVER, t);
    struct det_flag cli = base_flag(h, DET_DIRECT_SENDER, AN_CLIENT, t);
    bool known = det_known(t);

    if (!known && srv.conns > 0 && push(flags, nflags, &srv) != 0)
	return -1;
    if (!known && cli.conns >= c->direct_min_flows && push(flags, nflags, &cli) != 0)
	return -1;
    if (volume_jumps(c, h, t, hist, days, ndays, flags, nflags) != 0)
	return -1;
    if (!known && fan_out(c, h, t, flags, nflags) != 0)
	return -1;
    return 0;
}

/* cmp_i64 - times in order */
static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *) x, b = *(const int64_t *) y;

    return a < b ? -1 : a > b;
}

/* cmp_ctl - by peer, port, time */
static int cmp_ctl(const void *x, const void *y)
{
    const struct an_ctl *a = x, *b = y;
    int r = memcmp(&a->peer, &b->peer, sizeof(a->peer));

    if (r != 0)
	return r;
    if (a->port != b->port)
	return a->port < b->port ? -1 : 1;
    return a->t_ms < b->t_ms ? -1 : a->t_ms > b->t_ms;
}

/* followed - is there a send in [t, t + lead]? */
static bool followed(const int64_t *sends, size_t n, int64_t t, int64_t lead)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
	size_t mid = lo + (hi - lo) / 2;

	if (sends[mid] < t)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    return lo < n && sends[lo] <= t + lead;
}

/* det_controller - the inbound high-port peer whose connections most
 * often come just before the host's SMTP sends (seed 000's port 7629) */
void det_controller(const struct det_cfg *c, const struct an_host *h,
		    struct det_flag *f)
{
    int64_t *sends = malloc((h->ev.n + 1) * sizeof(*sends)), lead = c->controller_lead_s * 1000LL;
    struct an_ctl *ctl = malloc((h->ctl.n + 1) * sizeof(*ctl));
    size_t i, j, n = 0;

    if (sends == NULL || ctl == NULL)
	goto out;
    for (i = 0; i < h->ev.n; i++)
	if (h->ev.v[i].role == AN_CLIENT && h->ev.v[i].external && h->ev.v[i].conns)
	    sends[n++] = h->ev.v[i].t_ms;
    qsort(sends, n, sizeof(*sends), cmp_i64);
    if (h->ctl.n > 0)
	memcpy(ctl, h->ctl.v, h->ctl.n * sizeof(*ctl));
    qsort(ctl, h->ctl.n, sizeof(*ctl), cmp_ctl);
    for (i = 0; i < h->ctl.n; i = j) {
	uint32_t fol = 0, cnt = 0;

	for (j = i; j < h->ctl.n && addr_equal(&ctl[j].peer, &ctl[i].peer)
	     && ctl[j].port == ctl[i].port; j++, cnt++)
	    fol += followed(sends, n, ctl[j].t_ms, lead);
	if (fol >= DET_CTL_MIN_FOLLOWED && fol * 2 >= cnt && fol > f->ctl_followed) {
	    f->has_ctl = true;
	    f->ctl_peer = ctl[i].peer;
	    f->ctl_port = ctl[i].port;
	    f->ctl_conns = cnt;
	    f->ctl_followed = fol;
	}
    }
  out:
    free(sends);
    free(ctl);
}

/* cmp_ev_peer - events by peer address */
static int cmp_ev_peer(const void *x, const void *y)
{
    const struct an_ev *a = x, *b = y;

    return memcmp(&a->peer, &b->peer, sizeof(a->peer));
}

/* det_peers - distinct external peers of a role (count), the first max of
 * them into out with their connections (conns may be NULL) */
size_t det_peers(const struct an_host *h, enum an_role role,
		 struct addr *out, uint64_t *conns, size_t max)
{
    struct an_ev *v = malloc((h->ev.n + 1) * sizeof(*v));
    size_t i, n = 0, d = 0;

    if (v == NULL)
	return 0;
    for (i = 0; i < h->ev.n; i++)
	if (h->ev.v[i].role == role && h->ev.v[i].external)
	    v[n++] = h->ev.v[i];
    qsort(v, n, sizeof(*v), cmp_ev_peer);
    for (i = 0; i < n; i++) {
	if (i > 0 && addr_equal(&v[i].peer, &v[i - 1].peer)) {
	    if (conns != NULL && d - 1 < max)
		conns[d - 1] += v[i].conns;
	    continue;
	}
	if (d < max) {
	    out[d] = v[i].peer;
	    if (conns != NULL)
		conns[d] = v[i].conns;
	}
	d++;
    }
    free(v);
    return d;
}

/* cmp_client - most bytes first, then address */
static int cmp_client(const void *x, const void *y)
{
    const struct det_client *a = x, *b = y;
    uint64_t ta = a->bytes_in + a->bytes_out, tb = b->bytes_in + b->bytes_out;

    if (ta != tb)
	return ta > tb ? -1 : 1;
    return memcmp(&a->host, &b->host, sizeof(a->host));
}

/* det_mail_clients - seed 000's table: local hosts connecting to external
 * mail servers, connections and bytes, most bytes first */
int det_mail_clients(const struct an *a, struct det_client **out, size_t *n)
{
    size_t i, j;

    *n = 0;
    if ((*out = calloc(a->n + 1, sizeof(**out))) == NULL)
	return -1;
    for (i = 0; i < a->n; i++) {
	const struct an_host *h = &a->h[i];
	struct det_client c = {h->a, 0, 0, 0};

	for (j = 0; j < h->ev.n; j++)
	    if (h->ev.v[j].role == AN_CLIENT && h->ev.v[j].external) {
		c.conns += h->ev.v[j].conns;
		c.bytes_in += h->ev.v[j].bytes_in;
		c.bytes_out += h->ev.v[j].bytes_out;
	    }
	if (c.conns > 0)
	    (*out)[(*n)++] = c;
    }
    qsort(*out, *n, sizeof(**out), cmp_client);
    return 0;
}
