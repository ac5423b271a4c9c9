/*
 * names - reverse names and MX hosts of local SMTP hosts: from an offline
 * names file (tests, air-gapped sites) or from the system resolver with a
 * cache and a time budget per run. Never on the per-flow path.
 *
 * Names file: one "ADDRESS NAME [mx]" per line, '#' comments; "mx" marks
 * the address as an MX host of a local domain.
 *
 * Contract: single-threaded. Lookups past the budget return "" and are
 * counted (skipped); the caller reports that. Nothing is logged here.
 */
#ifndef RG_NAMES_H
#define RG_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "cfg.h"

#define NAMES_MAX_LEN 256

struct names_entry {
    struct addr a;
    char name[NAMES_MAX_LEN];
    bool mx;
};

struct names {
    struct names_entry *v;
    size_t n, cap;
    bool offline;
    int64_t deadline_ms;	/* monotonic; lookups stop after it */
    uint64_t lookups, skipped, bad_lines;
    struct addr *mx;		/* MX hosts of the local domains (DNS) */
    size_t nmx;
    bool mx_done;
};

enum names_status { NAMES_OK = 0, NAMES_FILE, NAMES_NOMEM };

enum names_status names_init(struct names *nm, const char *names_file,
			     uint32_t budget_ms, char *err, size_t errlen);
int names_parse(struct names *nm, const char *text, size_t len);
void names_free(struct names *nm);
const char *names_lookup(struct names *nm, const struct addr *a);
bool names_is_mx(struct names *nm, const struct cfg_str_list *domains,
		 const struct addr *a);

#endif
