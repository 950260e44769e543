/* fuzz_policy: IAM policy documents as IAM returns them (aws/policy.c:
 * percent-decoding, semantic comparison) and the resource, action and ARN
 * shapes the spec's statements are checked with (identity/shape.c).
 * Input: two documents separated by "\n--\n". Properties: a document that
 * is JSON equals itself, equality is symmetric, decoding text without '%'
 * changes nothing. */
#include "fuzz.h"

#include "aws/policy.h"
#include "identity/documents.h"
#include "identity/guardrails.h"
#include "identity/shape.h"
#include "identity/trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size }, a, b;
	char *sa, *sb, *dec = NULL;
	const char *acct;
	size_t acct_len;
	int eq;

	fuzz_split(&in, &a, &b);
	sa = fuzz_str(&a);
	sb = fuzz_str(&b);
	if (aws_policy_decode(sa, &dec) == 0) {
		if (!strchr(sa, '%'))
			FUZZ_ASSERT(streq(dec, sa));
		eq = aws_policy_equal(dec, dec);
		FUZZ_ASSERT(eq == 1 || eq == -EINVAL);
		free(dec);
	}
	eq = aws_policy_equal(sa, sb);
	FUZZ_ASSERT(eq == aws_policy_equal(sb, sa));
	(void)identity_policy_size(sa);
	/* shapes */
	(void)shape_resource_problem(sa);
	(void)shape_resource_is_wildcard(sa);
	if (shape_resource_account(sa, &acct, &acct_len) == 0)
		FUZZ_ASSERT(acct >= sa && acct + acct_len <= sa + strlen(sa));
	(void)shape_action(sa, false);
	(void)shape_action(sa, true);
	(void)shape_policy_arn(sa);
	(void)shape_role_arn(sa);
	FUZZ_ASSERT(identity_trust_kinds(sa) >= -EINVAL);
	/* a shared role's observed trust policy (roleScope Account): whatever
	 * it holds, the merged document is a policy, or none at all */
	{
		static const struct wi_tag tags[] = { { "keyless.dev/scope", "Account" },
						      { "keyless.dev/owner/b", "oidc.example.com/id/B" } };
		const struct trust_shared_in tin = { .observed = sa, .tags = tags, .n_tags = 2, .cluster = "a",
						    .provider_arn = "arn:aws:iam::1:oidc-provider/oidc.example.com/id/A",
						    .cluster_arn = "arn:aws:eks:r:1:cluster/a", .ns = "ns", .sa = sb };
		const struct trust_want none = { .ns = "ns", .sa = sb };
		struct trust_shared ts;
		char *doc;

		FUZZ_ASSERT(identity_trust_shared(&tin, &ts) == 0);
		FUZZ_ASSERT(ts.n_irsa <= TRUST_SHARED_MAX && ts.n_clusters <= TRUST_SHARED_MAX);
		doc = identity_trust_shared_document(&ts, &none);
		if (doc)
			FUZZ_ASSERT(identity_trust_kinds(doc) > 0 && !(identity_trust_kinds(doc) & TRUST_OTHER));
		free(doc);
		identity_trust_shared_release(&ts);
	}
	(void)shape_condition_operator(sa);
	(void)shape_tag_key(sa);
	(void)shape_tag_value(sa);
	(void)shape_tag_key_reserved(sa);
	(void)shape_dns_subdomain(sa);
	FUZZ_ASSERT(strlen(shape_quote(sa).s) < sizeof(((struct quoted *)0)->s));
	(void)glob_match(sa, sb, false);
	(void)glob_match(sa, sb, true);
	FUZZ_ASSERT(glob_overlap(sa, sb, false) == glob_overlap(sb, sa, false));
	(void)glob_covers(sa, sb, true);
	free(sa);
	free(sb);
	return 0;
}
