/* keel vm console NAME [--bytes N] [--follow] [--raw]
 *
 * The guest's output is hostile: it goes through termfilter (escape
 * sequences removed, other control characters shown as '?') unless --raw.
 *
 * The API gives the tail of the console log, not an offset in it, so
 * --follow fetches a window of the tail every second and prints what lies
 * beyond the longest overlap between the previous window's end and the new
 * one's start. (Output that exactly repeats the whole window cannot be told
 * apart from no output.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/interrupt.h"
#include "cli/output.h"
#include "cli/termfilter.h"

#define DEFAULT_BYTES 65536   /* the API's default */
#define MAX_BYTES     1048576 /* the API's maximum */
#define FOLLOW_S      1.0

/* how many bytes at the start of cur were the end of prev */
static size_t overlap(const char *prev, size_t plen, const char *cur, size_t clen)
{
	for (size_t d = 0; d < plen; d++) {
		size_t k = plen - d;
		if (k <= clen && memcmp(prev + d, cur, k) == 0)
			return k;
	}
	return 0;
}

/* Writes console text: through the filter, or as it is when filter is NULL
 * (--raw). */
static int put(struct termfilter *filter, const char *p, size_t n)
{
	if (!filter) {
		fwrite(p, 1, n, stdout);
		return finish_stdout();
	}
	char buf[4096 + 4];
	while (n > 0) {
		size_t k = n < 4096 ? n : 4096;
		fwrite(buf, 1, termfilter_run(filter, p, k, buf), stdout);
		p += k;
		n -= k;
	}
	return finish_stdout();
}

/* The end of the text: what the filter held back. */
static int put_end(struct termfilter *filter)
{
	char buf[4];
	if (filter)
		fwrite(buf, 1, termfilter_end(filter, buf), stdout);
	return finish_stdout();
}

static int follow(struct cli *cli, const char *path, long long bytes, struct termfilter *filter)
{
	char *prev = NULL, *cur = NULL;
	size_t plen = 0, clen = 0;
	int rc = api_text(cli->api, path, &prev, &plen);
	if (rc == 0)
		rc = put(filter, prev + (plen > (size_t)bytes ? plen - (size_t)bytes : 0),
			 plen > (size_t)bytes ? (size_t)bytes : plen);
	while (rc == 0 && interrupt_sleep(FOLLOW_S)) {
		rc = api_text(cli->api, path, &cur, &clen);
		if (rc)
			break;
		size_t seen = overlap(prev, plen, cur, clen);
		rc = put(filter, cur + seen, clen - seen);
		free(prev);
		prev = cur;
		plen = clen;
		cur = NULL;
	}
	free(prev);
	free(cur);
	if (rc == 0 || interrupted())
		put_end(filter);
	return rc && interrupted() ? 0 : rc; /* Ctrl-C is how --follow ends */
}

int cmd_vm_console(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"bytes", required_argument, NULL, 'b'},
					     {"follow", no_argument, NULL, 'f'},
					     {"raw", no_argument, NULL, 'r'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	long long bytes = 0;
	bool follow_it = false, raw = false;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "fh", opts)) != -1) {
		if (c == 'f')
			follow_it = true;
		else if (c == 'r')
			raw = true;
		else if (c != 'b' || arg_uint("--bytes", optarg, 1, MAX_BYTES, &bytes) < 0)
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	int rc = args_count(argc, argv, 1, 1);
	if (rc)
		return rc;
	const char *name = argv[optind];
	/* --follow always fetches at least the default window, to see far back
	 * enough for the overlap */
	long long window = follow_it && bytes < DEFAULT_BYTES ? DEFAULT_BYTES : bytes;
	char n[24];
	snprintf(n, sizeof(n), "%lld", window);
	char *path = api_pathf(
	    window ? "/api/v1/vms/%s/console?bytes=%s" : "/api/v1/vms/%s/console", name, n);
	struct termfilter tf;
	termfilter_init(&tf);
	struct termfilter *filter = raw ? NULL : &tf;
	if (follow_it) {
		rc = follow(cli, path, bytes ? bytes : DEFAULT_BYTES, filter);
	} else {
		char *text = NULL;
		size_t len = 0;
		rc = api_text(cli->api, path, &text, &len);
		if (rc == 0)
			rc = put(filter, text, len);
		if (rc == 0)
			rc = put_end(filter);
		free(text);
	}
	free(path);
	return rc;
}
