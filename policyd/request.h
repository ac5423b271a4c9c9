/*
 * request - one Postfix policy delegation request (SMTPD_POLICY_README):
 * "name=value" lines ended by an empty line, parsed from a byte buffer.
 */
#ifndef RG_REQUEST_H
#define RG_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define REQUEST_LINE_MAX 2048	/* one "name=value" line, newline included */
#define REQUEST_ATTR_MAX 64	/* lines in one request */
#define REQUEST_BYTES_MAX 16384	/* one whole request, empty line included */
#define REQUEST_VALUE_MAX 512	/* longer known values are cut */
#define REQUEST_SHORT_MAX 64

enum request_status {
    REQUEST_OK = 0,		/* a whole request was parsed */
    REQUEST_MORE,		/* no empty line yet: read more */
    REQUEST_LINE_LONG,		/* a line over REQUEST_LINE_MAX */
    REQUEST_TOO_MANY,		/* more than REQUEST_ATTR_MAX lines */
    REQUEST_SYNTAX,		/* a line without '=', an empty name, a NUL */
    REQUEST_TOO_BIG,		/* over REQUEST_BYTES_MAX with no end yet */
};

struct request {
    char request[REQUEST_SHORT_MAX];	/* "smtpd_access_policy" */
    char protocol_state[REQUEST_SHORT_MAX];	/* RCPT, END-OF-MESSAGE ... */
    char instance[REQUEST_SHORT_MAX];
    char queue_id[REQUEST_SHORT_MAX];
    char client_address[REQUEST_SHORT_MAX];
    char sasl_username[REQUEST_VALUE_MAX];
    char sender[REQUEST_VALUE_MAX];
    char recipient[REQUEST_VALUE_MAX];
    char helo_name[REQUEST_VALUE_MAX];
    uint64_t size;
    uint32_t recipient_count;
    unsigned attrs;		/* lines seen, known or not */
    unsigned unknown;		/* attributes Postfix does not send */
    char unknown_name[REQUEST_SHORT_MAX];	/* the first, printable */
};

enum request_status request_parse(const char *buf, size_t len,
				  struct request *r, size_t *used,
				  char *err, size_t errlen);
const char *request_status_name(enum request_status s);

#endif
