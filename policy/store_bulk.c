/*
 * store_bulk - the hour of a login's last bulk message let through
 * (h-honest-a's spare bytes of format 8, session 18: the hour's number,
 * now / 3600, low 16 bits little endian, in ext[27..28]; 0 is none).
 *
 * A heavy sender's newsletter fills its recipients hour by itself; the
 * person's own messages of the same hour come on top of it.
 * recipients_over_usual widens the usual hour by a share for the bulk
 * message (metrics_bulk.c), and, with this note, for the rest of the
 * hours the newsletter still counts in. The note is written at the end
 * of a message to more than METRICS_BULK_RCPTS recipients that was let
 * through (rules.c record_eom, STORE_OBS_BULK): a refused one never
 * widens an hour. An hour's number wraps after 7.5 years; a note that
 * old would read as some other hour, at worst one of the window's, so
 * the first observation of the login once the note's hour began a day
 * and an hour before (when no window counts it any more) clears it,
 * whether the login was away or went on mailing (store_wrap.c).
 *
 * Contract: store_urec_bulk_note is called with the login's stripe
 * locked (store_user.c), like the other urec helpers; the reader works
 * on a copy.
 */
#include "store_int.h"

_Static_assert(STORE_EXT_BULK_HOUR == 27,
	       "h-honest-a's bulk bytes stay in ext[27..28]");

/* bulk_hour - now's hour, as noted (never 0: hour 0 of a wrap is noted
 * as hour 1, which reads as the next hour, not this one, until it
 * comes; once in 7.5 years) */
static uint16_t bulk_hour(uint32_t now)
{
    uint16_t h = (uint16_t) (now / 3600 & 0xffff);

    return h == 0 ? 1 : h;
}

/* store_urec_bulk_note - a bulk message of the login was let through at
 * now */
void store_urec_bulk_note(struct store_urec *u, uint32_t now)
{
    store_le16_put(u->ext + STORE_EXT_BULK_HOUR, bulk_hour(now));
}

/* store_user_bulk_hour - the hour noted for the login (0: none), read
 * at MAIL and judged by at each phase (rules_verdict.bulk_hour) */
uint16_t store_user_bulk_hour(const struct store_user *u)
{
    return store_le16(u->ext + STORE_EXT_BULK_HOUR);
}

/* store_bulk_within - does the hour noted still count in a window of w
 * seconds ending at now (the hour ring's oldest bucket counts in part:
 * store_win.c)? */
bool store_bulk_within(uint16_t noted, uint32_t w, uint32_t now)
{
    uint32_t back = (uint16_t) ((uint16_t) (now / 3600 & 0xffff) - noted);

    if (noted == 0)
	return false;
    /* the note's hour [H, H + 1h) counts while H + 1h > now - w, with
     * now = (H + back) hours + now % 3600 */
    return (uint64_t) back * 3600 < (uint64_t) w + 3600 - now % 3600;
}
