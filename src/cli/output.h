/* What the CLI prints: messages, the API's JSON (--json), aligned tables and
 * human-readable sizes, durations and times. */
#ifndef KEEL_CLI_OUTPUT_H
#define KEEL_CLI_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>

/* "keel: MESSAGE\n" on stderr, control characters replaced. */
void error_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The JSON pretty-printed (indent 2) on stdout; nothing for NULL (a 204).
 * Returns 0, or 1 if stdout failed. */
int print_json(json_t *j);

/* Flushes stdout; returns 0, or 1 with a message if writing failed. */
int finish_stdout(void);

/* A command's answer: the API's JSON with --json (json set), else one line
 * for people made from fmt. Returns the exit code. */
int print_result(int json, json_t *resp, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The answer of a call that returned rc: nothing unless rc is 0, then the
 * API's JSON with --json (json set), else print(answer). Frees the answer;
 * returns the exit code (rc if not 0). */
int print_answer(int json, int rc, json_t *answer, void (*print)(json_t *answer));

/* Replaces control characters (from the host, say) with '?', in place. */
void sanitize(char *s);

/* Tables: rows of ncols cells (the first row is the header, if any), each
 * column as wide as its widest cell, two spaces apart. table_print prints
 * and frees. */
struct table;
struct table *table_new(int ncols);
void table_align_right(struct table *t, int col);
/* ncols strings (copied; NULL or "" prints "-") */
void table_add(struct table *t, ...);
void table_print(struct table *t);

/* A JSON value as text (malloc'd): a string as it is, a number in decimal,
 * true and false as yes and no, an array as its items' texts joined by
 * ", "; null, absent (NULL) or an empty array as `none`. */
char *json_text(json_t *v, const char *none);

/* Tables of API objects: each column (or line) shows the object's member
 * `key` as json_text, with `none` for null (NULL: "-"). */
struct column {
	const char *header, *key, *none;
	bool right; /* aligned right (numbers) */
};
/* A header row, then a row for each object of the array; prints. */
void table_objects(json_t *objects, const struct column *cols, int ncols);
/* One object as "header  value" lines; prints. */
void table_fields(json_t *object, const struct column *cols, int ncols);

/* Sizes as in `ls -h`: 512B, 4K, 7.7M, 13G (SIZE_LEN bytes at most). */
#define SIZE_LEN 24
const char *fmt_size(char buf[SIZE_LEN], long long bytes);
/* 95.2 -> "1m 35s", 90061 -> "1d 1h 1m" */
const char *fmt_duration(char buf[32], double seconds);
/* local time, "2026-11-24 18:30" */
const char *fmt_time(char buf[32], long long epoch);

/* Members of an API object, with defaults when absent. */
const char *jstr(json_t *o, const char *key);
long long jint(json_t *o, const char *key);
double jnum(json_t *o, const char *key);
bool jbool(json_t *o, const char *key);

#endif
