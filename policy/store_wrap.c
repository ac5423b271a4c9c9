/*
 * store_wrap - a login's stored days and minutes across the wrap of the
 * bytes that keep them.
 *
 * Several per-login values keep the day they belong to by the low byte
 * of its number (now / STORE_DAY_S), which comes round every 256 days:
 * the prior recipients hour (store_prior.c, ext[21]), the prior busiest
 * day (store_prior_day.c, ext[12]), the network taken up again
 * (store_revisit.c, ext[13]), the latest day of a refusal at a strange
 * place (store_stopday.c, ext[29]) and the day the usual coarse hour last rose
 * (store_carrier.c, the aux byte of nets[STORE_COARSE_DAY]). A state file
 * and its snapshots live for years: compared with today's low byte
 * alone, a login that sent nothing for exactly 256 days (or a multiple)
 * read the old value as today's (its usual hour as it stood that day, a
 * network "taken up again today", no rise of its coarse hour). No new
 * byte is needed to tell them apart: the login's last_seen (a full
 * time) moves with every observation, and every such byte is written by
 * an observation of the login. So
 * - store_urec_wrap_roll runs with every observation (store_user.c
 *   user_apply and store_user_count, before last_seen moves): on the
 *   login's first observation of a day, a byte that names today's low
 *   byte cannot be today's (it was written on a day up to the last
 *   observation's, or never: a new entry's zero on a day ...00) and
 *   moves back a day (store_day_roll, store_int.h);
 * - readers take the day a byte names as the latest one up to the
 *   copy's last_seen with that low byte (store_day_is_today): a copy
 *   taken before the login's first observation of today (relayguardctl
 *   show, a session from before midnight) reads no old byte as today's.
 * A restored snapshot's bytes name days up to the snapshot's last_seen:
 * rolled from there to the entry's (store_urec_wrap_restored; a new
 * entry is last seen at the restore), and so are its webmail counters
 * (store_relay.c, whose half hour's byte comes round every 128 hours)
 * and its dropped coarse addresses' half hours (store_carrier.c).
 *
 * The refusal count (store_strikes.c) keeps its first refusal's minute
 * by 16 bits, round every 65536 minutes (45.5 days); no rule's window
 * (block_for, at most STORE_STRIKE_SPAN_MAX) is that long, so a count
 * older than that (its age at the last observation plus the time since)
 * is over and is cleared by the same roll. The hour of the last bulk
 * message (store_bulk.c) keeps 16 bits of the hour's number (7.5 years
 * round) and counts only in windows of up to a day: a note whose hour
 * began a day and an hour before or longer is over and is cleared too,
 * its age read the same way (bulk_over). Judged by the gap since the
 * login's last observation alone, a login that went on mailing kept its
 * note for ever and read it as in the window 65536 hours on.
 *
 * Contract: called with the login's stripe locked (store_user.c,
 * store_migrate.c), like the other urec helpers; never fails.
 */
#include <string.h>

#include "store_int.h"

/* A bulk message's hour counts in windows of up to a day (a rule's
 * window, cfg.c) while it began less than a day and an hour ago
 * (store_bulk_within) */
#define BULK_SPAN_S (STORE_DAY_S + 3600u)

/* The day bytes of ext, by owner. */
static const uint8_t ext_days[] = {
    STORE_EXT_PRIOR_DAY_NO,	/* store_prior_day.c */
    STORE_EXT_REVISIT_DAY,	/* store_revisit.c */
    STORE_EXT_PRIOR_DAY,	/* store_prior.c */
    STORE_EXT_STOP_DAY,		/* store_stopday.c */
};

/* bulk_over - is the bulk note in ext, of a login last seen at last,
 * over at now? Its hour's age at last from the 16 bits (no note is
 * written after the observation that moves last_seen, so it is never a
 * later hour but hour 0's, noted as 1; a note that old was cleared
 * before it could wrap), the time since added. */
static bool bulk_over(const uint8_t *ext, uint32_t last, uint32_t now)
{
    uint16_t noted = store_le16(ext + STORE_EXT_BULK_HOUR);
    uint32_t hours = (uint16_t) ((uint16_t) (last / 3600 & 0xffff) - noted);

    if (noted == 0 || now <= last)
	return false;
    if (hours == 0xffff)
	hours = 0;		/* hour 0 of a wrap, noted as 1 (store_bulk.c) */
    return (uint64_t) hours * 3600 + last % 3600 + (now - last) >= BULK_SPAN_S;
}

/* in_range - does ext[at..at+len) hold byte i? */
static bool in_range(size_t i, size_t at, size_t len)
{
    return at <= i && i < at + len;
}

/* wrap_roll - roll the day bytes of ext[at..at+len) (and the coarse
 * hour's day when coarse) of a login last seen at last, seen at now */
static void wrap_roll(struct store_urec *u, size_t at, size_t len,
		      bool coarse, uint32_t last, uint32_t now)
{
    for (size_t i = 0; i < sizeof(ext_days); i++)
	if (in_range(ext_days[i], at, len))
	    store_day_roll(&u->ext[ext_days[i]], last, now);
    if (coarse)
	store_day_roll(&u->nets[STORE_COARSE_DAY].aux, last, now);
    if (in_range(STORE_EXT_STRIKE_RULE, at, len))
	store_urec_strikes_roll(u, last, now);	/* store_strikes.c */
    if (in_range(STORE_EXT_BULK_HOUR, at, len)
	&& bulk_over(u->ext, last, now))
	memset(u->ext + STORE_EXT_BULK_HOUR, 0, 2);
    if (in_range(STORE_EXT_COARSE_GONE, at, len))
	store_ext_gone_roll(u->ext, last, now);	/* store_carrier.c */
}

/* store_urec_wrap_roll - an observation of the login at now, before its
 * last_seen moves (see above) */
void store_urec_wrap_roll(struct store_urec *u, uint32_t now)
{
    wrap_roll(u, 0, STORE_EXT_LEN, true, u->l.last_seen, now);
}

/* store_urec_wrap_restored - a snapshot's ext[at..at+len) (and its
 * coarse hour's day when coarse), last seen at from_last there, put
 * into an entry last seen at its own last_seen */
void store_urec_wrap_restored(struct store_urec *u, size_t at, size_t len,
			      bool coarse, uint32_t from_last)
{
    wrap_roll(u, at, len, coarse, from_last, u->l.last_seen);
    if (in_range(STORE_EXT_RELAY_SLOT, at, len))
	store_urec_relay_restored(u, from_last);	/* store_relay.c */
}
