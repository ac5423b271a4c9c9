/*
 * report - the one place that writes a verdict: the syslog line, the
 * shared counters, the collector event, and the X-Relayguard header text.
 */
#ifndef RG_MILTER_REPORT_H
#define RG_MILTER_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "rules.h"
#include "runtime.h"

#define REPORT_HEADER "X-Relayguard"

struct report_subject {
    const char *qid;		/* NULL before the queue id exists */
    const char *login;
    const struct addr *client;
    const char *country;
    const char *helo;
    const char *phase;
    enum rules_phase phase_id;
    uint32_t asn, rcpts;	/* for the collector's event */
    uint64_t bytes;
    bool rogue_listed;
};

void report_init(void);
bool report_events_open(struct runtime *rt);
void report_events_flush(struct runtime *rt);
void report_events_close(struct runtime *rt);
void report_verdict(struct runtime *rt, const struct report_subject *s,
		    const struct rules_verdict *v, bool dry_run);
void report_header(const struct runtime *rt, const struct report_subject *s,
		   const struct rules_verdict *v, char *buf, size_t len);

#endif
