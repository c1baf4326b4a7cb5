/* The credentials file (--credentials, KEEL_CREDENTIALS): `key = value`
 * lines with the keys host, user, password and fingerprint; blank lines and
 * lines starting with '#' are ignored; unknown or repeated keys are refused.
 * It holds a password, so it must be a regular file (not a symlink) owned
 * by the caller with no group or other permission bits (0600 or 0400). */
#ifndef KEEL_CLI_CREDS_H
#define KEEL_CLI_CREDS_H

struct creds {
	char *host, *user, *password, *fingerprint; /* NULL when absent */
};

/* Returns 0, or -1 after printing why the file is refused. */
int creds_load(const char *path, struct creds *c);
/* Frees (the password wiped first). */
void creds_free(struct creds *c);

/* Asks for the password of user@host on /dev/tty, without echo. Returns a
 * malloc'd string (to wipe and free), or NULL with a message if there is
 * no terminal or the user pressed Ctrl-C. */
char *prompt_password(const char *user, const char *host);

#endif
