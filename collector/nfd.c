/*
 * nfd - nfdump as a child process (see nfd.h).
 *
 * Every job's stdout and stderr are pipes polled together, so parallel
 * queries never block each other. Lines are split here and passed to the
 * job's callback without copying when they lie whole in the read buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nfd.h"

#define READ_CHUNK (256 * 1024)

extern char **environ;

struct lines {
    char *buf;
    size_t used;
    uint64_t lineno;
    nfd_line_fn fn;
    void *ctx;
    int skipping;		/* the rest of a line that was cut */
};

/* nfd_query - nfdump -q -N -6 [-A AGG] -o FMT -r FILE|-R DIR FILTER */
void nfd_query(struct nfd_job *j, const char *nfdump, const char *path,
	       int is_dir, const char *fmt, const char *aggregate,
	       const char *filter)
{
    int n = 0;

    memset(j->argv, 0, sizeof(j->argv));
    j->argv[n++] = nfdump;
    j->argv[n++] = "-q";
    j->argv[n++] = "-N";
    j->argv[n++] = "-6";
    if (aggregate != NULL) {
	j->argv[n++] = "-A";
	j->argv[n++] = aggregate;
    }
    j->argv[n++] = "-o";
    j->argv[n++] = fmt;
    j->argv[n++] = is_dir ? "-R" : "-r";
    j->argv[n++] = path;
    if (filter != NULL)
	j->argv[n++] = filter;
    j->exit_code = -1;
    j->errtext[0] = 0;
    j->lines = 0;
}

/* feed - pass every whole line of the buffer on; keep the rest. A line
 * longer than NFD_LINE_MAX is passed cut (it is then malformed) and the
 * rest of it skipped, so that line numbers stay right. */
static void feed(struct lines *l, int final)
{
    size_t pos = 0;

    for (;;) {
	char *nl = memchr(l->buf + pos, '\n', l->used - pos);
	size_t n = nl ? (size_t) (nl - l->buf) - pos : l->used - pos;

	if (l->skipping) {
	    pos += n + (nl != NULL);
	    l->skipping = nl == NULL;
	    if (nl == NULL)
		break;
	    continue;
	}
	if (nl == NULL && !(final && n > 0) && n < NFD_LINE_MAX)
	    break;
	if (n > NFD_LINE_MAX)
	    n = NFD_LINE_MAX;
	l->fn(l->ctx, l->buf + pos, n, ++l->lineno);
	if (nl == NULL || (size_t) (nl - l->buf) - pos > n) {
	    pos += n;
	    l->skipping = 1;	/* up to the next newline */
	    continue;
	}
	pos += n + 1;
    }
    memmove(l->buf, l->buf + pos, l->used - pos);
    l->used -= pos;
}

/* pump - one read into the line buffer; 1 at EOF, -1 on error */
static int pump(int fd, struct lines *l)
{
    ssize_t n = read(fd, l->buf + l->used, NFD_LINE_MAX + READ_CHUNK - l->used);

    if (n < 0)
	return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0) {
	feed(l, 1);
	return 1;
    }
    l->used += (size_t) n;
    feed(l, 0);
    return 0;
}

/* nfd_read_fd - every line of a descriptor (standard input) */
enum nfd_status nfd_read_fd(int fd, nfd_line_fn fn, void *ctx, uint64_t *lines,
			    char *err, size_t errlen)
{
    struct lines l = {malloc(NFD_LINE_MAX + READ_CHUNK), 0, 0, fn, ctx, 0};
    int r;

    if (l.buf == NULL) {
	snprintf(err, errlen, "out of memory");
	return NFD_SYS;
    }
    while ((r = pump(fd, &l)) == 0)
	;
    free(l.buf);
    *lines = l.lineno;
    if (r < 0) {
	snprintf(err, errlen, "read: %s", strerror(errno));
	return NFD_SYS;
    }
    return NFD_OK;
}

/* spawn - start one job with its stdout and stderr on pipes */
static pid_t spawn(struct nfd_job *j, int *out, int *errfd)
{
    int po[2], pe[2];
    pid_t pid;

    if (pipe2(po, O_CLOEXEC) != 0)
	return -1;
    if (pipe2(pe, O_CLOEXEC) != 0) {
	close(po[0]), close(po[1]);
	return -1;
    }
    if ((pid = fork()) == 0) {
	int nul = open("/dev/null", O_RDONLY);

	dup2(nul, 0);
	dup2(po[1], 1);
	dup2(pe[1], 2);
	setenv("TZ", "UTC", 1);	/* text times in UTC, no /etc/localtime stats */
	execv(j->argv[0], (char *const *) (uintptr_t) j->argv);
	dprintf(2, "%s: %s\n", j->argv[0], strerror(errno));
	_exit(127);
    }
    close(po[1]);
    close(pe[1]);
    if (pid < 0) {
	close(po[0]), close(pe[0]);
	return -1;
    }
    *out = po[0];
    *errfd = pe[0];
    return pid;
}

/* keep_err - append stderr text to the job, bounded */
static int keep_err(int fd, struct nfd_job *j)
{
    char buf[1024];
    size_t have = strlen(j->errtext);
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0)
	return errno == EINTR ? 0 : 1;
    if (n == 0)
	return 1;
    if (have + 1 < sizeof(j->errtext)) {
	size_t k = (size_t) n < sizeof(j->errtext) - have - 1
	    ? (size_t) n : sizeof(j->errtext) - have - 1;

	memcpy(j->errtext + have, buf, k);
	j->errtext[have + k] = 0;
    }
    return 0;
}

/* nfd_run - run the jobs in parallel until all have ended */
enum nfd_status nfd_run(struct nfd_job *jobs, size_t n, char *err, size_t errlen)
{
    struct pollfd pfd[2 * NFD_JOBS_MAX];
    struct lines l[NFD_JOBS_MAX];
    pid_t pid[NFD_JOBS_MAX];
    size_t i, open_fds = 0;
    enum nfd_status rc = NFD_OK;

    if (n > NFD_JOBS_MAX) {
	snprintf(err, errlen, "too many nfdump jobs");
	return NFD_SYS;
    }
    for (i = 0; i < n; i++) {
	l[i] = (struct lines) {malloc(NFD_LINE_MAX + READ_CHUNK), 0, 0, jobs[i].fn,
			       jobs[i].ctx, 0};
	pid[i] = l[i].buf ? spawn(&jobs[i], &pfd[2 * i].fd, &pfd[2 * i + 1].fd) : -1;
	if (pid[i] < 0) {
	    snprintf(err, errlen, "%s: cannot start: %s", jobs[i].argv[0], strerror(errno));
	    pfd[2 * i].fd = pfd[2 * i + 1].fd = -1;
	    rc = NFD_SYS;
	    continue;
	}
	pfd[2 * i].events = pfd[2 * i + 1].events = POLLIN;
	open_fds += 2;
    }
    while (open_fds > 0) {
	if (poll(pfd, 2 * n, -1) < 0) {
	    if (errno == EINTR)
		continue;
	    break;
	}
	for (i = 0; i < 2 * n; i++) {
	    int done;

	    if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
		continue;
	    done = i % 2 == 0 ? pump(pfd[i].fd, &l[i / 2]) != 0
		: keep_err(pfd[i].fd, &jobs[i / 2]);
	    if (done) {
		close(pfd[i].fd);
		pfd[i].fd = -1;
		open_fds--;
	    }
	}
    }
    for (i = 0; i < n; i++) {
	int st;

	if (pid[i] > 0 && waitpid(pid[i], &st, 0) == pid[i])
	    jobs[i].exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	jobs[i].lines = l[i].lineno;
	free(l[i].buf);
    }
    return rc;
}

/* nfd_smtp_filter - TCP port 25 over the threshold in either direction
 * (nfdump's packets/bytes test only the in direction of biflows) */
int nfd_smtp_filter(char *buf, size_t len, uint32_t min_packets,
		    uint32_t min_bytes)
{
    int n = snprintf(buf, len, "proto tcp and port 25 and ((in packets >= %u and "
		     "in bytes >= %u) or (out packets >= %u and out bytes >= %u))",
		     min_packets, min_bytes, min_packets, min_bytes);

    return n < 0 || (size_t) n >= len ? -1 : 0;
}

/* nfd_net_filter - "DIR net A or DIR net B ..." over the local networks */
int nfd_net_filter(char *buf, size_t len, const char *dir,
		   const struct cidr_list *nets)
{
    size_t i, used = 0;
    char c[CIDR_STRLEN];

    buf[0] = 0;
    for (i = 0; i < nets->n; i++) {
	const struct cidr *x = &nets->v[i];
	int n;

	/* addr_cidr_format gives a v4 network its v4 length */
	n = snprintf(buf + used, len - used, "%s%s net %s", i ? " or " : "", dir,
		     addr_cidr_format(x, c, sizeof(c)));
	if (n < 0 || (size_t) n >= len - used)
	    return -1;
	used += (size_t) n;
    }
    return nets->n ? 0 : -1;
}

/* nfd_hosts_filter - "ip in [ A B ... ]" */
int nfd_hosts_filter(char *buf, size_t len, const struct addr *hosts, size_t n)
{
    size_t i, used = 0;
    char a[ADDR_STRLEN];

    buf[0] = 0;
    for (i = 0; i < n; i++) {
	int k = snprintf(buf + used, len - used, "%s%s%s", i ? " " : "ip in [ ",
			 addr_format(&hosts[i], a, sizeof(a)), i + 1 == n ? " ]" : "");

	if (k < 0 || (size_t) k >= len - used)
	    return -1;
	used += (size_t) k;
    }
    return n ? 0 : -1;
}
