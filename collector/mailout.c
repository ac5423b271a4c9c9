/*
 * mailout - header encoding, quoted-printable and sendmail (see
 * mailout.h).
 *
 * The sanitiser is the log's (log_utf8_len, log_hostile), so a login is
 * cleaned the same way in a verdict line and in a mail header.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailout.h"

#define EW_OVERHEAD 12		/* "=?UTF-8?B?" and "?=" */
#define EW_CONT_BYTES 45	/* UTF-8 bytes in a continuation line's word */
#define QP_COLS 75		/* characters before a soft line break */
#define REAP_STEP_MS 10
#define EXIT_EXEC 127		/* the child could not execv */

/* clean - value without hostile characters, cut on a character boundary
 * to MAILOUT_VALUE_MAX bytes ("..." then); *ascii when all printable ASCII */
static void clean(const char *value, char *out, size_t cap, bool *ascii)
{
    const unsigned char *p = (const unsigned char *) value;
    size_t len = strlen(value), i = 0, o = 0;

    *ascii = true;
    while (i < len) {
	uint32_t cp = p[i];
	size_t u = p[i] >= 0x80 ? log_utf8_len(p + i, len - i, &cp) : 1;
	const char *rep = u == 0 ? "?" : cp < 0x20 || cp == 0x7f || log_hostile(cp) ? " " : NULL;
	size_t n = rep ? 1 : u;

	if (o + n > MAILOUT_VALUE_MAX || o + n + 4 > cap) {
	    memcpy(out + o, "...", 3);
	    o += 3;
	    break;
	}
	memcpy(out + o, rep ? rep : (const char *) p + i, n);
	*ascii = *ascii && (rep != NULL || u == 1);
	o += n;
	i += u ? u : 1;
    }
    out[o] = 0;
}

/* chunk - bytes of s (whole UTF-8 characters) that fit in max */
static size_t chunk(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t len = strlen(s), n = 0;

    while (n < len) {
	size_t u = p[n] >= 0x80 ? log_utf8_len(p + n, len - n, NULL) : 1;

	if (n + (u ? u : 1) > max)
	    break;
	n += u ? u : 1;
    }
    return n;
}

/* encoded_words - s as folded RFC 2047 words after "Name: " (used columns) */
static void encoded_words(struct jb *j, const char *s, size_t used)
{
    unsigned char b64[4 * EW_CONT_BYTES / 3 + 8];
    size_t room = MAILOUT_LINE_MAX > used + EW_OVERHEAD ? MAILOUT_LINE_MAX - used - EW_OVERHEAD
	: 0, n;

    room = room / 4 * 3;
    if (room < 3)		/* a long name: start on the next line */
	jb_raw(j, "\n "), room = EW_CONT_BYTES;
    room = room > EW_CONT_BYTES ? EW_CONT_BYTES : room;
    while (*s) {
	n = chunk(s, room);
	n = n ? n : 1;
	EVP_EncodeBlock(b64, (const unsigned char *) s, (int) n);
	jb_raw(j, "=?UTF-8?B?");
	jb_raw(j, (const char *) b64);
	jb_raw(j, "?=");
	s += n;
	if (*s)
	    jb_raw(j, "\n ");
	room = EW_CONT_BYTES;
    }
}

/* mailout_header - "Name: value" and its line end, safe for any value */
void mailout_header(struct jb *j, const char *name, const char *value)
{
    char v[MAILOUT_VALUE_MAX + 4];
    size_t used = strlen(name) + 2;
    bool ascii;

    clean(value, v, sizeof(v), &ascii);
    jb_raw(j, name);
    jb_raw(j, ": ");
    if (ascii && strstr(v, "=?") == NULL && used + strlen(v) <= MAILOUT_LINE_MAX)
	jb_raw(j, v);
    else
	encoded_words(j, v, used);
    jb_raw(j, "\n");
}

/* mailout_qp - text as quoted-printable lines */
void mailout_qp(struct jb *j, const char *text)
{
    const unsigned char *p = (const unsigned char *) text;
    size_t col = 0, n;
    char enc[4];

    for (; *p; p++) {
	if (*p == '\n') {
	    jb_raw(j, "\n");
	    col = 0;
	    continue;
	}
	if ((*p >= '!' && *p <= '~' && *p != '=')
	    || ((*p == ' ' || *p == '\t') && p[1] != '\n' && p[1] != 0))
	    enc[0] = (char) *p, enc[1] = 0;
	else
	    snprintf(enc, sizeof(enc), "=%02X", *p);
	n = strlen(enc);
	if (col + n > QP_COLS)
	    jb_raw(j, "=\n"), col = 0;
	jb_raw(j, enc);
	col += n;
    }
    if (col)
	jb_raw(j, "\n");
}

/* mono_ms - a clock for deadlines */
static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* child - become sendmail reading fd; never returns */
static void child(int fd, const char *sendmail, const char *from, const char *to)
{
    const char *argv[8];
    int i = 0, null = open("/dev/null", O_RDWR);

    argv[i++] = sendmail;
    argv[i++] = "-i";
    if (*from)
	argv[i++] = "-f", argv[i++] = from;
    argv[i++] = "--";
    argv[i++] = to;
    argv[i] = NULL;
    if (dup2(fd, 0) < 0 || null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
	_exit(EXIT_EXEC);
    closefrom(3);
    execv(sendmail, (char *const *) (uintptr_t) argv);
    _exit(EXIT_EXEC);
}

/* feed - write msg to fd by the deadline; 0, or -1 (errno set) */
static int feed(int fd, const char *msg, size_t len, int64_t deadline)
{
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    ssize_t w;

    while (len > 0) {
	int64_t left = deadline - mono_ms();

	if (left <= 0)
	    return errno = ETIMEDOUT, -1;
	if (poll(&pf, 1, (int) left) < 0 && errno != EINTR)
	    return -1;
	w = send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0 && errno != EAGAIN && errno != EINTR)
	    return -1;
	if (w > 0)
	    msg += w, len -= (size_t) w;
    }
    return 0;
}

/* reap - wait for pid by the deadline, then kill it; its wait status.
 * *unread: bytes of the message on fd that it had not read when it was
 * killed (asked before the kill: its death frees them) */
static int reap(pid_t pid, int64_t deadline, int fd, bool *killed, int *unread)
{
    struct timespec step = {0, REAP_STEP_MS * 1000000L};
    int status = 0;
    pid_t r;

    *killed = false;
    *unread = 0;
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 && mono_ms() < deadline)
	nanosleep(&step, NULL);
    if (r == 0) {
	if (ioctl(fd, SIOCOUTQ, unread) != 0)
	    *unread = 1;	/* unknown: as if not read */
	kill(pid, SIGKILL);
	*killed = true;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
	    ;
    }
    return status;
}

/* mailout_send - msg to "to" through sendmail within timeout_ms */
enum mailout_status mailout_send(const char *sendmail, const char *from, const char *to,
				 int timeout_ms, const char *msg, size_t len, char *err,
				 size_t errlen)
{
    int64_t deadline = mono_ms() + timeout_ms;
    int sv[2], status, fed, werr, unread;
    bool killed;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
	snprintf(err, errlen, "socketpair: %s", strerror(errno));
	return MAILOUT_FAILED;
    }
    if ((pid = fork()) < 0) {
	snprintf(err, errlen, "fork: %s", strerror(errno));
	close(sv[0]), close(sv[1]);
	return MAILOUT_FAILED;
    }
    if (pid == 0)
	child(sv[1], sendmail, from, to);
    close(sv[1]);
    fed = feed(sv[0], msg, len, deadline);
    werr = errno;
    shutdown(sv[0], SHUT_WR);	/* end of the message; fd kept to see what was read */
    status = reap(pid, deadline, sv[0], &killed, &unread);
    close(sv[0]);
    if (killed && fed == 0 && unread == 0) {
	snprintf(err, errlen, "%s: killed after %d ms, after it had read the whole message:"
		 " it may have queued it, so the retry may deliver it twice (same Message-ID)",
		 sendmail, timeout_ms);
	return MAILOUT_UNSURE;
    }
    if (killed)
	snprintf(err, errlen, "%s: killed after %d ms", sendmail, timeout_ms);
    else if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_EXEC)
	snprintf(err, errlen, "%s: cannot run it (exit %d)", sendmail, EXIT_EXEC);
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
	snprintf(err, errlen, "%s: %s %d", sendmail, WIFEXITED(status) ? "exit"
		 : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    else if (fed != 0)
	snprintf(err, errlen, "%s: message not written: %s", sendmail, strerror(werr));
    else
	return MAILOUT_OK;
    return MAILOUT_FAILED;
}
