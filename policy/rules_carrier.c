/*
 * rules_carrier - the engine's learning of a login's usual hour on its
 * own carrier's pool (store_carrier.c, metrics_carrier.c): at the end of
 * a message let through (in dry run: every one) from a coarse address of
 * a network familiar to the login, the pool's messages in the last hour
 * may raise it; past learning (and while carrier-volume judges a learning
 * login, metrics_coarse_learner) only while none of the hour's addresses
 * is at a hub new to the login (an attacker's mail let through must not
 * teach). The address's hub joins the login's known hubs in the same
 * note. The note is decided and applied in the end of message's own
 * update of the login (record_eom, store_user_obs.coarse), on the entry
 * as that update leaves it, under the lock it already holds: no second
 * lock and update after it, and no other message's update in between.
 * A store failure only leaves the usual hour where it was.
 */

#include "metrics.h"
#include "rules.h"

/* carrier_note - store_user_obs.coarse: the note on u as observed */
static bool carrier_note(const struct store_user *u, const void *arg,
			 struct store_coarse_note *note)
{
    const struct rules_carrier *rc = arg;
    const struct rules_facts *f = rc->f;
    struct metrics_ctx mc = {0};
    struct metrics_coarse t;
    uint32_t n;
    bool learning, judged;

    mc.cfg = rc->cfg, mc.f = f, mc.now = rc->now, mc.user = u;
    mc.cls = RULES_CLASS_AUTHENTICATED, mc.site_start = rc->site_start;
    n = metrics_coarse_count(&mc, CFG_COARSE_WINDOW_S, &t);
    learning = rc->now < metrics_learning_end(rc->cfg, u);
    judged = learning && metrics_coarse_learner(&mc);
    note->hub = store_hub_tag(store_net_key(&f->client, f->geo.asn),
			      f->geo.lat_c, f->geo.lon_c);
    /* the hub is noted always; the hour learns only from such hours */
    note->count = (learning && !judged) || t.fresh == 0 ? n : 0;
    note->learning = learning;
    return true;
}

/* rules_carrier_obs - at EOM: maybe have the login's update (uo) raise
 * the usual coarse hour and note the hub; rc holds what the note needs
 * and must outlive the update */
void rules_carrier_obs(const struct cfg *cfg, const struct rules_facts *f,
		       uint32_t now, uint32_t site_start,
		       const struct rules_verdict *v, struct rules_carrier *rc,
		       struct store_user_obs *uo)
{
    uint32_t k = cfg->policy.coarse_km;

    if (f->phase != RULES_PHASE_EOM || v->cls != RULES_CLASS_AUTHENTICATED
	|| v->relayed || !v->familiar || k == 0 || !f->geo.has_loc
	|| f->geo.acc_km < k
	|| (!cfg->milter.dry_run && (v->action > CFG_ACTION_TAG || v->from_block)))
	return;
    *rc = (struct rules_carrier) {cfg, f, now, site_start};
    uo->coarse = carrier_note;
    uo->coarse_arg = rc;
}
