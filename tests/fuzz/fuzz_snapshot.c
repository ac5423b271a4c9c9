/*
 * fuzz_snapshot - snapshot_parse on hostile snapshot files, and the
 * parse of a valid snapshot with input bytes spliced into it.
 *
 * 1. The input as a snapshot: snapshot_parse must answer SNAPSHOT_OK or
 *    SNAPSHOT_EFORMAT and never crash; every record it hands out must be
 *    what a store can take: a non-empty login of printable bytes, NUL
 *    terminated; country codes empty or two capital letters; a block in
 *    force set by a rule or an admin, or none; a reason NUL terminated.
 *    A site network or place (formats 5 and 6) comes to the client
 *    callback with at most STORE_CLIENT_LOGINS logins, under exactly the
 *    key store_site_key or store_site_place_key makes for what it names;
 *    no record comes under a /64's key.
 * 2. The input behind a valid header whose counts fit its length and
 *    with a correct checksum (so the records themselves are reached):
 *    the same properties, and the counts add up.
 */
#include "fuzz_common.h"
#include "snapshot.h"

#define NOW 1700000000u
#define HDR 32
#define USER_REC2 136	/* format 2 */
#define USER_REC3 240	/* format 3: networks, usual volume */
#define USER_REC4 280	/* format 4: spare state (coarse hour, home, ext) */
#define CLIENT_REC 56
#define SITE_REC5 292	/* format 5: the site's networks and places */
#define SITE_REC 420	/* format 6: and their logins' user records */
#define TRAILER 8

/* check_user - a record snapshot_parse accepted */
static int check_user(const struct store_user *u, void *ctx)
{
    size_t n = strnlen(u->login, STORE_LOGIN_MAX);

    (void) ctx;
    FUZZ_CHECK(n > 0 && n < STORE_LOGIN_MAX, "login length");
    for (size_t i = 0; i < n; i++)
	FUZZ_CHECK((unsigned char) u->login[i] >= 0x20
		   && u->login[i] != 0x7f, "login printable");
    for (int i = 0; i < STORE_COUNTRIES; i++) {
	const char *cc = u->countries[i].cc;

	FUZZ_CHECK(cc[0] == 0 || (cc[0] >= 'A' && cc[0] <= 'Z'
				  && cc[1] >= 'A' && cc[1] <= 'Z'
				  && cc[2] == 0), "country code");
    }
    FUZZ_CHECK(u->block.until == 0 || (u->block.until > NOW
				       && (u->block.setby == STORE_BY_RULE
					   || u->block.setby
					   == STORE_BY_ADMIN)),
	       "block in force and known");
    FUZZ_CHECK(memchr(u->block.reason, 0, STORE_REASON_MAX) != NULL,
	       "reason terminated");
    return 0;
}

/* check_client - a client record snapshot_parse accepted */
static int check_client(const struct store_client *c, void *ctx)
{
    static const unsigned char zero[16];

    (void) ctx;
    FUZZ_CHECK(memcmp(c->ip.b, zero, 16) != 0, "an address");
    FUZZ_CHECK(c->nlogins <= STORE_CLIENT_LOGINS, "logins a record holds");
    FUZZ_CHECK(!store_prefix_is_key(&c->ip), "no /64's key");
    if (store_site_is_key(&c->ip)) {	/* exactly the key it names */
	struct store_site_ref ref;
	struct addr k;

	FUZZ_CHECK(store_site_ref(&c->ip, &ref) == STORE_OK, "a site key");
	if (ref.net)
	    store_site_key(&ref.ip, &k);
	else
	    store_site_place_key(ref.kind, ref.id, &k);
	FUZZ_CHECK(memcmp(k.b, c->ip.b, 16) == 0, "a site key made so");
    }
    FUZZ_CHECK(c->block.until == 0 || c->block.until > NOW, "block in force");
    return 0;
}

/* put32 - little-endian */
static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
	p[i] = (unsigned char) (v >> (8 * i));
}

/* framed - the input as records behind a valid header and checksum */
static void framed(const uint8_t *data, size_t size)
{
    uint32_t nu, nc, ns = 0, version;
    size_t body, len, urec, srec;
    unsigned char *b;
    uint64_t h = UINT64_C(14695981039346656037);
    struct snapshot_counts n;
    char err[256];

    if (size == 0)
	return;
    nu = data[0] % 4;
    version = 2 + (uint32_t) (data[0] >> 2) % 5;	/* every format read */
    urec = version >= 4 ? USER_REC4 : version == 3 ? USER_REC3 : USER_REC2;
    if (size < 1 + (size_t) nu * urec)
	nu = 0;
    srec = version == 6 ? SITE_REC : SITE_REC5;
    if (version >= 5)
	ns = (uint32_t) ((size - 1 - (size_t) nu * urec) / srec) % 4;
    nc = (uint32_t) ((size - 1 - (size_t) nu * urec - (size_t) ns * srec)
		     / CLIENT_REC);
    body = (size_t) nu * urec + (size_t) nc * CLIENT_REC
	+ (size_t) ns * srec;
    len = HDR + body + TRAILER;
    if ((b = calloc(1, len)) == NULL)
	return;
    memcpy(b, "RGSNAP\0\1", 8);
    put32(b + 8, version);
    put32(b + 12, nu);
    put32(b + 16, nc);
    put32(b + 28, ns);
    if (body > 0)
	memcpy(b + HDR, data + 1, body);
    for (size_t i = 0; i < len - TRAILER; i++)
	h = (h ^ b[i]) * UINT64_C(1099511628211);
    put32(b + len - 8, (uint32_t) h);
    put32(b + len - 4, (uint32_t) (h >> 32));
    FUZZ_CHECK(snapshot_parse(b, len, NOW, check_user, check_client, NULL,
			      &n, err, sizeof(err)) == SNAPSHOT_OK,
	       "a whole snapshot parses");
    FUZZ_CHECK(n.users + n.clients + n.sites + n.skipped == nu + nc + ns,
	       "counts");
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct snapshot_counts n;
    char err[256];
    int rc;

    rc = snapshot_parse(data, size, NOW, check_user, check_client, NULL, &n,
			err, sizeof(err));
    FUZZ_CHECK(rc == SNAPSHOT_OK || rc == SNAPSHOT_EFORMAT, "status");
    framed(data, size);
    return 0;
}
