/* fuzz_wi_spec: a WorkloadIdentity object as the API server sends it
 * (identity/spec.c, identity/shape.c), then what keyless derives from a
 * valid one: the guardrail check (default guardrails), the permission and
 * trust policies (identity/documents.c), which must be JSON that
 * aws/policy.c finds equal to itself; and `keyless render` of any object
 * (identity/render.c): a rendering or a refusal. */
#include "fuzz.h"

#include <jansson.h>
#include <string.h>

#include "aws/policy.h"
#include "identity/accounts.h"
#include "identity/documents.h"
#include "identity/guardrails.h"
#include "identity/mode.h"
#include "identity/render.h"
#include "identity/settings.h"
#include "identity/spec.h"
#include "identity/trust.h"

static struct settings *defaults(void)
{
	static struct settings *s;

	if (!s) {
		json_t *doc = json_pack("{s:s, s:b}", "clusterName", "fuzz", "permissionsBoundaryWaived", 1);
		struct op_err err;

		if (!doc || settings_parse(doc, "fuzz", &s, &err) < 0)
			abort();
		json_decref(doc);
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *obj = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	struct wi_spec *spec = NULL;
	struct op_err err;

	if (!obj)
		return 0;
	{
		/* keyless render: a refusal or a rendering, never neither */
		const struct render_in rin = { .settings = defaults(), .issuer = "https://oidc.example.com/id/X",
					       .account_id = "123456789012", .partition = "aws", .region = "eu-west-1",
					       .default_namespace = "default" };
		json_t *r = identity_render(&rin, obj);

		FUZZ_ASSERT(r && !json_object_get(r, "error") == !!json_object_get(r, "role"));
		json_decref(r);
	}
	op_err_clear(&err);
	if (wi_spec_parse(obj, &spec, &err) == 0) {
		int none = 0;
		char *perm, *trust;

		guardrails_check_spec(&defaults()->guardrails, spec, &err);
		perm = identity_permission_policy(spec, &none);
		if (perm) {
			FUZZ_ASSERT(aws_policy_equal(perm, perm) == 1);
			(void)identity_policy_size(perm);
		}
		trust = identity_trust_policy("arn:aws:iam::123456789012:oidc-provider/oidc.example.com/id/X",
					      "https://oidc.example.com/id/X", spec->namespace ? spec->namespace : "",
					      spec->service_account, spec->audience);
		FUZZ_ASSERT(trust && aws_policy_equal(trust, trust) == 1);
		FUZZ_ASSERT(identity_trust_kinds(trust) == TRUST_IRSA);
		free(trust);
		trust = identity_session_policy(spec, &none);
		FUZZ_ASSERT(!trust == !!none);
		if (trust)
			FUZZ_ASSERT(aws_policy_equal(trust, trust) == 1);
		{
			struct mode_choice mc;
			const struct mode_policy mp = { WI_MODE_AUTO, false };
			const struct mode_facts mf = { true, 0, size & 1, spec->account_id != NULL };
			struct account_choice ac;

			mode_choose(spec, &mp, &mf, &mc);
			FUZZ_ASSERT(mc.reason && mc.message[0]);
			/* no settings accounts: only the cluster's own account */
			identity_account_choose(defaults(), "123456789012", "ns", spec, &ac);
			FUZZ_ASSERT(ac.refused == (spec->account_id && strcmp(spec->account_id, "123456789012") != 0));
		}
		free(perm);
		free(trust);
		wi_spec_free(spec);
	} else {
		FUZZ_ASSERT(err.code < 0);
	}
	json_decref(obj);
	return 0;
}
