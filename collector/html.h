/*
 * html - the static HTML report of one analysis: summary of flags, per
 * flagged host the two existence plots of the US-CERT slides (dport
 * inbound, sport outbound; inline SVG), its external clients and servers
 * and its history, and seed 000's "local mail clients" table.
 *
 * Contract: self-contained (no scripts, fonts or images from outside),
 * readable at 1280 px and printable. The file is written whole to a
 * temporary name and renamed. 0, or -1 with err filled.
 */
#ifndef RG_HTML_H
#define RG_HTML_H

#include <stddef.h>

#include "collect.h"

#define HTML_PLOT_W 520	/* plot area, pixels */
#define HTML_PLOT_H 256
#define HTML_BINS_MAX 260

int html_write(const struct coll *c, const char *path, char *err, size_t errlen);
/* The plot's row of a port: reserved ports get the lower half. */
int html_port_row(unsigned port);

#endif
