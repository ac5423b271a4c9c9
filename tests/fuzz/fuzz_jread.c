/*
 * fuzz_jread - jread_parse (ctl/jread.c) on arbitrary bytes: the JSON
 * that relayguardctl reads from postqueue -j, where senders, recipients
 * and reasons come from whoever sent the mail.
 *
 * Properties of a tree jread_parse returns: nesting within
 * JREAD_DEPTH_MAX, at most JREAD_NODES_MAX values, every string and
 * member name valid UTF-8 without an embedded NUL (its len is its
 * strlen), member names exactly on object members, and jread_get finds
 * each member's name again. A failure says why. jread_free releases all
 * (LeakSanitizer). Built with the extra sources in fuzz_jread.srcs.
 */
#include "fuzz_common.h"
#include "jread.h"

#define ERR_LEN 128

/* text_ok - a decoded string: NUL-free valid UTF-8 of the stated length */
static void text_ok(const char *s, size_t len, const char *what)
{
    FUZZ_CHECK(s != NULL && strlen(s) == len, what);
    FUZZ_CHECK(fuzz_utf8_valid((const unsigned char *) s, len), what);
}

/* walk - check a value and its children; the number of values */
static size_t walk(const struct jread_val *v, int depth, int in_object)
{
    size_t n = 1;

    FUZZ_CHECK(depth <= JREAD_DEPTH_MAX + 1, "nesting bounded");
    FUZZ_CHECK((v->key != NULL) == (in_object != 0), "names on members only");
    if (v->key != NULL)
	text_ok(v->key, strlen(v->key), "member name UTF-8");
    if (v->type == JREAD_STR)
	text_ok(v->str, v->len, "string UTF-8 without NUL");
    FUZZ_CHECK(v->child == NULL || v->type == JREAD_ARR || v->type == JREAD_OBJ,
	       "children only in arrays and objects");
    for (const struct jread_val *c = v->child; c != NULL; c = c->next) {
	n += walk(c, depth + 1, v->type == JREAD_OBJ);
	if (v->type == JREAD_OBJ)
	    FUZZ_CHECK(jread_get(v, c->key) != NULL, "member found by name");
    }
    return n;
}

/* LLVMFuzzerTestOneInput - parse the input as one JSON document */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1), err[ERR_LEN];	/* exact size */
    struct jread_val *v;
    int64_t i;

    if (text == NULL)
	abort();
    if (size > 0)
	memcpy(text, data, size);
    err[0] = 0;
    v = jread_parse(text, size, err, sizeof(err));
    if (v == NULL) {
	FUZZ_CHECK(err[0] != 0 && memchr(err, 0, sizeof(err)) != NULL,
		   "a failed parse says why");
    } else {
	FUZZ_CHECK(walk(v, 1, 0) <= JREAD_NODES_MAX, "values bounded");
	(void) jread_str(v, "queue_id");
	(void) jread_int(v, "arrival_time", &i);
	jread_free(v);
    }
    free(text);
    return 0;
}
