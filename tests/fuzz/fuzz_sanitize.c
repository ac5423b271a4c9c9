/*
 * fuzz_sanitize - log_sanitize on arbitrary bytes and output sizes, and
 * log_kv_str on the same bytes as a C string.
 *
 * The first two input bytes choose outlen (0..LOG_VALUE_MAX + 63); the
 * output buffer is heap-allocated to exactly outlen so ASan sees any
 * overrun. Properties of the result: NUL-terminated at the returned
 * length, which is below outlen and at most LOG_VALUE_MAX; no byte below
 * 0x20 and no 0x7f; valid UTF-8; every '"' and '\' escaped; a value that
 * needs no change and fits comes out unchanged.
 */
#include "fuzz_common.h"
#include "log.h"

#define OUTLEN_RANGE (LOG_VALUE_MAX + 64)

/* escapes_ok - every '"' and '\' is part of a backslash pair */
static int escapes_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
	if (s[i] == '"')
	    return 0;
	if (s[i] == '\\') {
	    if (i + 1 >= n || (s[i + 1] != '"' && s[i + 1] != '\\'))
		return 0;
	    i++;
	}
    }
    return 1;
}

/* plain - printable ASCII without quote or backslash: passes unchanged */
static int plain(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
	if (p[i] < 0x20 || p[i] >= 0x7f || p[i] == '"' || p[i] == '\\')
	    return 0;
    return 1;
}

/* check_clean - the properties of one sanitised value */
static void check_clean(const char *out, size_t n)
{
    FUZZ_CHECK(n <= LOG_VALUE_MAX, "bounded length");
    FUZZ_CHECK(out[n] == 0 && strlen(out) == n, "NUL at the returned length");
    for (size_t i = 0; i < n; i++)
	FUZZ_CHECK((unsigned char) out[i] >= 0x20 && out[i] != 0x7f,
		   "no control byte");
    FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *) out, n), "valid UTF-8");
    FUZZ_CHECK(escapes_ok(out, n), "quotes and backslashes escaped");
}

/* fuzz_line - log_kv_str never overruns a line, whatever it appends */
static void fuzz_line(const uint8_t *data, size_t size)
{
    char *value = fuzz_strndup(data, size);
    struct log_line l;

    log_line_init(&l, "QUEUEID:");
    for (int i = 0; i < 12; i++)	/* enough values to fill a line */
	log_kv_str(&l, "user", value);
    FUZZ_CHECK(l.len < sizeof(l.buf) && l.buf[l.len] == 0
	       && strlen(l.buf) == l.len, "line bounded and terminated");
    free(value);
}

/* LLVMFuzzerTestOneInput - sanitise the input into a sized buffer */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t outlen, n, inlen;
    const uint8_t *in;
    char *out;

    if (size < 2)
	return 0;
    outlen = ((size_t) data[0] << 8 | data[1]) % OUTLEN_RANGE;
    in = data + 2;
    inlen = size - 2;
    if ((out = malloc(outlen ? outlen : 1)) == NULL)
	abort();
    n = log_sanitize((const char *) in, inlen, out, outlen);
    if (outlen == 0) {
	FUZZ_CHECK(n == 0, "nothing written without room");
    } else {
	FUZZ_CHECK(n < outlen, "fits the buffer");
	check_clean(out, n);
	if (plain(in, inlen) && inlen < outlen && inlen <= LOG_VALUE_MAX)
	    FUZZ_CHECK(n == inlen && memcmp(out, in, inlen) == 0,
		       "a clean value that fits is unchanged");
    }
    free(out);
    fuzz_line(in, inlen);
    return 0;
}
