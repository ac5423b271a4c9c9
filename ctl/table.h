/*
 * table - aligned text tables for a terminal, fitted to a width.
 */
#ifndef RG_CTL_TABLE_H
#define RG_CTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#define TABLE_WIDTH 80		/* what a table is fitted to */
#define TABLE_GAP 2		/* spaces between columns */
#define TABLE_CUT "..."		/* marks a cell cut to fit */

enum table_align { TABLE_LEFT = 0, TABLE_RIGHT };

struct table_col {
    const char *head;		/* heading (trusted text) */
    enum table_align align;
    unsigned flex;		/* 1: may be cut to fit the width */
    unsigned min;		/* a flexible column keeps this much (0: 6) */
    unsigned max;		/* never wider than this (0: no limit) */
};

struct table;

struct table *table_new(const struct table_col *cols, size_t ncols);
void table_free(struct table *t);
void table_no_heading(struct table *t);
void table_wrap(struct table *t);
int table_add(struct table *t, const char *const *cells);
size_t table_rows(const struct table *t);
int table_layout(const struct table *t, size_t width, unsigned *w);
int table_print(const struct table *t, FILE *out, size_t width);

#endif
