/* keel vm start | stop | reset | kill: POST /api/v1/vms/NAME/power/ACTION */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/interrupt.h"
#include "cli/output.h"

#define STOP_TIMEOUT_S 60 /* the API's default for shutdown */
#define STOP_MARGIN_S  15 /* after it, how long hostd may take to power off */
#define POLL_S	       0.5

static int power(struct cli *cli, const char *name, const char *action, json_t *body, json_t **vm)
{
	char *path = api_pathf("/api/v1/vms/%s/power/%s", name, action);
	int rc = api_json(cli->api, "POST", path, body, vm);
	free(path);
	return rc;
}

/* the VM, or "NAME: STATE" */
static int print_state(struct cli *cli, json_t *vm)
{
	if (cli->json)
		return print_json(vm);
	printf("%s: %s\n", jstr(vm, "name"), jstr(vm, "state"));
	return finish_stdout();
}

static int simple(struct cli *cli, int argc, char **argv, const char *action)
{
	int rc = args_simple(argc, argv, 1, 1);
	json_t *vm = NULL;
	if (rc == 0)
		rc = power(cli, argv[optind], action, NULL, &vm);
	if (rc == 0)
		rc = print_state(cli, vm);
	json_decref(vm);
	return rc;
}

int cmd_vm_start(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "on");
}

int cmd_vm_reset(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "reset");
}

int cmd_vm_kill(struct cli *cli, int argc, char **argv)
{
	return simple(cli, argc, argv, "kill");
}

/* polls the VM until it is powered off; *vm is replaced by the last state */
static int wait_off(struct cli *cli, const char *name, long long timeout, json_t **vm)
{
	char *path = api_pathf("/api/v1/vms/%s", name);
	double deadline = clock_now() + (double)(timeout + STOP_MARGIN_S);
	int rc = 0;
	while (rc == 0 && strcmp(jstr(*vm, "state"), "poweredOff") != 0) {
		if (clock_now() >= deadline) {
			error_msg("%s: still %s after %lld s", name, jstr(*vm, "state"),
				  timeout + STOP_MARGIN_S);
			rc = EXIT_FAIL;
		} else if (!interrupt_sleep(POLL_S)) {
			error_msg("interrupted (the shutdown goes on)");
			rc = EXIT_FAIL;
		} else {
			json_decref(*vm);
			rc = api_json(cli->api, "GET", path, NULL, vm);
		}
	}
	free(path);
	return rc;
}

int cmd_vm_stop(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"hard", no_argument, NULL, 'H'},
					     {"timeout", required_argument, NULL, 't'},
					     {"no-wait", no_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	bool hard = false, wait = true, timeout_given = false;
	long long timeout = STOP_TIMEOUT_S;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 'H')
			hard = true;
		else if (c == 'n')
			wait = false;
		else if (c == 't' && arg_uint("--timeout", optarg, 0, 86400, &timeout) == 0)
			timeout_given = true;
		else
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	int rc = args_count(argc, argv, 1, 1);
	if (rc == 0 && hard && timeout_given) {
		error_msg("--timeout is for a shutdown, not with --hard");
		rc = EXIT_USAGE;
	}
	if (rc)
		return rc;
	const char *name = argv[optind];
	json_t *vm = NULL;
	if (hard) {
		rc = power(cli, name, "off", NULL, &vm);
	} else {
		json_t *body = json_pack("{s:I}", "timeout_s", (json_int_t)timeout);
		rc = power(cli, name, "shutdown", body, &vm);
		json_decref(body);
		if (rc == 0 && wait)
			rc = wait_off(cli, name, timeout, &vm);
	}
	if (rc == 0)
		rc = print_state(cli, vm);
	json_decref(vm);
	return rc;
}
