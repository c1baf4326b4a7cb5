/* keel host logs [NAME [--lines N | --since TIME] [--follow]]
 *
 * Without a name, the logs the user may read. With one, its last lines
 * (or those since a time); --follow then asks every second for what
 * follows the cursor of the last answer (X-Keel-Log-Next, docs/api.md), at
 * once while the host says more is waiting (X-Keel-Log-More), so that
 * nothing is missed or printed twice across the host's rotations. Ctrl-C
 * ends it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/interrupt.h"
#include "cli/mem.h"
#include "cli/output.h"

#define LOGS_LINES_MAX 10000 /* the host's limit (docs/api.md) */
#define FOLLOW_S       1.0

static int list_logs(struct cli *cli)
{
	json_t *r = NULL;
	int rc = api_json(cli->api, "GET", "/api/v1/logs", NULL, &r);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	struct table *t = table_new(5);
	table_align_right(t, 1);
	table_align_right(t, 3);
	table_add(t, "NAME", "SIZE", "MODIFIED", "ROTATED", "ROTATED SIZE");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "logs"), i, e)
	{
		char size[SIZE_LEN], old[SIZE_LEN], n[24];
		snprintf(n, sizeof(n), "%lld", jint(e, "rotated"));
		const char *mod = json_string_value(json_object_get(e, "modified"));
		table_add(t, jstr(e, "name"), fmt_size(size, jint(e, "size")), mod ? mod : "-", n,
			  fmt_size(old, jint(e, "rotated_bytes")));
	}
	table_print(t);
	json_decref(r);
	return finish_stdout();
}

static const char *const headers[] = {"X-Keel-Log-Next", "X-Keel-Log-More", "X-Keel-Log-Gap", NULL};

/* Prints one answer; 0, or an exit code. */
static int fetch(struct cli *cli, const char *path, char (*values)[128])
{
	char *text = NULL;
	size_t len = 0;
	int rc = api_text_headers(cli->api, path, &text, &len, headers, values);
	if (rc == 0 && strcmp(values[2], "1") == 0)
		error_msg("lines were lost here: rotated away before they could be read");
	if (rc == 0 && len && fwrite(text, 1, len, stdout) != len)
		rc = EXIT_FAIL;
	if (rc == 0 && fflush(stdout) != 0)
		rc = EXIT_FAIL;
	free(text);
	return rc;
}

int cmd_host_logs(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"lines", required_argument, NULL, 'n'},
					     {"since", required_argument, NULL, 's'},
					     {"follow", no_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	long long lines = 0;
	const char *since = NULL;
	bool follow = false;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "hfn:", opts)) != -1) {
		if (c == 'n' && arg_uint("--lines", optarg, 1, LOGS_LINES_MAX, &lines) == 0)
			continue;
		if (c == 's') {
			since = optarg;
			continue;
		}
		if (c == 'f') {
			follow = true;
			continue;
		}
		return c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	int rc = args_count(argc, argv, 0, 1);
	if (rc)
		return rc;
	if (optind == argc) {
		if (lines || since || follow) {
			error_msg("--lines, --since and --follow need a log's name");
			return EXIT_USAGE;
		}
		return list_logs(cli);
	}
	if (lines && since) {
		error_msg("--lines or --since, not both");
		return EXIT_USAGE;
	}
	const char *name = argv[optind];
	char n[24];
	snprintf(n, sizeof(n), "%lld", lines ? lines : 100);
	char *path = since ? api_pathf("/api/v1/logs/%s?since=%s", name, since)
			   : api_pathf("/api/v1/logs/%s?lines=%s", name, n);
	char values[3][128];
	rc = fetch(cli, path, values);
	free(path);
	while (rc == 0 && follow) {
		if (strcmp(values[1], "1") != 0 && !interrupt_sleep(FOLLOW_S))
			break;
		char cursor[128];
		memcpy(cursor, values[0], sizeof(cursor));
		if (!cursor[0]) {
			error_msg("the host gave no cursor to follow the log with");
			return EXIT_FAIL;
		}
		path = api_pathf("/api/v1/logs/%s?after=%s", name, cursor);
		rc = fetch(cli, path, values);
		free(path);
	}
	return rc && interrupted() ? 0 : rc; /* Ctrl-C is how --follow ends */
}
