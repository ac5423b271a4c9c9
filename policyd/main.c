/*
 * relayguard-policyd - the Postfix policy delegation front end: command
 * line, start-up, the listening socket and one poll() event loop over
 * every Postfix connection.
 *
 * -c FILE  configuration (default /etc/relayguard/relayguard.conf)
 * -n       check the configuration and exit (0, or 78 with the errors)
 * -f       stay in the foreground and log to stderr
 * -V       print the version and exit
 *
 * Postfix keeps policy connections open and sends one request at a time;
 * each is parsed (request), answered (session) and written without
 * blocking. Bad input, a full buffer or more than policyd.max_connections
 * closes that connection (logged); Postfix then applies its
 * smtpd_policy_service_default_action. SIGTERM/SIGINT stop the loop;
 * transactions still open are forgotten as on expiry.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "report.h"
#include "request.h"
#include "runtime.h"
#include "session.h"

#define ERRBUF_LEN 8192
#define IN_MAX (REQUEST_LINE_MAX * 8)	/* buffered request bytes */
#define TABLE_SLOTS 4096		/* open transactions */
#define TICK_MS 1000
#define LISTEN_BACKLOG 128

struct conn {
    int fd;
    size_t inlen, outlen, outoff;
    char in[IN_MAX];
    char out[SESSION_ACTION_MAX];
};

static volatile sig_atomic_t stopping;

/* on_stop - SIGTERM, SIGINT */
static void on_stop(int sig)
{
    (void) sig;
    stopping = 1;
}

/* usage - the one-line synopsis, then EX_USAGE */
static void usage(void)
{
    fprintf(stderr, "usage: relayguard-policyd [-fnV] [-c FILE]\n");
    exit(EX_USAGE);
}

/* listen_unix - a unix socket at path, replacing a stale one */
static int listen_unix(const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
	snprintf(err, errlen, "%s: path too long", path);
	return -1;
    }
    strcpy(sun.sun_path, path);
    unlink(path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0
	|| bind(fd, (struct sockaddr *) &sun, sizeof(sun)) != 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0)
	    close(fd);
	return -1;
    }
    return fd;
}

/* inet_sockaddr - ADDRESS and PORT into ss; its length, 0 when bad */
static socklen_t inet_sockaddr(const char *host, int port,
			       struct sockaddr_storage *ss)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;

    memset(ss, 0, sizeof(*ss));
    if (port <= 0 || port > 65535)
	return 0;
    if (strcmp(host, "localhost") == 0)
	host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
	in4->sin_family = AF_INET;
	in4->sin_port = htons((uint16_t) port);
	return sizeof(*in4);
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t) port);
	return sizeof(*in6);
    }
    return 0;
}

/* listen_inet - inet:PORT@ADDRESS or inet6:PORT@ADDRESS */
static int listen_inet(const char *spec, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    const char *port = strchr(spec, ':') + 1, *at = strchr(port, '@');
    int fd, on = 1;

    if (at == NULL || (len = inet_sockaddr(at + 1, atoi(port), &ss)) == 0) {
	snprintf(err, errlen, "%s: not inet:PORT@ADDRESS", spec);
	return -1;
    }
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0
	|| setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0
	|| bind(fd, (struct sockaddr *) &ss, len) != 0) {
	snprintf(err, errlen, "%s: %s", spec, strerror(errno));
	if (fd >= 0)
	    close(fd);
	return -1;
    }
    return fd;
}

/* open_listener - policyd.socket, listening */
static int open_listener(const char *spec, char *err, size_t errlen)
{
    int fd = strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0
	? listen_unix(strchr(spec, ':') + 1, err, errlen)
	: listen_inet(spec, err, errlen);

    if (fd >= 0 && listen(fd, LISTEN_BACKLOG) != 0) {
	snprintf(err, errlen, "%s: listen: %s", spec, strerror(errno));
	close(fd);
	return -1;
    }
    return fd;
}

/* conn_close - log why (when bad), close, free */
static void conn_close(struct conn **slot, const char *why)
{
    if (why != NULL)
	log_msg(LOG_WARNING, "policy connection closed: %s", why);
    close((*slot)->fd);
    free(*slot);
    *slot = NULL;
}

/* conn_process - answer buffered requests while nothing waits to be sent;
 * -1 with err on bad input */
static int conn_process(struct conn *c, struct session_table *t,
			char *err, size_t errlen)
{
    struct request r;
    struct runtime *rt;
    enum request_status s;
    size_t used;

    while (c->outlen == 0) {
	s = request_parse(c->in, c->inlen, &r, &used, err, errlen);
	if (s == REQUEST_MORE && c->inlen == sizeof(c->in)) {
	    snprintf(err, errlen, "request over %zu bytes", sizeof(c->in));
	    return -1;
	}
	if (s == REQUEST_MORE)
	    return 0;
	if (s != REQUEST_OK)
	    return -1;
	rt = rt_acquire();
	session_answer(t, rt, &r, (uint32_t) time(NULL), c->out, sizeof(c->out));
	rt_release(rt);
	c->outlen = strlen(c->out);
	c->outoff = 0;
	memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
    }
    return 0;
}

/* conn_io - one readiness event; -1 when the connection is to be closed */
static int conn_io(struct conn *c, short revents, struct session_table *t,
		   char *err, size_t errlen)
{
    ssize_t n;

    err[0] = 0;
    if (c->outlen > 0 && (revents & POLLOUT)) {
	n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
	    snprintf(err, errlen, "write: %s", strerror(errno));
	    return -1;
	}
	if (n > 0 && (c->outoff += (size_t) n) == c->outlen)
	    c->outlen = c->outoff = 0;
    } else if (c->outlen == 0 && (revents & (POLLIN | POLLHUP | POLLERR))) {
	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == 0)
	    return -1;		/* Postfix closed it: not an error */
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
	    snprintf(err, errlen, "read: %s", strerror(errno));
	    return -1;
	}
	if (n > 0)
	    c->inlen += (size_t) n;
    }
    return conn_process(c, t, err, errlen);
}

/* accept_all - new Postfix connections, up to max */
static void accept_all(int lfd, struct conn **conns, unsigned max)
{
    unsigned i;
    int fd;

    while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
	for (i = 0; i < max && conns[i] != NULL; i++)
	    ;
	if (i == max || (conns[i] = calloc(1, sizeof(**conns))) == NULL) {
	    log_msg(LOG_WARNING, "policy connection refused: %u open", max);
	    close(fd);
	    continue;
	}
	conns[i]->fd = fd;
    }
}

/* serve - the event loop until SIGTERM/SIGINT */
static void serve(int lfd, unsigned max, struct session_table *t)
{
    struct conn **conns = calloc(max, sizeof(*conns));
    struct pollfd *pfd = calloc(max + 1, sizeof(*pfd));
    unsigned i, n, *which = calloc(max + 1, sizeof(*which));
    char err[256];
    struct runtime *rt;

    if (conns == NULL || pfd == NULL || which == NULL) {
	log_msg(LOG_ERR, "out of memory");
	exit(EX_OSERR);
    }
    while (!stopping) {
	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	for (i = 0, n = 1; i < max; i++)
	    if (conns[i] != NULL) {
		pfd[n].fd = conns[i]->fd;
		pfd[n].events = conns[i]->outlen ? POLLOUT : POLLIN;
		which[n++] = i;
	    }
	if (poll(pfd, n, TICK_MS) < 0 && errno != EINTR)
	    log_msg(LOG_ERR, "poll: %s", strerror(errno));
	for (i = 1; i < n; i++)
	    if (pfd[i].revents
		&& conn_io(conns[which[i]], pfd[i].revents, t, err, sizeof(err)) != 0)
		conn_close(&conns[which[i]], err[0] ? err : NULL);
	if (pfd[0].revents & POLLIN)
	    accept_all(lfd, conns, max);
	rt = rt_acquire();
	session_expire(t, rt, (uint32_t) time(NULL));
	rt_release(rt);
    }
    for (i = 0; i < max; i++)
	if (conns[i] != NULL)
	    conn_close(&conns[i], NULL);
    free(conns);
    free(pfd);
    free(which);
}

/* parse_args - flags; returns the configuration file */
static const char *parse_args(int argc, char **argv, int *fg, int *check)
{
    const char *file = CFG_DEFAULT_FILE;
    int ch;

    while ((ch = getopt(argc, argv, "c:fnV")) != -1) {
	switch (ch) {
	case 'c':
	    file = optarg;
	    break;
	case 'f':
	    *fg = 1;
	    break;
	case 'n':
	    *check = 1;
	    break;
	case 'V':
	    printf("relayguard-policyd %s (Postfix policy delegation)\n", RG_VERSION);
	    exit(0);
	default:
	    usage();
	}
    }
    if (optind != argc)
	usage();
    return file;
}

int main(int argc, char **argv)
{
    char err[ERRBUF_LEN];
    struct session_table *t;
    struct runtime *rt;
    struct cfg *c;
    int fg = 0, check = 0, lfd;
    static char cfg_path[4096];	/* the -c file, absolute */
    const char *file = parse_args(argc, argv, &fg, &check);

    if ((c = cfg_load(file, err, sizeof(err))) == NULL) {
	fprintf(stderr, "relayguard-policyd: configuration error\n%s\n", err);
	return EX_CONFIG;
    }
    if (check) {
	printf("%s: configuration ok (%zu rules)\n", file, c->policy.nrules);
	cfg_free(c);
	return 0;
    }
    daemon_abs_path(file, cfg_path, sizeof(cfg_path));
    file = cfg_path;
    log_open("relayguard-policyd", c->milter.syslog_facility, fg);
    if ((lfd = open_listener(c->policyd.socket, err, sizeof(err))) < 0) {
	fprintf(stderr, "relayguard-policyd: cannot listen: %s\n", err);
	return EX_UNAVAILABLE;
    }
    if (!fg && daemon_detach(err, sizeof(err)) != 0) {
	fprintf(stderr, "relayguard-policyd: %s\n", err);
	exit(EX_OSERR);
    }
    report_init();
    if (rt_load(file, &rt, err, sizeof(err)) != 0) {
	log_msg(LOG_ERR, "cannot start: %s", err);
	fprintf(stderr, "relayguard-policyd: cannot start: %s\n", err);
	return EX_UNAVAILABLE;
    }
    rt_install(rt);
    if ((t = session_table_new(TABLE_SLOTS)) == NULL)
	return EX_OSERR;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_stop);
    signal(SIGINT, on_stop);
    log_msg(LOG_NOTICE, "relayguard-policyd %s listening on %s%s", RG_VERSION,
	    c->policyd.socket, c->milter.dry_run ? " (dry run)" : "");
    serve(lfd, c->policyd.max_conns, t);
    rt = rt_acquire();
    session_table_free(t, rt, (uint32_t) time(NULL));
    rt_release(rt);
    close(lfd);
    log_msg(LOG_NOTICE, "stopped");
    rt_shutdown();
    cfg_free(c);
    return 0;
}
