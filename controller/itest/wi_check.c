/* wi_check: runs keyless' own WorkloadIdentity validation (identity/spec,
 * and with --settings the guardrails) on objects, for the e2e tests that
 * hold it against the API server's verdict (e2e/test_crd.py).
 *
 *   wi_check [--settings FILE] < objects.jsonl
 *       one JSON object per input line; one output line each:
 *       {"rc":0} or {"rc":-errno,"reason":"InvalidSpec","message":"spec.x: ..."}
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macros.h"
#include "identity/guardrails.h"
#include "identity/settings.h"
#include "identity/spec.h"

static int check(json_t *obj, const struct settings *set, struct op_err *err)
{
	_cleanup_(wi_spec_freep) struct wi_spec *spec = NULL;
	int r;

	r = wi_spec_parse(obj, &spec, err);
	if (r < 0 || !set)
		return r;
	r = guardrails_check_namespace(&set->guardrails, spec->namespace, err);
	if (r < 0)
		return r;
	return guardrails_check_spec(&set->guardrails, spec, err);
}

int main(int argc, char **argv)
{
	_cleanup_(settings_freep) struct settings *set = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct op_err err;

	if (argc == 3 && streq(argv[1], "--settings")) {
		if (settings_load(argv[2], &set, &err) < 0) {
			fprintf(stderr, "wi_check: %s\n", err.message);
			return 2;
		}
	} else if (argc != 1) {
		fprintf(stderr, "usage: wi_check [--settings FILE] < objects.jsonl\n");
		return 2;
	}
	while ((n = getline(&line, &cap, stdin)) > 0) {
		json_error_t jerr;
		json_t *obj = json_loadb(line, (size_t)n, 0, &jerr), *out;
		char *text;
		int r;

		op_err_clear(&err);
		if (!obj) {
			r = op_err_setr(&err, -EINVAL, "BadJSON", "%s", jerr.text);
		} else {
			r = check(obj, set, &err);
			json_decref(obj);
		}
		out = r < 0 ? json_pack("{s:i, s:s, s:s}", "rc", r, "reason", err.reason, "message", err.message)
			    : json_pack("{s:i}", "rc", 0);
		text = out ? json_dumps(out, JSON_COMPACT) : NULL;
		printf("%s\n", text ? text : "{\"rc\":-12}");
		fflush(stdout);
		free(text);
		json_decref(out);
	}
	free(line);
	return 0;
}
