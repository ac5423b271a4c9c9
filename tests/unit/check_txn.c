/*
 * check_txn - txn_run, the one driver of a whole transaction that
 * relayguardctl replay and the golden cases share: the phases run in the
 * milter's order and stop where the MTA would stop the transaction;
 * txn_subject, who a verdict is about for the milter's and policyd's
 * report_verdict.
 */
#include "check_main.h"
#include "rules_test.h"
#include "txn.h"

#define CONF STATE \
    "networks: { internal = [ \"10.0.0.0/8\" ]; };\n" \
    "policy: { rules = (\n" \
    "  { name = \"msgs\"; applies_to = \"authenticated\"; metric = \"messages\";\n" \
    "    window = \"1h\"; limit = 1; action = \"tempfail\"; },\n" \
    "  { name = \"rcpts\"; applies_to = \"internal\"; metric = \"recipients\";\n" \
    "    window = \"1h\"; limit = 2; action = \"reject\"; }\n" \
    "); };\n"

/* txn_for - a transaction of login (NULL: none) from client */
static void txn_for(struct txn *t, const char *login, const char *client,
		    uint32_t rcpts)
{
    memset(t, 0, sizeof(*t));
    t->login = login;
    ck_assert_int_eq(addr_parse(client, &t->client), 0);
    t->rcpts = rcpts;
    t->bytes = 1000;
    t->qid = "TXNQID";
}

START_TEST(test_phases)
{
    struct env e;
    struct txn t;
    struct rules_verdict v;
    uint32_t at = 99;

    env_open(&e, CONF);
    txn_for(&t, "alice", "198.18.3.1", 2);
    ck_assert_int_eq(txn_run(e.cfg, e.st, &t, T0, &v, &at), TXN_END_EOM);
    ck_assert_int_eq(v.action, CFG_ACTION_ACCEPT);
    ck_assert_uint_eq(at, 2);
    /* the second message of the hour: refused at MAIL, no recipient */
    ck_assert_int_eq(txn_run(e.cfg, e.st, &t, T0 + MIN, &v, &at), TXN_END_MAIL);
    ck_assert_int_eq(v.action, CFG_ACTION_TEMPFAIL);
    ck_assert_int_eq(v.rule, 0);
    ck_assert_uint_eq(at, 0);
    ck_assert_str_eq(txn_end_phase(TXN_END_MAIL), "mail");
    /* an internal host: the third recipient is refused, at RCPT 3 */
    txn_for(&t, NULL, "10.1.2.3", 5);
    ck_assert_int_eq(txn_run(e.cfg, e.st, &t, T0, &v, &at), TXN_END_RCPT);
    ck_assert_int_eq(v.action, CFG_ACTION_REJECT);
    ck_assert_int_eq(v.rule, 1);
    ck_assert_uint_eq(at, 3);
    ck_assert_str_eq(txn_end_phase(TXN_END_RCPT), "rcpt");
    /* no recipient the MTA took: MAIL only */
    txn_for(&t, "bob", "198.18.3.2", 0);
    ck_assert_int_eq(txn_run(e.cfg, e.st, &t, T0, &v, NULL), TXN_END_NORCPT);
    ck_assert_int_eq(v.action, CFG_ACTION_ACCEPT);
    ck_assert_str_eq(txn_end_phase(TXN_END_EOM), "eom");
    /* ... and gave back the message it counted at MAIL, as the milter's
     * abort does: bob's next one is the first of his hour */
    txn_for(&t, "bob", "198.18.3.2", 1);
    ck_assert_int_eq(txn_run(e.cfg, e.st, &t, T0 + MIN, &v, NULL), TXN_END_EOM);
    ck_assert_int_eq(v.action, CFG_ACTION_ACCEPT);
    env_close(&e);
}
END_TEST

/* txn_subject: the transaction's fields, the phase by name, no HELO */
START_TEST(test_subject)
{
    struct report_subject rs;
    struct txn t;

    txn_for(&t, "ann", "2001:db8::7", 3);
    memcpy(t.geo.cc, "DE", 3);
    t.geo.asn = 64500;
    t.rogue_listed = true;
    memset(&rs, 0xa5, sizeof(rs));	/* nothing left from before */
    txn_subject(&t, "rcpt", &rs);
    ck_assert_str_eq(rs.qid, "TXNQID");
    ck_assert_str_eq(rs.login, "ann");
    ck_assert_ptr_eq(rs.client, &t.client);
    ck_assert_str_eq(rs.country, "DE");
    ck_assert_ptr_null(rs.helo);
    ck_assert_str_eq(rs.phase, "rcpt");
    ck_assert_int_eq(rs.phase_id, RULES_PHASE_RCPT);
    ck_assert_uint_eq(rs.asn, 64500);
    ck_assert_uint_eq(rs.rcpts, 3);
    ck_assert_uint_eq(rs.bytes, 1000);
    ck_assert(rs.rogue_listed);
    ck_assert_int_eq(txn_phase_id("mail"), RULES_PHASE_MAIL);
    ck_assert_int_eq(txn_phase_id("eom"), RULES_PHASE_EOM);
    ck_assert_int_eq(txn_phase_id("data"), RULES_PHASE_MAIL);
    ck_assert_str_eq(txn_phase_name(RULES_PHASE_MAIL), "mail");
    ck_assert_str_eq(txn_phase_name(RULES_PHASE_RCPT), "rcpt");
    ck_assert_str_eq(txn_phase_name(RULES_PHASE_EOM), "eom");
    ck_assert_str_eq(txn_phase_name((enum rules_phase) 7), "?");
}
END_TEST

/* main - the suite */
int main(void)
{
    Suite *s = suite_create("txn");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_phases);
    tcase_add_test(tc, test_subject);
    suite_add_tcase(s, tc);
    return check_run(s);
}
