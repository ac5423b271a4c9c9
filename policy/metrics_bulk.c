/*
 * metrics_bulk - a bulk sender's newsletter: its hour and its machine.
 *
 * A heavy sender's usual recipients hour is made by one message: the
 * biggest newsletter (300-800 recipients in tests/sim) it sent from a
 * familiar place so far. The next one is as often bigger as smaller, so
 * recipients_over_usual's flat margin (unusual-recipients, limit 10) fired
 * on a newsletter sent from the family's home abroad, 11 recipients past a
 * usual 685 (tests/sim uni6 seed 7, wide seed 9), and the rule's 1-day
 * block refused the rest of the sender's day: 47-50 messages each. A
 * person's hour varies by a few recipients, a bulk sender's by a share of
 * it: for a message to more than METRICS_BULK_RCPTS recipients,
 * policy.usual_recipients_margin (percent) widens the usual hour by that
 * share (metrics_rcpts_slack); any other message meets the flat margin,
 * unless a bulk message of the login was let through in an hour that
 * still counts in the window (store_bulk.c): the newsletter let through,
 * the owner's next one-recipient message of its hour met the flat margin
 * on top of it ("759 recipients in 1h, usual <= 685"), and its second
 * refusal the day block (tests/sim uni6 seed 7 u140: 49 messages over
 * two days). The person's hour on top of a newsletter is judged as the
 * newsletter was, and no further (metrics_bulk_alone). A spam run of 20
 * recipients a message sends no bulk message, so its hour is not widened
 * unless the owner's own newsletter went out in it.
 *
 * No margin carries to a newsletter 1.3-4.3 times the usual hour, the
 * first message of a stay at the family's home abroad (tests/sim T: uni6
 * seeds 101, 106, 110, wide seed 102; 47-67 honest messages each): the
 * first bulk message of its hours, on an hour otherwise within the usual
 * one, is one newsletter, not a run, and is judged without its own
 * recipients (docs/POLICY-RATIONALE.md#usual_recipients_margin).
 *
 * What no hour's margin bounds is how often: a stolen sender's login
 * used for bulk spam sends one message to hundreds an hour, each within
 * a big sender's usual hour (tests/sim/mix/probe-bulk.mix: 6-8 a day let
 * through, up to unfamiliar-volume's 8), or, judged alone as a first
 * newsletter, within a smaller one's (probe-bulk2.mix: 1-7). A
 * newsletter sender's next bulk message is a day or more later (the
 * kept sites' closest two of one login: 16.2 hours). bulk_messages
 * counts the bulk messages of a window (metrics_bulk_messages: the last
 * one let through and this one, all the record keeps), and the shipped
 * unfamiliar-bulk refuses a second within 12 hours from an unfamiliar
 * place (docs/POLICY-RATIONALE.md#unfamiliar-bulk).
 *
 * A newsletter is also often sent by a machine: a desktop client's
 * scheduled send or a server at home, while the owner travels. A message
 * to more than METRICS_BULK_RCPTS recipients from the home place does not
 * say that the owner is at home (metrics_home_note): trip_home took it as
 * such and gave a heavy sender at the family's home abroad no trip
 * allowance nor new day for the rest of the stay (tests/sim wide seed 1:
 * 222 messages refused over five days, probe F18/F22b). A message from
 * home that the login's block refuses at MAIL is taken as the owner at
 * home whatever it would have carried (rules.c note_home): its client
 * never names the recipients, and a blocked owner's mail from a new home
 * address is what keeps the thief's blocked day abroad from counting
 * for its network; what that costs is a traveller whose home machine
 * sends a newsletter from an address new since the block, while it
 * holds (tests/golden/home_refused_bulk.case).
 */
#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* metrics_rcpts_slack - what the usual recipients hour (of a window of
 * w seconds) is widened by for the message being judged:
 * policy.usual_recipients_margin percent of it for a bulk message (past
 * METRICS_BULK_RCPTS recipients so far) or one in the hours of a bulk
 * message let through (see above), nothing for any other (a spam run's
 * 20 a message meets the flat margin, as before: tests/sim retry seed 9
 * got one more through when every message had the share) */
uint64_t metrics_rcpts_slack(const struct metrics_ctx *c, uint64_t usual,
			     uint32_t w)
{
    if (c->f->rcpts <= METRICS_BULK_RCPTS
	&& !store_bulk_within(c->bulk_hour, w, c->now))
	return 0;
    return usual * c->cfg->policy.usual_rcpts_margin / 100;
}

/* metrics_slack_text - " + N (a bulk sender's margin)" after the usual
 * hour's evidence, when it is widened */
void metrics_slack_text(uint64_t slack, char *ev, size_t evlen)
{
    size_t used = strlen(ev);

    if (slack != 0 && used < evlen)
	snprintf(ev + used, evlen - used, " + %llu (a bulk sender's margin)",
		 (unsigned long long) slack);
}

/* metrics_home_note - may a message let through from the home place
 * (rcpts: its recipients) note the owner at home? Not a bulk send */
bool metrics_home_note(uint32_t rcpts)
{
    return rcpts <= METRICS_BULK_RCPTS;
}

/* metrics_bulk_note - is a message let through (rcpts: its recipients)
 * a bulk one, whose hour is noted (store_bulk.c)? */
bool metrics_bulk_note(uint32_t rcpts)
{
    return rcpts > METRICS_BULK_RCPTS;
}

/* metrics_bulk_alone - the recipients hour v as judged against the
 * usual hour (widened: with its slack). The first bulk message of its
 * hours on an hour otherwise within the usual one is one newsletter,
 * not a run: judged without its own recipients. The login's smaller
 * messages in the hours of a bulk message let through are left to the
 * messages rules (unusual-volume counts them): judged at the widened
 * usual hour, never past it. */
uint64_t metrics_bulk_alone(const struct metrics_ctx *c, uint64_t v,
			    uint64_t usual, uint64_t widened, uint32_t w)
{
    uint64_t own = c->f->rcpts;
    bool noted = store_bulk_within(c->bulk_hour, w, c->now);

    if (v <= widened)
	return v;
    if (own > METRICS_BULK_RCPTS && !noted && own <= v && v - own <= usual)
	return v - own;
    if (own <= METRICS_BULK_RCPTS && noted)
	return widened;
    return v;
}

/* metrics_bulk_messages - the login's bulk messages in a window of w
 * seconds, this one among them, once it is past METRICS_BULK_RCPTS
 * recipients (0 before): the last one let through, if its hour still
 * counts (store_bulk.c keeps nothing else of them), and this one. A
 * newsletter sender's next one is a day or more later (the sets' closest
 * two, 16.2 h); a thief's is the next hour (see the header) */
uint64_t metrics_bulk_messages(const struct metrics_ctx *c, uint32_t w,
			       char *ev, size_t evlen)
{
    uint32_t hour = c->now / 3600, back;
    bool noted;
    char d[16];

    if (c->cls != RULES_CLASS_AUTHENTICATED
	|| c->f->rcpts <= METRICS_BULK_RCPTS)
	return 0;
    noted = store_bulk_within(c->bulk_hour, w, c->now);
    if (ev != NULL) {
	back = (uint16_t) ((uint16_t) (hour & 0xffff) - c->bulk_hour);
	rules_format_duration(w, d, sizeof(d));
	if (noted)
	    snprintf(ev, evlen, "2 bulk messages in %s: %u recipients so far, "
		     "and one let through in the hour from %02u:00 UTC", d,
		     (unsigned) c->f->rcpts, (unsigned) ((hour - back) % 24));
	else
	    snprintf(ev, evlen, "1 bulk message in %s: %u recipients so far",
		     d, (unsigned) c->f->rcpts);
    }
    return noted ? CFG_BULK_MESSAGES_MAX : 1;
}
