/*
 * follow - the daemon loop (see follow.h).
 *
 * Every POLL_S seconds the directory is listed; a rotated file (nfcapd.*
 * but not nfcapd.current.*) that the history has not counted yet is
 * analysed alone, in name order (nfcapd names sort by time), and its HTML
 * report goes to collector.report_dir. A failed run is logged and the file
 * is tried again next round. Files already counted are skipped without
 * analysis.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "collect.h"
#include "follow.h"
#include "log.h"
#include "html.h"

#define POLL_S 5
#define FILES_MAX 4096
#define REPORT_DIR_MODE 0750

static volatile sig_atomic_t stop;

/* on_stop - SIGTERM, SIGINT */
static void on_stop(int sig)
{
    (void) sig;
    stop = 1;
}

/* cmp_str - names in order */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* list_files - rotated nfcapd files of dir, sorted; count */
static size_t list_files(const char *dir, char **out, size_t max)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    if (d == NULL)
	return 0;
    while (n < max && (e = readdir(d)) != NULL)
	if (strncmp(e->d_name, "nfcapd.", 7) == 0
	    && strncmp(e->d_name, "nfcapd.current", 14) != 0
	    && (out[n] = strdup(e->d_name)) != NULL)
	    n++;
    closedir(d);
    qsort(out, n, sizeof(*out), cmp_str);
    return n;
}

/* now_ms - the wall clock */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* one_file - analyse one rotated file, write its report */
static void one_file(const struct cfg *cfg, const char *path, const char *name)
{
    char err[4096], report[4096];
    struct coll c;
    char *paths[1] = {(char *) (uintptr_t) path};
    enum coll_status s = coll_init(&c, cfg, now_ms(), err, sizeof(err));

    if (s == COLL_OK)
	s = coll_run(&c, paths, 1, err, sizeof(err));
    if (s != COLL_OK) {
	log_msg(LOG_ERR, "analysis failed: file=%s error=\"%s\"", path, err);
	coll_free(&c);
	return;
    }
    log_msg(LOG_INFO, "analysed file=%s flows=%llu smtp=%llu flags=%zu malformed=%llu",
	    path, (unsigned long long) c.an.st.flows, (unsigned long long) c.an.st.smtp,
	    c.nflags, (unsigned long long) c.bad_lines);
    if (snprintf(report, sizeof(report), "%s/%s.html", cfg->collector.report_dir, name)
	< (int) sizeof(report) && html_write(&c, report, err, sizeof(err)) != 0)
	log_msg(LOG_WARNING, "report not written: %s", err);
    coll_free(&c);
}

/* counted - has the history counted this file already? */
static int counted(const struct cfg *cfg, const char *path)
{
    char err[512];
    struct hist *h;
    struct stat sb;
    bool known = false;

    if (stat(path, &sb) != 0 || hist_open(cfg->collector.database, &h, err, sizeof(err)))
	return 1;
    if (hist_file_known(h, path, sb.st_size, sb.st_mtime, &known, err, sizeof(err)))
	known = true;
    hist_close(h);
    return known;
}

/* follow_run - the daemon loop */
int follow_run(const struct cfg *cfg, int foreground)
{
    const char *dir = cfg->collector.flows.directory;
    static char *names[FILES_MAX];
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    log_open("relayguard-collector", LOG_DAEMON, foreground);
    if (mkdir(cfg->collector.report_dir, REPORT_DIR_MODE) != 0 && errno != EEXIST)
	log_msg(LOG_WARNING, "report_dir=%s: %s", cfg->collector.report_dir, strerror(errno));
    log_msg(LOG_INFO, "following directory=%s", dir);
    while (!stop) {
	size_t n = list_files(dir, names, FILES_MAX), i;

	for (i = 0; i < n; i++) {
	    char path[4096], real[4096];

	    if (!stop && snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int) sizeof(path)
		&& realpath(path, real) != NULL && !counted(cfg, real))
		one_file(cfg, real, names[i]);
	    free(names[i]);
	}
	for (i = 0; i < POLL_S && !stop; i++)
	    sleep(1);
    }
    log_msg(LOG_INFO, "stopping");
    return EX_OK;
}
