/*
 * check_ctl_sites - unit tests of relayguardctl's "sites": the site's
 * networks and places, made through the store's API (store_site_vouch,
 * store_site_place) in a state file that also holds clients, come out
 * with the logins and days that vouched for them and whether they count
 * (policy.site_logins 2 on policy.site_days 2), in the human tables and
 * in the JSON document; the clients stay out of it, and it out of
 * "clients". Every test runs forked and starts from state_make(); the
 * commands get NOW as their clock.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "ctl_test.h"

#define DAY 86400u
#define AS_SITE 64510u		/* vouched by two logins on two days */
#define AS_ONE 64511u		/* by one login */

static char siteconf[PATH_LEN + 16];

/* vouch - login vouches for ip's network at when */
static void vouch(STORE *st, const char *ip, const char *login,
		  uint32_t when)
{
    struct addr a;

    ck_assert_int_eq(addr_parse(ip, &a), 0);
    ck_assert_int_eq(store_site_vouch(st, &a, login, when, NULL), STORE_OK);
}

/* place - login vouches for a site place at when */
static void place(STORE *st, enum store_site_kind kind, uint32_t id,
		  const char *login, uint32_t when)
{
    ck_assert_int_eq(store_site_place(st, kind, id, login, true, when, NULL),
		     STORE_OK);
}

/* sites_make - state_make()'s state and the site's entries: a /24 two
 * logins vouched for on two days (the site's), an IPv6 /48 and a country
 * one login vouched for (not), an AS number as the /24, another as the
 * /48; and a /64 entry, which is none of them */
static void sites_make(void)
{
    struct addr a;
    STORE *st;

    state_make();
    st = state_open();
    vouch(st, "192.0.2.7", "carol@example.org", NOW - 2 * DAY);
    vouch(st, "192.0.2.9", "dave@example.org", NOW - 2 * DAY);
    vouch(st, "192.0.2.7", "carol@example.org", NOW - 10 * MIN);
    vouch(st, "2001:db8:5:1::9", "erin@example.org", NOW - 5 * MIN);
    place(st, STORE_SITE_AS, AS_SITE, "carol@example.org", NOW - 2 * DAY);
    place(st, STORE_SITE_AS, AS_SITE, "dave@example.org", NOW - 10 * MIN);
    place(st, STORE_SITE_AS, AS_ONE, "erin@example.org", NOW - 5 * MIN);
    place(st, STORE_SITE_CC, store_site_cc("NL"), "erin@example.org",
	  NOW - 5 * MIN);
    /* an IPv6 client's /64 entry: the client table's, no site entry */
    ck_assert_int_eq(addr_parse("2001:db8:9::1", &a), 0);
    ck_assert_int_eq(store_prefix_note(st, &a, "erin@example.org",
				       NOW - 5 * MIN, NULL), STORE_OK);
    store_close(st);
}

/* row_is - the table row of name has these logins, days and site */
static void row_is(const char *name, unsigned logins, unsigned days,
		   const char *site)
{
    const char *row = row_of(out, name);
    char n[64], s[8];
    unsigned l, d;

    ck_assert_msg(row != NULL, "no row %s in:\n%s", name, out);
    ck_assert_msg(sscanf(row, "%63s %u %u %7s", n, &l, &d, s) == 4,
		  "row %s", row);
    ck_assert_str_eq(n, name);
    ck_assert_msg(l == logins && d == days && strcmp(s, site) == 0,
		  "%s: %u logins, %u days, site %s", name, l, d, s);
}

START_TEST(test_sites_table)
{
    sites_make();
    ck_assert_int_eq(run("-c", siteconf, "sites", NULL), CTL_EXIT_OK);
    ck_assert(lines_fit(out, 80));
    ck_assert(no_controls(out));
    ck_assert_ptr_nonnull(strstr(out, "the site's: 2 logins within 30d on"
				 " 2 days\n"));
    row_is("192.0.2.0/24", 2, 2, "yes");
    row_is("2001:db8:5::/48", 1, 1, "no");
    row_is("AS64510", 2, 2, "yes");
    row_is("AS64511", 1, 1, "no");
    row_is("NL", 1, 1, "no");
    ck_assert_ptr_nonnull(strstr(out, "(2 of 2 site networks)\n"));
    ck_assert_ptr_nonnull(strstr(out, "(3 of 3 site places)\n"));
    /* the site's first: the /24 above the /48, AS64510 above the rest */
    ck_assert(strstr(out, "192.0.2.0/24") < strstr(out, "2001:db8"));
    ck_assert(strstr(out, "AS64510") < strstr(out, "AS64511"));
    /* no client is a site entry, no site entry a client */
    ck_assert_ptr_null(strstr(out, "10.1.2.3"));
    ck_assert_int_eq(run("-c", siteconf, "clients", NULL), CTL_EXIT_OK);
    ck_assert_ptr_nonnull(strstr(out, "(8 of 8 clients"));
    ck_assert_ptr_null(strstr(out, "100::"));
    /* --limit cuts each table */
    ck_assert_int_eq(run("-c", siteconf, "sites", "--limit", "1", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "(1 of 2 site networks)\n"));
    ck_assert_ptr_nonnull(strstr(out, "(1 of 3 site places)\n"));
    ck_assert_ptr_null(row_of(out, "NL"));
}
END_TEST

/* json_entry - the member of arr whose key is text (or number) */
static const struct jread_val *json_entry(const struct jread_val *arr,
					  const char *key, const char *text,
					  int64_t number)
{
    for (const struct jread_val *e = arr->child; e != NULL; e = e->next) {
	int64_t n;

	if (text != NULL && jread_str(e, key) != NULL
	    && strcmp(jread_str(e, key), text) == 0)
	    return e;
	if (text == NULL && jread_int(e, key, &n) == 0 && n == number)
	    return e;
    }
    ck_abort_msg("no %s %s in %s", key, text ? text : "(number)", out);
    return NULL;
}

/* json_counts - an entry's logins, days and site */
static void json_counts(const struct jread_val *e, int64_t logins,
			int64_t days, bool site)
{
    int64_t l, d;

    ck_assert_int_eq(jread_int(e, "logins", &l), 0);
    ck_assert_int_eq(jread_int(e, "days", &d), 0);
    ck_assert_int_eq(l, logins);
    ck_assert_int_eq(d, days);
    ck_assert_ptr_nonnull(jread_get(e, "site"));
    ck_assert_int_eq(jread_get(e, "site")->b, site);
}

START_TEST(test_sites_json)
{
    struct jread_val *v;
    const struct jread_val *nets, *places, *e;
    int64_t n;

    sites_make();
    ck_assert_int_eq(run("-c", siteconf, "--json", "sites", NULL), 0);
    v = parse_out();
    ck_assert_int_eq(jread_int(v, "site_logins", &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(jread_int(v, "networks_total", &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(jread_int(v, "places_total", &n), 0);
    ck_assert_int_eq(n, 3);
    nets = jread_get(v, "networks");
    places = jread_get(v, "places");
    ck_assert(nets != NULL && nets->type == JREAD_ARR);
    ck_assert(places != NULL && places->type == JREAD_ARR);
    json_counts(json_entry(nets, "network", "192.0.2.0/24", 0), 2, 2, true);
    e = json_entry(nets, "network", "2001:db8:5::/48", 0);
    json_counts(e, 1, 1, false);
    ck_assert_int_eq(jread_int(e, "vouched", &n), 0);
    ck_assert_int_eq(n, NOW - 5 * MIN);
    e = json_entry(places, "asn", NULL, AS_SITE);
    ck_assert_str_eq(jread_str(e, "kind"), "as");
    json_counts(e, 2, 2, true);
    json_counts(json_entry(places, "asn", NULL, AS_ONE), 1, 1, false);
    e = json_entry(places, "country", "NL", 0);
    ck_assert_str_eq(jread_str(e, "kind"), "country");
    json_counts(e, 1, 1, false);
    jread_free(v);
}
END_TEST

START_TEST(test_sites_off)
{
    /* the default configuration: site learning off, nothing counts */
    sites_make();
    ck_assert_int_eq(run("-c", conf, "sites", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "site learning is off"));
    row_is("192.0.2.0/24", 2, 2, "no");
    /* a state with no site entries */
    state_make();
    ck_assert_int_eq(run("-c", siteconf, "sites", NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "no site networks in the state\n"));
    ck_assert_ptr_nonnull(strstr(out, "no site places in the state\n"));
    ck_assert_int_eq(run("-c", siteconf, "sites", "--limit", "x", NULL),
		     CTL_EXIT_USAGE);
}
END_TEST

/* site_conf - the common configuration with the site's learning on */
static void site_conf(void)
{
    snprintf(siteconf, sizeof(siteconf), "%s/site.conf", tdir);
    ctl_conf_policy(siteconf, "site_logins = 2; site_days = 2;");
}

/* ctl_sites_suite - the test cases */
static Suite *ctl_sites_suite(void)
{
    Suite *s = suite_create("ctl_sites");
    TCase *tc = tcase_create("sites");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_sites_table);
    tcase_add_test(tc, test_sites_json);
    tcase_add_test(tc, test_sites_off);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ctl_check_run_with(ctl_sites_suite(), site_conf);
}
