/*
 * pin - the admin's hand on the rogue list: "rogue add ADDRESS" pins a
 * host or network on it (with who, when, why and an optional expiry),
 * "rogue remove ADDRESS" takes a pin off or drops a flagged host (the
 * flags seen until then no longer list it; a later flag lists it again),
 * "rogue list" shows pins, drops and flagged hosts. Pins outlive every
 * analysis: the list an analysis writes includes them.
 *
 * pin_write_list is the list's one writer, called by the daemon, an
 * analysis and "rogue add|remove" alike: each builds and replaces the
 * list under a lock (flock on "LIST_PATH.lock", waited for at most
 * 5 s), so a list built before another process's change never replaces
 * the one written after it.
 *
 * Contract: works on a history handle whose tables evdb_init created.
 * Returns HIST_* (pin_write_list 0 or -1) with err filled. Nothing is
 * logged here.
 */
#ifndef RG_PIN_H
#define RG_PIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cfg.h"
#include "history.h"

struct pin_change {
    const char *address;	/* canonical: a host or CIDR */
    const char *who, *reason;
    int64_t now_ms, expires_ms;	/* expires_ms 0: never */
};

enum hist_status pin_add(struct hist *h, const struct pin_change *c, char *err,
			 size_t errlen);
enum hist_status pin_remove(struct hist *h, const struct pin_change *c, bool *was_pinned,
			    char *err, size_t errlen);
enum hist_status pin_apply(struct hist *h, int64_t now_ms, struct hist_flag **v,
			   size_t *n, char *err, size_t errlen);
enum hist_status pin_print(struct hist *h, const struct cfg *cfg, int64_t now_ms,
			   FILE *out, bool json, char *err, size_t errlen);
int pin_write_list(struct hist *h, const struct cfg *cfg, int64_t now_ms, char *err,
		   size_t errlen);

#endif
