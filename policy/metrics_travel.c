/*
 * metrics_travel - the speed between a login's previous located place
 * and this one (travel_kmh): the impossible-travel rules' metric.
 * Places only known to a region or a country (a carrier's hub, a VPN,
 * anycast) have no speed; the accuracy radii are forgiven
 * (rules_travel_kmh).
 */
#include <stdio.h>

#include "geo.h"
#include "metrics.h"

/* kmh_value - a speed as a metric value: a speed that is not a number
 * (or negative) is none, one past any limit is capped */
static uint64_t kmh_value(double kmh)
{
    if (!(kmh > 0))
	return 0;
    return kmh >= (double) UINT32_MAX ? UINT32_MAX : (uint64_t) kmh;
}

/* coarse - is either place only known to a region or a country (a
 * carrier's hub, a VPN, anycast), or the site's shared egress (a hub
 * located finer, c->hub)? Such a place says nothing about where the
 * person is, so there is no speed to judge */
static bool coarse(const struct metrics_ctx *c, const struct store_place *a,
		   const struct store_place *b)
{
    uint32_t k = c->cfg->policy.coarse_km;

    return k != 0 && (a->acc_km >= k || b->acc_km >= k || c->hub);
}

/* metrics_travel_kmh - speed from the previous located login to this
 * one */
uint64_t metrics_travel_kmh(const struct metrics_ctx *c, uint32_t w,
			   char *ev, size_t evlen)
{
    const struct store_place *from = &c->user->prev_login;
    struct store_place to = {c->now, c->f->geo.lat_c, c->f->geo.lon_c,
	c->f->geo.acc_km};
    double kmh;
    char ago[16];

    (void) w;
    if (!c->f->geo.has_loc || from->time == 0 || coarse(c, from, &to))
	return 0;
    kmh = rules_travel_kmh(from, &to);
    if (ev == NULL)
	return kmh_value(kmh);
    rules_format_duration(c->now > from->time ? c->now - from->time : 0, ago,
			  sizeof(ago));
    snprintf(ev, evlen, "%.0f km/h: %.0f km from the login %s before",
	     kmh, geo_distance_km(from->lat_c / 100.0, from->lon_c / 100.0,
				  to.lat_c / 100.0, to.lon_c / 100.0), ago);
    return kmh_value(kmh);
}
