/*
 * fuzz_request - the policy delegation request parser on raw bytes, as a
 * Postfix connection (or anything that connects) would send them.
 *
 * The buffer is parsed request after request, as relayguard-policyd does.
 * Properties: an OK request consumed at least its empty line and no more
 * than the input; every known field is NUL-terminated within its size;
 * an error or "more" consumed nothing; "more" never comes with a line
 * over the limit pending.
 */
#include "fuzz_common.h"
#include "../../policyd/request.h"

#define ERR_MAX 64

/* terminated - a field holds a NUL within its size */
static int terminated(const char *f, size_t len)
{
    return memchr(f, 0, len) != NULL;
}

/* LLVMFuzzerTestOneInput - parse requests until the bytes run out */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct request r;
    const char *p = (const char *) data;
    size_t left = size, used;
    char err[ERR_MAX];
    enum request_status s;

    for (;;) {
	s = request_parse(p, left, &r, &used, err, sizeof(err));
	if (s != REQUEST_OK) {
	    FUZZ_CHECK(used == 0, "a request not parsed consumes nothing");
	    if (s == REQUEST_MORE)
		FUZZ_CHECK(left < REQUEST_BYTES_MAX,
			   "more input only while under the size limit");
	    return 0;
	}
	FUZZ_CHECK(used >= 1 && used <= left && p[used - 1] == '\n',
		   "a request ends with its newline");
	FUZZ_CHECK(r.attrs <= REQUEST_ATTR_MAX, "attribute count");
	FUZZ_CHECK(used <= REQUEST_BYTES_MAX, "a request within the size limit");
	FUZZ_CHECK(r.unknown <= r.attrs
		   && terminated(r.unknown_name, sizeof(r.unknown_name)),
		   "unknown attributes counted among the lines");
	FUZZ_CHECK(terminated(r.sasl_username, sizeof(r.sasl_username)) &&
		   terminated(r.instance, sizeof(r.instance)) &&
		   terminated(r.protocol_state, sizeof(r.protocol_state)),
		   "fields are terminated");
	p += used;
	left -= used;
    }
}
