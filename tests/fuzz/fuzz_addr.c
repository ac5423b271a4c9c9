/*
 * fuzz_addr - the small value parsers on NUL-terminated text: addr_parse,
 * addr_cidr_parse, cfg_parse_duration, cfg_parse_size and the rule
 * vocabulary.
 *
 * The first input byte sets the size of the error buffer (0..63, heap
 * allocated to the byte so ASan sees an overrun); the rest is the text.
 * Properties: what parses formats and parses back to the same value;
 * a duration prints as "<ms>ms" and parses back; a size is digits with
 * at most one unit letter; the vocabulary maps words to names and back.
 */
#include <ctype.h>
#include <inttypes.h>

#include "fuzz_common.h"
#include "addr.h"
#include "cfg.h"

#define ERRLEN_MASK 0x3f
#define NUM_MAX 32

/* fuzz_address - addr_parse and its text round trip */
static void fuzz_address(const char *text)
{
    char buf[ADDR_STRLEN];
    struct addr a, b, p;

    if (addr_parse(text, &a) != 0)
	return;
    addr_format(&a, buf, sizeof(buf));
    FUZZ_CHECK(buf[0] != 0, "parsed address formats");
    FUZZ_CHECK(addr_parse(buf, &b) == 0 && addr_equal(&a, &b), "address round trip");
    addr_prefix(&a, &p);
    FUZZ_CHECK(addr_is_v4(&p) == addr_is_v4(&a), "prefix keeps the family");
}

/* fuzz_cidr - addr_cidr_parse and its text round trip */
static void fuzz_cidr(const char *text, char *err, size_t errlen)
{
    char buf[CIDR_STRLEN];
    struct cidr c, d;

    if (addr_cidr_parse(text, &c, err, errlen) != 0)
	return;
    FUZZ_CHECK(c.plen <= 128, "prefix length");
    FUZZ_CHECK(addr_cidr_match(&c, &c.net), "network contains itself");
    addr_cidr_format(&c, buf, sizeof(buf));
    FUZZ_CHECK(addr_cidr_parse(buf, &d, err, errlen) == 0,
	       "formatted network parses");
    FUZZ_CHECK(d.plen == c.plen && addr_equal(&c.net, &d.net), "network round trip");
}

/* fuzz_duration - a parsed duration prints in ms and parses back */
static void fuzz_duration(const char *text, char *err, size_t errlen)
{
    char buf[NUM_MAX];
    uint64_t ms, back;

    if (cfg_parse_duration(text, &ms, err, errlen) != 0)
	return;
    FUZZ_CHECK(isdigit((unsigned char) text[0]), "a duration starts with a digit");
    snprintf(buf, sizeof(buf), "%" PRIu64 "ms", ms);
    FUZZ_CHECK(cfg_parse_duration(buf, &back, err, errlen) == 0 && back == ms,
	       "duration round trip");
}

/* fuzz_size - digits and at most one unit letter; prints back as digits */
static void fuzz_size(const char *text, char *err, size_t errlen)
{
    char buf[NUM_MAX];
    uint64_t n, back;
    size_t digits = strspn(text, "0123456789");

    if (cfg_parse_size(text, &n, err, errlen) != 0)
	return;
    FUZZ_CHECK(digits > 0 && strlen(text) <= digits + 1, "size syntax");
    snprintf(buf, sizeof(buf), "%" PRIu64, n);
    FUZZ_CHECK(cfg_parse_size(buf, &back, err, errlen) == 0 && back == n,
	       "size round trip");
}

/* fuzz_vocab - a word that parses names itself */
static void fuzz_vocab(const char *text)
{
    int v;

    if ((v = cfg_action_parse(text)) >= 0)
	FUZZ_CHECK(strcmp(cfg_action_name((enum cfg_action) v), text) == 0,
		   "action word");
    if ((v = cfg_metric_parse(text)) >= 0)
	FUZZ_CHECK(strcmp(cfg_metric_name((enum cfg_metric) v), text) == 0,
		   "metric word");
    if ((v = cfg_applies_parse(text)) >= 0)
	FUZZ_CHECK(strcmp(cfg_applies_name((enum cfg_applies) v), text) == 0,
		   "applies_to word");
}

/* LLVMFuzzerTestOneInput - every value parser on the same text */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t errlen;
    char *text, *err;

    if (size == 0)
	return 0;
    errlen = data[0] & ERRLEN_MASK;
    if ((err = malloc(errlen ? errlen : 1)) == NULL)
	abort();
    text = fuzz_strndup(data + 1, size - 1);
    fuzz_address(text);
    fuzz_cidr(text, err, errlen);
    fuzz_duration(text, err, errlen);
    fuzz_size(text, err, errlen);
    fuzz_vocab(text);
    free(text);
    free(err);
    return 0;
}
