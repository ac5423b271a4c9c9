/*
 * mailout - a mail message built from hostile strings, and its hand-over
 * to the local sendmail binary.
 *
 *   mailout_header  one header field: printable ASCII stays as it is;
 *                   a value with any other byte, with "=?", or too long
 *                   for one line becomes RFC 2047 encoded-words (UTF-8,
 *                   base64, whole characters per word, folded lines).
 *                   Control characters (CR and LF included), bidi and
 *                   zero-width characters become a space, bytes that are
 *                   no UTF-8 become '?', and the value is cut at
 *                   MAILOUT_VALUE_MAX bytes: a header never carries a
 *                   line break of the caller's making.
 *   mailout_qp      a UTF-8 body as quoted-printable (7-bit, lines of at
 *                   most 76 characters, soft breaks).
 *   mailout_send    fork and execv the sendmail binary with a fixed argv
 *                   (path -i [-f FROM] -- TO; no shell), the message on
 *                   its standard input (a socket, so that a sendmail that
 *                   dies early costs no SIGPIPE), within timeout_ms; the
 *                   child is always reaped, killed when it overstays.
 *                   Killed after it had read the whole message, sendmail
 *                   may have queued it before it hung: MAILOUT_UNSURE
 *                   (a retry may deliver it twice); killed before, or
 *                   failed: MAILOUT_FAILED.
 *
 * Contract: no global state, nothing logged; mailout_send returns
 * MAILOUT_OK, or another status with err filled. Thread-safe; fork from a threaded process is fine
 * because the child only calls async-signal-safe functions.
 */
#ifndef RG_MAILOUT_H
#define RG_MAILOUT_H

#include <stddef.h>

#include "output.h"

#define MAILOUT_VALUE_MAX 256	/* bytes of a header value that are kept */
#define MAILOUT_LINE_MAX 78	/* a header line's length, RFC 5322's advice */

enum mailout_status {
    MAILOUT_OK = 0,		/* sendmail exited 0 */
    MAILOUT_FAILED,		/* not sent: it failed, or was killed before it read it all */
    MAILOUT_UNSURE		/* killed after it read it all: it may have queued it */
};

void mailout_header(struct jb *j, const char *name, const char *value);
void mailout_qp(struct jb *j, const char *text);
enum mailout_status mailout_send(const char *sendmail, const char *from, const char *to,
				 int timeout_ms, const char *msg, size_t len, char *err,
				 size_t errlen);

#endif
