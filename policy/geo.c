/*
 * geo - GeoIP lookups through libmaxminddb: country, ASN, location.
 *
 * Contract: geo_open opens any subset of a city, a country and an ASN
 * database (NULL or "" = not configured) and returns a handle that the
 * caller owns and frees with geo_close. Any number of threads may call
 * geo_lookup on it at once; geo_refresh (one thread at a time) swaps in
 * the files anew when they changed, under a mutex that only guards the
 * pointer swap and the reference counts (lookups run outside it).
 *
 * Private copies: libmaxminddb can only map a file (MMDB_MODE_MMAP), and
 * a mapped file overwritten in place (cp new.mmdb GeoLite2-City.mmdb, a
 * common way to update it) is truncated under the mapping: the next
 * lookup past the new end is SIGBUS. So each file is copied into a
 * sealed memfd (no one can shrink, grow or write it) and libmaxminddb
 * maps that (through /proc/self/fd). The price is memory: each process
 * keeps its own copy (GeoLite2-City about 70 MB, ASN about 10 MB) instead
 * of sharing the page cache, and a refresh holds two copies until the
 * lookups still using the old one end. Without memfd or /proc the file
 * itself is mapped, as before.
 *
 * Change detection: geo_refresh compares each configured file's device,
 * inode, size and modification time with those of the copy it holds (or
 * last tried), so the caller may call it every second; a changed file is
 * read again, and one that changed while it was being read, or does not
 * open, leaves the old copy in use and is tried again after its next
 * change. A file that vanished keeps the old copy (a rename in progress).
 *
 * A configured file that does not exist (ENOENT) is not an error: the
 * capabilities that no other open database provides are set in *missing
 * and err names the absent files, for the caller's one warning. A file
 * that exists but cannot be opened, is corrupt, or is not the kind of
 * database its slot expects is GEO_ERR, with err naming the slot, the
 * file and libmaxminddb's reason.
 *
 * Everything a database returns is untrusted: wrong types, ISO codes that
 * are not two uppercase letters, coordinates out of range and AS number 0
 * are dropped (geo_lookup then returns GEO_ERR, so the caller can count
 * it, with every valid field still filled in); strings are bounded and
 * stripped of control bytes and invalid UTF-8. Nothing here logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <maxminddb.h>

#include "errbuf.h"
#include "geo.h"
#include "log.h"

#define GEO_EARTH_RADIUS_KM 6371.0088	/* IUGG mean radius */
#define GEO_DEG_TO_RAD (M_PI / 180.0)
#define GEO_LAT_MAX 90.0
#define GEO_LON_MAX 180.0
#define GEO_ACC_MAX_KM 20038	/* half the equator; more says nothing */
#define GEO_ISO_LEN 2
#define GEO_V4_OFFSET 12	/* IPv4 bytes in an IPv4-mapped address */
#define GEO_V4_LEN 4
#define GEO_TYPE_SHOW 64	/* bytes of a database_type quoted in errors */
#define GEO_MISSING 2		/* internal: configured file does not exist */
#define GEO_PATH_MAX 3		/* deepest lookup path below, in keys */
#define GEO_FD_PATH 32		/* "/proc/self/fd/N" */
#define GEO_COPY_CHUNK (1 << 20)	/* sendfile step, bytes */
#define GEO_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

enum geo_slot { GEO_SLOT_CITY, GEO_SLOT_COUNTRY, GEO_SLOT_ASN, GEO_SLOTS };

/* What each slot is for and which database_type values it accepts. */
struct geo_kind {
    const char *label;
    unsigned caps;
    const char *const *types;	/* substrings of metadata.database_type */
};

/* MaxMind (GeoLite2-*, GeoIP2-*) and DB-IP ("DBIP-City-Lite", "DBIP-
 * Location (compat=City)", "DBIP-ASN-Lite (compat=GeoLite2-ASN)", ...). */
static const char *const geo_city_types[] = {"City", "Enterprise", NULL};
static const char *const geo_country_types[] = {
    "Country", "City", "Enterprise", NULL
};
static const char *const geo_asn_types[] = {"ASN", "ISP", NULL};

static const struct geo_kind geo_kinds[GEO_SLOTS] = {
    [GEO_SLOT_CITY] = {"city", GEO_CAP_COUNTRY | GEO_CAP_LOCATION,
	geo_city_types},
    [GEO_SLOT_COUNTRY] = {"country", GEO_CAP_COUNTRY, geo_country_types},
    [GEO_SLOT_ASN] = {"asn", GEO_CAP_ASN, geo_asn_types},
};

/* One set of open databases; shared by the lookups that use it. */
struct geo_set {
    unsigned refs;
    MMDB_s db[GEO_SLOTS];
    bool open[GEO_SLOTS];
    unsigned caps;
};

/* What a file was when it was last read: a change shows here. */
struct geo_ident {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    bool present;
};

struct geo {
    pthread_mutex_t *mu;	/* guards cur and the reference counts */
    struct geo_set *cur;
    char *paths[GEO_SLOTS];	/* NULL: not configured */
    struct geo_ident seen[GEO_SLOTS];
};

/* Lookup paths, GeoLite2 layout; traits.* is the Enterprise/ISP layout. */
static const char *const geo_path_cc[] = {"country", "iso_code", NULL};
static const char *const geo_path_rcc[] = {
    "registered_country", "iso_code", NULL
};
static const char *const geo_path_lat[] = {"location", "latitude", NULL};
static const char *const geo_path_lon[] = {"location", "longitude", NULL};
static const char *const geo_path_acc[] = {
    "location", "accuracy_radius", NULL
};
static const char *const geo_path_asn[] = {"autonomous_system_number", NULL};
static const char *const geo_path_org[] = {
    "autonomous_system_organization", NULL
};
static const char *const geo_path_tasn[] = {
    "traits", "autonomous_system_number", NULL
};
static const char *const geo_path_torg[] = {
    "traits", "autonomous_system_organization", NULL
};

/* Where a country comes from, best first: the place the address is used
 * before the place it is registered, the city file before the country. */
static const struct {
    enum geo_slot slot;
    const char *const *path;
} geo_cc_order[] = {
    {GEO_SLOT_CITY, geo_path_cc},
    {GEO_SLOT_COUNTRY, geo_path_cc},
    {GEO_SLOT_CITY, geo_path_rcc},
    {GEO_SLOT_COUNTRY, geo_path_rcc},
};

union geo_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
};

/* geo_utf8_len - length of the valid, printable UTF-8 character at s, or 0 */
static size_t geo_utf8_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    size_t len = log_utf8_len(s, n, &cp);

    /* C0 and C1 controls and DEL are not printable. */
    if (len == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
	return 0;
    return len;
}

/* geo_copy_text - bounded copy; bad bytes become '?', no split characters */
static void geo_copy_text(char *dst, size_t dstlen, const char *src,
			  size_t n)
{
    const unsigned char *s = (const unsigned char *) src;
    size_t i = 0, o = 0, len;

    if (dstlen == 0)
	return;
    while (i < n && o + 1 < dstlen) {
	len = geo_utf8_len(s + i, n - i);
	if (len == 0) {
	    dst[o++] = '?';
	    i++;
	    continue;
	}
	if (o + len >= dstlen)
	    break;
	memcpy(dst + o, s + i, len);
	o += len;
	i += len;
    }
    dst[o] = '\0';
}

/* geo_type_ok - does this database_type belong in this slot? */
static bool geo_type_ok(const char *type, const struct geo_kind *k)
{
    const char *const *t;

    if (type == NULL)
	return false;
    for (t = k->types; *t != NULL; t++)
	if (strstr(type, *t) != NULL)
	    return true;
    return false;
}

/* geo_check_meta - reject a database of the wrong kind or IP version */
static int geo_check_meta(const MMDB_s *db, const struct geo_kind *k,
			  const char *path, char *err, size_t errlen)
{
    const char *type = db->metadata.database_type;
    char shown[GEO_TYPE_SHOW];

    geo_copy_text(shown, sizeof(shown), type ? type : "",
		  type ? strlen(type) : 0);
    if (!geo_type_ok(type, k)) {
	errbuf_set(err, errlen, "geoip %s database %s: database type \"%s\""
		" is not a %s database", k->label, path, shown, k->label);
	return GEO_ERR;
    }
    if (db->metadata.ip_version != 4 && db->metadata.ip_version != 6) {
	errbuf_set(err, errlen, "geoip %s database %s: unexpected ip_version %u",
		k->label, path, (unsigned) db->metadata.ip_version);
	return GEO_ERR;
    }
    return GEO_OK;
}

/* geo_ident_of - a file's identity from its stat */
static void geo_ident_of(const struct stat *st, struct geo_ident *id)
{
    memset(id, 0, sizeof(*id));
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtime = st->st_mtim;
    id->present = true;
}

/* geo_ident_eq - the same file, unchanged? */
static bool geo_ident_eq(const struct geo_ident *a, const struct geo_ident *b)
{
    return a->present == b->present && a->dev == b->dev && a->ino == b->ino
	&& a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec
	&& a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* geo_copy_fd - copy size bytes of fd into a new sealed memfd; -1 with
 * errno if that cannot be done (then the caller maps the file itself) */
static int geo_copy_fd(int fd, off_t size)
{
    off_t off = 0;
    int mfd = memfd_create("relayguard-geoip", MFD_CLOEXEC
			   | MFD_ALLOW_SEALING), saved;

    if (mfd < 0)
	return -1;
    while (off < size) {
	size_t step = size - off < GEO_COPY_CHUNK ? (size_t) (size - off)
	    : GEO_COPY_CHUNK;
	ssize_t n = sendfile(mfd, fd, &off, step);

	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0) {
	    saved = n == 0 ? EIO : errno;	/* shrank while read */
	    close(mfd);
	    errno = saved;
	    return -1;
	}
    }
    if (fcntl(mfd, F_ADD_SEALS, GEO_SEALS) != 0) {
	saved = errno;
	close(mfd);
	errno = saved;
	return -1;
    }
    return mfd;
}

/* geo_mmdb_open - libmaxminddb on a private copy of the open file fd
 * (see the top), or on the file itself where no copy can be made */
static int geo_mmdb_open(const char *path, int fd, const struct stat *st,
			 MMDB_s *db)
{
    char fdpath[GEO_FD_PATH];
    struct stat again;
    int mfd = geo_copy_fd(fd, st->st_size), rc;

    if (mfd < 0 && errno != ENOSYS && errno != EINVAL && errno != EPERM)
	return MMDB_IO_ERROR;	/* errno says why */
    if (mfd >= 0 && (fstat(fd, &again) != 0 || again.st_size != st->st_size
		     || again.st_mtim.tv_sec != st->st_mtim.tv_sec
		     || again.st_mtim.tv_nsec != st->st_mtim.tv_nsec)) {
	close(mfd);
	errno = EAGAIN;		/* changed while we read it: next time */
	return MMDB_IO_ERROR;
    }
    snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", mfd);
    errno = 0;
    rc = mfd < 0 || access(fdpath, R_OK) != 0
	? MMDB_open(path, MMDB_MODE_MMAP, db)
	: MMDB_open(fdpath, MMDB_MODE_MMAP, db);
    if (mfd >= 0) {
	int saved = errno;

	close(mfd);		/* the mapping keeps the copy */
	errno = saved;
    }
    return rc;
}

/* geo_open_db - open one configured file: GEO_OK, GEO_MISSING or GEO_ERR;
 * *id is what the file was when read (present false if absent) */
static int geo_open_db(MMDB_s *db, const struct geo_kind *k,
		       const char *path, struct geo_ident *id, char *err,
		       size_t errlen)
{
    struct stat st;
    const char *sep = "", *why = "";
    int rc, saved, fd;

    memset(id, 0, sizeof(*id));
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
	saved = errno;
	if (fd >= 0)
	    close(fd);
	if (saved == ENOENT)
	    return GEO_MISSING;
	errbuf_set(err, errlen, "geoip %s database %s: %s", k->label, path,
		strerror(saved));
	return GEO_ERR;
    }
    geo_ident_of(&st, id);
    if (!S_ISREG(st.st_mode)) {
	close(fd);
	errbuf_set(err, errlen, "geoip %s database %s: not a regular file",
		k->label, path);
	return GEO_ERR;
    }
    rc = geo_mmdb_open(path, fd, &st, db);
    saved = errno;
    close(fd);
    if (rc != MMDB_SUCCESS) {
	/* MMDB_open frees what it allocated when it fails. */
	if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) && saved != 0)
	    sep = ": ", why = strerror(saved);
	errbuf_set(err, errlen, "geoip %s database %s: %s%s%s", k->label, path,
		MMDB_strerror(rc), sep, why);
	return GEO_ERR;
    }
    if (geo_check_meta(db, k, path, err, errlen) != GEO_OK) {
	MMDB_close(db);
	return GEO_ERR;
    }
    return GEO_OK;
}

/* geo_note_missing - name the absent files in err, for one warning */
static void geo_note_missing(const char *const *paths, const bool *absent,
			     char *err, size_t errlen)
{
    size_t used;
    int slot, n;

    errbuf_set(err, errlen, "geoip: database not found:");
    if (err == NULL || errlen == 0)
	return;
    for (slot = 0; slot < GEO_SLOTS; slot++) {
	if (!absent[slot])
	    continue;
	used = strlen(err);
	n = snprintf(err + used, errlen - used, " %s %s",
		     geo_kinds[slot].label, paths[slot]);
	if (n < 0 || (size_t) n >= errlen - used)
	    return;
    }
}

/* geo_set_free - close every database of a set nobody uses */
static void geo_set_free(struct geo_set *set)
{
    int slot;

    if (set == NULL)
	return;
    for (slot = 0; slot < GEO_SLOTS; slot++)
	if (set->open[slot])
	    MMDB_close(&set->db[slot]);
    free(set);
}

/* geo_set_load - open every configured path into a new set; GEO_OK or
 * GEO_ERR; ids[] what each file was, *lost the capabilities missing */
static int geo_set_load(char *const *paths, struct geo_set **out,
			struct geo_ident *ids, unsigned *lost, char *err,
			size_t errlen)
{
    bool absent[GEO_SLOTS] = {false, false, false};
    unsigned wanted = 0;
    struct geo_set *set;
    int slot, rc;

    *out = NULL;
    if ((set = calloc(1, sizeof(*set))) == NULL) {
	errbuf_set(err, errlen, "geoip: out of memory");
	return GEO_ERR;
    }
    set->refs = 1;
    for (slot = 0; slot < GEO_SLOTS; slot++) {
	if (paths[slot] == NULL)
	    continue;
	wanted |= geo_kinds[slot].caps;
	rc = geo_open_db(&set->db[slot], &geo_kinds[slot], paths[slot],
			 &ids[slot], err, errlen);
	if (rc == GEO_ERR) {
	    geo_set_free(set);
	    return GEO_ERR;
	}
	absent[slot] = (rc == GEO_MISSING);
	set->open[slot] = (rc == GEO_OK);
	if (set->open[slot])
	    set->caps |= geo_kinds[slot].caps;
    }
    *lost = wanted & ~set->caps;
    if (absent[GEO_SLOT_CITY] || absent[GEO_SLOT_COUNTRY]
	|| absent[GEO_SLOT_ASN])
	geo_note_missing((const char *const *) paths, absent, err, errlen);
    *out = set;
    return GEO_OK;
}

/* geo_handle_new - an empty handle with copies of the configured paths */
static GEO *geo_handle_new(const struct geo_paths *p)
{
    const char *paths[GEO_SLOTS] = {p->city_db, p->country_db, p->asn_db};
    GEO *g = calloc(1, sizeof(*g));
    int slot;

    if (g == NULL || (g->mu = malloc(sizeof(*g->mu))) == NULL
	|| pthread_mutex_init(g->mu, NULL) != 0) {
	if (g != NULL)
	    free(g->mu);
	free(g);
	return NULL;
    }
    for (slot = 0; slot < GEO_SLOTS; slot++)
	if (paths[slot] != NULL && paths[slot][0] != '\0'
	    && (g->paths[slot] = strdup(paths[slot])) == NULL) {
	    geo_close(g);
	    return NULL;
	}
    return g;
}

/* geo_open - open the configured databases; see the contract above */
int geo_open(const struct geo_paths *p, GEO **out, unsigned *missing,
	     char *err, size_t errlen)
{
    unsigned lost = 0;
    GEO *g;

    errbuf_set(err, errlen, "%s", "");
    if (missing != NULL)
	*missing = 0;
    if (out != NULL)
	*out = NULL;
    if (out == NULL || p == NULL) {
	errbuf_set(err, errlen, "geo_open: no paths or no result pointer");
	return GEO_ERR;
    }
    if ((g = geo_handle_new(p)) == NULL) {
	errbuf_set(err, errlen, "geoip: out of memory");
	return GEO_ERR;
    }
    if (geo_set_load(g->paths, &g->cur, g->seen, &lost, err, errlen)
	!= GEO_OK) {
	geo_close(g);
	return GEO_ERR;
    }
    if (missing != NULL)
	*missing = lost;
    *out = g;
    return GEO_OK;
}

/* geo_close - unmap every database and free the handle; NULL is fine */
void geo_close(GEO *g)
{
    int slot;

    if (g == NULL)
	return;
    geo_set_free(g->cur);
    for (slot = 0; slot < GEO_SLOTS; slot++)
	free(g->paths[slot]);
    if (g->mu != NULL)
	pthread_mutex_destroy(g->mu);
    free(g->mu);
    free(g);
}

/* geo_acquire - a reference to the current set */
static struct geo_set *geo_acquire(const GEO *g)
{
    struct geo_set *set;

    pthread_mutex_lock(g->mu);
    if ((set = g->cur) != NULL)
	set->refs++;
    pthread_mutex_unlock(g->mu);
    return set;
}

/* geo_release - drop a reference; the last one closes the set */
static void geo_release(const GEO *g, struct geo_set *set)
{
    unsigned left;

    if (set == NULL)
	return;
    pthread_mutex_lock(g->mu);
    left = --set->refs;
    pthread_mutex_unlock(g->mu);
    if (left == 0)
	geo_set_free(set);
}

/* geo_caps - what the open databases can answer (GEO_CAP_* bits) */
unsigned geo_caps(const GEO *g)
{
    struct geo_set *set;
    unsigned caps;

    if (g == NULL || (set = geo_acquire(g)) == NULL)
	return 0;
    caps = set->caps;
    geo_release(g, set);
    return caps;
}

/* geo_changed - has a configured file changed since it was read? Slots
 * whose file is absent now count as unchanged (see the top) */
static bool geo_changed(const GEO *g, struct geo_ident *now)
{
    bool changed = false;
    struct stat st;
    int slot;

    for (slot = 0; slot < GEO_SLOTS; slot++) {
	memset(&now[slot], 0, sizeof(now[slot]));
	if (g->paths[slot] == NULL)
	    continue;
	if (stat(g->paths[slot], &st) != 0) {
	    now[slot] = g->seen[slot];
	    continue;
	}
	geo_ident_of(&st, &now[slot]);
	if (!geo_ident_eq(&now[slot], &g->seen[slot]))
	    changed = true;
    }
    return changed;
}

/* geo_refresh - read the files again if one changed: 0 nothing to do,
 * 1 new copies in use, -1 a changed file did not open (err says why;
 * the old copies stay, and it is tried again after its next change) */
int geo_refresh(GEO *g, unsigned *missing, char *err, size_t errlen)
{
    struct geo_ident now[GEO_SLOTS], ids[GEO_SLOTS];
    struct geo_set *set, *old;
    unsigned lost = 0;

    errbuf_set(err, errlen, "%s", "");
    if (g == NULL || !geo_changed(g, now))
	return 0;
    memset(ids, 0, sizeof(ids));
    if (geo_set_load(g->paths, &set, ids, &lost, err, errlen) != GEO_OK) {
	memcpy(g->seen, now, sizeof(now));
	return -1;
    }
    memcpy(g->seen, ids, sizeof(ids));
    if (missing != NULL)
	*missing = lost;
    pthread_mutex_lock(g->mu);
    old = g->cur;
    g->cur = set;
    pthread_mutex_unlock(g->mu);
    geo_release(g, old);
    return 1;
}

/* geo_to_sockaddr - IPv4-mapped addresses as AF_INET, so v4 files work */
static void geo_to_sockaddr(const struct addr *a, union geo_sockaddr *u)
{
    memset(u, 0, sizeof(*u));
    if (addr_is_v4(a)) {
	u->sin.sin_family = AF_INET;
	memcpy(&u->sin.sin_addr, a->b + GEO_V4_OFFSET, GEO_V4_LEN);
    } else {
	u->sin6.sin6_family = AF_INET6;
	memcpy(&u->sin6.sin6_addr, a->b, sizeof(a->b));
    }
}

/* geo_find - look an address up in one database; false on a db error */
static bool geo_find(const MMDB_s *db, const union geo_sockaddr *u,
		     MMDB_lookup_result_s *res)
{
    int mmdb_err = MMDB_SUCCESS;

    *res = MMDB_lookup_sockaddr(db, &u->sa, &mmdb_err);
    if (mmdb_err == MMDB_SUCCESS)
	return true;
    res->found_entry = false;
    /* An IPv6 address in an IPv4-only file: simply not there. */
    return mmdb_err == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR;
}

/* geo_absent - after a path mismatch: a missing key (0) or a non-map (-1)? */
static int geo_absent(const MMDB_lookup_result_s *res,
		      const char *const *path, MMDB_entry_data_s *d)
{
    const char *prefix[GEO_PATH_MAX + 1];
    MMDB_entry_s entry;
    size_t n;

    /* libmaxminddb reports a missing key and a string where a map should
     * be alike; walk the prefixes to tell absent data from malformed. */
    for (n = 1; n < GEO_PATH_MAX && path[n] != NULL; n++) {
	memcpy(prefix, path, n * sizeof(prefix[0]));
	prefix[n] = NULL;
	entry = res->entry;
	if (MMDB_aget_value(&entry, d, prefix) != MMDB_SUCCESS
	    || !d->has_data)
	    return 0;
	if (d->type != MMDB_DATA_TYPE_MAP)
	    return -1;
    }
    return 0;
}

/* geo_value - fetch one path: 1 found, 0 absent, -1 malformed record */
static int geo_value(const MMDB_lookup_result_s *res, const char *const *path,
		     MMDB_entry_data_s *d)
{
    MMDB_entry_s entry;
    int rc;

    if (!res->found_entry)
	return 0;
    entry = res->entry;
    rc = MMDB_aget_value(&entry, d, path);
    if (rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR)
	return geo_absent(res, path, d);
    if (rc != MMDB_SUCCESS)
	return -1;
    return d->has_data ? 1 : 0;
}

/* geo_uint - an unsigned integer of any width, if it fits in max */
static bool geo_uint(const MMDB_entry_data_s *d, uint32_t max, uint32_t *v)
{
    uint64_t x;

    switch (d->type) {
    case MMDB_DATA_TYPE_UINT16:
	x = d->uint16;
	break;
    case MMDB_DATA_TYPE_UINT32:
	x = d->uint32;
	break;
    case MMDB_DATA_TYPE_UINT64:
	x = d->uint64;
	break;
    default:
	return false;
    }
    if (x > max)
	return false;
    *v = (uint32_t) x;
    return true;
}

/* geo_double - a finite double or float within [-limit, limit] */
static bool geo_double(const MMDB_entry_data_s *d, double limit, double *v)
{
    double x;

    if (d->type == MMDB_DATA_TYPE_DOUBLE)
	x = d->double_value;
    else if (d->type == MMDB_DATA_TYPE_FLOAT)
	x = d->float_value;
    else
	return false;
    if (!isfinite(x) || x < -limit || x > limit)
	return false;
    *v = x;
    return true;
}

/* geo_iso_code - accept exactly two ASCII uppercase letters */
static bool geo_iso_code(const MMDB_entry_data_s *d, char cc[3])
{
    const char *s = d->utf8_string;

    if (d->type != MMDB_DATA_TYPE_UTF8_STRING || d->data_size != GEO_ISO_LEN)
	return false;
    if (s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
	return false;
    cc[0] = s[0];
    cc[1] = s[1];
    cc[2] = '\0';
    return true;
}

/* geo_fill_country - first valid ISO code in preference order */
static bool geo_fill_country(const MMDB_lookup_result_s *res,
			     struct geo_info *out)
{
    MMDB_entry_data_s d;
    bool bad = false;
    size_t i;
    int rc;

    for (i = 0; i < sizeof(geo_cc_order) / sizeof(geo_cc_order[0]); i++) {
	rc = geo_value(&res[geo_cc_order[i].slot], geo_cc_order[i].path, &d);
	if (rc == 0)
	    continue;
	if (rc > 0 && geo_iso_code(&d, out->cc))
	    return bad;
	bad = true;
    }
    return bad;
}

/* geo_fill_location - latitude, longitude and radius from the city file */
static bool geo_fill_location(const MMDB_lookup_result_s *res,
			      struct geo_info *out)
{
    MMDB_entry_data_s d;
    double lat = 0, lon = 0;
    uint32_t acc = 0;
    int rlat, rlon, racc;

    rlat = geo_value(res, geo_path_lat, &d);
    if (rlat > 0 && !geo_double(&d, GEO_LAT_MAX, &lat))
	rlat = -1;
    rlon = geo_value(res, geo_path_lon, &d);
    if (rlon > 0 && !geo_double(&d, GEO_LON_MAX, &lon))
	rlon = -1;
    if (rlat == 0 && rlon == 0)
	return false;
    if (rlat <= 0 || rlon <= 0)
	return true;		/* half a position is no position */
    out->lat = lat;
    out->lon = lon;
    out->has_loc = 1;
    racc = geo_value(res, geo_path_acc, &d);
    if (racc > 0 && !geo_uint(&d, GEO_ACC_MAX_KM, &acc))
	racc = -1;
    out->acc_km = racc > 0 ? (uint16_t) acc : 0;
    return racc < 0;
}

/* geo_fill_asn - AS number and organisation from the ASN file */
static bool geo_fill_asn(const MMDB_lookup_result_s *res,
			 struct geo_info *out)
{
    MMDB_entry_data_s d;
    uint32_t asn = 0;
    bool bad = false;
    int rc;

    if ((rc = geo_value(res, geo_path_asn, &d)) == 0)
	rc = geo_value(res, geo_path_tasn, &d);
    if (rc > 0 && geo_uint(&d, UINT32_MAX, &asn) && asn != 0)
	out->asn = asn;
    else if (rc != 0)
	bad = true;
    if ((rc = geo_value(res, geo_path_org, &d)) == 0)
	rc = geo_value(res, geo_path_torg, &d);
    if (rc > 0 && d.type == MMDB_DATA_TYPE_UTF8_STRING)
	geo_copy_text(out->org, sizeof(out->org), d.utf8_string, d.data_size);
    else if (rc != 0)
	bad = true;
    return bad;
}

/* geo_lookup - everything the open databases say about one address */
int geo_lookup(const GEO *g, const struct addr *a, struct geo_info *out)
{
    MMDB_lookup_result_s res[GEO_SLOTS];
    struct geo_set *set;
    union geo_sockaddr u;
    bool bad = false;
    int slot;

    if (out == NULL)
	return GEO_ERR;
    memset(out, 0, sizeof(*out));
    if (g == NULL || a == NULL || (set = geo_acquire(g)) == NULL)
	return GEO_ERR;
    geo_to_sockaddr(a, &u);
    for (slot = 0; slot < GEO_SLOTS; slot++) {
	memset(&res[slot], 0, sizeof(res[slot]));
	if (set->open[slot] && !geo_find(&set->db[slot], &u, &res[slot]))
	    bad = true;
    }
    bad |= geo_fill_country(res, out);
    bad |= geo_fill_location(&res[GEO_SLOT_CITY], out);
    bad |= geo_fill_asn(&res[GEO_SLOT_ASN], out);
    geo_release(g, set);
    return bad ? GEO_ERR : GEO_OK;
}

/* geo_distance_km - great-circle distance (haversine); NAN if not a place */
double geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    double p1, p2, dp, dl, h;

    if (!isfinite(lat1) || !isfinite(lon1) || !isfinite(lat2)
	|| !isfinite(lon2) || fabs(lat1) > GEO_LAT_MAX
	|| fabs(lat2) > GEO_LAT_MAX || fabs(lon1) > GEO_LON_MAX
	|| fabs(lon2) > GEO_LON_MAX)
	return NAN;
    p1 = lat1 * GEO_DEG_TO_RAD;
    p2 = lat2 * GEO_DEG_TO_RAD;
    dp = p2 - p1;
    dl = (lon2 - lon1) * GEO_DEG_TO_RAD;
    h = sin(dp / 2) * sin(dp / 2)
	+ cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    /* Rounding can push h a hair past 1 near the antipodes. */
    if (h > 1.0)
	h = 1.0;
    return 2.0 * GEO_EARTH_RADIUS_KM * asin(sqrt(h));
}
