/* keel datastore ls | mkdisk | mkdir | rm | cp | grow */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/output.h"

/* POST /api/v1/datastores/DS/ACTION with body (consumed) */
static int post(struct cli *cli, const char *ds, const char *action, json_t *body, json_t **resp)
{
	*resp = NULL;
	if (!body) {
		error_msg("paths must be UTF-8 text");
		return EXIT_USAGE;
	}
	char *path = api_pathf("/api/v1/datastores/%s/%s", ds, action);
	int rc = api_json(cli->api, "POST", path, body, resp);
	free(path);
	json_decref(body);
	return rc;
}

static void list_datastores(json_t *r)
{
	struct table *t = table_new(5);
	for (int c = 1; c <= 3; c++)
		table_align_right(t, c);
	table_add(t, "NAME", "CAPACITY", "FREE", "USED", "PATH");
	size_t i;
	json_t *d;
	json_array_foreach(json_object_get(r, "datastores"), i, d)
	{
		long long cap = jint(d, "capacity_bytes"), free_b = jint(d, "free_bytes");
		char c[SIZE_LEN], f[SIZE_LEN], used[8];
		snprintf(used, sizeof(used), "%d%%",
			 cap > 0 ? (int)((cap - free_b) * 100.0 / (double)cap + 0.5) : 0);
		table_add(t, jstr(d, "name"), fmt_size(c, cap), fmt_size(f, free_b), used,
			  jstr(d, "path"));
	}
	table_print(t);
}

static void add_entry(struct table *t, json_t *e, const char *name)
{
	char size[SIZE_LEN], alloc[SIZE_LEN], mtime[32];
	bool dir = strcmp(jstr(e, "type"), "dir") == 0;
	bool sized = json_object_get(e, "size") && !dir;
	table_add(t, name, jstr(e, "type"), sized ? fmt_size(size, jint(e, "size")) : NULL,
		  sized ? fmt_size(alloc, jint(e, "allocated")) : NULL,
		  json_object_get(e, "mtime") ? fmt_time(mtime, jint(e, "mtime")) : NULL);
}

static void list_entries(json_t *r)
{
	struct table *t = table_new(5);
	table_align_right(t, 2);
	table_align_right(t, 3);
	table_add(t, "NAME", "TYPE", "SIZE", "ALLOCATED", "MODIFIED");
	if (strcmp(jstr(r, "type"), "dir") == 0) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(r, "entries"), i, e)
		    add_entry(t, e, jstr(e, "name"));
	} else {
		add_entry(t, r, jstr(r, "path"));
	}
	table_print(t);
}

int cmd_ds_ls(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 1);
	if (rc)
		return rc;
	bool all = argc == optind;
	struct dspath d;
	char *path;
	if (all)
		path = api_pathf("/api/v1/datastores");
	else if (parse_dspath(argv[optind], &d, false) == 0)
		path = api_pathf("/api/v1/datastores/%s/browse/%p", d.ds, d.path);
	else
		return EXIT_USAGE;
	json_t *r = NULL;
	rc = api_json(cli->api, "GET", path, NULL, &r);
	free(path);
	if (rc == 0 && cli->json)
		rc = print_json(r);
	else if (rc == 0) {
		if (all)
			list_datastores(r);
		else
			list_entries(r);
		rc = finish_stdout();
	}
	json_decref(r);
	return rc;
}

/* DS/PATH SIZE: mkdisk and grow */
static int sized(struct cli *cli, int argc, char **argv, const char *action, const char *what)
{
	struct dspath d;
	long long mib;
	int rc = args_simple(argc, argv, 2, 2);
	if (rc == 0 && (parse_dspath(argv[optind], &d, true) < 0 ||
			arg_size("SIZE", argv[optind + 1], &mib) < 0))
		rc = EXIT_USAGE;
	json_t *r = NULL;
	char size[SIZE_LEN];
	if (rc == 0)
		rc = post(cli, d.ds, action,
			  json_pack("{s:s, s:I}", "path", d.path, "size_mib", (json_int_t)mib), &r);
	if (rc == 0)
		rc = print_result(cli->json, r, "%s %s (%s)", jstr(r, "path"), what,
				  fmt_size(size, jint(r, "size")));
	json_decref(r);
	return rc;
}

int cmd_ds_mkdisk(struct cli *cli, int argc, char **argv)
{
	return sized(cli, argc, argv, "disks", "created, sparse");
}

int cmd_ds_grow(struct cli *cli, int argc, char **argv)
{
	return sized(cli, argc, argv, "grow", "grown");
}

int cmd_ds_mkdir(struct cli *cli, int argc, char **argv)
{
	struct dspath d;
	int rc = args_simple(argc, argv, 1, 1);
	if (rc == 0 && parse_dspath(argv[optind], &d, true) < 0)
		rc = EXIT_USAGE;
	json_t *r = NULL;
	if (rc == 0)
		rc = post(cli, d.ds, "folders", json_pack("{s:s}", "path", d.path), &r);
	if (rc == 0)
		rc = print_result(cli->json, r, "%s created", jstr(r, "path"));
	json_decref(r);
	return rc;
}

int cmd_ds_rm(struct cli *cli, int argc, char **argv)
{
	struct dspath d;
	int rc = args_simple(argc, argv, 1, 1);
	if (rc == 0 && parse_dspath(argv[optind], &d, true) < 0)
		rc = EXIT_USAGE;
	if (rc)
		return rc;
	char *path = api_pathf("/api/v1/datastores/%s/files/%p", d.ds, d.path);
	rc = api_json(cli->api, "DELETE", path, NULL, NULL);
	free(path);
	if (rc == 0)
		rc = print_result(cli->json, NULL, "%s/%s removed", d.ds, d.path);
	return rc;
}

int cmd_ds_cp(struct cli *cli, int argc, char **argv)
{
	struct dspath src, dst;
	int rc = args_simple(argc, argv, 2, 2);
	if (rc == 0 && (parse_dspath(argv[optind], &src, true) < 0 ||
			parse_dspath(argv[optind + 1], &dst, true) < 0))
		rc = EXIT_USAGE;
	if (rc == 0 && strcmp(src.ds, dst.ds) != 0) {
		error_msg("cp copies within one datastore (%s is not %s)", src.ds, dst.ds);
		rc = EXIT_USAGE;
	}
	json_t *r = NULL;
	char size[SIZE_LEN];
	if (rc == 0)
		rc = post(cli, src.ds, "copy",
			  json_pack("{s:s, s:s}", "source", src.path, "destination", dst.path), &r);
	if (rc == 0)
		rc = print_result(cli->json, r, "%s created (%s, %s)", jstr(r, "path"),
				  fmt_size(size, jint(r, "size")),
				  jbool(r, "reflink") ? "reflink" : "copy");
	json_decref(r);
	return rc;
}
