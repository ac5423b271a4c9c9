/*
 * check_collector_cfg - the collector's configuration keys: the US-CERT
 * defaults, the contract key names, and their errors with file:line.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "check_main.h"

/* load - a configuration from text; NULL with err filled on error */
static struct cfg *load(const char *text, char *err, size_t errlen)
{
    char path[] = "/tmp/check_collector_cfg.XXXXXX";
    int fd = mkstemp(path);
    struct cfg *c;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
    close(fd);
    c = cfg_load(path, err, errlen);
    unlink(path);
    return c;
}

START_TEST(test_defaults)
{
    char err[1024];
    struct cfg *c = load("", err, sizeof(err));
    const struct cfg_flows *f;

    ck_assert_msg(c != NULL, "%s", err);
    f = &c->collector.flows;
    ck_assert_uint_eq(f->min_packets, 3);
    ck_assert_uint_eq(f->min_bytes, 120);
    ck_assert_uint_eq(f->mail_share, 85);
    ck_assert_uint_eq(f->fan_out_window_s, 60);
    ck_assert_uint_eq(f->volume_jump_factor, 10);
    ck_assert_str_eq(f->names_file, "");
    ck_assert_str_eq(f->directory, "/var/cache/nfdump");
    ck_assert_str_eq(c->collector.database, "/var/lib/relayguard/collector.db");
    ck_assert_uint_eq(c->collector.retention_s, 400 * 86400);
    ck_assert_uint_eq(f->local_networks.n, 0);
    ck_assert_uint_eq(c->collector.event_retention_s, 30 * 86400);
    ck_assert_uint_eq(c->collector.event_window_s, 300);
    ck_assert_uint_eq(c->collector.incident_quiet_s, 3600);
    ck_assert_uint_eq(c->collector.incident_logins, 3);
    ck_assert_uint_eq(c->collector.incident_window_s, 3600);
    ck_assert_str_eq(c->collector.incidents_file, "/var/lib/relayguard/incidents.jsonl");
    ck_assert_uint_eq(c->collector.incident_retention_s, 90 * 86400);
    ck_assert_str_eq(c->collector.alerts.to, "");	/* no alert mail */
    ck_assert_str_eq(c->collector.alerts.from, "");
    ck_assert_str_eq(c->collector.alerts.sendmail, "/usr/sbin/sendmail");
    ck_assert_uint_eq(c->collector.alerts.max_per_hour, 10);
    ck_assert_uint_eq(c->collector.alerts.timeout_ms, 30000);
    cfg_free(c);
}
END_TEST

START_TEST(test_contract_keys)
{
    char err[1024];
    struct cfg *c = load("collector: {\n database = \"/srv/c.db\";\n report_dir = \"/srv/r\";\n"
			 " flows: {\n  directory = \"/srv/flows\";\n"
			 "  local_networks = [ \"10.20.0.0/16\", \"fd00:20::/32\" ];\n"
			 "  local_domains = [ \"Example.EDU\" ];\n"
			 "  mail_servers = [ \"10.20.0.25/32\" ];\n"
			 "  names_file = \"/srv/names\";\n"
			 "  min_packets = 4; min_bytes = 200; mail_share = 90;\n"
			 "  fan_out_servers = 75; fan_out_window = \"2m\";\n"
			 "  volume_jump_factor = 20; volume_jump_min_flows = 5000;\n };\n};\n",
			 err, sizeof(err));
    const struct cfg_flows *f;

    ck_assert_msg(c != NULL, "%s", err);
    f = &c->collector.flows;
    ck_assert_str_eq(c->collector.database, "/srv/c.db");
    ck_assert_str_eq(c->collector.report_dir, "/srv/r");
    ck_assert_str_eq(f->directory, "/srv/flows");
    ck_assert_uint_eq(f->local_networks.n, 2);
    ck_assert_uint_eq(f->local_domains.n, 1);
    ck_assert_str_eq(f->local_domains.v[0], "example.edu");
    ck_assert_uint_eq(f->mail_servers.n, 1);
    ck_assert_str_eq(f->names_file, "/srv/names");
    ck_assert_uint_eq(f->min_packets, 4);
    ck_assert_uint_eq(f->min_bytes, 200);
    ck_assert_uint_eq(f->mail_share, 90);
    ck_assert_uint_eq(f->fan_out_servers, 75);
    ck_assert_uint_eq(f->fan_out_window_s, 120);
    ck_assert_uint_eq(f->volume_jump_factor, 20);
    ck_assert_uint_eq(f->volume_jump_min_flows, 5000);
    cfg_free(c);
}
END_TEST

START_TEST(test_errors)
{
    static const struct {
	const char *text, *want;
    } bad[] = {
	{"collector: { flows: {\n mail_share = 101; }; };\n", ":2: collector.flows.mail_share"},
	{"collector: { flows: {\n min_packets = 0; }; };\n", ":2: collector.flows.min_packets"},
	{"collector: { flows: { local_domains = [ \"not a domain\" ]; }; };\n",
	 ":1: collector.flows.local_domains[0]"},
	{"collector: { flows: { local_networks = [ \"10.0.0.0/33\" ]; }; };\n",
	 "collector.flows.local_networks[0]"},
	{"collector: {\n database = \"rel.db\"; };\n", ":2: collector.database"},
	{"collector: { flows: { fan_out = 3; }; };\n", "collector.flows.fan_out: unknown key"},
	{"collector: { retention = \"1h\"; };\n", "collector.retention"},
    };
    char err[1024];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	struct cfg *c = load(bad[i].text, err, sizeof(err));

	ck_assert_msg(c == NULL, "accepted: %s", bad[i].text);
	ck_assert_msg(strstr(err, bad[i].want) != NULL, "%s: got \"%s\"", bad[i].want, err);
    }
}
END_TEST

static Suite *collector_cfg_suite(void)
{
    Suite *s = suite_create("collector_cfg");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_contract_keys);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(collector_cfg_suite());
}
