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

#endif
