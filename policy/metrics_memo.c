/*
 * metrics_memo - the answers one evaluation keeps about the login's
 * remembered addresses: whether each is familiar (metrics_familiar) and
 * whether it is a second home (metrics_second_home); and the roaming
 * phone's messages of one window (metrics_roaming_phone, kept by
 * metrics_roam.c: the engine asks it at MAIL, unusual-volume again);
 * and the login's learned entry for the client's network
 * (metrics_client_net: new-exit and carrier-volume's one-hub phone each
 * ask it).
 *
 * Both are pure functions of the context, and the metrics of one
 * evaluation ask them again and again: every loop over the window's
 * unfamiliar addresses (metrics_unfamiliar_ip; the trip, day, roaming
 * and volume metrics each walk it) asks metrics_familiar of each of the
 * login's 16 addresses, and each answer looks the address up in the
 * list (metrics_user_ip) and asks metrics_second_home, which walks the
 * list again for a home place (16 x 16 compares a question). The
 * engine gives the context of evaluate (rules.c) a zeroed memo, so each
 * question is worked out once per address per evaluation; a context
 * without one (memo NULL: note_place, the carrier's learning, the
 * admin's show, the tests) works it out every time. An evaluation's
 * context does not change while it runs (the login's copy, the client,
 * the overrides, the clock), so a kept answer is the answer.
 *
 * Contract: a memo belongs to one context (memo->ctx), on the evaluating
 * thread; a copy of the context, which may differ, is not served. Only
 * an address inside c->user->ips has a slot: another address (the
 * client at MAIL) is worked out every time.
 */
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

/* slot_of - the index in c->user->ips of the entry at p, or -1 */
static int slot_of(const struct metrics_ctx *c, uintptr_t p)
{
    uintptr_t base;

    if (c->memo == NULL || c->memo->ctx != c || c->user == NULL)
	return -1;
    base = (uintptr_t) c->user->ips;
    if (p < base || p >= base + sizeof(c->user->ips)
	|| (p - base) % sizeof(c->user->ips[0]) != 0)
	return -1;
    return (int) ((p - base) / sizeof(c->user->ips[0]));
}

/* metrics_memo_familiar - the memo's familiar answer for an address
 * that is an entry's own (ip: &entry->ip, asn: its AS, as the loops
 * over the entries ask), or NULL */
uint8_t *metrics_memo_familiar(const struct metrics_ctx *c, const struct addr *ip,
			       uint32_t asn)
{
    int k = slot_of(c, (uintptr_t) ip - offsetof(struct store_ip, ip));

    if (k < 0 || c->user->ips[k].asn != asn)
	return NULL;
    return &c->memo->familiar[k];
}

/* metrics_memo_second_home - the memo's second-home answer for an
 * entry of the login's list, or NULL */
uint8_t *metrics_memo_second_home(const struct metrics_ctx *c,
				  const struct store_ip *ip)
{
    int k = slot_of(c, (uintptr_t) ip);

    return k < 0 ? NULL : &c->memo->second_home[k];
}

/* metrics_memo_put - keep answer in m (NULL: nowhere); the answer */
bool metrics_memo_put(uint8_t *m, bool answer)
{
    if (m != NULL)
	*m = answer ? METRICS_MEMO_YES : METRICS_MEMO_NO;
    return answer;
}

/* metrics_client_net - the login's learned entry for the client's
 * network (metrics_learned_net), kept in the memo; NULL: none */
const struct store_net *metrics_client_net(const struct metrics_ctx *c)
{
    struct metrics_memo *m = c->memo;

    if (m == NULL || m->ctx != c)
	return metrics_learned_net(c, &c->f->client, c->f->geo.asn);
    if (!m->client_net_asked) {
	m->client_net = metrics_learned_net(c, &c->f->client, c->f->geo.asn);
	m->client_net_asked = true;
    }
    return m->client_net;
}
