/*
 * rules_hop - a hold by carrier-hopping noted, so that the pool it held
 * does not become the login's own by its learning grace.
 *
 * carrier_networks (metrics_pools.c) counts a carrier's pool new to the
 * login until it is the login's own from an earlier day. A learning
 * login's network is its own from the day after its first message let
 * through (metrics_net_own: first used while learning), so mobile
 * proxies on two carriers' pools, one the victim's own, whose first
 * messages of the other went through before the rule held them (the
 * hubs came only with the third), had the other carrier the login's own
 * after midnight: from then on no pool was new and the proxies went
 * through all night (tests/sim probe-hop hop-late seed 203: 33 of 94,
 * carrier-hopping held messages 6-66; a wide.mix site of session 22: 38
 * of 94). So a message held by a carrier_networks rule from a pool that
 * is not the login's own (metrics_pool_own) notes the day and the
 * network as a refusal does (store_stopday.c, rules.c note_stop; one
 * note a login, the latest), and metrics_pool_own leaves out a network
 * the learning grace alone made the login's own (fewer than
 * familiar_days days) held at on its last day let through or since.
 * A message held from the login's own pool notes nothing: the note
 * stays on the new one. An admin's carrier_networks rule that refuses
 * (tempfail, reject) notes the same: note_stop notes no refusal at a
 * place the learning grace made known, as the new pool is. In dry run
 * nothing is held, and nothing noted. The note is the one of
 * store_stopday.c: a later refusal at another place replaces it (and
 * it that one's), as two refusals do. A slot of its own would need two
 * more ext bytes (a day, a network tag) and none is free (format 8);
 * what the record keeps cannot tell a hold's note from a refusal's.
 * Sharing the slot costs no honest message: a note only keeps its
 * network's next day from counting, so a replaced note leaves that
 * network as it was before either note (familiar a day sooner). It
 * lets an attacker through no way that was not open: a thief can move
 * the note off its refused network by a refusal at a second network of
 * its own as well. Replayed, 153 of X and T's 240 runs (session 23,
 * h-tidy2): no carrier-hopping hold of a login came after a refusal of
 * it at another network that day (of 167 holds); 4 refusals at another
 * carrier's pool replaced a hold's note, each minutes later in a
 * proxies attack on the carriers' pools (EFFICACY.md round 17 - tidy2).
 *
 * Contract: called at the end of MAIL's evaluation (rules.c), after the
 * message's own observation (the note's day byte needs last_seen on its
 * day, store_stopday.c): carrier_networks is judged there and the
 * login's record read (mc->user; NULL for a client without a login); a
 * store failure leaves the note as it was.
 */
#include "metrics.h"
#include "rules.h"

/* hop_rule - did a carrier_networks rule hold the message (or refuse
 * it: an admin's rule may tempfail or reject, and note_stop notes no
 * refusal at a place the learning grace made known, as this pool is)? */
static bool hop_rule(const struct cfg *cfg, const struct rules_verdict *v)
{
    return v->action >= CFG_ACTION_QUARANTINE && !v->from_block
	&& rules_decided_by(cfg, v, CFG_METRIC_CARRIER_NETWORKS);
}

/* rules_hop_note - see above */
void rules_hop_note(const struct cfg *cfg, STORE *st,
		    const struct metrics_ctx *mc, const struct rules_verdict *v)
{
    const struct rules_facts *f = mc->f;

    if (cfg->milter.dry_run || mc->user == NULL || v->relayed
	|| v->cls != RULES_CLASS_AUTHENTICATED || !hop_rule(cfg, v)
	|| metrics_pool_own(mc, &f->client, f->geo.asn, f->geo.cc))
	return;
    (void) store_user_stopped(st, f->login,
			      store_net_key(&f->client, f->geo.asn), mc->now);
}
