/*
 * analysis - local hosts and their flows (see analysis.h).
 *
 * Hosts live in one array indexed by an open-addressing table of their
 * addresses; only local hosts get entries, so the table is bounded by the
 * local networks, not by what outsiders send. Per-host arrays grow by
 * doubling; plot points and controller candidates stop at max_points (the
 * rest is counted in st.dropped).
 */
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

#define SLOTS_MIN 1024

/* an_init - an empty analysis over the given local networks */
void an_init(struct an *a, const struct cidr_list *local,
	     const struct an_limits *lim)
{
    memset(a, 0, sizeof(*a));
    a->local = local;
    a->lim = *lim;
    a->st.first_ms = INT64_MAX;
    a->st.last_ms = INT64_MIN;
}

/* an_free - release every host */
void an_free(struct an *a)
{
    size_t i;

    for (i = 0; i < a->n; i++) {
	free(a->h[i].ev.v);
	free(a->h[i].pt.v);
	free(a->h[i].ctl.v);
    }
    free(a->h);
    free(a->slot);
    memset(a, 0, sizeof(*a));
}

/* grow - make room for one more element of size sz in *v */
static int grow(void *vp, size_t *cap, size_t n, size_t sz)
{
    void **v = vp;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p;

    if (n < *cap)
	return 0;
    if (nc > SIZE_MAX / sz || (p = realloc(*v, nc * sz)) == NULL)
	return -1;
    *v = p;
    *cap = nc;
    return 0;
}

#define PUSH(arr, val) \
    (grow(&(arr).v, &(arr).cap, (arr).n, sizeof(*(arr).v)) == 0 \
     ? ((arr).v[(arr).n++] = (val), 0) : -1)

/* hash - mix the address's two words */
static size_t hash(const struct addr *x)
{
    uint64_t w[2];

    memcpy(w, x->b, sizeof(w));
    w[0] ^= w[1] * 0x9e3779b97f4a7c15ULL;
    w[0] ^= w[0] >> 31;
    w[0] *= 0xbf58476d1ce4e5b9ULL;
    return (size_t) (w[0] ^ (w[0] >> 29));
}

/* an_find - the host's entry or NULL */
struct an_host *an_find(const struct an *a, const struct addr *x)
{
    size_t i;

    if (a->nslot == 0)
	return NULL;
    for (i = hash(x) & (a->nslot - 1); a->slot[i]; i = (i + 1) & (a->nslot - 1))
	if (addr_equal(&a->h[a->slot[i] - 1].a, x))
	    return &a->h[a->slot[i] - 1];
    return NULL;
}

/* rehash - a table twice as large */
static int rehash(struct an *a)
{
    size_t ns = a->nslot ? a->nslot * 2 : SLOTS_MIN, i, j;
    uint32_t *s = calloc(ns, sizeof(*s));

    if (s == NULL)
	return -1;
    for (i = 0; i < a->n; i++) {
	for (j = hash(&a->h[i].a) & (ns - 1); s[j]; j = (j + 1) & (ns - 1))
	    ;
	s[j] = (uint32_t) (i + 1);
    }
    free(a->slot);
    a->slot = s;
    a->nslot = ns;
    return 0;
}

/* an_get - the host's entry, made when new; NULL when out of memory */
struct an_host *an_get(struct an *a, const struct addr *x)
{
    struct an_host *h = an_find(a, x);
    size_t i;

    if (h != NULL)
	return h;
    if ((a->n + 1) * 2 > a->nslot && rehash(a) != 0)
	return NULL;
    if (a->n >= UINT32_MAX - 1 || grow(&a->h, &a->cap, a->n, sizeof(*a->h)) != 0)
	return NULL;
    h = &a->h[a->n];
    memset(h, 0, sizeof(*h));
    h->a = *x;
    for (i = hash(x) & (a->nslot - 1); a->slot[i]; i = (i + 1) & (a->nslot - 1))
	;
    a->slot[i] = (uint32_t) ++a->n;
    return h;
}

/* an_is_local - is the address in the local networks? */
bool an_is_local(const struct an *a, const struct addr *x)
{
    return addr_cidr_list_match(a->local, x) != 0;
}

/* an_smtp_roles - client and server of a TCP flow with port 25 */
bool an_smtp_roles(const struct flow *f, const struct addr **client,
		   const struct addr **server, bool *src_is_client)
{
    bool s25 = f->sp == AN_SMTP_PORT, d25 = f->dp == AN_SMTP_PORT;

    if (f->proto != FLOW_TCP || (!s25 && !d25))
	return false;
    /* One side on 25 is the server. Both on 25 (relays with source port
     * 25, rare): the flow's source is taken as the client. */
    *src_is_client = d25;
    *client = *src_is_client ? &f->sa : &f->da;
    *server = *src_is_client ? &f->da : &f->sa;
    return true;
}

/* an_smtp_passes - at least min packets and bytes in one direction */
bool an_smtp_passes(const struct flow *f, const struct an_limits *lim)
{
    return (f->ipkt >= lim->min_packets && f->ibyt >= lim->min_bytes)
	|| (f->opkt >= lim->min_packets && f->obyt >= lim->min_bytes);
}

/* add_point - one plot point, bounded */
static int add_point(struct an *a, struct an_host *h, int64_t t, uint16_t port,
		     enum an_dir d)
{
    if (h->pt.n >= a->lim.max_points) {
	a->st.dropped++;
	return 0;
    }
    return PUSH(h->pt, ((struct an_pt) {t, port, (uint8_t) d}));
}

/* add_points - the flow's points for local host h (both ways of a biflow) */
static int add_points(struct an *a, struct an_host *h, const struct flow *f)
{
    bool src = addr_equal(&f->sa, &h->a), bi = f->opkt > 0;
    int rc = 0;

    if (src) {
	rc |= add_point(a, h, f->start_ms, f->sp, AN_OUT);
	if (bi)
	    rc |= add_point(a, h, f->start_ms, f->sp, AN_IN);
    } else {
	rc |= add_point(a, h, f->start_ms, f->dp, AN_IN);
	if (bi)
	    rc |= add_point(a, h, f->start_ms, f->dp, AN_OUT);
    }
    return rc;
}

/* smtp_event - the SMTP flow as local host h sees it */
static int smtp_event(struct an *a, struct an_host *h, const struct flow *f,
		      bool src_is_client, const struct addr *server)
{
    bool h_src = addr_equal(&f->sa, &h->a);
    const struct addr *peer = h_src ? &f->da : &f->sa;
    struct an_ev e;

    memset(&e, 0, sizeof(e));
    e.t_ms = f->start_ms;
    e.peer = *peer;
    e.role = addr_equal(server, &h->a) ? AN_SERVER : AN_CLIENT;
    e.external = !an_is_local(a, peer);
    e.bytes_out = h_src ? f->ibyt : f->obyt;
    e.bytes_in = h_src ? f->obyt : f->ibyt;
    e.pkts = f->ipkt + f->opkt;
    /* A record from the client, or a biflow, is a connection; a
     * unidirectional reply from the server is not. */
    e.conns = (uint32_t) (src_is_client || f->opkt > 0 ? f->nflows : 0);
    e.local_port = h_src ? f->sp : f->dp;
    e.peer_port = h_src ? f->dp : f->sp;
    h->smtp_flows += f->nflows;
    h->smtp_bytes += f->ibyt + f->obyt;
    if (PUSH(h->ev, e) != 0)
	return -1;
    return h->detailed ? 0 : add_points(a, h, f);
}

/* add_smtp - an SMTP flow into its local end(s) */
static int add_smtp(struct an *a, const struct flow *f)
{
    const struct addr *cl, *sv, *ends[2] = {&f->sa, &f->da};
    bool src_cl, local[2];
    int i, rc = 0;

    if (!an_smtp_roles(f, &cl, &sv, &src_cl))
	return 0;
    if (!an_smtp_passes(f, &a->lim)) {
	a->st.smtp_below++;
	return 0;
    }
    local[0] = an_is_local(a, &f->sa);
    local[1] = an_is_local(a, &f->da);
    if (!local[0] && !local[1]) {
	a->st.transit++;
	return 0;
    }
    a->st.smtp++;
    if (f->start_ms < a->st.first_ms)
	a->st.first_ms = f->start_ms;
    if (f->start_ms > a->st.last_ms)
	a->st.last_ms = f->start_ms;
    for (i = 0; i < 2; i++) {
	struct an_host *h;

	if (!local[i])
	    continue;
	if ((h = an_get(a, ends[i])) == NULL || smtp_event(a, h, f, src_cl, sv) != 0)
	    rc = -1;
    }
    return rc;
}

/* server_is_src - for any TCP flow: the lower port serves, unless a SYN
 * without ACK shows who opened it */
static bool server_is_src(const struct flow *f)
{
    if ((f->tcp_flags & (FLOW_SYN | FLOW_ACK)) == FLOW_SYN && f->opkt == 0)
	return false;
    return f->sp < f->dp;
}

/* add_ctl - an inbound connection from outside to a local high port */
static int add_ctl(struct an *a, const struct flow *f)
{
    bool ssrv = server_is_src(f);
    const struct addr *srv = ssrv ? &f->sa : &f->da, *cli = ssrv ? &f->da : &f->sa;
    uint16_t port = ssrv ? f->sp : f->dp;
    struct an_host *h;

    /* a connection is counted once: from its client's record or a biflow */
    if (f->proto != FLOW_TCP || port < AN_HIGH_PORT || port == AN_SMTP_PORT
	|| (ssrv && f->opkt == 0) || !an_is_local(a, srv) || an_is_local(a, cli))
	return 0;
    if ((h = an_get(a, srv)) == NULL)
	return -1;
    if (h->ctl.n >= a->lim.max_points) {
	a->st.dropped++;
	return 0;
    }
    return PUSH(h->ctl, ((struct an_ctl) {f->start_ms, *cli, port}));
}

/* add_totals_flow - both local ends count the flow */
static int add_totals_flow(struct an *a, const struct flow *f)
{
    int rc = 0;

    if (an_is_local(a, &f->sa))
	rc |= an_add_totals(a, &f->sa, f->nflows, f->ibyt + f->obyt);
    if (an_is_local(a, &f->da))
	rc |= an_add_totals(a, &f->da, f->nflows, f->ibyt + f->obyt);
    return rc;
}

/* an_add_totals - add to a local host's traffic totals */
enum an_status an_add_totals(struct an *a, const struct addr *x,
			     uint64_t flows, uint64_t bytes)
{
    struct an_host *h = an_get(a, x);

    if (h == NULL)
	return AN_NOMEM;
    h->all_flows += flows;
    h->all_bytes += bytes;
    return AN_OK;
}

/* an_add - one flow; what says which of its uses apply */
enum an_status an_add(struct an *a, const struct flow *f, unsigned what)
{
    int rc = 0;
    struct an_host *h;

    a->st.flows++;
    if (what & AN_TOTALS)
	rc |= add_totals_flow(a, f);
    if (what & AN_SMTP)
	rc |= add_smtp(a, f);
    if (what & (AN_CTL | AN_DETAIL))
	rc |= add_ctl(a, f);
    if (what & AN_DETAIL) {
	if ((h = an_find(a, &f->sa)) != NULL && h->detailed)
	    rc |= add_points(a, h, f);
	if ((h = an_find(a, &f->da)) != NULL && h->detailed && !addr_equal(&f->sa, &f->da))
	    rc |= add_points(a, h, f);
    }
    if (rc != 0) {
	a->st.dropped++;
	return AN_NOMEM;
    }
    return AN_OK;
}
