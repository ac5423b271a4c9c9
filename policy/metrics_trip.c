/*
 * metrics_trip - unfamiliar places, a trip abroad counted as one.
 *
 * A traveller abroad sends from the hotel's line and from a local SIM or
 * travel eSIM (a carrier of that country, a coarse place): two networks
 * the login never used, minutes apart, both in one country it was never
 * in. That is one place a person is at, not two; a botnet's addresses
 * are in many countries, rotating proxies in the login's own (usual)
 * country. So unfamiliar networks in a country that is not one of the
 * login's usual countries count as one place together; every other
 * unfamiliar network is a place of its own, as for unfamiliar_networks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define TRIP_KEY (UINT64_C(1) << 40)	/* a place key: a new country, not a
					 * network (store_net_key < 2^33) */

/* One place found: its key, a network of it and how many it has. */
struct place {
    uint64_t key;
    uint64_t net;		/* the first network seen in it */
    const struct store_ip *ip;	/* an address of that network */
    char cc[3];
    unsigned nets;		/* distinct unfamiliar networks in it */
};

/* in_win - was a sighting at t inside the last w seconds? */
static bool in_win(uint32_t t, uint32_t now, uint32_t w)
{
    return t >= now || now - t < w;
}

/* place_key - a new country's key for an address abroad, else its
 * network's (cc is the address's country, "" when unknown) */
static uint64_t place_key(const struct metrics_ctx *c, uint64_t net,
			  const char cc[3])
{
    if (cc[0] == 0 || metrics_usual_country(c, cc))
	return net;
    return TRIP_KEY | (uint64_t) (unsigned char) cc[0] << 8
	| (unsigned char) cc[1];
}

/* seen_net - was this network of this place counted already? */
static bool seen_net(const uint64_t (*nets)[2], size_t n, uint64_t key,
		     uint64_t net)
{
    for (size_t i = 0; i < n; i++)
	if (nets[i][0] == key && nets[i][1] == net)
	    return true;
    return false;
}

/* find_places - the unfamiliar places of the login's addresses in the
 * window; their count */
static size_t find_places(const struct metrics_ctx *c, uint32_t w,
			  struct place *pl)
{
    uint64_t nets[STORE_IPS_MAX][2];
    size_t i, j, n = 0, nn = 0;

    for (i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];
	uint64_t net = store_net_key(&ip->ip, ip->asn), key;
	char cc[3];

	if (!in_win(ip->last_seen, c->now, w)
	    || metrics_familiar(c, &ip->ip, ip->asn))
	    continue;
	store_ip_cc(ip, cc);
	key = place_key(c, net, cc);
	if (seen_net((const uint64_t (*)[2]) nets, nn, key, net))
	    continue;
	nets[nn][0] = key, nets[nn][1] = net, nn++;
	for (j = 0; j < n && pl[j].key != key; j++)
	    ;
	if (j < n) {
	    pl[j].nets++;
	    continue;
	}
	pl[n] = (struct place) {key, net, ip, {cc[0], cc[1], 0}, 1};
	n++;
    }
    return n;
}

/* place_text - a place as evidence: "AS64500 (RU)", "JP: 2 networks" */
static void place_text(const struct place *p, char *out, size_t len)
{
    if (p->nets == 1)
	metrics_net_text(&p->ip->ip, p->ip->asn, p->cc, out, len);
    else
	snprintf(out, len, "%s: %u networks", p->cc, p->nets);
}

/* cmp_text - qsort order for the evidence's items */
static int cmp_text(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* metrics_unfamiliar_places - distinct unfamiliar places among the
 * login's addresses seen in the window: each unfamiliar network, except
 * that those of one country new to the login are one place (a trip) */
uint64_t metrics_unfamiliar_places(const struct metrics_ctx *c, uint32_t w,
				   char *ev, size_t evlen)
{
    struct place pl[STORE_IPS_MAX];
    char items[STORE_IPS_MAX][ADDR_STRLEN + 16], d[16];
    size_t i, n = find_places(c, w, pl), used;

    if (ev == NULL || evlen == 0)
	return n;
    for (i = 0; i < n; i++)
	place_text(&pl[i], items[i], sizeof(items[i]));
    qsort(items, n, sizeof(items[0]), cmp_text);
    rules_format_duration(w, d, sizeof(d));
    used = (size_t) snprintf(ev, evlen, "%zu unfamiliar places in %s:", n, d);
    for (i = 0; i < n && i < 12 && used < evlen; i++)
	used += (size_t) snprintf(ev + used, evlen - used, "%s%s",
				  i ? "," : " ", items[i]);
    if (n > 12 && used < evlen)
	snprintf(ev + used, evlen - used, ",...");
    return n;
}
