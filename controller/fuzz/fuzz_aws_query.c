/* fuzz_aws_query: IAM and STS answers (Query protocol XML: aws/xml.c,
 * aws/query.c, aws/iam.c, aws/sts.c) through the client pipeline with a
 * transport that answers every request with the input. Input: one byte
 * picks the call, the rest is the 200 body (paginated calls get the same
 * page again while it says IsTruncated, up to IAM_MAX_PAGES). */
#include "fuzz.h"

#include "aws/iam.h"
#include "aws/sts.h"

/* touch what a drift sweep reads of each listed role */
static int count_role(const struct iam_role_detail *d, void *ctx)
{
	size_t n = strlen(d->role->role_name) + strlen(d->role->arn);

	(void)ctx;
	for (size_t i = 0; i < d->inline_names.n; i++)
		n += strlen(d->inline_names.items[i]) + strlen(d->inline_docs.items[i]);
	for (size_t i = 0; i < d->attached.n; i++)
		n += strlen(d->attached.items[i].arn);
	return n > 0 ? 0 : -EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	struct fuzz_aws f = { .status = 200, .body = (const char *)in.p, .body_len = in.n };
	struct aws_client *c = fuzz_aws_client(&f);
	struct sts_assume_role_input ar = { .role_arn = "arn:aws:iam::123456789012:role/r",
					    .role_session_name = "s", .web_identity_token = "t" };
	struct op_err err;

	op_err_clear(&err);
	switch (sel % 15) {
	case 0: {
		struct iam_role *r = NULL;

		if (iam_get_role(c, "r", &r, &err) == 0)
			iam_role_free(r);
		break;
	}
	case 1: {
		struct aws_tag_list l = { 0 };

		if (iam_list_role_tags(c, "r", &l, &err) == 0)
			aws_tag_list_release(&l);
		break;
	}
	case 2: {
		char *doc = NULL;

		if (iam_get_role_policy(c, "r", "keyless", &doc, &err) == 0)
			free(doc);
		break;
	}
	case 3: {
		struct aws_str_list l = { 0 };

		if (iam_list_role_policies(c, "r", &l, &err) == 0)
			aws_str_list_release(&l);
		break;
	}
	case 4: {
		struct iam_attached_policy_list l = { 0 };

		if (iam_list_attached_role_policies(c, "r", &l, &err) == 0)
			iam_attached_policy_list_release(&l);
		break;
	}
	case 5: {
		struct aws_str_list l = { 0 };

		if (iam_list_oidc_providers(c, &l, &err) == 0)
			aws_str_list_release(&l);
		break;
	}
	case 6: {
		struct iam_oidc_provider *p = NULL;

		if (iam_get_oidc_provider(c, "arn:aws:iam::123456789012:oidc-provider/x", &p, &err) == 0)
			iam_oidc_provider_free(p);
		break;
	}
	case 7: {
		const char *ids[] = { "sts.amazonaws.com" };
		struct iam_create_oidc_provider_input pin = { .url = "https://x", .client_ids = ids, .n_client_ids = 1 };
		char *arn = NULL;

		if (iam_create_oidc_provider(c, &pin, &arn, &err) == 0)
			free(arn);
		break;
	}
	case 8: {
		struct iam_account_summary *s = NULL;
		long v;

		if (iam_get_account_summary(c, &s, &err) == 0) {
			iam_account_summary_get(s, "AssumeRolePolicySizeQuota", &v);
			iam_account_summary_free(s);
		}
		break;
	}
	case 9: {
		struct sts_caller_identity *id = NULL;

		if (sts_get_caller_identity(c, &id, &err) == 0)
			sts_caller_identity_free(id);
		break;
	}
	case 10: {
		struct sts_assumed_role *a = NULL;

		if (sts_assume_role(c, NULL, &ar, &a, &err) == 0)
			sts_assumed_role_free(a);
		break;
	}
	case 11: {
		struct sts_assumed_role *a = NULL;

		if (sts_assume_role_with_web_identity(c, &ar, &a, &err) == 0)
			sts_assumed_role_free(a);
		break;
	}
	case 12: {
		struct iam_create_role_input rin = { .role_name = "r", .assume_role_policy = "{}" };
		struct iam_role *r = NULL;

		if (iam_create_role(c, &rin, &r, &err) == 0)
			iam_role_free(r);
		break;
	}
	case 13:
		iam_list_roles(c, "/keyless/", count_role, NULL, &err);
		break;
	case 14:
		iam_get_account_authorization_details_roles(c, count_role, NULL, &err);
		break;
	}
	aws_client_free(c);
	return 0;
}
