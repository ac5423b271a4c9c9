/*
 * json - a tiny streaming JSON writer: one compact document per line.
 */
#ifndef RG_CTL_JSON_H
#define RG_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

struct json {
    FILE *out;
    int depth;			/* open containers */
    bool need_comma[JSON_DEPTH_MAX + 1];
    bool after_key;		/* a key was written, its value comes next */
    bool broken;		/* misuse (depth, key outside object) */
    bool is_obj[JSON_DEPTH_MAX + 1];
};

void json_init(struct json *j, FILE *out);
int json_finish(struct json *j);

void json_obj(struct json *j);
void json_obj_end(struct json *j);
void json_arr(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t len);
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* key and value in one call, inside an object */
void json_kstr(struct json *j, const char *key, const char *s);
void json_kuint(struct json *j, const char *key, uint64_t v);
void json_kint(struct json *j, const char *key, int64_t v);
void json_kbool(struct json *j, const char *key, bool v);

size_t json_escape(const char *s, size_t len, char *out, size_t outlen);

#endif
