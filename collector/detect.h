/*
 * detect - the US-CERT judgement of local SMTP hosts: traits (names, MX,
 * history, share of mail, whitelist) and the four flags rogue_server,
 * direct_sender, volume_jump and fan_out, each with its evidence; the
 * "local mail clients" table.
 *
 * Contract: pure. Takes a host's analysis, its traits and its history as
 * arguments, no I/O and no clock; results are owned by the caller (free
 * with free()).
 */
#ifndef RG_DETECT_H
#define RG_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"

#define DET_MS_PER_DAY 86400000LL
#define DET_NAME_MAX 256
#define DET_CTL_MIN_FOLLOWED 3	/* controller bursts needed to name one */

enum det_kind {
    DET_ROGUE_SERVER = 0, DET_DIRECT_SENDER, DET_VOLUME_JUMP, DET_FAN_OUT,
    DET_KIND_COUNT
};

struct det_cfg {
    uint32_t mail_share;	/* percent */
    uint32_t fan_out_servers, fan_out_window_s;
    uint32_t volume_jump_factor, volume_jump_min_flows;
    uint32_t direct_min_flows;
    uint32_t history_window_s;
    uint32_t controller_lead_s;
};

struct det_traits {
    char name[DET_NAME_MAX];	/* reverse name, "" when none */
    bool named_mail;		/* smtp|mail|relay|mx|mta in the name */
    bool is_mx;			/* MX of a local domain */
    bool whitelisted;		/* configured or learned */
    uint32_t served_days;	/* days in history serving SMTP */
};

/* One day of a host's SMTP, as the history keeps it. */
struct det_day {
    int64_t day;		/* days since 1970-01-01 UTC */
    uint64_t conns, served, sent, bytes, pkts;
    uint32_t peers, ports;
};

/* A host's history: (day, connections[, bytes]) rows. */
struct det_hist {
    const int64_t *day;
    const uint64_t *conns;
    size_t n;
    const uint64_t *bytes;	/* NULL: not known */
};

struct det_flag {
    struct addr host;
    enum det_kind kind;
    int64_t t_ms;		/* when it was seen (first evidence) */
    uint64_t conns, peers, bytes_in, bytes_out;
    int64_t first_ms, last_ms;
    int share_flows, share_bytes;	/* percent; -1: unknown */
    struct det_traits traits;
    /* volume_jump */
    int64_t day;
    uint64_t day_conns, day_bytes;
    double baseline, baseline_bytes;
    uint32_t baseline_days;
    /* fan_out */
    uint32_t servers;
    int64_t window_ms;		/* start of the busiest window */
    /* direct_sender: a likely controller */
    bool has_ctl;
    struct addr ctl_peer;
    uint16_t ctl_port;
    uint32_t ctl_conns, ctl_followed;
};

struct det_client {
    struct addr host;
    uint64_t conns, bytes_in, bytes_out;
};

const char *det_kind_name(enum det_kind k);
bool det_named_mail(const char *name);
bool det_known(const struct det_traits *t);
int det_days(const struct an_host *h, struct det_day **out, size_t *n);
int det_host(const struct det_cfg *c, const struct an_host *h,
	     const struct det_traits *t, const struct det_hist *hist,
	     const struct det_day *days, size_t ndays,
	     struct det_flag **flags, size_t *nflags);
void det_shares(const struct an_host *h, struct det_flag *f);
void det_controller(const struct det_cfg *c, const struct an_host *h,
		    struct det_flag *f);
int det_mail_clients(const struct an *a, struct det_client **out, size_t *n);
size_t det_peers(const struct an_host *h, enum an_role role,
		 struct addr *out, uint64_t *conns, size_t max);

#endif
