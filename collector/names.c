/*
 * names - reverse names and MX hosts (see names.h).
 *
 * The cache is an array kept sorted by address (bsearch); DNS answers are
 * added to it, so a daemon asks once per host. MX hosts of the local
 * domains are resolved once per struct names.
 */
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "names.h"

#define NAMES_FILE_MAX (64u << 20)
#define MX_ANSWER_MAX 4096
#define MX_MAX 64

/* now_ms - the monotonic clock */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cmp_entry - by address */
static int cmp_entry(const void *x, const void *y)
{
    return memcmp(&((const struct names_entry *) x)->a,
		  &((const struct names_entry *) y)->a, sizeof(struct addr));
}

/* add - one entry (unsorted); -1 when out of memory */
static int add(struct names *nm, const struct addr *a, const char *name, bool mx)
{
    struct names_entry *p;

    if (nm->n == nm->cap) {
	size_t nc = nm->cap ? nm->cap * 2 : 64;

	if ((p = realloc(nm->v, nc * sizeof(*p))) == NULL)
	    return -1;
	nm->v = p;
	nm->cap = nc;
    }
    p = &nm->v[nm->n++];
    p->a = *a;
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->mx = mx;
    return 0;
}

/* names_parse - "ADDRESS NAME [mx]" lines; bad lines are counted */
int names_parse(struct names *nm, const char *text, size_t len)
{
    size_t pos = 0;

    while (pos < len) {
	const char *nl = memchr(text + pos, '\n', len - pos);
	size_t n = nl ? (size_t) (nl - text) - pos : len - pos;
	char line[512], a[64], name[NAMES_MAX_LEN], mx[8];
	struct addr ad;
	int k;

	if (n < sizeof(line)) {
	    memcpy(line, text + pos, n);
	    line[n] = 0;
	    if (strchr(line, '#'))
		*strchr(line, '#') = 0;
	    k = sscanf(line, "%63s %255s %7s", a, name, mx);
	    if (k <= 0)
		;
	    else if (k >= 2 && addr_parse(a, &ad) == 0 && memchr(text + pos, 0, n) == NULL
		     && (k == 2 || strcmp(mx, "mx") == 0)) {
		if (add(nm, &ad, name, k == 3) != 0)
		    return -1;
	    } else
		nm->bad_lines++;
	} else
	    nm->bad_lines++;
	pos += n + 1;
    }
    if (nm->n > 1)
	qsort(nm->v, nm->n, sizeof(*nm->v), cmp_entry);
    return 0;
}

/* names_init - offline from a file, or DNS with a budget */
enum names_status names_init(struct names *nm, const char *names_file,
			     uint32_t budget_ms, char *err, size_t errlen)
{
    enum names_status rc = NAMES_FILE;
    char *buf = NULL;
    size_t got;
    FILE *fp;

    memset(nm, 0, sizeof(*nm));
    nm->deadline_ms = now_ms() + budget_ms;
    if (names_file == NULL || *names_file == 0)
	return NAMES_OK;
    nm->offline = true;
    if ((fp = fopen(names_file, "re")) == NULL) {
	snprintf(err, errlen, "%s: %s", names_file, strerror(errno));
	return NAMES_FILE;
    }
    if ((buf = malloc(NAMES_FILE_MAX)) == NULL) {
	rc = NAMES_NOMEM;
	snprintf(err, errlen, "out of memory");
	goto out;
    }
    got = fread(buf, 1, NAMES_FILE_MAX, fp);
    if (ferror(fp) || got == NAMES_FILE_MAX) {
	snprintf(err, errlen, "%s: unreadable or larger than %u bytes", names_file,
		 NAMES_FILE_MAX);
	goto out;
    }
    rc = names_parse(nm, buf, got) == 0 ? NAMES_OK : NAMES_NOMEM;
    if (rc != NAMES_OK)
	snprintf(err, errlen, "out of memory");
  out:
    free(buf);
    fclose(fp);
    return rc;
}

/* names_free - release the cache */
void names_free(struct names *nm)
{
    free(nm->v);
    free(nm->mx);
    memset(nm, 0, sizeof(*nm));
}

/* find - the cached entry or NULL */
static struct names_entry *find(struct names *nm, const struct addr *a)
{
    struct names_entry key;

    key.a = *a;
    return nm->n ? bsearch(&key, nm->v, nm->n, sizeof(*nm->v), cmp_entry) : NULL;
}

/* to_sockaddr - an address as sockaddr_in or sockaddr_in6 */
static socklen_t to_sockaddr(const struct addr *a, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (addr_is_v4(a)) {
	struct sockaddr_in *s4 = (struct sockaddr_in *) ss;

	s4->sin_family = AF_INET;
	memcpy(&s4->sin_addr, a->b + 12, 4);
	return sizeof(*s4);
    } else {
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;

	s6->sin6_family = AF_INET6;
	memcpy(&s6->sin6_addr, a->b, 16);
	return sizeof(*s6);
    }
}

/* names_lookup - the reverse name of a, "" when none or out of budget */
const char *names_lookup(struct names *nm, const struct addr *a)
{
    struct names_entry *e = find(nm, a);
    struct sockaddr_storage ss;
    char host[NI_MAXHOST];
    socklen_t sl;

    if (e != NULL)
	return e->name;
    if (nm->offline)
	return "";
    if (now_ms() > nm->deadline_ms) {
	nm->skipped++;
	return "";
    }
    nm->lookups++;
    sl = to_sockaddr(a, &ss);
    if (getnameinfo((struct sockaddr *) &ss, sl, host, sizeof(host), NULL, 0,
		    NI_NAMEREQD) != 0)
	host[0] = 0;
    if (add(nm, a, host, false) != 0)
	return "";
    qsort(nm->v, nm->n, sizeof(*nm->v), cmp_entry);
    return (e = find(nm, a)) ? e->name : "";
}

/* resolve_mx - the addresses of the MX hosts of one domain */
static void resolve_mx(struct names *nm, const char *domain)
{
    unsigned char ans[MX_ANSWER_MAX];
    int len = res_query(domain, ns_c_in, ns_t_mx, ans, sizeof(ans)), i;
    ns_msg msg;
    ns_rr rr;

    if (len < 0 || ns_initparse(ans, len, &msg) != 0)
	return;
    for (i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
	char host[NS_MAXDNAME];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *r;

	if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_mx
	    || ns_rr_rdlen(rr) < 3
	    || dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2,
			 host, sizeof(host)) < 0
	    || getaddrinfo(host, NULL, &hints, &res) != 0)
	    continue;
	for (r = res; r != NULL && nm->nmx < MX_MAX; r = r->ai_next) {
	    struct addr x;

	    if (addr_from_sockaddr(r->ai_addr, &x) == 0)
		nm->mx[nm->nmx++] = x;
	}
	freeaddrinfo(res);
    }
}

/* names_is_mx - is a an MX host of a local domain? */
bool names_is_mx(struct names *nm, const struct cfg_str_list *domains,
		 const struct addr *a)
{
    struct names_entry *e;
    size_t i;

    if (nm->offline)
	return (e = find(nm, a)) != NULL && e->mx;
    if (!nm->mx_done) {
	nm->mx_done = true;
	if ((nm->mx = calloc(MX_MAX, sizeof(*nm->mx))) != NULL)
	    for (i = 0; i < domains->n && now_ms() <= nm->deadline_ms; i++)
		resolve_mx(nm, domains->v[i]);
    }
    for (i = 0; i < nm->nmx; i++)
	if (addr_equal(&nm->mx[i], a))
	    return true;
    return false;
}
