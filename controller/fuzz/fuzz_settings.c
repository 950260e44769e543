/* fuzz_settings: the operator settings file (base/yamljson.c, then
 * identity/settings.c with its guardrail lists), and the namespace check the
 * parsed guardrails make. */
#include "fuzz.h"

#include "base/yamljson.h"
#include "identity/guardrails.h"
#include "identity/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = NULL;
	struct settings *s = NULL;
	struct op_err err;

	op_err_clear(&err);
	if (yaml_to_json((const char *)data, size, &doc, &err) < 0)
		return 0;
	if (settings_parse(doc, "fuzz.yaml", &s, &err) == 0) {
		FUZZ_ASSERT(s->cluster_name && s->role_path);
		guardrails_check_namespace(&s->guardrails, "default", &err);
		guardrails_check_namespace(&s->guardrails, "kube-system", &err);
		settings_free(s);
	} else {
		FUZZ_ASSERT(err.code < 0 && strlen(err.message) < sizeof(err.message));
	}
	json_decref(doc);
	return 0;
}
