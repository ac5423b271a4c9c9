/*
 * text - what relayguardctl prints: terminal-safe strings, display
 * widths, times, ages, sizes, and the command line's numbers and
 * durations.
 */
#ifndef RG_CTL_TEXT_H
#define RG_CTL_TEXT_H

#include <stddef.h>
#include <stdint.h>

#define TEXT_TIME_MAX 24	/* "2026-11-22 15:32" and a NUL, with room */
#define TEXT_AGE_MAX 16		/* "12d23h" */
#define TEXT_SIZE_MAX 16	/* "1023.9M" */
#define TEXT_DURATION_MAX_S (366u * 86400u)	/* --for at most a year */

size_t text_clean(const char *in, size_t inlen, char *out, size_t outlen);
size_t text_clean_line(const char *in, size_t inlen, char *out,
		       size_t outlen);
size_t text_width(const char *s);
size_t text_cut(const char *s, size_t cols);

void text_time(uint32_t t, char *buf, size_t len);
/* one when n is 1, else many: "1 country", "2 countries" */
const char *text_plural(uint64_t n, const char *one, const char *many);
void text_age(uint32_t now, uint32_t t, char *buf, size_t len);
void text_left(uint32_t now, uint32_t until, char *buf, size_t len);
void text_size(uint64_t bytes, char *buf, size_t len);

int text_duration(const char *s, uint32_t *secs, char *err, size_t errlen);
int text_uint(const char *s, uint64_t max, uint64_t *out);

#endif
