/*
 * check_session - relayguard-policyd's request-to-engine mapping
 * (policyd/session): a transaction is Postfix's "instance", counted once
 * however many recipients it has; one not seen again is given back on
 * expiry when Postfix also asks at end of data, kept otherwise.
 */
#include <time.h>

#include "../../policyd/session.h"
#include "check_main.h"
#include "rules_test.h"
#include "stats.h"

#define CONF(eod) CONF_PD("end_of_data = " eod "; max_instances = 16;")
#define CONF_PD(pd) STATE \
    "milter: { reply_tempfail = \"milter text\"; };\n" \
    "policyd: { instance_timeout = \"1m\"; " pd " };\n" \
    "policy: { rules = (\n" \
    "  { name = \"msgs\"; applies_to = \"authenticated\"; metric = \"messages\";\n" \
    "    window = \"1h\"; limit = 1; action = \"tempfail\"; }\n" \
    "); };\n"

#define DEFER "action=451 4.7.1 "

struct fx {
    struct env e;
    struct runtime rt;
    struct session_table *t;
};

/* fx_open - a table over a fresh store and configuration */
static void fx_open(struct fx *x, const char *conf)
{
    env_open(&x->e, conf);
    memset(&x->rt, 0, sizeof(x->rt));
    x->rt.refs = 1;
    x->rt.cfg = x->e.cfg;
    x->rt.st = x->e.st;
    x->rt.evfd = -1;
    session_cfg_view(x->e.cfg);
    ck_assert_ptr_nonnull(x->t = session_table_new(x->e.cfg->policyd.max_instances));
}

/* fx_close - forget what is left, then the store and configuration */
static void fx_close(struct fx *x, uint32_t now)
{
    session_table_free(x->t, &x->rt, now);
    env_close(&x->e);
}

/* ask_as - one request of login from 192.0.2.7; the action line */
static const char *ask_as(struct fx *x, const char *login,
			  const char *instance, const char *state,
			  uint32_t now)
{
    static char out[SESSION_ACTION_MAX];
    struct request r;

    memset(&r, 0, sizeof(r));
    snprintf(r.instance, sizeof(r.instance), "%s", instance);
    snprintf(r.protocol_state, sizeof(r.protocol_state), "%s", state);
    snprintf(r.sasl_username, sizeof(r.sasl_username), "%s", login);
    snprintf(r.client_address, sizeof(r.client_address), "192.0.2.7");
    r.size = 1000;
    session_answer(x->t, &x->rt, &r, now, out, sizeof(out));
    return out;
}

/* ask - one request of alice */
static const char *ask(struct fx *x, const char *instance, const char *state,
		       uint32_t now)
{
    return ask_as(x, "alice", instance, state, now);
}

/* deferred - a 451 answer */
static bool deferred(const char *out)
{
    return strncmp(out, DEFER, strlen(DEFER)) == 0;
}

/* LET_THROUGH - alice's request at now answered DUNNO */
#define LET_THROUGH(x, instance, state, now) \
    ck_assert_str_eq(ask((x), (instance), (state), (now)), "action=DUNNO\n\n")

START_TEST(test_counted_once)
{
    struct fx x;

    fx_open(&x, CONF("false"));
    LET_THROUGH(&x, "i1", "RCPT", T0);
    LET_THROUGH(&x, "i1", "RCPT", T0 + 1);
    LET_THROUGH(&x, "i1", "RCPT", T0 + 2);
    /* the second message is over the limit of one */
    ck_assert(deferred(ask(&x, "i2", "RCPT", T0 + 3)));
    /* and its later recipients stay refused */
    ck_assert(deferred(ask(&x, "i2", "RCPT", T0 + 4)));
    fx_close(&x, T0 + 999);
}
END_TEST

START_TEST(test_expiry_gives_back)
{
    struct fx x;

    fx_open(&x, CONF("true"));
    LET_THROUGH(&x, "i1", "RCPT", T0);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 59), 0);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 60), 1);
    /* never sent: its count was given back, the next one passes */
    LET_THROUGH(&x, "i2", "RCPT", T0 + 61);
    fx_close(&x, T0 + 999);
}
END_TEST

START_TEST(test_expiry_keeps_without_eod)
{
    struct fx x;

    fx_open(&x, CONF("false"));
    LET_THROUGH(&x, "i1", "RCPT", T0);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 60), 1);
    ck_assert(deferred(ask(&x, "i2", "RCPT", T0 + 61)));
    fx_close(&x, T0 + 999);
}
END_TEST

/* learned_days - the days alice's network (192.0.2.7 has no AS in the
 * test's GeoIP: its /24) is known for, 0 when not learned */
static unsigned learned_days(struct fx *x, uint32_t now)
{
    struct store_user u;
    unsigned days = 0;

    if (store_user_get(x->rt.st, "alice", now, &u) != STORE_OK)
	return 0;
    for (unsigned i = 0; i < STORE_NETS; i++)
	if (u.nets[i].key != 0 && u.nets[i].days > days)
	    days = u.nets[i].days;
    return days;
}

/* Without end_of_data a message let through at its RCPT teaches the
 * login its place, when its transaction is forgotten, as one let through
 * at end of message does: the familiar places are learned either way
 * (they were never learned when Postfix asked at RCPT only, the default,
 * so after the learning week every place stayed unfamiliar). A refused
 * one teaches nothing. */
START_TEST(test_learns_without_eod)
{
    struct fx x, y;

    fx_open(&x, CONF_PD("end_of_data = false; max_instances = 16;"));
    fx_open(&y, CONF_PD("end_of_data = true; max_instances = 16;"));
    for (uint32_t d = 0; d < 3; d++) {
	char inst[16];

	snprintf(inst, sizeof(inst), "d%u", d);
	LET_THROUGH(&x, inst, "RCPT", T0 + d * 86400);
	LET_THROUGH(&y, inst, "RCPT", T0 + d * 86400);
	LET_THROUGH(&y, inst, "END-OF-MESSAGE", T0 + d * 86400 + 1);
	/* the transaction ends when forgotten (instance_timeout 1m) */
	ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + d * 86400 + 60), 1);
    }
    ck_assert_uint_eq(learned_days(&y, T0 + 3 * 86400), 3);
    ck_assert_uint_eq(learned_days(&x, T0 + 3 * 86400), 3);
    fx_close(&x, T0 + 4 * 86400);
    fx_close(&y, T0 + 4 * 86400);
}
END_TEST

#define CONF_RCPTS(pd) STATE \
    "policyd: { instance_timeout = \"1m\"; max_instances = 16; " pd " };\n" \
    "policy: { rules = (\n" \
    "  { name = \"rcpts\"; applies_to = \"authenticated\";\n" \
    "    metric = \"recipients\"; window = \"1h\"; limit = 3;\n" \
    "    action = \"tempfail\"; }\n" \
    "); };\n"

/* Without end_of_data, a later recipient refused after earlier ones
 * were let through leaves the message going to those: the message and
 * their recipients stay counted, only the refused one is given back.
 * On h-merge25 all of i2's units went back at the refusal (3 delivered,
 * 2 counted), so the next message's recipient passed as the third: a
 * thief overshooting every message delivered under the limit forever.
 * With end_of_data Postfix refuses the whole message at its end, and
 * everything goes back as before. */
START_TEST(test_partial_refusal_keeps_delivered)
{
    struct fx x, y;

    fx_open(&x, CONF_RCPTS("end_of_data = false;"));
    fx_open(&y, CONF_RCPTS("end_of_data = true;"));
    LET_THROUGH(&x, "i1", "RCPT", T0);
    LET_THROUGH(&x, "i1", "RCPT", T0 + 1);
    LET_THROUGH(&x, "i2", "RCPT", T0 + 2);
    ck_assert(deferred(ask(&x, "i2", "RCPT", T0 + 3)));	/* the 4th */
    ck_assert(deferred(ask(&x, "i3", "RCPT", T0 + 4)));	/* 4th again */
    LET_THROUGH(&y, "i1", "RCPT", T0);
    LET_THROUGH(&y, "i1", "RCPT", T0 + 1);
    LET_THROUGH(&y, "i1", "END-OF-MESSAGE", T0 + 1);
    LET_THROUGH(&y, "i2", "RCPT", T0 + 2);
    ck_assert(deferred(ask(&y, "i2", "RCPT", T0 + 3)));
    ck_assert(deferred(ask(&y, "i2", "END-OF-MESSAGE", T0 + 3)));
    /* i2 refused whole: its recipient went back, the 3rd passes */
    LET_THROUGH(&y, "i3", "RCPT", T0 + 4);
    fx_close(&x, T0 + 999);
    fx_close(&y, T0 + 999);
}
END_TEST

/* A transaction refused for real, forgotten after a reload turned
 * dry_run on, teaches nothing: Postfix refused it. On h-merge25 its late
 * end of message was judged by the new configuration, where a dry run
 * teaches from every message: the refused message taught alice its
 * network. (The reload is the test's: the runtime's configuration is
 * turned dry, as session_cfg_view leaves a dry one.) */
START_TEST(test_refused_then_dry_reload_teaches_nothing)
{
    struct fx x;

    fx_open(&x, CONF_RCPTS("end_of_data = false;"));
    LET_THROUGH(&x, "i1", "RCPT", T0);
    LET_THROUGH(&x, "i1", "RCPT", T0 + 1);
    LET_THROUGH(&x, "i1", "RCPT", T0 + 2);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 62), 1);
    /* its place learned on day one; day two's message is refused at
     * its fourth recipient */
    ck_assert_uint_eq(learned_days(&x, T0 + 86400), 1);
    for (uint32_t i = 0; i < 3; i++)
	LET_THROUGH(&x, "i2", "RCPT", T0 + 86400 + i);
    ck_assert(deferred(ask(&x, "i2", "RCPT", T0 + 86400 + 3)));
    x.e.cfg->policyd.dry_run = true;	/* SIGUSR1 */
    session_cfg_view(x.e.cfg);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 86400 + 63), 1);
    ck_assert_uint_eq(learned_days(&x, T0 + 2 * 86400), 1);
    fx_close(&x, T0 + 2 * 86400);
}
END_TEST

#define CONF_BYTES STATE \
    "policyd: { instance_timeout = \"1m\"; max_instances = 16;\n" \
    "  end_of_data = false; };\n" \
    "policy: { rules = (\n" \
    "  { name = \"msgs\"; applies_to = \"authenticated\";\n" \
    "    metric = \"messages\"; window = \"1h\"; limit = 2;\n" \
    "    action = \"tempfail\"; },\n" \
    "  { name = \"bytes\"; applies_to = \"authenticated\";\n" \
    "    metric = \"bytes\"; window = \"1d\"; limit = 100000;\n" \
    "    action = \"tempfail\"; }\n" \
    "); };\n"

/* A late end of message (forget, without end_of_data) refused by a rule
 * of end of message gives nothing back: the message was sent. Here a
 * bytes rule, whose window holds a message asked about at its end all
 * the same, fires at i2's late end after a reload lowered its limit. On
 * h-merge25 i2's message went back, and i3, the third message of the
 * hour, passed as the second. */
START_TEST(test_late_eom_refusal_keeps_units)
{
    struct fx x;

    fx_open(&x, CONF_BYTES);
    LET_THROUGH(&x, "i1", "RCPT", T0);
    LET_THROUGH(&x, "i1", "END-OF-MESSAGE", T0 + 1);	/* 1000 bytes */
    LET_THROUGH(&x, "i2", "RCPT", T0 + 2);
    x.e.cfg->policy.rules[1].limit = 500;	/* SIGUSR1 */
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 62), 1);
    ck_assert(deferred(ask(&x, "i3", "RCPT", T0 + 63)));
    fx_close(&x, T0 + 999);
}
END_TEST

START_TEST(test_end_of_message)
{
    struct fx x;

    fx_open(&x, CONF("true"));
    LET_THROUGH(&x, "i1", "RCPT", T0);
    LET_THROUGH(&x, "i1", "END-OF-MESSAGE", T0 + 1);
    /* finished: nothing left to expire or give back */
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 120), 0);
    ck_assert(deferred(ask(&x, "i2", "RCPT", T0 + 121)));
    /* an end of message of an instance never seen begins nothing */
    LET_THROUGH(&x, "i9", "END-OF-MESSAGE", T0 + 122);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 600), 1);
    fx_close(&x, T0 + 999);
}
END_TEST

START_TEST(test_not_judged)
{
    struct fx x;

    fx_open(&x, CONF("false"));
    LET_THROUGH(&x, "", "RCPT", T0);
    LET_THROUGH(&x, "i1", "DATA", T0);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 600), 0);
    fx_close(&x, T0 + 999);
}
END_TEST

/* a full table forgets its least recently asked instance, which gives
 * back what it counted (end_of_data); one asked about again stays */
START_TEST(test_full_table_forgets_oldest)
{
    char login[16], inst[16];
    struct fx x;
    int i;

    fx_open(&x, CONF_PD("end_of_data = true; max_instances = 16;"));
    LET_THROUGH(&x, "a1", "RCPT", T0);
    for (i = 0; i < 15; i++) {
	snprintf(login, sizeof(login), "u%d", i);
	snprintf(inst, sizeof(inst), "b%d", i);
	ck_assert_str_eq(ask_as(&x, login, inst, "RCPT", T0 + 1), "action=DUNNO\n\n");
    }
    ck_assert_uint_eq(session_count(x.t), 16);
    ck_assert_ptr_nonnull(session_lookup(x.t, "a1"));
    LET_THROUGH(&x, "a1", "RCPT", T0 + 2);	/* touched */
    ck_assert_str_eq(ask_as(&x, "v", "c1", "RCPT", T0 + 3), "action=DUNNO\n\n");
    ck_assert_uint_eq(session_count(x.t), 16);
    ck_assert_ptr_nonnull(session_lookup(x.t, "a1"));
    ck_assert_ptr_null(session_lookup(x.t, "b0"));	/* the oldest went */
    ck_assert(deferred(ask(&x, "a2", "RCPT", T0 + 4)));	/* a1 still counts */
    for (i = 0; i < 16; i++) {	/* push a1 and a2 out */
	snprintf(inst, sizeof(inst), "d%d", i);
	ck_assert_str_eq(ask_as(&x, "w", inst, "DATA", T0 + 5), "action=DUNNO\n\n");
	snprintf(login, sizeof(login), "w%d", i);
	ask_as(&x, login, inst, "RCPT", T0 + 5);
    }
    ck_assert_ptr_null(session_lookup(x.t, "a1"));
    /* a1 was forgotten unfinished: given back, alice may send again */
    LET_THROUGH(&x, "a3", "RCPT", T0 + 6);
    fx_close(&x, T0 + 999);
}
END_TEST

/* many open instances are each found again (a second RCPT is no second
 * message), and expire oldest first */
START_TEST(test_many_instances)
{
    char login[16], inst[16];
    struct fx x;
    int i, round;

    fx_open(&x, CONF_PD("end_of_data = true; max_instances = 600;"));
    for (round = 0; round < 2; round++)
	for (i = 0; i < 500; i++) {
	    snprintf(login, sizeof(login), "user%d", i);
	    snprintf(inst, sizeof(inst), "%X.%d", i * 7919, i);
	    ck_assert_msg(strcmp(ask_as(&x, login, inst, "RCPT",
					T0 + (uint32_t) (i / 100) * 10),
				 "action=DUNNO\n\n") == 0, "%s round %d", inst, round);
	}
    ck_assert_uint_eq(session_count(x.t), 500);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 60), 100);
    ck_assert_uint_eq(session_expire(x.t, &x.rt, T0 + 85), 200);
    ck_assert_uint_eq(session_count(x.t), 200);
    fx_close(&x, T0 + 999);
}
END_TEST

/* refusals carry policyd's own text; policyd.dry_run answers DUNNO even
 * when the milter section refuses */
START_TEST(test_own_replies)
{
    struct fx x;

    fx_open(&x, CONF_PD("reply_tempfail = \"policyd text\";"));
    ask(&x, "i1", "RCPT", T0);
    ck_assert_str_eq(ask(&x, "i2", "RCPT", T0 + 1),
		     "action=451 4.7.1 policyd text\n\n");
    fx_close(&x, T0 + 999);
    fx_open(&x, CONF_PD("dry_run = true;"));
    ask(&x, "i1", "RCPT", T0);
    LET_THROUGH(&x, "i2", "RCPT", T0 + 1);
    ck_assert(x.e.cfg->milter.dry_run);	/* the engine runs it dry */
    fx_close(&x, T0 + 999);
    fx_open(&x, CONF_PD(""));
    ask(&x, "i1", "RCPT", T0);
    ck_assert_str_eq(ask(&x, "i2", "RCPT", T0 + 1),
		     "action=451 4.7.1 milter text\n\n");	/* inherited */
    fx_close(&x, T0 + 999);
}
END_TEST


/* rogue_file - the list with 192.0.2.7, expiring at exp (unix s) */
static void rogue_file(const char *path, time_t exp)
{
    char tmp[128], when[32];
    struct tm tm;
    FILE *f;

    gmtime_r(&exp, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    ck_assert_ptr_nonnull(f = fopen(tmp, "w"));
    fprintf(f, "192.0.2.7 # pinned 2026-01-05T08:00:00Z expires=%s reason=\"test\"\n", when);
    fclose(f);
    ck_assert_int_eq(rename(tmp, path), 0);	/* a new file, as the collector's */
}

/* The rogue list reaches policyd's engine (a listed client is refused at
 * its first recipient), and an entry past its expires= is not matched
 * any more though the file was not rewritten by the collector; stats
 * count it as expired */
START_TEST(test_rogue_list)
{
    char path[] = "/tmp/rg-check-session-rogue-XXXXXX", conf[1024];
    struct fx x;
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(conf, sizeof(conf), STATE
	     "policyd: { instance_timeout = \"1m\"; max_instances = 16; };\n"
	     "rogue: { list_path = \"%s\"; };\n"
	     "policy: { rules = (\n"
	     "  { name = \"rogue-host\"; applies_to = \"any\"; metric = \"rogue_listed\";"
	     " action = \"reject\"; }\n); };\n", path);
    rogue_file(path, time(NULL) + 3600);
    fx_open(&x, conf);
    rt_rogue_refresh(&x.rt);
    ck_assert_int_eq(strncmp(ask(&x, "i1", "RCPT", T0), "action=550 ", 11), 0);
    ck_assert_uint_eq(store_counter_get(x.rt.st, STATS_ROGUE_EXPIRED), 0);
    rogue_file(path, time(NULL) - 60);
    rt_rogue_refresh(&x.rt);
    LET_THROUGH(&x, "i2", "RCPT", T0 + 1);
    ck_assert_uint_eq(store_counter_get(x.rt.st, STATS_ROGUE_EXPIRED), 1);
    fx_close(&x, T0 + 999);
    unlink(path);
}
END_TEST

/* session_suite - the transaction table's cases */
static Suite *session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("instance");

    tcase_add_test(tc, test_counted_once);
    tcase_add_test(tc, test_expiry_gives_back);
    tcase_add_test(tc, test_expiry_keeps_without_eod);
    tcase_add_test(tc, test_learns_without_eod);
    tcase_add_test(tc, test_partial_refusal_keeps_delivered);
    tcase_add_test(tc, test_refused_then_dry_reload_teaches_nothing);
    tcase_add_test(tc, test_late_eom_refusal_keeps_units);
    tcase_add_test(tc, test_end_of_message);
    tcase_add_test(tc, test_not_judged);
    tcase_add_test(tc, test_full_table_forgets_oldest);
    tcase_add_test(tc, test_many_instances);
    tcase_add_test(tc, test_own_replies);
    tcase_add_test(tc, test_rogue_list);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(session_suite());
}
