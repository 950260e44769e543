/* `keyless audit queries`: CloudWatch Logs Insights queries over CloudTrail
 * for the roles keyless manages in this cluster (identity/audit.h). */
#include <stdio.h>
#include <string.h>

#include "base/macros.h"
#include "base/str.h"
#include "cli/cli.h"
#include "identity/audit.h"
#include "identity/settings.h"

static void usage(FILE *f)
{
	fputs("usage: keyless audit queries --settings FILE [--keyless-role NAME]\n"
	      "\n"
	      "Prints CloudWatch Logs Insights queries over the CloudTrail log group, scoped to the\n"
	      "IAM roles keyless manages for this cluster (by their names: rolePath, roleNamePrefix,\n"
	      "clusterName): which service accounts assumed which roles, failed\n"
	      "AssumeRoleWithWebIdentity calls by error code, EKS Pod Identity sessions, changes to\n"
	      "those roles by anyone but keyless, and keyless' own denied calls; then the alarm they\n"
	      "suggest.\n"
	      "\n"
	      "  --settings FILE      the operator settings (as for keyless controller)\n"
	      "  --keyless-role NAME  the name of keyless' own IAM role (default: keyless)\n",
	      f);
}

int cli_audit(int argc, char **argv)
{
	const char *settings_path = NULL, *role = "keyless";
	_cleanup_(settings_freep) struct settings *s = NULL;
	struct audit_query q[AUDIT_QUERIES];
	struct op_err err;
	char re[512], glob[512];

	if (argc < 2 || !streq(argv[1], "queries")) {
		if (argc >= 2 && (streq(argv[1], "-h") || streq(argv[1], "--help"))) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "keyless audit: the subcommand is 'queries'\n\n");
		usage(stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (streq(argv[i], "--settings") && i + 1 < argc) {
			settings_path = argv[++i];
		} else if (streq(argv[i], "--keyless-role") && i + 1 < argc) {
			role = argv[++i];
		} else {
			fprintf(stderr, "keyless audit queries: unknown or incomplete argument '%s'\n\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!settings_path) {
		fprintf(stderr, "keyless audit queries: --settings is required\n\n");
		usage(stderr);
		return 2;
	}
	op_err_clear(&err);
	if (settings_load(settings_path, &s, &err) < 0) {
		fprintf(stderr, "keyless audit queries: %s\n", err.message);
		return 1;
	}
	audit_role_regex(s, re, sizeof(re));
	audit_role_arn_glob(s, glob, sizeof(glob));
	printf("# CloudWatch Logs Insights, on the log group CloudTrail delivers to; keyless' roles of cluster %s\n"
	       "# are the role ARNs matching /%s/.\n\n",
	       s->cluster_name, re);
	audit_queries(s, role, q);
	for (size_t i = 0; i < AUDIT_QUERIES; i++)
		printf("# %s: %s\n%s\n\n", q[i].name, q[i].title, q[i].query);
	printf("# Suggested alarm: a metric filter on the same log group counting failed web-identity calls\n"
	       "# to these roles, alarming at 5 or more in 5 minutes (a workload lost its credentials, or\n"
	       "# someone tries roles that are not theirs):\n"
	       "#   { ($.eventSource = \"sts.amazonaws.com\") && ($.eventName = \"AssumeRoleWithWebIdentity\") &&\n"
	       "#     ($.errorCode = \"*\") && ($.requestParameters.roleArn = \"%s\") }\n",
	       glob);
	return 0;
}
