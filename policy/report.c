/*
 * report - verdict lines, counters, collector events, header text.
 *
 * Contract: thread-safe. Every SMTP-supplied string is sanitised by the
 * log module before it reaches a log line, a datagram or a header. The
 * event send never blocks: a full or absent collector socket is a counted
 * drop.
 */
#include <errno.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "event_rec.h"
#include "log.h"
#include "report.h"
#include "stats.h"

#define HEADER_MAX 400

static uint64_t bootid;
static char node[EVREC_NODE_MAX + 1];
static atomic_uint_fast64_t event_seq;

/* report_init - a random boot id so the collector can tell restarts
 * apart, and this host's name for the events */
void report_init(void)
{
    if (RAND_bytes((unsigned char *) &bootid, sizeof(bootid)) != 1)
	bootid = (uint64_t) time(NULL) ^ (uint64_t) getpid() << 32;
    if (gethostname(node, sizeof(node)) != 0)
	snprintf(node, sizeof(node), "localhost");
    node[EVREC_NODE_MAX] = 0;
}

/* verdict_fields - the key=value body shared by the log and the event */
static void verdict_fields(const struct runtime *rt, const struct report_subject *s,
			   const struct rules_verdict *v, struct log_line *l)
{
    char a[ADDR_STRLEN + 2], tmp[ADDR_STRLEN];

    log_kv_raw(l, "action", cfg_action_name(v->action));
    log_kv_raw(l, "rule", v->rule >= 0 && (size_t) v->rule < rt->cfg->policy.nrules
	       ? rt->cfg->policy.rules[v->rule].name : v->from_block ? "block" : "-");
    log_kv_str(l, "user", s->login ? s->login : "");
    snprintf(a, sizeof(a), "[%s]", s->client ? addr_format(s->client, tmp, sizeof(tmp)) : "");
    log_kv_raw(l, "client", a);
    log_kv_raw(l, "country", s->country && *s->country ? s->country : "-");
    log_kv_raw(l, "class", rules_class_name(v->cls));
    log_kv_str(l, "reason", v->reason);
}

/* unix_connect - (re)connect the unix socket to the collector's path;
 * false when nobody listens there */
static bool unix_connect(struct runtime *rt, time_t now)
{
    if (connect(rt->evfd, (struct sockaddr *) &rt->evaddr, rt->evaddrlen) != 0) {
	atomic_store(&rt->evconn, 0);
	return false;
    }
    atomic_store(&rt->evconn, (long long) now);
    return true;
}

/* send_dgram - one datagram, never waiting. A unix socket is connected
 * (no path lookup per send) and connected again at most once a second,
 * so a collector socket replaced under the same path is found, and at
 * once when the peer is gone (ECONNREFUSED, ENOTCONN) */
static bool send_dgram(struct runtime *rt, const uint8_t *d, size_t n, time_t now)
{
    const int fl = MSG_DONTWAIT | MSG_NOSIGNAL;
    long long c;

    if (rt->evaddrlen == 0)	/* UDP, connected at load */
	return send(rt->evfd, d, n, fl) == (ssize_t) n;
    c = atomic_load(&rt->evconn);
    if (c != (long long) now && !unix_connect(rt, now))
	return false;
    if (send(rt->evfd, d, n, fl) == (ssize_t) n)
	return true;
    if (errno != ECONNREFUSED && errno != ENOTCONN && errno != ECONNRESET
	&& errno != ENOENT)
	return false;		/* EAGAIN: the collector is behind */
    return unix_connect(rt, now) && send(rt->evfd, d, n, fl) == (ssize_t) n;
}

/* send_event - the engine's record of the verdict, signed, as one
 * datagram; counted as sent or dropped */
static void send_event(struct runtime *rt, const struct report_subject *s,
		       const struct rules_verdict *v, bool dry_run)
{
    uint8_t dgram[EVENT_MAX];
    struct rules_facts f;
    struct evrec r;
    struct timespec ts;
    size_t n;

    if (rt->evfd < 0)
	return;
    memset(&f, 0, sizeof(f));
    f.phase = s->phase_id;
    f.login = s->login;
    if (s->client)
	f.client = *s->client;
    snprintf(f.geo.cc, sizeof(f.geo.cc), "%s", s->country ? s->country : "");
    f.geo.asn = s->asn;
    f.rogue_listed = s->rogue_listed;
    f.rcpts = s->rcpts;
    f.bytes = s->bytes;
    f.qid = s->qid;
    evrec_from_verdict(rt->cfg, &f, v, dry_run, &r);
    clock_gettime(CLOCK_REALTIME, &ts);
    r.bootid = bootid;
    r.seq = atomic_fetch_add(&event_seq, 1) + 1;
    r.time_ms = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
    memcpy(r.node, node, sizeof(r.node));
    n = event_seal(&rt->key, dgram, evrec_encode(&r, dgram, sizeof(dgram)), sizeof(dgram));
    if (n > 0 && send_dgram(rt, dgram, n, ts.tv_sec))
	store_counter_add(rt->st, STATS_EVENTS_SENT, 1);
    else
	store_counter_add(rt->st, STATS_EVENTS_DROPPED, 1);
}

/* report_verdict - log, count and send one verdict */
void report_verdict(struct runtime *rt, const struct report_subject *s,
		    const struct rules_verdict *v, bool dry_run)
{
    struct log_line l, body;
    char head[64];

    snprintf(head, sizeof(head), "%.40s:", s->qid && *s->qid ? s->qid : "NOQUEUE");
    log_line_init(&body, NULL);
    verdict_fields(rt, s, v, &body);
    log_line_init(&l, head);
    log_kv_raw(&l, NULL, body.buf);
    log_kv_raw(&l, "phase", s->phase);
    if (s->helo)
	log_kv_str(&l, "helo", s->helo);
    if (dry_run && v->action != CFG_ACTION_ACCEPT)
	log_kv_raw(&l, "dry_run", "would");
    log_msg(v->action == CFG_ACTION_ACCEPT ? LOG_INFO : LOG_NOTICE, "%s", l.buf);
    store_counter_add(rt->st, (dry_run ? STATS_WOULD_BASE : STATS_VERDICT_BASE)
		      + (unsigned) v->action, 1);
    if (v->rule >= 0 && v->rule < STATS_MAX_RULES && v->action != CFG_ACTION_ACCEPT)
	store_counter_add(rt->st, STATS_RULE_BASE + (unsigned) v->rule, 1);
    if (v->block_set && !dry_run)	/* a would-be block is not one */
	store_counter_add(rt->st, STATS_BLOCKS_SET, 1);
    if (v->status != 0)
	store_counter_add(rt->st, STATS_STATE_ERRORS, 1);
    send_event(rt, s, v, dry_run);
}

/* report_header - the X-Relayguard header value */
void report_header(const struct runtime *rt, const struct report_subject *s,
		   const struct rules_verdict *v, char *buf, size_t len)
{
    struct log_line l;
    size_t i;

    log_line_init(&l, NULL);
    verdict_fields(rt, s, v, &l);
    /* Header values must be 7-bit: replace what the sanitiser let through. */
    for (i = 0; i < l.len && i + 1 < len && i < HEADER_MAX; i++)
	buf[i] = (unsigned char) l.buf[i] < 0x80 ? l.buf[i] : '?';
    buf[i] = 0;
}
