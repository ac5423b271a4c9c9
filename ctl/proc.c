/*
 * proc - run an MTA tool (postqueue, postcat, postsuper, mailq, sendmail)
 * the safe way: fork and execv with an argument vector, never a shell,
 * so a queue id or a login can never become shell syntax. stdin is
 * /dev/null; stdout and stderr come back through pipes, each bounded
 * (output past max_out is read and dropped, so the child never blocks,
 * and the result says it was truncated). A deadline bounds the whole
 * run: at it the child gets SIGTERM, then SIGKILL, and is always reaped.
 *
 * The program must be an absolute path: relayguardctl runs the tools as
 * root, and a PATH search would run whatever a directory early in the
 * caller's PATH holds under that name (mta.c finds the paths).
 * Contract: proc_run returns 0 once the child ran (its status is in the
 * result; 127 if it could not be executed) and -1 if it could not be
 * started (errno set; EINVAL for a relative program). Never logs.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

#define ERR_MAX (64 * 1024)	/* stderr kept */
#define CHUNK 65536		/* one read */
#define REAP_POLL_MS 10
#define MS_PER_S 1000
#define NS_PER_MS 1000000L

/* A growing, bounded buffer for one stream. */
struct stream {
    int fd;
    char *buf;
    size_t len, cap, max;
    bool truncated;
};

/* now_ms - a monotonic clock in milliseconds */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long) ts.tv_sec * MS_PER_S + ts.tv_nsec / NS_PER_MS;
}

/* child_exec - in the child: wire the pipes and exec; never returns */
static void child_exec(const char *const *argv, int in, int out, int err)
{
    char *const *av;
    sigset_t none;

    /* exec takes char *const[] for historical reasons; it never writes */
    memcpy(&av, &argv, sizeof(av));
    if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0
	|| dup2(err, STDERR_FILENO) < 0)
	_exit(PROC_EXIT_EXEC);
    signal(SIGPIPE, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execv(argv[0], av);
    dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(PROC_EXIT_EXEC);
}

/* stream_read - drain what is readable; 1 at end of file, -1 on error */
static int stream_read(struct stream *s)
{
    char chunk[CHUNK];
    ssize_t n = read(s->fd, chunk, sizeof(chunk));
    size_t keep;

    if (n == 0)
	return 1;
    if (n < 0)
	return errno == EINTR || errno == EAGAIN ? 0 : -1;
    keep = s->len + (size_t) n > s->max ? s->max - s->len : (size_t) n;
    if (keep < (size_t) n)
	s->truncated = true;
    if (keep > 0 && s->len + keep + 1 > s->cap) {
	size_t cap = s->cap ? s->cap : CHUNK;
	char *b;

	while (cap < s->len + keep + 1)
	    cap *= 2;
	if ((b = realloc(s->buf, cap)) == NULL)
	    return -1;
	s->buf = b;
	s->cap = cap;
    }
    if (keep > 0) {
	memcpy(s->buf + s->len, chunk, keep);
	s->len += keep;
    }
    return 0;
}

/* pump - read both streams until both end or the deadline passes */
static int pump(struct stream *s, long long deadline)
{
    int open_n = 2;

    while (open_n > 0) {
	struct pollfd pfd[2];
	long long left = deadline - now_ms();
	int n = 0;

	if (left <= 0)
	    return 1;
	for (int i = 0; i < 2; i++)
	    if (s[i].fd >= 0) {
		pfd[n].fd = s[i].fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	    }
	if (poll(pfd, (nfds_t) n, (int) (left > INT_MAX ? INT_MAX : left))
	    < 0 && errno != EINTR)
	    return -1;
	for (int i = 0, k = 0; i < 2; i++) {
	    int rc;

	    if (s[i].fd < 0)
		continue;
	    if ((pfd[k++].revents & (POLLIN | POLLHUP | POLLERR)) == 0)
		continue;
	    if ((rc = stream_read(&s[i])) != 0) {
		close(s[i].fd);
		s[i].fd = -1;
		open_n--;
		if (rc < 0)
		    return -1;
	    }
	}
    }
    return 0;
}

/* reap - wait for the child until the deadline, then end it */
static void reap(pid_t pid, long long deadline, struct proc_result *r)
{
    int st = 0, sig = SIGTERM;
    pid_t w;

    for (;;) {
	if ((w = waitpid(pid, &st, WNOHANG)) == pid
	    || (w < 0 && errno != EINTR))
	    break;
	if (now_ms() >= deadline) {
	    if (sig == SIGTERM)
		r->timed_out = true;
	    kill(pid, sig);
	    if (sig == SIGKILL) {
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		    ;
		break;
	    }
	    sig = SIGKILL;
	    deadline = now_ms() + PROC_KILL_GRACE_MS;
	}
	usleep(REAP_POLL_MS * 1000);
    }
    if (WIFEXITED(st)) {
	r->status = WEXITSTATUS(st);
    } else {
	r->status = -1;
	r->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    }
}

/* finish - hand the buffers to the result, NUL-terminated */
static int finish(struct stream *s, char **buf, size_t *len)
{
    if (s->buf == NULL && (s->buf = malloc(1)) == NULL)
	return -1;
    s->buf[s->len] = '\0';
    *buf = s->buf;
    *len = s->len;
    s->buf = NULL;
    return 0;
}

/* proc_run - run argv with a deadline; output bounded by max_out */
int proc_run(const char *const *argv, unsigned timeout_ms, size_t max_out,
	     struct proc_result *r)
{
    int op[2] = { -1, -1 }, ep[2] = { -1, -1 }, in = -1, rc = -1, saved;
    struct stream s[2];
    long long deadline = now_ms() + timeout_ms;
    pid_t pid;

    memset(r, 0, sizeof(*r));
    memset(s, 0, sizeof(s));
    s[0].fd = s[1].fd = -1;
    r->status = -1;
    if (argv[0] == NULL || argv[0][0] != '/') {
	errno = EINVAL;
	return -1;
    }
    if (pipe2(op, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0
	|| (in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
	goto out;
    if ((pid = fork()) < 0)
	goto out;
    if (pid == 0)
	child_exec(argv, in, op[1], ep[1]);
    close(op[1]);
    close(ep[1]);
    op[1] = ep[1] = -1;
    s[0].fd = op[0];
    s[0].max = max_out;
    s[1].fd = ep[0];
    s[1].max = ERR_MAX;
    op[0] = ep[0] = -1;
    if (pump(s, deadline) != 0)
	deadline = now_ms();	/* timed out or broken: end the child now */
    reap(pid, deadline, r);
    r->truncated = s[0].truncated;
    rc = finish(&s[0], &r->out, &r->outlen) || finish(&s[1], &r->err,
						       &r->errlen) ? -1 : 0;
  out:
    saved = errno;
    for (int i = 0; i < 2; i++) {
	if (s[i].fd >= 0)
	    close(s[i].fd);
	free(s[i].buf);
	if (op[i] >= 0)
	    close(op[i]);
	if (ep[i] >= 0)
	    close(ep[i]);
    }
    if (in >= 0)
	close(in);
    if (rc != 0)
	proc_result_free(r);
    errno = saved;
    return rc;
}

/* proc_result_free - release the output buffers */
void proc_result_free(struct proc_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
    r->outlen = r->errlen = 0;
}

/* proc_ok - did the tool run to completion and exit 0? */
int proc_ok(const struct proc_result *r)
{
    return r->status == 0 && !r->timed_out && r->signal == 0;
}
