/*
 * bench_store - throughput of the state store, single thread.
 *
 * For each size a fresh file is made with room for twice as many users
 * (50 % full) and 16 IPs per user; every user is filled with 16 distinct
 * IPs first. Then timed: updates of a random user
 * from one of its IPs, picked at random (messages, recipients and bytes
 * counted, the clock moving one second every 4096 updates, the result
 * copied out as the rules engine needs it), and lookups of a random user.
 *
 * Prints four lines: the figures for the shipped default (max_users =
 * 100000, 50000 users) in the form
 *   store: N updates/s, M bytes/user, K lookups/s
 * how the update rate changes from 1k to 1M users, the page size those
 * ran on with the default size again on the other one, and a reference
 * measured in the same rounds (see struct ref): what this machine does
 * at the time with no store at all, and the store's rates as fractions
 * of it (the median over the rounds of each round's fraction). Each
 * rate is the best of ROUNDS rounds (see timed()).
 *
 * Pages: the state lives on tmpfs. A random slot per update on 4 KiB
 * pages is a TLB miss per update as well as a cache miss, so the package
 * mounts the state directory as a tmpfs with 2 MiB pages
 * (etc/systemd/run-relayguard.mount). The bench does the same in a
 * private mount namespace when it may (root, or a user namespace) and
 * measures there; /dev/shm (4 KiB pages) is measured too, and is all
 * there is when no such mount can be made. How much of the default run's
 * file was still mapped with 2 MiB entries after its rounds is printed
 * as well: a host can split them under the bench (-1: not known).
 *
 * With an argument (one of the sizes) only that size runs, for profiling.
 * Not a test: it never fails on a slow machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

#define IPS		16
#define OPS		2000000	/* timed operations per size and kind */
#define ROUNDS		20	/* ... in rounds; the best round is reported */
#define TICK_MASK	4095	/* the clock moves every 4096 updates */
#define LOGIN_LEN	32
#define T_START		1700000000u
#define NSIZES		4
#define MAIN_USERS	50000	/* the shipped max_users = 100000, half full */
#define FILL_TRIES	5	/* fresh keys tried when a stripe overflows */

struct result {
    double updates, lookups;
    double ref;			/* the reference's rate, 0 if not run */
    double ref_upd, ref_look;	/* median of the rounds' store/reference */
    size_t bytes_per_user;
    long pmd_kb;		/* 2 MiB-mapped kB after the rounds, -1: unknown */
};

/* pmd_mapped_kb - how much tmpfs memory this process maps with 2 MiB
 * entries right now (smaps_rollup's ShmemPmdMapped), -1 if not told.
 * Reported because a host may split the mappings under a running bench
 * (seen: DAMON's pageout scheme), and then 4 KiB pages were measured. */
static long pmd_mapped_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "re");
    char line[256];
    long kb = -1;

    if (f == NULL)
	return -1;
    while (fgets(line, sizeof(line), f) != NULL)
	if (sscanf(line, "ShmemPmdMapped: %ld kB", &kb) == 1)
	    break;
    fclose(f);
    return kb;
}

static struct store_user out;

/* now_s - monotonic seconds */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* rnd - xorshift64 */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* login_for - "userNNNNNNN@example.org": made on the spot, as a login
 * string fresh from the MTA is in cache, not read from a big table */
static void login_for(char *buf, uint32_t u)
{
    memcpy(buf, "user0000000@example.org", sizeof("user0000000@example.org"));
    for (int i = 10; i >= 4; i--, u /= 10)
	buf[i] = (char) ('0' + u % 10);
}

/* obs_for - observation of user u from its j-th IP */
static void obs_for(struct store_user_obs *o, char *login, uint32_t u,
		    uint32_t j)
{
    memset(o, 0, sizeof(*o));
    login_for(login, u);
    o->login = login;
    o->ip.b[10] = o->ip.b[11] = 0xff;	/* IPv4-mapped 10.x.y.z */
    o->ip.b[12] = 10;
    o->ip.b[13] = (uint8_t) (u >> 12);
    o->ip.b[14] = (uint8_t) (u >> 4);
    o->ip.b[15] = (uint8_t) ((u & 0xf) << 4 | j);
    memcpy(o->geo.cc, j & 1 ? "DE" : "NL", 3);
    o->geo.asn = 64500 + j;
}

/* failed - say which operation failed on whom and how; -1 */
static int failed(const char *what, const char *login, int status)
{
    fprintf(stderr, "bench_store: %s of %s: %s\n", what, login,
	    store_strerror(status));
    return -1;
}

/* fill - every user with IPS distinct IPs */
static int fill(STORE *st, char *login, uint32_t n, uint32_t t)
{
    struct store_user_obs o;
    int rc;

    for (uint32_t u = 0; u < n; u++)
	for (uint32_t j = 0; j < IPS; j++) {
	    obs_for(&o, login, u, j);
	    if ((rc = store_user_update(st, &o, t, NULL)) != STORE_OK)
		return failed("fill: update", login, rc);
	}
    return 0;
}

/* timed_updates - one round of updates; its rate, or -1 */
static double timed_updates(STORE *st, char *login, uint32_t n, uint32_t *t,
			    uint64_t *seed)
{
    struct store_user_obs o;
    double a = now_s();
    int rc;

    for (uint32_t i = 0; i < OPS / ROUNDS; i++) {
	uint64_t x = rnd(seed);

	obs_for(&o, login, (uint32_t) (x % n), (uint32_t) (x >> 60));
	o.msgs = 1;
	o.rcpts = 2;
	o.bytes = 3000;
	if ((i & TICK_MASK) == 0)
	    (*t)++;
	if ((rc = store_user_update(st, &o, *t, &out)) != STORE_OK)
	    return failed("update", login, rc);
    }
    return OPS / ROUNDS / (now_s() - a);
}

/* timed_lookups - one round of lookups; its rate, or -1 */
static double timed_lookups(STORE *st, char *login, uint32_t n, uint32_t t,
			    uint64_t *seed)
{
    double a = now_s();
    int rc;

    for (uint32_t i = 0; i < OPS / ROUNDS; i++) {
	login_for(login, (uint32_t) (rnd(seed) % n));
	if ((rc = store_user_get(st, login, t, &out)) != STORE_OK)
	    return failed("lookup", login, rc);
    }
    return OPS / ROUNDS / (now_s() - a);
}

/* The reference: the least a store of this shape can do per operation.
 * Take a robust process-shared mutex, fetch one random 1 KiB slot of the
 * same file (all its lines at once, as the store does), copy it out and
 * release the mutex; no hashing, no lookup, no update. Its rounds
 * alternate with the store's in one process, so both see the machine in
 * the same state: the ratio says how close the store is to the memory
 * floor whatever a shared host is doing at the time. */
#define REF_SLOT	1024
#define REF_LOCKS	64

struct ref {
    unsigned char *map;		/* the state file, mapped again read-only */
    size_t size, slots;
    pthread_mutex_t mu[REF_LOCKS];
};

static unsigned char ref_out[REF_SLOT];

/* ref_open - map the store's file for the reference; 0 or -1 */
static int ref_open(struct ref *rf, const char *path)
{
    pthread_mutexattr_t a;
    struct stat sb;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size < REF_SLOT) {
	if (fd >= 0)
	    close(fd);
	return -1;
    }
    rf->size = (size_t) sb.st_size;
    rf->slots = rf->size / REF_SLOT;
    rf->map = mmap(NULL, rf->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (rf->map == MAP_FAILED)
	return -1;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    for (int i = 0; i < REF_LOCKS; i++)
	pthread_mutex_init(&rf->mu[i], &a);
    pthread_mutexattr_destroy(&a);
    return 0;
}

/* ref_close - undo ref_open */
static void ref_close(struct ref *rf)
{
    for (int i = 0; i < REF_LOCKS; i++)
	pthread_mutex_destroy(&rf->mu[i]);
    munmap(rf->map, rf->size);
}

/* timed_reference - one round of the reference; its rate, or -1 */
static double timed_reference(struct ref *rf, uint64_t *seed)
{
    double a = now_s();

    for (uint32_t i = 0; i < OPS / ROUNDS; i++) {
	uint64_t x = rnd(seed);
	pthread_mutex_t *mu = &rf->mu[x % REF_LOCKS];
	const unsigned char *p = rf->map + (x >> 16) % rf->slots * REF_SLOT;

	for (int o = 0; o < REF_SLOT; o += 64)
	    __builtin_prefetch(p + o);
	if (pthread_mutex_trylock(mu) != 0) {
	    fprintf(stderr, "bench_store: the reference's lock is taken\n");
	    return -1;
	}
	memcpy(ref_out, p, REF_SLOT);
	__asm__ __volatile__("" : : "r"(ref_out) : "memory");	/* kept */
	pthread_mutex_unlock(mu);
    }
    return OPS / ROUNDS / (now_s() - a);
}

/* cmp_double - qsort order of doubles */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

/* median - of n values (sorted in place) */
static double median(double *v, int n)
{
    qsort(v, (size_t) n, sizeof(v[0]), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* timed - rounds of updates and lookups; the best round of each counts,
 * because the machine may be shared and a neighbour's burst is not ours */
static int timed(STORE *st, char *login, uint32_t n, uint32_t t,
		 struct ref *rf, struct result *r)
{
    uint64_t seed = 0x9e3779b97f4a7c15u;
    double ru[ROUNDS], rl[ROUNDS];

    r->updates = r->lookups = r->ref = r->ref_upd = r->ref_look = 0;
    for (int k = 0; k < ROUNDS; k++) {
	double u = timed_updates(st, login, n, &t, &seed);
	double l = timed_lookups(st, login, n, t, &seed);
	double f = rf != NULL ? timed_reference(rf, &seed) : 0;

	if (u < 0 || l < 0 || f < 0)
	    return -1;
	r->updates = u > r->updates ? u : r->updates;
	r->lookups = l > r->lookups ? l : r->lookups;
	r->ref = f > r->ref ? f : r->ref;
	ru[k] = f > 0 ? u / f : 0;
	rl[k] = f > 0 ? l / f : 0;
    }
    if (rf != NULL) {
	r->ref_upd = median(ru, ROUNDS);
	r->ref_look = median(rl, ROUNDS);
    }
    return 0;
}

/* open_filled - a fresh file at path with room for 2n users and all n
 * in it. Capacity is per stripe, so a small table can overflow one of
 * its 64 stripes while half empty (1k users: about 1 run in 200); then
 * users were evicted, and the file is made again under a new random
 * key. The open store, or NULL. */
static STORE *open_filled(const char *path, uint32_t n, char *login)
{
    struct store_params p = { .path = path, .max_users = 2 * n,
	.max_clients = 1024, .ips_per_user = IPS, .lock_timeout_ms = 1000,
	.flags = STORE_CREATE, .mode = 0600 };
    struct store_stats stats;
    char err[256];
    STORE *st;

    for (int tries = 0; tries < FILL_TRIES; tries++) {
	unlink(path);
	if (store_open(&p, &st, err, sizeof(err)) != STORE_OK) {
	    fprintf(stderr, "bench_store: %s\n", err);
	    return NULL;
	}
	if (fill(st, login, n, T_START) != 0) {
	    store_close(st);
	    return NULL;
	}
	store_get_stats(st, &stats);
	if (stats.evictions == 0)
	    return st;
	fprintf(stderr, "bench_store: %u users: a stripe overflowed (%llu "
		"evicted), again under a new key\n", n,
		(unsigned long long) stats.evictions);
	store_close(st);
    }
    return NULL;
}

/* run - n users in a fresh file with room for 2n; with_ref: the
 * reference's rounds alternate with the store's */
static int run(const char *dir, uint32_t n, int with_ref, struct result *r)
{
    struct store_stats stats;
    char path[256], login[LOGIN_LEN];
    struct ref rf;
    STORE *st;
    int rc;

    snprintf(path, sizeof(path), "%s/state.%u", dir, n);
    if ((st = open_filled(path, n, login)) == NULL) {
	unlink(path);
	return -1;
    }
    if (with_ref && ref_open(&rf, path) != 0) {
	fprintf(stderr, "bench_store: cannot map %s again\n", path);
	with_ref = 0;
    }
    rc = timed(st, login, n, T_START, with_ref ? &rf : NULL, r);
    if (with_ref)
	ref_close(&rf);		/* first: pmd_mapped_kb counts every map */
    if (rc == 0) {
	store_get_stats(st, &stats);
	r->bytes_per_user = stats.user_bytes;
	r->pmd_kb = pmd_mapped_kb();
	rc = stats.users == n ? 0 : -1;
	if (rc != 0)
	    fprintf(stderr, "bench_store: %u users in the table, not %u "
		    "(%llu evictions)\n", stats.users, n,
		    (unsigned long long) stats.evictions);
    }
    store_close(st);
    unlink(path);
    return rc;
}

/* write_file - put a short text into a /proc file; 0 or -1 */
static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC), rc = -1;

    if (fd >= 0) {
	rc = write(fd, text, strlen(text)) == (ssize_t) strlen(text) ? 0 : -1;
	close(fd);
    }
    return rc;
}

/* own_mounts - a private mount namespace: as root directly, otherwise in
 * a user namespace of our own (uid and gid mapped to themselves) */
static int own_mounts(void)
{
    char map[64];
    unsigned uid = (unsigned) getuid(), gid = (unsigned) getgid();

    if (unshare(CLONE_NEWNS) == 0)
	return 0;
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
	return -1;
    snprintf(map, sizeof(map), "%u %u 1", uid, uid);
    if (write_file("/proc/self/setgroups", "deny") != 0
	|| write_file("/proc/self/uid_map", map) != 0)
	return -1;
    snprintf(map, sizeof(map), "%u %u 1", gid, gid);
    return write_file("/proc/self/gid_map", map);
}

/* huge_dir - a tmpfs with 2 MiB pages on a fresh directory under /tmp,
 * seen by this process only; 0, or -1 with why */
static int huge_dir(char *dir, size_t len, const char **why)
{
    snprintf(dir, len, "/tmp/bench_store_huge.XXXXXX");
    if (mkdtemp(dir) == NULL) {
	*why = "mkdtemp";
	return -1;
    }
    if (own_mounts() != 0) {
	*why = "no private mount namespace";
    } else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
	*why = "mounts not private";
    } else if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV,
		     "huge=always,mode=0700") != 0) {
	*why = errno == EINVAL ? "kernel without huge tmpfs pages"
	    : "tmpfs mount refused";
    } else {
	return 0;
    }
    rmdir(dir);
    return -1;
}

/* plain_dir - a fresh directory on /dev/shm (4 KiB pages), else /tmp */
static int plain_dir(char *dir, size_t len)
{
    snprintf(dir, len, "%s/bench_store.XXXXXX",
	     access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

int main(int argc, char **argv)
{
    static const uint32_t sizes[NSIZES] = { 1000, 10000, 100000, 1000000 };
    static const char *const names[NSIZES] = { "1k", "10k", "100k", "1M" };
    static const struct result none = { .pmd_kb = -1 };
    struct result r[NSIZES], m = none, small = none;
    unsigned long only = 0;
    const char *why = NULL, *base;
    char dir[64], plain[64];
    int huge;

    if (plain_dir(plain, sizeof(plain)) != 0) {
	perror("bench_store: mkdtemp");
	return 1;
    }
    base = strncmp(plain, "/dev/shm/", 9) == 0 ? "/dev/shm" : "/tmp";
    huge = huge_dir(dir, sizeof(dir), &why) == 0;
    if (!huge)
	snprintf(dir, sizeof(dir), "%s", plain);
    for (int i = 0; i < NSIZES; i++)
	r[i] = none;
    if (argc > 1)
	only = strtoul(argv[1], NULL, 10);
    if ((only == 0 || only == MAIN_USERS) && run(dir, MAIN_USERS, 1, &m) != 0)
	goto fail;
    for (int i = 0; i < NSIZES; i++)
	if ((only == 0 || only == sizes[i]) && run(dir, sizes[i], 0, &r[i]) != 0)
	    goto fail;
    if (huge && only == 0 && run(plain, MAIN_USERS, 1, &small) != 0)
	goto fail;
    if (huge) {
	umount(dir);
	rmdir(dir);
    }
    rmdir(plain);
    printf("store: %.0f updates/s, %zu bytes/user, %.0f lookups/s\n",
	   m.updates, m.bytes_per_user, m.lookups);
    printf("store scaling:");
    for (int i = 0; i < NSIZES; i++)
	printf("%s %s users %.0f/s", i ? "," : "", names[i], r[i].updates);
    printf("\n");
    if (huge)
	printf("store pages: 2 MiB (private tmpfs, huge=always, as "
	       "run-relayguard.mount; %ld MiB still mapped so after the "
	       "rounds); on 4 KiB pages (%s): %.0f updates/s, %.0f "
	       "lookups/s (reference %.0f/s, updates at %.2f of it)\n",
	       m.pmd_kb < 0 ? -1 : m.pmd_kb / 1024, base, small.updates,
	       small.lookups, small.ref, small.ref_upd);
    else
	printf("store pages: 4 KiB (%s; no tmpfs with 2 MiB pages: %s)\n",
	       base, why);
    if ((only == 0 || only == MAIN_USERS) && m.ref > 0)
	printf("store reference: %.0f/s bare locked copies of a random "
	       "1 KiB slot of the same file, rounds alternating with the "
	       "store's: updates at %.2f of it, lookups at %.2f (medians of "
	       "the rounds)\n", m.ref, m.ref_upd, m.ref_look);
    else if (only == 0 || only == MAIN_USERS)
	printf("store reference: not measured (the file could not be "
	       "mapped again)\n");
    return 0;
  fail:
    fprintf(stderr, "bench_store: a run failed\n");
    if (huge) {
	umount(dir);
	rmdir(dir);
    }
    rmdir(plain);
    return 1;
}
