/*
 * preflight - what "relayguard-milter -n" checks beyond the file itself:
 * the GeoIP databases the rules need, and the daemon's user and group.
 *
 * Contract: no logging; results in the caller's buffers. The GeoIP check
 * opens the configured databases the way the milter does (geo_open) and
 * closes them again.
 */
#ifndef RG_PREFLIGHT_H
#define RG_PREFLIGHT_H

#include <stddef.h>

#include "cfg.h"

enum preflight_status {
    PREFLIGHT_OK = 0,
    PREFLIGHT_WARN,		/* it runs, but not as configured */
    PREFLIGHT_ERR,		/* it cannot run */
};

/* The rules that need GeoIP data caps lacks (GEO_CAP_*): their names,
 * ", "-separated, in out; how many. */
size_t preflight_dead_rules(const struct cfg *c, unsigned caps, char *out,
			    size_t outlen);

/* Open the configured databases: ERR if one cannot be opened, WARN with
 * the missing files and the rules that will never fire, else OK. */
int preflight_geo(const struct cfg *c, char *msg, size_t msglen);

/* The daemon's user and group exist (ERR naming the missing one, as
 * SECTION.user or SECTION.group). */
int preflight_ids(const char *section, const char *user, const char *group,
		  char *msg, size_t msglen);

/* -n of a daemon (prog, e.g. "relayguard-milter"): its user and group,
 * then the GeoIP files; errors and warnings on standard error, "FILE:
 * configuration ok (N rules)" on standard output when nothing is wrong.
 * Returns the exit code: 0, or EX_CONFIG. */
int preflight_report(const char *prog, const char *file, const struct cfg *c,
		     const char *section, const char *user, const char *group);

#endif
