/*
 * serve - the listening socket and the event loop of relayguard-policyd.
 *
 * Postfix keeps policy connections open and sends one request at a time
 * on each; one thread polls them all, parses (request), answers (session)
 * and writes without blocking. Nothing here waits for a client: a request
 * in pieces stays in its connection's buffer, an answer Postfix does not
 * read yet waits for POLLOUT.
 *
 * A connection is closed, logged once and counted (stats.h STATS_PD_*)
 * when its input is bad (a line over REQUEST_LINE_MAX, a line that is not
 * name=value, a request over REQUEST_BYTES_MAX or REQUEST_ATTR_MAX lines,
 * with policyd.strict_attributes an attribute Postfix never sends), when
 * it ends or stays silent past policyd.idle_timeout in the middle of a
 * request (no empty line), when it is silent past idle_timeout, and when
 * an answer is not read within policyd.write_timeout. Connections past
 * policyd.max_connections are closed at once. Postfix then applies its
 * smtpd_policy_service_default_action to that request; we never send
 * half an answer.
 *
 * Signals: the loop waits in ppoll() with them unblocked, so a signal is
 * taken between two rounds, never in the middle of one. TERM, INT, HUP
 * and USR2 close the listener, close idle connections, let requests in
 * flight be read, answered and written (up to policyd.drain_timeout),
 * then return. USR1 calls the reload hook.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "request.h"
#include "runtime.h"
#include "serve.h"
#include "stats.h"

#define TICK_MS 1000
#define LISTEN_BACKLOG 128
#define SOCKET_UMASK 0117	/* unix socket: rw for owner and group */
#define FLOOD_LOG_MS 10000	/* one "refused" line per this, with a count */
#define MS_PER_S 1000

/* Why a connection is closed. */
enum why {
    WHY_EOF,			/* Postfix closed it between requests */
    WHY_IO,			/* read or write failed */
    WHY_LINE_LONG, WHY_SYNTAX, WHY_TOO_BIG, WHY_UNFINISHED, WHY_UNKNOWN,
    WHY_IDLE, WHY_STALL,
    WHY_DRAIN,			/* stop: idle, or still busy at the deadline */
};

/* Per reason: the counter (-1: none) and the log level (0: not logged;
 * an idle connection closed is routine, bad input is not). */
static const struct {
    int counter;
    int level;
} whys[] = {
    [WHY_EOF] = {-1, 0}, [WHY_IO] = {-1, LOG_WARNING},
    [WHY_LINE_LONG] = {STATS_PD_LINE_LONG, LOG_WARNING},
    [WHY_SYNTAX] = {STATS_PD_SYNTAX, LOG_WARNING},
    [WHY_TOO_BIG] = {STATS_PD_TOO_BIG, LOG_WARNING},
    [WHY_UNFINISHED] = {STATS_PD_UNFINISHED, LOG_WARNING},
    [WHY_UNKNOWN] = {-1, LOG_WARNING},	/* counted per request */
    [WHY_IDLE] = {STATS_PD_IDLE, LOG_INFO},
    [WHY_STALL] = {STATS_PD_WRITE_STALL, LOG_WARNING},
    [WHY_DRAIN] = {-1, 0},
};

struct conn {
    int fd;
    bool warned;		/* an unknown attribute was logged */
    size_t inlen, outlen, outoff;
    uint64_t active_ms;		/* last request byte read or answer sent */
    uint64_t out_ms;		/* when the pending answer was queued */
    char in[REQUEST_BYTES_MAX];
    char out[SESSION_ACTION_MAX];
};

struct loop {
    struct conn **conns;
    struct pollfd *pfd;
    unsigned *which, max;
    struct session_table *t;
    uint64_t flood_ms;		/* last "refused" log line */
    unsigned flooded;		/* refused since */
};

static volatile sig_atomic_t got_stop, got_reload;

/* on_signal - note a stop or a reload for the loop */
static void on_signal(int sig)
{
    if (sig == SIGUSR1)
	got_reload = 1;
    else
	got_stop = 1;
}

/* now_ms - the monotonic clock */
static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * MS_PER_S + (uint64_t) ts.tv_nsec / 1000000;
}

/* count - bump a shared counter in the current snapshot's store */
static void count(unsigned idx)
{
    struct runtime *rt = rt_acquire();

    if (rt != NULL)
	store_counter_add(rt->st, idx, 1);
    rt_release(rt);
}

/* serve_block_signals - see serve.h */
void serve_block_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
    struct sigaction sa;
    sigset_t set;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&set);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
	sigaddset(&set, sigs[i]);
	sigaction(sigs[i], &sa, NULL);
    }
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* listen_unix - a unix socket at path, replacing a stale one */
static int listen_unix(const char *path, mode_t umask_bits, char *err,
		       size_t errlen)
{
    struct sockaddr_un sun;
    mode_t old;
    int fd, rc;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sun.sun_path)) {
	snprintf(err, errlen, "%s: path too long", path);
	return -1;
    }
    strcpy(sun.sun_path, path);
    unlink(path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return -1;
    }
    old = umask(umask_bits | SOCKET_UMASK);
    rc = bind(fd, (struct sockaddr *) &sun, sizeof(sun));
    umask(old);
    if (rc != 0) {
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
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

/* serve_listen - see serve.h */
int serve_listen(const char *spec, mode_t umask_bits, char *err, size_t errlen)
{
    int fd = strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0
	? listen_unix(strchr(spec, ':') + 1, umask_bits, err, errlen)
	: listen_inet(spec, err, errlen);

    if (fd >= 0 && listen(fd, LISTEN_BACKLOG) != 0) {
	snprintf(err, errlen, "%s: listen: %s", spec, strerror(errno));
	close(fd);
	return -1;
    }
    return fd;
}

/* conn_close - count, log (when the reason is), close, free */
static void conn_close(struct conn **slot, enum why why, const char *detail)
{
    if (whys[why].counter >= 0)
	count((unsigned) whys[why].counter);
    if (whys[why].level != 0)
	log_msg(whys[why].level, "policy connection closed: %s", detail);
    close((*slot)->fd);
    free(*slot);
    *slot = NULL;
}

/* parse_why - a parser status as a close reason */
static enum why parse_why(enum request_status s)
{
    return s == REQUEST_LINE_LONG ? WHY_LINE_LONG
	: s == REQUEST_SYNTAX ? WHY_SYNTAX : WHY_TOO_BIG;
}

/* unknown_attrs - count a request with attributes Postfix never sends;
 * log the first of a connection; WHY_UNKNOWN when strict, else WHY_EOF */
static enum why unknown_attrs(struct conn *c, const struct request *r,
			      const struct cfg *cfg, char *err, size_t errlen)
{
    count(STATS_PD_UNKNOWN_ATTR);
    snprintf(err, errlen, "unknown attribute \"%s\"%s", r->unknown_name,
	     r->unknown > 1 ? " and more" : "");
    if (cfg->policyd.strict_attributes)
	return WHY_UNKNOWN;
    if (!c->warned)
	log_msg(LOG_NOTICE, "policy request with an %s (ignored; logged once "
		"per connection)", err);
    c->warned = true;
    return WHY_EOF;
}

/* conn_process - answer buffered requests while nothing waits to be
 * sent; WHY_EOF when all is well, else why to close (detail in err) */
static enum why conn_process(struct conn *c, struct session_table *t,
			     uint64_t now, char *err, size_t errlen)
{
    struct request r;
    struct runtime *rt;
    enum request_status s;
    enum why w = WHY_EOF;
    size_t used;

    while (c->outlen == 0) {
	s = request_parse(c->in, c->inlen, &r, &used, err, errlen);
	if (s == REQUEST_MORE)
	    return WHY_EOF;
	if (s != REQUEST_OK)
	    return parse_why(s);
	rt = rt_acquire();
	if (r.unknown > 0)
	    w = unknown_attrs(c, &r, rt->cfg, err, errlen);
	if (w == WHY_EOF)
	    session_answer(t, rt, &r, (uint32_t) time(NULL), c->out,
			   sizeof(c->out));
	rt_release(rt);
	if (w != WHY_EOF)
	    return w;
	c->outlen = strlen(c->out);
	c->outoff = 0;
	c->out_ms = now;
	memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
    }
    return WHY_EOF;
}

/* conn_write - send what is pending; WHY_IO on failure */
static enum why conn_write(struct conn *c, uint64_t now, char *err,
			   size_t errlen)
{
    ssize_t n = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);

    if (n < 0 && errno != EAGAIN && errno != EINTR) {
	snprintf(err, errlen, "write: %s", strerror(errno));
	return WHY_IO;
    }
    if (n > 0 && (c->outoff += (size_t) n) == c->outlen) {
	c->outlen = c->outoff = 0;
	c->active_ms = now;
    }
    return WHY_EOF;
}

/* conn_io - one readiness event; *closing is set with why it is to be
 * closed (WHY_EOF: Postfix closed it) */
static enum why conn_io(struct conn *c, short revents, struct session_table *t,
			uint64_t now, bool *closing, char *err, size_t errlen)
{
    enum why w = WHY_EOF;
    ssize_t n;

    *closing = false;
    if (c->outlen > 0 && (revents & (POLLOUT | POLLERR | POLLHUP)))
	w = conn_write(c, now, err, errlen);
    else if (c->outlen == 0 && (revents & (POLLIN | POLLHUP | POLLERR))) {
	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == 0) {
	    *closing = true;
	    snprintf(err, errlen, "end of input inside a request (%zu bytes, "
		     "no empty line)", c->inlen);
	    return c->inlen > 0 ? WHY_UNFINISHED : WHY_EOF;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
	    snprintf(err, errlen, "read: %s", strerror(errno));
	    w = WHY_IO;
	}
	if (n > 0) {
	    c->inlen += (size_t) n;
	    c->active_ms = now;
	}
    }
    if (w == WHY_EOF)
	w = conn_process(c, t, now, err, errlen);
    *closing = w != WHY_EOF;
    return w;
}

/* conn_timed_out - idle or stalled past the configured times? */
static bool conn_timed_out(const struct conn *c, const struct cfg *cfg,
			   uint64_t now, enum why *w, char *err, size_t errlen)
{
    if (c->outlen > 0 && now - c->out_ms >= (uint64_t) cfg->policyd.write_s * MS_PER_S) {
	snprintf(err, errlen, "answer not read for %us", cfg->policyd.write_s);
	*w = WHY_STALL;
	return true;
    }
    if (c->outlen == 0 && now - c->active_ms >= (uint64_t) cfg->policyd.idle_s * MS_PER_S) {
	snprintf(err, errlen, c->inlen > 0 ? "no empty line within %us "
		 "(%zu bytes of a request)" : "idle for %us",
		 cfg->policyd.idle_s, c->inlen);
	*w = c->inlen > 0 ? WHY_UNFINISHED : WHY_IDLE;
	return true;
    }
    return false;
}

/* flood - one connection over max_connections: closed and counted; the
 * log says how many every FLOOD_LOG_MS, not once each */
static void flood(struct loop *l, int fd, uint64_t now)
{
    close(fd);
    count(STATS_PD_FLOOD);
    l->flooded++;
    if (now - l->flood_ms >= FLOOD_LOG_MS) {
	log_msg(LOG_WARNING, "policy connection refused: %u open "
		"(policyd.max_connections); %u refused", l->max, l->flooded);
	l->flood_ms = now;
	l->flooded = 0;
    }
}

/* accept_all - new Postfix connections, up to max */
static void accept_all(int lfd, struct loop *l, uint64_t now)
{
    unsigned i;
    int fd;

    while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
	for (i = 0; i < l->max && l->conns[i] != NULL; i++)
	    ;
	if (i == l->max || (l->conns[i] = calloc(1, sizeof(**l->conns))) == NULL) {
	    flood(l, fd, now);
	    continue;
	}
	l->conns[i]->fd = fd;
	l->conns[i]->active_ms = now;
    }
}

/* poll_set - the listener (when open) and every connection; how many */
static unsigned poll_set(struct loop *l, int lfd)
{
    unsigned i, n = 0;

    if (lfd >= 0) {
	l->pfd[0].fd = lfd;
	l->pfd[0].events = POLLIN;
	l->which[n++] = l->max;	/* the listener */
    }
    for (i = 0; i < l->max; i++)
	if (l->conns[i] != NULL) {
	    l->pfd[n].fd = l->conns[i]->fd;
	    l->pfd[n].events = l->conns[i]->outlen ? POLLOUT : POLLIN;
	    l->which[n++] = i;
	}
    return n;
}

/* round - one ppoll and what it found */
static void round_once(struct loop *l, int lfd, uint64_t now)
{
    unsigned i, n = poll_set(l, lfd);
    char err[256];
    sigset_t none;
    struct timespec tick = {TICK_MS / MS_PER_S, 0};
    bool closing;
    enum why w;

    sigemptyset(&none);
    if (ppoll(l->pfd, n, &tick, &none) < 0) {
	if (errno != EINTR)
	    log_msg(LOG_ERR, "poll: %s", strerror(errno));
	return;
    }
    now = now_ms();
    for (i = 0; i < n; i++) {
	if (!l->pfd[i].revents)
	    continue;
	if (l->which[i] == l->max) {
	    accept_all(lfd, l, now);
	    continue;
	}
	err[0] = 0;
	w = conn_io(l->conns[l->which[i]], l->pfd[i].revents, l->t, now,
		    &closing, err, sizeof(err));
	if (closing)
	    conn_close(&l->conns[l->which[i]], w, err);
    }
}

/* sweep - close connections past their timeouts; when draining, also
 * those with nothing in flight */
static void sweep(struct loop *l, uint64_t now, bool draining)
{
    struct runtime *rt = rt_acquire();
    char err[128];
    unsigned i;
    enum why w;

    for (i = 0; i < l->max; i++) {
	struct conn *c = l->conns[i];

	if (c == NULL)
	    continue;
	if (conn_timed_out(c, rt->cfg, now, &w, err, sizeof(err)))
	    conn_close(&l->conns[i], w, err);
	else if (draining && c->inlen == 0 && c->outlen == 0)
	    conn_close(&l->conns[i], WHY_DRAIN, "");
    }
    rt_release(rt);
}

/* open_conns - connections still open */
static unsigned open_conns(const struct loop *l)
{
    unsigned i, n = 0;

    for (i = 0; i < l->max; i++)
	n += l->conns[i] != NULL;
    return n;
}

/* drain - the stop: no new connections; requests in flight are finished
 * until none is left or drain_timeout passed */
static void drain(struct loop *l, int lfd)
{
    struct runtime *rt = rt_acquire();
    uint64_t start = now_ms(), limit = (uint64_t) rt->cfg->policyd.drain_s * MS_PER_S;
    unsigned i, left;

    rt_release(rt);
    close(lfd);
    sweep(l, start, true);
    log_msg(LOG_NOTICE, "stopping: %u connections with a request in flight "
	    "(at most %llus)", open_conns(l), (unsigned long long) limit / MS_PER_S);
    while (open_conns(l) > 0 && now_ms() - start < limit) {
	round_once(l, -1, now_ms());
	sweep(l, now_ms(), true);
    }
    if ((left = open_conns(l)) > 0)
	log_msg(LOG_WARNING, "stopping with %u requests unanswered (Postfix "
		"applies smtpd_policy_service_default_action)", left);
    for (i = 0; i < l->max; i++)
	if (l->conns[i] != NULL)
	    conn_close(&l->conns[i], WHY_DRAIN, "");
}

/* serve_run - see serve.h */
void serve_run(int lfd, unsigned max_conns, struct session_table *t,
	       const struct serve_hooks *h)
{
    struct loop l = {0};
    struct runtime *rt;
    uint64_t last_tick = 0, now;

    l.max = max_conns;
    l.t = t;
    l.conns = calloc(max_conns, sizeof(*l.conns));
    l.pfd = calloc(max_conns + 1, sizeof(*l.pfd));
    l.which = calloc(max_conns + 1, sizeof(*l.which));
    if (l.conns == NULL || l.pfd == NULL || l.which == NULL) {
	log_msg(LOG_ERR, "out of memory for %u connections", max_conns);
	goto out;
    }
    while (!got_stop) {
	round_once(&l, lfd, now_ms());
	if (got_reload) {
	    got_reload = 0;
	    h->reload();
	}
	if ((now = now_ms()) - last_tick >= TICK_MS) {
	    last_tick = now;
	    sweep(&l, now, false);
	    rt = rt_acquire();
	    session_expire(t, rt, (uint32_t) time(NULL));
	    rt_release(rt);
	    h->tick();
	}
    }
    drain(&l, lfd);
out:
    free(l.conns);
    free(l.pfd);
    free(l.which);
}
