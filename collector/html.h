/*
 * html - the static HTML report of one analysis: summary of flags, per
 * flagged host the two existence plots of the US-CERT slides (dport
 * inbound, sport outbound; inline SVG), its external clients and servers
 * and its history, and seed 000's "local mail clients" table; from the
 * event side, the incidents and a timeline per login in them.
 *
 * Contract: self-contained (no scripts, fonts or images from outside),
 * readable at 1280 px and printable. The file is written whole to a
 * temporary name and renamed. 0, or -1 with err filled.
 */
#ifndef RG_HTML_H
#define RG_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "collect.h"

#define HTML_PLOT_W 520	/* plot area, pixels */
#define HTML_PLOT_H 256
#define HTML_BINS_MAX 260

int html_write(const struct coll *c, const char *path, char *err, size_t errlen);
/* Text for HTML: UTF-8 kept, markup characters as entities, control,
 * bidi and zero-width characters as "[U+XXXX]", invalid bytes as U+FFFD. */
void html_esc(FILE *fp, const char *s);
/* The incidents and the timeline of each login in them (html_inc.c). */
void html_incidents(FILE *fp, struct hist *h);
/* The plot's row of a port: reserved ports get the lower half. */
int html_port_row(unsigned port);

#endif
