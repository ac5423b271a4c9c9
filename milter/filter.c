/*
 * filter - the libmilter callbacks: turn macros into facts, call the
 * engine, map its verdict to sfsistat, smfi_setreply, a header or the
 * quarantine.
 *
 * Contract: callbacks never block (no DNS, bounded store locks, non-
 * blocking event sends) and never exit. Per-connection state is created
 * in connect and freed in close (which may come with no state at all);
 * per-message state is reset at MAIL FROM, by abort and by close, which
 * give back what an unfinished message had counted (rules_give_back).
 * When relayguard itself fails, the message gets milter.on_error.
 *
 * Each MTA connection costs as few packets as a null milter's: the
 * negotiation turns off every step no rule needs (headers, end of
 * headers, DATA, unknown commands, and the body unless a bytes rule
 * exists), and the steps that only gather facts (connect, HELO, body
 * chunks) are sent without a reply (SMFIP_NR_*), so the MTA only waits
 * for us at MAIL, RCPT and end of message. A connect that could not be
 * set up is therefore answered at MAIL FROM.
 */
#include <ctype.h>
#include <libmilter/mfapi.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "geo.h"
#include "report.h"
#include "rules.h"
#include "runtime.h"
#include "stats.h"
#include "txn.h"

#define LOGIN_MAX 1024		/* longer logins are cut (the store bounds them) */
#define SENDER_MAX 512
#define HELO_MAX 256
#define QID_MAX 64
#define REPLY_MAX (CFG_REPLY_MAX * 2 + 1)
#define SIZE_ARG "SIZE="		/* RFC 1870 MAIL FROM parameter */

/* What relayguard needs of the MTA: header edits and the hold queue. */
#define FILTER_ACTIONS (SMFIF_ADDHDRS | SMFIF_QUARANTINE)
/* Steps no rule needs (libmilter would leave out those without a
 * callback by itself, but not once xxfi_negotiate is used). */
#define STEPS_NEVER (SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NODATA | SMFIP_NOUNKNOWN)
/* Steps whose callbacks only take facts: the MTA need not wait. */
#define STEPS_NO_REPLY (SMFIP_NR_CONN | SMFIP_NR_HELO)

struct conn {
    struct runtime *rt;
    struct addr client;
    bool have_client;
    bool rogue_listed;		/* at MAIL, for the collector's event */
    struct store_geo geo;
    char helo[HELO_MAX];
    /* per message */
    char login[LOGIN_MAX];
    char sender[SENDER_MAX];
    char qid[QID_MAX];
    uint32_t rcpts;
    uint64_t bytes;		/* body bytes seen */
    uint64_t size_arg;		/* MAIL FROM SIZE=, 0 when not given */
    bool refused;		/* a tempfail/reject was already reported */
    int epoch;			/* drain epoch at connect */
    struct rules_verdict v;
};

/* Open connections, by the drain epoch they started in: a graceful stop
 * waits for those of the old epoch and lets the new ones be cut. */
static atomic_int active_conns[2];
static atomic_int drain_epoch;
static char header_name[] = REPORT_HEADER;
/* The private data of a connection whose state could not be set up: the
 * connect step has no reply, so its MAIL FROM gets the tempfail. */
static struct conn conn_failed;

/* conn_of - the connection's state, NULL when there is none to use */
static struct conn *conn_of(SMFICTX *ctx)
{
    struct conn *c = smfi_getpriv(ctx);

    return c == &conn_failed ? NULL : c;
}

/* copy_macro - a bounded copy of a macro value, "" when absent */
static void copy_macro(SMFICTX *ctx, char *name, char *out, size_t len)
{
    const char *v = smfi_getsymval(ctx, name);

    snprintf(out, len, "%s", v ? v : "");
}

/* txn_of - the transaction as the connection knows it so far */
static void txn_of(const struct conn *c, struct txn *t)
{
    *t = (struct txn) { .login = c->login, .sender = c->sender,
	.client = c->client, .geo = c->geo, .geo_caps = geo_caps(c->rt->geo),
	.rogue_listed = c->rogue_listed, .rcpts = c->rcpts,
	.bytes = c->bytes, .qid = c->qid };
}

/* subject - who a verdict is about, for the log and the header (points
 * into t) */
static void subject(const struct conn *c, const char *phase, struct txn *t,
		    struct report_subject *s)
{
    txn_of(c, t);
    txn_subject(t, phase, s);
    s->client = c->have_client ? &t->client : NULL;
    s->helo = c->helo[0] ? c->helo : NULL;
}

/* set_reply - 451 4.7.1 or 550 5.7.1 with the configured text */
static void set_reply(SMFICTX *ctx, const struct runtime *rt,
		      const struct rules_verdict *v)
{
    struct rules_reply r;
    char text[REPLY_MAX], rcode[4], xcode[8];
    size_t i, o = 0;

    rules_reply_for(rt->cfg, v, &r);
    for (i = 0; r.text[i] && o + 2 < sizeof(text); i++) {
	if (r.text[i] == '%')	/* libmilter treats '%' as a format escape */
	    text[o++] = '%';
	text[o++] = r.text[i];
    }
    text[o] = 0;
    snprintf(rcode, sizeof(rcode), "%s", r.rcode);
    snprintf(xcode, sizeof(xcode), "%s", r.xcode);
    smfi_setreply(ctx, rcode, xcode, text);
}

/* judge - one phase through the engine; the sfsistat for it */
static sfsistat judge(SMFICTX *ctx, struct conn *c, enum rules_phase ph,
		      const char *phase)
{
    const struct cfg *cfg = c->rt->cfg;
    struct txn t;
    struct report_subject s;

    if (ph == RULES_PHASE_MAIL)
	c->rogue_listed = rt_rogue_listed(&c->client);
    txn_of(c, &t);
    t.rogue_listed = ph == RULES_PHASE_MAIL && c->rogue_listed;
    if (!txn_judge(cfg, c->rt->st, &t, ph, (uint32_t) time(NULL), &c->v))
	return SMFIS_CONTINUE;	/* tag and quarantine wait for the message */
    if (!c->refused) {		/* one verdict line per message */
	subject(c, phase, &t, &s);
	report_verdict(c->rt, &s, &c->v, cfg->milter.dry_run);
	c->refused = true;
    }
    if (cfg->milter.dry_run)
	return SMFIS_CONTINUE;
    set_reply(ctx, c->rt, &c->v);
    return c->v.action == CFG_ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
}

/* message_reset - forget the previous message of this connection; what
 * it still held counted (aborted, or the connection lost before its end)
 * is given back. A failed give-back leaves its units counted: counted
 * too much, never too little. */
static void message_reset(struct conn *c)
{
    if (rules_give_back(c->rt->st, c->login, &c->client, (uint32_t) time(NULL),
			&c->v) != STORE_OK)
	store_counter_add(c->rt->st, STATS_GIVE_BACK_ERRORS, 1);
    c->login[0] = c->sender[0] = c->qid[0] = 0;
    c->rcpts = 0;
    c->bytes = 0;
    c->size_arg = 0;
    c->refused = false;
    rules_verdict_init(&c->v);
}

/* filter_connect - per-connection state, client address and its place;
 * no reply (SMFIP_NR_CONN): a failure here is answered at MAIL FROM */
static sfsistat filter_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    struct conn *c = calloc(1, sizeof(*c));
    struct geo_info gi;

    (void) host;
    if (c == NULL || (c->rt = rt_acquire()) == NULL) {
	free(c);
	smfi_setpriv(ctx, &conn_failed);
	return SMFIS_NOREPLY;
    }
    c->epoch = atomic_load(&drain_epoch) ? 1 : 0;
    atomic_fetch_add(&active_conns[c->epoch], 1);
    c->have_client = addr_from_sockaddr(sa, &c->client) == 0;
    if (c->have_client) {
	if (geo_lookup(c->rt->geo, &c->client, &gi) != GEO_OK)
	    store_counter_add(c->rt->st, STATS_GEO_ERRORS, 1);
	rules_geo_facts(&gi, &c->geo);
    }
    message_reset(c);
    smfi_setpriv(ctx, c);
    return SMFIS_NOREPLY;
}

/* filter_helo - remember the HELO name for the log (no reply) */
static sfsistat filter_helo(SMFICTX *ctx, char *helo)
{
    struct conn *c = conn_of(ctx);

    if (c != NULL)
	snprintf(c->helo, sizeof(c->helo), "%s", helo ? helo : "");
    return SMFIS_NOREPLY;
}

/* size_arg - the SIZE= of MAIL FROM's ESMTP parameters, 0 when absent
 * or not a number that fits */
static uint64_t size_arg(char **argv)
{
    const size_t plen = sizeof(SIZE_ARG) - 1;
    uint64_t n = 0;
    const char *p;
    int i;

    for (i = 1; argv != NULL && argv[0] != NULL && argv[i] != NULL; i++) {
	if (strncasecmp(argv[i], SIZE_ARG, plen) != 0)
	    continue;
	for (p = argv[i] + plen; isdigit((unsigned char) *p); p++) {
	    if (n > (UINT64_MAX - 9) / 10)
		return 0;
	    n = n * 10 + (uint64_t) (*p - '0');
	}
	return *p == '\0' ? n : 0;
    }
    return 0;
}

/* filter_envfrom - the login is known: blocks and login metrics. Sendmail
 * already knows the queue id here (Postfix only from the first RCPT), so
 * a refusal at MAIL FROM carries it. */
static sfsistat filter_envfrom(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);

    if (c == NULL)		/* the connect step failed */
	return smfi_getpriv(ctx) == &conn_failed ? SMFIS_TEMPFAIL : SMFIS_ACCEPT;
    if (!c->have_client)	/* a local or unknown client: nothing to judge */
	return SMFIS_ACCEPT;
    message_reset(c);
    copy_macro(ctx, "{auth_authen}", c->login, sizeof(c->login));
    copy_macro(ctx, "i", c->qid, sizeof(c->qid));
    snprintf(c->sender, sizeof(c->sender), "%s", argv && argv[0] ? argv[0] : "");
    c->size_arg = size_arg(argv);
    return judge(ctx, c, RULES_PHASE_MAIL, "mail");
}

/* filter_envrcpt - recipient rates */
static sfsistat filter_envrcpt(SMFICTX *ctx, char **argv)
{
    struct conn *c = conn_of(ctx);

    (void) argv;
    if (c == NULL)
	return SMFIS_ACCEPT;
    c->rcpts++;
    copy_macro(ctx, "i", c->qid, sizeof(c->qid));
    return judge(ctx, c, RULES_PHASE_RCPT, "rcpt");
}

/* filter_body - count the body (only negotiated when a bytes rule exists;
 * no reply, SMFIP_NR_BODY) */
static sfsistat filter_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
    struct conn *c = conn_of(ctx);

    (void) chunk;
    if (c != NULL)
	c->bytes += len;
    return SMFIS_NOREPLY;
}

/* apply_eom - tag, quarantine, or refuse at end of message */
static sfsistat apply_eom(SMFICTX *ctx, struct conn *c)
{
    const struct cfg *cfg = c->rt->cfg;
    struct report_subject s;
    struct txn t;
    char hdr[512];

    subject(c, "eom", &t, &s);
    report_verdict(c->rt, &s, &c->v, cfg->milter.dry_run);
    if (cfg->milter.dry_run || c->v.action == CFG_ACTION_ACCEPT)
	return SMFIS_CONTINUE;
    if (c->v.action >= CFG_ACTION_TEMPFAIL) {
	set_reply(ctx, c->rt, &c->v);
	return c->v.action == CFG_ACTION_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    }
    report_header(c->rt, &s, &c->v, hdr, sizeof(hdr));
    if (cfg->milter.add_header)
	smfi_addheader(ctx, header_name, hdr);
    if (c->v.action == CFG_ACTION_QUARANTINE)
	smfi_quarantine(ctx, hdr);
    return SMFIS_CONTINUE;
}

/* filter_eom - size and queue id known: final verdict. The size is the
 * client's SIZE= (the whole message, as Postfix's policy "size"), but
 * never less than the body bytes seen: a client that declares SIZE=1
 * does not slip past a bytes rule. */
static sfsistat filter_eom(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);
    sfsistat r;

    if (c == NULL)
	return SMFIS_CONTINUE;
    if (c->size_arg > c->bytes)
	c->bytes = c->size_arg;
    copy_macro(ctx, "i", c->qid, sizeof(c->qid));
    r = judge(ctx, c, RULES_PHASE_EOM, "eom");
    if (r != SMFIS_CONTINUE || c->refused)
	return r;
    store_counter_add(c->rt->st, c->v.cls == RULES_CLASS_TRUSTED ? STATS_TRUSTED
		      : c->v.whitelisted ? STATS_WHITELISTED : STATS_MESSAGES, 1);
    return apply_eom(ctx, c);
}

/* filter_abort - the message ended without end of message */
static sfsistat filter_abort(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    if (c != NULL)
	message_reset(c);
    return SMFIS_CONTINUE;
}

/* filter_close - release the connection (state may be NULL) */
static sfsistat filter_close(SMFICTX *ctx)
{
    struct conn *c = conn_of(ctx);

    smfi_setpriv(ctx, NULL);
    if (c == NULL)
	return SMFIS_CONTINUE;
    message_reset(c);
    rt_release(c->rt);
    atomic_fetch_sub(&active_conns[c->epoch], 1);
    free(c);
    return SMFIS_CONTINUE;
}


/* filter_active - connections still open */
int filter_active(void)
{
    return atomic_load(&active_conns[0]) + atomic_load(&active_conns[1]);
}

/* filter_drain_begin - from now on, new connections are "late" */
void filter_drain_begin(void)
{
    atomic_store(&drain_epoch, 1);
}

/* filter_active_early - connections opened before the drain began */
int filter_active_early(void)
{
    return atomic_load(&active_conns[0]);
}

/* need_body - does a rule of the running configuration count bytes? */
static bool need_body(void)
{
    struct runtime *rt = rt_acquire();
    bool need = rt == NULL;	/* unknown: count, to be safe */
    size_t i;

    for (i = 0; rt != NULL && i < rt->cfg->policy.nrules; i++)
	if (rt->cfg->policy.rules[i].metric == CFG_METRIC_BYTES)
	    need = true;
    rt_release(rt);
    return need;
}

/* filter_negotiate - per MTA connection, before connect: ask only for the
 * steps the running rules need, and no replies where we only take facts.
 * The NR_* bits are always on offer (libmilter answers for an MTA that
 * lacks them); a NO* step the MTA does not offer is simply sent to us. */
static sfsistat filter_negotiate(SMFICTX *ctx, unsigned long actions,
				 unsigned long steps, unsigned long f2,
				 unsigned long f3, unsigned long *want_actions,
				 unsigned long *want_steps, unsigned long *want_f2,
				 unsigned long *want_f3)
{
    unsigned long want = STEPS_NEVER | STEPS_NO_REPLY;

    (void) ctx;
    (void) f2;
    (void) f3;
    want |= need_body() ? SMFIP_NR_BODY : SMFIP_NOBODY;
    (void) actions;		/* libmilter refuses an MTA without them */
    *want_actions = FILTER_ACTIONS;
    *want_steps = want & steps;
    *want_f2 = *want_f3 = 0;
    return SMFIS_CONTINUE;
}

/* filter_register - hand the callbacks to libmilter */
int filter_register(void)
{
    static struct smfiDesc desc = {
	.xxfi_name = "relayguard",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = FILTER_ACTIONS,
	.xxfi_connect = filter_connect,
	.xxfi_helo = filter_helo,
	.xxfi_envfrom = filter_envfrom,
	.xxfi_envrcpt = filter_envrcpt,
	.xxfi_body = filter_body,
	.xxfi_eom = filter_eom,
	.xxfi_abort = filter_abort,
	.xxfi_close = filter_close,
	.xxfi_negotiate = filter_negotiate,
    };

    return smfi_register(desc) == MI_SUCCESS ? 0 : -1;
}
