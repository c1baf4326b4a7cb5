#include "cli/args.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cmd.h"
#include "cli/mem.h"
#include "cli/output.h"
#include "common/util.h"

static const char *const global_options[] = {"--host",	      "--user",	    "--credentials",
					     "--fingerprint", "--insecure", "--json"};

void args_begin(void)
{
	optind = 0; /* glibc: full re-initialisation */
	opterr = 0;
}

int args_next(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	char spec[64];
	if (shortopts[0] == '+') /* stop at the first non-option */
		snprintf(spec, sizeof(spec), "+:%s", shortopts + 1);
	else
		snprintf(spec, sizeof(spec), ":%s", shortopts);
	int c = getopt_long(argc, argv, spec, longopts, NULL);
	if (c != '?' && c != ':')
		return c;
	char opt[64];
	if (optopt && argv[optind - 1][1] != '-')
		snprintf(opt, sizeof(opt), "-%c", optopt);
	else
		snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(argv[optind - 1], "="),
			 argv[optind - 1]);
	if (c == ':') {
		error_msg("option %s needs an argument", opt);
		return '?';
	}
	error_msg("unknown option %s", opt);
	for (size_t i = 0; i < ARRAY_SIZE(global_options); i++)
		if (strcmp(opt, global_options[i]) == 0)
			error_msg("%s is a global option: put it before the command", opt);
	return '?';
}

int args_count(int argc, char **argv, int min, int max)
{
	int n = argc - optind;
	if (n < min) {
		error_msg("missing argument");
		return EXIT_USAGE;
	}
	if (n > max) {
		error_msg("unexpected argument '%s'", argv[optind + max]);
		return EXIT_USAGE;
	}
	return 0;
}

int args_simple(int argc, char **argv, int min, int max)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c == 'h')
			return EXIT_HELP;
		return EXIT_USAGE;
	}
	return args_count(argc, argv, min, max);
}

int parse_uint(const char *s, long long max, long long *out)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > (unsigned long long)max)
		return -1;
	*out = (long long)v;
	return 0;
}

int parse_size_mib(const char *s, long long *mib)
{
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned long long mul = 1;
	if (*end) {
		switch (tolower((unsigned char)*end)) {
		case 'm':
			break;
		case 'g':
			mul = 1024;
			break;
		case 't':
			mul = 1024 * 1024;
			break;
		default:
			return -1;
		}
		end++;
		if (*end && strcasecmp(end, "iB") != 0 && strcasecmp(end, "B") != 0)
			return -1;
	}
	/* the size in bytes must fit in 63 bits */
	if (v == 0 || v > ((unsigned long long)LLONG_MAX >> 20) / mul)
		return -1;
	*mib = (long long)(v * mul);
	return 0;
}

int arg_size(const char *what, const char *s, long long *mib)
{
	if (parse_size_mib(s, mib) == 0)
		return 0;
	error_msg("%s: bad size '%s' (a number of MiB, or with M, G or T: 512M, 10G)", what, s);
	return -1;
}

int arg_uint(const char *what, const char *s, long long min, long long max, long long *out)
{
	if (parse_uint(s, max, out) == 0 && *out >= min)
		return 0;
	error_msg("%s: '%s' is not a number from %lld to %lld", what, s, min, max);
	return -1;
}

int arg_text(json_t *o, const char *key, const char *s)
{
	if (json_object_set_new(o, key, json_string(s)) == 0)
		return 0;
	error_msg("%s: '%s' is not UTF-8 text", key, s);
	return -1;
}

json_t *arg_list(const char *what, const char *s)
{
	json_t *list = json_array();
	char *copy = xstrdup(s);
	char *name = copy;
	for (;;) {
		char *comma = strchr(name, ',');
		if (comma)
			*comma = '\0';
		if (!*name) {
			error_msg("%s: expected NAME[,NAME...], got '%s'", what, s);
			break;
		}
		if (json_array_append_new(list, json_string(name)) < 0) {
			error_msg("%s: '%s' is not UTF-8 text", what, name);
			break;
		}
		if (!comma) {
			free(copy);
			return list;
		}
		name = comma + 1;
	}
	free(copy);
	json_decref(list);
	return NULL;
}

int parse_dspath(const char *arg, struct dspath *d, bool path_required)
{
	if (str_copy(d->buf, sizeof(d->buf), arg) < 0) {
		error_msg("path too long: '%.64s...'", arg);
		return -1;
	}
	char *slash = strchr(d->buf, '/');
	char *path = slash ? slash + 1 : d->buf + strlen(d->buf);
	if (slash)
		*slash = '\0';
	size_t n = strlen(path);
	while (n > 0 && path[n - 1] == '/')
		path[--n] = '\0';
	d->ds = d->buf;
	d->path = path;
	if (!*d->ds || (path_required && !*d->path)) {
		error_msg("'%s': expected DATASTORE/PATH, like local/web1/disk0.img", arg);
		return -1;
	}
	return 0;
}
