/*
 * analysis - the local hosts seen in flows and what they did: SMTP as a
 * server and as a client (client and server told from ports and TCP
 * flags, never from the record's source/destination order), totals of all
 * their traffic, the points of their existence plots and inbound
 * connections to their high ports (a spam bot's controller).
 *
 * Contract: one struct an per analysis, single-threaded; an_add takes
 * flows in any order. Allocation failure is AN_NOMEM, and the analysis
 * stays usable (the flow is dropped and counted).
 */
#ifndef RG_ANALYSIS_H
#define RG_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "flow.h"

#define AN_SMTP_PORT 25
#define AN_HIGH_PORT 1024	/* first port that is not reserved */

/* What an_add does with a flow (bits). */
#define AN_TOTALS 1		/* count it into the hosts' traffic totals */
#define AN_SMTP 2		/* SMTP flows become events */
#define AN_CTL 4		/* inbound high-port connections (controllers) */
#define AN_DETAIL 8		/* plot points of all traffic, and AN_CTL */

enum an_role { AN_SERVER = 0, AN_CLIENT = 1 };
enum an_dir { AN_IN = 0, AN_OUT = 1 };

/* One SMTP flow of a local host. */
struct an_ev {
    int64_t t_ms;
    struct addr peer;
    uint64_t bytes_in, bytes_out;	/* as the local host sees them */
    uint64_t pkts;
    uint32_t conns;		/* connections this record opens (0: a reply) */
    uint16_t local_port, peer_port;
    uint8_t role;		/* enum an_role of the local host */
    uint8_t external;		/* peer outside the local networks */
};

/* One point of an existence plot: dport inbound or sport outbound. */
struct an_pt {
    int64_t t_ms;
    uint16_t port;
    uint8_t dir;
};

/* An inbound connection from outside to a local high port. */
struct an_ctl {
    int64_t t_ms;
    struct addr peer;
    uint16_t port;
};

#define AN_ARRAY(T) struct { T *v; size_t n, cap; }

struct an_host {
    struct addr a;
    uint64_t all_flows, all_bytes;	/* every protocol */
    uint64_t smtp_flows, smtp_bytes;	/* records and bytes of SMTP */
    AN_ARRAY(struct an_ev) ev;
    AN_ARRAY(struct an_pt) pt;
    AN_ARRAY(struct an_ctl) ctl;
    bool detailed;		/* plots come from all its traffic */
};

struct an_limits {
    uint32_t min_packets, min_bytes;
    size_t max_points;		/* per host, plot points and controllers */
};

struct an_stats {
    uint64_t flows, smtp, smtp_below, transit, dropped;
    int64_t first_ms, last_ms;	/* of SMTP flows */
};

struct an {
    const struct cidr_list *local;
    struct an_limits lim;
    struct an_host *h;
    size_t n, cap;
    uint32_t *slot;		/* open addressing: host index + 1 */
    size_t nslot;
    struct an_stats st;
};

enum an_status { AN_OK = 0, AN_NOMEM };

void an_init(struct an *a, const struct cidr_list *local,
	     const struct an_limits *lim);
void an_free(struct an *a);
enum an_status an_add(struct an *a, const struct flow *f, unsigned what);
enum an_status an_add_totals(struct an *a, const struct addr *host,
			     uint64_t flows, uint64_t bytes);
struct an_host *an_find(const struct an *a, const struct addr *host);
struct an_host *an_get(struct an *a, const struct addr *host);

/* The SMTP roles of a flow; false when it is not an SMTP flow. */
bool an_smtp_roles(const struct flow *f, const struct addr **client,
		   const struct addr **server, bool *src_is_client);
bool an_smtp_passes(const struct flow *f, const struct an_limits *lim);
bool an_is_local(const struct an *a, const struct addr *x);

#endif
