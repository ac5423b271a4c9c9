/*
 * check_snapshot - unit tests of policy/snapshot.c: a state's blocks,
 * learned countries and first-seen times written to a snapshot come back
 * in a fresh state file (what a reboot of the tmpfs needs); a restore
 * never overrides what the live file already has; damaged, truncated,
 * foreign and hostile snapshots are refused or their bad records
 * skipped; the file is replaced whole; the site's start time survives;
 * a login's spare state (usual coarse hour and its day, the home place's
 * time, the ext bytes) survives; the site's networks and places
 * survive, their logins hashed with the new file's key; formats 2 to 5
 * are still read.
 *
 * Each TCase gets a private temporary directory; every test runs forked.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"
#include "store.h"
#include "check_main.h"
#include "store_test.h"

#define NUSERS	50
#define SNAP_HDR	32	/* the format's sizes (snapshot.c) */
#define SNAP_USER	280
#define SNAP_USER3	240	/* format 3, still read */
#define SNAP_USER2	136	/* format 2, still read */
#define SNAP_NETS	136	/* where format 3's networks start in a user */
#define SNAP_SITE5	292	/* a site network or place (format 5) */
#define SNAP_SITE	420	/* ... and its logins' user records (6) */

/* sname - the n-th test login */
static const char *sname(int n)
{
    static char buf[32];

    snprintf(buf, sizeof(buf), "snap%02d", n);
    return buf;
}

/* fill - users with countries, two of them blocked; a blocked client */
static void fill(STORE *st)
{
    struct store_block b = { .until = T0 + DAY, .action = 3,
	.setby = STORE_BY_ADMIN, .reason = "incident" };
    struct store_block r = { .until = T0 + HOUR, .action = 2,
	.setby = STORE_BY_RULE, .flags = STORE_BLOCK_WOULD | STORE_BLOCK_COARSE,
	.rule_id = 0xc0ffee42, .reason = "many-countries" };

    for (int i = 0; i < NUSERS; i++) {
	struct store_user_obs o = obs_make(sname(i), "192.0.2.7");

	memcpy(o.geo.cc, i % 2 ? "DE" : "FR", 3);
	o.geo.asn = i % 2 ? 64496 : 0;	/* an AS, or only the /24 */
	o.msgs = (uint32_t) i % 7 + 1;
	o.flags = STORE_OBS_LEARN | STORE_OBS_LEARN_VOLUME;
	ck_assert_int_eq(store_user_update(st, &o, T0 - 9 * DAY
					   + (uint32_t) i, NULL), STORE_OK);
	memcpy(o.geo.cc, "IT", 3);
	ck_assert_int_eq(store_user_update(st, &o, T0 - DAY, NULL), STORE_OK);
	/* the usual coarse hour, once learned, once risen by one */
	ck_assert_int_eq(store_user_coarse_learn(st, sname(i),
						 (uint32_t) i % 5 + 3, true,
						 T0 - DAY), STORE_OK);
	ck_assert_int_eq(store_user_coarse_learn(st, sname(i), 200, false,
						 T0 - DAY), STORE_OK);
	o.flags = STORE_OBS_COUNT_ONLY | STORE_OBS_LEARN | STORE_OBS_HOME;
	ck_assert_int_eq(store_user_update(st, &o, T0 - DAY + (uint32_t) i,
					   NULL), STORE_OK);
    }
    ck_assert_int_eq(store_user_block(st, sname(1), &b, T0), STORE_OK);
    ck_assert_int_eq(store_user_block(st, sname(2), &r, T0), STORE_OK);
    ck_assert_int_eq(store_client_block(st, &(struct addr) {
					    .b = {0x20, 0x01, 0x0d, 0xb8, 9}},
					&b, T0), STORE_OK);
}

/* check_back - what fill() wrote is in st */
static void check_back(STORE *st)
{
    struct store_client c;

    for (int i = 0; i < NUSERS; i++) {
	ck_assert_int_eq(store_user_get(st, sname(i), T0, &U), STORE_OK);
	ck_assert_uint_eq(U.first_seen, T0 - 9 * DAY + (uint32_t) i);
	ck_assert_str_eq(U.countries[0].cc, i % 2 ? "DE" : "FR");
	ck_assert_str_eq(U.countries[1].cc, "IT");
	ck_assert_uint_eq(U.nets[0].key, i % 2 ? 64496
			  : (STORE_NET_PREFIX | 192u << 16 | 2u));
	ck_assert_uint_eq(U.nets[0].days, 2);	/* two days seen */
	ck_assert_uint_eq(U.usual_msgs, (uint32_t) i % 7 + 1);
	ck_assert_uint_eq(U.usual_day, (uint32_t) i % 7 + 1);
	ck_assert_uint_eq(U.usual_coarse, (uint32_t) i % 5 + 4);
	ck_assert_uint_eq(U.coarse_day, (uint8_t) ((T0 - DAY) / DAY));
	ck_assert_uint_eq(U.home_seen, T0 - DAY + (uint32_t) i);
    }
    ck_assert_int_eq(store_user_get(st, sname(1), T0, &U), STORE_OK);
    ck_assert_uint_eq(U.block.until, T0 + DAY);
    ck_assert_int_eq(U.block.setby, STORE_BY_ADMIN);
    ck_assert_str_eq(U.block.reason, "incident");
    ck_assert_int_eq(store_user_get(st, sname(2), T0, &U), STORE_OK);
    ck_assert_uint_eq(U.block.rule_id, 0xc0ffee42);
    /* still would-be; where it was set (STORE_BLOCK_COARSE) is not in
     * a snapshot, which a build before the flag must read */
    ck_assert_uint_eq(U.block.flags, STORE_BLOCK_WOULD);
    ck_assert_str_eq(U.block.reason, "many-countries");
    ck_assert_int_eq(store_client_get(st, &(struct addr) {
					  .b = {0x20, 0x01, 0x0d, 0xb8, 9}},
				      T0, &c), STORE_OK);
    ck_assert_uint_eq(c.block.until, T0 + DAY);
}

/* snap_of - write a snapshot of a filled state; its path */
static const char *snap_of(const char *name)
{
    static char path[160];
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    STORE *st = tnew(name, 1024, 4);

    fill(st);
    snprintf(path, sizeof(path), "%s.snap", tpath(name));
    ck_assert_msg(snapshot_write(st, path, T0, &n, err, sizeof(err))
		  == SNAPSHOT_OK, "write: %s", err);
    ck_assert_uint_eq(n.users, NUSERS);
    ck_assert_uint_eq(n.clients, 1);
    ck_assert_uint_eq(n.blocks, 3);
    store_close(st);
    return path;
}

/* restore_fresh - the reboot: the state file name is gone, a new one
 * gets snap back whole (no record skipped); the new state */
static STORE *restore_fresh(const char *name, const char *snap,
			    struct snapshot_counts *n)
{
    char err[ERRLEN] = "";
    STORE *fresh;

    ck_assert_int_eq(unlink(tpath(name)), 0);
    fresh = tnew(name, 1024, 4);
    ck_assert_msg(snapshot_restore(fresh, snap, T0, n, err, sizeof(err))
		  == SNAPSHOT_OK, "restore: %s", err);
    ck_assert_uint_eq(n->skipped, 0);
    return fresh;
}

START_TEST(test_round_trip)
{
    struct snapshot_counts n;
    STORE *fresh = restore_fresh("trip", snap_of("trip"), &n);

    ck_assert_uint_eq(n.users, NUSERS);
    ck_assert_uint_eq(n.blocks, 3);
    check_back(fresh);
    store_close(fresh);
}
END_TEST

START_TEST(test_site_start)
{
    const char *path = NULL;
    static char snap[160];
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    STORE *st = tnew("site", 1024, 4), *fresh;

    /* set by the first judgement, kept after; 0 only reads it */
    ck_assert_uint_eq(store_site_start(st, 0), 0);
    ck_assert_uint_eq(store_site_start(st, T0 - 20 * DAY), T0 - 20 * DAY);
    ck_assert_uint_eq(store_site_start(st, T0), T0 - 20 * DAY);
    fill(st);
    snprintf(snap, sizeof(snap), "%s.snap", tpath("site"));
    ck_assert_msg(snapshot_write(st, snap, T0, &n, err, sizeof(err))
		  == SNAPSHOT_OK, "write: %s", err);
    store_close(st);
    /* the reboot: a fresh state file learns the site's age back, and a
     * later start (this boot's first message came first) gives way */
    ck_assert_int_eq(unlink(tpath("site")), 0);
    fresh = tnew("site", 1024, 4);
    ck_assert_uint_eq(store_site_start(fresh, T0), T0);
    ck_assert_int_eq(snapshot_restore(fresh, snap, T0, &n, err, sizeof(err)),
		     SNAPSHOT_OK);
    ck_assert_uint_eq(store_site_start(fresh, 0), T0 - 20 * DAY);
    /* an older snapshot (start 0: unknown) changes nothing */
    path = snap_of("site0");
    ck_assert_int_eq(snapshot_restore(fresh, path, T0, &n, err, sizeof(err)),
		     SNAPSHOT_OK);
    ck_assert_uint_eq(store_site_start(fresh, 0), T0 - 20 * DAY);
    store_close(fresh);
}
END_TEST

START_TEST(test_restore_keeps_live)
{
    const char *snap = snap_of("live");
    struct store_block b = { .until = T0 + 2 * DAY, .action = 3,
	.setby = STORE_BY_ADMIN, .reason = "newer" };
    char err[ERRLEN] = "";
    STORE *fresh;

    ck_assert_int_eq(unlink(tpath("live")), 0);
    fresh = tnew("live", 1024, 4);
    /* seen again, with a newer block, before the restore */
    seen(fresh, sname(3), "192.0.2.8", T0);
    ck_assert_int_eq(store_user_block(fresh, sname(1), &b, T0), STORE_OK);
    ck_assert_int_eq(snapshot_restore(fresh, snap, T0, NULL, err,
				      sizeof(err)), SNAPSHOT_OK);
    ck_assert_int_eq(store_user_get(fresh, sname(1), T0, &U), STORE_OK);
    ck_assert_str_eq(U.block.reason, "newer");
    ck_assert_int_eq(store_user_get(fresh, sname(3), T0, &U), STORE_OK);
    ck_assert_uint_eq(U.first_seen, T0 - 9 * DAY + 3);	/* earlier wins */
    ck_assert_uint_eq(U.nips, 1);
    /* a block that ran out meanwhile does not come back */
    ck_assert_int_eq(unlink(tpath("live")), 0);
    store_close(fresh);
    fresh = tnew("live", 1024, 4);
    ck_assert_int_eq(snapshot_restore(fresh, snap, T0 + 2 * HOUR, NULL, err,
				      sizeof(err)), SNAPSHOT_OK);
    ck_assert_int_eq(store_user_get(fresh, sname(2), T0 + 2 * HOUR, &U),
		     STORE_OK);
    ck_assert_uint_eq(U.block.until, 0);
    store_close(fresh);
}
END_TEST

/* slurp - a file's bytes */
static unsigned char *slurp(const char *path, size_t *len)
{
    struct stat sb;
    unsigned char *b;
    int fd = open(path, O_RDONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &sb), 0);
    b = malloc((size_t) sb.st_size);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(read(fd, b, (size_t) sb.st_size), sb.st_size);
    close(fd);
    *len = (size_t) sb.st_size;
    return b;
}

START_TEST(test_damaged)
{
    const char *snap = snap_of("bad");
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    unsigned char *b;
    size_t len;

    b = slurp(snap, &len);
    /* whole: every record */
    ck_assert_int_eq(snapshot_parse(b, len, T0, NULL, NULL, NULL, &n, err,
				    sizeof(err)), SNAPSHOT_OK);
    ck_assert_uint_eq(n.users, NUSERS);
    /* one bit flipped anywhere: refused */
    for (size_t off = 0; off < len; off += 97) {
	b[off] ^= 0x10;
	ck_assert_int_eq(snapshot_parse(b, len, T0, NULL, NULL, NULL, &n, err,
					sizeof(err)), SNAPSHOT_EFORMAT);
	b[off] ^= 0x10;
    }
    /* cut short, or longer */
    ck_assert_int_eq(snapshot_parse(b, len - 1, T0, NULL, NULL, NULL, &n, err,
				    sizeof(err)), SNAPSHOT_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err, "counts"));
    ck_assert_int_eq(snapshot_parse(b, 10, T0, NULL, NULL, NULL, &n, err,
				    sizeof(err)), SNAPSHOT_EFORMAT);
    free(b);
    ck_assert_int_eq(snapshot_restore(NULL, tpath("none"), T0, &n, err,
				      sizeof(err)), SNAPSHOT_ENOENT);
}
END_TEST

/* fix_sum - recompute the FNV-1a trailer after editing a snapshot */
static void fix_sum(unsigned char *b, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (size_t i = 0; i < len - 8; i++)
	h = (h ^ b[i]) * UINT64_C(1099511628211);
    for (int i = 0; i < 8; i++)
	b[len - 8 + (size_t) i] = (unsigned char) (h >> (8 * i));
}

START_TEST(test_hostile_records)
{
    const char *snap = snap_of("hostile");
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    unsigned char *b, *u;
    size_t len;

    b = slurp(snap, &len);
    u = b + SNAP_HDR;
    u[3] = '\n';		/* a control byte in a login */
    u += SNAP_USER;
    memset(u, 'x', STORE_LOGIN_MAX);	/* no NUL */
    u += SNAP_USER;
    u[STORE_LOGIN_MAX + 8 + 5] = 7;	/* block set by nobody known */
    u += SNAP_USER;
    u[STORE_LOGIN_MAX + 8 + 32] = 'd';	/* a country in lower case */
    u += SNAP_USER;
    u[SNAP_NETS + 10] = 2;	/* a network neither an AS nor a prefix */
    u += SNAP_USER;
    u[SNAP_USER3 + 2] = 1;	/* the spare state's zero bytes are not */
    fix_sum(b, len);
    ck_assert_int_eq(snapshot_parse(b, len, T0, NULL, NULL, NULL, &n, err,
				    sizeof(err)), SNAPSHOT_OK);
    ck_assert_uint_eq(n.skipped, 6);
    ck_assert_uint_eq(n.users, NUSERS - 6);
    free(b);
}
END_TEST

/* older_snapshot - rewrite snap (read into b, len) as format version
 * with user records of usize bytes (their first usize bytes; the rest of
 * the file as it was), the sum fixed; the copy in *olen bytes, also
 * written over snap */
static unsigned char *older_snapshot(const char *snap, const unsigned char *b,
				     size_t len, unsigned char version,
				     size_t usize, size_t *olen)
{
    unsigned char *o;
    int fd;

    *olen = len - NUSERS * (SNAP_USER - usize);
    o = malloc(*olen);
    ck_assert_ptr_nonnull(o);
    memcpy(o, b, SNAP_HDR);
    o[8] = version;
    for (int i = 0; i < NUSERS; i++)
	memcpy(o + SNAP_HDR + (size_t) i * usize,
	       b + SNAP_HDR + (size_t) i * SNAP_USER, usize);
    memcpy(o + SNAP_HDR + NUSERS * usize,
	   b + SNAP_HDR + NUSERS * SNAP_USER, len - SNAP_HDR - NUSERS * SNAP_USER);
    fix_sum(o, *olen);
    fd = open(snap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, o, *olen), (ssize_t) *olen);
    close(fd);
    return o;
}

/* A snapshot of format 2 (before networks) is still read: its users come
 * back with their countries and blocks, without networks. */
START_TEST(test_format2)
{
    const char *snap = snap_of("old");
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    unsigned char *b, *o;
    size_t len, olen;
    STORE *fresh;

    b = slurp(snap, &len);
    ck_assert_int_eq(unlink(snap), 0);
    o = older_snapshot(snap, b, len, 2, SNAP_USER2, &olen);
    ck_assert_int_eq(unlink(tpath("old")), 0);
    fresh = tnew("old", 1024, 4);
    ck_assert_msg(snapshot_restore(fresh, snap, T0, &n, err, sizeof(err))
		  == SNAPSHOT_OK, "restore: %s", err);
    ck_assert_uint_eq(n.users, NUSERS);
    ck_assert_uint_eq(n.blocks, 3);
    ck_assert_int_eq(store_user_get(fresh, sname(3), T0, &U), STORE_OK);
    ck_assert_str_eq(U.countries[0].cc, "DE");
    ck_assert_uint_eq(U.nets[0].key, 0);
    /* another version is refused */
    o[8] = 9;
    fix_sum(o, olen);
    ck_assert_int_eq(snapshot_parse(o, olen, T0, NULL, NULL, NULL, &n, err,
				    sizeof(err)), SNAPSHOT_EFORMAT);
    store_close(fresh);
    free(o);
    free(b);
}
END_TEST

/* The ext bytes (per-login spare state of format 8) go into a snapshot
 * and come back whole; a restore fills an owner's range only where the
 * live entry has nothing learned in it, each range on its own: a live
 * byte of ext[15..18] or ext[27..28] keeps its own range only, not
 * ext[12..21] or the webmail hour's ext[22..26] with it (the old
 * restore's blocks 12..21 and 22..31). */
START_TEST(test_ext_round_trip)
{
    struct store_user u;
    struct snapshot_counts n;
    char err[ERRLEN] = "", snap[160];
    STORE *st = tnew("ext", 1024, 4), *fresh;

    memset(&u, 0, sizeof(u));
    strcpy(u.login, "extra");
    u.first_seen = T0 - DAY;
    u.last_seen = T0;	/* the restore's time: no byte moves on (store_wrap.c) */
    u.usual_coarse = 17;
    u.coarse_day = 5;
    u.home_seen = T0 - HOUR;
    for (int i = 0; i < STORE_EXT_LEN; i++)
	u.ext[i] = (uint8_t) (0xa0 + i);
    ck_assert_int_eq(store_user_restore(st, &u, T0), STORE_OK);
    snprintf(snap, sizeof(snap), "%s.snap", tpath("ext"));
    ck_assert_msg(snapshot_write(st, snap, T0, &n, err, sizeof(err))
		  == SNAPSHOT_OK, "write: %s", err);
    store_close(st);
    ck_assert_int_eq(unlink(tpath("ext")), 0);
    fresh = tnew("ext", 1024, 4);
    /* a live entry with something in two ranges keeps those two */
    memset(&u, 0, sizeof(u));
    strcpy(u.login, "extra");
    u.ext[15] = 1;
    u.ext[27] = 2;
    u.ext[31] = 3;	/* free: ext[29..30] (h-pause's) still restored */
    ck_assert_int_eq(store_user_restore(fresh, &u, T0), STORE_OK);
    ck_assert_int_eq(snapshot_restore(fresh, snap, T0, &n, err, sizeof(err)),
		     SNAPSHOT_OK);
    ck_assert_uint_eq(n.users, 1);
    ck_assert_uint_eq(n.skipped, 0);
    ck_assert_int_eq(store_user_get(fresh, "extra", T0, &U), STORE_OK);
    ck_assert_uint_eq(U.usual_coarse, 17);
    ck_assert_uint_eq(U.coarse_day, 5);
    ck_assert_uint_eq(U.home_seen, T0 - HOUR);
    for (int i = 0; i < STORE_EXT_LEN; i++) {
	bool live = (i >= 15 && i <= 18) || (i >= 27 && i <= 28) || i == 31;

	ck_assert_uint_eq(U.ext[i], !live ? 0xa0 + i : i == 15 ? 1
			  : i == 27 ? 2 : i == 31 ? 3 : 0);
    }
    store_close(fresh);
}
END_TEST

/* A snapshot of format 3 (before the spare state) is still read: its
 * users come back with their networks and usual day, without a usual
 * coarse hour or a home time. */
START_TEST(test_format3)
{
    const char *snap = snap_of("three");
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    unsigned char *b, *o;
    size_t len, olen;
    STORE *fresh;

    b = slurp(snap, &len);
    o = older_snapshot(snap, b, len, 3, SNAP_USER3, &olen);
    ck_assert_int_eq(unlink(tpath("three")), 0);
    fresh = tnew("three", 1024, 4);
    ck_assert_msg(snapshot_parse(o, olen, T0, NULL, NULL, NULL, &n, err,
				 sizeof(err)) == SNAPSHOT_OK, "parse: %s", err);
    ck_assert_uint_eq(n.users, NUSERS);
    ck_assert_msg(snapshot_restore(fresh, snap, T0, &n, err, sizeof(err))
		  == SNAPSHOT_OK, "restore: %s", err);
    ck_assert_uint_eq(n.users, NUSERS);
    ck_assert_uint_eq(n.blocks, 3);
    ck_assert_int_eq(store_user_get(fresh, sname(3), T0, &U), STORE_OK);
    ck_assert_uint_eq(U.nets[0].key, 64496);
    ck_assert_uint_eq(U.usual_day, 4);
    ck_assert_uint_eq(U.usual_coarse, 0);
    ck_assert_uint_eq(U.home_seen, 0);
    store_close(fresh);
    free(o);
    free(b);
}
END_TEST

/* the site entries of test_site_entries: two networks, two places */
#define SITE_NETS	2
static const char *const site_ips[SITE_NETS] = { "192.0.2.7",
    "2001:db8:1:2::9" };

/* site_fill - logins vouch for the site's networks and places on days */
static void site_fill(STORE *st)
{
    char login[32];

    for (uint32_t d = 0; d < 4; d++)
	for (int l = 0; l < 3 + (int) d; l++) {
	    uint32_t t = T0 - (6 - d) * DAY + (uint32_t) l * MIN;

	    snprintf(login, sizeof(login), "site%d", l);
	    for (int i = 0; i < SITE_NETS; i++) {
		struct addr ip = ip_of(site_ips[i]);

		ck_assert_int_eq(store_site_vouch(st, &ip, login, t, NULL),
				 STORE_OK);
	    }
	    ck_assert_int_eq(store_site_place(st, STORE_SITE_AS, 64496, login,
					      true, t, NULL), STORE_OK);
	    if (d % 2 == 0)
		ck_assert_int_eq(store_site_place(st, STORE_SITE_CC,
						  store_site_cc("DE"), login,
						  true, t, NULL), STORE_OK);
	}
}

/* site_entries - copies of the site entries of site_fill, in order */
static int site_entries(STORE *st, struct store_client *e)
{
    int rc = STORE_OK;

    for (int i = 0; i < SITE_NETS && rc == STORE_OK; i++) {
	struct addr ip = ip_of(site_ips[i]);

	rc = store_site_get(st, &ip, T0, &e[i]);
    }
    if (rc == STORE_OK)
	rc = store_site_place(st, STORE_SITE_AS, 64496, NULL, false, T0,
			      &e[SITE_NETS]);
    if (rc == STORE_OK)
	rc = store_site_place(st, STORE_SITE_CC, store_site_cc("DE"), NULL,
			      false, T0, &e[SITE_NETS + 1]);
    return rc;
}

/* The site's networks and places survive a lost state file: each comes
 * back with its logins (their times), vouch days and vouched time, so
 * the site does not judge every newcomer a stranger for site_days days
 * after a reboot; a snapshot of format 4 (without them) is still read. */
START_TEST(test_site_entries)
{
    struct store_client was[SITE_NETS + 2], now[SITE_NETS + 2];
    struct snapshot_counts n;
    char err[ERRLEN] = "", snap[160];
    unsigned char *b, *o;
    size_t len, olen;
    STORE *st = tnew("sites", 1024, 4), *fresh;

    fill(st);
    site_fill(st);
    ck_assert_int_eq(site_entries(st, was), STORE_OK);
    ck_assert_uint_eq(was[0].vouch_days, 4);
    ck_assert_uint_eq(was[0].nlogins, 6);
    ck_assert_uint_eq(was[SITE_NETS + 1].vouch_days, 2);
    snprintf(snap, sizeof(snap), "%s.snap", tpath("sites"));
    ck_assert_msg(snapshot_write(st, snap, T0, &n, err, sizeof(err))
		  == SNAPSHOT_OK, "write: %s", err);
    ck_assert_uint_eq(n.clients, 1);	/* the site's entries apart */
    ck_assert_uint_eq(n.sites, SITE_NETS + 2);
    store_close(st);
    fresh = restore_fresh("sites", snap, &n);
    ck_assert_uint_eq(n.clients, 1);
    ck_assert_uint_eq(n.sites, SITE_NETS + 2);
    check_back(fresh);
    ck_assert_msg(site_entries(fresh, now) == STORE_OK,
		  "the site's networks and places are not restored");
    for (int i = 0; i < SITE_NETS + 2; i++) {
	ck_assert_uint_eq(now[i].first_seen, was[i].first_seen);
	/* last seen: the restore's time, as for a client */
	ck_assert_uint_eq(now[i].vouched, was[i].vouched);
	ck_assert_uint_eq(now[i].vouch_days, was[i].vouch_days);
	ck_assert_uint_eq(now[i].vouch_day, was[i].vouch_day);
	ck_assert_uint_eq(now[i].nlogins, was[i].nlogins);
	for (uint32_t l = 0; l < was[i].nlogins; l++) {
	    ck_assert_uint_eq(now[i].logins[l].hash, was[i].logins[l].hash);
	    ck_assert_uint_eq(now[i].logins[l].last_seen,
			      was[i].logins[l].last_seen);
	}
    }
    store_close(fresh);
    /* hostile site records: a key no site entry has, too many logins */
    b = slurp(snap, &len);
    o = b + len - 8 - (SITE_NETS + 2) * SNAP_SITE;
    o[8] = 0x7e;		/* not a site entry's tag */
    o[SNAP_SITE + 32] = 33;	/* more logins than a record holds */
    fix_sum(b, len);
    ck_assert_int_eq(snapshot_parse(b, len, T0, NULL, NULL, NULL, &n, err,
				    sizeof(err)), SNAPSHOT_OK);
    ck_assert_uint_eq(n.skipped, 2);
    ck_assert_uint_eq(n.sites, SITE_NETS);
    free(b);
    /* format 4 (no site entries) still restores its users and clients */
    b = slurp(snap_of("four"), &len);
    snprintf(snap, sizeof(snap), "%s.snap", tpath("four"));
    o = older_snapshot(snap, b, len, 4, SNAP_USER, &olen);
    fresh = restore_fresh("four", snap, &n);
    ck_assert_uint_eq(n.users, NUSERS);
    ck_assert_uint_eq(n.sites, 0);
    check_back(fresh);
    ck_assert_int_eq(site_entries(fresh, now), STORE_NOTFOUND);
    store_close(fresh);
    free(o);
    free(b);
}
END_TEST

/* site_count - how many logins vouch for ip's network at T0 */
static uint32_t site_count(STORE *st, const char *ip)
{
    struct store_client c;
    struct addr a = ip_of(ip);

    ck_assert_int_eq(store_site_get(st, &a, T0, &c), STORE_OK);
    return c.nlogins;
}

/* The site's logins come back hashed with the new file's key: a login
 * that vouched before the loss and vouches again after it is one login
 * (before: the lost key's hash and the new one, two of site_logins for
 * 30 days). A login the snapshot has no user record of keeps its old
 * hash; a snapshot of format 5 keeps them all; a record naming a user
 * record past the file's users is skipped. */
START_TEST(test_site_rekey)
{
    static const char *const who[] = { "ana", "ben", "ghost" };
    struct snapshot_counts n;
    char err[ERRLEN] = "", snap[160];
    struct addr ip = ip_of("192.0.2.7");
    unsigned char *b, *o;
    size_t len;
    STORE *st = tnew("rekey", 1024, 4), *fresh;

    for (int i = 0; i < 3; i++) {
	struct store_user_obs u = obs_make(who[i], "192.0.2.7");

	if (i < 2)		/* ghost: no user record (evicted) */
	    ck_assert_int_eq(store_user_update(st, &u, T0 - DAY, NULL),
			     STORE_OK);
	ck_assert_int_eq(store_site_vouch(st, &ip, who[i], T0 - DAY, NULL),
			 STORE_OK);
    }
    ck_assert_uint_eq(site_count(st, "192.0.2.7"), 3);
    snprintf(snap, sizeof(snap), "%s.snap", tpath("rekey"));
    ck_assert_msg(snapshot_write(st, snap, T0, &n, err, sizeof(err))
		  == SNAPSHOT_OK, "write: %s", err);
    ck_assert_uint_eq(n.sites, 1);
    store_close(st);
    fresh = restore_fresh("rekey", snap, &n);
    ck_assert_uint_eq(site_count(fresh, "192.0.2.7"), 3);
    for (int i = 0; i < 3; i++)
	ck_assert_int_eq(store_site_vouch(fresh, &ip, who[i], T0, NULL),
			 STORE_OK);
    /* ana and ben found their slots, ghost took a new one */
    ck_assert_msg(site_count(fresh, "192.0.2.7") == 4, "%u logins vouch "
		  "after the restore, 4 expected (ana and ben counted "
		  "twice?)", site_count(fresh, "192.0.2.7"));
    store_close(fresh);
    /* a user record past the file's: the record is skipped */
    b = slurp(snap, &len);
    o = b + len - 8 - SNAP_SITE;
    o[SNAP_SITE5] = 3;		/* the file has two user records */
    fix_sum(b, len);
    ck_assert_int_eq(snapshot_parse(b, len, T0, NULL, NULL, NULL, &n, err,
				    sizeof(err)), SNAPSHOT_OK);
    ck_assert_uint_eq(n.skipped, 1);
    ck_assert_uint_eq(n.sites, 0);
    /* ... or to one whose login does not check out: both skipped */
    o[SNAP_SITE5] = 1;
    b[SNAP_HDR] = 0x01;
    fix_sum(b, len);
    ck_assert_int_eq(snapshot_parse(b, len, T0, NULL, NULL, NULL, &n, err,
				    sizeof(err)), SNAPSHOT_OK);
    ck_assert_uint_eq(n.skipped, 2);
    ck_assert_uint_eq(n.users, 1);
    ck_assert_uint_eq(n.sites, 0);
    free(b);
}
END_TEST

/* A login too long for the key (48 bytes or more: a long address with a
 * department's domain) is kept as its first bytes and a hash of all of
 * it. That hash was keyed with the state file's key, and a restore goes
 * into a new file with a new key: the record came back under a name the
 * login no longer maps to, so it learned again from nothing, and its
 * site vouches counted twice. */
START_TEST(test_long_login_restore)
{
    static const char *const who[] = {
	"firstname.middlename.lastname@physics.department.university.example",
	"ben"
    };
    struct snapshot_counts n;
    struct store_user u;
    char err[ERRLEN] = "", snap[160];
    struct addr ip = ip_of("192.0.2.9");
    STORE *st = tnew("longlogin", 1024, 4), *fresh;

    for (int i = 0; i < 2; i++) {
	struct store_user_obs o = obs_make(who[i], "192.0.2.9");

	ck_assert_int_eq(store_user_update(st, &o, T0 - DAY, NULL), STORE_OK);
	ck_assert_int_eq(store_site_vouch(st, &ip, who[i], T0 - DAY, NULL),
			 STORE_OK);
    }
    snprintf(snap, sizeof(snap), "%s.snap", tpath("longlogin"));
    ck_assert_msg(snapshot_write(st, snap, T0, &n, err, sizeof(err))
		  == SNAPSHOT_OK, "write: %s", err);
    store_close(st);
    fresh = restore_fresh("longlogin", snap, &n);
    ck_assert_int_eq(store_user_get(fresh, who[0], T0, &u), STORE_OK);
    ck_assert_msg(u.first_seen == T0 - DAY, "the long login's record is "
		  "not found after the restore (first seen %u, %u expected)",
		  u.first_seen, T0 - DAY);
    for (int i = 0; i < 2; i++)
	ck_assert_int_eq(store_site_vouch(fresh, &ip, who[i], T0, NULL),
			 STORE_OK);
    ck_assert_msg(site_count(fresh, "192.0.2.9") == 2, "%u logins vouch "
		  "after the restore, 2 expected", site_count(fresh, "192.0.2.9"));
    store_close(fresh);
}
END_TEST

/* A site record whose login times lie ahead of the restore (a clock
 * stepped back, a damaged file) comes back at the restore's time, so
 * no login counts as vouching for longer than the window. */
START_TEST(test_site_future)
{
    struct store_client e[SITE_NETS + 2], back;
    struct addr ip = ip_of(site_ips[0]);
    STORE *st = tnew("sitefut", 1024, 4), *fresh = tnew("sitefut2", 1024, 4);

    site_fill(st);
    ck_assert_int_eq(site_entries(st, e), STORE_OK);
    e[0].logins[0].last_seen = T0 + 40 * DAY;
    ck_assert_int_eq(store_client_restore(fresh, &e[0], T0), STORE_OK);
    ck_assert_int_eq(store_site_get(fresh, &ip, T0, &back), STORE_OK);
    ck_assert_uint_eq(back.nlogins, e[0].nlogins);
    ck_assert_uint_eq(back.logins[0].last_seen, T0);
    ck_assert_uint_eq(back.logins[1].last_seen, e[0].logins[1].last_seen);
    store_close(st);
    store_close(fresh);
}
END_TEST

START_TEST(test_replace_whole)
{
    const char *snap = snap_of("whole");
    struct snapshot_counts n;
    char err[ERRLEN] = "";
    struct stat before, after;
    STORE *st = tnew("whole", 1024, 4);

    ck_assert_int_eq(stat(snap, &before), 0);
    ck_assert_int_eq(snapshot_write(st, snap, T0, &n, err, sizeof(err)),
		     SNAPSHOT_OK);
    ck_assert_int_eq(stat(snap, &after), 0);
    ck_assert_uint_ne(before.st_ino, after.st_ino);	/* renamed in */
    ck_assert_uint_eq(after.st_mode & 0777, 0600);
    /* a directory that is not there: an error, nothing left behind */
    ck_assert_int_eq(snapshot_write(st, tpath("no/such/dir/snap"), T0, &n,
				    err, sizeof(err)), SNAPSHOT_EIO);
    store_close(st);
}
END_TEST

/* snapshot_suite - save, restore, refuse */
static Suite *snapshot_suite(void)
{
    Suite *s = suite_create("snapshot");
    TCase *tc = tcase_create("snapshot");

    tcase_add_unchecked_fixture(tc, tdir_make, tdir_rm);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_site_start);
    tcase_add_test(tc, test_restore_keeps_live);
    tcase_add_test(tc, test_damaged);
    tcase_add_test(tc, test_hostile_records);
    tcase_add_test(tc, test_format2);
    tcase_add_test(tc, test_format3);
    tcase_add_test(tc, test_ext_round_trip);
    tcase_add_test(tc, test_site_entries);
    tcase_add_test(tc, test_site_future);
    tcase_add_test(tc, test_site_rekey);
    tcase_add_test(tc, test_long_login_restore);
    tcase_add_test(tc, test_replace_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(snapshot_suite());
}
