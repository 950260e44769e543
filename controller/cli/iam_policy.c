/* `keyless iam-policy`: print the IAM policy keyless needs for a settings
 * file (identity/iam_policy.h builds it; this only gathers the inputs). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/endpoint.h"
#include "base/macros.h"
#include "cli/cli.h"
#include "identity/iam_policy.h"
#include "identity/settings.h"

#define IAM_MANAGED_POLICY_MAX 6144 /* characters, whitespace not counted */

static void usage(FILE *f)
{
	fputs("usage: keyless iam-policy --settings FILE [--account-id ID] [--oidc-issuer URL]\n"
	      "\n"
	      "Prints the IAM identity policy (JSON) that keyless needs for these settings:\n"
	      "roles only under rolePath/roleNamePrefix, only with the permissions boundary and\n"
	      "keyless' ownership tags; writes only on roles tagged keyless.dev/cluster=<cluster>.\n"
	      "\n"
	      "  --settings FILE     the operator settings (as for keyless controller)\n"
	      "  --account-id ID     the AWS account (default: accountId of the settings, else the\n"
	      "                      account of permissionsBoundaryArn)\n"
	      "  --oidc-issuer URL   the cluster's issuer, when the settings leave it to EKS\n"
	      "                      (default: every EKS issuer of the region)\n",
	      f);
}

/* The account of an IAM policy ARN (arn:<p>:iam::<acct>:policy/...), or NULL. */
static char *account_of(const char *arn)
{
	const char *p = arn;

	for (int i = 0; i < 4 && p; i++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p || !strchr(p, ':') || strchr(p, ':') - p != 12)
		return NULL;
	return strndup(p, 12);
}

static size_t compact_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += !strchr(" \n\t\r", *s);
	return n;
}

int cli_iam_policy(int argc, char **argv)
{
	const char *settings_path = NULL, *account = NULL, *issuer = NULL;
	_cleanup_(settings_freep) struct settings *s = NULL;
	_cleanup_free_ char *from_boundary = NULL, *text = NULL;
	const struct aws_partition *part;
	const char *region;
	json_t *doc = NULL;
	struct op_err err;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (streq(a, "-h") || streq(a, "--help")) {
			usage(stdout);
			return 0;
		} else if ((streq(a, "--settings") || streq(a, "--account-id") || streq(a, "--oidc-issuer")) &&
			   i + 1 < argc) {
			const char **dst = streq(a, "--settings") ? &settings_path
					   : streq(a, "--account-id") ? &account : &issuer;

			*dst = argv[++i];
		} else {
			fprintf(stderr, "keyless iam-policy: unknown or incomplete argument '%s'\n\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!settings_path) {
		fprintf(stderr, "keyless iam-policy: --settings is required\n\n");
		usage(stderr);
		return 2;
	}
	op_err_clear(&err);
	if (settings_load(settings_path, &s, &err) < 0) {
		fprintf(stderr, "keyless iam-policy: %s\n", err.message);
		return 1;
	}
	if (!account)
		account = s->account_id;
	if (!account && s->permissions_boundary_arn)
		account = from_boundary = account_of(s->permissions_boundary_arn);
	region = s->region ? s->region : aws_env_get(NULL, "AWS_REGION");
	if (!region)
		region = aws_env_get(NULL, "AWS_DEFAULT_REGION");
	part = aws_partition_of(region ? region : "us-east-1");
	if (iam_policy_build(&(struct iam_policy_input){ .settings = s,
							 .account_id = account,
							 .partition = part->name,
							 .dns_suffix = part->dns_suffix,
							 .region = region,
							 .issuer = issuer },
			     &doc, &err) < 0) {
		fprintf(stderr, "keyless iam-policy: %s\n", err.message);
		return 1;
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!text)
		return 1;
	puts(text);
	if (!s->permissions_boundary_arn)
		fprintf(stderr, "keyless iam-policy: WARNING: permissionsBoundaryWaived: nothing bounds the roles this "
				"policy lets keyless create; whoever holds it can make an administrator role\n");
	if (compact_len(text) > IAM_MANAGED_POLICY_MAX)
		fprintf(stderr, "keyless iam-policy: WARNING: %zu characters without whitespace: more than a managed "
				"policy holds (%d)\n", compact_len(text), IAM_MANAGED_POLICY_MAX);
	return 0;
}
