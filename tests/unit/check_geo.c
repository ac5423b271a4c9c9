/*
 * check_geo - unit tests of policy/geo.c against generated databases.
 *
 * main() runs tests/geoip/make-test-db.pl --fixtures into a private
 * temporary directory before any test forks, and removes it afterwards.
 * The script is found under $RG_SRCDIR (default ".", the repository root
 * that "make unit-check" runs from). Expected values come from the same
 * tests/geoip/plan.tsv the script reads, so the plan and the tests cannot
 * drift apart; the hostile fixtures are described in the script's header.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <maxminddb.h>

#include "addr.h"
#include "geo.h"
#include "check_main.h"

#define PLAN_ROWS_MAX 64
#define PLAN_FIELDS 12
#define PLAN_LINE_MAX 512
#define PATH_MAX_LEN 4096
#define DIR_MAX_LEN 1024	/* leaves room for file names in PATH_MAX_LEN */
#define ERR_LEN 512
#define DIST_EPS_KM 0.01
#define COORD_EPS 1e-9
#define THREADS 8
#define THREAD_ROUNDS 5000
#define NFTW_FDS 16

static const double earth_half_km = 20015.1144;	/* pi * 6371.0088 */
static const double berlin_lat = 52.5200, berlin_lon = 13.4050;
static const double potsdam_lat = 52.3906, potsdam_lon = 13.0645;
static const double beijing_lat = 39.9042, beijing_lon = 116.4074;

struct plan_row {
    int regonly;
    char net4[32], net6[48], cc[3], rcc[3];
    double lat, lon;
    unsigned acc;
    uint32_t asn;
    char org[GEO_ORG_MAX];
};

static char db_dir[DIR_MAX_LEN];
static int db_ready;
static struct plan_row plan[PLAN_ROWS_MAX];
static size_t plan_n;

/* src_path - a file under $RG_SRCDIR */
static void src_path(char *buf, size_t len, const char *rel)
{
    const char *src = getenv("RG_SRCDIR");

    snprintf(buf, len, "%s/%s", src != NULL && *src ? src : ".", rel);
}

/* db - the path of a generated file (static buffer per slot number) */
static const char *db(int slot, const char *name)
{
    static char buf[4][PATH_MAX_LEN];
    int n = snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", db_dir, name);

    ck_assert_msg(n > 0 && (size_t) n < sizeof(buf[slot]), "path too long");
    return buf[slot];
}

/* plan_parse_row - one tab-separated plan line into a row */
static int plan_parse_row(char *line, struct plan_row *r)
{
    char *f[PLAN_FIELDS], *p = line;
    int i;

    for (i = 0; i < PLAN_FIELDS; i++)
	if ((f[i] = strsep(&p, "\t")) == NULL)
	    return -1;
    if (p != NULL)
	return -1;
    memset(r, 0, sizeof(*r));
    r->regonly = strcmp(f[0], "regonly") == 0;
    snprintf(r->net4, sizeof(r->net4), "%s", f[1]);
    snprintf(r->net6, sizeof(r->net6), "%s", f[2]);
    snprintf(r->cc, sizeof(r->cc), "%s", strcmp(f[3], "-") ? f[3] : "");
    snprintf(r->rcc, sizeof(r->rcc), "%s", strcmp(f[4], "-") ? f[4] : "");
    if (!r->regonly) {
	r->lat = strtod(f[7], NULL);
	r->lon = strtod(f[8], NULL);
	r->acc = (unsigned) strtoul(f[9], NULL, 10);
    }
    r->asn = (uint32_t) strtoul(f[10], NULL, 10);
    snprintf(r->org, sizeof(r->org), "%s", f[11]);
    return 0;
}

/* plan_load - read tests/geoip/plan.tsv; 0 or -1 */
static int plan_load(void)
{
    char path[PATH_MAX_LEN], line[PLAN_LINE_MAX];
    FILE *fp;
    int rc = 0;

    src_path(path, sizeof(path), "tests/geoip/plan.tsv");
    if ((fp = fopen(path, "r")) == NULL) {
	fprintf(stderr, "check_geo: %s: %s\n", path, strerror(errno));
	return -1;
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '#' || line[0] == '\0')
	    continue;
	if (plan_n == PLAN_ROWS_MAX || plan_parse_row(line, &plan[plan_n])) {
	    fprintf(stderr, "check_geo: %s: bad line: %s\n", path, line);
	    rc = -1;
	    break;
	}
	plan_n++;
    }
    fclose(fp);
    return plan_n > 0 ? rc : -1;
}

/* build_dbs - run the generator into a fresh temporary directory */
static int build_dbs(void)
{
    char script[PATH_MAX_LEN];
    const char *tmp = getenv("TMPDIR");
    pid_t pid;
    int status;

    snprintf(db_dir, sizeof(db_dir), "%s/rg-check-geo-XXXXXX",
	     tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(db_dir) == NULL) {
	fprintf(stderr, "check_geo: mkdtemp %s: %s\n", db_dir,
		strerror(errno));
	db_dir[0] = '\0';
	return -1;
    }
    src_path(script, sizeof(script), "tests/geoip/make-test-db.pl");
    if ((pid = fork()) < 0)
	return -1;
    if (pid == 0) {
	execlp("perl", "perl", script, "--fixtures", db_dir, (char *) NULL);
	_exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)
	|| WEXITSTATUS(status) != 0) {
	fprintf(stderr, "check_geo: %s failed\n", script);
	return -1;
    }
    return 0;
}

/* rm_one - nftw callback: remove one file or (emptied) directory */
static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    return remove(path);
}

/* What open_ok's geo_open said (the files it did without). */
static char open_msg[ERR_LEN];

/* open_ok - open the named generated files; fail the test otherwise */
static GEO *open_ok(const char *city, const char *country, const char *asn,
		    unsigned *missing)
{
    struct geo_paths p;
    unsigned dummy;
    GEO *g = NULL;
    int rc;

    ck_assert_msg(db_ready, "test databases were not generated");
    p.city_db = city ? db(0, city) : NULL;
    p.country_db = country ? db(1, country) : NULL;
    p.asn_db = asn ? db(2, asn) : NULL;
    open_msg[0] = '\0';
    rc = geo_open(&p, &g, missing ? missing : &dummy, open_msg,
		  sizeof(open_msg));
    ck_assert_msg(rc == GEO_OK, "geo_open: %s", open_msg);
    ck_assert_ptr_nonnull(g);
    return g;
}

/* open_err - geo_open of these paths must fail; returns the message */
static const char *open_err(const char *city, const char *country,
			    const char *asn)
{
    static char err[ERR_LEN];
    struct geo_paths p = {city, country, asn};
    unsigned missing = 0;
    GEO *g = (GEO *) &missing;	/* must be reset to NULL */

    ck_assert_msg(db_ready, "test databases were not generated");
    ck_assert_int_eq(geo_open(&p, &g, &missing, err, sizeof(err)), GEO_ERR);
    ck_assert_ptr_null(g);
    ck_assert_msg(err[0] != '\0', "empty error message");
    return err;
}

/* look - look up a text address, asserting the return status */
static void look(const GEO *g, const char *ip, int want,
		 struct geo_info *out)
{
    struct addr a;

    ck_assert_msg(addr_parse(ip, &a) == 0, "bad test address %s", ip);
    ck_assert_msg(geo_lookup(g, &a, out) == want,
		  "geo_lookup(%s) status != %d", ip, want);
}

/* host_in - first (+1) or last address of a plan network */
static void host_in(const char *net, int last, struct addr *out)
{
    struct cidr c;
    char err[ERR_LEN];
    int bit;

    ck_assert_msg(addr_cidr_parse(net, &c, err, sizeof(err)) == 0,
		  "%s: %s", net, err);
    *out = c.net;
    if (!last) {
	out->b[15] |= 1;
	return;
    }
    for (bit = c.plen; bit < 128; bit++)
	out->b[bit / 8] |= (uint8_t) (0x80 >> (bit % 8));
}

/* write_file - create a file with these bytes */
static const char *write_file(const char *name, const void *data, size_t n)
{
    const char *path = db(3, name);
    FILE *fp = fopen(path, "wb");

    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, n, fp), n);
    ck_assert_int_eq(fclose(fp), 0);
    return path;
}

/* check_row - one plan row, one address: what the full set must say */
static void check_row(const GEO *g, const struct plan_row *r,
		      const struct addr *a)
{
    struct geo_info gi;
    char txt[ADDR_STRLEN];

    addr_format(a, txt, sizeof(txt));
    ck_assert_msg(geo_lookup(g, a, &gi) == GEO_OK, "lookup %s", txt);
    ck_assert_str_eq(gi.cc, r->cc[0] ? r->cc : r->rcc);
    ck_assert_uint_eq(gi.asn, r->asn);
    ck_assert_str_eq(gi.org, r->org);
    ck_assert_int_eq(gi.has_loc, !r->regonly);
    if (r->regonly)
	return;
    ck_assert_double_eq_tol(gi.lat, r->lat, COORD_EPS);
    ck_assert_double_eq_tol(gi.lon, r->lon, COORD_EPS);
    ck_assert_uint_eq(gi.acc_km, r->acc);
}

START_TEST(test_plan_every_row)
{
    GEO *g = open_ok("GeoLite2-City.mmdb", "GeoLite2-Country.mmdb",
		     "GeoLite2-ASN.mmdb", NULL);
    struct addr a;
    size_t i;

    ck_assert_uint_ge(plan_n, 12);
    ck_assert_uint_eq(geo_caps(g),
		      GEO_CAP_COUNTRY | GEO_CAP_ASN | GEO_CAP_LOCATION);
    for (i = 0; i < plan_n; i++) {
	host_in(plan[i].net4, 0, &a);
	check_row(g, &plan[i], &a);
	host_in(plan[i].net4, 1, &a);
	check_row(g, &plan[i], &a);
	host_in(plan[i].net6, 0, &a);
	check_row(g, &plan[i], &a);
	host_in(plan[i].net6, 1, &a);
	check_row(g, &plan[i], &a);
    }
    geo_close(g);
}
END_TEST

START_TEST(test_plan_twelve_countries)
{
    char seen[PLAN_ROWS_MAX][3];
    size_t i, j, n = 0;

    for (i = 0; i < plan_n; i++) {
	for (j = 0; j < n && strcmp(seen[j], plan[i].cc); j++)
	    ;
	if (j == n && plan[i].cc[0])
	    memcpy(seen[n++], plan[i].cc, 3);
    }
    ck_assert_uint_ge(n, 12);
}
END_TEST

START_TEST(test_ipv4_and_ipv6)
{
    GEO *g = open_ok("GeoLite2-City.mmdb", NULL, "GeoLite2-ASN.mmdb", NULL);
    struct geo_info gi;

    look(g, "198.18.3.7", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "DE");
    ck_assert_double_eq_tol(gi.lat, berlin_lat, COORD_EPS);
    ck_assert_double_eq_tol(gi.lon, berlin_lon, COORD_EPS);
    ck_assert_uint_eq(gi.acc_km, 20);
    ck_assert_uint_eq(gi.asn, 64498);
    look(g, "::ffff:198.18.2.9", GEO_OK, &gi);	/* parses as IPv4 */
    ck_assert_str_eq(gi.cc, "CN");
    look(g, "2001:db8:7::42", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "VN");
    ck_assert_uint_eq(gi.asn, 64502);
    /* 6to4 of 198.18.3.7: the IPv6 file aliases it to the IPv4 tree */
    look(g, "2002:c612:307::1", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "DE");
    geo_close(g);
}
END_TEST

START_TEST(test_unknown_addresses)
{
    static const char *const ips[] = {
	"198.18.0.1", "198.18.200.1", "10.0.0.1", "0.0.0.0",
	"255.255.255.255", "2001:db8:ffff::1", "::1", "::", "fe80::1",
    };
    GEO *g = open_ok("GeoLite2-City.mmdb", "GeoLite2-Country.mmdb",
		     "GeoLite2-ASN.mmdb", NULL);
    struct geo_info gi;
    size_t i;

    for (i = 0; i < sizeof(ips) / sizeof(ips[0]); i++) {
	memset(&gi, 0x5a, sizeof(gi));
	look(g, ips[i], GEO_OK, &gi);
	ck_assert_str_eq(gi.cc, "");
	ck_assert_uint_eq(gi.asn, 0);
	ck_assert_str_eq(gi.org, "");
	ck_assert_int_eq(gi.has_loc, 0);
	ck_assert_uint_eq(gi.acc_km, 0);
    }
    geo_close(g);
}
END_TEST

START_TEST(test_country_only)
{
    GEO *g = open_ok(NULL, "GeoLite2-Country.mmdb", NULL, NULL);
    struct geo_info gi;

    ck_assert_uint_eq(geo_caps(g), GEO_CAP_COUNTRY);
    look(g, "198.18.5.1", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "RU");
    ck_assert_int_eq(gi.has_loc, 0);
    ck_assert_uint_eq(gi.asn, 0);
    look(g, "2001:db8:a3::1", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "IT");
    /* only registered_country: the fallback */
    look(g, "198.18.14.77", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "SE");
    geo_close(g);
}
END_TEST

START_TEST(test_city_db_in_country_slot)
{
    GEO *g = open_ok(NULL, "GeoLite2-City.mmdb", NULL, NULL);
    struct geo_info gi;

    ck_assert_uint_eq(geo_caps(g), GEO_CAP_COUNTRY);
    look(g, "198.51.100.3", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "NL");
    ck_assert_int_eq(gi.has_loc, 0);	/* the slot gives country only */
    geo_close(g);
}
END_TEST

START_TEST(test_asn_only)
{
    GEO *g = open_ok(NULL, NULL, "GeoLite2-ASN.mmdb", NULL);
    struct geo_info gi;

    ck_assert_uint_eq(geo_caps(g), GEO_CAP_ASN);
    look(g, "198.18.1.1", GEO_OK, &gi);
    ck_assert_uint_eq(gi.asn, 64496);
    /* valid UTF-8 survives the sanitiser */
    ck_assert_str_eq(gi.org, "Exemplo Telecomunica\xc3\xa7\xc3\xb5" "es Brasil");
    ck_assert_str_eq(gi.cc, "");
    look(g, "2001:db8:14::1", GEO_OK, &gi);
    ck_assert_uint_eq(gi.asn, 65536);
    ck_assert_str_eq(gi.org, "Example Anycast Sweden");
    geo_close(g);
}
END_TEST

START_TEST(test_ipv4_only_database)
{
    GEO *g = open_ok(NULL, "RG-Test-Country-IPv4.mmdb", NULL, NULL);
    struct geo_info gi;

    look(g, "198.18.6.1", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "US");
    look(g, "::ffff:192.0.2.1", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "CA");
    /* an IPv6 address in an IPv4-only file is unknown, not an error */
    look(g, "2001:db8:6::1", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "");
    geo_close(g);
}
END_TEST

START_TEST(test_missing_city)
{
    unsigned missing = 0;
    GEO *g = open_ok("no-such-City.mmdb", "GeoLite2-Country.mmdb",
		     "GeoLite2-ASN.mmdb", &missing);
    struct geo_info gi;

    /* the country file still answers country: only location is lost */
    ck_assert_uint_eq(missing, GEO_CAP_LOCATION);
    ck_assert_uint_eq(geo_caps(g), GEO_CAP_COUNTRY | GEO_CAP_ASN);
    ck_assert_ptr_nonnull(strstr(open_msg, "no-such-City.mmdb"));
    look(g, "198.18.4.4", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "IN");
    ck_assert_int_eq(gi.has_loc, 0);
    geo_close(g);
}
END_TEST

START_TEST(test_missing_all)
{
    unsigned missing = 0;
    GEO *g = open_ok("gone/City.mmdb", "gone-Country.mmdb", "gone-ASN.mmdb",
		     &missing);
    struct geo_info gi;

    ck_assert_uint_eq(missing,
		      GEO_CAP_COUNTRY | GEO_CAP_ASN | GEO_CAP_LOCATION);
    ck_assert_uint_eq(geo_caps(g), 0);
    ck_assert_ptr_nonnull(strstr(open_msg, "gone-ASN.mmdb"));
    look(g, "198.18.4.4", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "");
    geo_close(g);
}
END_TEST

START_TEST(test_none_configured)
{
    struct geo_paths p = {NULL, "", NULL};
    char err[ERR_LEN] = "stale";
    unsigned missing = 99;
    GEO *g = NULL;
    struct geo_info gi;

    ck_assert_int_eq(geo_open(&p, &g, &missing, err, sizeof(err)), GEO_OK);
    ck_assert_uint_eq(missing, 0);
    ck_assert_uint_eq(geo_caps(g), 0);
    ck_assert_str_eq(err, "");
    look(g, "198.18.4.4", GEO_OK, &gi);
    ck_assert_str_eq(gi.cc, "");
    geo_close(g);
}
END_TEST

START_TEST(test_corrupt_garbage)
{
    static const char junk[] = "this is not a MaxMind DB\n\x01\x02\xff";
    const char *path = write_file("garbage.mmdb", junk, sizeof(junk));
    const char *err;

    err = open_err(path, NULL, NULL);
    ck_assert_msg(strstr(err, path) != NULL, "no file name in: %s", err);
    ck_assert_msg(strstr(err, "city") != NULL, "no slot in: %s", err);
    ck_assert_msg(strstr(err,
		  MMDB_strerror(MMDB_INVALID_METADATA_ERROR)) != NULL,
		  "no libmaxminddb reason in: %s", err);
}
END_TEST

START_TEST(test_corrupt_empty)
{
    const char *path = write_file("empty.mmdb", "", 0);
    const char *err = open_err(NULL, NULL, path);

    ck_assert_msg(strstr(err, path) != NULL, "no file name in: %s", err);
    ck_assert_msg(strstr(err, "asn") != NULL, "no slot in: %s", err);
}
END_TEST

START_TEST(test_corrupt_tree)
{
    static char buf[1 << 16];
    const char *src = db(0, "GeoLite2-City.mmdb");
    FILE *fp = fopen(src, "rb");
    size_t n, wiped = 1024;
    struct geo_info gi;
    const char *path;
    GEO *g;

    ck_assert_ptr_nonnull(fp);
    n = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    ck_assert_uint_gt(n, wiped);
    /* every record of the first nodes now points far past the data */
    memset(buf, 0xff, wiped);
    path = write_file("tree-wiped-City.mmdb", buf, n);
    {
	struct geo_paths p = {path, NULL, NULL};
	char err[ERR_LEN];
	unsigned missing;

	ck_assert_int_eq(geo_open(&p, &g, &missing, err, sizeof(err)),
			 GEO_OK);
    }
    look(g, "198.18.3.7", GEO_ERR, &gi);
    ck_assert_str_eq(gi.cc, "");
    ck_assert_int_eq(gi.has_loc, 0);
    look(g, "2001:db8:3::1", GEO_ERR, &gi);
    ck_assert_str_eq(gi.cc, "");
    geo_close(g);
}
END_TEST

START_TEST(test_wrong_kind)
{
    const char *err;

    err = open_err(db(0, "GeoLite2-ASN.mmdb"), NULL, NULL);
    ck_assert_msg(strstr(err, "GeoLite2-ASN.mmdb") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "not a city database") != NULL, "%s", err);
    err = open_err(NULL, NULL, db(2, "GeoLite2-Country.mmdb"));
    ck_assert_msg(strstr(err, "not a asn database") != NULL, "%s", err);
    err = open_err(db(0, "GeoLite2-Country.mmdb"), NULL, NULL);
    ck_assert_msg(strstr(err, "\"GeoLite2-Country\"") != NULL, "%s", err);
}
END_TEST

START_TEST(test_not_a_file)
{
    const char *err = open_err(NULL, db_dir, NULL);

    ck_assert_msg(strstr(err, db_dir) != NULL, "%s", err);
    ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);
    err = open_err(db(0, "GeoLite2-City.mmdb/x"), NULL, NULL);
    ck_assert_msg(strstr(err, "Not a directory") != NULL, "%s", err);
}
END_TEST

START_TEST(test_error_buffer_bounds)
{
    static const char junk[] = "junk";
    const char *path = write_file("small-err.mmdb", junk, sizeof(junk));
    struct geo_paths p = {path, NULL, NULL};
    char err[8];
    unsigned missing;
    GEO *g = NULL;

    memset(err, 'x', sizeof(err));
    ck_assert_int_eq(geo_open(&p, &g, &missing, err, sizeof(err)), GEO_ERR);
    ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
    ck_assert_int_eq(geo_open(&p, &g, NULL, NULL, 0), GEO_ERR);
    ck_assert_ptr_null(g);
    g = (GEO *) &missing;
    ck_assert_int_eq(geo_open(NULL, &g, NULL, NULL, 0), GEO_ERR);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(geo_open(&p, NULL, NULL, NULL, 0), GEO_ERR);
}
END_TEST

START_TEST(test_null_handles)
{
    struct geo_info gi;
    struct addr a;

    ck_assert_int_eq(addr_parse("198.18.3.7", &a), 0);
    memset(&gi, 0x5a, sizeof(gi));
    ck_assert_int_eq(geo_lookup(NULL, &a, &gi), GEO_ERR);
    ck_assert_str_eq(gi.cc, "");
    ck_assert_int_eq(geo_lookup(NULL, &a, NULL), GEO_ERR);
    ck_assert_uint_eq(geo_caps(NULL), 0);
    geo_close(NULL);
}
END_TEST

START_TEST(test_hostile_values)
{
    GEO *g = open_ok("RG-Test-Hostile-City.mmdb", NULL,
		     "RG-Test-Hostile-ASN.mmdb", NULL);
    struct geo_info gi;
    char want[GEO_ORG_MAX];
    size_t i;

    look(g, "198.18.250.7", GEO_ERR, &gi);
    ck_assert_str_eq(gi.cc, "");	/* "d3", then "DEU" */
    ck_assert_int_eq(gi.has_loc, 0);	/* lat 123.5, lon -200.25 */
    ck_assert_uint_eq(gi.acc_km, 0);
    ck_assert_uint_eq(gi.asn, 0);	/* AS 0 */
    ck_assert_uint_eq(strlen(gi.org), GEO_ORG_MAX - 1);
    ck_assert_int_eq(strncmp(gi.org, "Evil??Injected: x??AAA", 22), 0);
    for (i = 0; gi.org[i]; i++)
	ck_assert_int_ge((unsigned char) gi.org[i], 0x20);
    look(g, "2001:db8:250::7", GEO_ERR, &gi);
    ck_assert_str_eq(gi.cc, "");
    look(g, "198.18.251.7", GEO_ERR, &gi);
    ck_assert_str_eq(gi.cc, "FR");	/* "D" invalid, registered FR */
    ck_assert_int_eq(gi.has_loc, 0);	/* NaN, +Inf */
    ck_assert_uint_eq(gi.asn, 64496);
    ck_assert_str_eq(gi.org, "RGBADUTF8?? tail");
    look(g, "198.18.252.7", GEO_OK, &gi);	/* edges are valid */
    ck_assert_str_eq(gi.cc, "XK");
    ck_assert_int_eq(gi.has_loc, 1);
    ck_assert_double_eq(gi.lat, 90.0);
    ck_assert_double_eq(gi.lon, -180.0);
    ck_assert_uint_eq(gi.acc_km, 0);
    memset(want, 'x', GEO_ORG_MAX - 2);
    want[GEO_ORG_MAX - 2] = '\0';	/* the 2-byte e-acute does not fit */
    ck_assert_str_eq(gi.org, want);
    look(g, "198.18.253.7", GEO_ERR, &gi);	/* accuracy 65535 km */
    ck_assert_str_eq(gi.cc, "DE");
    ck_assert_int_eq(gi.has_loc, 1);
    ck_assert_double_eq_tol(gi.lat, berlin_lat, COORD_EPS);
    ck_assert_uint_eq(gi.acc_km, 0);
    look(g, "198.18.254.7", GEO_ERR, &gi);	/* latitude only */
    ck_assert_str_eq(gi.cc, "DE");
    ck_assert_int_eq(gi.has_loc, 0);
    geo_close(g);
}
END_TEST

START_TEST(test_bad_types)
{
    GEO *g = open_ok("RG-Test-BadTypes-City.mmdb", NULL,
		     "RG-Test-BadTypes-ASN.mmdb", NULL);
    struct geo_info gi;

    look(g, "198.18.250.1", GEO_ERR, &gi);
    ck_assert_str_eq(gi.cc, "");
    ck_assert_int_eq(gi.has_loc, 0);
    ck_assert_uint_eq(gi.acc_km, 0);
    ck_assert_uint_eq(gi.asn, 0);
    ck_assert_str_eq(gi.org, "");
    look(g, "198.18.3.1", GEO_OK, &gi);	/* not in these files */
    geo_close(g);
}
END_TEST

struct thread_arg {
    const GEO *g;
    unsigned seed;
    unsigned errors;
};

/* lookup_thread - random plan lookups; count any wrong answer */
static void *lookup_thread(void *p)
{
    struct thread_arg *t = p;
    struct geo_info gi;
    struct addr a;
    struct cidr c;
    const struct plan_row *r;
    int i;

    for (i = 0; i < THREAD_ROUNDS; i++) {
	r = &plan[rand_r(&t->seed) % plan_n];
	if (addr_cidr_parse(i % 2 ? r->net6 : r->net4, &c, NULL, 0) != 0) {
	    t->errors++;
	    continue;
	}
	a = c.net;
	a.b[15] = (uint8_t) (1 + i % 250);
	if (geo_lookup(t->g, &a, &gi) != GEO_OK
	    || strcmp(gi.cc, r->cc[0] ? r->cc : r->rcc) != 0
	    || gi.asn != r->asn || strcmp(gi.org, r->org) != 0
	    || (!r->regonly && gi.lat != r->lat))
	    t->errors++;
    }
    return NULL;
}

START_TEST(test_threads_share_handle)
{
    GEO *g = open_ok("GeoLite2-City.mmdb", "GeoLite2-Country.mmdb",
		     "GeoLite2-ASN.mmdb", NULL);
    pthread_t tid[THREADS];
    struct thread_arg arg[THREADS];
    unsigned errors = 0;
    int i;

    for (i = 0; i < THREADS; i++) {
	arg[i] = (struct thread_arg) {g, (unsigned) i + 1, 0};
	ck_assert_int_eq(pthread_create(&tid[i], NULL, lookup_thread,
					&arg[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
	pthread_join(tid[i], NULL);
	errors += arg[i].errors;
    }
    ck_assert_uint_eq(errors, 0);
    geo_close(g);
}
END_TEST

START_TEST(test_distance_home_towns)
{
    double d = geo_distance_km(berlin_lat, berlin_lon, potsdam_lat,
			       potsdam_lon);

    ck_assert_double_eq_tol(d, 27.19, 0.05);
    ck_assert_double_eq(d, geo_distance_km(potsdam_lat, potsdam_lon,
					   berlin_lat, berlin_lon));
}
END_TEST

START_TEST(test_distance_far)
{
    ck_assert_double_eq_tol(geo_distance_km(berlin_lat, berlin_lon,
					    beijing_lat, beijing_lon),
			    7357.56, 0.5);
    /* one degree of arc, also across the antimeridian */
    ck_assert_double_eq_tol(geo_distance_km(0, 0, 1, 0), 111.195, 0.001);
    ck_assert_double_eq_tol(geo_distance_km(0, 179.5, 0, -179.5),
			    111.195, 0.001);
}
END_TEST

START_TEST(test_distance_antipodes)
{
    ck_assert_double_eq_tol(geo_distance_km(0, 0, 0, 180), earth_half_km,
			    DIST_EPS_KM);
    ck_assert_double_eq_tol(geo_distance_km(90, 0, -90, 0), earth_half_km,
			    DIST_EPS_KM);
    ck_assert_double_eq_tol(geo_distance_km(45, 10, -45, -170),
			    earth_half_km, DIST_EPS_KM);
    ck_assert_double_eq_tol(geo_distance_km(berlin_lat, berlin_lon,
					    -berlin_lat, berlin_lon - 180),
			    earth_half_km, DIST_EPS_KM);
}
END_TEST

START_TEST(test_distance_same_point)
{
    ck_assert_double_eq(geo_distance_km(berlin_lat, berlin_lon, berlin_lat,
					berlin_lon), 0.0);
    ck_assert_double_eq(geo_distance_km(-90, 0, -90, 0), 0.0);
    /* the poles are one point whatever the longitude says */
    ck_assert_double_eq_tol(geo_distance_km(90, 0, 90, 123), 0.0, 1e-9);
}
END_TEST

START_TEST(test_distance_not_a_place)
{
    ck_assert(isnan(geo_distance_km(NAN, 0, 0, 0)));
    ck_assert(isnan(geo_distance_km(0, INFINITY, 0, 0)));
    ck_assert(isnan(geo_distance_km(90.5, 0, 0, 0)));
    ck_assert(isnan(geo_distance_km(0, 0, 0, -180.5)));
}
END_TEST

/* geo_suite - every test, grouped by what they need */
static Suite *geo_suite(void)
{
    Suite *s = suite_create("geo");
    TCase *lookup = tcase_create("lookup");
    TCase *open = tcase_create("open");
    TCase *dist = tcase_create("distance");

    tcase_add_test(lookup, test_plan_every_row);
    tcase_add_test(lookup, test_plan_twelve_countries);
    tcase_add_test(lookup, test_ipv4_and_ipv6);
    tcase_add_test(lookup, test_unknown_addresses);
    tcase_add_test(lookup, test_country_only);
    tcase_add_test(lookup, test_city_db_in_country_slot);
    tcase_add_test(lookup, test_asn_only);
    tcase_add_test(lookup, test_ipv4_only_database);
    tcase_add_test(lookup, test_hostile_values);
    tcase_add_test(lookup, test_bad_types);
    tcase_add_test(lookup, test_threads_share_handle);
    tcase_add_test(lookup, test_null_handles);
    tcase_add_test(open, test_missing_city);
    tcase_add_test(open, test_missing_all);
    tcase_add_test(open, test_none_configured);
    tcase_add_test(open, test_corrupt_garbage);
    tcase_add_test(open, test_corrupt_empty);
    tcase_add_test(open, test_corrupt_tree);
    tcase_add_test(open, test_wrong_kind);
    tcase_add_test(open, test_not_a_file);
    tcase_add_test(open, test_error_buffer_bounds);
    tcase_add_test(dist, test_distance_home_towns);
    tcase_add_test(dist, test_distance_far);
    tcase_add_test(dist, test_distance_antipodes);
    tcase_add_test(dist, test_distance_same_point);
    tcase_add_test(dist, test_distance_not_a_place);
    suite_add_tcase(s, lookup);
    suite_add_tcase(s, open);
    suite_add_tcase(s, dist);
    return s;
}

int main(void)
{
    int rc;

    db_ready = plan_load() == 0 && build_dbs() == 0;
    rc = check_run(geo_suite());
    if (db_dir[0] != '\0')
	nftw(db_dir, rm_one, NFTW_FDS, FTW_DEPTH | FTW_PHYS);
    return rc;
}
