/*
 * fuzz_common - helpers shared by the libFuzzer targets in tests/fuzz.
 *
 * Every target is one LLVMFuzzerTestOneInput over one parser of policy/.
 * A property that does not hold is a crash (abort) with a one-line reason
 * on stderr, so libFuzzer keeps the input as an artifact; sanitizers
 * (address, undefined, leaks) report everything else.
 */
#ifndef RG_FUZZ_COMMON_H
#define RG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* FUZZ_CHECK - a property the code under test promises; abort if broken */
#define FUZZ_CHECK(cond, what)						\
    do {								\
	if (!(cond)) {							\
	    fprintf(stderr, "%s:%d: property broken: %s (%s)\n",	\
		    __FILE__, __LINE__, (what), #cond);			\
	    abort();							\
	}								\
    } while (0)

/* fuzz_strndup - a NUL-terminated heap copy of the input (ASan-bounded) */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
	abort();
    if (size > 0)
	memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* fuzz_utf8_valid - strict UTF-8 (no overlongs, surrogates, or > U+10FFFF) */
static inline int fuzz_utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
	unsigned c = p[i], cp, len;

	if (c < 0x80) {
	    i++;
	    continue;
	}
	if (c >= 0xc2 && c <= 0xdf)
	    len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
	    len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
	    len = 4, cp = c & 0x07;
	else
	    return 0;
	if (i + len > n)
	    return 0;
	for (unsigned k = 1; k < len; k++) {
	    if ((p[i + k] & 0xc0) != 0x80)
		return 0;
	    cp = cp << 6 | (p[i + k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)
	    || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
	    return 0;
	i += len;
    }
    return 1;
}

#endif
