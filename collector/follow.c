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
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
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
#include "receive.h"

#define POLL_S 5
#define REPORT_DIR_MODE 0750

static atomic_int stop;	/* set by a signal handler or a thread */

/* on_stop - SIGTERM, SIGINT */
static void on_stop(int sig)
{
    (void) sig;
    atomic_store(&stop, 1);
}

/* A sorted list of file names. */
struct names_set {
    char **v;
    size_t n, cap;
};

/* cmp_str - names in order */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* set_has - is the name in the set? */
static bool set_has(const struct names_set *s, const char *name)
{
    return s->n > 0 && bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_str) != NULL;
}

/* set_add - a copy of name, appended (the caller sorts); -1 out of memory */
static int set_add(struct names_set *s, const char *name)
{
    char **p;

    if (s->n == s->cap) {
	s->cap = s->cap ? s->cap * 2 : 256;
	if ((p = realloc(s->v, s->cap * sizeof(*p))) == NULL)
	    return -1;
	s->v = p;
    }
    return (s->v[s->n] = strdup(name)) != NULL ? (s->n++, 0) : -1;
}

/* set_free - release the names */
static void set_free(struct names_set *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
	free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* list_files - the rotated nfcapd files of dir, sorted (nfcapd names sort
 * by time) */
static void list_files(const char *dir, struct names_set *out)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
	return;
    while ((e = readdir(d)) != NULL)
	if (strncmp(e->d_name, "nfcapd.", 7) == 0
	    && strncmp(e->d_name, "nfcapd.current", 14) != 0 && set_add(out, e->d_name) != 0)
	    break;
    closedir(d);
    if (out->n > 1)
	qsort(out->v, out->n, sizeof(*out->v), cmp_str);
}

/* now_ms - the wall clock */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* one_file - analyse one rotated file, write its report; 0 when done */
static int one_file(const struct cfg *cfg, const char *path, const char *name)
{
    char err[4096], report[4096];
    struct coll c;
    char *paths[1] = {(char *) (uintptr_t) path};
    enum coll_status s = coll_init(&c, cfg, now_ms(), err, sizeof(err));

    if (s == COLL_OK)
	s = coll_run(&c, paths, 1, err, sizeof(err));
    if (s != COLL_OK) {
	log_msg(LOG_ERR, "analysis failed (tried again next round): file=%s error=\"%s\"",
		path, err);
	coll_free(&c);
	return -1;
    }
    log_msg(LOG_INFO, "analysed file=%s flows=%llu smtp=%llu flags=%zu malformed=%llu",
	    path, (unsigned long long) c.an.st.flows, (unsigned long long) c.an.st.smtp,
	    c.nflags, (unsigned long long) c.bad_lines);
    if (snprintf(report, sizeof(report), "%s/%s.html", cfg->collector.report_dir, name)
	< (int) sizeof(report) && html_write(&c, report, err, sizeof(err)) != 0)
	log_msg(LOG_WARNING, "report not written: %s", err);
    coll_free(&c);
    return 0;
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

/* poll_once - every rotated file not handled yet: counted before (a
 * restart) or analysed now; done remembers both, so each file costs one
 * look per daemon lifetime */
static void poll_once(const struct cfg *cfg, struct names_set *done)
{
    const char *dir = cfg->collector.flows.directory;
    struct names_set now = {0};
    size_t i;

    list_files(dir, &now);
    for (i = 0; i < now.n && !atomic_load(&stop); i++) {
	char path[4096], real[4096];

	if (set_has(done, now.v[i])
	    || snprintf(path, sizeof(path), "%s/%s", dir, now.v[i]) >= (int) sizeof(path)
	    || realpath(path, real) == NULL)
	    continue;
	if ((counted(cfg, real) || one_file(cfg, real, now.v[i]) == 0)
	    && set_add(done, now.v[i]) == 0 && done->n > 1)
	    qsort(done->v, done->n, sizeof(*done->v), cmp_str);	/* for set_has */
    }
    set_free(&now);
}

/* The event side of run, a thread of its own: a flow analysis may take
 * minutes, and the socket must be read meanwhile. */
struct events_thread {
    const struct cfg *cfg;
    int rc;
};

/* events_main - receive_run until stop */
static void *events_main(void *arg)
{
    struct events_thread *t = arg;
    struct receive_opts o = {0, 0};

    t->rc = receive_run(t->cfg, &stop, &o);
    if (t->rc != EX_OK)
	atomic_store(&stop, 1);	/* a daemon without its event side is no daemon */
    return NULL;
}

/* follow_run - the daemon loop */
int follow_run(const struct cfg *cfg, int foreground)
{
    struct events_thread et = {cfg, 0};
    struct names_set done = {0};
    struct sigaction sa;
    pthread_t tid;
    bool events = *cfg->collector.address != 0;
    unsigned i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    log_open("relayguard-collector", LOG_DAEMON, foreground);
    if (mkdir(cfg->collector.report_dir, REPORT_DIR_MODE) != 0 && errno != EEXIST)
	log_msg(LOG_WARNING, "report_dir=%s: %s", cfg->collector.report_dir, strerror(errno));
    log_msg(LOG_INFO, "following directory=%s", cfg->collector.flows.directory);
    if (events && pthread_create(&tid, NULL, events_main, &et) != 0) {
	log_msg(LOG_ERR, "cannot start the event thread");
	return EX_OSERR;
    }
    while (!atomic_load(&stop)) {
	poll_once(cfg, &done);
	for (i = 0; i < POLL_S && !atomic_load(&stop); i++)
	    sleep(1);
    }
    set_free(&done);
    if (events)
	pthread_join(tid, NULL);
    if (events && et.rc != EX_OK) {
	log_msg(LOG_ERR, "the event side stopped early; stopping");
	return et.rc;
    }
    log_msg(LOG_INFO, "stopping");
    return EX_OK;
}
