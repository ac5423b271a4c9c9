/*
 * errbuf - the caller's error buffer (char *err, size_t errlen) that
 * modules fill instead of logging: one formatter for all of them.
 */
#ifndef RG_ERRBUF_H
#define RG_ERRBUF_H

#include <stddef.h>

/* Format a message into err; nothing when err is NULL or errlen 0. */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
