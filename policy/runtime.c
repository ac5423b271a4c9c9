/*
 * runtime - load, swap and reference-count a front end's snapshot (the milter
 * and relayguard-policyd share it).
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
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "preflight.h"
#include "report.h"
#include "roguelist.h"
#include "runtime.h"
#include "snapshot.h"
#include "stats.h"

#define RT_DEAD_MAX 512		/* names of the rules GeoIP leaves dead */

struct rogue_set {
    unsigned refs;
    struct roguelist list;
    time_t written;		/* the file's mtime: when the collector wrote it */
};

static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct runtime *rt_current;
static struct rogue_set *rogue_current;
static struct stat rogue_sb;	/* identity of the loaded rogue file */
static time_t snapshot_last;	/* maintenance thread only */

/* rt_free - release a snapshot nobody uses */
static void rt_free(struct runtime *rt)
{
    if (rt == NULL)
	return;
    report_events_close(rt);	/* sends what is queued: socket and store still open */
    if (rt->evfd >= 0)
	close(rt->evfd);
    store_close(rt->st);
    geo_close(rt->geo);
    cfg_free(rt->cfg);
    memset(&rt->key, 0, sizeof(rt->key));
    free(rt);
}

#define STATE_MODE 0640

/* log_carried - what a replacement carried over and lost, at warning */
static void log_carried(const char *what, const struct store_open_info *i)
{
    log_msg(LOG_WARNING, "%s: carried %u users (%u blocked) and %u clients "
	    "(%u blocked); lost %u users (%u blocked) and %u clients "
	    "(%u blocked)", what, i->users.kept, i->users.blocks_kept,
	    i->clients.kept, i->clients.blocks_kept, i->users.lost,
	    i->users.blocks_lost, i->clients.lost, i->clients.blocks_lost);
}

/* log_state_open - say once what opening the state file found and did:
 * the store only reports it (store_open_info) */
static void log_state_open(const struct cfg_state *c, const STORE *st)
{
    struct store_open_info i;
    char what[600];

    store_open_info(st, &i);
    switch (i.how) {
    case STORE_OPENED_CREATED:
	log_msg(LOG_NOTICE, "state file %s created", c->path);
	break;
    case STORE_OPENED_RESIZED:
	snprintf(what, sizeof(what), "state file %s resized from %u users, "
		 "%u clients, %u IPs a user to the configured %u, %u, %u",
		 c->path, i.old_users, i.old_clients, i.old_ips,
		 c->max_users, c->max_clients, c->ips_per_user);
	log_carried(what, &i);
	break;
    case STORE_OPENED_REPLACED:
	snprintf(what, sizeof(what), "state file %s was invalid (%s) and is "
		 "replaced", c->path, i.why);
	if (i.readable)
	    log_carried(what, &i);
	else
	    log_msg(LOG_WARNING, "%s: nothing in it could be read, so every "
		    "block and learned country in it is lost", what);
	break;
    case STORE_OPENED_KEPT:
	log_msg(LOG_WARNING, "state file %s has %u users, %u clients, %u IPs "
		"a user, not the configured %u, %u, %u; another process uses "
		"it, so it is used as it is (stop them all to resize it)",
		c->path, i.old_users, i.old_clients, i.old_ips, c->max_users,
		c->max_clients, c->ips_per_user);
	break;
    default:
	break;
    }
}

/* restore_snapshot - an empty state file (new, or nothing in the old
 * one could be read) gets the blocks and baselines of the snapshot */
static void restore_snapshot(const struct cfg_state *c, STORE *st)
{
    struct snapshot_counts n;
    struct store_stats s;
    char err[512];
    int rc;

    store_get_stats(st, &s);
    if (*c->snapshot_path == '\0' || s.users != 0 || s.clients != 0)
	return;
    rc = snapshot_restore(st, c->snapshot_path, (uint32_t) time(NULL), &n,
			  err, sizeof(err));
    if (rc == SNAPSHOT_ENOENT)
	log_msg(LOG_NOTICE, "state snapshot %s: none yet", c->snapshot_path);
    else if (rc != SNAPSHOT_OK)
	log_msg(LOG_WARNING, "state snapshot %s not restored: %s",
		c->snapshot_path, err);
    else
	log_msg(n.skipped ? LOG_WARNING : LOG_NOTICE, "state snapshot %s "
		"restored: %u users, %u clients, %u blocks in force, %u "
		"site entries (%u records skipped)", c->snapshot_path,
		n.users, n.clients, n.blocks, n.sites, n.skipped);
}

/* open_state - attach the shared table; a file of other capacities is
 * resized and an invalid one replaced, carrying their entries over. The
 * running snapshot's handle is passed along, so that a reload does not
 * count this process as another user of the file. */
static int open_state(const struct cfg *c, STORE **st, char *err, size_t errlen)
{
    struct runtime *cur = rt_acquire();
    struct store_params p;
    int rc;

    /* 0640: the group (milter.group) may read it, as relayguardctl's
     * reading commands do, but only the milter's user writes it */
    store_params_from_cfg(&c->state, STORE_CREATE | STORE_RECREATE,
			  STATE_MODE, &p);
    p.now = (uint32_t) time(NULL);
    p.prev = cur != NULL ? cur->st : NULL;
    rc = store_open(&p, st, err, errlen);
    rt_release(cur);
    if (rc != STORE_OK)
	return -1;
    log_state_open(&c->state, *st);
    restore_snapshot(&c->state, *st);
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
    if (!report_events_open(rt)) {
	snprintf(err, errlen, "collector event queue: out of memory or threads");
	goto fail;
    }
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

/* rt_rogue_listed - is the address on the collector's list, and its
 * entry not expired? */
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
    hit = roguelist_match(&r->list, a, (int64_t) time(NULL));
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

/* rogue_reload - load the rogue list again if its file changed */
static void rogue_reload(const struct runtime *rt)
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
    r->written = sb.st_mtim.tv_sec;
    if (r->list.bad_lines)
	log_msg(LOG_WARNING, "rogue list %s: %zu bad lines skipped (first: line %zu)",
		path, r->list.bad_lines, r->list.first_bad);
    log_msg(LOG_INFO, "rogue list %s: %zu networks (%zu ranges)", path, r->list.nets.n,
	    r->list.nranges);
    rogue_swap(r);
}

/* rogue_gauges - the loaded list's size, write time and expired entries
 * for "stats"
 * (set every tick: a replaced state file starts from zero) */
static void rogue_gauges(STORE *st)
{
    struct rogue_set *r;
    uint64_t n = 0, w = 0, x = 0;

    pthread_mutex_lock(&rt_lock);
    if ((r = rogue_current) != NULL)
	n = r->list.nets.n, w = (uint64_t) r->written,
	    x = roguelist_expired(&r->list, (int64_t) time(NULL));
    pthread_mutex_unlock(&rt_lock);
    store_counter_set(st, STATS_ROGUE_ENTRIES, n);
    store_counter_set(st, STATS_ROGUE_WRITTEN, w);
    store_counter_set(st, STATS_ROGUE_EXPIRED, x);
}

/* rt_rogue_refresh - reload the rogue list if its file changed */
void rt_rogue_refresh(const struct runtime *rt)
{
    rogue_reload(rt);
    rogue_gauges(rt->st);
}

/* rt_geo_refresh - read GeoIP files again that changed on disk (they are
 * private copies: one overwritten in place never faults a lookup) */
void rt_geo_refresh(struct runtime *rt)
{
    char err[1024];
    unsigned missing = 0;

    switch (geo_refresh(rt->geo, &missing, err, sizeof(err))) {
    case 1:
	log_msg(LOG_NOTICE, "geoip: a database changed on disk; read again");
	if (missing)
	    log_msg(LOG_WARNING, "%s; metrics that need it are off", err);
	break;
    case -1:
	store_counter_add(rt->st, STATS_GEO_ERRORS, 1);
	log_msg(LOG_WARNING, "geoip: %s; the copy read before stays in use "
		"until the file changes again", err);
	break;
    default:
	break;
    }
}

/* rt_snapshot - save blocks and baselines (state.snapshot_path) when
 * the interval has passed since the last one, or now if forced (a stop) */
void rt_snapshot(struct runtime *rt, bool force)
{
    const struct cfg_state *c = &rt->cfg->state;
    struct snapshot_counts n;
    time_t now = time(NULL);
    char err[512];

    if (*c->snapshot_path == '\0')
	return;
    if (snapshot_last == 0)
	snapshot_last = now;	/* the first one an interval after start */
    if (!force && now - snapshot_last < (time_t) c->snapshot_interval_s)
	return;
    snapshot_last = now;
    if (snapshot_write(rt->st, c->snapshot_path, (uint32_t) now, &n, err,
		       sizeof(err)) != SNAPSHOT_OK)
	log_msg(LOG_WARNING, "state snapshot not written: %s", err);
    else
	log_msg(force ? LOG_NOTICE : LOG_DEBUG, "state snapshot %s: %u users, "
		"%u clients, %u blocks in force, %u site entries",
		c->snapshot_path, n.users, n.clients, n.blocks, n.sites);
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
    struct runtime *rt = rt_acquire();

    if (rt != NULL) {	/* events sealed so far go out even if a session lingers */
	report_events_flush(rt);
	rt_release(rt);
    }
    rt_install(NULL);
    rogue_swap(NULL);
}
