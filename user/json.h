/* SPDX-License-Identifier: GPL-2.0 */
/* A small streaming JSON writer: commas and nesting are tracked for the caller. */
#ifndef MT_JSON_H
#define MT_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "stats.h"

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	int count[JSON_MAX_DEPTH]; /* members written at each level */
};

void json_init(struct json *j, FILE *f);
void json_begin_object(struct json *j, const char *key);
void json_end_object(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
void json_string(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, int64_t value);
void json_uint(struct json *j, const char *key, uint64_t value);
void json_double(struct json *j, const char *key, double value);
void json_null(struct json *j, const char *key);
/* {n, min, median, mean, max, stddev} under key. */
void json_stats(struct json *j, const char *key, const struct stats *st);
/* Writes s as a JSON string literal, quotes included. */
void json_write_string(FILE *f, const char *s);

#endif
