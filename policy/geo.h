/*
 * geo - GeoIP lookups through libmaxminddb: country, ASN, location.
 *
 * Opens any subset of a city, a country and an ASN database (MaxMind
 * GeoLite2/GeoIP2 or DB-IP .mmdb). A configured database that does not
 * exist is reported in the "missing" capability mask (the caller warns
 * once and the metrics that need it are disabled); a database that exists
 * but cannot be opened or is corrupt is an error. Lookups are read-only
 * and thread-safe, on private copies of the files (geo.c): a file
 * overwritten in place never faults a lookup. Reload = geo_open a new
 * handle and swap it in; geo_refresh (call it about once a second) reads
 * changed files again by itself.
 */
#ifndef RG_GEO_H
#define RG_GEO_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define GEO_CAP_COUNTRY  1u
#define GEO_CAP_ASN      2u
#define GEO_CAP_LOCATION 4u

#define GEO_ORG_MAX 64

struct geo_info {
    char cc[3];			/* ISO 3166-1 alpha-2, "" if unknown */
    uint32_t asn;		/* 0 if unknown */
    char org[GEO_ORG_MAX];	/* AS organisation, "" if unknown */
    double lat, lon;		/* valid when has_loc */
    uint16_t acc_km;		/* accuracy radius, 0 if unknown */
    uint8_t has_loc;
};

struct geo_paths {
    const char *city_db;	/* NULL or "" when not configured */
    const char *country_db;
    const char *asn_db;
};

typedef struct geo GEO;		/* opaque handle */

enum geo_status { GEO_OK = 0, GEO_ERR = 1 };

int geo_open(const struct geo_paths *p, GEO **out, unsigned *missing,
	     char *err, size_t errlen);
void geo_close(GEO *g);
unsigned geo_caps(const GEO *g);
/* 0 unchanged, 1 changed files read again, -1 a changed file failed (err;
 * the old copies stay). missing: as geo_open's, set when 1. */
int geo_refresh(GEO *g, unsigned *missing, char *err, size_t errlen);
int geo_lookup(const GEO *g, const struct addr *a, struct geo_info *out);

double geo_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
