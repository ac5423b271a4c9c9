/*
 * rules_carrier - the engine's learning of a login's usual hour on its
 * own carrier's pool (store_carrier.c, metrics_carrier.c): at the end of
 * a message let through (in dry run: every one) from a coarse address of
 * a network familiar to the login, the pool's messages in the last hour
 * may raise it; past learning (and while carrier-volume judges a learning
 * login, metrics_coarse_learner) only while none of the hour's addresses
 * is at a hub new to the login (an attacker's mail let through must not
 * teach). The address's hub joins the login's known hubs in the same
 * update. A store failure only leaves the usual hour where it was.
 */

#include "metrics.h"
#include "rules.h"

/* rules_carrier_learn - at EOM: maybe raise the usual coarse hour */
void rules_carrier_learn(const struct cfg *cfg, STORE *st,
			 const struct rules_facts *f, uint32_t now,
			 uint32_t site_start, const struct rules_verdict *v,
			 const struct store_user *u)
{
    struct metrics_ctx mc = {0};
    uint32_t k = cfg->policy.coarse_km, n;
    struct metrics_coarse t;
    bool learning, judged;
    uint16_t hub;

    if (f->phase != RULES_PHASE_EOM || v->cls != RULES_CLASS_AUTHENTICATED
	|| v->relayed || !v->familiar || k == 0 || !f->geo.has_loc
	|| f->geo.acc_km < k
	|| (!cfg->milter.dry_run && (v->action > CFG_ACTION_TAG || v->from_block)))
	return;
    mc.cfg = cfg, mc.f = f, mc.now = now, mc.user = u;
    mc.cls = v->cls, mc.site_start = site_start;
    n = metrics_coarse_count(&mc, CFG_COARSE_WINDOW_S, &t);
    learning = now < metrics_learning_end(cfg, u);
    judged = learning && metrics_coarse_learner(&mc);
    hub = store_hub_tag(store_net_key(&f->client, f->geo.asn), f->geo.lat_c,
			f->geo.lon_c);
    /* the hub is noted always; the hour learns only from such hours */
    (void) store_user_coarse_note(st, f->login, hub,
				  (learning && !judged) || t.fresh == 0 ? n : 0,
				  learning, now);
}
