/* The names of the host's own entities, other than VMs (vmspec.h): users,
 * roles, datastores and port groups. Each has its own rule, defined here only, for the
 * API (keel-hostd) and the CLI. Pure: no I/O. */
#ifndef KEEL_NAMES_H
#define KEEL_NAMES_H

#include <stdbool.h>

/* A user: 1..64 characters of A-Z a-z 0-9 . _ -, starting with a letter,
 * a digit or _ (the accounts of the host; root is one). */
#define USER_NAME_MAX  64
#define USER_NAME_RULE "1 to 64 characters of A-Z a-z 0-9 . _ -"
bool user_name_valid(const char *name);

/* A role: 1..64 characters of A-Z a-z 0-9 . _ -, starting with a letter,
 * a digit or _. */
#define ROLE_NAME_MAX  64
#define ROLE_NAME_RULE "1 to 64 characters of A-Z a-z 0-9 . _ -"
bool role_name_valid(const char *name);

/* A datastore: 1..63 characters of A-Z a-z 0-9 . _ -, not starting with
 * . or - (it is the first segment of every "DATASTORE/PATH"). */
#define DATASTORE_NAME_MAX 63
bool datastore_name_valid(const char *name);

/* A port group: 1..64 characters (its full rule is keel-hostd's network
 * module's). */
#define PORTGROUP_NAME_MAX 64

#endif
