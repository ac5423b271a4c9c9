/*
 * check_snapshot_site - the site's entries (networks and places) across
 * a lost or resized state file, and as untrusted input: keys a site
 * entry cannot have, in a snapshot's site records or its client
 * records, are skipped and counted, and no live entry is ever made
 * under one; a site record's days that lie ahead of the restore do not
 * stop its days from counting, nor does a site start ahead keep the
 * site learning; a smaller file keeps them before plain clients, and a
 * salvaged one keeps no time of theirs ahead of its open.
 *
 * Snapshots are built in memory (format 5, snapshot.c's layout) and
 * parsed; every test runs forked.
 */
#include <check.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"
#include "store.h"
#include "store_int.h"
#include "check_main.h"
#include "store_test.h"

#define HDR		32	/* snapshot.c's sizes, format 5 */
#define CLIENT_REC	56
#define SITE_REC	292
#define TRAILER		8
#define MAX_RECS	16

/* A snapshot of client and site records, built in memory. */
struct snap {
    unsigned char b[HDR + MAX_RECS * SITE_REC + TRAILER];
    size_t len;
    uint32_t nc, ns;
};

/* put32 - little-endian */
static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
	p[i] = (unsigned char) (v >> (8 * i));
}

/* snap_client - a client record for key (no block); clients go first */
static void snap_client(struct snap *s, const struct addr *key)
{
    unsigned char *p = s->b + HDR + s->nc * CLIENT_REC;

    ck_assert_uint_eq(s->ns, 0);
    memset(p, 0, CLIENT_REC);
    memcpy(p, key->b, 16);
    put32(p + 16, T0 - DAY);
    put32(p + 20, T0 - HOUR);
    s->nc++;
}

/* snap_site - a site record for key: one login, vouched on one day */
static void snap_site(struct snap *s, const struct addr *key)
{
    unsigned char *p = s->b + HDR + s->nc * CLIENT_REC + s->ns * SITE_REC;

    memset(p, 0, SITE_REC);
    memcpy(p, key->b, 16);
    put32(p + 16, T0 - DAY);
    put32(p + 20, T0 - HOUR);
    put32(p + 24, T0 - HOUR);
    p[28] = 1;			/* vouch days */
    p[30] = (unsigned char) ((T0 - HOUR) / DAY);	/* last vouch day */
    p[31] = (unsigned char) ((T0 - HOUR) / DAY >> 8);
    put32(p + 32, 1);		/* logins */
    put32(p + 36, 0x5eed1234);
    put32(p + 40, T0 - HOUR);
    s->ns++;
}

/* snap_end_sum - the trailer (FNV-1a) of what is there */
static void snap_end_sum(struct snap *s)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t i = 0; i < s->len - TRAILER; i++)
	h = (h ^ s->b[i]) * UINT64_C(1099511628211);
    put32(s->b + s->len - 8, (uint32_t) h);
    put32(s->b + s->len - 4, (uint32_t) (h >> 32));
}

/* snap_end - the header and the trailer */
static void snap_end(struct snap *s)
{
    s->len = HDR + s->nc * CLIENT_REC + s->ns * SITE_REC + TRAILER;
    memset(s->b, 0, HDR);
    memcpy(s->b, "RGSNAP\0\1", 8);
    put32(s->b + 8, 5);
    put32(s->b + 16, s->nc);
    put32(s->b + 20, T0);
    put32(s->b + 28, s->ns);
    snap_end_sum(s);
}

/* keep_client - snapshot_parse callback: what it hands out is a site
 * entry's key exactly when it came from a site record */
static int keep_client(const struct store_client *c, void *ctx)
{
    unsigned *n = ctx;

    n[store_site_is_key(&c->ip) ? 1 : 0]++;
    return 0;
}

/* A site entry's key is exactly what store_site_key and
 * store_site_place_key make: a /24 with bytes after it, a country that
 * is not two capital letters, an AS number 0, bytes after a place's id
 * name no entry (a damaged or forged snapshot's ghosts, which eviction
 * would keep and relayguardctl sites would list twice or raw). A place
 * no key can name is refused. */
START_TEST(test_site_key_exact)
{
    struct addr ip = ip_of("192.0.2.7"), ip6 = ip_of("2001:db8:1:2::9");
    struct addr k;
    struct store_site_ref ref;
    STORE *st = tnew("exact", 1000, 4);

    store_site_key(&ip, &k);
    ck_assert(store_site_is_key(&k));
    k.b[15] = 1;		/* after the /24 */
    ck_assert(!store_site_is_key(&k));
    ck_assert_int_eq(store_site_ref(&k, &ref), STORE_EARG);
    store_site_key(&ip6, &k);
    ck_assert(store_site_is_key(&k));	/* a /48 fills its key */
    store_site_place_key(STORE_SITE_CC, store_site_cc("DE"), &k);
    ck_assert(store_site_is_key(&k));
    k.b[14] = 7;		/* after the place's id */
    ck_assert(!store_site_is_key(&k));
    store_site_place_key(STORE_SITE_CC, 0x1b5b, &k);	/* ESC [ */
    ck_assert(!store_site_is_key(&k));
    store_site_place_key(STORE_SITE_CC, 0x10000 | store_site_cc("DE"), &k);
    ck_assert(!store_site_is_key(&k));
    store_site_place_key(STORE_SITE_AS, 0, &k);
    ck_assert(!store_site_is_key(&k));
    store_site_place_key(STORE_SITE_AS, 64496, &k);
    ck_assert(store_site_is_key(&k));
    ck_assert_int_eq(store_site_place(st, STORE_SITE_CC, 0x1b5b, "nora",
				      true, T0, NULL), STORE_EARG);
    ck_assert_int_eq(store_site_place(st, STORE_SITE_CC, store_site_cc("DE"),
				      "nora", true, T0, NULL), STORE_OK);
    store_close(st);
}
END_TEST

/* A snapshot's site records under keys no site entry has, and client
 * records under a site entry's key or an IPv6 /64's (the writer puts
 * neither there: store_client_each skips both), are skipped and
 * counted; the good ones come through. */
START_TEST(test_snapshot_foreign_keys)
{
    static struct snap s;
    struct addr ip = ip_of("192.0.2.7"), k;
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    unsigned got[2] = {0, 0};

    memset(&s, 0, sizeof(s));
    snap_client(&s, &(struct addr) { .b = {0x20, 0x01, 0x0d, 0xb8, 9} });
    store_site_key(&ip, &k);
    snap_client(&s, &k);	/* a site network among the clients */
    store_prefix_key(&(struct addr) { .b = {0x20, 0x01, 0x0d, 0xb8, 7} }, &k);
    snap_client(&s, &k);	/* a /64 among the clients */
    store_hub_key(64496, 5094, 696, &k);
    snap_client(&s, &k);	/* a shared egress among the clients */
    store_site_key(&ip, &k);
    snap_site(&s, &k);		/* good */
    k.b[13] = 0x80;		/* bytes after the /24 */
    snap_site(&s, &k);
    store_site_place_key(STORE_SITE_CC, 0x1b5b, &k);
    snap_site(&s, &k);
    store_site_place_key(STORE_SITE_AS, 0, &k);
    snap_site(&s, &k);
    store_site_place_key(STORE_SITE_AS, 64496, &k);
    snap_site(&s, &k);		/* good */
    k.b[15] = 1;
    snap_site(&s, &k);
    store_hub_key(64496, 5094, 696, &k);
    snap_site(&s, &k);		/* a shared egress is no site record */
    snap_end(&s);
    ck_assert_msg(snapshot_parse(s.b, s.len, T0, NULL, keep_client, got,
				 &n, err, sizeof(err)) == SNAPSHOT_OK,
		  "parse: %s", err);
    ck_assert_uint_eq(n.clients, 1);
    ck_assert_uint_eq(n.sites, 2);
    ck_assert_uint_eq(n.skipped, 8);
    ck_assert_uint_eq(got[0], 1);
    ck_assert_uint_eq(got[1], 2);
}
END_TEST

/* A site record whose last vouch day lies ahead of the restore (a clock
 * stepped back, a damaged file) comes back at the restore's day, as its
 * vouched time and logins' times do: kept ahead, no vouch counted a new
 * day until that day came, and the network stayed short of site_days
 * for as long. */
START_TEST(test_site_future_day)
{
    struct addr ip = ip_of("192.0.2.7");
    struct store_client c, back;
    STORE *st = tnew("futday", 1000, 4);

    memset(&c, 0, sizeof(c));
    store_site_key(&ip, &c.ip);
    c.first_seen = T0 - 3 * DAY;
    c.last_seen = T0 - DAY;
    c.vouched = T0 - DAY;
    c.vouch_days = 1;
    c.vouch_day = (uint16_t) (T0 / DAY + 40);
    c.nlogins = 1;
    c.logins[0].hash = 0x5eed1234;
    c.logins[0].last_seen = T0 - DAY;
    ck_assert_int_eq(store_client_restore(st, &c, T0), STORE_OK);
    ck_assert_int_eq(store_site_get(st, &ip, T0, &back), STORE_OK);
    ck_assert_uint_le(back.vouch_day, T0 / DAY);
    ck_assert_int_eq(store_site_vouch(st, &ip, "nora", T0 + DAY, &back),
		     STORE_OK);
    ck_assert_uint_eq(back.vouch_days, 2);
    ck_assert_uint_eq(back.vouch_day, T0 / DAY + 1);
    store_close(st);
}
END_TEST

/* A snapshot whose site start lies ahead of the restore (written with
 * the clock ahead) gives the fresh state the restore's time, as its
 * other times ahead are given (store_migrate.c): kept ahead, the site
 * stayed in its first learning period that much longer. */
START_TEST(test_site_start_ahead)
{
    static struct snap s;
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    FILE *f;
    STORE *st = tnew("ahead", 1000, 4);

    memset(&s, 0, sizeof(s));
    snap_end(&s);
    put32(s.b + 24, T0 + 30 * DAY);
    snap_end_sum(&s);
    ck_assert_ptr_nonnull(f = fopen(tpath("ahead.snap"), "w"));
    ck_assert_uint_eq(fwrite(s.b, 1, s.len, f), s.len);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_msg(snapshot_restore(st, tpath("ahead.snap"), T0, &n, err,
				   sizeof(err)) == SNAPSHOT_OK, "%s", err);
    ck_assert_uint_eq(store_site_start(st, 0), T0);
    store_close(st);
}
END_TEST

/* state_open - the state file name with max_clients clients */
static STORE *state_open(const char *name, uint32_t clients, unsigned flags)
{
    struct store_params p = {
	.path = tpath(name), .max_users = 1024, .max_clients = clients,
	.ips_per_user = 4, .lock_timeout_ms = 5000, .flags = flags,
	.mode = 0600, .now = T0,
    };
    char err[ERRLEN] = "";
    STORE *st = NULL;

    ck_assert_msg(store_open(&p, &st, err, ERRLEN) == STORE_OK,
		  "store_open: %s", err);
    return st;
}

#define SHRINK_CLIENTS	600	/* plain clients, seen after the site's */
#define SHRINK_SITES	12	/* networks: no stripe gets 5 (about 1 in
				 * 20000 hash keys would) */

/* A smaller file (max_clients lowered) keeps the site's networks and
 * places before plain clients, as eviction does (store_table.c) and as
 * it keeps blocks: carried in table order, each lost when its new stripe
 * was full of clients, the site forgot about half its networks and
 * judged a newcomer there a stranger until they were learned again. */
START_TEST(test_shrink_keeps_sites)
{
    struct store_open_info info;
    struct store_client c;
    struct addr a;
    char ip[32];
    int kept = 0;
    STORE *st = state_open("shrink", 4096, STORE_CREATE);

    for (int i = 0; i < SHRINK_SITES; i++) {
	snprintf(ip, sizeof(ip), "10.%d.0.1", i + 1);
	a = ip_of(ip);
	ck_assert_int_eq(store_site_vouch(st, &a, "nora", T0 - DAY, NULL),
			 STORE_OK);
    }
    for (int i = 0; i < SHRINK_CLIENTS; i++) {
	struct store_client_obs o = { .msgs = 1 };

	snprintf(ip, sizeof(ip), "198.18.%d.%d", i / 200, i % 200 + 1);
	o.ip = ip_of(ip);
	ck_assert_int_eq(store_client_update(st, &o, T0 - HOUR, NULL),
			 STORE_OK);
    }
    store_close(st);
    st = state_open("shrink", 256, STORE_RECREATE);
    store_open_info(st, &info);
    ck_assert_int_eq(info.how, STORE_OPENED_RESIZED);
    ck_assert_uint_gt(info.clients.lost, 0);
    for (int i = 0; i < SHRINK_SITES; i++) {
	snprintf(ip, sizeof(ip), "10.%d.0.1", i + 1);
	a = ip_of(ip);
	kept += store_site_get(st, &a, T0, &c) == STORE_OK;
    }
    ck_assert_int_eq(kept, SHRINK_SITES);
    store_close(st);
}
END_TEST

/* A state file salvaged (its checksum broken) or resized keeps a site
 * entry's times ahead of its open (written with the clock ahead) as
 * the open's, as a snapshot's restore does: kept, the login vouched
 * for 40 days after it left and the network counted no new day. */
START_TEST(test_salvage_site_ahead)
{
    struct addr ip = ip_of("192.0.2.7");
    struct store_client c;
    uint64_t bad = 12345;
    int fd;
    STORE *st = state_open("salvage", 4096, STORE_CREATE);

    ck_assert_int_eq(store_site_vouch(st, &ip, "nora", T0 + 40 * DAY, NULL),
		     STORE_OK);
    store_close(st);
    ck_assert_int_ge(fd = open(tpath("salvage"), O_WRONLY), 0);
    ck_assert_int_eq(pwrite(fd, &bad, sizeof(bad),
			    offsetof(struct store_hdr, check)),
		     (ssize_t) sizeof(bad));
    close(fd);
    st = state_open("salvage", 4096, STORE_RECREATE);
    ck_assert_int_eq(store_site_get(st, &ip, T0, &c), STORE_OK);
    ck_assert_uint_eq(c.nlogins, 1);
    ck_assert_uint_le(c.logins[0].last_seen, T0);
    ck_assert_uint_le(c.vouched, T0);
    ck_assert_uint_le(c.vouch_day, T0 / DAY);
    store_close(st);
}
END_TEST

/* snapshot_site_suite - the site's entries as untrusted input */
static Suite *snapshot_site_suite(void)
{
    Suite *s = suite_create("snapshot_site");
    TCase *tc = tcase_create("snapshot_site");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_site_key_exact);
    tcase_add_test(tc, test_snapshot_foreign_keys);
    tcase_add_test(tc, test_site_future_day);
    tcase_add_test(tc, test_shrink_keeps_sites);
    tcase_add_test(tc, test_site_start_ahead);
    tcase_add_test(tc, test_salvage_site_ahead);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(snapshot_site_suite());
}
