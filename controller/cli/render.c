/* `keyless render`: what keyless would make for the WorkloadIdentities in a
 * file, offline (identity/render.h decides; this gathers the inputs). */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/endpoint.h"
#include "base/macros.h"
#include "base/str.h"
#include "base/yamljson.h"
#include "cli/cli.h"
#include "identity/render.h"
#include "identity/settings.h"
#include "identity/shape.h"

/* AWS's documentation example of an EKS issuer, when nothing says which */
#define EXAMPLE_ISSUER_FMT "https://oidc.eks.%s.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
#define EXAMPLE_ACCOUNT "111122223333"

static void usage(FILE *f)
{
	fputs("usage: keyless render -f FILE [--settings FILE] [-n NAMESPACE] [--oidc-issuer URL]\n"
	      "                      [--account-id ID] [--region REGION] [--controller-namespace NS]\n"
	      "\n"
	      "Prints, as JSON, what keyless would create for each WorkloadIdentity in FILE (a YAML\n"
	      "stream; other kinds are skipped; '-' is stdin): the IAM role (name, ARN, trust policy,\n"
	      "permission policy, boundary, tags), the service-account annotations or the pod identity\n"
	      "association; or the validation and guardrail error the controller would report.\n"
	      "Offline: no cluster, no AWS. Exit 0 when every identity renders, 1 when one is refused,\n"
	      "2 on usage or file errors.\n"
	      "\n"
	      "  -f, --filename FILE   the manifests\n"
	      "  --settings FILE       the operator settings (default: clusterName 'cluster', the\n"
	      "                        default guardrails, no permissions boundary)\n"
	      "  -n, --namespace NS    for objects without metadata.namespace (default 'default')\n"
	      "  --oidc-issuer URL     the cluster's issuer (default: the settings' oidcIssuer, else an\n"
	      "                        example EKS issuer)\n"
	      "  --account-id ID       the cluster's account (default: the settings' accountId, else the\n"
	      "                        boundary's account, else " EXAMPLE_ACCOUNT ")\n"
	      "  --region REGION       the cluster's region (default: the settings', AWS_REGION, us-east-1)\n"
	      "  --controller-namespace NS  keyless' own namespace (refused unless the guardrails allow it)\n",
	      f);
}

static int load_settings(const char *path, struct settings **ret, struct op_err *err)
{
	json_t *doc;
	int r;

	if (path)
		return settings_load(path, ret, err);
	doc = json_pack("{s:s, s:b}", "clusterName", "cluster", "permissionsBoundaryWaived", 1);
	if (!doc)
		return -ENOMEM;
	r = settings_parse(doc, "(defaults)", ret, err);
	json_decref(doc);
	return r;
}

/* The WorkloadIdentities of the documents (a List's items too). */
static void collect(json_t *doc, json_t *into)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const char *api = json_string_value(json_object_get(doc, "apiVersion"));
	json_t *item;
	size_t i;

	if (kind && str_endswith(kind, "List")) {
		json_array_foreach(json_object_get(doc, "items"), i, item)
			collect(item, into);
		return;
	}
	if (kind && streq(kind, "WorkloadIdentity") && api && str_startswith(api, "keyless.dev/"))
		json_array_append(into, doc);
}

/* The 12-digit account of an ARN, or NULL. */
static char *account_of(const char *arn)
{
	const char *acct;
	size_t len;

	if (!arn || shape_resource_account(arn, &acct, &len) < 0 || len != 12 || strspn(acct, "0123456789") < 12)
		return NULL;
	return strndup(acct, len);
}

int cli_render(int argc, char **argv)
{
	const char *file = NULL, *settings_path = NULL, *ns = "default", *issuer = NULL, *account = NULL,
		   *region = NULL, *controller_ns = NULL;
	_cleanup_(settings_freep) struct settings *s = NULL;
	_cleanup_free_ char *text = NULL, *from_boundary = NULL, *out = NULL;
	char example_issuer[200];
	json_auto_t *docs = NULL, *wis = NULL, *results = NULL;
	const struct aws_partition *part;
	struct op_err err;
	size_t len, i;
	json_t *o;
	int rc = 0;

	for (int k = 1; k < argc; k++) {
		const char *a = argv[k];
		const char **dst = NULL;

		if (streq(a, "-h") || streq(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (streq(a, "-f") || streq(a, "--filename"))
			dst = &file;
		else if (streq(a, "--settings"))
			dst = &settings_path;
		else if (streq(a, "-n") || streq(a, "--namespace"))
			dst = &ns;
		else if (streq(a, "--oidc-issuer"))
			dst = &issuer;
		else if (streq(a, "--account-id"))
			dst = &account;
		else if (streq(a, "--region"))
			dst = &region;
		else if (streq(a, "--controller-namespace"))
			dst = &controller_ns;
		if (!dst || k + 1 >= argc) {
			fprintf(stderr, "keyless render: unknown or incomplete argument '%s'\n\n", a);
			usage(stderr);
			return 2;
		}
		*dst = argv[++k];
	}
	if (!file) {
		fprintf(stderr, "keyless render: -f FILE is required\n\n");
		usage(stderr);
		return 2;
	}
	op_err_clear(&err);
	if (load_settings(settings_path, &s, &err) < 0 || yaml_read_file(file, &text, &len, &err) < 0 ||
	    yaml_documents_to_json(text, len, &docs, &err) < 0) {
		fprintf(stderr, "keyless render: %s\n", err.message);
		return 2;
	}
	wis = json_array();
	json_array_foreach(docs, i, o)
		collect(o, wis);
	if (!json_array_size(wis)) {
		fprintf(stderr, "keyless render: %s holds no WorkloadIdentity (apiVersion keyless.dev/...)\n", file);
		return 2;
	}
	region = region ? region : s->region ? s->region : aws_env_get(NULL, "AWS_REGION");
	region = region ? region : "us-east-1";
	part = aws_partition_of(region);
	if (!account)
		account = s->account_id;
	if (!account)
		account = from_boundary = account_of(s->permissions_boundary_arn);
	if (!account) {
		account = EXAMPLE_ACCOUNT;
		fprintf(stderr, "keyless render: no account id (--account-id, accountId): ARNs show %s\n", account);
	}
	if (!issuer)
		issuer = s->oidc_issuer;
	if (!issuer) {
		snprintf(example_issuer, sizeof(example_issuer), EXAMPLE_ISSUER_FMT, region);
		issuer = example_issuer;
		fprintf(stderr, "keyless render: no OIDC issuer (--oidc-issuer, oidcIssuer): using %s\n", issuer);
	}
	if (!settings_path)
		fprintf(stderr, "keyless render: no --settings: cluster 'cluster', the default guardrails, no "
				"permissions boundary\n");
	results = json_array();
	json_array_foreach(wis, i, o) {
		const struct render_in in = { .settings = s, .issuer = issuer, .account_id = account,
					      .partition = part->name, .region = region, .default_namespace = ns,
					      .controller_namespace = controller_ns };
		json_t *r = identity_render(&in, o);

		if (!r) {
			fprintf(stderr, "keyless render: out of memory\n");
			return 2;
		}
		if (json_object_get(r, "error"))
			rc = 1;
		json_array_append_new(results, r);
	}
	out = json_dumps(results, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!out)
		return 2;
	puts(out);
	return rc;
}
