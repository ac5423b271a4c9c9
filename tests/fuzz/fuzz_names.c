/*
 * fuzz_names - the collector's offline names file parser (names_parse).
 *
 * Properties: no more entries and bad lines than lines; every entry has a
 * non-empty name without blanks; entries are sorted, so every one of them
 * is found again by names_lookup (offline: no DNS).
 */
#include "fuzz_common.h"
#include "names.h"

/* LLVMFuzzerTestOneInput - parse the input as a names file */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);	/* exact size: ASan bounds */
    struct names nm;
    size_t lines = 1, i;

    if (text == NULL)
	abort();
    if (size > 0)
	memcpy(text, data, size);
    for (i = 0; i < size; i++)
	lines += data[i] == '\n';
    memset(&nm, 0, sizeof(nm));
    nm.offline = true;
    if (names_parse(&nm, text, size) != 0)
	abort();		/* out of memory only */
    FUZZ_CHECK(nm.n + nm.bad_lines <= lines, "entries and bad lines per line");
    for (i = 0; i < nm.n; i++) {
	const char *name = names_lookup(&nm, &nm.v[i].a);

	FUZZ_CHECK(nm.v[i].name[0] != 0, "a name");
	FUZZ_CHECK(strpbrk(nm.v[i].name, " \t\r\n") == NULL, "no blanks in a name");
	FUZZ_CHECK(i == 0 || memcmp(&nm.v[i - 1].a, &nm.v[i].a, sizeof(struct addr)) <= 0,
		   "sorted");
	FUZZ_CHECK(name[0] != 0, "every entry is found");
    }
    names_free(&nm);
    free(text);
    return 0;
}
