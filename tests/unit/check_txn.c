/*
 * check_txn - txn_run, the one driver of a whole transaction that
 * relayguardctl replay and the golden cases share: the phases run in the
 * milter's order and stop where the MTA would stop the transaction.
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

/* main - the suite */
int main(void)
{
    Suite *s = suite_create("txn");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_phases);
    suite_add_tcase(s, tc);
    return check_run(s);
}
