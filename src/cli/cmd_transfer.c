/* keel datastore upload | download, keel host support-bundle, keel host
 * config backup | restore: files streamed, never held in memory.
 * A download goes to a temporary file beside the destination, renamed into
 * place when complete and removed otherwise; runs of zeros become holes,
 * so that a sparse disk image stays sparse. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/args.h"
#include "cli/cmd.h"
#include "cli/mem.h"
#include "cli/output.h"

bool cmd_progress(const struct cli *cli)
{
	return !cli->json && isatty(STDERR_FILENO);
}

FILE *cmd_open_upload(const char *local, struct stat *st)
{
	FILE *f = fopen(local, "rbe");
	if (!f || fstat(fileno(f), st) < 0 || !S_ISREG(st->st_mode)) {
		error_msg("%s: %s", local, f ? "not a regular file" : strerror(errno));
		if (f)
			fclose(f);
		return NULL;
	}
	return f;
}

int cmd_ds_upload(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"overwrite", no_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0}};
	bool overwrite = false;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "h", opts)) != -1) {
		if (c != 'o')
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
		overwrite = true;
	}
	struct dspath d;
	int rc = args_count(argc, argv, 2, 2);
	if (rc == 0 && parse_dspath(argv[optind + 1], &d, true) < 0)
		rc = EXIT_USAGE;
	if (rc)
		return rc;
	struct stat st;
	FILE *f = cmd_open_upload(argv[optind], &st);
	if (!f)
		return EXIT_SETUP;
	char *path = api_pathf(overwrite ? "/api/v1/datastores/%s/files/%p?overwrite=true"
					 : "/api/v1/datastores/%s/files/%p",
			       d.ds, d.path);
	json_t *r = NULL;
	char size[SIZE_LEN];
	rc = api_upload(cli->api, path, f, st.st_size, NULL, cmd_progress(cli), &r);
	free(path);
	fclose(f);
	if (rc == 0 && cli->json)
		rc = print_json(r);
	else if (rc == 0) {
		printf("%s uploaded (%s)\n", jstr(r, "path"), fmt_size(size, jint(r, "size")));
		rc = finish_stdout();
	}
	json_decref(r);
	return rc;
}

/* LOCALFILE, or LOCALFILE/NAME when it is a directory */
static char *destination(const char *local, const char *remote)
{
	struct stat st;
	if (stat(local, &st) == 0 && S_ISDIR(st.st_mode)) {
		const char *base = strrchr(remote, '/');
		bool slash = local[strlen(local) - 1] == '/';
		return xasprintf("%s%s%s", local, slash ? "" : "/", base ? base + 1 : remote);
	}
	return xstrdup(local);
}

/* a temporary file beside dest; *tmp gets its name */
static FILE *open_temp(const char *dest, char **tmp)
{
	const char *slash = strrchr(dest, '/');
	int dirlen = slash ? (int)(slash - dest + 1) : 0;
	*tmp = xasprintf("%.*s.%s.keel-XXXXXX", dirlen, dest, dest + dirlen);
	int fd = mkostemp(*tmp, O_CLOEXEC);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		error_msg("cannot create a file beside %s: %s", dest, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(*tmp);
		}
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

struct sink {
	FILE *f;
	off_t size;
};

static int sink_write(const char *data, size_t len, void *ctx)
{
	struct sink *s = ctx;
	if (len > 0 && data[0] == 0 && memcmp(data, data + 1, len - 1) == 0) {
		if (fseeko(s->f, (off_t)len, SEEK_CUR) < 0)
			return -1;
	} else if (fwrite(data, 1, len, s->f) != len) {
		return -1;
	}
	s->size += (off_t)len;
	return 0;
}

/* closes the file (its size set, in case it ends with a hole) and moves it
 * into place, with the mode of a new file */
static int commit(struct sink *s, const char *tmp, const char *dest)
{
	mode_t mask = umask(0);
	umask(mask);
	int err = 0;
	if (fflush(s->f) != 0 || ftruncate(fileno(s->f), s->size) < 0 ||
	    fchmod(fileno(s->f), 0666 & ~mask) < 0)
		err = errno;
	if (fclose(s->f) != 0 && !err)
		err = errno;
	if (!err && rename(tmp, dest) < 0)
		err = errno;
	if (err)
		error_msg("%s: %s", dest, strerror(err));
	return err ? EXIT_FAIL : 0;
}

/* GET path (POST of `body` if not NULL) into a temporary file beside dest,
 * moved into place when whole; *size: its bytes */
static int download_to(struct cli *cli, const char *path, json_t *body, const char *dest,
		       off_t *size)
{
	char *tmp = NULL;
	FILE *f = open_temp(dest, &tmp);
	if (!f)
		return EXIT_SETUP;
	struct sink s = {f, 0};
	int rc = body ? api_post_download(cli->api, path, body, sink_write, &s)
		      : api_download(cli->api, path, sink_write, &s, cmd_progress(cli));
	if (rc == 0)
		rc = commit(&s, tmp, dest);
	else
		fclose(f);
	if (rc)
		unlink(tmp);
	free(tmp);
	*size = s.size;
	return rc;
}

int cmd_ds_download(struct cli *cli, int argc, char **argv)
{
	struct dspath d;
	int rc = args_simple(argc, argv, 2, 2);
	if (rc == 0 && parse_dspath(argv[optind], &d, true) < 0)
		rc = EXIT_USAGE;
	if (rc)
		return rc;
	char *dest = destination(argv[optind + 1], d.path);
	char *path = api_pathf("/api/v1/datastores/%s/files/%p", d.ds, d.path);
	off_t size = 0;
	rc = download_to(cli, path, NULL, dest, &size);
	free(path);
	char sz[SIZE_LEN];
	if (rc == 0 && !cli->json) {
		printf("%s/%s downloaded to %s (%s)\n", d.ds, d.path, dest, fmt_size(sz, size));
		rc = finish_stdout();
	}
	free(dest);
	return rc;
}

/* keel host support-bundle -o FILE: GET /api/v1/host/support-bundle,
 * streamed into a temporary file beside FILE, renamed when whole */
int cmd_host_support_bundle(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0}};
	const char *out = NULL;
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "ho:", opts)) != -1) {
		if (c != 'o')
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
		out = optarg;
	}
	int rc = args_count(argc, argv, 0, 0);
	if (rc)
		return rc;
	if (!out) {
		error_msg("-o FILE: where the bundle goes (a .tgz)");
		return EXIT_USAGE;
	}
	off_t size = 0;
	rc = download_to(cli, "/api/v1/host/support-bundle", NULL, out, &size);
	char sz[SIZE_LEN];
	if (rc == 0 && !cli->json) {
		printf("support bundle written to %s (%s)\n", out, fmt_size(sz, size));
		rc = finish_stdout();
	}
	return rc;
}

/* -o FILE and --passphrase-stdin (and --force, where `force` is given) */
static int config_options(int argc, char **argv, const char **out, bool *from_stdin, bool *force)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
					     {"passphrase-stdin", no_argument, NULL, 'p'},
					     {"force", no_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	int c;
	args_begin();
	while ((c = args_next(argc, argv, "ho:", opts)) != -1) {
		if (c == 'o' && out)
			*out = optarg;
		else if (c == 'p')
			*from_stdin = true;
		else if (c == 'f' && force)
			*force = true;
		else
			return c == 'h' ? EXIT_HELP : EXIT_USAGE;
	}
	return 0;
}

/* keel host config backup -o FILE: POST /api/v1/host/config/backup with
 * a passphrase asked twice (or a line of stdin) */
int cmd_host_config_backup(struct cli *cli, int argc, char **argv)
{
	const char *out = NULL;
	bool from_stdin = false;
	int rc = config_options(argc, argv, &out, &from_stdin, NULL);
	if (rc == 0)
		rc = args_count(argc, argv, 0, 0);
	if (rc == 0 && !out) {
		error_msg("-o FILE: where the backup goes");
		rc = EXIT_USAGE;
	}
	char pass[PASSWORD_BUF];
	if (rc == 0)
		rc = cmd_read_secret(from_stdin, "Passphrase for the backup", true, pass);
	if (rc)
		return rc;
	json_t *body = json_pack("{s:s}", "passphrase", pass);
	explicit_bzero(pass, sizeof(pass));
	off_t size = 0;
	rc = download_to(cli, "/api/v1/host/config/backup", body, out, &size);
	json_decref(body);
	char sz[SIZE_LEN];
	if (rc == 0 && !cli->json) {
		printf("configuration backup written to %s (%s); keep its passphrase: a restore "
		       "needs it\n",
		       out, fmt_size(sz, size));
		rc = finish_stdout();
	}
	return rc;
}

/* keel host config restore FILE: the file (PUT .../restore/file), then
 * its passphrase (POST .../restore); the host reboots into it */
int cmd_host_config_restore(struct cli *cli, int argc, char **argv)
{
	bool from_stdin = false, force = false;
	int rc = config_options(argc, argv, NULL, &from_stdin, &force);
	if (rc == 0)
		rc = args_count(argc, argv, 1, 1);
	if (rc)
		return rc;
	struct stat st;
	FILE *f = cmd_open_upload(argv[optind], &st);
	if (!f)
		return EXIT_SETUP;
	json_t *info = NULL, *r = NULL;
	rc = api_upload(cli->api, "/api/v1/host/config/restore/file", f, st.st_size, NULL, false,
			&info);
	fclose(f);
	char pass[PASSWORD_BUF];
	if (rc == 0 && !cli->json)
		printf("backup of %s (%s), Keel %s build %s, host %s\n", jstr(info, "hostname"),
		       fmt_time((char[32]){0}, jint(info, "created")), jstr(info, "version"),
		       jstr(info, "build"), jstr(info, "host_uuid"));
	if (rc == 0)
		rc = cmd_read_secret(from_stdin, "The backup's passphrase", false, pass);
	if (rc == 0) {
		json_t *body = json_pack("{s:s,s:b}", "passphrase", pass, "force", force);
		explicit_bzero(pass, sizeof(pass));
		rc = api_json(cli->api, "POST", "/api/v1/host/config/restore", body, &r);
		json_decref(body);
		cli->quiet_logout = true; /* the host is going away */
	}
	if (rc == 0)
		rc = print_result(cli->json, r,
				  "the configuration is restored at the host's next boot: it "
				  "reboots now");
	json_decref(info);
	json_decref(r);
	return rc;
}
