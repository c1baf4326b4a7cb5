#include "cli/output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/mem.h"

void sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

void error_msg(const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sanitize(buf);
	fprintf(stderr, "keel: %s\n", buf);
}

int finish_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		error_msg("cannot write the output");
		return 1;
	}
	return 0;
}

int print_json(json_t *j)
{
	if (!j)
		return finish_stdout();
	if (json_dumpf(j, stdout, JSON_INDENT(2)) == 0)
		putchar('\n');
	return finish_stdout();
}

struct table {
	int ncols, nrows, cap;
	char **cells; /* nrows * ncols */
	bool *right;
};

struct table *table_new(int ncols)
{
	struct table *t = xmalloc(sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = xmalloc((size_t)ncols * sizeof(bool));
	memset(t->right, 0, (size_t)ncols * sizeof(bool));
	return t;
}

void table_align_right(struct table *t, int col)
{
	t->right[col] = true;
}

/* a new row's cells, to be set with set_cell */
static char **new_row(struct table *t)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, (size_t)t->cap * (size_t)t->ncols * sizeof(char *));
	}
	return &t->cells[t->nrows++ * t->ncols];
}

/* takes s (malloc'd) */
static void set_cell(char **cell, char *s)
{
	if (!*s) {
		free(s);
		s = xstrdup("-");
	}
	sanitize(s);
	*cell = s;
}

void table_add(struct table *t, ...)
{
	char **row = new_row(t);
	va_list ap;
	va_start(ap, t);
	for (int c = 0; c < t->ncols; c++) {
		const char *s = va_arg(ap, const char *);
		set_cell(&row[c], xstrdup(s ? s : ""));
	}
	va_end(ap);
}

/* display width: UTF-8 code points */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void table_print(struct table *t)
{
	int *w = xmalloc((size_t)t->ncols * sizeof(int));
	for (int c = 0; c < t->ncols; c++) {
		w[c] = 0;
		for (int r = 0; r < t->nrows; r++) {
			int cw = width(t->cells[r * t->ncols + c]);
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			int pad = w[c] - width(s);
			bool last = c == t->ncols - 1;
			if (t->right[c])
				printf("%*s", pad, "");
			fputs(s, stdout);
			if (!last && !t->right[c])
				printf("%*s", pad, "");
			fputs(last ? "\n" : "  ", stdout);
		}
	}
	for (int i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->right);
	free(w);
	free(t);
}

static void put_text(FILE *f, json_t *v)
{
	size_t i;
	json_t *item;
	switch (json_typeof(v)) {
	case JSON_STRING:
		fputs(json_string_value(v), f);
		break;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(f, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		fputs(json_is_true(v) ? "yes" : "no", f);
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, item)
		{
			if (i)
				fputs(", ", f);
			put_text(f, item);
		}
		break;
	default:
		break;
	}
}

char *json_text(json_t *v, const char *none)
{
	if (!v || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0))
		return xstrdup(none ? none : "-");
	char *out = NULL;
	size_t size = 0;
	FILE *f = xcheck(open_memstream(&out, &size));
	put_text(f, v);
	if (fclose(f) != 0)
		out = xcheck(NULL);
	return out;
}

void table_objects(json_t *objects, const struct column *cols, int ncols)
{
	struct table *t = table_new(ncols);
	char **row = new_row(t);
	for (int c = 0; c < ncols; c++) {
		set_cell(&row[c], xstrdup(cols[c].header));
		t->right[c] = cols[c].right;
	}
	size_t i;
	json_t *o;
	json_array_foreach(objects, i, o)
	{
		row = new_row(t);
		for (int c = 0; c < ncols; c++)
			set_cell(&row[c], json_text(json_object_get(o, cols[c].key), cols[c].none));
	}
	table_print(t);
}

void table_fields(json_t *object, const struct column *cols, int ncols)
{
	struct table *t = table_new(2);
	for (int c = 0; c < ncols; c++) {
		char **row = new_row(t);
		set_cell(&row[0], xstrdup(cols[c].header));
		set_cell(&row[1], json_text(json_object_get(object, cols[c].key), cols[c].none));
	}
	table_print(t);
}

const char *fmt_size(char buf[SIZE_LEN], long long bytes)
{
	static const char units[] = "BKMGTPE";
	int u = 0;
	long long div = 1;
	while (u < 6 && bytes / div >= 1024) {
		div *= 1024;
		u++;
	}
	if (bytes % div == 0 || bytes / div >= 100)
		snprintf(buf, SIZE_LEN, "%lld%c", (bytes + div / 2) / div, units[u]);
	else
		snprintf(buf, SIZE_LEN, "%.1f%c", (double)bytes / (double)div, units[u]);
	return buf;
}

const char *fmt_duration(char buf[32], double seconds)
{
	long long s = (long long)seconds;
	long long d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60;
	if (d)
		snprintf(buf, 32, "%lldd %lldh %lldm", d, h, m);
	else if (h)
		snprintf(buf, 32, "%lldh %lldm", h, m);
	else if (m)
		snprintf(buf, 32, "%lldm %llds", m, s % 60);
	else
		snprintf(buf, 32, "%.1fs", seconds);
	return buf;
}

const char *fmt_time(char buf[32], long long epoch)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	if (!localtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, 32, "%lld", epoch);
	return buf;
}

const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? json_integer_value(v) : (long long)json_number_value(v);
}

double jnum(json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

bool jbool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

int print_result(int json, json_t *resp, const char *fmt, ...)
{
	if (json)
		return print_json(resp);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return finish_stdout();
}

int print_answer(int json, int rc, json_t *answer, void (*print)(json_t *answer))
{
	if (rc == 0 && json)
		rc = print_json(answer);
	else if (rc == 0) {
		print(answer);
		rc = finish_stdout();
	}
	json_decref(answer);
	return rc;
}
