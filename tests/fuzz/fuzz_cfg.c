/*
 * fuzz_cfg - cfg_load on arbitrary file contents.
 *
 * The input is written to one memfd per process and loaded through its
 * /proc/self/fd path, so each run costs no disk I/O. A load either fails
 * with a message or returns a struct whose invariants we check; cfg_free
 * must release everything (LeakSanitizer). Inputs with an "@include"
 * directive are skipped: libconfig would read whatever file they name
 * (/dev/zero, /dev/stdin), which tests the file system, not our parser.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "cfg.h"
#include "stats.h"
#include "store.h"

#define ERR_LEN 4096
#define INCLUDE_WORD "@include"

static int memfd = -1;
static char path[64];

/* check_rules - every rule is complete and in range */
static void check_rules(const struct cfg *c)
{
    FUZZ_CHECK(c->policy.nrules <= STATS_MAX_RULES, "at most STATS_MAX_RULES rules");
    for (size_t i = 0; i < c->policy.nrules; i++) {
	const struct cfg_rule *r = &c->policy.rules[i];

	FUZZ_CHECK(r->name != NULL && *r->name != 0
		   && strlen(r->name) <= CFG_NAME_MAX, "rule name");
	FUZZ_CHECK(cfg_rule_index(c, r->name) == (int) i, "rule names unique");
	FUZZ_CHECK((unsigned) r->action < CFG_ACTION_COUNT, "rule action");
	FUZZ_CHECK((unsigned) r->metric < CFG_METRIC_COUNT, "rule metric");
	FUZZ_CHECK((unsigned) r->applies_to < CFG_APPLIES_COUNT, "rule applies_to");
	FUZZ_CHECK(!cfg_metric_has_window(r->metric) || r->window_s > 0,
		   "windowed metric has a window");
    }
}

/* check_overrides - one selector each, rule indexes in range */
static void check_overrides(const struct cfg *c)
{
    for (size_t i = 0; i < c->policy.noverrides; i++) {
	const struct cfg_override *o = &c->policy.overrides[i];

	FUZZ_CHECK(o->rule >= -1 && o->rule < (int) c->policy.nrules,
		   "override rule index");
	FUZZ_CHECK((o->rule >= 0) == (o->rule_name != NULL), "override rule name");
	FUZZ_CHECK(o->kind != CFG_OV_USER || (o->user != NULL
					      && strlen(o->user) < STORE_LOGIN_MAX),
		   "user override");
	FUZZ_CHECK(o->kind != CFG_OV_DOMAIN || o->domain != NULL, "domain override");
	FUZZ_CHECK(o->network.plen <= 128, "override prefix length");
	for (size_t j = 0; j < o->countries.n; j++)
	    FUZZ_CHECK(o->countries.v[j][0] >= 'A' && o->countries.v[j][0] <= 'Z'
		       && o->countries.v[j][1] >= 'A' && o->countries.v[j][1] <= 'Z'
		       && o->countries.v[j][2] == 0, "country code");
    }
}

/* check_cfg - invariants of a configuration cfg_load accepted */
static void check_cfg(const struct cfg *c)
{
    FUZZ_CHECK(c->milter.socket && c->milter.user && c->milter.group
	       && c->milter.pidfile && c->milter.reply_tempfail
	       && c->milter.reply_reject, "milter strings set");
    FUZZ_CHECK(strlen(c->milter.reply_tempfail) <= CFG_REPLY_MAX
	       && strlen(c->milter.reply_reject) <= CFG_REPLY_MAX, "reply length");
    FUZZ_CHECK((unsigned) c->milter.on_error < CFG_ACTION_COUNT, "on_error");
    FUZZ_CHECK(c->state.path && c->state.path[0] == '/', "state path");
    FUZZ_CHECK(c->state.ips_per_user >= 2 && c->state.ips_per_user <= STORE_IPS_MAX,
	       "ips_per_user range");
    FUZZ_CHECK(c->geoip.country_db && c->geoip.asn_db && c->geoip.city_db,
	       "geoip strings set");
    FUZZ_CHECK(c->collector.address && c->collector.key_file
	       && (*c->collector.address == 0) == (*c->collector.key_file == 0),
	       "collector address and key together");
    FUZZ_CHECK(c->rogue.list_path != NULL, "rogue list path set");
    for (size_t i = 0; i < c->policy.wl_users.n; i++)
	FUZZ_CHECK(c->policy.wl_users.v[i] != NULL, "whitelisted user set");
    check_rules(c);
    check_overrides(c);
}

/* LLVMFuzzerTestOneInput - load the input as a configuration file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char err[ERR_LEN];
    struct cfg *c;

    if (memmem(data, size, INCLUDE_WORD, sizeof(INCLUDE_WORD) - 1) != NULL)
	return 0;
    if (memfd < 0) {
	if ((memfd = memfd_create("fuzz_cfg", MFD_CLOEXEC)) < 0)
	    abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
    }
    if (ftruncate(memfd, 0) != 0
	|| (size > 0 && pwrite(memfd, data, size, 0) != (ssize_t) size))
	abort();
    c = cfg_load(path, err, sizeof(err));
    FUZZ_CHECK(memchr(err, 0, sizeof(err)) != NULL, "err NUL-terminated");
    if (c == NULL) {
	FUZZ_CHECK(err[0] != 0, "a failed load says why");
	return 0;
    }
    check_cfg(c);
    cfg_free(c);
    return 0;
}
