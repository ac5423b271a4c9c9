/*
 * store - the shared-memory live state: per SASL user and per client IP.
 *
 * A mapped file shared by the milter's threads, several milter processes
 * and relayguardctl. Offsets, never pointers; a versioned header checked
 * as untrusted input on attach; striped robust process-shared mutexes
 * with bounded waits; a keyed hash; fixed capacity with eviction of the
 * least recently seen among a sample of the stripe (blocked entries are
 * kept until their block expires).
 *
 * Every call takes the current time ("now", seconds since the epoch) as
 * an argument: the store never reads a clock, so tests replay days in
 * milliseconds. Callers get copies ("views"), never pointers into the map.
 * Functions return enum store_status (0 is STORE_OK) and fill err where
 * they take one; they never log.
 *
 * Details callers rely on (implementation: store*.c):
 * - capacity is per stripe (64 stripes, ceil(max / 64) entries each): a
 *   new entry evicts the least recently seen unblocked entry of its own
 *   stripe once that stripe is full (the site's networks and places
 *   only when no client can go); STORE_FULL if all of them are
 *   blocked. Evictions are counted (store_get_stats), the site's apart.
 * - an *_update takes out == NULL when the caller needs no copy. In a
 *   copy only ips[0..nips-1] and logins[0..nlogins-1] are written.
 * - a block is in force while now < until; an expired one reads as no
 *   block and is cleared lazily. *_block creates an unknown entry and
 *   takes STORE_EARG for a block already over; *_get/_unblock/_reset
 *   give STORE_NOTFOUND for an unknown one.
 * - *_each stops when fn returns nonzero and still returns STORE_OK; it
 *   returns a status only for its own failures (lock timeout, memory).
 * - lock_timeout_ms == 0 means 50 ms.
 * - STORE_READONLY (relayguardctl's reading commands, any user who may
 *   read the file): the file is opened O_RDONLY and mapped PROT_READ; no
 *   lock is taken and nothing is written (a robust mutex keeps list
 *   pointers in the file, which its owner can rewrite). Gets and walks
 *   copy under the stripes' write sequence (store_ro.c); an entry whose
 *   stripe stays busy for lock_timeout_ms is STORE_TIMEOUT for a get and
 *   skipped by a walk (store_skipped counts them). Modifying calls
 *   return STORE_EARG. A file that shrinks under such a handle gives
 *   STORE_ESHRUNK, never SIGBUS (the handle catches the fault).
 * - units a transaction counts (an observation's or store_*_count's) are
 *   noted in the caller's struct store_held when it passes one, and
 *   store_*_give_back takes exactly those back out of the buckets they
 *   went into (store_win.c says what happens once a ring moved on); an
 *   entry reset or evicted since is left alone.
 * - store_win_sum: see store_win.c for the interpolation; windows up to
 *   15 minutes use the minute ring, longer ones (up to a day) and bytes
 *   the hour ring.
 */
#ifndef RG_STORE_H
#define RG_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

#define STORE_LOGIN_MAX 48	/* normalised login incl. NUL */
#define STORE_QID_MAX 16	/* queue id incl. NUL */
#define STORE_QIDS 3		/* recent queue ids kept per user */
#define STORE_REASON_MAX 20	/* block reason incl. NUL */
#define STORE_COUNTRIES 6	/* countries tracked for the baseline */
#define STORE_NETS 8		/* networks tracked per login (familiar places) */
#define STORE_IPS_MAX 64	/* upper bound of state.ips_per_user */
#define STORE_CLIENT_LOGINS 32	/* distinct logins tracked per client IP */
#define STORE_MIN_BUCKETS 15	/* one-minute buckets */
#define STORE_HOUR_BUCKETS 25	/* one-hour buckets: a day and the current */
#define STORE_BYTES_UNIT 4096	/* hour buckets count bytes in this unit */

/* Per-login spare state of format 8 (store_urec.ext, copied whole into
 * struct store_user.ext and kept by snapshots). Each range has one owner,
 * who alone gives its bytes a meaning; 0 everywhere is "not learned"
 * (what a login carried over from format 7 reads). */
#define STORE_EXT_LEN	32
/* In use (offsets in store_int.h): ext[0..9] the known hubs
 * (store_carrier.c), ext[10..12] the busiest day as it stood before
 * today (store_prior_day.c), ext[13..14] the network taken up again
 * today (store_revisit.c), ext[15..18] a rule's refusals counted for
 * its block_after (store_strikes.c), ext[19..21] the prior usual
 * recipients hour (store_prior.c), ext[22..26] the webmail hour
 * (store_relay.c), ext[27..28] the hour of the last bulk message let
 * through (store_bulk.c), ext[29..30] the latest day the login had mail
 * refused at a place not its own, and that place's network
 * (store_stopday.c), ext[31] the coarse addresses its list dropped
 * within the hour (store_carrier.c). None is free. The day bytes among them
 * (ext[12], [13], [21], [29]) name the latest day up to the login's last_seen
 * with their low byte, rolled by every observation (store_wrap.c). A
 * snapshot's restore fills each owner's range on its own (store_user.c
 * ext_owners): a new owner adds its row there. */
#define STORE_EXT_JUDGE	0	/* ext[0..11] */
#define STORE_EXT_JUDGE2 12	/* ext[12..21] */
#define STORE_EXT_JUDGE3 22	/* ext[22..31] */

enum store_status {
    STORE_OK = 0,
    STORE_NOTFOUND,		/* no such entry */
    STORE_TIMEOUT,		/* lock wait exceeded the budget */
    STORE_FULL,			/* no entry could be evicted (all blocked) */
    STORE_EIO,			/* open/mmap/ftruncate failed */
    STORE_EFORMAT,		/* header invalid: magic, version, sizes */
    STORE_EARG,			/* bad argument */
    STORE_ESHRUNK,		/* read-only handle: the file shrank under it */
};

/* store_open flags */
#define STORE_CREATE	1	/* create the file if absent */
#define STORE_RECREATE	2	/* replace a file whose header is invalid or
				 * whose capacities differ, carrying its
				 * entries over (store_open_info says how) */
#define STORE_READONLY	4	/* never modify (relayguardctl read paths) */
#define STORE_OWNED	8	/* attach only a file the caller's euid owns */

struct store_params {
    const char *path;
    uint32_t max_users;		/* 0 with no CREATE: take the file's */
    uint32_t max_clients;
    uint32_t ips_per_user;	/* 1..STORE_IPS_MAX */
    uint32_t lock_timeout_ms;	/* bounded wait for a stripe */
    unsigned flags;
    mode_t mode;		/* file mode when created */
    uint32_t now;		/* for carrying entries over: which blocks
				 * are live (0: every block counts) */
    const struct store *prev;	/* this process's handle on the same file,
				 * if any (a reload): not counted as
				 * another user of the file */
};

/* What store_open found and did (store_open_info): the store never logs,
 * its caller says this once. */
enum store_opened {
    STORE_OPENED_ATTACHED,	/* a valid file, as configured */
    STORE_OPENED_CREATED,	/* there was none */
    STORE_OPENED_REPLACED,	/* invalid (why): entries salvaged into a new one */
    STORE_OPENED_RESIZED,	/* other capacities: entries moved to a new one */
    STORE_OPENED_KEPT,		/* other capacities, but other processes use
				 * it: attached as it is (old_* capacities) */
};

/* Entries carried from the old file into the new one. */
struct store_carry {
    uint32_t kept, lost;	/* entries */
    uint32_t blocks_kept, blocks_lost;	/* of them, with a live block */
};

struct store_open_info {
    enum store_opened how;
    struct store_carry users, clients;
    uint32_t old_users, old_clients, old_ips;	/* the file found */
    int readable;		/* REPLACED: could its entries be read? */
    char why[200];		/* REPLACED: what was wrong with it */
};

struct cfg_state;		/* cfg.h: the configuration's state section */

/* Where an IP is: from GeoIP at observation time. */
struct store_geo {
    char cc[3];			/* ISO country, "" if unknown */
    uint32_t asn;		/* 0 if unknown */
    int16_t lat_c, lon_c;	/* centidegrees */
    uint16_t acc_km;		/* accuracy radius */
    uint8_t has_loc;
};

/* A day: day numbers are now / STORE_DAY_S (UTC days), and the rolling
 * day of the windows and the volume rules is this long. */
#define STORE_DAY_S 86400u

/* One of a user's addresses: 40 bytes, the same in the file and in a
 * copy, so a copy of the list is one memcpy. cc is two letters without a
 * NUL (zeros if unknown: read it with store_ip_cc); bits a country's
 * capital letters never use (0x20 and 0x80 of each byte) keep the
 * address's accuracy radius class and its anchor mark (store_ip_radius,
 * store_ip_anchor): a file written before has them clear, which reads as
 * "radius unknown, no anchor". No location is STORE_NO_LOC
 * in lat_c. day_msgs counts
 * the observations of the day (now / 86400) of last_seen in [0] and of
 * the day before in [1], so a day's count slides (store_ip_recent). */
struct store_ip {
    struct addr ip;
    uint32_t first_seen, last_seen;
    uint32_t asn;		/* 0 if unknown */
    int16_t lat_c, lon_c;	/* centidegrees */
    char cc[2];			/* ISO country, upper case */
    uint16_t count;		/* observations, saturating at 65535 */
    uint16_t day_msgs[2];	/* observations on last_seen's day, the day before */
};

/* Observations of an address within the last w seconds (w up to a day):
 * every one when it was first seen within w, else from its per-day
 * counts: the current day's whole, the day before's pro rata of the part
 * of the window it covers; in STORE_IP_PARTS parts of
 * an observation, so that a sum over addresses is rounded once (a
 * hundred addresses seen once yesterday morning are not zero). */
#define STORE_IP_PARTS 86400u
uint64_t store_ip_recent(const struct store_ip *ip, uint32_t now, uint32_t w);

#define STORE_NO_LOC	INT16_MIN	/* store_ip.lat_c: no location */

/* An address's country as text: "" unless two letters. */
void store_ip_cc(const struct store_ip *ip, char out[3]);
/* An address's accuracy radius in km as stored: the upper end of its
 * class (10, 20, 50, 99, 200, 500, 1000), 0 if unknown (no location, or
 * stored before radii were kept). */
uint32_t store_ip_radius(const struct store_ip *ip);
/* Is the address an anchor: a message from it was let through while it
 * was a familiar place of the login (STORE_OBS_ANCHOR)? */
int store_ip_anchor(const struct store_ip *ip);
/* STORE_POOL_PREFIXES - a network from which the login had addresses in
 * this many /24s (/48s) of one family is a carrier's pool: a phone gets
 * a new address a connection, anywhere in the carrier's ranges; a home
 * line one a day, in the few /24s of its ISP in its town (two in
 * tests/sim) */
#define STORE_POOL_PREFIXES 3
/* Does the list ips (n of them) hold anchors in STORE_POOL_PREFIXES /24s
 * (/48s) of a's network and family: a's network a carrier's pool? */
bool store_ip_pool(const struct store_ip *ips, uint32_t n,
		   const struct store_ip *a);
/* ... or two anchors of a's network (either family) first seen on one
 * day (a phone's new address a connection; a home line's one a day)? */
bool store_ip_phone(const struct store_ip *ips, uint32_t n,
		    const struct store_ip *a);
#define STORE_COUNT_MAX	UINT16_MAX	/* store_ip.count saturates here */

/* Sliding windows: minute and hour rings with interpolated edges. */
struct store_win {
    uint32_t min_epoch;		/* minute number of the newest minute bucket */
    uint32_t hour_epoch;	/* hour number of the newest hour bucket */
    uint16_t m_msgs[STORE_MIN_BUCKETS], m_rcpts[STORE_MIN_BUCKETS];
    uint16_t h_msgs[STORE_HOUR_BUCKETS], h_rcpts[STORE_HOUR_BUCKETS];
    uint16_t h_bytes[STORE_HOUR_BUCKETS];	/* in STORE_BYTES_UNIT */
};

enum store_counter { STORE_MSGS, STORE_RCPTS, STORE_BYTES };

/* What one transaction counted in one entry's windows, by the minute it
 * went in, so that a refused or aborted transaction can give it back
 * into the buckets it went into (store_*_give_back). born is the entry's
 * first_seen when the units were counted: an entry reset or evicted and
 * made anew since holds none of them. A transaction spanning more than
 * STORE_HELD_SPANS minutes notes the rest in its last span. */
#define STORE_HELD_SPANS 4
struct store_span {
    uint32_t t;			/* a time inside the minute counted in */
    uint32_t msgs, rcpts;
    uint64_t bytes;
};

struct store_held {
    uint32_t born;		/* the entry's first_seen; 0: nothing held */
    uint32_t n;			/* spans used */
    struct store_span span[STORE_HELD_SPANS];
};

enum store_setby { STORE_BY_NONE, STORE_BY_RULE, STORE_BY_ADMIN };

/* A block: 32 bytes (a user slot has no byte to spare). A rule's block
 * names its rule by identity, never by position, so a reordered or
 * shortened rule list does not relabel it: rule_id is cfg_rule_id() of
 * the rule's whole name and reason its name, cut to fit; the two resolve
 * it against a configuration (cfg_rule_by_id). A would-be block
 * (STORE_BLOCK_WOULD) is what dry run decided: kept and shown, never
 * enforced, and a real block replaces it. */
struct store_block {
    uint32_t until;		/* 0: not blocked; blocked while now < until */
    uint8_t action;		/* enum action of rules.h */
    uint8_t setby;		/* enum store_setby */
    uint8_t flags;		/* STORE_BLOCK_* */
    uint8_t pad;
    uint32_t rule_id;		/* set by a rule: cfg_rule_id(name); else 0 */
    char reason[STORE_REASON_MAX];	/* by a rule: its name, cut */
};

#define STORE_BLOCK_WOULD 1	/* decided in dry run: never enforced */
#define STORE_BLOCK_FIRST 2	/* a rule's block before its block_after'th
				 * refusal: for the rule's window only */
#define STORE_BLOCK_COARSE 4	/* set at a coarse place (a carrier's pool,
				 * a VPN exit): says nothing of a home line */
#define STORE_BLOCK_FLAGS (STORE_BLOCK_WOULD | STORE_BLOCK_FIRST \
			   | STORE_BLOCK_COARSE)

/* 1 if b is a block to enforce at now: in force and not a would-be one. */
int store_block_enforced(const struct store_block *b, uint32_t now);

struct store_place {
    uint32_t time;		/* 0: none yet */
    int16_t lat_c, lon_c;
    uint16_t acc_km;
};

struct store_country {
    char cc[3];
    uint16_t days;		/* distinct days seen */
    uint16_t first_day, last_day;	/* day numbers (now / 86400) */
};

/* A network a login used: its AS number, or its /24 (/48) when GeoIP
 * names no AS (store_net_key), learned like the countries: the days it
 * was seen on, from messages let through. A new one replaces the one
 * last seen longest ago. */
struct store_net {
    uint64_t key;		/* store_net_key(); 0: unused slot */
    uint16_t days;		/* distinct days seen */
    uint16_t first_day, last_day;	/* day numbers (now / 86400) */
};

#define STORE_NET_PREFIX (UINT64_C(1) << 32)	/* key: a prefix, not an AS */

/* The key of a network: the AS number when known, else the address's
 * /24 (IPv6: its /48 folded to 32 bits) with STORE_NET_PREFIX set. */
uint64_t store_net_key(const struct addr *ip, uint32_t asn);

/* A consistent copy of one user entry. */
struct store_user {
    char login[STORE_LOGIN_MAX];
    uint32_t first_seen, last_seen;
    struct store_block block;
    struct store_place last_login;	/* place of the latest located login */
    struct store_place prev_login;	/* in update results: before this one */
    struct store_country countries[STORE_COUNTRIES];
    struct store_net nets[STORE_NETS];
    /* The busiest hour (messages, recipients) seen from a familiar place
     * (STORE_OBS_LEARN_VOLUME), the login's own volume baseline. */
    uint16_t usual_msgs, usual_rcpts;
    /* The busiest rolling day's messages seen likewise; 0: not learned
     * (a login from before it was kept, or none yet). */
    uint16_t usual_day;
    /* The busiest hour of messages from coarse addresses of its own
     * networks (a phone's carrier pool); 0: not learned (store_carrier.c). */
    uint8_t usual_coarse;
    /* The last time a message was let through from the login's home
     * place (STORE_OBS_HOME); 0: never (or a file from before it). */
    uint32_t home_seen;
    /* The low byte of the day number the usual coarse hour last rose on
     * (store_carrier.c); kept so a snapshot carries it. It names the
     * latest such day up to last_seen (store_wrap.c). */
    uint8_t coarse_day;
    uint8_t ext[STORE_EXT_LEN];	/* spare state, owners above */
    char qids[STORE_QIDS][STORE_QID_MAX];	/* newest first */
    struct store_win win;
    uint32_t nips;
    struct store_ip ips[STORE_IPS_MAX];	/* most recently seen first */
};

/* A login seen from a client: its keyed hash and when (the entry's and
 * the copy's form alike). */
struct store_flogin {
    uint32_t hash;		/* keyed hash of the login */
    uint32_t last_seen;
};

/* A consistent copy of one client entry. */
struct store_client {
    struct addr ip;
    uint32_t first_seen, last_seen;
    struct store_block block;
    struct store_win win;
    /* The last time a login came from this address from a familiar
     * place of its own (STORE_OBS_VOUCH): the site knows the address
     * (a corporate VPN exit, an office NAT). 0: never. */
    uint32_t vouched;
    uint16_t vouch_days;	/* distinct days (now / 86400) vouched on */
    uint16_t vouch_day;		/* the last of them */
    uint32_t nlogins;
    struct store_flogin logins[STORE_CLIENT_LOGINS];
};

/* What the end of a message teaches the login's carrier state
 * (store_carrier.c): count may raise its usual coarse hour (at once
 * while learning), hub (0: none) joins its known hubs. */
struct store_coarse_note {
    uint16_t hub;
    uint32_t count;
    bool learning;
};

/* One observation of a user (at MAIL FROM: msgs = rcpts = bytes = 0). */
struct store_user_obs {
    const char *login;
    struct addr ip;
    struct store_geo geo;
    uint32_t msgs, rcpts;
    uint64_t bytes;
    const char *qid;		/* NULL or "" if none yet */
    unsigned flags;		/* STORE_OBS_* */
    struct store_held *held;	/* NULL, or where the units counted are noted */
    /* NULL, or (with a copy out) the same update's carrier note: called
     * with the copy as observed, under the entry's lock, so it must be
     * pure (no I/O, no locks, no clock); when it returns true its note
     * is applied to the entry and the copy. The end of a message learns
     * the usual coarse hour this way instead of a second lock after. */
    bool (*coarse)(const struct store_user *u, const void *arg,
		   struct store_coarse_note *note);
    const void *coarse_arg;
    /* policy.coarse_km: an address located to better than this is a line
     * (store_revisit.c; a full address list keeps its fine anchors,
     * store_user.c ip_victim); 0 notes no network taken up again and
     * keeps none */
    uint32_t line_km;
    /* policy.familiar_days: a network with fewer days does not count a
     * day with refusals there (store_stopday.c); 0 counts every day */
    uint32_t familiar_days;
};

/* Observation flags: COUNT_ONLY adds to the windows (and the queue ids)
 * without touching the address list or the logins seen, so the end of a
 * message does not count its client address a second time. */
#define STORE_OBS_COUNT_ONLY 1
/* The country baseline learns only from what the caller vouches for:
 * NO_LEARN records the address and its place but not the country in the
 * baseline; LEARN with COUNT_ONLY adds obs->geo.cc to the baseline (the
 * engine does this at the end of an accepted message, so a refused botnet
 * does not teach a login its countries). */
#define STORE_OBS_NO_LEARN 2
#define STORE_OBS_LEARN 4
/* LEARN also learns the network (obs->ip, obs->geo.asn) as a place of
 * this login. LEARN_VOLUME (the engine: the message came from a familiar
 * place) raises the usual busiest hour to the last hour's counts. */
#define STORE_OBS_LEARN_VOLUME 8
/* A client observation whose login comes from a familiar place of its
 * own: the client's vouched time becomes now. */
#define STORE_OBS_VOUCH 16
/* With LEARN and COUNT_ONLY: the observed address becomes an anchor of
 * the login (store_ip_anchor), a place it is known to send from. */
#define STORE_OBS_ANCHOR 32
/* With LEARN and COUNT_ONLY: the message came from the login's home
 * place (metrics_home.c): its home_seen becomes now. */
#define STORE_OBS_HOME 64
/* A session through a trusted relay (the site's webmail): with msgs, the
 * message counts in the login's relayed messages of the last hour; at
 * the end of a message let through (msgs 0), the hour may become the
 * day's busiest relayed one (store_relay.c). */
#define STORE_OBS_RELAYED 128
/* With LEARN and COUNT_ONLY: a bulk message (metrics_bulk.c) was let
 * through: its hour is noted (store_bulk.c). */
#define STORE_OBS_BULK 256

struct store_client_obs {
    struct addr ip;
    const char *login;		/* NULL when unauthenticated */
    uint32_t msgs, rcpts;
    uint64_t bytes;
    unsigned flags;		/* STORE_OBS_* */
    struct store_held *held;	/* NULL, or where the units counted are noted */
};

struct store_stats {
    uint32_t users, max_users, clients, max_clients, ips_per_user;
    uint64_t evictions, lock_timeouts, owner_dead_recoveries;
    uint64_t site_evictions;	/* of evictions, the site's entries */
    uint64_t generation;	/* 1 for a new file, +1 per replacement */
    size_t file_size, user_stride, client_stride;
    uint64_t stripe_resets;	/* stripes cleared: damaged or crashed */
    size_t user_bytes;		/* file bytes per user slot, index included */
};

typedef struct store STORE;	/* opaque handle */

int store_open(const struct store_params *p, STORE **out, char *err,
	       size_t errlen);

/* Open parameters as configured (path, capacities, lock timeout), with the
 * caller's flags and file mode; a caller may then point path elsewhere. */
void store_params_from_cfg(const struct cfg_state *s, unsigned flags,
			   mode_t mode, struct store_params *out);
void store_close(STORE *st);
void store_open_info(const STORE *st, struct store_open_info *out);

/* out: STORE_LOGIN_MAX bytes. st may be NULL (long logins then get an
 * unkeyed hash suffix, so pass the handle when comparing with the store). */
void store_normalize_login(const STORE *st, const char *login, char *out);

/* The keyed hash kept in struct store_client logins[].hash. */
uint32_t store_login_hash32(const STORE *st, const char *login);

/* 1 if the state file is on a tmpfs that gives it 2 MiB pages, 0 if not,
 * -1 if that cannot be told; mountinfo: "/proc/self/mountinfo". */
int store_huge_pages(const STORE *st, const char *mountinfo);

/* 1 if the path no longer names the attached file (replaced by another
 * process's STORE_RECREATE, or removed): close and open again. */
int store_stale(const STORE *st);

/* Apply an observation (creating the entry) and copy the result out. */
/* An accepted message from a coarse address of the login's own network,
 * count such messages in the last hour: raise its usual coarse hour, at
 * once while learning, else by one a day (store_carrier.c). */
int store_user_coarse_learn(STORE *st, const char *login, uint32_t count,
			    bool learning, uint32_t now);
/* The same, and note the address's hub (store_hub_tag; 0: none) in the
 * login's known hubs (store_carrier.c), in one update. */
int store_user_coarse_note(STORE *st, const char *login, uint16_t hub,
			   uint32_t count, bool learning, uint32_t now);
/* Addresses located no finer than coarse_km that a copy's address list
 * dropped while last seen within the hour, in the last 30 to 60 minutes
 * before now (store_carrier.c, ext[31]). */
uint32_t store_user_coarse_gone(const struct store_user *u, uint32_t now);
/* A hub of a carrier's pool as noted: its network (store_net_key) and
 * its place, never 0. */
uint16_t store_hub_tag(uint64_t net, int16_t lat_c, int16_t lon_c);
/* Was the hub noted for the login on a day before now's? */
bool store_user_hub_known(const struct store_user *u, uint16_t hub,
			  uint32_t now);
/* The login's one hub noted on an earlier day, if it has exactly one
 * and its hubs never filled the list (0: none, several, or full). */
uint16_t store_user_sole_hub(const struct store_user *u, uint32_t now);
int store_user_update(STORE *st, const struct store_user_obs *obs,
		      uint32_t now, struct store_user *out);

/* Was the network (store_net_key) taken up again today after a day or
 * more without it (store_revisit.c)? */
bool store_user_revisited(const struct store_user *u, uint64_t key,
			  uint32_t now);
/* A message of the login was refused at now at a place not its own, of
 * the network key (store_net_key); was the latest such day today or later
 * than day, at that network (store_stopday.c)? */
int store_user_stopped(STORE *st, const char *login, uint64_t key,
		       uint32_t now);
bool store_user_stopped_since(const struct store_user *u, uint64_t key,
			      uint32_t day);
/* A message of the login from its home place was refused at now by the
 * login's block: the owner was at home then (home_seen, store_user.c;
 * familiar_days: policy.familiar_days, for a warmed network's day). */
int store_user_home_refused(STORE *st, const char *login,
			    uint32_t familiar_days, uint32_t now);
/* The hour of the login's last bulk message let through (0: none); does
 * that hour still count in a window of w seconds at now (store_bulk.c)? */
uint16_t store_user_bulk_hour(const struct store_user *u);
bool store_bulk_within(uint16_t noted, uint32_t w, uint32_t now);
/* The login's usual recipients hour as it stood before today
 * (store_prior.c). */
uint16_t store_user_prior_rcpts(const struct store_user *u, uint32_t now);
/* The login's usual busiest day as it stood before today, 0 if not kept
 * (store_prior_day.c). */
uint16_t store_user_prior_day(const struct store_user *u, uint32_t now);
/* The login's messages through a trusted relay in the current and the
 * previous half hour at now, its last hour's as kept; its busiest such
 * hour of mail let through on the days before today (store_relay.c). */
uint32_t store_user_relayed_hour(const struct store_user *u, uint32_t now);
uint32_t store_user_relayed_usual(const struct store_user *u, uint32_t now);
/* ... and today's busiest so far, which becomes part of the usual on a
 * later day (relayguardctl show). */
uint32_t store_user_relayed_today(const struct store_user *u, uint32_t now);
/* The resolution of a first refusal's time (store_user_strike's *first) */
#define STORE_STRIKE_MIN_S 60

/* A rule with block_after refused the login at now: its refusals within
 * window_s of the first of them (the rule's block_for), this one
 * included, into *count, and the start of the first one's minute into
 * *first; at after of them the count starts again (the block is due).
 * The count as a copy holds it (store_strikes.c). */
int store_user_strike(STORE *st, const char *login, uint32_t rule_id,
		      uint32_t window_s, unsigned after, uint32_t now,
		      unsigned *count, uint32_t *first);
unsigned store_user_strikes(const struct store_user *u, uint32_t rule_id,
			    uint32_t window_s, uint32_t now);

int store_user_get(STORE *st, const char *login, uint32_t now,
		   struct store_user *out);
/* The entry of an address in a copy's list (most recently seen first),
 * or NULL. */
const struct store_ip *store_user_ip(const struct store_user *u,
				     const struct addr *ip);
/* Count units at now (creating the entry), note them in held (may be
 * NULL) and copy the windows out (may be NULL): a recipient reserved at
 * RCPT TO. Give back what held notes, then empty it: STORE_NOTFOUND if
 * the entry is gone (nothing to give back). */
int store_user_count(STORE *st, const char *login, const struct store_span *d,
		     uint32_t now, struct store_held *held,
		     struct store_win *out);
int store_user_give_back(STORE *st, const char *login,
			 struct store_held *held, uint32_t now);
int store_user_block(STORE *st, const char *login, const struct store_block *b,
		     uint32_t now);
int store_user_unblock(STORE *st, const char *login, uint32_t now);
/* Lift the block only while it is still *was (until, setby, flags and
 * rule equal), so a walk never lifts a block set after it looked; else
 * STORE_NOTFOUND. */
int store_user_unblock_if(STORE *st, const char *login,
			  const struct store_block *was, uint32_t now);
int store_user_reset(STORE *st, const char *login, uint32_t now);

int store_client_update(STORE *st, const struct store_client_obs *obs,
			uint32_t now, struct store_client *out);
int store_client_get(STORE *st, const struct addr *ip, uint32_t now,
		     struct store_client *out);
int store_client_count(STORE *st, const struct addr *ip,
		       const struct store_span *d, uint32_t now,
		       struct store_held *held, struct store_win *out);
int store_client_give_back(STORE *st, const struct addr *ip,
			   struct store_held *held, uint32_t now);
int store_client_block(STORE *st, const struct addr *ip,
		       const struct store_block *b, uint32_t now);
int store_client_unblock(STORE *st, const struct addr *ip, uint32_t now);
int store_client_unblock_if(STORE *st, const struct addr *ip,
			    const struct store_block *was, uint32_t now);
int store_client_reset(STORE *st, const struct addr *ip, uint32_t now);

/* The site's networks: an entry per /24 (IPv4) or /48 (IPv6) that a
 * login came from from a familiar place of its own, kept in the client
 * table under a key no client can have (in 100::/64, the discard-only
 * prefix of RFC 6666), so it is bounded (evicted only when no client
 * can be: store_table.c) and walks of the clients skip it. Its logins are those that vouched for it
 * (the keyed hashes, the most recent STORE_CLIENT_LOGINS), its
 * vouch_days the days they did.
 * store_site_key: the entry's key for an address; store_site_is_key: is
 * a client key exactly one a site network's or place's is;
 * store_site_vouch: login vouches for ip's network
 * (copied out when out is not NULL); store_site_get: STORE_NOTFOUND for
 * a network never vouched for. */
void store_site_key(const struct addr *ip, struct addr *key);
/* An IPv6 client's /64: an entry whose logins are every login seen from
 * any address in it (what one customer gets: an attacker rotating its
 * addresses inside it is one shared address to users_per_ip), keyed in
 * 100:0:0:64::/64 (IETF reserved, never a client), bounded and evicted
 * like the clients, skipped by walks of the clients. store_prefix_note:
 * login came from ip (IPv6 only, else STORE_EARG), copied out when out
 * is not NULL. */
void store_prefix_key(const struct addr *ip, struct addr *key);
int store_prefix_is_key(const struct addr *key);
int store_prefix_note(STORE *st, const struct addr *ip, const char *login,
		      uint32_t now, struct store_client *out);
/* A shared egress (a carrier's CGNAT hub located finer than its
 * pool's spread): an entry per AS number and located place (centidegrees)
 * whose logins are those that came from two of its networks within a
 * day (rules_hub.c), keyed in 100:0:0:68::/64 (the AS number, latitude
 * and longitude in the low half), bounded and evicted like the clients,
 * skipped by walks of the clients and not kept by snapshots.
 * store_hub_note: login came from the place (copied out when out is not
 * NULL); store_hub_get: STORE_NOTFOUND for a place never noted;
 * STORE_EARG for AS number 0. */
void store_hub_key(uint32_t asn, int16_t lat_c, int16_t lon_c,
		   struct addr *key);
int store_hub_is_key(const struct addr *key);
int store_hub_note(STORE *st, uint32_t asn, int16_t lat_c, int16_t lon_c,
		   const char *login, uint32_t now, struct store_client *out);
int store_hub_get(STORE *st, uint32_t asn, int16_t lat_c, int16_t lon_c,
		  uint32_t now, struct store_client *out);
int store_site_is_key(const struct addr *key);
int store_site_vouch(STORE *st, const struct addr *ip, const char *login,
		     uint32_t now, struct store_client *out);
int store_site_get(STORE *st, const struct addr *ip, uint32_t now,
		   struct store_client *out);
/* What a vouch of login (NULL: none, a client address's vouch, whose
 * update noted the login) would make of the copy c of an entry, as
 * STORE_OBS_VOUCH and store_site_vouch make of the entry; the entry is
 * not touched (rules_vouch.c: a message is judged with its own vouch,
 * written only if it is let through). */
void store_client_vouch_copy(STORE *st, const char *login, uint32_t now,
			     struct store_client *c);
/* The site's places: an entry per AS number and per country that logins
 * came from from a familiar place of their own, kept and vouched for as
 * the site's networks are (keys in 100::/64 as theirs, skipped by walks
 * of the clients); what a login with no history is judged against
 * (metrics_newcomer.c). store_site_place: vouch (login vouches, as
 * store_site_vouch) or only read (STORE_NOTFOUND for a place never
 * vouched for); id is the AS number or the country's two letters
 * (store_site_cc); STORE_EARG for an id no place has (0, a country not
 * of two capital letters). */
enum store_site_kind { STORE_SITE_AS, STORE_SITE_CC };
static inline uint32_t store_site_cc(const char *cc)
{
    return (uint32_t) (uint8_t) cc[0] << 8 | (uint8_t) cc[1];
}
void store_site_place_key(enum store_site_kind kind, uint32_t id,
			  struct addr *key);
int store_site_place(STORE *st, enum store_site_kind kind, uint32_t id,
		     const char *login, bool vouch, uint32_t now,
		     struct store_client *out);
/* What a site entry's key names (relayguardctl sites): a network (net;
 * ip its first address, bits 24 or 48) or a place (kind, id).
 * STORE_EARG for a key that is no site entry's. */
struct store_site_ref {
    bool net;
    struct addr ip;
    unsigned bits;
    enum store_site_kind kind;
    uint32_t id;
};
int store_site_ref(const struct addr *key, struct store_site_ref *out);

/* Put back what a snapshot kept (policy/snapshot.c): the earlier first
 * seen, learned countries (and networks, and the usual volume) into an
 * entry without any, a block in force where none is; the entry is
 * created if unknown. A client whose ip is a site entry's key (a site
 * network or place) also gets its logins, vouched time and days back
 * when it has none. */
int store_user_restore(STORE *st, const struct store_user *u, uint32_t now);
int store_client_restore(STORE *st, const struct store_client *c,
			 uint32_t now);

/* Walk all entries (copies, one stripe locked at a time); stop on nonzero. */
typedef int (*store_user_fn) (const struct store_user *u, void *ctx);
typedef int (*store_client_fn) (const struct store_client *c, void *ctx);
int store_user_each(STORE *st, uint32_t now, store_user_fn fn, void *ctx);
int store_client_each(STORE *st, uint32_t now, store_client_fn fn, void *ctx);
/* ... and of every site network and place (the entries it skips). */
int store_site_each(STORE *st, uint32_t now, store_client_fn fn, void *ctx);

/* Shared counters (verdicts, events) live in the header too: indices
 * below STORE_HDR_COUNTERS in struct store_hdr, the rest in the header
 * page's spare bytes after it (store_int.h STORE_MORE_OFF). */
int store_counter_add(STORE *st, unsigned idx, uint64_t n);
int store_counter_set(STORE *st, unsigned idx, uint64_t v);
uint64_t store_counter_get(const STORE *st, unsigned idx);
#define STORE_HDR_COUNTERS 64
#define STORE_NCOUNTERS 128

/* Read-only handles read the header's counters from a copy taken at open
 * and by each store_get_stats (then STORE_ESHRUNK if the file shrank);
 * writers' handles always give STORE_OK. */
int store_get_stats(STORE *st, struct store_stats *out);

/* The time the site's state began: the first judgement's (its own
 * learning period runs from it). now != 0 sets it when not yet set and
 * returns it; now == 0 only reads it (0: not yet). A read-only handle
 * reads its copy of the header (as store_counter_get: a file cut short
 * meanwhile cannot fault) and never sets it. store_site_start_keep
 * keeps t (a restored snapshot's) when it is earlier or none is set. */
uint32_t store_site_start(STORE *st, uint32_t now);
void store_site_start_keep(STORE *st, uint32_t t);

/* Entries a read-only walk skipped because their stripe stayed busy. */
uint64_t store_skipped(const STORE *st);

/* Pure window arithmetic on a copy. */
void store_win_add(struct store_win *w, uint32_t now, uint32_t msgs,
		   uint32_t rcpts, uint64_t bytes);
uint64_t store_win_sum(const struct store_win *w, enum store_counter c,
		       uint32_t now, uint32_t window_s);
/* Take back units added at t, from t's buckets while they are still in
 * their rings (never below zero); a ring that moved past t keeps them
 * out of every window already. */
void store_win_take(struct store_win *w, uint32_t t, uint32_t msgs,
		    uint32_t rcpts, uint64_t bytes);
/* Note units counted at now in held for an entry born at born. */
void store_held_note(struct store_held *h, uint32_t born, uint32_t now,
		     uint32_t msgs, uint32_t rcpts, uint64_t bytes);

const char *store_strerror(int status);

#endif
