/*
 * errbuf - fill a caller's error buffer. Modules return a status and
 * leave the detail in (err, errlen); the buffer may be absent (NULL or
 * size 0), and the text is cut to fit, always NUL-terminated.
 */
#include <stdarg.h>
#include <stdio.h>

#include "errbuf.h"

/* errbuf_set - format a message into the caller's buffer, if any */
void errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
	return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
