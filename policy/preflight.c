/*
 * preflight - the checks of "relayguard-milter -n" that need more than
 * the configuration file: a configured GeoIP database that is missing
 * leaves the rules that need it dead (they never fire), and a milter.user
 * or milter.group the system does not know stops the daemon at start.
 *
 * Contract: see preflight.h. Thread safety: getpwnam/getgrnam, so call it
 * from one thread (start-up).
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "geo.h"
#include "metrics.h"
#include "preflight.h"

#define PREFLIGHT_MSG_LEN 8192

#define GEO_ERR_MAX 1024

/* preflight_dead_rules - rules whose metric needs data caps lacks */
size_t preflight_dead_rules(const struct cfg *c, unsigned caps, char *out,
			    size_t outlen)
{
    size_t i, n = 0, used = 0;

    if (outlen > 0)
	out[0] = '\0';
    for (i = 0; i < c->policy.nrules; i++) {
	const struct cfg_rule *r = &c->policy.rules[i];
	unsigned need = metrics_geo_needs(r->metric);

	if ((need & caps) == need)
	    continue;
	if (used < outlen)
	    used += (size_t) snprintf(out + used, outlen - used, "%s%s",
				      n ? ", " : "", r->name);
	n++;
    }
    return n;
}

/* preflight_geo - the databases open, and which rules they leave dead */
int preflight_geo(const struct cfg *c, char *msg, size_t msglen)
{
    struct geo_paths p = { c->geoip.city_db, c->geoip.country_db,
	c->geoip.asn_db };
    char err[GEO_ERR_MAX], dead[GEO_ERR_MAX];
    unsigned missing = 0, caps;
    size_t n;
    GEO *g = NULL;

    err[0] = '\0';
    if (geo_open(&p, &g, &missing, err, sizeof(err)) != GEO_OK) {
	snprintf(msg, msglen, "%s", err);
	return PREFLIGHT_ERR;
    }
    caps = geo_caps(g);
    geo_close(g);
    if ((n = preflight_dead_rules(c, caps, dead, sizeof(dead))) == 0) {
	snprintf(msg, msglen, "%s", missing ? err : "");
	return missing ? PREFLIGHT_WARN : PREFLIGHT_OK;
    }
    snprintf(msg, msglen, "%s; rule%s that will never fire: %s",
	     missing ? err : "geoip: no database configured for their data",
	     n == 1 ? "" : "s", dead);
    return PREFLIGHT_WARN;
}

/* preflight_ids - the daemon's user and group exist */
int preflight_ids(const char *section, const char *user, const char *group,
		  char *msg, size_t msglen)
{
    if (getpwnam(user) == NULL) {
	snprintf(msg, msglen, "%s.user: no user \"%s\" on this system",
		 section, user);
	return PREFLIGHT_ERR;
    }
    if (getgrnam(group) == NULL) {
	snprintf(msg, msglen, "%s.group: no group \"%s\" on this system",
		 section, group);
	return PREFLIGHT_ERR;
    }
    if (msglen > 0)
	msg[0] = '\0';
    return PREFLIGHT_OK;
}

/* preflight_report - what a daemon would meet at start, for -n */
int preflight_report(const char *prog, const char *file, const struct cfg *c,
		     const char *section, const char *user, const char *group)
{
    char msg[PREFLIGHT_MSG_LEN];
    int bad = 0;

    if (preflight_ids(section, user, group, msg, sizeof(msg)) != PREFLIGHT_OK) {
	fprintf(stderr, "%s: %s: error: %s\n", prog, file, msg);
	bad = 1;
    }
    switch (preflight_geo(c, msg, sizeof(msg))) {
    case PREFLIGHT_ERR:
	fprintf(stderr, "%s: %s: error: %s\n", prog, file, msg);
	bad = 1;
	break;
    case PREFLIGHT_WARN:
	fprintf(stderr, "%s: %s: warning: %s\n", prog, file, msg);
	break;
    }
    if (bad)
	return EX_CONFIG;
    printf("%s: configuration ok (%zu rules)\n", file, c->policy.nrules);
    return 0;
}
