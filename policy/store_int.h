/*
 * store_int - the state file's layout and the store's internal interface,
 * shared by store.c (file, header), store_lock.c (stripe locks),
 * store_table.c (stripes, hashing, eviction), store_migrate.c (carrying
 * entries into a new file), store_user.c, store_client.c, store_win.c
 * and store_key.c.
 *
 * Not for other modules: they use store.h. Tests may include it to
 * damage a file on purpose.
 *
 * File layout (every offset fixed by the capacities, recomputed and
 * compared on attach):
 *
 *   [header, STORE_HDR_SIZE bytes]
 *   [user stripes]   STORE_STRIPES x STORE_STRIPE_SIZE (mutex, list heads)
 *   [user slots]     STORE_STRIPES x cap x stride, from a page boundary;
 *                    stride a multiple of a cache line
 *   [client stripes, slots] likewise
 *
 * There is no separate bucket array: every key has a home slot derived
 * from its hash, and the head of the chain of keys with that home lives
 * in the home slot's first line (store_table.c). Links are 1-based slot
 * numbers local to a stripe; 0 is "none", so a file of zeros (fresh
 * ftruncate) is a valid empty table.
 */
#ifndef RG_STORE_INT_H
#define RG_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

#define STORE_MAGIC	UINT64_C(0x3145544154534752)	/* "RGSTATE1" LE */
#define STORE_VERSION	8	/* 4: stripe write sequence (store_ro.c);
				 * 5: blocks name their rule, would-be blocks;
				 * 6: familiar networks, usual hourly volume;
				 * 7: vouched days, the site's networks,
				 *    an address's per-day counts;
				 * 8: a login's spare bytes (store_urec.ext) */
#define STORE_VERSION_7	7	/* still read: carried into a new file */
#define STORE_STRIPES	64	/* power of two */
#define STORE_HDR_SIZE	4096
#define STORE_STRIPE_SIZE 128	/* two cache lines: no false sharing */
#define STORE_MAX_ENTRIES (UINT32_C(1) << 26)	/* per table */
#define STORE_KEY_LEN	16
#define STORE_BOOT_LEN	16
#define STORE_PAGE	4096
#define STORE_LINE	64
#define STORE_LOCK_DEFAULT_MS 50	/* lock_timeout_ms == 0 */
#define STORE_TIMEOUT_MAX_MS 60000
#define STORE_EVICT_SAMPLE 8	/* live slots examined per eviction */
#define STORE_EVICT_KEPT_BATCHES 4	/* batches of kept entries only
					 * before one of them goes */

/* Bytes of the file locked with open-file-description locks (fcntl
 * F_OFD_*), which the file's contents cannot forge (store_lock.c). */
#define STORE_LK_ATTACHED 0	/* shared by every attached handle */
#define STORE_LK_REPAIR	1	/* + stripe (+ STORE_STRIPES for clients) */

#define STORE_F_USED	1	/* slot holds a live entry */
#define STORE_F_LISTED	2	/* slot is free and on the free list */

/* One table's geometry; all derived from its capacity and stride. */
struct store_geom {
    uint32_t cap;		/* slots per stripe */
    uint32_t stride;		/* bytes per slot, a multiple of STORE_LINE */
    uint64_t stripes_off, slots_off, end_off;
};

struct store_hdr {
    /* immutable after creation; covered by "check" */
    uint64_t magic;
    uint32_t version;
    uint32_t abi;
    uint64_t file_size;
    uint32_t hdr_size;
    uint32_t nstripes;
    uint32_t max_users, max_clients, ips_per_user, pad0;
    struct store_geom users, clients;
    uint8_t key[STORE_KEY_LEN];
    uint64_t check;		/* SipHash (zero key) of the bytes above */
    /* mutable, atomics only */
    _Alignas(STORE_LINE) uint8_t boot_id[STORE_BOOT_LEN];
    uint64_t generation;
    uint64_t evictions, lock_timeouts, owner_dead, stripe_resets;
    uint32_t site_start;	/* the first judgement's time, 0 before it
				 * (store_site_start; fits the line) */
    uint32_t site_evictions;	/* of them the site's entries (spare bytes
				 * of the line: 0 in older files) */
    _Alignas(STORE_LINE) uint64_t counters[STORE_HDR_COUNTERS];
};

/* Counters STORE_HDR_COUNTERS and on live in the header page's spare
 * bytes, from STORE_MORE_OFF: a file made before they existed has zeros
 * there (a new file's pages are ftruncate's), and a build that does not
 * know them neither reads nor writes them, so they change neither the
 * format version nor the ABI word; a state file moves between builds
 * either way with its entries and its first 64 counters. */
#define STORE_MORE_OFF	2048
_Static_assert(sizeof(struct store_hdr) <= STORE_MORE_OFF,
	       "the header struct ends before the spare counters");
_Static_assert(STORE_MORE_OFF + (STORE_NCOUNTERS - STORE_HDR_COUNTERS)
	       * sizeof(uint64_t) <= STORE_HDR_SIZE,
	       "the spare counters fit the header page");

_Static_assert(offsetof(struct store_hdr, counters)
	       == offsetof(struct store_hdr, boot_id) + STORE_LINE,
	       "the header's mutable line is full: counters stay put");

/* Per stripe: the lock, the free list and the eviction clock. */
struct store_stripe {
    pthread_mutex_t mu;
    uint32_t count;		/* live entries */
    uint32_t fresh;		/* slots before it were all used once */
    uint32_t free_head;		/* freed slots (STORE_F_LISTED), see below */
    uint32_t hand;		/* next slot the eviction sweep examines */
    uint64_t tick;		/* recency clock: bumped on insert/touch */
    uint32_t high;		/* highest slot whose head was ever written */
    uint32_t seq;		/* odd while the lock holder writes (store_ro.c) */
};

/* The head of every slot: 32 bytes, the first half of its first line.
 * bhead belongs to the position, not to the entry in it: it heads the
 * chain of the entries whose home is this slot, wherever they live, and
 * stays when the slot's own entry goes. A freed slot is on the stripe's
 * doubly linked free list through hnext and fprev. */
struct store_link {
    uint32_t bhead;		/* chain of the keys whose home this is */
    uint32_t hnext;		/* next in its home's chain, or free list */
    uint64_t seen;		/* stripe tick of the last insert/touch */
    uint32_t first_seen, last_seen;
    uint32_t fprev;		/* free list: the previous freed slot */
    uint16_t tag;		/* 16 hash bits: cheap first compare */
    uint8_t n;			/* users: IPs held; clients: logins held */
    uint8_t flags;		/* STORE_F_* */
};

struct store_fplace {		/* [0] latest located login, [1] the one before */
    uint32_t time[2];
    int16_t lat_c[2], lon_c[2];
    uint16_t acc_km[2];
};

struct store_fcountry {
    char cc[2];
    uint16_t days, first_day, last_day;
};

/* A familiar network of a login (struct store_net, packed the same). */
struct store_fnet {
    uint32_t key;		/* store_net_key(), without STORE_NET_PREFIX */
    uint16_t days, first_day, last_day;
    uint8_t prefix;		/* 1: key is a prefix, 0: an AS number */
    uint8_t aux;		/* nets[0] and [1]: the usual day (below) */
};

/* The login's busiest usual day (messages in a rolling day, learned
 * like the usual hour) lives in the aux bytes of nets[0] (low) and
 * nets[1] (high), spare bytes of format 7: files written before it read
 * 0 there, "not learned yet" (store_user.c urec_usual_day). */
#define STORE_USUAL_DAY_LO 0
#define STORE_USUAL_DAY_HI 1
/* The usual hour on coarse addresses of the login's own networks and the
 * day it last rose: aux bytes of nets[2] and [3] (store_carrier.c). */
#define STORE_COARSE_HOUR 2
#define STORE_COARSE_DAY 3
/* The last time a message was let through from the login's home place
 * (STORE_OBS_HOME) lives in the aux bytes of nets[4] (lowest) to nets[7]
 * (highest), spare bytes of format 7 as well: 0 there, "never", in files
 * written before it (store_user.c urec_home_seen). */
#define STORE_HOME_SEEN_AUX 4
_Static_assert(STORE_HOME_SEEN_AUX > STORE_COARSE_DAY
	       && STORE_HOME_SEEN_AUX > STORE_COARSE_HOUR
	       && STORE_HOME_SEEN_AUX + 4 <= STORE_NETS,
	       "the home place's time overlaps other spare bytes");

struct store_urec {
    struct store_link l;
    char login[STORE_LOGIN_MAX];	/* NUL padded: compared whole */
    struct store_block block;
    struct store_fplace place;
    struct store_fcountry countries[STORE_COUNTRIES];
    struct store_fnet nets[STORE_NETS];
    uint16_t usual_msgs, usual_rcpts;	/* busiest hour from familiar places */
    char qids[STORE_QIDS][STORE_QID_MAX];
    struct store_win win;
    /* Format 8: spare per-login state, owned by range (STORE_EXT_JUDGE,
     * _JUDGE2, _JUDGE3 in store.h); zeros in a login carried over from
     * format 7. A format-7 slot is this layout without these bytes
     * (store_migrate.c widen7). */
    uint8_t ext[STORE_EXT_LEN];
    struct store_ip ips[];	/* ips_per_user of them, newest first */
};

_Static_assert(STORE_EXT_JUDGE == 0 && STORE_EXT_JUDGE < STORE_EXT_JUDGE2
	       && STORE_EXT_JUDGE2 < STORE_EXT_JUDGE3
	       && STORE_EXT_JUDGE3 < STORE_EXT_LEN
	       && STORE_EXT_LEN == 32, "the ext ranges: 0..11, 12..21, 22..31");
/* Every field after ext moves by exactly its size: what makes a format-7
 * slot this one with STORE_EXT_LEN bytes cut out at ext (only padding
 * lies between ext and ips). */
_Static_assert(offsetof(struct store_urec, ips)
	       >= offsetof(struct store_urec, ext) + STORE_EXT_LEN
	       && offsetof(struct store_urec, ips)
	       - offsetof(struct store_urec, ext) - STORE_EXT_LEN
	       < _Alignof(struct store_ip)
	       && STORE_EXT_LEN % _Alignof(struct store_urec) == 0,
	       "ext sits between win and ips, nothing else moves");

uint8_t store_urec_coarse_hour(const struct store_urec *u);
/* store_carrier.c: a carrier note on a live slot (its stripe locked) */
void store_urec_coarse_note(struct store_urec *u,
			    const struct store_coarse_note *n, uint32_t now);

/* store_le16 / store_le16_put - a 16-bit value in two spare bytes, low
 * byte first (the ext bytes' owners keep their numbers this way) */
static inline uint16_t store_le16(const uint8_t *p)
{
    return (uint16_t) (p[0] | p[1] << 8);
}

static inline void store_le16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v & 0xff);
    p[1] = (uint8_t) (v >> 8);
}

/* Day bytes: a day (now / STORE_DAY_S) kept by its low byte, which
 * comes round every 256 days, while a state file and its snapshots live
 * for years (store_wrap.c). Such a byte is always written by an
 * observation of the login (last_seen moved to now first), and every
 * observation rolls the login's day bytes before its last_seen moves
 * (store_urec_wrap_roll), so the day a byte names is the latest one up
 * to the login's last_seen with that low byte (store_day_of_byte), and
 * it is today's only if that day is today (store_day_is_today). */
static inline uint32_t store_day_of_byte(uint8_t b, uint32_t last_seen)
{
    uint32_t seen = last_seen / STORE_DAY_S;

    return seen - (uint8_t) ((seen & 0xff) - b);
}

static inline bool store_day_is_today(uint8_t b, uint32_t last_seen,
				      uint32_t now)
{
    return store_day_of_byte(b, last_seen) == now / STORE_DAY_S;
}

/* store_day_roll - a login observed at now, last seen at last_seen (as
 * it was): on a later day a byte that names today's low byte was
 * written on an earlier day (256 days or a multiple before, or never:
 * a new entry's zero on a day ...00); it moves back a day, so it no
 * longer reads as today's */
static inline void store_day_roll(uint8_t *b, uint32_t last_seen, uint32_t now)
{
    uint32_t today = now / STORE_DAY_S;

    if (today > last_seen / STORE_DAY_S && *b == (uint8_t) (today & 0xff))
	*b = (uint8_t) (*b - 1);
}

/* store_le16_keep / store_le16_kept - a 16-bit value as it stood before
 * today: the value in p[0..1], the day's low byte in p[2] (a day byte,
 * above: last_seen is the login's). keep saves value unless today's is
 * saved already (called before a rise, so the day's first call keeps
 * what the day began with); kept reads the saved value if it is
 * today's, else current (no rise yet today: it still is the day's
 * first). store_prior.c, store_prior_day.c. */
static inline void store_le16_keep(uint8_t *p, uint16_t value,
				   uint32_t last_seen, uint32_t now)
{
    if (store_day_is_today(p[2], last_seen, now))
	return;
    store_le16_put(p, value);
    p[2] = (uint8_t) (now / STORE_DAY_S & 0xff);
}

static inline uint16_t store_le16_kept(const uint8_t *p, uint16_t current,
				       uint32_t last_seen, uint32_t now)
{
    return store_day_is_today(p[2], last_seen, now) ? store_le16(p) : current;
}

/* h-judge's ext bytes (STORE_EXT_JUDGE, 0..11): the login's known hubs of
 * its carriers' pools (store_carrier.c): STORE_HUBS entries of two
 * bytes (a 15-bit tag, the top bit set once noted on an earlier day),
 * most recent first, then the day number (16 bits, little endian) of the
 * latest note. */
#define STORE_HUBS	4
#define STORE_HUBS_AT	(STORE_EXT_JUDGE + 0)
#define STORE_HUBS_DAY	(STORE_HUBS_AT + 2 * STORE_HUBS)
_Static_assert(STORE_HUBS_DAY + 2 <= STORE_EXT_JUDGE + 10, "h-judge's ext range");
/* h-vpn's ext bytes (10..12): the usual day as it stood before today
 * (store_prior_day.c): ext[10..11], the day's low byte in ext[12]. */
#define STORE_EXT_PRIOR_DAY_MSGS (STORE_EXT_JUDGE + 10)
#define STORE_EXT_PRIOR_DAY_NO (STORE_EXT_PRIOR_DAY_MSGS + 2)
void store_urec_prior_day(struct store_urec *u, uint16_t day, uint32_t now);
/* h-judge2's ext bytes (STORE_EXT_JUDGE2, 12..21): the usual recipients
 * hour as it stood before today, and the day's low byte (store_prior.c):
 * ext[19..20], ext[21]; ext[13..18] are free (ext[12] is h-vpn's). */
#define STORE_EXT_PRIOR_RCPTS (STORE_EXT_JUDGE2 + 7)
/* h-native's ext bytes (ext[13..14], session 18): the network the login
 * took up again today after a day or more without it (store_revisit.c):
 * the day's low byte in ext[13], a byte of the network's key in ext[14]. */
#define STORE_EXT_REVISIT_DAY 13
#define STORE_EXT_REVISIT_NET (STORE_EXT_REVISIT_DAY + 1)
void store_urec_revisit_note(const STORE *st, struct store_urec *u,
			     const struct store_user_obs *obs, uint64_t key,
			     uint16_t last_day, uint32_t now);
#define STORE_EXT_PRIOR_DAY (STORE_EXT_PRIOR_RCPTS + 2)
_Static_assert(STORE_EXT_PRIOR_DAY + 1 <= STORE_EXT_JUDGE3, "h-judge2's ext range");
void store_urec_prior_usual(struct store_urec *u, uint32_t now);
/* The webmail hour (ext[22..26]): the login's messages through a
 * trusted relay (the site's webmail), by half hour (store_relay.c): the
 * low byte of the half hour's number (now / 1800; which one, its
 * last_seen tells) in ext[22], its count in ext[23], the one
 * before's in ext[24], the day's busiest relayed hour (of mail let
 * through) in ext[25], the busiest of the days before in ext[26]. */
#define STORE_EXT_RELAY_SLOT (STORE_EXT_JUDGE3 + 0)
#define STORE_EXT_RELAY_NOW (STORE_EXT_RELAY_SLOT + 1)
#define STORE_EXT_RELAY_PREV (STORE_EXT_RELAY_NOW + 1)
#define STORE_EXT_RELAY_DAY_MAX (STORE_EXT_RELAY_PREV + 1)
#define STORE_EXT_RELAY_USUAL (STORE_EXT_RELAY_DAY_MAX + 1)
_Static_assert(STORE_EXT_RELAY_SLOT >= STORE_EXT_JUDGE3
	       && STORE_EXT_RELAY_USUAL + 1 <= STORE_EXT_JUDGE3 + 5,
	       "h-judge3's ext bytes of session 17: ext[22..26]");
/* h-heavy's ext byte (session 21, ext[31]): the login's coarse
 * addresses its address list dropped while last seen within the hour,
 * by half hour of its last_seen (store_carrier.c): the current half
 * hour's count in the low four bits, the one before's in the high four,
 * each saturating at 15. */
#define STORE_EXT_COARSE_GONE 31
_Static_assert(STORE_EXT_COARSE_GONE == STORE_EXT_LEN - 1,
	       "h-heavy's ext byte of session 21: ext[31]");
void store_ext_gone_roll(uint8_t *ext, uint32_t last, uint32_t now);
void store_urec_gone_note(struct store_urec *u, const struct store_ip *ip,
			  uint32_t line_km, uint32_t now);
void store_urec_relay_roll(struct store_urec *u, uint32_t now);
void store_urec_relay_note(struct store_urec *u, uint32_t n, uint32_t now);
void store_urec_relay_restored(struct store_urec *u, uint32_t from_last);
/* h-block's ext bytes (session 18, ext[15..18]): the refusals a rule
 * with block_after counts before its block (store_strikes.c): the low
 * byte of the rule's id in ext[15], the count in ext[16], the minute
 * (now / 60, low 16 bits, little endian) of the first in ext[17..18]. */
#define STORE_EXT_STRIKE_RULE 15
#define STORE_EXT_STRIKE_COUNT (STORE_EXT_STRIKE_RULE + 1)
#define STORE_EXT_STRIKE_MIN (STORE_EXT_STRIKE_COUNT + 1)
_Static_assert(STORE_EXT_STRIKE_RULE > STORE_HUBS_DAY + 1
	       && STORE_EXT_STRIKE_MIN + 2 <= STORE_EXT_PRIOR_RCPTS,
	       "h-block's ext bytes of session 18: ext[15..18]");
/* h-honest-a's ext bytes (session 18, ext[27..28]): the hour of the
 * login's last bulk message let through (store_bulk.c). */
#define STORE_EXT_BULK_HOUR 27
void store_urec_bulk_note(struct store_urec *u, uint32_t now);
/* store_net_tag - a byte of a network's key (store_net_key): what the
 * spare bytes keep of a network (store_revisit.c, store_stopday.c) */
static inline uint8_t store_net_tag(uint64_t key)
{
    uint64_t k = key ^ key >> 32;

    k ^= k >> 16;
    return (uint8_t) ((k ^ k >> 8) & 0xff);
}
/* h-pause's ext bytes (session 20, ext[29..30]): the latest day the
 * login had mail refused at a place not its own (store_stopday.c): the
 * day's low byte in ext[29] (a day byte: store_wrap.c), the place's
 * network's tag (store_net_tag, 0 taken as 1) in ext[30]; 0 none. */
#define STORE_EXT_STOP_DAY 29
#define STORE_EXT_STOP_NET (STORE_EXT_STOP_DAY + 1)
bool store_urec_stop_replaces(const STORE *st, const struct store_urec *u,
			      uint64_t key, uint16_t days, uint16_t last_day,
			      uint32_t home_seen, uint32_t familiar_days);
/* A home message at home_seen: does the network key, made familiar on
 * its last day day (today), lose that day (the warmed network's test)? */
bool store_urec_warm_unseats(const STORE *st, const struct store_urec *u,
			     uint64_t key, uint16_t day, uint32_t home_seen);
/* store_wrap.c: an observation of the login at now, before its last_seen
 * moves: its day bytes roll (above), a refusal count too old to be
 * current is cleared */
void store_urec_wrap_roll(struct store_urec *u, uint32_t now);
/* ... and a snapshot's bytes restored into an entry (from_last: its
 * last_seen in the snapshot): ext[at..at+len), the coarse hour's day
 * when coarse */
void store_urec_wrap_restored(struct store_urec *u, size_t at, size_t len,
			      bool coarse, uint32_t from_last);
/* The longest span a refusal count can be current for: a rule's block_for
 * at most (cfg.c), and a day for the session it was counted in. */
#define STORE_STRIKE_SPAN_MAX (31u * STORE_DAY_S)
/* store_user.c: a known login's entry, its stripe locked (the caller
 * unlocks &st->users, *stripe) */
int store_urec_lock(STORE *st, const char *login, uint32_t now,
		    struct store_urec **u, unsigned *stripe);
/* store_strikes.c: forget a login's refusal count (under its lock);
 * clear it if it is over at an observation at now, the login last seen
 * at last */
void store_urec_strikes_clear(struct store_urec *u);
void store_urec_strikes_roll(struct store_urec *u, uint32_t last,
			     uint32_t now);

struct store_crec {
    struct store_link l;
    uint8_t ip[16];
    struct store_block block;
    struct store_win win;
    struct store_flogin logins[STORE_CLIENT_LOGINS];
    uint32_t vouched;		/* STORE_OBS_VOUCH: last time, 0: never */
    uint16_t vouch_days, vouch_day;	/* distinct days vouched, the last */
};

/* A table as this process sees it: pointers derived from the geometry. */
struct store_tab {
    struct store_stripe *stripes;
    unsigned char *slots;
    uint32_t cap, stride;
    size_t koff, klen;		/* key bytes inside a slot */
    size_t block_off;		/* struct store_block inside a slot */
    int is_user;
    /* entries evicted only when no other can be (store_table.c), or
     * NULL: the site's in the client table (store_client_kept) */
    int (*kept)(const void *slot);
};

struct store {
    unsigned char *base;
    size_t size;
    int fd;
    unsigned flags;
    dev_t dev;
    ino_t ino;
    struct store_hdr *hdr;
    struct store_tab users, clients;
    uint8_t key[STORE_KEY_LEN];	/* validated copy */
    uint32_t max_users, max_clients, ips_per_user;
    uint32_t version;		/* the mapped file's format (a salvaged source
				 * may be STORE_VERSION_7) */
    uint32_t lock_timeout_ms;
    uint64_t lock_ref;		/* a fresh mutex's type words */
    char *path;
    struct store_open_info info;	/* what the open found and did */
    /* read-only handles (store_ro.c) */
    struct store_hdr *ro_hdr;	/* copy of the header page (STORE_HDR_SIZE
				 * bytes), counters included */
    uint64_t ro_skipped;	/* entries a walk skipped: stripe busy */
};

/* store.c */
uint32_t store_abi(void);
uint32_t store_abi_of(uint32_t version);	/* STORE_VERSION or _7 */
uint32_t store_user_stride_of(uint32_t version, uint32_t ips_per_user);
int store_geom_make(uint32_t max, uint32_t stride, uint64_t *off,
		    struct store_geom *g);
uint32_t store_user_stride(uint32_t ips_per_user);
void store_stat_add(uint64_t *ctr, uint64_t n);

/* store_key.c */
uint64_t store_siphash(const uint8_t key[STORE_KEY_LEN], const void *data,
		       size_t len);
uint64_t store_siphash24(const uint8_t key[STORE_KEY_LEN], const void *data,
			 size_t len);
size_t store_login_key(const STORE *st, const char *login,
		       char out[STORE_LOGIN_MAX]);
uint64_t store_login_ref(const STORE *st, const char *login,
			 char out[STORE_LOGIN_MAX], size_t *len);
uint64_t store_hash_addr(const STORE *st, const struct addr *a);
void store_copy_text(char *dst, size_t size, const char *src);

/* store_table.c */
static inline unsigned store_stripe_of(uint64_t h)
{
    return (unsigned) (h & (STORE_STRIPES - 1));
}

static inline void *store_slot(const struct store_tab *t, unsigned s,
			       uint32_t idx)
{
    if (idx == 0 || idx > t->cap)
	return NULL;
    return t->slots + ((size_t) s * t->cap + (idx - 1)) * t->stride;
}

/* store_home - the home slot of a hash in its stripe: 1..cap, from hash
 * bits independent of the stripe (bits 0-5) and the tag (bits 48-63) */
static inline uint32_t store_home(const struct store_tab *t, uint64_t h)
{
    return 1 + (uint32_t) (((h >> 6 & UINT32_MAX) * (uint64_t) t->cap) >> 32);
}

/* store_lock.c */
int store_lock(STORE *st, struct store_tab *t, unsigned s);
void store_unlock(struct store_tab *t, unsigned s);
int store_mutex_init(pthread_mutex_t *m);
uint64_t store_lock_reference(void);
int store_lk_attach(int fd);
void store_lk_detach(int fd);
int store_lk_others(int fd);
int store_locks_renew(STORE *st);
void store_locks_validate(STORE *st);

/* store_migrate.c */
int store_migrate(STORE *dst, STORE *src, int valid, uint32_t now,
		  struct store_open_info *info);

/* store_table.c */
int store_find(STORE *st, struct store_tab *t, unsigned s, uint64_t h,
	       const void *key, uint32_t *idx);
int store_insert(STORE *st, struct store_tab *t, unsigned s, uint64_t h,
		 const void *key, uint32_t now, uint32_t *idx);
int store_touch(STORE *st, struct store_tab *t, unsigned s, uint32_t idx);
int store_remove(STORE *st, struct store_tab *t, unsigned s, uint32_t idx);
int store_stripe_check(const STORE *st, const struct store_tab *t,
		       unsigned s);
void store_stripe_repair(STORE *st, struct store_tab *t, unsigned s);
uint32_t store_stripe_count(const struct store_tab *t, unsigned s);
int store_block_active(const struct store_block *b, uint32_t now);
void store_block_copy(struct store_block *dst, const struct store_block *src,
		      uint32_t now);
int store_block_set(struct store_block *dst, const struct store_block *src,
		    uint32_t now);

/* store_table.c: whole operations on one entry or table, for the typed
 * modules (store_user.c, store_client.c); each takes its stripe locks. */
#define STORE_ENTRY_ADD		1	/* insert a key not found */
#define STORE_ENTRY_TOUCH	2	/* mark a key found most recently seen */
#define STORE_ENTRY_UNSEEN	4	/* an inserted key is not seen yet: first
					 * and last seen 0 (an admin's block
					 * before the login or address came) */

enum store_act { STORE_ACT_GET, STORE_ACT_BLOCK, STORE_ACT_UNBLOCK,
    STORE_ACT_RESET };

/* A typed module's copy of a slot into its caller's view. */
typedef void (*store_copy_fn) (const STORE *st, const void *slot,
			       uint32_t now, void *out);

int store_entry_lock(STORE *st, struct store_tab *t, uint64_t h,
		     const void *key, unsigned how, uint32_t now,
		     uint32_t *idx);
int store_entry_op(STORE *st, struct store_tab *t, uint64_t h,
		   const void *key, enum store_act act,
		   const struct store_block *b, uint32_t now,
		   store_copy_fn copy, void *out);
int store_entry_each(STORE *st, struct store_tab *t, unsigned batch,
		     int (*visit)(const void *slot, void *arg), void *arg);

/* store_ro.c: lock-free reads for read-only handles (relayguardctl) */
#define STORE_SLOT_MAX 4096	/* bytes: the widest slot, for copies */
int store_ro_attach(STORE *st);
void store_ro_detach(STORE *st);
int store_ro_get(STORE *st, struct store_tab *t, uint64_t h, const void *key,
		 uint32_t now, store_copy_fn copy, void *out);
int store_ro_each(STORE *st, struct store_tab *t, unsigned batch,
		  int (*visit)(const void *slot, void *arg), void *arg);
int store_ro_header(STORE *st);
int store_ro_fill(const STORE *st, uint32_t *users, uint32_t *clients);

/* store_seq_begin - a stripe's lock holder starts writing: make the
 * sequence odd (it already is when the previous holder died mid-write) */
static inline void store_seq_begin(struct store_stripe *sp)
{
    uint32_t v = __atomic_load_n(&sp->seq, __ATOMIC_RELAXED);

    __atomic_store_n(&sp->seq, v | 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

/* store_seq_end - the writes are done: the next even sequence */
static inline void store_seq_end(struct store_stripe *sp)
{
    uint32_t v = __atomic_load_n(&sp->seq, __ATOMIC_RELAXED);

    __atomic_store_n(&sp->seq, (v | 1) + 1, __ATOMIC_RELEASE);
}

/* store_user.c, store_client.c: copy a slot out */
void store_user_copy(const STORE *st, const struct store_urec *r,
		     uint32_t now, struct store_user *out);
/* store_user.c: a snapshot's spare state (usual day, coarse hour, home
 * place's time, ext), each part into an entry without one */
void store_urec_restore_spare(struct store_urec *u,
			      const struct store_user *from);
void store_client_copy(const struct store_crec *r, uint32_t now,
		       struct store_client *out);
/* store_client_kept - is a live client slot one of the site's entries
 * (networks, places), which eviction keeps while others can go? */
int store_client_kept(const void *slot);

/* store_win.c: the part of store_win_add that acts on the live slot */
void store_win_roll(struct store_win *w, uint32_t now);
void store_held_take(struct store_win *w, const struct store_held *h);
/* store_give_back - the give-back of store_user_give_back and
 * store_client_give_back on table t: key (NULL: not a valid one, EARG)
 * with hash h, its windows at win_off in the slot; held is emptied unless
 * the entry could not be locked (the caller may try again). */
int store_give_back(STORE *st, struct store_tab *t, uint64_t h,
		    const void *key, size_t win_off, struct store_held *held,
		    uint32_t now);

/* store_link_seen - an entry seen at now: last_seen never moves back;
 * an entry created unseen (STORE_ENTRY_UNSEEN) is first seen now */
static inline void store_link_seen(struct store_link *l, uint32_t now)
{
    if (l->first_seen == 0)
	l->first_seen = now;
    if (now > l->last_seen)
	l->last_seen = now;
}

/* store_count_locked - the locked part of store_user_count and
 * store_client_count: note the time, count d, note it in held, copy the
 * windows out. Inline: it is the hot path of every counted message. */
static inline void store_count_locked(struct store_link *l, struct store_win *w,
				      const struct store_span *d, uint32_t now,
				      struct store_held *held,
				      struct store_win *copy)
{
    store_link_seen(l, now);
    store_win_add(w, now, d->msgs, d->rcpts, d->bytes);
    store_held_note(held, l->first_seen, now, d->msgs, d->rcpts, d->bytes);
    if (copy != NULL)
	*copy = *w;
}

#endif
