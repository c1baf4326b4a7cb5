/* Parsing of a command's arguments: options (getopt_long, with the CLI's
 * own messages), positional counts, sizes, numbers and DATASTORE/PATH. Every
 * function that refuses prints "keel: why" and returns EXIT_USAGE or -1. */
#ifndef KEEL_CLI_ARGS_H
#define KEEL_CLI_ARGS_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>

/* Starts parsing a new argv (resets getopt). */
void args_begin(void);
/* getopt_long (shortopts starting with "+": stop at the first non-option,
 * else arguments and options mix); returns the option, -1 at the end, or '?' after printing
 * what is wrong (unknown option, missing argument). */
int args_next(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Checks that min..max positional arguments remain after the options;
 * returns 0 or EXIT_USAGE. */
int args_count(int argc, char **argv, int min, int max);
/* The usual command with only -h and min..max positional arguments;
 * returns 0, EXIT_HELP or EXIT_USAGE. They are then argv[optind...]. */
int args_simple(int argc, char **argv, int min, int max);

/* SIZE: a number of MiB, or a number with M, G or T (optionally followed
 * by "iB" or "B", any case): "512", "512M", "10G". Returns -1 if bad. */
int parse_size_mib(const char *s, long long *mib);
/* a decimal number 0..max (arg_uint: min..max) */
int parse_uint(const char *s, long long max, long long *out);
/* parse_size_mib or parse_uint for the argument of `what`, with a message */
int arg_size(const char *what, const char *s, long long *mib);
int arg_uint(const char *what, const char *s, long long min, long long max, long long *out);

/* o[key] = s; -1 with a message if s is not UTF-8 */
int arg_text(json_t *o, const char *key, const char *s);
/* A comma-separated list of names (NAME[,NAME...]) for the argument of
 * `what`, as a JSON array of strings; NULL with a message if a name is
 * empty or not UTF-8. */
json_t *arg_list(const char *what, const char *s);

/* DATASTORE/PATH split at its first '/'. path may be empty only if allowed;
 * trailing slashes of path are dropped. */
struct dspath {
	char buf[4096];
	const char *ds;
	const char *path;
};
int parse_dspath(const char *arg, struct dspath *d, bool path_required);

#endif
