/*
 * check_cfg - the configuration loader: the sample file, bad files (each
 * through cfg_load and through "relayguard-milter -n" for the exit status),
 * durations and sizes.
 */
#include <check.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cfg.h"
#include "check_main.h"
#include "stats.h"

#define EX_CONFIG_STATUS 78

/* A minimal valid policy, so each case breaks exactly one thing. */
#define RULE_OK "{ name = \"r\"; applies_to = \"authenticated\"; " \
    "metric = \"distinct_countries\"; window = \"10m\"; limit = 3; " \
    "action = \"tempfail\"; }"

struct bad_case {
    const char *text;		/* configuration file contents */
    int line;			/* expected line of the error */
    const char *key;		/* expected key in the message */
    const char *what;		/* expected explanation fragment */
};

static const struct bad_case bad_cases[] = {
    {"milter: {\n sokcet = \"inet:1@127.0.0.1\";\n};\n", 2, "milter.sokcet", "unknown key"},
    {"milter: { socket = 8890; };\n", 1, "milter.socket", "expected a string"},
    {"milter: { socket = \"inet:8890\"; };\n", 1, "milter.socket", "every interface"},
    {"milter: { socket = \"inet:99999@127.0.0.1\"; };\n", 1, "milter.socket", "expected unix:/PATH"},
    {"milter: { socket = \"tcp:1@127.0.0.1\"; };\n", 1, "milter.socket", "expected unix:/PATH"},
    {"policyd: { socket = \"inet:10040\"; };\n", 1, "policyd.socket", "every interface"},
    {"policyd: { max_connections = 0; };\n", 1, "policyd.max_connections", ""},
    {"policyd: { instance_timeout = \"0s\"; };\n", 1, "policyd.instance_timeout", ""},
    {"policyd: { idle_timeout = \"0s\"; };\n", 1, "policyd.idle_timeout", ""},
    {"policyd: { max_instances = 1; };\n", 1, "policyd.max_instances", ""},
    {"policyd: { pidfile = \"/run/relayguard/relayguard-milter.pid\"; };\n", 1, "policyd.pidfile", "milter.pidfile"},
    {"policyd: { dry_run = \"yes\"; };\n", 1, "policyd.dry_run", "true or false"},
    {"policyd: { reply_reject = \"caf\xc3\xa9\"; };\n", 1, "policyd.reply_reject", "printable ASCII"},
    {"milter: { umask = 7; };\n", 1, "milter.umask", "octal"},
    {"milter: { umask = \"0778\"; };\n", 1, "milter.umask", "octal"},
    {"milter: { dry_run = \"yes\"; };\n", 1, "milter.dry_run", "true or false"},
    {"milter: { on_error = \"panic\"; };\n", 1, "milter.on_error", "unknown value \"panic\""},
    {"milter: { syslog_facility = \"local9\"; };\n", 1, "milter.syslog_facility", "unknown value"},
    {"milter: { pidfile = \"run/x.pid\"; };\n", 1, "milter.pidfile", "absolute file path"},
    {"milter: { reply_reject = \"caf\xc3\xa9\"; };\n", 1, "milter.reply_reject", "printable ASCII"},
    {"milter: { user = \"ro ot\"; };\n", 1, "milter.user", "user or group name"},
    {"\n\nstate: { max_users = \"big\"; };\n", 3, "state.max_users", "expected an integer"},
    {"state: { max_users = 3; };\n", 1, "state.max_users", "from 16 to"},
    {"state: { ips_per_user = 65; };\n", 1, "state.ips_per_user", "from 2 to 64"},
    {"state: { lock_timeout = \"10\"; };\n", 1, "state.lock_timeout", "expected a duration"},
    {"state: { lock_timeout = \"1m\"; };\n", 1, "state.lock_timeout", "out of range"},
    {"state: { path = \"\"; };\n", 1, "state.path", "absolute file path"},
    {"stat: { path = \"/x\"; };\n", 1, "stat", "unknown key"},
    {"networks: {\n internal = [ \"10.0.0.0/33\" ];\n};\n", 2, "networks.internal[0]", "prefix length"},
    {"networks: { trusted = [ \"10.0.0.300\" ]; };\n", 1, "networks.trusted[0]", "bad network address"},
    {"networks: { trusted = [ \"2001:db8::/129\" ]; };\n", 1, "networks.trusted[0]", "0..128"},
    {"networks: { trusted = \"10.0.0.0/8\"; };\n", 1, "networks.trusted", "list of networks"},
    {"policy: { rules = (\n { name = \"a\"; applies_to = \"authenticated\"; metric = \"distinct_cows\"; window = \"10m\"; limit = 3; action = \"reject\"; }\n); };\n",
     2, "policy.rules[0].metric", "unknown value \"distinct_cows\""},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"everyone\"; metric = \"messages\"; window = \"1h\"; limit = 3; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].applies_to", "authenticated, internal"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; limit = 3; action = \"drop\"; } ); };\n",
     1, "policy.rules[0].action", "accept, tag, quarantine"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"any\"; metric = \"messages\"; window = \"10q\"; limit = 3; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].window", "expected a duration"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"any\"; metric = \"messages\"; window = \"2d\"; limit = 3; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].window", "out of range"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"any\"; metric = \"messages\"; limit = 3; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].window", "counts over a window"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"authenticated\"; metric = \"new_country\"; window = \"1h\"; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].window", "does not apply"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].limit", "needs a limit"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; limit = -4; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].limit", ">= 0"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"any\"; metric = \"bytes\"; window = \"1h\"; limit = \"5X\"; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].limit", "size"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"internal\"; metric = \"distinct_countries\"; window = \"1h\"; limit = 3; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"authenticated\"; metric = \"distinct_ips\"; window = \"1h\"; limit = 16; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].limit", "never be exceeded"},
    {"policy: { rules = ( " RULE_OK ",\n " RULE_OK " ); };\n", 2, "policy.rules[1].name", "duplicate rule name"},
    {"policy: { rules = ( { name = \"Bad Name\"; applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; limit = 3; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].name", "rule name"},
    {"policy: { rules = ( { applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; limit = 3; action = \"reject\"; } ); };\n",
     1, "policy.rules[0].name", "required"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; limit = 3; action = \"reject\"; colour = \"red\"; } ); };\n",
     1, "policy.rules[0].colour", "unknown key"},
    {"policy: { rules = ( " RULE_OK " );\n overrides = ( { user = \"a\"; rule = \"nope\"; limit = 4; } ); };\n",
     2, "policy.overrides[0].rule", "no rule is named \"nope\""},
    {"policy: { rules = ( " RULE_OK " );\n overrides = ( { user = \"a\"; domain = \"b.org\"; rule = \"r\"; limit = 4; } ); };\n",
     2, "policy.overrides[0]", "exactly one of user, domain or network"},
    {"policy: { overrides = ( { network = \"10.1.0.0/16x\"; countries = [\"DE\"]; } ); };\n",
     1, "policy.overrides[0].network", "prefix length"},
    {"policy: { overrides = ( { domain = \"example.org\"; countries = [\"Germany\"]; } ); };\n",
     1, "policy.overrides[0].countries", "two-letter"},
    {"policy: { whitelist: { networks = [ \"bogus\" ]; }; };\n", 1, "policy.whitelist.networks[0]", "bad network address"},
    {"policy: { rules = ( " RULE_OK ",\n { name = \"b\"; applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; limit = 3; action = \"reject\"; requires = [ \"c\" ]; } ); };\n",
     2, "policy.rules[1].requires[0]", "no earlier rule is named \"c\""},
    {"policy: { rules = ( { name = \"b\"; applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; limit = 3; action = \"reject\"; requires = [ \"b\" ]; } ); };\n",
     1, "policy.rules[0].requires[0]", "listed before it"},
    {"policy: { rules = ( { name = \"b\"; applies_to = \"any\"; metric = \"messages\"; window = \"1h\"; limit = 3; action = \"reject\"; requires = [ \"Bad\" ]; } ); };\n",
     1, "policy.rules[0].requires[0]", "rule name"},
    {"policy: { rules = ( { name = \"u\"; applies_to = \"authenticated\"; metric = \"unfamiliar_network\"; limit = 1; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].limit", "does not apply"},
    {"policy: { rules = ( { name = \"u\"; applies_to = \"internal\"; metric = \"messages_over_usual\"; window = \"1h\"; limit = 1; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"u\"; applies_to = \"authenticated\"; metric = \"unfamiliar_networks\"; window = \"1h\"; limit = 16; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].limit", "never be exceeded"},
    {"policy: { rules = ( { name = \"u\"; applies_to = \"authenticated\"; metric = \"unfamiliar_places\"; window = \"1h\"; limit = 16; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].limit", "never be exceeded"},
    {"policy: { rules = ( { name = \"u\"; applies_to = \"internal\"; metric = \"unfamiliar_places\"; window = \"1h\"; limit = 1; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"u\"; applies_to = \"authenticated\"; metric = \"unfamiliar_messages_over_usual\"; limit = 8; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"carrier-volume\"; applies_to = \"authenticated\"; metric = \"coarse_messages_over_usual\"; window = \"2h\"; limit = 1; action = \"quarantine\"; } ); };\n",
     1, "policy.rules[0].window", "compares with a usual hour: expected \"1h\""},
    {"policy: { rules = ( { name = \"c\"; applies_to = \"authenticated\";\n metric = \"coarse_messages_over_usual\";\n window = \"30m\"; limit = 1; action = \"tag\"; } ); };\n",
     3, "policy.rules[0].window", "usual hour"},
    {"policy: { rules = ( { name = \"u\"; applies_to = \"authenticated\"; metric = \"new_countries\"; window = \"1d\"; limit = 16; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].limit", "never be exceeded"},
    {"policy: { rules = ( { name = \"u\"; applies_to = \"internal\"; metric = \"new_countries\"; window = \"1d\"; limit = 2; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"w\"; applies_to = \"authenticated\"; metric = \"relayed_messages_over_usual\"; window = \"2h\"; limit = 5; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "counts the last hour: expected \"1h\""},
    {"policy: { rules = ( { name = \"w\"; applies_to = \"internal\"; metric = \"relayed_messages_over_usual\"; window = \"1h\"; limit = 5; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"c\"; applies_to = \"authenticated\"; metric = \"carrier_networks\"; window = \"1h\"; limit = 16; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].limit", "never be exceeded"},
    {"policy: { rules = ( { name = \"c\"; applies_to = \"internal\"; metric = \"carrier_networks\"; window = \"1h\"; limit = 1; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"c\"; applies_to = \"authenticated\"; metric = \"carrier_networks\"; limit = 1; action = \"tag\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"r\"; applies_to = \"authenticated\"; metric = \"revisit_messages\"; limit = 8; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"r\"; applies_to = \"internal\"; metric = \"revisit_messages\"; window = \"1d\"; limit = 8; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    /* revisit_messages judges a line abroad, as
     * abroad_line_messages_over_usual: none with coarse_km 0 */
    {"policy: { rules = ( { name = \"r\"; applies_to = \"authenticated\";\n metric = \"revisit_messages\"; window = \"1d\"; limit = 8; action = \"tempfail\"; } ); };\n",
     2, "policy.rules[0].metric", "coarse_km above 0"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"authenticated\"; metric = \"abroad_line_messages_over_usual\"; limit = 20; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"a\"; applies_to = \"internal\"; metric = \"abroad_line_messages_over_usual\"; window = \"1d\"; limit = 20; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    /* abroad_line_messages_over_usual judges a line: a place located
     * finer than coarse_km, none with 0 (the default): never fired */
    {"policy: { rules = ( { name = \"a\"; applies_to = \"authenticated\";\n metric = \"abroad_line_messages_over_usual\"; window = \"1d\"; limit = 50; action = \"tempfail\"; } ); };\n",
     2, "policy.rules[0].metric", "coarse_km above 0"},
    {"policy: { rules = ( { name = \"s\"; applies_to = \"internal\"; metric = \"shared_messages_over_usual\"; window = \"1d\"; limit = 50; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"s\"; applies_to = \"authenticated\"; metric = \"shared_messages_over_usual\"; limit = 50; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"n\"; applies_to = \"internal\"; metric = \"newcomer_messages\"; window = \"1h\"; limit = 10; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"n\"; applies_to = \"authenticated\"; metric = \"newcomer_messages\"; limit = 10; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"n\"; applies_to = \"internal\"; metric = \"newcomer_recipients\"; window = \"1d\"; limit = 1500; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"n\"; applies_to = \"authenticated\"; metric = \"newcomer_recipients\"; limit = 1500; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"n\"; applies_to = \"authenticated\"; metric = \"newcomer_recipients\"; window = \"2d\"; limit = 1500; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", ""},
    /* newcomer_recipients reads the site's places: none without
     * site_logins (the default 0), and the rule would never fire */
    {"policy: { rules = ( { name = \"n\"; applies_to = \"authenticated\";\n metric = \"newcomer_recipients\"; window = \"1d\"; limit = 1500; action = \"tempfail\"; } ); };\n",
     2, "policy.rules[0].metric", "site_logins above 0"},
    /* newcomer_line_recipients as newcomer_recipients: a login's, over
     * at most a day, and the site's networks are its lines'
     * neighbourhoods: none without site_logins */
    {"policy: { rules = ( { name = \"n\"; applies_to = \"internal\"; metric = \"newcomer_line_recipients\"; window = \"1d\"; limit = 2000; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { site_logins = 4; rules = ( { name = \"n\"; applies_to = \"authenticated\"; metric = \"newcomer_line_recipients\"; limit = 2000; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { site_logins = 4; rules = ( { name = \"n\"; applies_to = \"authenticated\"; metric = \"newcomer_line_recipients\"; window = \"2d\"; limit = 2000; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", ""},
    {"policy: { rules = ( { name = \"n\"; applies_to = \"authenticated\";\n metric = \"newcomer_line_recipients\"; window = \"1d\"; limit = 2000; action = \"tempfail\"; } ); };\n",
     2, "policy.rules[0].metric", "site_logins above 0"},
    /* ... and lines located finer than coarse_km: none with 0 (the
     * default), and the rule would never fire */
    {"policy: { site_logins = 4; rules = ( { name = \"n\"; applies_to = \"authenticated\";\n metric = \"newcomer_line_recipients\"; window = \"1d\"; limit = 2000; action = \"tempfail\"; } ); };\n",
     2, "policy.rules[0].metric", "coarse_km above 0"},
    /* new_exit is yes or no, as unfamiliar_network; a signal for the
     * rules after it (new-exit-recipients) */
    {"policy: { rules = ( { name = \"e\"; applies_to = \"authenticated\"; metric = \"new_exit\"; limit = 1; action = \"accept\"; } ); };\n",
     1, "policy.rules[0].limit", "does not apply"},
    {"policy: { rules = ( { name = \"e\"; applies_to = \"internal\"; metric = \"new_exit\"; action = \"accept\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"r\"; applies_to = \"authenticated\"; metric = \"prior_recipients_over_usual\"; limit = 60; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"b\"; applies_to = \"authenticated\"; metric = \"bulk_messages\"; window = \"12h\"; limit = 2; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].limit", "never be exceeded"},
    {"policy: { rules = ( { name = \"b\"; applies_to = \"internal\"; metric = \"bulk_messages\"; window = \"12h\"; limit = 1; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].applies_to", "SASL logins"},
    {"policy: { rules = ( { name = \"b\"; applies_to = \"authenticated\"; metric = \"bulk_messages\"; limit = 1; action = \"tempfail\"; } ); };\n",
     1, "policy.rules[0].window", "missing"},
    {"policy: { rules = ( { name = \"v\"; applies_to = \"authenticated\"; metric = \"messages\"; window = \"1h\"; limit = 5; action = \"tempfail\";\n block_after = 2; } ); };\n",
     2, "policy.rules[0].block_after", "no block_for"},
    {"policy: { rules = ( { name = \"v\"; applies_to = \"authenticated\"; metric = \"messages\"; window = \"1h\"; limit = 5; action = \"tempfail\"; block_for = \"1d\";\n block_after = 0; } ); };\n",
     2, "policy.rules[0].block_after", "from 1 to 255"},
    {"policy: { rules = ( { name = \"v\"; applies_to = \"authenticated\"; metric = \"messages\"; window = \"1h\"; limit = 5; action = \"tempfail\"; block_for = \"1d\";\n block_after = 256; } ); };\n",
     2, "policy.rules[0].block_after", "from 1 to 255"},
    {"policy: { rules = ( { name = \"v\"; applies_to = \"any\"; metric = \"users_per_ip\"; window = \"1h\"; limit = 5; action = \"reject\"; block_for = \"1d\";\n block_after = 2; } ); };\n",
     2, "policy.rules[0].block_after", "falls on the client address"},
    {"policy: { rules = ( { name = \"v\"; applies_to = \"internal\"; metric = \"messages\"; window = \"1h\"; limit = 5; action = \"reject\"; block_for = \"1d\";\n block_after = 3; } ); };\n",
     2, "policy.rules[0].block_after", "a rule for internal mail"},
    {"policy: { rules = ( { name = \"v\"; applies_to = \"authenticated\"; metric = \"travel_kmh\"; limit = 900; action = \"tempfail\"; block_for = \"1d\";\n block_after = 2; } ); };\n",
     2, "policy.rules[0].block_after", "metric travel_kmh has none"},
    {"policy: { rules = ( { name = \"v\"; applies_to = \"authenticated\"; metric = \"messages\"; window = \"1h\"; limit = 5; action = \"quarantine\"; block_for = \"1d\";\n block_window = false; } ); };\n",
     2, "policy.rules[0].block_window", "expected block_after of 2 or more"},
    {"policy: { rules = ( { name = \"v\"; applies_to = \"authenticated\"; metric = \"messages\"; window = \"1h\"; limit = 5; action = \"quarantine\"; block_for = \"1d\";\n block_after = 4; block_window = 0; } ); };\n",
     2, "policy.rules[0].block_window", "true or false"},
    {"policy: { second_home_for = \"31d\"; };\n", 1, "policy.second_home_for", "out of range"},
    {"policy: { trip_settled = 1; };\n", 1, "policy.trip_settled", "true or false"},
    {"policy: { first_home = \"yes\"; };\n", 1, "policy.first_home", "true or false"},
    {"policy: { family_stay = 2; };\n", 1, "policy.family_stay", "true or false"},
    {"policy: { usual_recipients_margin = 1001; };\n", 1, "policy.usual_recipients_margin", "from 0 to"},
    {"policy: { familiar_networks = [ \"10.0.0.0/99\" ]; };\n", 1, "policy.familiar_networks[0]", "prefix length"},
    {"policy: { familiar_days = 0; };\n", 1, "policy.familiar_days", "from 1 to"},
    {"policy: { site_logins = 33; };\n", 1, "policy.site_logins", "from 0 to"},
    {"policy: { site_days = 0; };\n", 1, "policy.site_days", "from 1 to"},
    {"policy: { whitelist: { people = [ \"a\" ]; }; };\n", 1, "policy.whitelist.people", "unknown key"},
    {"collector: { address = \"udp:127.0.0.1\"; key_file = \"/k\"; };\n", 1, "collector.address", "udp:ADDRESS:PORT"},
    {"collector: {\n address = \"udp:127.0.0.1:9\";\n};\n", 1, "collector", "go together"},
    {"rogue: { list_path = \"rogue.txt\"; };\n", 1, "rogue.list_path", "absolute file path"},
    {"geoip: { city_db = 5; };\n", 1, "geoip.city_db", "expected a string"},
    {"milter: {\n socket = ;\n};\n", 2, "syntax error", ""},
};

#define NBAD (int) (sizeof(bad_cases) / sizeof(bad_cases[0]))

static char tmpfile_name[64];

/* write_tmp - a configuration text into a fresh temp file */
static const char *write_tmp(const char *text)
{
    FILE *f;
    int fd;

    snprintf(tmpfile_name, sizeof(tmpfile_name), "/tmp/rg-cfg-XXXXXX");
    fd = mkstemp(tmpfile_name);
    ck_assert_int_ge(fd, 0);
    f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return tmpfile_name;
}

/* milter_binary - the relayguard-milter under test */
static const char *milter_binary(void)
{
    static char path[512];
    const char *b = getenv("RG_BUILD");

    snprintf(path, sizeof(path), "%s/relayguard-milter", b ? b : "build");
    return path;
}

/* run_check - exit status and stderr of "relayguard-milter -n -c FILE" */
static int run_check(const char *file, char *out, size_t outlen)
{
    char cmd[1024];
    FILE *p;
    size_t n;
    int st;

    snprintf(cmd, sizeof(cmd), "%s -n -c %s 2>&1", milter_binary(), file);
    p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(test_sample_config)
{
    char err[4096], out[4096];
    struct cfg *c = cfg_load("etc/relayguard.conf", err, sizeof(err));

    ck_assert_msg(c != NULL, "sample config rejected: %s", err);
    ck_assert_int_ge((int) c->policy.nrules, 8);
    ck_assert_int_eq(c->state.ips_per_user, 16);
    ck_assert_int_eq(c->policy.rules[cfg_rule_index(c, "many-countries")]
		     .window_s, 600);
    /* corroboration: unusual-volume requires unfamiliar-network */
    {
	struct cfg_rule_set want = {{0}};

	cfg_rule_set_add(&want, (size_t) cfg_rule_index(c,
							"unfamiliar-network"));
	ck_assert_mem_eq(&c->policy.rules[cfg_rule_index(c, "unusual-volume")]
			 .requires_set, &want, sizeof(want));
    }
    ck_assert(c->policy.rules[cfg_rule_index(c, "unfamiliar-network")].required);
    ck_assert(c->policy.counts_users_per_ip && c->policy.roam_rcpts_judged);
    ck_assert(c->policy.judges_alone_line);
    /* the day blocks of the volume rules at the second refusal; a rule
     * without block_after blocks at the first */
    ck_assert_uint_eq(c->policy.rules[cfg_rule_index(c, "unusual-volume")]
		      .block_after, 2);
    ck_assert_uint_eq(c->policy.rules[cfg_rule_index(c, "many-countries")]
		      .block_after, 1);
    ck_assert_int_eq(c->policy.overrides[0].rule,
		     cfg_rule_index(c, "user-recipients"));
    ck_assert_int_eq(c->policy.overrides[2].kind, CFG_OV_NETWORK);
    cfg_free(c);
    /* -n also wants the daemon's user: this host may not have it */
    if (getpwnam("relayguard") != NULL && getgrnam("relayguard") != NULL)
	ck_assert_int_eq(run_check("etc/relayguard.conf", out, sizeof(out)), 0);
    else
	ck_assert_int_eq(run_check("etc/relayguard.conf", out, sizeof(out)),
			 EX_CONFIG_STATUS);
}
END_TEST

/* sample_as_nobody - the sample configuration, run as nobody:nogroup */
static const char *sample_as_nobody(void)
{
    static char text[131072];	/* the sample is ~33 KiB and growing */
    FILE *f = fopen("etc/relayguard.conf", "r");
    size_t n;
    char *u;

    ck_assert_ptr_nonnull(f);
    n = fread(text, 1, sizeof(text) - 1, f);
    ck_assert_msg(feof(f), "etc/relayguard.conf is over %zu bytes",
		  sizeof(text) - 1);
    fclose(f);
    text[n] = '\0';
    ck_assert_ptr_nonnull(u = strstr(text, "user = \"relayguard\";"));
    memcpy(u, "user = \"nobody\";    ", 20);
    ck_assert_ptr_nonnull(u = strstr(text, "group = \"relayguard\";"));
    memcpy(u, "group = \"nogroup\";   ", 21);
    return write_tmp(text);
}

START_TEST(test_check_sample_as_nobody)
{
    char out[4096];
    const char *f = sample_as_nobody();

    ck_assert_int_eq(run_check(f, out, sizeof(out)), 0);
    ck_assert_ptr_nonnull(strstr(out, "configuration ok"));
    unlink(f);
}
END_TEST

START_TEST(test_check_unknown_user)
{
    char out[4096];
    const char *f = write_tmp("milter: { user = \"rg-no-such-user\";"
			      " group = \"nogroup\"; };\n");

    ck_assert_int_eq(run_check(f, out, sizeof(out)), EX_CONFIG_STATUS);
    ck_assert_ptr_nonnull(strstr(out, "error: milter.user: no user"
				 " \"rg-no-such-user\""));
    ck_assert_ptr_null(strstr(out, "configuration ok"));
    unlink(f);
    f = write_tmp("milter: { user = \"nobody\"; group = \"rg-no-group\"; };\n");
    ck_assert_int_eq(run_check(f, out, sizeof(out)), EX_CONFIG_STATUS);
    ck_assert_ptr_nonnull(strstr(out, "no group \"rg-no-group\""));
    unlink(f);
}
END_TEST

START_TEST(test_check_dead_rules)
{
    char out[4096];
    const char *f = write_tmp(
	"milter: { user = \"nobody\"; group = \"nogroup\"; };\n"
	"geoip: { city_db = \"/nonexistent/rg-City.mmdb\"; country_db = \"\";"
	" asn_db = \"\"; };\n"
	"policy: { coarse_km = 100; rules = (\n"
	" { name = \"travel\"; applies_to = \"authenticated\";"
	" metric = \"travel_kmh\"; limit = 1000; action = \"quarantine\"; },\n"
	" { name = \"busy\"; applies_to = \"authenticated\";"
	" metric = \"messages\"; window = \"1h\"; limit = 9; action = \"tag\"; },\n"
	" { name = \"far\"; applies_to = \"authenticated\";"
	" metric = \"new_country\"; action = \"tag\"; },\n"
	/* a line abroad: a location finer than coarse_km, and a country */
	" { name = \"abroad\"; applies_to = \"authenticated\";"
	" metric = \"abroad_line_messages_over_usual\"; window = \"1d\";"
	" limit = 50; action = \"tempfail\"; },\n"
	/* a place abroad taken up again: a line, and its country */
	" { name = \"again\"; applies_to = \"authenticated\";"
	" metric = \"revisit_messages\"; window = \"1d\";"
	" limit = 8; action = \"tempfail\"; }\n); };\n");

    /* it runs, so exit 0, but it says which rules are dead and why */
    ck_assert_int_eq(run_check(f, out, sizeof(out)), 0);
    ck_assert_ptr_nonnull(strstr(out, "warning: geoip: database not found:"
				 " city /nonexistent/rg-City.mmdb"));
    ck_assert_ptr_nonnull(strstr(out, "rules that will never fire: travel,"
				 " far, abroad, again\n"));
    unlink(f);
}
END_TEST

START_TEST(test_defaults)
{
    char err[1024];
    const char *f = write_tmp("# nothing but defaults\n");
    struct cfg *c = cfg_load(f, err, sizeof(err));

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->milter.socket,
		     "unix:/var/spool/postfix/relayguard/milter.sock");
    ck_assert_int_eq(c->milter.umask, 07);
    ck_assert_int_eq(c->milter.on_error, CFG_ACTION_ACCEPT);
    ck_assert_int_eq(c->state.lock_timeout_ms, 50);
    ck_assert_int_eq(c->policy.learning_s, 7 * 86400);
    ck_assert_uint_eq(c->policy.familiar_days, 2);
    ck_assert_uint_eq(c->policy.coarse_km, 0);	/* every place measured */
    ck_assert_uint_eq(c->policy.site_logins, 0);	/* no site networks */
    ck_assert_uint_eq(c->policy.site_days, 2);
    ck_assert_uint_eq(c->policy.second_home_s, 86400);
    ck_assert_uint_eq(c->policy.usual_rcpts_margin, 0);	/* the flat limit */
    ck_assert(!c->policy.trip_settled);	/* a trip's hour as any other */
    ck_assert(!c->policy.first_home);	/* a neighbour's line: no vouch */
    ck_assert(!c->policy.family_stay);	/* a stay abroad judged as any */
    ck_assert_uint_eq(c->policy.familiar_networks.n, 0);
    ck_assert_int_eq((int) c->policy.nrules, 0);
    ck_assert_str_eq(c->policyd.socket, "inet:10040@127.0.0.1");
    ck_assert_uint_eq(c->policyd.max_conns, 256);
    ck_assert_uint_eq(c->policyd.instance_s, 600);
    ck_assert(!c->policyd.end_of_data);
    ck_assert_uint_eq(c->policyd.max_instances, 4096);
    ck_assert_uint_eq(c->policyd.idle_s, 600);
    ck_assert_uint_eq(c->policyd.write_s, 10);
    ck_assert(!c->policyd.strict_attributes);
    ck_assert_str_eq(c->policyd.pidfile, "/run/relayguard/relayguard-policyd.pid");
    ck_assert_str_eq(c->policyd.user, "relayguard");
    ck_assert(!c->policyd.dry_run);
    ck_assert(c->policyd.add_header);
    ck_assert_uint_eq(c->policyd.drain_s, 30);
    cfg_free(c);
    unlink(f);
}
END_TEST

/* the policyd keys left out are the milter section's; its own win */
/* derived_of - the two facts read off a configuration's rules at load */
static void derived_of(const char *rules, bool *per_ip, bool *roam)
{
    char err[1024], text[1024];
    struct cfg *c;

    snprintf(text, sizeof(text), "policy: { rules = (%s); };\n", rules);
    c = cfg_load(write_tmp(text), err, sizeof(err));
    unlink(tmpfile_name);
    ck_assert_msg(c != NULL, "%s", err);
    *per_ip = c->policy.counts_users_per_ip;
    *roam = c->policy.roam_rcpts_judged;
    cfg_free(c);
}

#define RULE_OF(m, w, l) "{ name = \"" m w "\"; applies_to = \"authenticated\"; " \
    "metric = \"" m "\"; " \
    "window = \"" w "\"; limit = " l "; action = \"tag\"; }"

/* What rules.c asks of the rule table at every MAIL is read off it once
 * at load: a users_per_ip rule (an IPv6 client's /64 noted), a
 * recipients_over_usual rule over the roaming phone's hour (its
 * messages looked for); any other window is not that hour. */
START_TEST(test_derived_at_load)
{
    bool per_ip, roam;

    derived_of(RULE_OF("messages", "1h", "5"), &per_ip, &roam);
    ck_assert(!per_ip && !roam);
    derived_of(RULE_OF("users_per_ip", "1h", "3"), &per_ip, &roam);
    ck_assert(per_ip && !roam);
    derived_of(RULE_OF("recipients_over_usual", "2h", "10"), &per_ip, &roam);
    ck_assert(!per_ip && !roam);
    derived_of(RULE_OF("recipients_over_usual", "2h", "10") ", "
	       RULE_OF("recipients_over_usual", "1h", "10") ", "
	       RULE_OF("users_per_ip", "10m", "3"), &per_ip, &roam);
    ck_assert(per_ip && roam);
}
END_TEST

/* alone_of - is a newcomer's line alone looked up at MAIL
 * (policy.judges_alone_line) with these rules? */
static bool alone_of(const char *rules)
{
    char err[1024], text[1024];
    struct cfg *c;
    bool alone;

    snprintf(text, sizeof(text), "policy: { site_logins = 4; coarse_km = 100;"
	     " rules = (%s); };\n", rules);
    c = cfg_load(write_tmp(text), err, sizeof(err));
    unlink(tmpfile_name);
    ck_assert_msg(c != NULL, "%s", err);
    alone = c->policy.judges_alone_line;
    cfg_free(c);
    return alone;
}

/* rules_alone_line's look-up (a site entry at a learning login's MAIL)
 * only when a rule reads newcomer_line_recipients */
START_TEST(test_derived_alone_line)
{
    ck_assert(!alone_of(RULE_OF("newcomer_recipients", "1d", "1500")));
    ck_assert(alone_of(RULE_OF("newcomer_recipients", "1d", "1500") ", "
		       RULE_OF("newcomer_line_recipients", "1d", "2000")));
}
END_TEST

START_TEST(test_policyd_inherits)
{
    char err[1024];
    const char *f = write_tmp(
	"milter: { dry_run = true; add_header = false; user = \"nobody\";\n"
	"  reply_tempfail = \"slow down\"; drain_timeout = \"5s\"; };\n"
	"policyd: { reply_reject = \"go away\"; add_header = true; };\n");
    struct cfg *c = cfg_load(f, err, sizeof(err));

    ck_assert_msg(c != NULL, "%s", err);
    ck_assert(c->policyd.dry_run);
    ck_assert(c->policyd.add_header);
    ck_assert_str_eq(c->policyd.user, "nobody");
    ck_assert_str_eq(c->policyd.group, "relayguard");
    ck_assert_str_eq(c->policyd.reply_tempfail, "slow down");
    ck_assert_str_eq(c->policyd.reply_reject, "go away");
    ck_assert_str_eq(c->milter.reply_reject, "Message refused: this account "
		     "or host is blocked for suspected abuse");
    ck_assert_uint_eq(c->policyd.drain_s, 5);
    cfg_free(c);
    unlink(f);
    f = write_tmp("milter: { dry_run = true; };\npolicyd: { dry_run = false; };\n");
    ck_assert_msg((c = cfg_load(f, err, sizeof(err))) != NULL, "%s", err);
    ck_assert(!c->policyd.dry_run);
    ck_assert(c->milter.dry_run);
    cfg_free(c);
    unlink(f);
}
END_TEST

START_TEST(test_bad_config)
{
    const struct bad_case *bc = &bad_cases[_i];
    char err[4096], out[4096], want[128];
    const char *f = write_tmp(bc->text);
    struct cfg *c = cfg_load(f, err, sizeof(err));

    ck_assert_msg(c == NULL, "case %d accepted: %s", _i, bc->text);
    snprintf(want, sizeof(want), "%s:%d: %s", f, bc->line, bc->key);
    ck_assert_msg(strstr(err, want) != NULL, "case %d: want \"%s\" in \"%s\"",
		  _i, want, err);
    ck_assert_msg(strstr(err, bc->what) != NULL, "case %d: want \"%s\" in \"%s\"",
		  _i, bc->what, err);
    ck_assert_int_eq(run_check(f, out, sizeof(out)), EX_CONFIG_STATUS);
    ck_assert_msg(strstr(out, want) != NULL, "case %d: stderr lacks \"%s\": %s",
		  _i, want, out);
    unlink(f);
}
END_TEST

/* rules_text - a configuration of n tag rules, each of its own name */
static const char *rules_text(unsigned n)
{
    static char text[16384];
    size_t len = 0;

    len += (size_t) snprintf(text + len, sizeof(text) - len,
			     "policy: { rules = (");
    for (unsigned i = 0; i < n; i++)
	len += (size_t) snprintf(text + len, sizeof(text) - len,
				 "%s{ name = \"r%u\"; applies_to = "
				 "\"authenticated\"; metric = \"messages\"; "
				 "window = \"1h\"; limit = %u; action = "
				 "\"tag\"; }", i ? ", " : "", i, 100 + i);
    snprintf(text + len, sizeof(text) - len, "); };\n");
    ck_assert_uint_lt(len, sizeof(text) - 8);
    return text;
}

/* A configuration holds as many rules as the state file has fired
 * counters for: 96, the first 32 in the header's array and the rest in
 * the header page's spare bytes (the shipped policy filled the 32). */
START_TEST(test_rule_budget)
{
    char err[1024];
    struct cfg *c = cfg_load(write_tmp(rules_text(33)), err, sizeof(err));

    unlink(tmpfile_name);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->policy.nrules, 33);
    cfg_free(c);
    c = cfg_load(write_tmp(rules_text(STATS_MAX_RULES)), err, sizeof(err));
    unlink(tmpfile_name);
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_uint_eq(c->policy.nrules, 96);
    cfg_free(c);
    c = cfg_load(write_tmp(rules_text(STATS_MAX_RULES + 1)), err,
		 sizeof(err));
    unlink(tmpfile_name);
    ck_assert_ptr_null(c);
    ck_assert_msg(strstr(err, "at most 96 rules") != NULL, "%s", err);
}
END_TEST

START_TEST(test_long_domain)
{
    char err[1024];
    const char *f = write_tmp("policy: { overrides = ( { domain = "
			      "\"@Mail.Residence-Halls.Example-University.EDU\"; "
			      "countries = [\"de\"]; } ); };\n");
    struct cfg *c = cfg_load(f, err, sizeof(err));

    /* A domain is not bounded by the login length (47). */
    ck_assert_msg(c != NULL, "%s", err);
    ck_assert_str_eq(c->policy.overrides[0].domain,
		     "mail.residence-halls.example-university.edu");
    ck_assert_int_eq(c->policy.overrides[0].countries.v[0][0], 'D');
    cfg_free(c);
    unlink(f);
}
END_TEST

START_TEST(test_missing_file)
{
    char err[512], out[512];

    ck_assert_ptr_null(cfg_load("/nonexistent/relayguard.conf", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent/relayguard.conf: cannot"
				 " read the configuration file: No such file"
				 " or directory"));
    ck_assert_int_eq(run_check("/nonexistent/relayguard.conf", out, sizeof(out)),
		     EX_CONFIG_STATUS);
    ck_assert_ptr_nonnull(strstr(out, "No such file or directory"));
    ck_assert_ptr_null(cfg_load("/tmp", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/tmp: cannot read the configuration"
				 " file: it is a directory"));
}
END_TEST

START_TEST(test_all_errors_reported)
{
    char err[4096];
    const char *f = write_tmp("milter: { dry_run = 1; };\nstate: { max_users = -1; };\n");

    ck_assert_ptr_null(cfg_load(f, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, ":1: milter.dry_run"));
    ck_assert_ptr_nonnull(strstr(err, ":2: state.max_users"));
    unlink(f);
}
END_TEST

START_TEST(test_durations)
{
    static const struct {
	const char *text;
	int ok;
	unsigned long long ms;
    } cases[] = {
	{"90s", 1, 90000}, {"10m", 1, 600000}, {"1h", 1, 3600000},
	{"1d", 1, 86400000}, {"500ms", 1, 500}, {"1h30m", 1, 5400000},
	{"0s", 1, 0}, {"2w", 1, 1209600000ULL},
	{"", 0, 0}, {"10", 0, 0}, {"m", 0, 0}, {"-5m", 0, 0}, {"5 m", 0, 0},
	{"5mm", 0, 0}, {"1.5h", 0, 0}, {"99999999999999999999s", 0, 0},
	{"18446744073709551615d", 0, 0}, {"5M", 0, 0},
    };
    char err[256];
    uint64_t ms;
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
	int r = cfg_parse_duration(cases[i].text, &ms, err, sizeof(err));

	ck_assert_msg((r == 0) == cases[i].ok, "duration \"%s\"", cases[i].text);
	if (cases[i].ok)
	    ck_assert_uint_eq(ms, cases[i].ms);
	else
	    ck_assert_ptr_nonnull(strstr(err, "expected a duration"));
    }
}
END_TEST

START_TEST(test_sizes)
{
    uint64_t v;
    char err[256];

    ck_assert_int_eq(cfg_parse_size("500", &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v, 500);
    ck_assert_int_eq(cfg_parse_size("50M", &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v, 50ULL << 20);
    ck_assert_int_eq(cfg_parse_size("2g", &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v, 2ULL << 30);
    ck_assert_int_eq(cfg_parse_size("5MB", &v, err, sizeof(err)), -1);
    ck_assert_int_eq(cfg_parse_size("K", &v, err, sizeof(err)), -1);
    ck_assert_int_eq(cfg_parse_size("99999999999999999999G", &v, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_vocabulary)
{
    ck_assert_int_eq(cfg_action_parse("reject"), CFG_ACTION_REJECT);
    ck_assert_int_eq(cfg_action_parse("Reject"), -1);
    ck_assert_int_eq(cfg_metric_parse("users_per_ip"), CFG_METRIC_USERS_PER_IP);
    ck_assert_int_eq(cfg_applies_parse("internal"), CFG_APPLIES_INTERNAL);
    ck_assert_str_eq(cfg_action_name(CFG_ACTION_QUARANTINE), "quarantine");
    ck_assert(cfg_metric_has_window(CFG_METRIC_BYTES));
    ck_assert(!cfg_metric_has_window(CFG_METRIC_TRAVEL_KMH));
    ck_assert(cfg_metric_needs_login(CFG_METRIC_NEW_COUNTRY));
    ck_assert(!cfg_metric_needs_login(CFG_METRIC_USERS_PER_IP));
}
END_TEST

/* cfg_suite - every case above */
static Suite *cfg_suite(void)
{
    Suite *s = suite_create("cfg");
    TCase *tc = tcase_create("cfg");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_sample_config);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_derived_at_load);
    tcase_add_test(tc, test_derived_alone_line);
    tcase_add_test(tc, test_policyd_inherits);
    tcase_add_loop_test(tc, test_bad_config, 0, NBAD);
    tcase_add_test(tc, test_rule_budget);
    tcase_add_test(tc, test_long_domain);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_check_sample_as_nobody);
    tcase_add_test(tc, test_check_unknown_user);
    tcase_add_test(tc, test_check_dead_rules);
    tcase_add_test(tc, test_all_errors_reported);
    tcase_add_test(tc, test_durations);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_vocabulary);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return check_run(cfg_suite());
}
