/*
 * relayguard-milter - command line, start-up, privileges, reload and
 * graceful stop of the milter daemon.
 *
 * -c FILE  configuration (default /etc/relayguard/relayguard.conf)
 * -n       check the configuration and exit: 0 (with warnings, e.g. rules a
 *          missing GeoIP database leaves dead), or 78 with the errors
 *          (also an unknown milter.user or milter.group)
 * -f       stay in the foreground and log to stderr
 * -V       print the version and exit
 *
 * Signals: libmilter owns SIGHUP, SIGTERM and SIGINT: an immediate stop,
 * after which Debian's libmilter serves no session in flight (Postfix then
 * applies milter_default_action to them). SIGUSR2 is the graceful stop:
 * sessions open at that moment may finish (up to milter.drain_timeout),
 * then libmilter is stopped. SIGUSR1 reloads the configuration and GeoIP,
 * keeping the old snapshot when the new one fails. Our own signals are
 * handled in a thread of ours; USR1 and USR2 are blocked from the first
 * line of main, so one sent during start-up waits for that thread instead
 * of killing us. Fatal exits happen only here, at start-up, with sysexits
 * codes. The pidfile is written after the privilege drop (its directory
 * belongs to the daemon user).
 */
#include <errno.h>
#include <fcntl.h>
#include <libmilter/mfapi.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"
#include "daemon.h"
#include "log.h"
#include "preflight.h"
#include "report.h"
#include "runtime.h"
#include "stats.h"

#define ERRBUF_LEN 8192
#define MAINT_TICK_S 1		/* rogue list and state file checks */
#define DRAIN_POLL_MS 100
#define DRAIN_AFTER_STOP_MS 1000
#define SOCKET_UMASK 0117	/* unix socket: rw for owner and group */

static atomic_int stopping;
static char cfg_file[4096];	/* the -c file, for reloads */

/* usage - the one-line synopsis, then EX_USAGE */
static void usage(void)
{
    fprintf(stderr, "usage: relayguard-milter [-fnV] [-c FILE]\n");
    exit(EX_USAGE);
}

/* parse_args - the flags into o; -V answered here */
static void parse_args(int argc, char **argv, struct daemon_opts *o)
{
    if (daemon_parse_args(argc, argv, false, o) != 0)
	usage();
    if (o->version) {
	printf("relayguard-milter %s (libmilter)\n", RG_VERSION);
	exit(0);
    }
}

/* warn_log - a start-up step that failed but need not stop us (a
 * directory not given to the daemon user, the pidfile): logged */
static void warn_log(const char *msg)
{
    log_msg(LOG_WARNING, "%s", msg);
}

/* reload - SIGUSR1: a whole new snapshot, or keep the old one */
static void reload(const char *file)
{
    struct runtime *fresh, *old = rt_acquire();
    char err[ERRBUF_LEN];

    if (rt_load(file, &fresh, err, sizeof(err)) != 0) {
	log_msg(LOG_ERR, "reload of %s failed, keeping the running configuration: %s",
		file, err);
	if (old != NULL)
	    store_counter_add(old->st, STATS_RELOAD_FAILURES, 1);
	rt_release(old);
	return;
    }
    if (old != NULL && strcmp(old->cfg->milter.socket, fresh->cfg->milter.socket) != 0)
	log_msg(LOG_WARNING, "milter.socket changed: takes effect at restart");
    rt_release(old);
    rt_install(fresh);
    log_set_facility(fresh->cfg->milter.syslog_facility);
    store_counter_add(fresh->st, STATS_RELOADS, 1);
    log_msg(LOG_NOTICE, "reloaded %s (%zu rules)", file, fresh->cfg->policy.nrules);
}

/* graceful_stop - SIGUSR2: let open sessions finish, then stop libmilter */
static void graceful_stop(unsigned seconds)
{
    struct timespec ms = {0, DRAIN_POLL_MS * 1000000L};
    unsigned waited = 0;

    filter_drain_begin();
    log_msg(LOG_NOTICE, "graceful stop: waiting for %d sessions (at most %us)",
	    filter_active_early(), seconds);
    while (filter_active_early() > 0 && waited < seconds * 1000) {
	nanosleep(&ms, NULL);
	waited += DRAIN_POLL_MS;
    }
    if (filter_active_early() > 0)
	log_msg(LOG_WARNING, "graceful stop: %d sessions still open after %us",
		filter_active_early(), seconds);
    atomic_store(&stopping, 1);
    smfi_stop();
}

/* maintenance - USR1 reloads, USR2 stops gently; rogue list, GeoIP files,
 * state checks and state snapshots each tick */
static void *maintenance(void *arg)
{
    const char *file = arg;
    struct timespec tick = {MAINT_TICK_S, 0};
    struct runtime *rt;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    while (!atomic_load(&stopping)) {
	sig = sigtimedwait(&set, NULL, &tick);
	if (sig == SIGUSR1)
	    reload(file);
	if (sig == SIGUSR2 && (rt = rt_acquire()) != NULL) {
	    unsigned drain_s = rt->cfg->milter.drain_s;

	    rt_release(rt);
	    graceful_stop(drain_s);
	    break;
	}
	rt_store_refresh();
	if ((rt = rt_acquire()) != NULL) {
	    rt_rogue_refresh(rt);
	    rt_geo_refresh(rt);
	    rt_snapshot(rt, false);
	    rt_release(rt);
	}
    }
    return NULL;
}

/* drain - after libmilter stopped: give callbacks still running a moment */
static void drain(void)
{
    struct timespec ms = {0, DRAIN_POLL_MS * 1000000L};
    unsigned waited = 0;

    while (filter_active() > 0 && waited < DRAIN_AFTER_STOP_MS) {
	nanosleep(&ms, NULL);
	waited += DRAIN_POLL_MS;
    }
    if (filter_active() > 0)
	log_msg(LOG_NOTICE, "stopping with %d sessions cut (the MTA applies its "
		"milter default action)", filter_active());
}

/* socket_why - why the socket did not open: the directory of a unix
 * socket when we may not create in it (missing, another owner's,
 * read-only under systemd's ProtectSystem), else the errno libmilter's
 * failed call left (it logs its own line, without our stderr) */
static void socket_why(const char *spec, int saved, char *why, size_t len)
{
    char *copy = NULL, *dir;

    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0)
	copy = strdup(strchr(spec, ':') + 1);
    if (copy != NULL && access(dir = dirname(copy), W_OK | X_OK) != 0)
	snprintf(why, len, "directory %s: %s", dir, strerror(errno));
    else
	snprintf(why, len, "%s", saved != 0 ? strerror(saved)
		 : "no system error (see libmilter's own log line)");
    free(copy);
}

/* start_milter - socket, registration; exits on failure */
static void start_milter(const struct cfg *c)
{
    static char sock[1100];
    char why[1200];
    mode_t old;
    int rc, saved;

    snprintf(sock, sizeof(sock), "%s", c->milter.socket);
    /* libmilter never chmods a unix socket: the umask makes it 0660 at
     * most (group: the MTA), whatever milter.umask allows for files */
    old = umask(c->milter.umask | SOCKET_UMASK);
    errno = 0;
    rc = filter_register() != 0 || smfi_setconn(sock) != MI_SUCCESS
	|| smfi_opensocket(true) != MI_SUCCESS;
    saved = errno;
    umask(old);
    if (rc) {
	socket_why(sock, saved, why, sizeof(why));
	log_msg(LOG_ERR, "cannot listen on %s: %s", sock, why);
	fprintf(stderr, "relayguard-milter: cannot listen on %s: %s\n", sock, why);
	exit(EX_UNAVAILABLE);
    }
}

/* block_ours - SIGUSR1 and SIGUSR2 wait, blocked, until the maintenance
 * thread takes them: start-up (a large state file, GeoIP) can take
 * seconds, and their default action would kill us meanwhile */
static void block_ours(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
    struct daemon_opts o = {0};
    struct daemon_user du;
    char err[ERRBUF_LEN];
    struct runtime *rt;
    struct cfg *c;
    pthread_t maint;
    sigset_t set;
    int rc;

    block_ours();
    parse_args(argc, argv, &o);
    if ((c = cfg_load(o.file, err, sizeof(err))) == NULL) {
	fprintf(stderr, "relayguard-milter: configuration error\n%s\n", err);
	return EX_CONFIG;
    }
    if (o.check_only) {
	rc = preflight_report("relayguard-milter", o.file, c, "milter",
			      c->milter.user, c->milter.group);
	cfg_free(c);
	return rc;
    }
    daemon_abs_path(o.file, cfg_file, sizeof(cfg_file));
    o.file = cfg_file;
    log_open("relayguard-milter", c->milter.syslog_facility, o.foreground);
    umask(c->milter.umask);
    if (!o.foreground && daemon_detach(err, sizeof(err)) != 0) {
	fprintf(stderr, "relayguard-milter: %s\n", err);
	exit(EX_OSERR);
    }
    du = (struct daemon_user) { c->milter.user, c->milter.group,
	c->milter.pidfile, c->milter.socket };
    if ((rc = daemon_become_user(c, &du, warn_log, err, sizeof(err))) != 0) {
	fprintf(stderr, "relayguard-milter: %s\n", err);
	return rc;
    }
    /* our pid, for init scripts; after the privilege drop, so the
     * directory's owner (the daemon user) can at most make us overwrite
     * what it may write anyway */
    daemon_pidfile(c->milter.pidfile, warn_log);
    report_init();
    if (rt_load(o.file, &rt, err, sizeof(err)) != 0) {
	log_msg(LOG_ERR, "cannot start: %s", err);
	fprintf(stderr, "relayguard-milter: cannot start: %s\n", err);
	return EX_UNAVAILABLE;
    }
    rt_install(rt);
    start_milter(c);
    /* Block the signals before any thread exists: libmilter's own signal
     * thread waits for HUP/TERM/INT, ours for USR1; every other thread
     * inherits the mask, so no stray thread takes the default action. */
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (pthread_create(&maint, NULL, maintenance, cfg_file) != 0)
	return EX_OSERR;
    log_msg(LOG_NOTICE, "relayguard-milter %s listening on %s%s", RG_VERSION,
	    c->milter.socket, c->milter.dry_run ? " (dry run)" : "");
    rc = smfi_main();
    atomic_store(&stopping, 1);
    drain();
    pthread_join(maint, NULL);
    if ((rt = rt_acquire()) != NULL) {
	rt_snapshot(rt, true);	/* blocks and baselines outlive a reboot */
	rt_release(rt);
    }
    log_msg(LOG_NOTICE, "stopped");
    unlink(c->milter.pidfile);
    rt_shutdown();
    cfg_free(c);
    return rc == MI_SUCCESS ? 0 : EX_SOFTWARE;
}
