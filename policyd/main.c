/*
 * relayguard-policyd - the Postfix policy delegation front end: command
 * line, start-up, privileges, reload and stop; the sockets and the event
 * loop are in serve.c, the answers in session.c.
 *
 * -c FILE  configuration (default /etc/relayguard/relayguard.conf)
 * -n       check the configuration and exit: 0 (with warnings, e.g. rules a
 *          missing GeoIP database leaves dead), or 78 with the errors
 *          (also an unknown policyd.user or policyd.group)
 * -f       stay in the foreground and log to stderr
 * -V       print the version and exit
 *
 * Start-up, as root: become policyd.user:policyd.group (the milter's when
 * not set), listen (a port above 1023, or a unix socket in a directory
 * made for that user), detach, write the pidfile, load the snapshot. A
 * failure to listen is still told on stderr, with exit 69.
 *
 * Signals: SIGUSR1 reloads the configuration and GeoIP, keeping the old
 * snapshot when the new one fails (policyd.socket, max_connections and
 * max_instances take effect at restart). SIGTERM, SIGINT, SIGHUP and
 * SIGUSR2 stop gracefully: no new connections, requests in flight are
 * answered (up to policyd.drain_timeout), open transactions are
 * forgotten as on expiry. Exit codes: 0 after a stop, 64 usage, 67
 * unknown user or group, 69 cannot listen or load, 71 cannot detach or
 * drop privileges, 78 configuration.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "daemon.h"
#include "log.h"
#include "preflight.h"
#include "report.h"
#include "runtime.h"
#include "serve.h"
#include "session.h"
#include "stats.h"

#define ERRBUF_LEN 8192

static char cfg_file[4096];	/* the -c file, absolute, for reloads */

/* usage - the one-line synopsis, then EX_USAGE */
static void usage(void)
{
    fprintf(stderr, "usage: relayguard-policyd [-fnV] [-c FILE]\n");
    exit(EX_USAGE);
}

/* parse_args - the flags into o; -V answered here */
static void parse_args(int argc, char **argv, struct daemon_opts *o)
{
    if (daemon_parse_args(argc, argv, false, o) != 0)
	usage();
    if (o->version) {
	printf("relayguard-policyd %s (Postfix policy delegation)\n",
	       RG_VERSION);
	exit(0);
    }
}

/* warn_dir - a directory not given to the daemon user: said on stderr
 * (not yet detached) */
static void warn_dir(const char *msg)
{
    fprintf(stderr, "relayguard-policyd: %s\n", msg);
}

/* warn_log - the pidfile not written (detached by then): logged */
static void warn_log(const char *msg)
{
    log_msg(LOG_WARNING, "%s", msg);
}

/* restart_only - keys a reload cannot change: warn when they did */
static void restart_only(const struct cfg *old, const struct cfg *fresh)
{
    if (strcmp(old->policyd.socket, fresh->policyd.socket) != 0
	|| old->policyd.max_conns != fresh->policyd.max_conns
	|| old->policyd.max_instances != fresh->policyd.max_instances)
	log_msg(LOG_WARNING, "policyd.socket, max_connections and "
		"max_instances take effect at restart");
}

/* reload - SIGUSR1: a whole new snapshot, or keep the old one */
static void reload(void)
{
    struct runtime *fresh, *old = rt_acquire();
    char err[ERRBUF_LEN];

    if (rt_load(cfg_file, &fresh, err, sizeof(err)) != 0) {
	log_msg(LOG_ERR, "reload of %s failed, keeping the running "
		"configuration: %s", cfg_file, err);
	store_counter_add(old->st, STATS_RELOAD_FAILURES, 1);
	rt_release(old);
	return;
    }
    session_cfg_view(fresh->cfg);
    restart_only(old->cfg, fresh->cfg);
    rt_release(old);
    rt_install(fresh);
    log_set_facility(fresh->cfg->milter.syslog_facility);
    store_counter_add(fresh->st, STATS_RELOADS, 1);
    log_msg(LOG_NOTICE, "reloaded %s (%zu rules)%s", cfg_file,
	    fresh->cfg->policy.nrules, fresh->cfg->policyd.dry_run ? " (dry run)" : "");
}

/* tick - each second: the state file, rogue list, GeoIP files, snapshot */
static void tick(void)
{
    struct runtime *rt;

    rt_store_refresh();
    rt = rt_acquire();
    rt_rogue_refresh(rt);
    rt_geo_refresh(rt);
    rt_snapshot(rt, false);
    rt_release(rt);
}

/* start - listen, detach, pidfile, the snapshot; the listener */
static int start(const struct cfg *c, int fg)
{
    char err[ERRBUF_LEN];
    struct runtime *rt;
    int lfd;

    if ((lfd = serve_listen(c->policyd.socket, c->milter.umask, err, sizeof(err))) < 0) {
	fprintf(stderr, "relayguard-policyd: cannot listen: %s\n", err);
	exit(EX_UNAVAILABLE);
    }
    if (!fg && daemon_detach(err, sizeof(err)) != 0) {
	fprintf(stderr, "relayguard-policyd: %s\n", err);
	exit(EX_OSERR);
    }
    daemon_pidfile(c->policyd.pidfile, warn_log);	/* after the drop */
    report_init();
    if (rt_load(cfg_file, &rt, err, sizeof(err)) != 0) {
	log_msg(LOG_ERR, "cannot start: %s", err);
	fprintf(stderr, "relayguard-policyd: cannot start: %s\n", err);
	unlink(c->policyd.pidfile);
	exit(EX_UNAVAILABLE);
    }
    session_cfg_view(rt->cfg);
    rt_install(rt);
    return lfd;
}

int main(int argc, char **argv)
{
    static const struct serve_hooks hooks = {tick, reload};
    char err[ERRBUF_LEN];
    struct session_table *t;
    struct runtime *rt;
    struct cfg *c;
    struct daemon_opts o;
    struct daemon_user du;
    int lfd, rc;

    serve_block_signals();
    parse_args(argc, argv, &o);
    if ((c = cfg_load(o.file, err, sizeof(err))) == NULL) {
	fprintf(stderr, "relayguard-policyd: configuration error\n%s\n", err);
	return EX_CONFIG;
    }
    if (o.check_only) {
	rc = preflight_report("relayguard-policyd", o.file, c, "policyd",
			      c->policyd.user, c->policyd.group);

	cfg_free(c);
	return rc;
    }
    daemon_abs_path(o.file, cfg_file, sizeof(cfg_file));
    log_open("relayguard-policyd", c->milter.syslog_facility, o.foreground);
    umask(c->milter.umask);
    du = (struct daemon_user) { c->policyd.user, c->policyd.group,
	c->policyd.pidfile, c->policyd.socket };
    if ((rc = daemon_become_user(c, &du, warn_dir, err, sizeof(err))) != 0) {
	fprintf(stderr, "relayguard-policyd: %s\n", err);
	return rc;
    }
    lfd = start(c, o.foreground);
    if ((t = session_table_new(c->policyd.max_instances)) == NULL) {
	log_msg(LOG_ERR, "out of memory for %u instances", c->policyd.max_instances);
	return EX_OSERR;
    }
    log_msg(LOG_NOTICE, "relayguard-policyd %s listening on %s%s", RG_VERSION,
	    c->policyd.socket, c->policyd.dry_run ? " (dry run)" : "");
    serve_run(lfd, c->policyd.max_conns, t, &hooks);
    rt = rt_acquire();
    session_table_free(t, rt, (uint32_t) time(NULL));
    rt_snapshot(rt, true);	/* blocks and baselines outlive a reboot */
    rt_release(rt);
    log_msg(LOG_NOTICE, "stopped");
    unlink(c->policyd.pidfile);
    rt_shutdown();
    cfg_free(c);
    (void) err;
    return 0;
}
