/* keel role list | show | create | set | delete, keel privilege list and
 * keel permission list | set | remove */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/mem.h"
#include "cli/output.h"

int cmd_role_list(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "GET", "/api/v1/roles", NULL, &r);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	struct table *t = table_new(3);
	table_add(t, "NAME", "BUILTIN", "PRIVILEGES");
	size_t i;
	json_t *role;
	json_array_foreach(json_object_get(r, "roles"), i, role)
	{
		char *privs = json_text(json_object_get(role, "privileges"), NULL);
		table_add(t, jstr(role, "name"), jbool(role, "builtin") ? "yes" : "no", privs);
		free(privs);
	}
	table_print(t);
	json_decref(r);
	return finish_stdout();
}

int cmd_role_show(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	char *path = api_pathf("/api/v1/roles/%s", argv[optind]);
	json_t *role = NULL;
	rc = api_json(cli->api, "GET", path, NULL, &role);
	free(path);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(role);
		json_decref(role);
		return rc;
	}
	struct table *t = table_new(2);
	table_add(t, "name", jstr(role, "name"));
	table_add(t, "builtin", jbool(role, "builtin") ? "yes" : "no");
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(role, "privileges"), i, p)
	    table_add(t, "privilege", json_string_value(p));
	if (i == 0)
		table_add(t, "privilege", "none");
	table_print(t);
	json_decref(role);
	return finish_stdout();
}

/* NAME PRIVILEGE...: POST /api/v1/roles, or PATCH /api/v1/roles/NAME */
static int role_put(struct cli *cli, int argc, char **argv, bool create)
{
	int rc = args_simple(argc, argv, 2, argc);
	if (rc)
		return rc;
	const char *name = argv[optind];
	json_t *privs = json_array();
	for (int i = optind + 1; i < argc; i++) {
		if (json_array_append_new(privs, json_string(argv[i])) < 0) {
			error_msg("'%s' is not UTF-8 text", argv[i]);
			json_decref(privs);
			return EXIT_USAGE;
		}
	}
	json_t *body = create ? json_pack("{s:s, s:o}", "name", name, "privileges", privs)
			      : json_pack("{s:o}", "privileges", privs);
	if (!body) {
		error_msg("'%s' is not UTF-8 text", name);
		return EXIT_USAGE;
	}
	char *path = create ? api_pathf("/api/v1/roles") : api_pathf("/api/v1/roles/%s", name);
	json_t *r = NULL;
	rc = api_json(cli->api, create ? "POST" : "PATCH", path, body, &r);
	free(path);
	json_decref(body);
	if (rc == 0) {
		char *text = json_text(json_object_get(r, "privileges"), "none");
		rc = print_result(cli->json, r, "role %s %s: %s", jstr(r, "name"),
				  create ? "created" : "changed", text);
		free(text);
	}
	json_decref(r);
	return rc;
}

int cmd_role_create(struct cli *cli, int argc, char **argv)
{
	return role_put(cli, argc, argv, true);
}

int cmd_role_set(struct cli *cli, int argc, char **argv)
{
	return role_put(cli, argc, argv, false);
}

int cmd_role_delete(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 1, 1);
	if (rc)
		return rc;
	char *path = api_pathf("/api/v1/roles/%s", argv[optind]);
	rc = api_json(cli->api, "DELETE", path, NULL, NULL);
	free(path);
	if (rc == 0)
		rc = print_result(cli->json, NULL, "role %s deleted", argv[optind]);
	return rc;
}

int cmd_privilege_list(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "GET", "/api/v1/privileges", NULL, &r);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	struct table *t = table_new(2);
	table_add(t, "NAME", "DESCRIPTION");
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(r, "privileges"), i, p)
	    table_add(t, jstr(p, "name"), jstr(p, "description"));
	table_print(t);
	json_decref(r);
	return finish_stdout();
}

int cmd_permission_list(struct cli *cli, int argc, char **argv)
{
	int rc = args_simple(argc, argv, 0, 0);
	json_t *r = NULL;
	if (rc == 0)
		rc = api_json(cli->api, "GET", "/api/v1/permissions", NULL, &r);
	if (rc || cli->json) {
		rc = rc ? rc : print_json(r);
		json_decref(r);
		return rc;
	}
	struct table *t = table_new(3);
	table_add(t, "USER", "ENTITY", "ROLE");
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(r, "permissions"), i, p)
	    table_add(t, jstr(p, "user"), jstr(p, "entity"), jstr(p, "role"));
	table_print(t);
	json_decref(r);
	return finish_stdout();
}

/* the options of permission set and remove: [--vm NAME]; returns 0,
 * EXIT_HELP or EXIT_USAGE, and *vm (NULL: the host) */
static int entity_option(int argc, char **argv, int min, int max, const char **vm)
{
	static const struct option opts[] = {
	    {"vm", required_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c;
	*vm = NULL;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c != 'v')
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
		if (!*optarg) {
			error_msg("--vm: the VM's name is empty");
			return EXIT_USAGE;
		}
		*vm = optarg;
	}
	return args_count(argc, argv, min, max);
}

int cmd_permission_set(struct cli *cli, int argc, char **argv)
{
	const char *vm;
	int rc = entity_option(argc, argv, 2, 2, &vm);
	if (rc)
		return rc;
	const char *user = argv[optind], *role = argv[optind + 1];
	char *entity = vm ? xasprintf("vm/%s", vm) : xstrdup("host");
	json_t *body = json_pack("{s:s, s:s, s:s}", "user", user, "entity", entity, "role", role);
	free(entity);
	if (!body) {
		error_msg("the user, role and VM names must be UTF-8 text");
		return EXIT_USAGE;
	}
	json_t *r = NULL;
	rc = api_json(cli->api, "PUT", "/api/v1/permissions", body, &r);
	json_decref(body);
	if (rc == 0)
		rc = print_result(cli->json, r, "%s: %s on %s", jstr(r, "user"), jstr(r, "role"),
				  jstr(r, "entity"));
	json_decref(r);
	return rc;
}

int cmd_permission_remove(struct cli *cli, int argc, char **argv)
{
	const char *vm;
	int rc = entity_option(argc, argv, 1, 1, &vm);
	if (rc)
		return rc;
	const char *user = argv[optind];
	char *path = vm ? api_pathf("/api/v1/permissions/%s?entity=vm/%s", user, vm)
			: api_pathf("/api/v1/permissions/%s?entity=host", user);
	rc = api_json(cli->api, "DELETE", path, NULL, NULL);
	free(path);
	if (rc == 0 && vm)
		rc = print_result(cli->json, NULL, "%s: permission on vm/%s removed", user, vm);
	else if (rc == 0)
		rc = print_result(cli->json, NULL, "%s: permission on host removed", user);
	return rc;
}
