/*
 * snapshot - save and restore what must survive the state file (see
 * snapshot.h for the contract).
 *
 * Format 6 (formats 2 to 5 are still read: 2's users have no networks,
 * 3's no spare state, 2 to 4 have no site entries, 5's site logins are
 * their hashes alone), all integers little-endian:
 *   header  "RGSNAP\0\1" | u32 version | u32 users | u32 clients |
 *           u32 written at | u32 the site's start (store_site_start,
 *           0 unknown; zero in files written before it) |
 *           u32 sites (format 5; zero bytes before it)  (32 bytes)
 *   users   login[48] NUL padded | u32 first | u32 last | block |
 *           6 x (cc[2] | u16 days | u16 first day | u16 last day)
 *                                                         (136 bytes)
 *           format 3 then: 8 x (u32 network key | u16 days |
 *           u16 first day | u16 last day | u8 1 if the key is a prefix,
 *           0 if an AS | u8 0) | u16 usual messages
 *           | u16 usual recipients | u16 usual day (0 unknown: zero in
 *           files written before it) | 2 zero bytes   (240 bytes in all)
 *           format 4 then: u8 usual coarse hour | u8 the low byte of the
 *           day it last rose | 2 zero bytes | u32 the home place's last
 *           time | ext[32] (store_user.ext)            (280 bytes in all)
 *           (with the usual day these are every aux byte of the store's
 *           networks: usual day 0/1, coarse hour and day 2/3, home 4..7)
 *   clients address[16] | u32 first | u32 last | block   (56 bytes)
 *   sites   (format 5) the site's networks and places (store_site_each):
 *           key[16] (in 100::/64, store_site_ref) | u32 first |
 *           u32 last | u32 vouched | u16 vouch days | u16 last vouch
 *           day | u32 logins | 32 x (u32 keyed login hash |
 *           u32 last seen)                              (292 bytes)
 *           format 6 then: 32 x u32 the login's user record (its
 *           number in this file, from 1; 0: not in the file)  (420 bytes)
 *   trailer u64 FNV-1a of every byte before it
 * where block = u32 until | u8 action | u8 set by | u16 rule |
 * reason[24] NUL padded (32 bytes). The file's size must be exactly what
 * the counts say. The checksum finds a torn or damaged file, it is no
 * defence: every record is checked as untrusted (a login of printable
 * bytes, NUL padded; country codes of two capital letters; a known
 * "set by"; a reason without control bytes) and one that fails is
 * skipped; so is a site record whose login refers past the users or
 * to a user record whose login does not check out.
 *
 * The logins of a site entry are kept by the store as 32-bit hashes
 * keyed with the state file's key, which a lost file takes with it: a
 * new file's hash of the same login differs, so a login that vouched
 * before the loss and vouches again after it held two of the entry's
 * slots, and counted twice toward site_logins for 30 days. Format 6
 * names each such login by its user record, written by the snapshot
 * already, and a restore hashes that record's login with the new file's
 * key (snapshot_restore). No login is written a second time, and no key
 * leaves the state file. A login the file has no user record of (the
 * user table evicted it, or a hash two of its users share) keeps its
 * old hash, as format 5's all do.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "snapshot.h"

#define SNAP_MAGIC	"RGSNAP\0\1"
#define SNAP_MAGIC_LEN	8
#define SNAP_VERSION	6	/* 2: a block names its rule by identity;
				 * 3: familiar networks, usual volume;
				 * 4: spare state (coarse hour, home, ext);
				 * 5: the site's networks and places;
				 * 6: their logins by user record */
#define SNAP_VERSION_2	2	/* still read */
#define SNAP_VERSION_3	3	/* still read */
#define SNAP_VERSION_4	4	/* still read: users as 5's, no sites */
#define SNAP_VERSION_5	5	/* still read: sites without user records */
#define SNAP_HDR	32
#define SNAP_BLOCK	32	/* until, action, setby, flags, 0, rule id, reason */
#define SNAP_COUNTRY	8
#define SNAP_USER2	(STORE_LOGIN_MAX + 8 + SNAP_BLOCK \
			 + STORE_COUNTRIES * SNAP_COUNTRY)
#define SNAP_NET	12
#define SNAP_USER3	(SNAP_USER2 + STORE_NETS * SNAP_NET + 8)
#define SNAP_SPARE	(8 + STORE_EXT_LEN)
#define SNAP_USER	(SNAP_USER3 + SNAP_SPARE)
#define SNAP_CLIENT	(16 + 8 + SNAP_BLOCK)
#define SNAP_SITE_LOGINS 32
#define SNAP_SITE5	(16 + 20 + SNAP_SITE_LOGINS * 8)
#define SNAP_SITE	(SNAP_SITE5 + SNAP_SITE_LOGINS * 4)
#define SNAP_TRAILER	8
#define SNAP_MAX_BYTES	(UINT64_C(1) << 31)	/* refuse bigger files */
#define SNAP_TMP_SUFFIX	".XXXXXX"
#define FNV64_OFFSET	UINT64_C(14695981039346656037)
#define FNV64_PRIME	UINT64_C(1099511628211)

_Static_assert(SNAP_USER2 == 136 && SNAP_USER3 == 240 && SNAP_USER == 280
	       && SNAP_CLIENT == 56 && SNAP_SITE5 == 292 && SNAP_SITE == 420,
	       "record sizes");
_Static_assert(SNAP_SITE_LOGINS == STORE_CLIENT_LOGINS,
	       "a site record holds every login of its entry");
_Static_assert(12 + STORE_REASON_MAX <= SNAP_BLOCK, "a block record holds its reason");

/* A user record written: its login's keyed hash, its number (from 1). */
struct uref {
    uint32_t hash, rec;
};

/* A growing output buffer, and the user records written so far. */
struct out {
    unsigned char *b;
    size_t len, cap;
    int failed;
    uint32_t now;
    struct snapshot_counts *n;
    const STORE *st;
    struct uref *refs;
    size_t nrefs, caprefs;
};

/* fnv64 - FNV-1a over a buffer */
static uint64_t fnv64(const unsigned char *p, size_t n)
{
    uint64_t h = FNV64_OFFSET;

    for (size_t i = 0; i < n; i++)
	h = (h ^ p[i]) * FNV64_PRIME;
    return h;
}

/* room - make space for n more bytes; NULL once out of memory */
static unsigned char *room(struct out *o, size_t n)
{
    unsigned char *nb;
    size_t cap;

    if (o->failed)
	return NULL;
    if (o->len + n > o->cap) {
	cap = o->cap ? o->cap * 2 : 65536;
	while (cap < o->len + n)
	    cap *= 2;
	if ((nb = realloc(o->b, cap)) == NULL) {
	    o->failed = 1;
	    return NULL;
	}
	o->b = nb;
	o->cap = cap;
    }
    o->len += n;
    return o->b + o->len - n;
}

/* put16 - a little-endian 16-bit integer */
static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
}

/* put32 - a little-endian 32-bit integer */
static void put32(unsigned char *p, uint32_t v)
{
    put16(p, (uint16_t) v);
    put16(p + 2, (uint16_t) (v >> 16));
}

/* get16 - a little-endian 16-bit integer */
static uint16_t get16(const unsigned char *p)
{
    return (uint16_t) (p[0] | p[1] << 8);
}

/* get32 - a little-endian 32-bit integer */
static uint32_t get32(const unsigned char *p)
{
    return (uint32_t) get16(p) | (uint32_t) get16(p + 2) << 16;
}

/* block_live - a block in force at now */
static int block_live(const struct store_block *b, uint32_t now)
{
    return b->until != 0 && now < b->until;
}

/* put_block - a block in its 32 bytes */
static void put_block(unsigned char *p, const struct store_block *b)
{
    memset(p, 0, SNAP_BLOCK);
    put32(p, b->until);
    p[4] = b->action;
    p[5] = b->setby;
    /* where the block was set (STORE_BLOCK_COARSE) stays in the state
     * file: a snapshot keeps the flags every build reads, so a build
     * before them restores it (the block then spares as it did there) */
    p[6] = b->flags & (STORE_BLOCK_WOULD | STORE_BLOCK_FIRST);
    put32(p + 8, b->rule_id);
    memcpy(p + 12, b->reason, strnlen(b->reason, STORE_REASON_MAX - 1));
}

/* note_ref - the user record just written, for its site logins */
static void note_ref(struct out *o, const char *login)
{
    struct uref *nr;

    if (o->nrefs == o->caprefs) {
	size_t cap = o->caprefs ? o->caprefs * 2 : 1024;

	if ((nr = realloc(o->refs, cap * sizeof(*nr))) == NULL) {
	    o->failed = 1;
	    return;
	}
	o->refs = nr;
	o->caprefs = cap;
    }
    o->refs[o->nrefs].hash = store_login_hash32(o->st, login);
    o->refs[o->nrefs].rec = o->n->users;
    o->nrefs++;
}

/* uref_cmp - qsort order of the user records: by hash */
static int uref_cmp(const void *a, const void *b)
{
    const struct uref *x = a, *y = b;

    return x->hash < y->hash ? -1 : x->hash > y->hash;
}

/* user_rec - the user record whose login has hash h (from 1), 0 if none
 * or two (refs sorted) */
static uint32_t user_rec(const struct out *o, uint32_t h)
{
    size_t lo = 0, hi = o->nrefs;

    while (lo < hi) {
	size_t mid = lo + (hi - lo) / 2;

	if (o->refs[mid].hash < h)
	    lo = mid + 1;
	else
	    hi = mid;
    }
    if (lo == o->nrefs || o->refs[lo].hash != h
	|| (lo + 1 < o->nrefs && o->refs[lo + 1].hash == h))
	return 0;
    return o->refs[lo].rec;
}

/* put_user - store_user_each callback: one user record */
static int put_user(const struct store_user *u, void *arg)
{
    struct out *o = arg;
    unsigned char *p = room(o, SNAP_USER);

    if (p == NULL)
	return 1;
    memset(p, 0, SNAP_USER);
    memcpy(p, u->login, strnlen(u->login, STORE_LOGIN_MAX - 1));
    put32(p + STORE_LOGIN_MAX, u->first_seen);
    put32(p + STORE_LOGIN_MAX + 4, u->last_seen);
    put_block(p + STORE_LOGIN_MAX + 8, &u->block);
    p += STORE_LOGIN_MAX + 8 + SNAP_BLOCK;
    for (int i = 0; i < STORE_COUNTRIES; i++, p += SNAP_COUNTRY) {
	memcpy(p, u->countries[i].cc, 2);
	put16(p + 2, u->countries[i].days);
	put16(p + 4, u->countries[i].first_day);
	put16(p + 6, u->countries[i].last_day);
    }
    for (int i = 0; i < STORE_NETS; i++, p += SNAP_NET) {
	put32(p, (uint32_t) u->nets[i].key);
	put16(p + 4, u->nets[i].days);
	put16(p + 6, u->nets[i].first_day);
	put16(p + 8, u->nets[i].last_day);
	p[10] = (u->nets[i].key & STORE_NET_PREFIX) != 0;
    }
    put16(p, u->usual_msgs);
    put16(p + 2, u->usual_rcpts);
    put16(p + 4, u->usual_day);
    p += 8;
    p[0] = u->usual_coarse;
    p[1] = u->coarse_day;
    put32(p + 4, u->home_seen);
    memcpy(p + 8, u->ext, STORE_EXT_LEN);
    o->n->users++;
    note_ref(o, u->login);
    o->n->blocks += block_live(&u->block, o->now);
    return 0;
}

/* put_client - store_client_each callback: one client record */
static int put_client(const struct store_client *c, void *arg)
{
    struct out *o = arg;
    unsigned char *p = room(o, SNAP_CLIENT);

    if (p == NULL)
	return 1;
    memcpy(p, c->ip.b, 16);
    put32(p + 16, c->first_seen);
    put32(p + 20, c->last_seen);
    put_block(p + 24, &c->block);
    o->n->clients++;
    o->n->blocks += block_live(&c->block, o->now);
    return 0;
}

/* put_site - store_site_each callback: one site network or place */
static int put_site(const struct store_client *c, void *arg)
{
    struct out *o = arg;
    unsigned char *p = room(o, SNAP_SITE);
    uint32_t n = c->nlogins < SNAP_SITE_LOGINS ? c->nlogins
	: SNAP_SITE_LOGINS;

    if (p == NULL)
	return 1;
    memset(p, 0, SNAP_SITE);
    memcpy(p, c->ip.b, 16);
    put32(p + 16, c->first_seen);
    put32(p + 20, c->last_seen);
    put32(p + 24, c->vouched);
    put16(p + 28, c->vouch_days);
    put16(p + 30, c->vouch_day);
    put32(p + 32, n);
    for (uint32_t i = 0; i < n; i++) {
	put32(p + 36 + 8 * i, c->logins[i].hash);
	put32(p + 40 + 8 * i, c->logins[i].last_seen);
	put32(p + SNAP_SITE5 + 4 * i, user_rec(o, c->logins[i].hash));
    }
    o->n->sites++;
    return 0;
}

/* build - the whole file in memory */
static int build(STORE *st, uint32_t now, struct out *o, char *err,
		 size_t errlen)
{
    unsigned char *p = room(o, SNAP_HDR);
    int rc;

    if (p == NULL)
	return errbuf_set(err, errlen, "out of memory"), SNAPSHOT_EIO;
    o->st = st;
    if ((rc = store_user_each(st, now, put_user, o)) == STORE_OK)
	qsort(o->refs, o->nrefs, sizeof(*o->refs), uref_cmp);
    if (rc != STORE_OK
	|| (rc = store_client_each(st, now, put_client, o)) != STORE_OK
	|| (rc = store_site_each(st, now, put_site, o)) != STORE_OK)
	return errbuf_set(err, errlen, "reading the state: %s",
			  store_strerror(rc)), SNAPSHOT_EIO;
    if ((p = room(o, SNAP_TRAILER)) == NULL)
	return errbuf_set(err, errlen, "out of memory"), SNAPSHOT_EIO;
    p = o->b;
    memset(p, 0, SNAP_HDR);
    memcpy(p, SNAP_MAGIC, SNAP_MAGIC_LEN);
    put32(p + 8, SNAP_VERSION);
    put32(p + 12, o->n->users);
    put32(p + 16, o->n->clients);
    put32(p + 20, now);
    put32(p + 24, store_site_start(st, 0));
    put32(p + 28, o->n->sites);
    {
	uint64_t h = fnv64(o->b, o->len - SNAP_TRAILER);

	put32(o->b + o->len - 8, (uint32_t) h);
	put32(o->b + o->len - 4, (uint32_t) (h >> 32));
    }
    return SNAPSHOT_OK;
}

/* write_all - the buffer to fd, whole */
static int write_all(int fd, const unsigned char *b, size_t n)
{
    while (n > 0) {
	ssize_t w = write(fd, b, n);

	if (w < 0 && errno == EINTR)
	    continue;
	if (w <= 0)
	    return -1;
	b += w;
	n -= (size_t) w;
    }
    return 0;
}

/* sync_dir - make the rename durable */
static void sync_dir(const char *path)
{
    char *copy = strdup(path);
    int fd;

    if (copy == NULL)
	return;
    if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
	(void) fsync(fd);
	close(fd);
    }
    free(copy);
}

/* publish - write under a temporary name, sync, rename into place */
static int publish(const char *path, const struct out *o, char *err,
		   size_t errlen)
{
    char *tmp = malloc(strlen(path) + sizeof(SNAP_TMP_SUFFIX));
    int fd, rc = SNAPSHOT_OK;

    if (tmp == NULL)
	return errbuf_set(err, errlen, "out of memory"), SNAPSHOT_EIO;
    strcpy(stpcpy(tmp, path), SNAP_TMP_SUFFIX);
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
	errbuf_set(err, errlen, "create %s: %s", tmp, strerror(errno));
	free(tmp);
	return SNAPSHOT_EIO;
    }
    if (fchmod(fd, 0600) != 0 || write_all(fd, o->b, o->len) != 0
	|| fsync(fd) != 0) {
	errbuf_set(err, errlen, "write %s: %s", tmp, strerror(errno));
	rc = SNAPSHOT_EIO;
    }
    if (close(fd) != 0 && rc == SNAPSHOT_OK) {
	errbuf_set(err, errlen, "write %s: %s", tmp, strerror(errno));
	rc = SNAPSHOT_EIO;
    }
    if (rc == SNAPSHOT_OK && rename(tmp, path) != 0) {
	errbuf_set(err, errlen, "rename %s to %s: %s", tmp, path,
		   strerror(errno));
	rc = SNAPSHOT_EIO;
    }
    if (rc != SNAPSHOT_OK)
	unlink(tmp);
    else
	sync_dir(path);
    free(tmp);
    return rc;
}

/* snapshot_write - save the state's users and clients to path */
int snapshot_write(STORE *st, const char *path, uint32_t now,
		   struct snapshot_counts *out, char *err, size_t errlen)
{
    struct snapshot_counts n;
    struct out o;
    int rc;

    memset(&n, 0, sizeof(n));
    memset(&o, 0, sizeof(o));
    o.now = now;
    o.n = &n;
    if (st == NULL || path == NULL || *path == '\0')
	return errbuf_set(err, errlen, "no state or no path"), SNAPSHOT_EIO;
    rc = build(st, now, &o, err, errlen);
    if (rc == SNAPSHOT_OK && o.failed)
	rc = (errbuf_set(err, errlen, "out of memory"), SNAPSHOT_EIO);
    if (rc == SNAPSHOT_OK)
	rc = publish(path, &o, err, errlen);
    free(o.b);
    free(o.refs);
    if (out != NULL)
	*out = n;
    return rc;
}

/* text_ok - NUL padded bytes, printable up to the first NUL; the pad
 * zeroed (in a copy) */
static int text_ok(const unsigned char *in, size_t n, char *out)
{
    size_t len = 0;

    while (len < n && in[len] != 0) {
	if (in[len] < 0x20 || in[len] == 0x7f)
	    return 0;
	len++;
    }
    if (len == n)
	return 0;		/* no room for the NUL */
    memset(out, 0, n);
    memcpy(out, in, len);
    return 1;
}

/* get_block - a block record; 0 if it does not check out */
static int get_block(const unsigned char *p, uint32_t now,
		     struct store_block *b)
{
    memset(b, 0, sizeof(*b));
    b->until = get32(p);
    b->action = p[4];
    b->setby = p[5];
    b->flags = p[6];
    b->rule_id = get32(p + 8);
    if ((b->flags & ~STORE_BLOCK_FLAGS) != 0 || p[7] != 0)
	return 0;
    if (!text_ok(p + 12, STORE_REASON_MAX, b->reason))
	return 0;
    if (b->until == 0)
	return b->setby == STORE_BY_NONE;
    if (b->setby != STORE_BY_RULE && b->setby != STORE_BY_ADMIN)
	return 0;
    if (!block_live(b, now))
	memset(b, 0, sizeof(*b));	/* over: as none */
    return 1;
}

/* get_nets - format 3's networks and usual volume; 0 if they do not
 * check out */
static int get_nets(const unsigned char *p, struct store_user *u)
{
    for (int i = 0; i < STORE_NETS; i++, p += SNAP_NET) {
	struct store_net *n = &u->nets[i];

	if (p[10] > 1 || p[11] != 0)
	    return 0;
	n->key = get32(p) | (p[10] ? STORE_NET_PREFIX : 0);
	n->days = get16(p + 4);
	n->first_day = get16(p + 6);
	n->last_day = get16(p + 8);
	if (n->days == 0)
	    n->key = 0;
    }
    u->usual_msgs = get16(p);
    u->usual_rcpts = get16(p + 2);
    u->usual_day = get16(p + 4);
    return 1;
}

/* get_spare - format 4's spare state; 0 if it does not check out */
static int get_spare(const unsigned char *p, struct store_user *u)
{
    if (p[2] != 0 || p[3] != 0)
	return 0;
    u->usual_coarse = p[0];
    u->coarse_day = p[1];
    u->home_seen = get32(p + 4);
    memcpy(u->ext, p + 8, STORE_EXT_LEN);
    return 1;
}

/* get_user - a user record of format version; 0 if it does not check out */
static int get_user(const unsigned char *p, uint32_t version, uint32_t now,
		    struct store_user *u)
{
    memset(u, 0, sizeof(*u));
    if (!text_ok(p, STORE_LOGIN_MAX, u->login) || u->login[0] == '\0')
	return 0;
    u->first_seen = get32(p + STORE_LOGIN_MAX);
    u->last_seen = get32(p + STORE_LOGIN_MAX + 4);
    if (!get_block(p + STORE_LOGIN_MAX + 8, now, &u->block))
	return 0;
    p += STORE_LOGIN_MAX + 8 + SNAP_BLOCK;
    for (int i = 0; i < STORE_COUNTRIES; i++, p += SNAP_COUNTRY) {
	struct store_country *c = &u->countries[i];

	if (p[0] == 0 && p[1] == 0)
	    continue;
	if (p[0] < 'A' || p[0] > 'Z' || p[1] < 'A' || p[1] > 'Z')
	    return 0;
	memcpy(c->cc, p, 2);
	c->days = get16(p + 2);
	c->first_day = get16(p + 4);
	c->last_day = get16(p + 6);
    }
    if (version == SNAP_VERSION_2)
	return 1;
    if (!get_nets(p, u))
	return 0;
    return version == SNAP_VERSION_3
	|| get_spare(p + STORE_NETS * SNAP_NET + 8, u);
}

/* get_client - a client record; 0 if it does not check out (a site
 * entry's key or a /64's is no client's: the writer puts neither here) */
static int get_client(const unsigned char *p, uint32_t now,
		      struct store_client *c)
{
    static const unsigned char zero[16];

    memset(c, 0, sizeof(*c));
    if (memcmp(p, zero, sizeof(zero)) == 0)
	return 0;
    memcpy(c->ip.b, p, 16);
    if (store_site_is_key(&c->ip) || store_prefix_is_key(&c->ip)
	|| store_hub_is_key(&c->ip))
	return 0;
    c->first_seen = get32(p + 16);
    c->last_seen = get32(p + 20);
    return get_block(p + 24, now, &c->block);
}

/* The user records a format 6 site record's logins refer to, and how a
 * restore hashes their logins (rehash NULL: the hashes stay). */
struct site_users {
    const unsigned char *at;	/* the first user record */
    uint32_t n;
    size_t usize;
    uint32_t version;
    uint32_t (*rehash)(const char *login, void *ctx);
    void *ctx;
};

/* site_login - login slot i of a site record: the login of the user
 * record it names, hashed anew when the caller can; 0 if it names no
 * record there is or one whose login does not check out */
static int site_login(const unsigned char *p, uint32_t i,
		      const struct site_users *su, struct store_client *c)
{
    char login[STORE_LOGIN_MAX];
    uint32_t rec;

    if (su->version != SNAP_VERSION
	|| (rec = get32(p + SNAP_SITE5 + 4 * i)) == 0)
	return 1;
    if (rec > su->n
	|| !text_ok(su->at + (size_t) (rec - 1) * su->usize, STORE_LOGIN_MAX,
		    login) || login[0] == '\0')
	return 0;
    if (su->rehash != NULL)
	c->logins[i].hash = su->rehash(login, su->ctx);
    return 1;
}

/* get_site - a site record; 0 if it does not check out */
static int get_site(const unsigned char *p, const struct site_users *su,
		    struct store_client *c)
{
    struct store_site_ref ref;

    memset(c, 0, sizeof(*c));
    memcpy(c->ip.b, p, 16);
    if (store_site_ref(&c->ip, &ref) != STORE_OK)
	return 0;
    c->first_seen = get32(p + 16);
    c->last_seen = get32(p + 20);
    c->vouched = get32(p + 24);
    c->vouch_days = get16(p + 28);
    c->vouch_day = get16(p + 30);
    c->nlogins = get32(p + 32);
    if (c->nlogins > SNAP_SITE_LOGINS)
	return 0;
    for (uint32_t i = 0; i < c->nlogins; i++) {
	c->logins[i].hash = get32(p + 36 + 8 * i);
	c->logins[i].last_seen = get32(p + 40 + 8 * i);
	if (!site_login(p, i, su, c))
	    return 0;
    }
    return 1;
}

/* header_ok - magic, version, counts against the size, checksum */
static int header_ok(const unsigned char *buf, size_t len, uint32_t *nu,
		     uint32_t *nc, uint32_t *ns, size_t *usize, size_t *ssize,
		     char *err, size_t errlen)
{
    uint32_t version;
    uint64_t want, h;

    if (len < SNAP_HDR + SNAP_TRAILER
	|| memcmp(buf, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0)
	return errbuf_set(err, errlen, "not a relayguard snapshot"), 0;
    switch ((version = get32(buf + 8))) {
    case SNAP_VERSION_2:
	*usize = SNAP_USER2;
	break;
    case SNAP_VERSION_3:
	*usize = SNAP_USER3;
	break;
    case SNAP_VERSION_4:
    case SNAP_VERSION_5:
    case SNAP_VERSION:
	*usize = SNAP_USER;
	break;
    default:
	return errbuf_set(err, errlen, "snapshot format %u, this build reads "
			  "%u to %u", get32(buf + 8), SNAP_VERSION_2,
			  SNAP_VERSION), 0;
    }
    *nu = get32(buf + 12);
    *nc = get32(buf + 16);
    *ns = version >= SNAP_VERSION_5 ? get32(buf + 28) : 0;
    *ssize = version == SNAP_VERSION ? SNAP_SITE : SNAP_SITE5;
    want = SNAP_HDR + (uint64_t) *nu * *usize
	+ (uint64_t) *nc * SNAP_CLIENT + (uint64_t) *ns * *ssize
	+ SNAP_TRAILER;
    if (want != len)
	return errbuf_set(err, errlen, "snapshot is %zu bytes, its counts "
			  "say %llu", len, (unsigned long long) want), 0;
    h = get32(buf + len - 8) | (uint64_t) get32(buf + len - 4) << 32;
    if (h != fnv64(buf, len - SNAP_TRAILER))
	return errbuf_set(err, errlen, "snapshot checksum mismatch"), 0;
    return 1;
}

/* parse - snapshot_parse, the site logins hashed anew by rehash (NULL:
 * as written) */
static int parse(const unsigned char *buf, size_t len, uint32_t now,
		 snapshot_user_fn ufn, snapshot_client_fn cfn,
		 uint32_t (*rehash)(const char *login, void *ctx), void *ctx,
		 struct snapshot_counts *out, char *err, size_t errlen)
{
    struct snapshot_counts n;
    struct store_user u;
    struct store_client c;
    const unsigned char *p = buf + SNAP_HDR;
    struct site_users su = { p, 0, 0, 0, rehash, ctx };
    uint32_t nu, nc, ns;
    size_t usize, ssize;

    memset(&n, 0, sizeof(n));
    if (out != NULL)
	*out = n;
    if (buf == NULL
	|| !header_ok(buf, len, &nu, &nc, &ns, &usize, &ssize, err, errlen))
	return SNAPSHOT_EFORMAT;
    su.n = nu;
    su.usize = usize;
    su.version = get32(buf + 8);
    for (uint32_t i = 0; i < nu; i++, p += usize) {
	if (!get_user(p, get32(buf + 8), now, &u) || (ufn != NULL && ufn(&u, ctx) != 0)) {
	    n.skipped++;
	    continue;
	}
	n.users++;
	n.blocks += block_live(&u.block, now);
    }
    for (uint32_t i = 0; i < nc; i++, p += SNAP_CLIENT) {
	if (!get_client(p, now, &c) || (cfn != NULL && cfn(&c, ctx) != 0)) {
	    n.skipped++;
	    continue;
	}
	n.clients++;
	n.blocks += block_live(&c.block, now);
    }
    for (uint32_t i = 0; i < ns; i++, p += ssize) {
	if (!get_site(p, &su, &c) || (cfn != NULL && cfn(&c, ctx) != 0)) {
	    n.skipped++;
	    continue;
	}
	n.sites++;
    }
    if (out != NULL)
	*out = n;
    return SNAPSHOT_OK;
}

/* snapshot_parse - check a snapshot and hand out its valid records */
int snapshot_parse(const unsigned char *buf, size_t len, uint32_t now,
		   snapshot_user_fn ufn, snapshot_client_fn cfn, void *ctx,
		   struct snapshot_counts *out, char *err, size_t errlen)
{
    return parse(buf, len, now, ufn, cfn, NULL, ctx, out, err, errlen);
}

/* read_all - a whole file into memory, bounded */
static int read_all(const char *path, unsigned char **buf, size_t *len,
		    char *err, size_t errlen)
{
    struct stat sb;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    *buf = NULL;
    if (fd < 0)
	return errno == ENOENT ? SNAPSHOT_ENOENT
	    : (errbuf_set(err, errlen, "open %s: %s", path, strerror(errno)),
	       SNAPSHOT_EIO);
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)
	|| (uint64_t) sb.st_size > SNAP_MAX_BYTES
	|| (*buf = malloc((size_t) sb.st_size + 1)) == NULL) {
	errbuf_set(err, errlen, "%s: not a regular file of at most %llu bytes",
		   path, (unsigned long long) SNAP_MAX_BYTES);
	close(fd);
	return SNAPSHOT_EIO;
    }
    while (got < (size_t) sb.st_size) {
	ssize_t r = read(fd, *buf + got, (size_t) sb.st_size - got);

	if (r < 0 && errno == EINTR)
	    continue;
	if (r <= 0)
	    break;
	got += (size_t) r;
    }
    close(fd);
    *len = got;
    return SNAPSHOT_OK;
}

/* Where snapshot_restore puts the records. */
struct restore {
    STORE *st;
    uint32_t now;
};

/* restore_user - snapshot_parse callback: one user into the store */
static int restore_user(const struct store_user *u, void *arg)
{
    const struct restore *r = arg;

    return store_user_restore(r->st, u, r->now) != STORE_OK;
}

/* restore_rehash - parse callback: a site login's hash in the store
 * restored into (its key, not the lost file's) */
static uint32_t restore_rehash(const char *login, void *arg)
{
    const struct restore *r = arg;

    return store_login_hash32(r->st, login);
}

/* restore_client - snapshot_parse callback: one client (or site entry)
 * into the store */
static int restore_client(const struct store_client *c, void *arg)
{
    const struct restore *r = arg;

    return store_client_restore(r->st, c, r->now) != STORE_OK;
}

/* snapshot_restore - put a snapshot's records back into st */
int snapshot_restore(STORE *st, const char *path, uint32_t now,
		     struct snapshot_counts *out, char *err, size_t errlen)
{
    struct restore r = { st, now };
    unsigned char *buf;
    size_t len = 0;
    int rc;

    if (out != NULL)
	memset(out, 0, sizeof(*out));
    if ((rc = read_all(path, &buf, &len, err, errlen)) != SNAPSHOT_OK)
	return rc;
    rc = parse(buf, len, now, restore_user, restore_client, restore_rehash,
	       &r, out, err, errlen);
    if (rc == SNAPSHOT_OK)	/* ahead (a clock stepped back): now */
	store_site_start_keep(st, get32(buf + 24) <= now ? get32(buf + 24)
			      : now);
    free(buf);
    return rc;
}
