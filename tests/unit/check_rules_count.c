/*
 * check_rules_count - counting under concurrency: the store's reserve and
 * give-back (store_win_take, store_held_note, store_*_count,
 * store_*_give_back) and the engine driving them through interleaved
 * transactions of one login, as parallel SMTP sessions do; sessions
 * relayed by a trusted host; stored places and times that do not add up.
 *
 * The engine reads no clock and the interleaving is explicit, so a
 * "parallel" burst is a fixed order of phases: every MAIL first, then
 * the recipients round by round, then the ends of message. Every test
 * runs forked.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "geo.h"
#include "rules.h"
#include "store.h"
#include "check_main.h"
#include "rules_test.h"

#define BURST		20	/* parallel sessions of one login */
#define BURST_RCPTS	10	/* recipients each */

/* sums - a login's and a client's counter over the last hour */
static uint64_t user_sum(const struct env *e, const char *login,
			 enum store_counter k, uint32_t now)
{
    struct store_user u;

    if (store_user_get(e->st, login, now, &u) != STORE_OK)
	return 0;
    return store_win_sum(&u.win, k, now, HOUR);
}

static uint64_t client_sum(const struct env *e, const char *ip,
			   enum store_counter k, uint32_t now)
{
    struct store_client c;
    struct addr a;

    ck_assert_int_eq(addr_parse(ip, &a), 0);
    if (store_client_get(e->st, &a, now, &c) != STORE_OK)
	return 0;
    return store_win_sum(&c.win, k, now, HOUR);
}

/* --- the window arithmetic --------------------------------------------- */

START_TEST(test_win_take)
{
    struct store_win w;

    memset(&w, 0, sizeof(w));
    store_win_add(&w, T0 + 10, 3, 7, 5000);	/* 2 byte units */
    store_win_add(&w, T0 + MIN + 10, 1, 1, 0);
    store_win_take(&w, T0 + 20, 1, 2, 5000);	/* the first minute's bucket */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + MIN + 10, 10 * MIN), 3);
    ck_assert_uint_eq(store_win_sum(&w, STORE_RCPTS, T0 + MIN + 10, 10 * MIN), 6);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + MIN + 10, HOUR), 3);
    ck_assert_uint_eq(store_win_sum(&w, STORE_BYTES, T0 + MIN + 10, HOUR), 0);
    /* never below zero (the hour bucket holds both minutes) */
    store_win_take(&w, T0 + 20, 50, 50, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + MIN + 10, 10 * MIN), 1);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + MIN + 10, HOUR), 0);
    /* a time the rings never reached was never added: nothing is taken */
    store_win_take(&w, T0 + 2 * DAY, 1, 1, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + MIN + 10, 10 * MIN), 1);
    ck_assert_uint_eq(w.min_epoch, (T0 + MIN + 10) / MIN);
}
END_TEST

START_TEST(test_win_take_rotated)
{
    struct store_win w;
    uint32_t t1 = T0 + 20 * MIN;	/* the minute ring moved past T0 */

    memset(&w, 0, sizeof(w));
    store_win_add(&w, T0, 1, 0, 0);	/* the reservation */
    store_win_add(&w, t1, 4, 0, 0);	/* other sessions, later */
    store_win_take(&w, T0, 1, 0, 0);
    /* the minute ring keeps the later four: the give-back found its own
     * bucket gone and took nothing from another */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, t1, 15 * MIN), 4);
    /* the hour ring still had it: taken there */
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, t1, HOUR), 4);
    /* after a day the hour bucket is gone too: the later ones stay */
    store_win_add(&w, T0 + DAY + HOUR, 2, 0, 0);
    store_win_take(&w, T0 + 30 * MIN, 4, 0, 0);
    ck_assert_uint_eq(store_win_sum(&w, STORE_MSGS, T0 + DAY + HOUR, HOUR), 2);
}
END_TEST

START_TEST(test_held_note)
{
    struct store_held h;
    uint32_t i;

    memset(&h, 0, sizeof(h));
    store_held_note(&h, T0, T0 + 1, 1, 0, 0);
    store_held_note(&h, T0, T0 + 2, 0, 1, 0);	/* same minute: same span */
    ck_assert_uint_eq(h.n, 1);
    ck_assert_uint_eq(h.span[0].msgs, 1);
    ck_assert_uint_eq(h.span[0].rcpts, 1);
    store_held_note(&h, T0, T0 + MIN, 0, 0, 0);	/* nothing: no span */
    ck_assert_uint_eq(h.n, 1);
    for (i = 1; i <= 6; i++)
	store_held_note(&h, T0, T0 + i * MIN, 0, 1, 0);
    ck_assert_uint_eq(h.n, STORE_HELD_SPANS);
    ck_assert_uint_eq(h.span[STORE_HELD_SPANS - 1].rcpts, 4);
    /* the entry was made anew: the old one's units are not its to give */
    store_held_note(&h, T0 + HOUR, T0 + HOUR, 1, 0, 0);
    ck_assert_uint_eq(h.born, T0 + HOUR);
    ck_assert_uint_eq(h.n, 1);
    ck_assert_uint_eq(h.span[0].msgs, 1);
    ck_assert_uint_eq(h.span[0].rcpts, 0);
}
END_TEST

/* --- the store's reserve and give-back ---------------------------------- */

START_TEST(test_store_give_back)
{
    struct store_held uh, ch;
    struct store_span rcpt = {0, 0, 1, 0};
    struct store_user_obs uo;
    struct store_client_obs co;
    struct store_win w;
    struct env e;

    env_open(&e, STATE);
    memset(&uh, 0, sizeof(uh));
    memset(&ch, 0, sizeof(ch));
    memset(&uo, 0, sizeof(uo));
    memset(&co, 0, sizeof(co));
    uo.login = co.login = "gina";
    ck_assert_int_eq(addr_parse("198.51.100.9", &uo.ip), 0);
    co.ip = uo.ip;
    uo.msgs = co.msgs = 1;
    uo.held = &uh, co.held = &ch;
    ck_assert_int_eq(store_user_update(e.st, &uo, T0, NULL), STORE_OK);
    ck_assert_int_eq(store_client_update(e.st, &co, T0, NULL), STORE_OK);
    ck_assert_int_eq(store_user_count(e.st, "gina", &rcpt, T0 + 70, &uh, &w),
		     STORE_OK);
    ck_assert_uint_eq(store_win_sum(&w, STORE_RCPTS, T0 + 70, HOUR), 1);
    ck_assert_int_eq(store_client_count(e.st, &co.ip, &rcpt, T0 + 70, &ch, &w),
		     STORE_OK);
    ck_assert_uint_eq(uh.n, 2);
    /* another session's message, kept */
    uo.held = co.held = NULL;
    ck_assert_int_eq(store_user_update(e.st, &uo, T0 + 80, NULL), STORE_OK);
    ck_assert_int_eq(store_client_update(e.st, &co, T0 + 80, NULL), STORE_OK);
    ck_assert_uint_eq(user_sum(&e, "gina", STORE_MSGS, T0 + 90), 2);
    ck_assert_int_eq(store_user_give_back(e.st, "gina", &uh, T0 + 90), STORE_OK);
    ck_assert_int_eq(store_client_give_back(e.st, &co.ip, &ch, T0 + 90), STORE_OK);
    ck_assert_uint_eq(uh.n, 0);
    ck_assert_uint_eq(user_sum(&e, "gina", STORE_MSGS, T0 + 90), 1);
    ck_assert_uint_eq(user_sum(&e, "gina", STORE_RCPTS, T0 + 90), 0);
    ck_assert_uint_eq(client_sum(&e, "198.51.100.9", STORE_MSGS, T0 + 90), 1);
    ck_assert_uint_eq(client_sum(&e, "198.51.100.9", STORE_RCPTS, T0 + 90), 0);
    /* twice is once: held is empty now */
    ck_assert_int_eq(store_user_give_back(e.st, "gina", &uh, T0 + 90), STORE_OK);
    ck_assert_uint_eq(user_sum(&e, "gina", STORE_MSGS, T0 + 90), 1);
    env_close(&e);
}
END_TEST

START_TEST(test_store_give_back_new_entry)
{
    struct store_held h;
    struct store_span msg = {0, 1, 0, 0};
    struct env e;

    env_open(&e, STATE);
    memset(&h, 0, sizeof(h));
    ck_assert_int_eq(store_user_count(e.st, "hal", &msg, T0, &h, NULL), STORE_OK);
    /* an admin resets the login; it comes back with a message of its own */
    ck_assert_int_eq(store_user_reset(e.st, "hal", T0 + 5), STORE_OK);
    ck_assert_int_eq(store_user_give_back(e.st, "hal", &h, T0 + 5),
		     STORE_NOTFOUND);
    ck_assert_uint_eq(h.n, 0);
    ck_assert_int_eq(store_user_count(e.st, "hal", &msg, T0, &h, NULL), STORE_OK);
    ck_assert_int_eq(store_user_reset(e.st, "hal", T0 + 6), STORE_OK);
    msg.msgs = 2;
    ck_assert_int_eq(store_user_count(e.st, "hal", &msg, T0 + 7, NULL, NULL),
		     STORE_OK);
    ck_assert_int_eq(store_user_give_back(e.st, "hal", &h, T0 + 8), STORE_OK);
    ck_assert_uint_eq(user_sum(&e, "hal", STORE_MSGS, T0 + 8), 2);
    env_close(&e);
}
END_TEST

/* --- the engine under a burst of one login ------------------------------- */

#define BURST_RULES(metric, limit) STATE "policy: { rules = (\n" \
    " { name = \"user-" metric "\"; applies_to = \"authenticated\"; " \
    "metric = \"" metric "\"; window = \"1h\"; limit = " limit "; " \
    "action = \"tempfail\"; },\n" \
    " { name = \"big\"; applies_to = \"authenticated\"; " \
    "metric = \"bytes\"; window = \"1h\"; limit = 1000000; " \
    "action = \"tempfail\"; }\n); };\n"

/* One session of a burst: its facts and its verdict. */
struct session {
    struct rules_facts f;
    struct rules_verdict v;
    bool refused;
};

/* burst_mail - every session's MAIL before any other phase */
static void burst_mail(const struct env *e, struct session *s, unsigned n,
		       uint32_t now)
{
    struct tx t = {"bot", "198.51.100.77", NULL, {"", 0, 0, 0, 0, 0},
	ALL_CAPS, 0, 0};

    for (unsigned i = 0; i < n; i++) {
	facts_for(&t, &s[i].f);
	ck_assert_int_eq(rules_judge(e->cfg, e->st, &s[i].f, now, &s[i].v),
			 STORE_OK);
	s[i].refused = rules_act_now(&s[i].v, RULES_PHASE_MAIL);
    }
}

/* burst_phase - one phase for every session still going */
static void burst_phase(const struct env *e, struct session *s, unsigned n,
			enum rules_phase ph, uint32_t now)
{
    for (unsigned i = 0; i < n; i++) {
	if (s[i].refused)
	    continue;
	s[i].f.phase = ph;
	if (ph == RULES_PHASE_RCPT)
	    s[i].f.rcpts++;
	else
	    s[i].f.bytes = 1000;
	ck_assert_int_eq(rules_judge(e->cfg, e->st, &s[i].f, now, &s[i].v),
			 STORE_OK);
	s[i].refused = rules_act_now(&s[i].v, ph)
	    && s[i].v.action >= CFG_ACTION_TEMPFAIL;
    }
}

START_TEST(test_burst_messages)
{
    static struct session s[BURST];
    unsigned i, through = 0;
    struct env e;

    env_open(&e, BURST_RULES("messages", "5"));
    burst_mail(&e, s, BURST, T0);
    burst_phase(&e, s, BURST, RULES_PHASE_RCPT, T0 + 1);
    burst_phase(&e, s, BURST, RULES_PHASE_EOM, T0 + 2);
    for (i = 0; i < BURST; i++)
	through += !s[i].refused;
    /* the first five got through; the sixth and later were refused at
     * MAIL, where each saw all the messages counted before it */
    ck_assert_uint_eq(through, 5);
    for (i = 0; i < BURST; i++)
	ck_assert_msg(s[i].refused == (i >= 5), "session %u", i);
    expect(&e, &s[5].v, CFG_ACTION_TEMPFAIL, "user-messages", false);
    ck_assert_str_eq(s[5].v.reason, "6 messages in 1h (limit 5)");
    /* the refused ones gave their message back: the counts are exact */
    ck_assert_uint_eq(user_sum(&e, "bot", STORE_MSGS, T0 + 3), 5);
    ck_assert_uint_eq(user_sum(&e, "bot", STORE_RCPTS, T0 + 3), 5);
    ck_assert_uint_eq(client_sum(&e, "198.51.100.77", STORE_MSGS, T0 + 3), 5);
    env_close(&e);
}
END_TEST

START_TEST(test_burst_recipients)
{
    static struct session s[BURST];
    uint64_t accepted = 0, msgs = 0;
    unsigned i, r;
    struct env e;

    env_open(&e, BURST_RULES("recipients", "50"));
    burst_mail(&e, s, BURST, T0);
    for (r = 0; r < BURST_RCPTS; r++)
	burst_phase(&e, s, BURST, RULES_PHASE_RCPT, T0 + 1);
    burst_phase(&e, s, BURST, RULES_PHASE_EOM, T0 + 2);
    for (i = 0; i < BURST; i++)
	if (!s[i].refused) {
	    accepted += s[i].f.rcpts;
	    msgs++;
	}
    ck_assert_uint_le(accepted, 50);
    ck_assert_uint_gt(accepted, 0);
    ck_assert_uint_eq(accepted, msgs * BURST_RCPTS);
    /* what was let through is what is counted: refused messages gave
     * their recipients and their message back */
    ck_assert_uint_eq(user_sum(&e, "bot", STORE_RCPTS, T0 + 3), accepted);
    ck_assert_uint_eq(user_sum(&e, "bot", STORE_MSGS, T0 + 3), msgs);
    ck_assert_uint_eq(client_sum(&e, "198.51.100.77", STORE_RCPTS, T0 + 3),
		      accepted);
    env_close(&e);
}
END_TEST

START_TEST(test_abort_gives_back)
{
    struct tx t = {"ada", "198.51.100.5", NULL, {"", 0, 0, 0, 0, 0},
	ALL_CAPS, 0, 0};
    struct rules_facts f;
    struct rules_verdict v;
    struct env e;

    env_open(&e, BURST_RULES("messages", "5"));
    simple_tx(&e, "ada", "198.51.100.5", T0, &v);	/* one kept */
    facts_for(&t, &f);
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0 + 50, &v), STORE_OK);
    f.phase = RULES_PHASE_RCPT;
    f.rcpts = 1;
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0 + 70, &v), STORE_OK);
    ck_assert_uint_eq(user_sum(&e, "ada", STORE_MSGS, T0 + 80), 2);
    ck_assert_uint_eq(user_sum(&e, "ada", STORE_RCPTS, T0 + 80), 2);
    /* the client quits before DATA: the front end gives the rest back */
    ck_assert_int_eq(rules_give_back(e.st, "ada", &f.client, T0 + 80, &v),
		     STORE_OK);
    ck_assert_uint_eq(user_sum(&e, "ada", STORE_MSGS, T0 + 80), 1);
    ck_assert_uint_eq(user_sum(&e, "ada", STORE_RCPTS, T0 + 80), 1);
    ck_assert_uint_eq(client_sum(&e, "198.51.100.5", STORE_MSGS, T0 + 80), 1);
    ck_assert_uint_eq(client_sum(&e, "198.51.100.5", STORE_RCPTS, T0 + 80), 1);
    /* a message let through holds nothing: giving back changes nothing */
    simple_tx(&e, "ada", "198.51.100.5", T0 + 90, &v);
    ck_assert_int_eq(rules_give_back(e.st, "ada", &f.client, T0 + 91, &v),
		     STORE_OK);
    ck_assert_uint_eq(user_sum(&e, "ada", STORE_MSGS, T0 + 91), 2);
    env_close(&e);
}
END_TEST

START_TEST(test_abort_after_rotation)
{
    struct tx t = {"rot", "198.51.100.9", NULL, {"", 0, 0, 0, 0, 0},
	ALL_CAPS, 0, 0};
    struct rules_facts f;
    struct rules_verdict slow, v;
    struct store_user u;
    uint32_t later = T0 + 20 * MIN, i;
    struct env e;

    env_open(&e, BURST_RULES("messages", "5"));
    /* a slow session counts its message at T0 and its recipient a
     * minute later, then hangs until the minute ring has moved on */
    facts_for(&t, &f);
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0 + 30, &slow), STORE_OK);
    f.phase = RULES_PHASE_RCPT;
    f.rcpts = 1;
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0 + MIN + 30, &slow),
		     STORE_OK);
    ck_assert_uint_eq(slow.user_held.n, 2);
    for (i = 0; i < 3; i++)
	simple_tx(&e, "rot", "198.51.100.9", later + i, &v);
    ck_assert_int_eq(rules_give_back(e.st, "rot", &f.client, later + 5, &slow),
		     STORE_OK);
    ck_assert_int_eq(store_user_get(e.st, "rot", later + 5, &u), STORE_OK);
    /* the minute ring no longer had the slow session's buckets: the three
     * recent messages stay whole, none pays for it */
    ck_assert_uint_eq(store_win_sum(&u.win, STORE_MSGS, later + 5, 10 * MIN), 3);
    ck_assert_uint_eq(store_win_sum(&u.win, STORE_RCPTS, later + 5, 10 * MIN), 3);
    /* the hour ring still had them: taken from there */
    ck_assert_uint_eq(store_win_sum(&u.win, STORE_MSGS, later + 5, HOUR), 3);
    ck_assert_uint_eq(store_win_sum(&u.win, STORE_RCPTS, later + 5, HOUR), 3);
    env_close(&e);
}
END_TEST

START_TEST(test_refused_at_eom)
{
    struct tx t = {"bea", "198.51.100.6", NULL, {"", 0, 0, 0, 0, 0},
	ALL_CAPS, 3, 2000000};
    struct rules_verdict v;
    struct env e;

    env_open(&e, BURST_RULES("messages", "5"));
    ck_assert_int_eq(run_tx(&e, &t, T0, &v), RULES_PHASE_EOM);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "big", false);
    ck_assert_uint_eq(user_sum(&e, "bea", STORE_MSGS, T0), 0);
    ck_assert_uint_eq(user_sum(&e, "bea", STORE_RCPTS, T0), 0);
    ck_assert_uint_eq(user_sum(&e, "bea", STORE_BYTES, T0), 0);
    ck_assert_uint_eq(client_sum(&e, "198.51.100.6", STORE_BYTES, T0), 0);
    env_close(&e);
}
END_TEST

START_TEST(test_refused_counts_nothing_more)
{
    struct tx t = {"cid", "198.51.100.7", NULL, {"", 0, 0, 0, 0, 0},
	ALL_CAPS, 0, 0};
    struct rules_facts f;
    struct rules_verdict v;
    struct env e;
    unsigned i;

    env_open(&e, BURST_RULES("recipients", "2"));
    facts_for(&t, &f);
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0, &v), STORE_OK);
    /* the MTA goes on after a refused recipient: nothing more counts */
    for (i = 1; i <= 5; i++) {
	f.phase = RULES_PHASE_RCPT;
	f.rcpts = i;
	ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0 + i, &v), STORE_OK);
	ck_assert(rules_act_now(&v, f.phase) == (i >= 3));
    }
    f.phase = RULES_PHASE_EOM;
    ck_assert_int_eq(rules_judge(e.cfg, e.st, &f, T0 + 9, &v), STORE_OK);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "user-recipients", false);
    ck_assert_uint_eq(user_sum(&e, "cid", STORE_RCPTS, T0 + 9), 0);
    ck_assert_uint_eq(user_sum(&e, "cid", STORE_MSGS, T0 + 9), 0);
    env_close(&e);
}
END_TEST

START_TEST(test_dry_run_keeps)
{
    struct rules_verdict v;
    struct env e;
    unsigned i;

    env_open(&e, "milter: { dry_run = true; };\n" BURST_RULES("messages", "1"));
    /* a dry run lets the refused ones through: they stay counted */
    for (i = 0; i < 3; i++)
	simple_tx(&e, "dot", "198.51.100.8", T0 + i, &v);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "user-messages", false);
    ck_assert_uint_eq(user_sum(&e, "dot", STORE_MSGS, T0 + 3), 3);
    env_close(&e);
}
END_TEST

/* --- sessions relayed by a trusted host --------------------------------- */

#define RELAY_RULES STATE \
    "networks: { trusted = [ \"10.9.0.0/16\" ]; };\n" \
    "policy: { learning_period = \"0s\"; rules = (\n" \
    " { name = \"user-messages\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 2; action = \"tempfail\"; },\n" \
    " { name = \"spread\"; applies_to = \"authenticated\"; " \
    "metric = \"distinct_ips\"; window = \"1h\"; limit = 0; action = \"reject\"; },\n" \
    " { name = \"new-country\"; applies_to = \"authenticated\"; " \
    "metric = \"new_country\"; action = \"reject\"; },\n" \
    " { name = \"shared\"; applies_to = \"any\"; " \
    "metric = \"users_per_ip\"; window = \"1h\"; limit = 0; action = \"reject\"; }\n" \
    "); };\n"

START_TEST(test_relayed_rates_only)
{
    struct tx t = {"web1", "10.9.0.5", NULL, {"DE", 64500, 5252, 1341, 20, 1},
	ALL_CAPS, 1, 1000};
    struct store_client c;
    struct store_user u;
    struct rules_verdict v;
    struct addr a;
    struct env e;

    env_open(&e, RELAY_RULES);
    /* the address metrics would refuse anything; they do not apply */
    ck_assert_int_eq(run_tx(&e, &t, T0, &v), RULES_PHASE_EOM);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    ck_assert_int_eq(v.cls, RULES_CLASS_AUTHENTICATED);
    ck_assert(v.relayed);
    ck_assert_int_eq(run_tx(&e, &t, T0 + 1, &v), RULES_PHASE_EOM);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    /* the login's rate is judged */
    ck_assert_int_eq(run_tx(&e, &t, T0 + 2, &v), RULES_PHASE_MAIL);
    expect(&e, &v, CFG_ACTION_TEMPFAIL, "user-messages", false);
    /* the relay's address, place and country are not the login's, and
     * the relay is not a client to count */
    ck_assert_int_eq(store_user_get(e.st, "web1", T0 + 3, &u), STORE_OK);
    ck_assert_uint_eq(u.nips, 0);
    ck_assert_uint_eq(u.last_login.time, 0);
    ck_assert_str_eq(u.countries[0].cc, "");
    ck_assert_uint_eq(store_win_sum(&u.win, STORE_MSGS, T0 + 3, HOUR), 2);
    ck_assert_int_eq(addr_parse("10.9.0.5", &a), 0);
    ck_assert_int_eq(store_client_get(e.st, &a, T0 + 3, &c), STORE_NOTFOUND);
    /* without a login the relay is trusted as before */
    t.login = NULL;
    ck_assert_int_eq(run_tx(&e, &t, T0 + 4, &v), RULES_PHASE_EOM);
    ck_assert_int_eq(v.cls, RULES_CLASS_TRUSTED);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    env_close(&e);
}
END_TEST

/* --- stored places and times that do not add up -------------------------- */

#define TRAVEL_RULES STATE "policy: { learning_period = \"7d\"; rules = (\n" \
    " { name = \"impossible-travel\"; applies_to = \"authenticated\"; " \
    "metric = \"travel_kmh\"; limit = 1000; action = \"quarantine\"; },\n" \
    " { name = \"new-country\"; applies_to = \"authenticated\"; " \
    "metric = \"new_country\"; action = \"tag\"; }\n); };\n"

START_TEST(test_travel_bad_latitude)
{
    /* 200 degrees north: written by a damaged or hostile writer */
    struct tx bad = {"lat", "198.51.100.40", NULL, {"", 0, 20000, 1341, 20, 1},
	GEO_CAP_LOCATION, 1, 1000};
    struct tx ok = {"lat", "198.51.100.41", NULL, {"", 0, 5252, 1341, 20, 1},
	GEO_CAP_LOCATION, 1, 1000};
    const struct store_place far = {T0, 20000, 1341, 20};
    const struct store_place west = {T0 + MIN, 5252, -20000, 20};
    struct rules_verdict v;
    struct env e;

    ck_assert(rules_travel_kmh(&far, &berlin) == 0);
    ck_assert(rules_travel_kmh(&berlin, &west) == 0);
    env_open(&e, TRAVEL_RULES);
    run_tx(&e, &bad, T0, &v);
    run_tx(&e, &ok, T0 + MIN, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    ck_assert_str_eq(v.reason, "");
    env_close(&e);
}
END_TEST

START_TEST(test_first_seen_ahead)
{
    struct tx de = {"clk", "198.51.100.50", NULL, {"DE", 0, 0, 0, 0, 0},
	GEO_CAP_COUNTRY, 1, 1000};
    struct tx br = {"clk", "198.51.100.51", NULL, {"BR", 0, 0, 0, 0, 0},
	GEO_CAP_COUNTRY, 1, 1000};
    struct rules_verdict v;
    struct env e;

    env_open(&e, TRAVEL_RULES);
    /* another milter's clock is an hour ahead: it saw the login first */
    run_tx(&e, &de, T0 + HOUR, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    /* ours: the login is an hour younger than nothing, still learning */
    run_tx(&e, &br, T0, &v);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    env_close(&e);
}
END_TEST

/* --- an IPv6 client's /64 ---------------------------------------------- */

#define NO_PREFIX_RULES STATE "policy: { learning_period = \"0s\"; rules = (\n" \
    " { name = \"user-messages\"; applies_to = \"authenticated\"; " \
    "metric = \"messages\"; window = \"1h\"; limit = 5; action = \"tempfail\"; }\n" \
    "); };\n"

#define PREFIX_RULES STATE "policy: { learning_period = \"0s\"; rules = (\n" \
    " { name = \"shared\"; applies_to = \"any\"; " \
    "metric = \"users_per_ip\"; window = \"1h\"; limit = 5; action = \"reject\"; }\n" \
    "); };\n"

/* v6_clients - client entries after one authenticated IPv6 message
 * under a policy; whether the client's /64 has an entry in *has64 */
static uint32_t v6_clients(const char *policy, bool *has64)
{
    struct tx t = {"ann", "2001:db8:5:6::7", NULL, {"DE", 64500, 5252, 1341,
	    20, 1}, ALL_CAPS, 1, 1000};
    struct store_client c;
    struct store_stats ss;
    struct rules_verdict v;
    struct addr a, k;
    struct env e;

    env_open(&e, policy);
    ck_assert_int_eq(run_tx(&e, &t, T0, &v), RULES_PHASE_EOM);
    expect(&e, &v, CFG_ACTION_ACCEPT, NULL, false);
    ck_assert_int_eq(store_get_stats(e.st, &ss), STORE_OK);
    ck_assert_int_eq(addr_parse(t.client, &a), 0);
    store_prefix_key(&a, &k);
    *has64 = store_client_get(e.st, &k, T0, &c) == STORE_OK;
    env_close(&e);
    return ss.clients;
}

START_TEST(test_prefix_only_when_counted)
{
    bool has64;

    /* no rule counts users_per_ip: the address's entry only */
    ck_assert_uint_eq(v6_clients(NO_PREFIX_RULES, &has64), 1);
    ck_assert(!has64);
    /* one does: the /64 has its entry too */
    ck_assert_uint_eq(v6_clients(PREFIX_RULES, &has64), 2);
    ck_assert(has64);
}
END_TEST

/* rules_count_suite - the test cases */
static Suite *rules_count_suite(void)
{
    const TTest *const win[] = {
	test_win_take, test_win_take_rotated, test_held_note,
	test_store_give_back, test_store_give_back_new_entry,
    };
    const TTest *const engine[] = {
	test_burst_messages, test_burst_recipients, test_abort_gives_back,
	test_abort_after_rotation,
	test_refused_at_eom, test_refused_counts_nothing_more,
	test_dry_run_keeps,
    };
    const TTest *const other[] = {
	test_relayed_rates_only, test_travel_bad_latitude,
	test_first_seen_ahead, test_prefix_only_when_counted,
    };
    Suite *s = suite_create("rules_count");

    add(s, "store", win, sizeof(win) / sizeof(win[0]));
    add(s, "engine", engine, sizeof(engine) / sizeof(engine[0]));
    add(s, "other", other, sizeof(other) / sizeof(other[0]));
    return s;
}

int main(void)
{
    return check_run(rules_count_suite());
}
