/*
 * check_geo_reload - GeoIP files replaced under a running handle: a file
 * overwritten in place (what "cp new.mmdb GeoLite2-City.mmdb" does: the
 * old inode truncated, then written) must never fault a lookup, and
 * geo_refresh must pick the new contents up once they are whole.
 *
 * main() runs tests/geoip/make-test-db.pl --fixtures into a private
 * temporary directory before any test forks and removes it afterwards
 * ($RG_SRCDIR as in check_geo.c). The plan's city file says 198.18.1.0/24
 * is BR; the hostile city fixture has no such row but says 198.18.253.0/24
 * is DE, which tells the two files apart.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "geo.h"
#include "check_main.h"

#define PATH_LEN 1024
#define ERR_LEN 512
#define NFTW_FDS 16
#define LOOKUPS 2000		/* enough to walk the whole tree */

static char dir[PATH_LEN / 2];
static int ready;

/* in_dir - a file name in the private directory */
static const char *in_dir(int slot, const char *name)
{
    static char buf[3][PATH_LEN];

    snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", dir, name);
    return buf[slot];
}

/* build_dbs - the generator into dir; 0 on success */
static int build_dbs(void)
{
    const char *src = getenv("RG_SRCDIR"), *tmp = getenv("TMPDIR");
    char script[PATH_LEN];
    int status;
    pid_t pid;

    snprintf(dir, sizeof(dir), "%s/rg-check-geo-reload-XXXXXX",
	     tmp != NULL && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
	dir[0] = '\0';
	return -1;
    }
    snprintf(script, sizeof(script), "%s/tests/geoip/make-test-db.pl",
	     src != NULL && *src ? src : ".");
    if ((pid = fork()) == 0) {
	execlp("perl", "perl", script, "--fixtures", dir, (char *) NULL);
	_exit(127);
    }
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)
	&& WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* rm_one - nftw callback */
static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *f)
{
    (void) sb, (void) flag, (void) f;
    return remove(p);
}

/* overwrite - write len bytes of src over dst in place (same inode, as
 * cp does: O_TRUNC, then write); len 0 means all of it */
static void overwrite(const char *src, const char *dst, size_t len)
{
    int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_TRUNC);
    char buf[4096];
    size_t done = 0;
    ssize_t n;

    ck_assert_int_ge(in, 0);
    ck_assert_int_ge(out, 0);
    while ((len == 0 || done < len) && (n = read(in, buf, sizeof(buf))) > 0) {
	size_t want = len == 0 || done + (size_t) n <= len ? (size_t) n
	    : len - done;

	ck_assert_int_eq(write(out, buf, want), (ssize_t) want);
	done += want;
    }
    close(in);
    close(out);
}

/* half_of - half the size of a file: a cut that lacks the metadata */
static size_t half_of(const char *path)
{
    struct stat sb;

    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_gt(sb.st_size, 64);
    return (size_t) sb.st_size / 2;
}

/* cc_of - the country geo_lookup gives for a text address */
static const char *cc_of(const GEO *g, const char *ip)
{
    static struct geo_info gi;
    struct addr a;

    ck_assert_int_eq(addr_parse(ip, &a), 0);
    geo_lookup(g, &a, &gi);
    return gi.cc;
}

/* city_open - a handle on a private copy of the plan's city file */
static GEO *city_open(const char *name)
{
    struct geo_paths p = { in_dir(0, name), NULL, NULL };
    char err[ERR_LEN];
    unsigned missing = 0;
    GEO *g = NULL;

    ck_assert_msg(ready, "test databases were not generated");
    overwrite(in_dir(1, "GeoLite2-City.mmdb"), in_dir(0, name), 0);
    ck_assert_msg(geo_open(&p, &g, &missing, err, sizeof(err)) == GEO_OK,
		  "geo_open: %s", err);
    return g;
}

/* every_lookup - look up many addresses across the tree; none may fault */
static void every_lookup(const GEO *g)
{
    char ip[32];

    for (int i = 0; i < LOOKUPS; i++) {
	snprintf(ip, sizeof(ip), "198.18.%d.%d", i % 256, (i * 7) % 256);
	(void) cc_of(g, ip);
    }
}

START_TEST(test_truncated_in_place)
{
    GEO *g;

    /* create the file first, so that overwrite() finds it */
    close(open(in_dir(0, "trunc.mmdb"), O_WRONLY | O_CREAT, 0644));
    g = city_open("trunc.mmdb");
    ck_assert_str_eq(cc_of(g, "198.18.1.1"), "BR");
    /* cp half-way: the file is half of another database now */
    overwrite(in_dir(1, "RG-Test-Hostile-City.mmdb"), in_dir(0, "trunc.mmdb"),
	      half_of(in_dir(1, "RG-Test-Hostile-City.mmdb")));
    every_lookup(g);
    ck_assert_str_eq(cc_of(g, "198.18.1.1"), "BR");
    /* and emptied altogether */
    ck_assert_int_eq(truncate(in_dir(0, "trunc.mmdb"), 0), 0);
    every_lookup(g);
    ck_assert_str_eq(cc_of(g, "198.18.3.1"), "DE");
    geo_close(g);
}
END_TEST

START_TEST(test_refresh)
{
    char err[ERR_LEN];
    unsigned missing = 0;
    GEO *g;

    close(open(in_dir(0, "refresh.mmdb"), O_WRONLY | O_CREAT, 0644));
    g = city_open("refresh.mmdb");
    ck_assert_int_eq(geo_refresh(g, &missing, err, sizeof(err)), 0);
    /* half written: refused, the copy in use stays, no retry until the
     * file changes again */
    overwrite(in_dir(1, "RG-Test-Hostile-City.mmdb"),
	      in_dir(0, "refresh.mmdb"),
	      half_of(in_dir(1, "RG-Test-Hostile-City.mmdb")));
    ck_assert_int_eq(geo_refresh(g, &missing, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "refresh.mmdb") != NULL, "err: %s", err);
    ck_assert_int_eq(geo_refresh(g, &missing, err, sizeof(err)), 0);
    ck_assert_str_eq(cc_of(g, "198.18.1.1"), "BR");
    /* the whole new file: read again, the new answers */
    overwrite(in_dir(1, "RG-Test-Hostile-City.mmdb"),
	      in_dir(0, "refresh.mmdb"), 0);
    ck_assert_int_eq(geo_refresh(g, &missing, err, sizeof(err)), 1);
    ck_assert_str_eq(cc_of(g, "198.18.1.1"), "");
    ck_assert_str_eq(cc_of(g, "198.18.253.1"), "DE");
    ck_assert_int_eq(geo_refresh(g, &missing, err, sizeof(err)), 0);
    /* renamed away for a moment: the copy stays */
    ck_assert_int_eq(rename(in_dir(0, "refresh.mmdb"),
			    in_dir(2, "refresh.old")), 0);
    ck_assert_int_eq(geo_refresh(g, &missing, err, sizeof(err)), 0);
    ck_assert_str_eq(cc_of(g, "198.18.253.1"), "DE");
    /* and a new file renamed into place */
    overwrite(in_dir(1, "GeoLite2-City.mmdb"), in_dir(2, "refresh.old"), 0);
    ck_assert_int_eq(rename(in_dir(2, "refresh.old"),
			    in_dir(0, "refresh.mmdb")), 0);
    ck_assert_int_eq(geo_refresh(g, &missing, err, sizeof(err)), 1);
    ck_assert_str_eq(cc_of(g, "198.18.1.1"), "BR");
    ck_assert_uint_eq(geo_caps(g), GEO_CAP_COUNTRY | GEO_CAP_LOCATION);
    geo_close(g);
}
END_TEST

/* geo_reload_suite - files changed under a running handle */
static Suite *geo_reload_suite(void)
{
    Suite *s = suite_create("geo_reload");
    TCase *tc = tcase_create("in_place");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_truncated_in_place);
    tcase_add_test(tc, test_refresh);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int rc;

    ready = build_dbs() == 0;
    rc = check_run(geo_reload_suite());
    if (dir[0] != '\0')
	nftw(dir, rm_one, NFTW_FDS, FTW_DEPTH | FTW_PHYS);
    return rc;
}
