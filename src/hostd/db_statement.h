/* Layer: inventory (private to db*.c). Includes: sqlite3, jansson only.
 *
 * The statement helpers shared by the inventory's files (db.c, db_access.c,
 * db_network.c): SQL text is always a constant of one of these files, and
 * every argument is bound by the type its accessor declares (text or a
 * 64-bit integer), never guessed from its content. Errors are -EIO with
 * SQLite's message in err. */
#ifndef KEEL_HOSTD_DB_STATEMENT_H
#define KEEL_HOSTD_DB_STATEMENT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

enum db_arg_type {
	DB_ARG_END, /* terminates a list of arguments */
	DB_ARG_TEXT,
	DB_ARG_INT64,
};

struct db_arg {
	enum db_arg_type type;
	const char *text; /* DB_ARG_TEXT (NULL binds SQL NULL) */
	int64_t integer;  /* DB_ARG_INT64 */
};

static inline struct db_arg db_text(const char *text)
{
	return (struct db_arg){.type = DB_ARG_TEXT, .text = text};
}

static inline struct db_arg db_int64(int64_t value)
{
	return (struct db_arg){.type = DB_ARG_INT64, .integer = value};
}

/* A statement's arguments: DB_ARGS(db_text(name), db_int64(mtu)). */
#define DB_ARGS(...) ((const struct db_arg[]){__VA_ARGS__, {.type = DB_ARG_END}})
#define DB_NO_ARGS   ((const struct db_arg[]){{.type = DB_ARG_END}})

/* The open connection (NULL when closed). */
sqlite3 *db_handle(void);

/* Prepares `sql` with `args` bound; NULL on failure. */
sqlite3_stmt *db_prepare(const char *sql, const struct db_arg *args);

/* Runs a statement that returns no rows: the number of changed rows, or
 * -EIO with the reason in err; the new row's id in *rowid (if not NULL). */
int db_run(const char *sql, const struct db_arg *args, int64_t *rowid, char *err, size_t errlen);

/* The rows of a query as a JSON array of objects keyed by column name
 * (integers as integers, NULL as null, the rest as strings). */
json_t *db_query(const char *sql, const struct db_arg *args);
/* The values of a query's one column, as a JSON array. */
json_t *db_query_column(const char *sql, const struct db_arg *args);
/* The first row of a query (a new reference), or NULL. */
json_t *db_query_row(const char *sql, const struct db_arg *args);
/* The text of the first column of the first row (malloc'ed), or NULL. */
char *db_query_text(const char *sql, const struct db_arg *args);

#endif
