#include "hostd/chronyc.h"

#include <stdlib.h>
#include <string.h>

/* splits one line at commas into f[n] (empty fields kept); returns the
 * count, or -1 if it is not exactly n fields */
static int split(char *line, char **f, int n)
{
	int k = 0;
	for (char *p = line; k < n; k++) {
		f[k] = p;
		p = strchr(p, ',');
		if (!p)
			return k + 1 == n ? n : -1;
		*p++ = '\0';
	}
	return -1;
}

static int num(const char *s, double *out)
{
	char *end;
	*out = strtod(s, &end);
	return *s && !*end ? 0 : -1;
}

json_t *chronyc_tracking(const char *csv)
{
	char line[512], *f[14];
	double v[14];
	size_t len = strcspn(csv, "\n");
	if (len >= sizeof(line))
		return NULL;
	memcpy(line, csv, len);
	line[len] = '\0';
	if (split(line, f, 14) < 0)
		return NULL;
	for (int i = 2; i < 13; i++)
		if (num(f[i], &v[i]) < 0)
			return NULL;
	return json_pack("{s:s,s:s,s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:s,s:b}", "reference_id", f[0],
			 "reference", f[1], "stratum", (int)v[2], "offset_s", v[4], "last_offset_s",
			 v[5], "rms_offset_s", v[6], "frequency_ppm", v[7], "root_delay_s", v[10],
			 "root_dispersion_s", v[11], "update_interval_s", v[12], "leap", f[13],
			 "synchronized",
			 strcmp(f[13], "Not synchronised") != 0 && strcmp(f[0], "00000000") != 0);
}

static const char *word(const char *codes, const char *const *words, const char *c)
{
	const char *p = strlen(c) == 1 ? strchr(codes, c[0]) : NULL;
	return p ? words[p - codes] : NULL;
}

/* a number, or null when chronyc printed none (e.g. "-") */
static json_t *jnum(const char *s, int integer)
{
	double v;
	if (num(s, &v) < 0)
		return json_null();
	return integer ? json_integer((json_int_t)v) : json_real(v);
}

json_t *chronyc_sources(const char *csv)
{
	static const char *const modes[] = {"server", "peer", "refclock"};
	static const char *const states[] = {"selected",    "combined",	   "not_combined",
					     "unreachable", "falseticker", "too_variable"};
	json_t *out = json_array();
	char *text = strdup(csv), *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[10];
		int ok = split(line, f, 10) == 10;
		const char *mode = ok ? word("^=#", modes, f[0]) : NULL;
		const char *state = ok ? word("*+-?x~", states, f[1]) : NULL;
		if (!mode || !state) {
			json_decref(out);
			out = NULL;
			break;
		}
		json_array_append_new(
		    out,
		    json_pack("{s:s,s:s,s:s,s:o,s:o,s:i,s:o,s:o,s:o}", "mode", mode, "state", state,
			      "name", f[2], "stratum", jnum(f[3], 1), "poll_log2_s", jnum(f[4], 1),
			      "reach", (int)strtol(f[5], NULL, 8), "last_rx_s", jnum(f[6], 1),
			      "offset_s", jnum(f[7], 0), "error_s", jnum(f[9], 0)));
	}
	free(text);
	return out;
}
