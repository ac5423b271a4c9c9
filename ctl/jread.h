/*
 * jread - a small, strict JSON reader for the MTA tools' output
 * (postqueue -j: one object per line).
 */
#ifndef RG_CTL_JREAD_H
#define RG_CTL_JREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JREAD_DEPTH_MAX 32
#define JREAD_NODES_MAX 100000	/* per document */

enum jread_type { JREAD_NULL, JREAD_BOOL, JREAD_NUM, JREAD_STR, JREAD_ARR,
    JREAD_OBJ };

struct jread_val {
    enum jread_type type;
    char *key;			/* member name inside an object, else NULL */
    char *str;			/* JREAD_STR: UTF-8, NUL-terminated */
    size_t len;
    int64_t inum;		/* JREAD_NUM with is_int */
    double num;			/* JREAD_NUM */
    bool is_int;
    bool b;			/* JREAD_BOOL */
    struct jread_val *child;	/* first element or member */
    struct jread_val *next;	/* next sibling */
};

struct jread_val *jread_parse(const char *text, size_t len, char *err,
			      size_t errlen);
void jread_free(struct jread_val *v);
const struct jread_val *jread_get(const struct jread_val *obj,
				  const char *key);
const char *jread_str(const struct jread_val *obj, const char *key);
int jread_int(const struct jread_val *obj, const char *key, int64_t *out);

#endif
