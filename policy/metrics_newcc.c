/*
 * metrics_newcc - the new_countries metric: countries new to the login.
 *
 * distinct_countries counts every country the login's addresses of the
 * window are in, its own ones too. A slow botnet (a new country every
 * hour or two, over days, probe F4) is told from a traveller by how
 * many countries a day it comes from, but a limit on all of them must
 * leave room for the owner's home, the privacy VPN's exits the owner
 * learned, an international student's two countries: shipped at 5,
 * where 4 held a privacy VPN user's mail. new_countries counts only
 * those that are not one of the login's usual countries (learned while
 * learning or on METRICS_USUAL_MIN_DAYS days, or granted by an
 * override) and only from addresses on no place the login knows
 * (metrics_known_place: pinned, the site's, its own learned networks),
 * so its limit is about trips alone: a traveller's trip and a day trip
 * beside it are two. A privacy VPN's exits in countries the login used
 * on fewer than three days are its own network's (tests/sim variant
 * seed 1: CH, FR, GB, NL held the owner's mail at a limit of 2 when
 * they counted). A learning login's places are known only once let
 * through: a refused botnet's countries keep counting.
 *
 * Contract: a pure function of the context, like metrics.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* cmp_cc - qsort of two-letter codes */
static int cmp_cc(const void *a, const void *b)
{
    return memcmp(a, b, 3);
}

/* new_cc_list - the distinct countries of the window's addresses that
 * are neither usual to the login nor on a place it knows, into out;
 * their number */
static size_t new_cc_list(const struct metrics_ctx *c, uint32_t w,
			  char (*out)[3])
{
    size_t n = 0, j;

    for (uint32_t i = 0; i < c->user->nips && i < STORE_IPS_MAX; i++) {
	const struct store_ip *ip = &c->user->ips[i];
	char cc[3];

	if (!metrics_in_window(ip->last_seen, c->now, w)
	    || metrics_known_place(c, &ip->ip, ip->asn))
	    continue;
	metrics_ip_cc(c, &ip->ip, ip, cc);
	if (cc[0] == 0 || metrics_usual_country(c, cc))
	    continue;
	for (j = 0; j < n && memcmp(out[j], cc, 2) != 0; j++)
	    ;
	if (j == n)
	    memcpy(out[n++], cc, 3);
    }
    return n;
}

/* metrics_new_countries - distinct countries new to the login among its
 * addresses seen in the window on places it does not know; evidence "3
 * countries new to the login in 1d: FR,GB,NL" */
uint64_t metrics_new_countries(const struct metrics_ctx *c, uint32_t w,
			       char *ev, size_t evlen)
{
    char cc[STORE_IPS_MAX][3], d[16];
    size_t n = new_cc_list(c, w, cc), used;

    if (ev == NULL || evlen == 0)
	return n;
    qsort(cc, n, sizeof(cc[0]), cmp_cc);
    rules_format_duration(w, d, sizeof(d));
    used = (size_t) snprintf(ev, evlen, "%zu countr%s new to the login in %s",
			     n, n == 1 ? "y" : "ies", d);
    for (size_t i = 0; i < n && used < evlen; i++)
	used += (size_t) snprintf(ev + used, evlen - used, "%s%s",
				  i ? "," : ": ", cc[i]);
    return n;
}
