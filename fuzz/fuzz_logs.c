/* libFuzzer target: keel-hostd's log reader (src/hostd/logs.c) on hostile
 * query values (lines, since, after) and on log files of any content,
 * split into a current and a rotated file, read by the last lines, since
 * a time and after a cursor: every answer is within its size, made of
 * whole lines, and its cursor leads on without repeating them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostd/logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put(const char *dir, const char *name, const uint8_t *data, size_t n)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0)
		abort();
}

static void check(const struct logs_answer *a, size_t max)
{
	if (a->len > max)
		abort();
	/* whole lines, but for one line longer than a whole answer */
	if (a->len && a->text[a->len - 1] != '\n' && a->len < max)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[64];
	if (!dir[0]) {
		strcpy(dir, "/tmp/keel-fuzz-logs-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	if (size < 3)
		return 0;
	/* the query values: the input as text */
	char text[256], err[256];
	size_t n = size - 3 < sizeof(text) - 1 ? size - 3 : sizeof(text) - 1;
	memcpy(text, data + 3, n);
	text[n] = '\0';
	unsigned lines;
	int64_t us;
	struct logs_cursor c;
	if (logs_parse_lines(text, &lines, err, sizeof(err)) == 0 &&
	    (lines < 1 || lines > LOGS_LINES_MAX))
		abort();
	logs_parse_time(text, &us, err, sizeof(err));
	int parsed = logs_parse_cursor(text, &c, err, sizeof(err)) == 0;
	logs_line_time((const char *)data, size, &us);
	/* the files: hostd.log.1 the first `split` bytes, hostd.log the rest */
	size_t split = (size_t)data[0] * 4 < size - 3 ? (size_t)data[0] * 4 : size - 3;
	put(dir, "hostd.log.1", data + 3, split);
	put(dir, "hostd.log", data + 3 + split, size - 3 - split);
	size_t hostd = (size_t)logs_find("hostd"), max = 64 + data[2];
	struct logs_answer a;
	struct logs_query q = {.mode = LOGS_TAIL, .lines = 1 + data[1] % 16, .max = max};
	if (logs_read(dir, hostd, &q, &a, err, sizeof(err)) == 0) {
		check(&a, max);
		free(a.text);
	}
	q = (struct logs_query){.mode = LOGS_SINCE, .since_us = 1796300000LL * 1000000, .max = max};
	if (logs_read(dir, hostd, &q, &a, err, sizeof(err)) == 0) {
		check(&a, max);
		free(a.text);
	}
	/* from the beginning, cursor after cursor: the whole of both files'
	 * whole lines, each once */
	q = (struct logs_query){.mode = LOGS_AFTER, .max = max};
	size_t total = 0;
	for (int i = 0; i < 4096; i++) {
		if (logs_read(dir, hostd, &q, &a, err, sizeof(err)) < 0)
			break;
		check(&a, max);
		total += a.len;
		free(a.text);
		if (total > size)
			abort(); /* something given twice */
		if (a.len == 0 && !a.more)
			break;
		q.after = a.next;
	}
	if (parsed) { /* any cursor at all */
		q.after = c;
		if (logs_read(dir, hostd, &q, &a, err, sizeof(err)) == 0) {
			check(&a, max);
			free(a.text);
		}
	}
	return 0;
}
