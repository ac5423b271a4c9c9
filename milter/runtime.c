/*
 * runtime - load, swap and reference-count the milter's snapshot.
 *
 * A reload (SIGUSR1) builds a complete new snapshot: configuration,
 * GeoIP, a store handle, the collector socket. Any failure leaves the old
 * one running and returns the error for the caller to log. Old snapshots
 * are freed when their last connection closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "preflight.h"
#include "roguelist.h"
#include "runtime.h"

#define RT_DEAD_MAX 512		/* names of the rules GeoIP leaves dead */

struct rogue_set {
    unsigned refs;
    struct roguelist list;
};

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct runtime *rt_current;
static struct rogue_set *rogue_current;
static struct stat rogue_sb;	/* identity of the loaded rogue file */

/* rt_free - release a snapshot nobody uses */
static void rt_free(struct runtime *rt)
{
    if (rt == NULL)
	return;
    if (rt->evfd >= 0)
	close(rt->evfd);
    store_close(rt->st);
    geo_close(rt->geo);
    cfg_free(rt->cfg);
    memset(&rt->key, 0, sizeof(rt->key));
    free(rt);
}

#define STATE_MODE 0640

/* open_state - attach the shared table, replacing an invalid one */
static int open_state(const struct cfg *c, STORE **st, char *err, size_t errlen)
{
    struct store_params p;

    /* 0640: the group (milter.group) may read it, as relayguardctl's
     * reading commands do, but only the milter's user writes it */
    store_params_from_cfg(&c->state, STORE_CREATE | STORE_RECREATE,
			  STATE_MODE, &p);
    if (store_open(&p, st, err, errlen) != STORE_OK)
	return -1;
    if (store_huge_pages(*st, "/proc/self/mountinfo") == 0)
	log_msg(LOG_NOTICE, "state file %s is on 4 KiB pages: every message "
		"also misses the TLB; a tmpfs with huge=within_size is faster "
		"(run-relayguard.mount)", c->state.path);
    return 0;
}

/* open_collector - a non-blocking datagram socket to the collector */
static int open_collector(struct runtime *rt, char *err, size_t errlen)
{
    const char *a = rt->cfg->collector.address;
    struct sockaddr_un *sun = (struct sockaddr_un *) &rt->evaddr;
    struct sockaddr_in *sin = (struct sockaddr_in *) &rt->evaddr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &rt->evaddr;
    char host[ADDR_STRLEN];
    const char *colon;
    struct addr ad;
    size_t n;

    rt->evfd = -1;
    if (*a == 0)
	return 0;
    if (event_key_load(rt->cfg->collector.key_file, &rt->key, err, errlen) != 0)
	return -1;
    memset(&rt->evaddr, 0, sizeof(rt->evaddr));
    if (strncmp(a, "unix:", 5) == 0) {
	if (strlen(a + 5) >= sizeof(sun->sun_path)) {
	    snprintf(err, errlen, "collector.address: path too long");
	    return -1;
	}
	sun->sun_family = AF_UNIX;
	strcpy(sun->sun_path, a + 5);
	rt->evaddrlen = sizeof(*sun);
    } else {
	colon = strrchr(a + 4, ':');
	n = (size_t) (colon - (a + 4));
	snprintf(host, sizeof(host), "%.*s", (int) n, a + 4);
	if (host[0] == '[')
	    memmove(host, host + 1, strlen(host)), host[strlen(host) - 1] = 0;
	addr_parse(host, &ad);
	if (addr_is_v4(&ad)) {
	    sin->sin_family = AF_INET;
	    memcpy(&sin->sin_addr, ad.b + 12, 4);
	    sin->sin_port = htons((uint16_t) atoi(colon + 1));
	    rt->evaddrlen = sizeof(*sin);
	} else {
	    sin6->sin6_family = AF_INET6;
	    memcpy(&sin6->sin6_addr, ad.b, 16);
	    sin6->sin6_port = htons((uint16_t) atoi(colon + 1));
	    rt->evaddrlen = sizeof(*sin6);
	}
    }
    rt->evfd = socket(rt->evaddr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (rt->evfd < 0) {
	snprintf(err, errlen, "collector socket: %s", strerror(errno));
	return -1;
    }
    /* A connected UDP socket learns (ICMP) that nobody listens, so a
     * collector that is away shows as counted drops; a unix socket is left
     * unconnected: its sendto fails at once while the collector is away. */
    if (rt->evaddr.ss_family != AF_UNIX
	&& connect(rt->evfd, (struct sockaddr *) &rt->evaddr, rt->evaddrlen) == 0)
	rt->evaddrlen = 0;
    return 0;
}

/* rt_load - build a complete snapshot from a configuration file */
int rt_load(const char *file, struct runtime **out, char *err, size_t errlen)
{
    struct runtime *rt = calloc(1, sizeof(*rt));
    struct geo_paths gp;
    unsigned missing = 0;

    if (rt == NULL) {
	snprintf(err, errlen, "out of memory");
	return -1;
    }
    rt->evfd = -1;
    rt->refs = 1;
    if ((rt->cfg = cfg_load(file, err, errlen)) == NULL)
	goto fail;
    gp.city_db = rt->cfg->geoip.city_db;
    gp.country_db = rt->cfg->geoip.country_db;
    gp.asn_db = rt->cfg->geoip.asn_db;
    if (geo_open(&gp, &rt->geo, &missing, err, errlen) != GEO_OK)
	goto fail;
    if (missing) {
	char dead[RT_DEAD_MAX];

	preflight_dead_rules(rt->cfg, geo_caps(rt->geo), dead, sizeof(dead));
	if (dead[0] != '\0')
	    log_msg(LOG_WARNING, "%s; rules that will never fire: %s", err,
		    dead);
	else
	    log_msg(LOG_WARNING, "%s; no configured rule needs it", err);
    }
    if (open_state(rt->cfg, &rt->st, err, errlen) != 0
	|| open_collector(rt, err, errlen) != 0)
	goto fail;
    *out = rt;
    return 0;
  fail:
    rt_free(rt);
    return -1;
}

/* rt_install - make a snapshot current; the old one goes with its users */
void rt_install(struct runtime *rt)
{
    struct runtime *old;

    pthread_mutex_lock(&rt_lock);
    old = rt_current;
    rt_current = rt;
    pthread_mutex_unlock(&rt_lock);
    if (old != NULL)
	rt_release(old);
}

/* rt_acquire - a reference to the current snapshot */
struct runtime *rt_acquire(void)
{
    struct runtime *rt;

    pthread_mutex_lock(&rt_lock);
    if ((rt = rt_current) != NULL)
	rt->refs++;
    pthread_mutex_unlock(&rt_lock);
    return rt;
}

/* rt_release - drop a reference; free the snapshot with its last one */
void rt_release(struct runtime *rt)
{
    unsigned left;

    if (rt == NULL)
	return;
    pthread_mutex_lock(&rt_lock);
    left = --rt->refs;
    pthread_mutex_unlock(&rt_lock);
    if (left == 0)
	rt_free(rt);
}

/* rogue_release - drop a reference to a rogue set */
static void rogue_release(struct rogue_set *r)
{
    unsigned left;

    if (r == NULL)
	return;
    pthread_mutex_lock(&rt_lock);
    left = --r->refs;
    pthread_mutex_unlock(&rt_lock);
    if (left == 0) {
	roguelist_free(&r->list);
	free(r);
    }
}

/* rt_rogue_listed - is the address on the collector's list? */
bool rt_rogue_listed(const struct addr *a)
{
    struct rogue_set *r;
    bool hit;

    pthread_mutex_lock(&rt_lock);
    if ((r = rogue_current) != NULL)
	r->refs++;
    pthread_mutex_unlock(&rt_lock);
    if (r == NULL)
	return false;
    hit = addr_cidr_list_match(&r->list.nets, a);
    rogue_release(r);
    return hit;
}

/* rogue_swap - install a new set (or none) */
static void rogue_swap(struct rogue_set *r)
{
    struct rogue_set *old;

    pthread_mutex_lock(&rt_lock);
    old = rogue_current;
    rogue_current = r;
    pthread_mutex_unlock(&rt_lock);
    rogue_release(old);
}

/* rt_rogue_refresh - reload the rogue list if its file changed */
void rt_rogue_refresh(const struct runtime *rt)
{
    const char *path = rt->cfg->rogue.list_path;
    struct rogue_set *r;
    struct stat sb;
    char err[256];

    if (*path == 0 || stat(path, &sb) != 0) {
	if (rogue_sb.st_ino != 0)
	    rogue_swap(NULL);
	memset(&rogue_sb, 0, sizeof(rogue_sb));
	return;
    }
    if (sb.st_ino == rogue_sb.st_ino && sb.st_dev == rogue_sb.st_dev
	&& sb.st_size == rogue_sb.st_size
	&& sb.st_mtim.tv_sec == rogue_sb.st_mtim.tv_sec
	&& sb.st_mtim.tv_nsec == rogue_sb.st_mtim.tv_nsec)
	return;
    rogue_sb = sb;
    if ((r = calloc(1, sizeof(*r))) == NULL)
	return;
    if (roguelist_load(path, &r->list, err, sizeof(err)) != 0) {
	log_msg(LOG_ERR, "rogue list: %s; keeping the previous list", err);
	free(r);
	return;
    }
    r->refs = 1;
    if (r->list.bad_lines)
	log_msg(LOG_WARNING, "rogue list %s: %zu bad lines skipped (first: line %zu)",
		path, r->list.bad_lines, r->list.first_bad);
    log_msg(LOG_INFO, "rogue list %s: %zu networks", path, r->list.nets.n);
    rogue_swap(r);
}

/* rt_store_refresh - reattach if another process recreated the file */
void rt_store_refresh(void)
{
    struct runtime *rt = rt_acquire(), *fresh;
    char err[512];

    if (rt == NULL)
	return;
    if (store_stale(rt->st) && rt_load(rt->cfg->file, &fresh, err, sizeof(err)) == 0) {
	log_msg(LOG_NOTICE, "state file %s was replaced; reattached", rt->cfg->state.path);
	rt_install(fresh);
    }
    rt_release(rt);
}

/* rt_shutdown - release the current snapshot and rogue set at exit */
void rt_shutdown(void)
{
    rt_install(NULL);
    rogue_swap(NULL);
}
