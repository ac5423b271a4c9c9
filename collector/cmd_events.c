/*
 * cmd_events - events, incidents, rogue and listen (see cmd_events.h).
 *
 *   events [--json] [--last N]        intake counters and the newest events
 *   incidents [--json] [--open]       incidents, newest first
 *   rogue add ADDRESS [--for DURATION] [--reason TEXT]
 *   rogue remove ADDRESS [--for DURATION] [--reason TEXT]
 *   rogue list [--json]
 *   listen [--count N] [--seconds S]  receive events only (tests)
 */
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "cmd_events.h"
#include "evdb.h"
#include "incident.h"
#include "log.h"
#include "pin.h"
#include "receive.h"

#define ERR_LEN 1024
#define EVENTS_DEFAULT 50
#define REASON_MAX 256

static atomic_int stop;	/* set by a signal handler or a thread */

/* on_stop - SIGTERM, SIGINT */
static void on_stop(int sig)
{
    (void) sig;
    atomic_store(&stop, 1);
}

/* now_ms - the wall clock */
static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* cmd_who - the admin behind a change */
const char *cmd_who(void)
{
    const char *s = getenv("SUDO_USER");
    struct passwd *pw;

    if (s != NULL && *s)
	return s;
    pw = getpwuid(getuid());
    return pw ? pw->pw_name : "?";
}

/* open_db - the history with the event tables; NULL after printing why */
static struct hist *open_db(const struct cfg *cfg)
{
    char err[ERR_LEN];
    struct hist *h;

    if (hist_open(cfg->collector.database, &h, err, sizeof(err)) != HIST_OK) {
	fprintf(stderr, "relayguard-collector: %s\n", err);
	return NULL;
    }
    if (evdb_init(h, err, sizeof(err)) != HIST_OK) {
	fprintf(stderr, "relayguard-collector: %s\n", err);
	hist_close(h);
	return NULL;
    }
    return h;
}

/* done - close, report an error status */
static int done(struct hist *h, enum hist_status s, const char *err)
{
    if (s != HIST_OK)
	fprintf(stderr, "relayguard-collector: %s\n", err);
    hist_close(h);
    return s == HIST_OK ? EX_OK : EX_IOERR;
}

/* cmd_events - events [--json] [--last N] */
int cmd_events(const struct cfg *cfg, int argc, char **argv)
{
    char err[ERR_LEN] = "", *end;
    unsigned long last = EVENTS_DEFAULT;
    bool json = false;
    struct hist *h;
    int i;

    for (i = 1; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0)
	    json = true;
	else if (strcmp(argv[i], "--last") == 0 && i + 1 < argc
		 && (last = strtoul(argv[++i], &end, 10)) <= 1000000 && *end == 0)
	    continue;
	else
	    return EX_USAGE;
    }
    if ((h = open_db(cfg)) == NULL)
	return EX_IOERR;
    return done(h, evdb_print(h, stdout, json, (unsigned) last, err, sizeof(err)), err);
}

/* cmd_incidents - incidents [--json] [--open] */
int cmd_incidents(const struct cfg *cfg, int argc, char **argv)
{
    char err[ERR_LEN] = "";
    bool json = false, open_only = false;
    struct hist *h;
    int i;

    for (i = 1; i < argc; i++) {
	if (strcmp(argv[i], "--json") == 0)
	    json = true;
	else if (strcmp(argv[i], "--open") == 0)
	    open_only = true;
	else
	    return EX_USAGE;
    }
    if ((h = open_db(cfg)) == NULL)
	return EX_IOERR;
    return done(h, inc_print(h, stdout, json, open_only, err, sizeof(err)), err);
}

/* rogue_opts - ADDRESS [--for DURATION] [--reason TEXT] into c */
static int rogue_opts(int argc, char **argv, struct pin_change *c, char *canon,
		      char *reason)
{
    char err[ERR_LEN], *slash;
    struct cidr net;
    uint64_t ms;
    int i;

    if (argc < 3 || addr_cidr_parse(argv[2], &net, err, sizeof(err)) != 0) {
	if (argc >= 3)
	    fprintf(stderr, "relayguard-collector: %s: %s\n", argv[2], err);
	return argc < 3 ? EX_USAGE : EX_DATAERR;
    }
    addr_cidr_format(&net, canon, CIDR_STRLEN);
    if (net.plen == 128 && (slash = strchr(canon, '/')) != NULL)
	*slash = 0;		/* a host as the flags and events write it */
    for (i = 3; i < argc; i++) {
	if (strcmp(argv[i], "--for") == 0 && i + 1 < argc) {
	    if (cfg_parse_duration(argv[++i], &ms, err, sizeof(err)) != 0 || ms == 0) {
		fprintf(stderr, "relayguard-collector: --for %s: %s\n", argv[i], err);
		return EX_DATAERR;
	    }
	    c->expires_ms = c->now_ms + (int64_t) ms;
	} else if (strcmp(argv[i], "--reason") == 0 && i + 1 < argc)
	    log_sanitize(argv[i + 1], strlen(argv[i + 1]), reason, REASON_MAX), i++;
	else
	    return EX_USAGE;
    }
    return EX_OK;
}

/* not_written - the change is in the database, the list not rewritten
 * (its lock held, or the file not writable): say exactly that */
static void not_written(const char *address, const char *done_as, const char *err)
{
    fprintf(stderr, "relayguard-collector: %s: %s in the database, but the rogue list was"
	    " not rewritten: %s\nrelayguard-collector: the list takes the change at its next"
	    " rewrite (the daemon's, within about a minute while it receives events, or after"
	    " its next flow analysis), or run this command again\n", address, done_as, err);
}

/* rogue_change - add or remove, then rewrite the list */
static int rogue_change(const struct cfg *cfg, struct hist *h, const char *what,
			const struct pin_change *c)
{
    char err[ERR_LEN] = "";
    enum hist_status s;
    bool was = false;

    s = strcmp(what, "add") == 0 ? pin_add(h, c, err, sizeof(err))
	: pin_remove(h, c, &was, err, sizeof(err));
    if (s != HIST_OK)
	return done(h, s, err);
    if (pin_write_list(h, cfg, c->now_ms, err, sizeof(err)) != 0) {
	not_written(c->address, strcmp(what, "add") == 0 ? "pinned" : was ? "unpinned"
		    : "dropped", err);
	hist_close(h);
	return EX_TEMPFAIL;
    }
    if (strcmp(what, "remove") == 0)
	printf("%s: %s; its flags until now no longer list it\n", c->address,
	       was ? "unpinned" : "dropped");
    hist_close(h);
    return EX_OK;
}

/* cmd_rogue - rogue add|remove ADDRESS [...] | list [--json] */
int cmd_rogue(const struct cfg *cfg, int argc, char **argv)
{
    char canon[CIDR_STRLEN], reason[REASON_MAX] = "";
    struct pin_change c = {.who = cmd_who(), .now_ms = now_ms(), .reason = reason};
    char err[ERR_LEN] = "";
    struct hist *h;
    int rc;

    if (argc >= 2 && strcmp(argv[1], "list") == 0) {
	if (argc > 3 || (argc == 3 && strcmp(argv[2], "--json") != 0))
	    return EX_USAGE;
	if ((h = open_db(cfg)) == NULL)
	    return EX_IOERR;
	return done(h, pin_print(h, cfg, c.now_ms, stdout, argc == 3, err, sizeof(err)), err);
    }
    if (argc < 2 || (strcmp(argv[1], "add") != 0 && strcmp(argv[1], "remove") != 0))
	return EX_USAGE;
    if ((rc = rogue_opts(argc, argv, &c, canon, reason)) != EX_OK)
	return rc;
    c.address = canon;
    if ((h = open_db(cfg)) == NULL)
	return EX_IOERR;
    return rogue_change(cfg, h, argv[1], &c);
}

/* log_cpu - this process's CPU time so far (for the intake bench) */
static void log_cpu(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) == 0)
	log_msg(LOG_INFO, "listen: cpu user=%ld.%06ld system=%ld.%06ld",
		(long) ru.ru_utime.tv_sec, (long) ru.ru_utime.tv_usec,
		(long) ru.ru_stime.tv_sec, (long) ru.ru_stime.tv_usec);
}

/* cmd_listen - listen [--count N] [--seconds S]; the CPU time at the end */
int cmd_listen(const struct cfg *cfg, int argc, char **argv)
{
    struct receive_opts o = {0, 0};
    struct sigaction sa;
    char *end;
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
	unsigned long v = strtoul(argv[i + 1], &end, 10);

	if (*end || v > 100000000)
	    return EX_USAGE;
	if (strcmp(argv[i], "--count") == 0)
	    o.max_events = (unsigned) v;
	else if (strcmp(argv[i], "--seconds") == 0)
	    o.max_seconds = (unsigned) v;
	else
	    return EX_USAGE;
    }
    if (i != argc)
	return EX_USAGE;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    log_open("relayguard-collector", LOG_DAEMON, 1);
    i = receive_run(cfg, &stop, &o);
    log_cpu();
    return i;
}
