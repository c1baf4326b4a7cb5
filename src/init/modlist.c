#include "init/modlist.h"

#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static void normalise(char *s)
{
	for (; *s; s++)
		if (*s == '-')
			*s = '_';
}

int modlist_parse(struct modlist *ml, const char *text, int *bad_line)
{
	memset(ml, 0, sizeof(*ml));
	int lineno = 0, rc;
	char line[256];
	while ((rc = next_config_line(&text, line, sizeof(line))) != 0) {
		lineno++;
		if (rc < 0)
			goto bad;
		char *save = NULL;
		char *word = strtok_r(line, " \t\r", &save);
		if (word) {
			if (strtok_r(NULL, " \t\r", &save) || ml->n == MODLIST_MAX)
				goto bad;
			char *name = strdup(word);
			if (!name)
				goto bad;
			normalise(name);
			ml->names[ml->n++] = name;
		}
	}
	return 0;
bad:
	if (bad_line)
		*bad_line = lineno;
	modlist_free(ml);
	return -1;
}

void modlist_free(struct modlist *ml)
{
	for (size_t i = 0; i < ml->n; i++)
		free(ml->names[i]);
	ml->n = 0;
}

void modname_from_path(const char *path, char *out, size_t n)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strcspn(base, ".");
	if (n == 0)
		return;
	if (len >= n)
		len = n - 1;
	memcpy(out, base, len);
	out[len] = '\0';
	normalise(out);
}

/* one parsed line of modules.dep */
struct depline {
	const char *line; /* start of the line in the text */
	size_t len;
};

static int find_dep(const char *moddep, const char *name, struct depline *dl)
{
	const char *p = moddep;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(p, ':', len);
		if (colon) {
			char path[512], mod[128];
			size_t plen = (size_t)(colon - p);
			if (plen < sizeof(path)) {
				memcpy(path, p, plen);
				path[plen] = '\0';
				modname_from_path(path, mod, sizeof(mod));
				if (strcmp(mod, name) == 0) {
					dl->line = p;
					dl->len = len;
					return 0;
				}
			}
		}
		p = eol ? eol + 1 : p + len;
	}
	return -1;
}

struct resolver {
	const char *moddep;
	char **order;
	size_t max, n;
	int depth;
};

static int in_order(const struct resolver *r, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->order[i], path) == 0)
			return 1;
	return 0;
}

static int add_module(struct resolver *r, const char *name)
{
	struct depline dl;
	if (r->depth > 32) /* deeper than any real chain: a cycle */
		return -1;
	if (find_dep(r->moddep, name, &dl) < 0)
		return 1;
	char line[4096];
	if (dl.len >= sizeof(line))
		return -1;
	memcpy(line, dl.line, dl.len);
	line[dl.len] = '\0';
	char *colon = strchr(line, ':');
	*colon = '\0';
	if (in_order(r, line))
		return 0;
	char *save = NULL;
	r->depth++;
	/* modules.dep lists deps so that the last must load first */
	char *deps[64];
	size_t nd = 0;
	for (char *w = strtok_r(colon + 1, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save))
		if (nd < sizeof(deps) / sizeof(deps[0]))
			deps[nd++] = w;
	for (size_t i = nd; i-- > 0;) {
		char dn[128];
		modname_from_path(deps[i], dn, sizeof(dn));
		if (add_module(r, dn) < 0) {
			r->depth--;
			return -1;
		}
	}
	r->depth--;
	if (in_order(r, line))
		return 0;
	if (r->n == r->max)
		return -1;
	r->order[r->n] = strdup(line);
	if (!r->order[r->n])
		return -1;
	r->n++;
	return 0;
}

int modlist_order(const struct modlist *ml, const char *moddep, char **order, size_t max,
		  const char **missing, size_t *nmissing)
{
	struct resolver r = {.moddep = moddep, .order = order, .max = max};
	*nmissing = 0;
	for (size_t i = 0; i < ml->n; i++) {
		int rc = add_module(&r, ml->names[i]);
		if (rc < 0) {
			for (size_t j = 0; j < r.n; j++)
				free(order[j]);
			return -1;
		}
		if (rc > 0)
			missing[(*nmissing)++] = ml->names[i];
	}
	return (int)r.n;
}
