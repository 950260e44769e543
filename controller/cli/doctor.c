/* `keyless doctor`: walk the IRSA chain of a pod, service account or
 * WorkloadIdentity and name the broken link (identity/diagnose.h and
 * identity/doctor.h decide; this reads Kubernetes and AWS). Read-only but
 * for one short-lived token of the service account (TokenRequest), which
 * is never printed. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/eks.h"
#include "aws/endpoint.h"
#include "aws/iam.h"
#include "aws/sts.h"
#include "base/buf.h"
#include "base/jwt.h"
#include "base/macros.h"
#include "base/str.h"
#include "cli/cli.h"
#include "identity/desired.h"
#include "identity/diagnose.h"
#include "identity/doctor.h"
#include "identity/trust.h"
#include "kube/client.h"
#include "kube/config.h"

#define MAX_CHECKS 16
#define MAX_PODS 5
#define TOKEN_SECONDS 600

enum status { PASS, FAIL, SKIP };

struct check {
	const char *id;
	enum status st;
	char evidence[1200];
	char fix[600];
};

struct doctor {
	const char *ns, *kind, *name;
	bool assume, json_out;
	const char *cluster;    /* --cluster: EKS Pod Identity lookups */
	bool pi;                /* the EKS Pod Identity chain */
	bool session_tags;
	char cluster_arn[400];
	const char *action, *resource;
	struct kube_client *kube;
	struct aws_client *aws;
	struct check checks[MAX_CHECKS];
	size_t n;
	json_t *sa, *wi, *pods; /* pods: the pod asked for, or the service account's (array) */
	char sa_name[256], role_arn[1024], role_name[256], audience[256], partition[32];
	char *token;            /* never printed */
	char iss_host[512], sub[512], aud[256], provider_arn[1024];
	char *trust;            /* the role's trust policy */
	bool role_found;
};

static struct check *add(struct doctor *d, const char *id, enum status st, const char *fix, const char *fmt, ...)
	_printf_(5, 6);

static struct check *add(struct doctor *d, const char *id, enum status st, const char *fix, const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (d->n >= MAX_CHECKS)
		return &d->checks[MAX_CHECKS - 1];
	c = &d->checks[d->n++];
	c->id = id;
	c->st = st;
	va_start(ap, fmt);
	vsnprintf(c->evidence, sizeof(c->evidence), fmt, ap);
	va_end(ap);
	str_copy(c->fix, sizeof(c->fix), fix ? fix : "");
	return c;
}

static void usage(FILE *f)
{
	fputs("usage: keyless doctor [-n NAMESPACE] (pod/NAME | serviceaccount/NAME | workloadidentity/NAME)\n"
	      "                      [-o text|json] [--assume] [--action ACTION --resource ARN]\n"
	      "                      [--cluster NAME]\n"
	      "\n"
	      "Walks the IRSA chain and reports each check as pass, fail or skipped, with the evidence\n"
	      "and the fix: the service account and its eks.amazonaws.com/role-arn annotation (a\n"
	      "mistyped key is called out), the role, the cluster's OIDC provider in IAM and its client\n"
	      "ids, what the webhook injected into the pods, and the role's trust policy against a\n"
	      "short-lived token of the service account (never printed): which condition fails and\n"
	      "where. Works for roles keyless did not create, too.\n"
	      "\n"
	      "  -n NAMESPACE        default: the kubeconfig context's, else 'default'\n"
	      "  -o text|json        output (default text)\n"
	      "  --assume            also call sts:AssumeRoleWithWebIdentity with that token\n"
	      "  --cluster NAME      the EKS cluster: with it, a service account bound by an EKS Pod\n"
	      "                      Identity association gets that chain checked instead (the\n"
	      "                      association, its role's trust for the session tags, the agent on\n"
	      "                      the pod's node, the container-credentials injection)\n"
	      "  --action, --resource  whether the role's inline policies allow this action on this\n"
	      "                      resource (a local approximation of IAM's evaluation: conditions\n"
	      "                      and managed policies are not evaluated)\n"
	      "\n"
	      "Exit 0 when every check passes (or is skipped), 1 when one fails, 2 on usage errors.\n"
	      "Uses the kubeconfig (KUBECONFIG) and the AWS credential chain of the environment.\n",
	      f);
}

/* --- Kubernetes -------------------------------------------------------------- */

static int kget(struct doctor *d, const char *path, json_t **ret, struct op_err *err)
{
	op_err_clear(err);
	return kube_get(d->kube, path, ret, err);
}

/* The time the annotation's field manager last wrote it (managedFields),
 * or NULL. */
static const char *annotation_time(json_t *sa)
{
	json_t *mf;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(sa, "metadata"), "managedFields"), i, mf) {
		json_t *anns = json_object_get(json_object_get(json_object_get(mf, "fieldsV1"), "f:metadata"),
					       "f:annotations");

		if (json_object_get(anns, "f:" ANN_ROLE_ARN))
			return json_string_value(json_object_get(mf, "time"));
	}
	return NULL;
}

static bool webhook_registered(struct doctor *d)
{
	json_auto_t *list = NULL;
	json_t *item, *hook;
	struct op_err err;
	size_t i, j;

	if (kget(d, "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", &list, &err) < 0)
		return true; /* cannot tell: do not accuse it */
	json_array_foreach(json_object_get(list, "items"), i, item) {
		json_array_foreach(json_object_get(item, "webhooks"), j, hook) {
			const char *n = json_string_value(json_object_get(hook, "name")) ?: "";

			if (strstr(n, "iam-for-pods") || strstr(n, "pod-identity"))
				return true;
		}
	}
	return false;
}

/* 1: the webhook injects AWS_ROLE_ARN into the pod's spec created now
 * (dryRun=All), 0: it does not, -1: cannot tell. */
static int webhook_injects_now(struct doctor *d, json_t *pod)
{
	json_t *meta = json_object_get(pod, "metadata"), *spec = json_deep_copy(json_object_get(pod, "spec"));
	json_auto_t *body = NULL, *resp = NULL;
	struct pod_injection inj;
	struct op_err err;
	char path[400];
	int rc;

	if (!spec)
		return -1;
	json_object_del(spec, "nodeName");
	body = json_pack("{s:s, s:s, s:{s:s, s:O*}, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", "generateName",
			 "keyless-doctor-", "labels", json_object_get(meta, "labels"), "spec", spec);
	if (!body)
		return -1;
	str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods?dryRun=All", d->ns);
	op_err_clear(&err);
	rc = kube_create(d->kube, path, body, &resp, &err);
	if (rc < 0)
		return -1;
	doctor_pod_injection(resp, &inj);
	return inj.role_arn != NULL;
}

/* --- the token ------------------------------------------------------------------ */

/* iss, sub and aud of the token (its payload, not verified: the API server
 * just issued it). */
static int token_claims(struct doctor *d)
{
	json_t *claims = jwt_payload(d->token);
	const char *iss = json_string_value(json_object_get(claims, "iss"));
	int rc = -EINVAL;

	if (iss) {
		str_copy(d->iss_host, sizeof(d->iss_host), str_startswith(iss, "https://") ? iss + 8 : iss);
		str_copy(d->sub, sizeof(d->sub), json_string_value(json_object_get(claims, "sub")) ?: "");
		str_copy(d->aud, sizeof(d->aud), jwt_first_audience(claims) ?: "");
		rc = 0;
	}
	json_decref(claims);
	return rc;
}

/* The role to check: its ARN, name and partition. */
static void set_role(struct doctor *d, const char *arn)
{
	const char *slash = strrchr(arn, '/');
	const char *p = str_startswith(arn, "arn:") ? arn + 4 : NULL;

	str_copy(d->role_arn, sizeof(d->role_arn), arn);
	str_copy(d->role_name, sizeof(d->role_name), slash ? slash + 1 : "");
	str_format(d->partition, sizeof(d->partition), "%.*s", p && strchr(p, ':') ? (int)(strchr(p, ':') - p) : 3,
		   p ? p : "aws");
}

/* --- the checks ------------------------------------------------------------------- */

static void check_service_account(struct doctor *d)
{
	char path[600];
	json_t *anns;
	const char *arn, *typo, *aud;
	struct op_err err;
	int rc;

	str_format(path, sizeof(path), "/api/v1/namespaces/%s/serviceaccounts/%s", d->ns, d->sa_name);
	rc = kget(d, path, &d->sa, &err);
	if (rc < 0) {
		add(d, "service-account", FAIL, rc == -ENOENT ? "create it, or fix the pod's serviceAccountName" : NULL,
		    "ServiceAccount %s/%s: %s", d->ns, d->sa_name, rc == -ENOENT ? "not found" : err.message);
		return;
	}
	anns = json_object_get(json_object_get(d->sa, "metadata"), "annotations");
	arn = json_string_value(json_object_get(anns, ANN_ROLE_ARN));
	typo = doctor_annotation_typo(anns);
	aud = json_string_value(json_object_get(anns, ANN_AUDIENCE));
	str_copy(d->audience, sizeof(d->audience), aud ? aud : WI_DEFAULT_AUDIENCE);
	if (!arn) {
		char fix[600];

		str_format(fix, sizeof(fix), typo ? "rename the annotation '%s' to '" ANN_ROLE_ARN "'"
						  : "annotate it with " ANN_ROLE_ARN "=<role ARN> (a WorkloadIdentity does)",
			   typo ? typo : "");
		add(d, "service-account", FAIL, fix, "ServiceAccount %s/%s has no " ANN_ROLE_ARN " annotation%s%s%s",
		    d->ns, d->sa_name, typo ? "; it has '" : "", typo ? typo : "", typo ? "', which is mistyped" : "");
		return;
	}
	set_role(d, arn);
	add(d, "service-account", PASS, NULL, "ServiceAccount %s/%s: " ANN_ROLE_ARN "=%s, audience %s%s%s", d->ns,
	    d->sa_name, arn, d->audience, typo ? "; note: it also has the near-miss annotation " : "", typo ? typo : "");
}

static void check_role(struct doctor *d)
{
	_cleanup_(iam_role_freep) struct iam_role *role = NULL;
	struct op_err err;
	int rc;

	if (!d->role_arn[0]) {
		add(d, "role", SKIP, NULL, "no role ARN to look up");
		return;
	}
	op_err_clear(&err);
	rc = iam_get_role(d->aws, d->role_name, &role, &err);
	if (rc < 0) {
		add(d, "role", FAIL, rc == -ENOENT ? "create the role, or fix the annotation's ARN" : NULL,
		    "IAM role %s: %s", d->role_name, rc == -ENOENT ? "does not exist (in the account of doctor's "
								     "credentials)" : err.message);
		return;
	}
	if (role->arn && !streq(role->arn, d->role_arn)) {
		add(d, "role", FAIL, "fix the annotation's ARN (path and account must be the role's)",
		    "the annotation names %s, the role of that name is %s", d->role_arn, role->arn);
		return;
	}
	d->role_found = true;
	d->trust = role->assume_role_policy ? strdup(role->assume_role_policy) : NULL;
	add(d, "role", PASS, NULL, "IAM role %s exists", d->role_arn);
}

static void check_provider(struct doctor *d)
{
	_cleanup_(iam_oidc_provider_freep) struct iam_oidc_provider *p = NULL;
	struct aws_str_list arns = { 0 };
	const char *acct = strstr(d->role_arn, ":iam::");
	struct op_err err;
	int rc;

	if (!d->iss_host[0] || !acct) {
		add(d, "oidc-provider", SKIP, NULL, "no token issuer or role account to check against");
		return;
	}
	str_format(d->provider_arn, sizeof(d->provider_arn), "arn:%s:iam::%.12s:oidc-provider/%s", d->partition, acct + 6,
		   d->iss_host);
	op_err_clear(&err);
	rc = iam_list_oidc_providers(d->aws, &arns, &err);
	if (rc >= 0)
		rc = aws_str_list_index(&arns, d->provider_arn) >= 0 ? iam_get_oidc_provider(d->aws, d->provider_arn, &p, &err)
								    : -ENOENT;
	aws_str_list_release(&arns);
	if (rc == -ENOENT) {
		add(d, "oidc-provider", FAIL,
		    "register the cluster's issuer as an IAM OIDC provider (keyless does it with manageOidcProvider), "
		    "with the audience as client id",
		    "no IAM OIDC provider %s: STS answers InvalidIdentityToken for every token of this cluster",
		    d->provider_arn);
		return;
	}
	if (rc < 0) {
		add(d, "oidc-provider", FAIL, NULL, "reading IAM OIDC providers: %s", err.message);
		return;
	}
	if (aws_str_list_index(&p->client_ids, d->audience) < 0) {
		add(d, "oidc-provider", FAIL, "add the audience to the provider's client ids",
		    "IAM OIDC provider %s does not list the audience '%s' as a client id", d->provider_arn, d->audience);
		return;
	}
	add(d, "oidc-provider", PASS, NULL, "IAM OIDC provider %s lists client id '%s'", d->provider_arn, d->audience);
}

static void check_pod(struct doctor *d, json_t *pod)
{
	const char *name = json_string_value(json_object_get(json_object_get(pod, "metadata"), "name")) ?: "?";
	const char *created = json_string_value(json_object_get(json_object_get(pod, "metadata"), "creationTimestamp"));
	const char *sa = json_string_value(json_object_get(json_object_get(pod, "spec"), "serviceAccountName"));
	const char *annotated = d->sa ? annotation_time(d->sa) : NULL;
	struct pod_injection inj;
	char fix[600];

	if (!streq(sa ? sa : "default", d->sa_name)) {
		add(d, "pod-service-account", FAIL, "set the pod template's serviceAccountName",
		    "pod %s runs as service account '%s', not '%s'", name, sa ? sa : "default", d->sa_name);
		return;
	}
	doctor_pod_injection(pod, &inj);
	if (!inj.role_arn || !inj.token_file || !inj.token_volume) {
		/* created before the annotation: the webhook injects only at creation */
		/* would the webhook inject it today? A dry-run create of the same
		 * spec goes through admission (the webhook has no side effects) */
		int today = webhook_injects_now(d, pod);

		if (today > 0) {
			add(d, "injection", FAIL, "restart the workload (kubectl rollout restart), or let keyless do it",
			    "pod %s has no AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE, but the webhook injects them into the "
			    "same pod created now (a dry run): the pod was created at %s, before the service account's "
			    "annotation%s%s%s", name, created ? created : "?", annotated ? " (" : "",
			    annotated ? annotated : "", annotated ? ")" : "");
		} else if (!webhook_registered(d)) {
			add(d, "injection", FAIL, "install AWS's amazon-eks-pod-identity-webhook (EKS runs it for you)",
			    "pod %s has no AWS_ROLE_ARN: no pod identity webhook is registered "
			    "(MutatingWebhookConfiguration)", name);
		} else {
			add(d, "injection", FAIL,
			    "check that the webhook runs and its logs; pods opt out with the label "
			    "eks.amazonaws.com/skip-pod-identity-webhook",
			    "pod %s has no AWS_ROLE_ARN and the same pod created now (a dry run) gets none either, although "
			    "a pod identity webhook is registered: it is down or skips the pod (failurePolicy Ignore)",
			    name);
		}
		return;
	}
	if (d->role_arn[0] && !streq(inj.role_arn, d->role_arn)) {
		add(d, "injection", FAIL, "restart the workload: the annotation changed since it started",
		    "pod %s has AWS_ROLE_ARN=%s, the service account now names %s", name, inj.role_arn, d->role_arn);
		return;
	}
	if (inj.unreadable) {
		str_format(fix, sizeof(fix), "set the pod's securityContext.fsGroup (e.g. 65534) so container '%s' can "
			   "read the token file", inj.unreadable);
		add(d, "injection", FAIL, fix,
		    "pod %s: container '%s' runs as non-root and the pod has no fsGroup: it may not read the projected "
		    "token file", name, inj.unreadable);
		return;
	}
	add(d, "injection", PASS, NULL, "pod %s has AWS_ROLE_ARN=%s, AWS_WEB_IDENTITY_TOKEN_FILE and the aws-iam-token "
	    "volume", name, inj.role_arn);
}

static void check_pods(struct doctor *d)
{
	json_t *pod;
	size_t i, n = 0;

	json_array_foreach(d->pods, i, pod) {
		if (n++ >= MAX_PODS)
			break;
		check_pod(d, pod);
	}
	if (!n)
		add(d, "injection", SKIP, NULL, "no pod of service account %s/%s to check", d->ns, d->sa_name);
}

static void check_trust(struct doctor *d)
{
	struct web_identity_claims c = { d->provider_arn, d->iss_host, d->sub, d->aud };
	struct trust_diagnosis diag;
	struct check *ck;
	struct strfmt f;

	if (!d->role_found || !d->token) {
		add(d, "trust", SKIP, NULL, "no role or no token to check the trust policy with");
		return;
	}
	diagnose_web_identity(d->trust, &c, &diag);
	if (diag.allowed) {
		add(d, "trust", PASS, NULL, "the trust policy allows %s (aud %s) through %s%s", d->sub, d->aud,
		    d->provider_arn, diag.approximate ? " (a condition keyless does not evaluate was skipped)" : "");
		return;
	}
	ck = add(d, "trust", FAIL, "fix the trust policy (keyless writes it exactly from the WorkloadIdentity)",
		 "the trust policy does not allow the token (sub %s, aud %s, provider %s): ", d->sub, d->aud,
		 d->provider_arn);
	f = (struct strfmt)STRFMT_INIT(ck->evidence, sizeof(ck->evidence));
	f.len = strlen(ck->evidence);
	for (size_t i = 0; i < diag.n; i++)
		strfmt_add(&f, "%s%s", i ? "; " : "", diag.reasons[i]);
}

static void check_assume(struct doctor *d)
{
	_cleanup_(sts_assumed_role_freep) struct sts_assumed_role *out = NULL;
	struct op_err err;
	int rc;

	if (!d->assume)
		return;
	if (!d->token || !d->role_arn[0]) {
		add(d, "assume", SKIP, NULL, "no token or no role to assume");
		return;
	}
	op_err_clear(&err);
	rc = sts_assume_role_with_web_identity(d->aws, &(struct sts_assume_role_input){
							       .role_arn = d->role_arn,
							       .role_session_name = "keyless-doctor",
							       .web_identity_token = d->token,
						       },
					       &out, &err);
	if (rc < 0)
		add(d, "assume", FAIL, "see the trust and oidc-provider checks", "sts:AssumeRoleWithWebIdentity: %s: %s",
		    err.reason[0] ? err.reason : "error", err.message);
	else
		add(d, "assume", PASS, NULL, "sts:AssumeRoleWithWebIdentity gave credentials for %s", d->role_arn);
}

static void check_permissions(struct doctor *d)
{
	struct aws_str_list names = { 0 };
	struct iam_attached_policy_list att = { 0 };
	int decision = 0;
	bool conditional = false;
	struct op_err err;
	struct strfmt f;
	struct check *ck;

	if (!d->role_found) {
		add(d, "permissions", SKIP, NULL, "no role");
		return;
	}
	op_err_clear(&err);
	if (iam_list_role_policies(d->aws, d->role_name, &names, &err) < 0 ||
	    iam_list_attached_role_policies(d->aws, d->role_name, &att, &err) < 0) {
		add(d, "permissions", FAIL, NULL, "reading the role's policies: %s", err.message);
		goto out;
	}
	ck = add(d, "permissions", PASS, NULL, "inline policies:");
	f = (struct strfmt)STRFMT_INIT(ck->evidence, sizeof(ck->evidence));
	f.len = strlen(ck->evidence);
	for (size_t i = 0; i < names.n; i++) {
		_cleanup_free_ char *doc = NULL;
		json_t *root, *st;
		size_t k;
		bool cond = false;
		int dec;

		if (iam_get_role_policy(d->aws, d->role_name, names.items[i], &doc, &err) < 0)
			continue;
		root = json_loads(doc, 0, NULL);
		strfmt_add(&f, " %s [", names.items[i]);
		json_array_foreach(json_object_get(root, "Statement"), k, st) {
			json_t *a = json_object_get(st, "Action"), *r = json_object_get(st, "Resource");
			char *as = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY), *rs = json_dumps(r, JSON_COMPACT | JSON_ENCODE_ANY);

			strfmt_add(&f, "%s%s %s on %s", k ? "; " : "", json_string_value(json_object_get(st, "Effect")) ?: "?",
				   as ? as : "?", rs ? rs : "?");
			free(as);
			free(rs);
		}
		strfmt_add(&f, "]");
		json_decref(root);
		if (d->action && d->resource) {
			dec = doctor_policy_decision(doc, d->action, d->resource, &cond);
			conditional |= cond;
			if (dec < 0 || (dec > 0 && decision == 0))
				decision = dec;
		}
	}
	strfmt_add(&f, "; managed policies:");
	for (size_t i = 0; i < att.n; i++)
		strfmt_add(&f, " %s", att.items[i].arn);
	if (!att.n)
		strfmt_add(&f, " none");
	if (d->action && d->resource) {
		const char *what = decision > 0 ? "allowed" : decision < 0 ? "denied explicitly" : "not allowed";

		ck = add(d, "permission", decision > 0 ? PASS : FAIL,
			 decision > 0 ? NULL : "add a statement for it to the WorkloadIdentity's permissions",
			 "%s on %s: %s by the inline policies%s%s (a local approximation of IAM's evaluation)", d->action,
			 d->resource, what, conditional ? "; a statement with conditions applied (not evaluated)" : "",
			 att.n ? "; managed policies not evaluated" : "");
	}
out:
	aws_str_list_release(&names);
	iam_attached_policy_list_release(&att);
}

/* --- EKS Pod Identity ---------------------------------------------------------------- */

/* The association of (cluster, namespace, service account): found sets
 * d->pi and the role. quiet: a miss is not a check (IRSA is tried). */
static bool check_association(struct doctor *d, bool quiet)
{
	struct eks_pod_identity_association_list list = { 0 };
	_cleanup_(eks_pod_identity_association_freep) struct eks_pod_identity_association *a = NULL;
	_cleanup_(eks_cluster_freep) struct eks_cluster *cl = NULL;
	struct op_err err;
	int rc;

	if (!d->cluster) {
		if (!quiet)
			add(d, "association", FAIL, "give --cluster NAME", "EKS Pod Identity: which cluster? (--cluster)");
		return false;
	}
	op_err_clear(&err);
	rc = eks_list_pod_identity_associations(d->aws, d->cluster, d->ns, d->sa_name, 10, &list, &err);
	if (rc >= 0 && list.n)
		rc = eks_describe_pod_identity_association(d->aws, d->cluster, list.items[0].association_id, &a, &err);
	eks_pod_identity_association_list_release(&list);
	if (rc < 0 || !a) {
		if (!quiet)
			add(d, "association", FAIL,
			    rc < 0 ? NULL : "create one (keyless does, with spec.mode: PodIdentity)",
			    "no EKS Pod Identity association for %s/%s in cluster %s%s%s", d->ns, d->sa_name, d->cluster,
			    rc < 0 ? ": " : "", rc < 0 ? err.message : "");
		return false;
	}
	d->pi = true;
	d->session_tags = !a->disable_session_tags;
	set_role(d, a->role_arn ? a->role_arn : "");
	if (eks_describe_cluster(d->aws, d->cluster, &cl, &err) == 0 && cl->arn)
		str_copy(d->cluster_arn, sizeof(d->cluster_arn), cl->arn);
	add(d, "association", PASS, NULL, "EKS Pod Identity association %s binds %s/%s in cluster %s to %s%s%s",
	    a->association_id ? a->association_id : "?", d->ns, d->sa_name, d->cluster, d->role_arn,
	    a->target_role_arn ? ", chained into " : "", a->target_role_arn ? a->target_role_arn : "");
	return true;
}

static void check_pi_trust(struct doctor *d)
{
	const struct pod_identity_session s = { d->cluster_arn, d->cluster, d->ns, d->sa_name, d->session_tags };
	struct trust_diagnosis diag;
	struct check *ck;
	struct strfmt f;

	if (!d->role_found) {
		add(d, "trust", SKIP, NULL, "no role to check the trust policy of");
		return;
	}
	diagnose_pod_identity(d->trust, &s, &diag);
	if (diag.allowed) {
		add(d, "trust", PASS, NULL, "the trust policy allows EKS Pod Identity sessions of %s/%s in %s%s", d->ns,
		    d->sa_name, d->cluster_arn[0] ? d->cluster_arn : d->cluster,
		    diag.approximate ? " (a condition keyless does not evaluate was skipped)" : "");
		return;
	}
	ck = add(d, "trust", FAIL, "fix the trust policy (keyless writes it exactly from the WorkloadIdentity)",
		 "the trust policy does not allow the association's sessions (cluster %s, namespace %s, service "
		 "account %s): ", d->cluster_arn[0] ? d->cluster_arn : d->cluster, d->ns, d->sa_name);
	f = (struct strfmt)STRFMT_INIT(ck->evidence, sizeof(ck->evidence));
	f.len = strlen(ck->evidence);
	for (size_t i = 0; i < diag.n; i++)
		strfmt_add(&f, "%s%s", i ? "; " : "", diag.reasons[i]);
}

/* The Pod Identity Agent: its DaemonSet, and one of its pods on the pod's node. */
static void check_agent(struct doctor *d)
{
	json_auto_t *ds = NULL;
	json_t *pod = json_array_get(d->pods, 0), *it, *ref;
	const char *node = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
	struct op_err err;
	size_t i, j;

	if (kget(d, "/apis/apps/v1/namespaces/kube-system/daemonsets/eks-pod-identity-agent", &ds, &err) < 0) {
		add(d, "agent", FAIL, "install the EKS Pod Identity Agent add-on",
		    "no DaemonSet kube-system/eks-pod-identity-agent: no node runs the agent");
		return;
	}
	if (!node) {
		add(d, "agent", PASS, NULL, "DaemonSet kube-system/eks-pod-identity-agent exists (no scheduled pod to "
		    "check a node for)");
		return;
	}
	{
		json_auto_t *list = NULL;
		struct buf p = BUF_INIT(0);
		char sel[300];
		int rc;

		str_format(sel, sizeof(sel), "spec.nodeName=%s", node);
		rc = buf_printf(&p, "/api/v1/namespaces/kube-system/pods") < 0 || kube_query_add(&p, "fieldSelector", sel) < 0
			     ? -ENOMEM
			     : kget(d, p.data, &list, &err);
		buf_release(&p);
		json_array_foreach(json_object_get(list, "items"), i, it) {
			json_array_foreach(json_object_get(json_object_get(it, "metadata"), "ownerReferences"), j, ref) {
				if (streq(json_string_value(json_object_get(ref, "kind")) ?: "", "DaemonSet") &&
				    streq(json_string_value(json_object_get(ref, "name")) ?: "", "eks-pod-identity-agent")) {
					add(d, "agent", PASS, NULL, "the Pod Identity Agent runs on node %s (pod %s)", node,
					    json_string_value(json_object_get(json_object_get(it, "metadata"), "name")) ?: "?");
					return;
				}
			}
		}
		(void)rc;
	}
	add(d, "agent", FAIL, "check the DaemonSet's tolerations and node selector",
	    "DaemonSet kube-system/eks-pod-identity-agent has no pod on node %s, where the pod runs", node);
}

static void check_pi_pod(struct doctor *d, json_t *pod)
{
	const char *name = json_string_value(json_object_get(json_object_get(pod, "metadata"), "name")) ?: "?";
	struct pod_injection inj;

	doctor_pod_injection(pod, &inj);
	if (inj.container_credentials && inj.container_token_file) {
		add(d, "injection", PASS, NULL, "pod %s has AWS_CONTAINER_CREDENTIALS_FULL_URI and "
		    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", name);
		return;
	}
	if (webhook_injects_now(d, pod) > 0)
		add(d, "injection", FAIL, "restart the workload (kubectl rollout restart), or let keyless do it",
		    "pod %s has no AWS_CONTAINER_CREDENTIALS_FULL_URI, but the same pod created now gets it (a dry "
		    "run): it was created before the association", name);
	else
		add(d, "injection", FAIL, "check that the pod identity webhook runs",
		    "pod %s has no AWS_CONTAINER_CREDENTIALS_FULL_URI and the same pod created now gets none either",
		    name);
}

/* --- the target ------------------------------------------------------------------- */

static int resolve(struct doctor *d)
{
	char path[700];
	struct op_err err;
	int rc;

	if (streq(d->kind, "pod")) {
		json_t *pod = NULL;

		str_format(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", d->ns, d->name);
		rc = kget(d, path, &pod, &err);
		if (rc < 0) {
			add(d, "target", FAIL, NULL, "pod %s/%s: %s", d->ns, d->name, rc == -ENOENT ? "not found" : err.message);
			return -1;
		}
		str_copy(d->sa_name, sizeof(d->sa_name),
			 json_string_value(json_object_get(json_object_get(pod, "spec"), "serviceAccountName")) ?: "default");
		d->pods = json_array();
		json_array_append_new(d->pods, pod);
		return 0;
	}
	if (streq(d->kind, "workloadidentity")) {
		json_auto_t *wi = NULL;
		const char *mode;

		str_format(path, sizeof(path), "/apis/keyless.dev/v1alpha1/namespaces/%s/workloadidentities/%s", d->ns,
			   d->name);
		rc = kget(d, path, &wi, &err);
		if (rc < 0) {
			add(d, "target", FAIL, NULL, "WorkloadIdentity %s/%s: %s", d->ns, d->name,
			    rc == -ENOENT ? "not found" : err.message);
			return -1;
		}
		mode = json_string_value(json_object_get(json_object_get(wi, "status"), "mode"));
		d->pi = mode && streq(mode, "PodIdentity");
		str_copy(d->sa_name, sizeof(d->sa_name),
			 json_string_value(json_object_get(json_object_get(wi, "spec"), "serviceAccountName")) ?: "");
	} else {
		str_copy(d->sa_name, sizeof(d->sa_name), d->name);
	}
	/* the service account's pods */
	{
		json_auto_t *list = NULL;
		struct buf p = BUF_INIT(0);

		char selector[300];

		str_format(selector, sizeof(selector), "spec.serviceAccountName=%s", d->sa_name);
		rc = buf_printf(&p, "/api/v1/namespaces/%s/pods", d->ns) < 0 || kube_query_add(&p, "fieldSelector", selector) < 0
			     ? -ENOMEM
			     : kget(d, p.data, &list, &err);
		buf_release(&p);
		d->pods = json_array();
		if (rc == 0) {
			json_t *it;
			size_t i;

			json_array_foreach(json_object_get(list, "items"), i, it) {
				const char *phase = json_string_value(json_object_get(json_object_get(it, "status"), "phase"));

				if (!phase || streq(phase, "Running") || streq(phase, "Pending"))
					json_array_append(d->pods, it);
			}
		}
	}
	return 0;
}

static void print(struct doctor *d)
{
	static const char *const names[] = { "pass", "fail", "skip" };
	bool ok = true;

	for (size_t i = 0; i < d->n; i++)
		ok &= d->checks[i].st != FAIL;
	if (d->json_out) {
		json_auto_t *out = json_pack("{s:s, s:s, s:s, s:b, s:[]}", "target", d->kind, "namespace", d->ns, "name",
					     d->name, "ok", ok, "checks");
		_cleanup_free_ char *text = NULL;

		for (size_t i = 0; i < d->n; i++) {
			json_t *c = json_pack("{s:s, s:s, s:s}", "id", d->checks[i].id, "status", names[d->checks[i].st],
					      "evidence", d->checks[i].evidence);

			if (d->checks[i].fix[0])
				json_object_set_new(c, "fix", json_string(d->checks[i].fix));
			json_array_append_new(json_object_get(out, "checks"), c);
		}
		text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			puts(text);
		return;
	}
	printf("keyless doctor: %s %s/%s\n", d->kind, d->ns, d->name);
	for (size_t i = 0; i < d->n; i++) {
		printf("[%s] %-19s %s\n", names[d->checks[i].st], d->checks[i].id, d->checks[i].evidence);
		if (d->checks[i].st == FAIL && d->checks[i].fix[0])
			printf("       %-19s fix: %s\n", "", d->checks[i].fix);
	}
	printf("%s\n", ok ? "all checks passed" : "a check failed");
}

static int open_clients(struct doctor *d, struct kube_config **cfg)
{
	struct kube_config_opts co = { 0 };
	struct kube_client_opts ko = { 0 };
	struct aws_client_opts ao = { 0 };
	struct op_err err;

	op_err_clear(&err);
	if (kube_config_load(&co, cfg, &err) < 0 || kube_client_new(*cfg, &ko, &d->kube, &err) < 0) {
		fprintf(stderr, "keyless doctor: Kubernetes: %s\n", err.message);
		return -1;
	}
	if (!d->ns)
		d->ns = (*cfg)->namespace ? (*cfg)->namespace : "default";
	if (aws_client_new(&ao, &d->aws, &err) < 0) {
		fprintf(stderr, "keyless doctor: AWS: %s\n", err.message);
		return -1;
	}
	return 0;
}

int cli_doctor(int argc, char **argv)
{
	struct doctor d = { 0 };
	struct kube_config *cfg = NULL;
	const char *target = NULL, *output = "text";
	struct op_err err;
	char kind[64];
	bool ok = true;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (streq(a, "-h") || streq(a, "--help")) {
			usage(stdout);
			return 0;
		} else if ((streq(a, "-n") || streq(a, "--namespace")) && i + 1 < argc) {
			d.ns = argv[++i];
		} else if ((streq(a, "-o") || streq(a, "--output")) && i + 1 < argc) {
			output = argv[++i];
		} else if (streq(a, "--assume")) {
			d.assume = true;
		} else if (streq(a, "--action") && i + 1 < argc) {
			d.action = argv[++i];
		} else if (streq(a, "--resource") && i + 1 < argc) {
			d.resource = argv[++i];
		} else if (streq(a, "--cluster") && i + 1 < argc) {
			d.cluster = argv[++i];
		} else if (a[0] != '-' && !target) {
			target = a;
		} else {
			fprintf(stderr, "keyless doctor: unknown or incomplete argument '%s'\n\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!target || !strchr(target, '/') || (!streq(output, "text") && !streq(output, "json")) ||
	    !d.action != !d.resource) {
		fprintf(stderr, "keyless doctor: give one of pod/NAME, serviceaccount/NAME, workloadidentity/NAME; "
				"-o text or json; --action with --resource\n\n");
		usage(stderr);
		return 2;
	}
	str_format(kind, sizeof(kind), "%.*s", (int)(strchr(target, '/') - target), target);
	if (streq(kind, "po") || streq(kind, "pods"))
		str_copy(kind, sizeof(kind), "pod");
	else if (streq(kind, "sa") || streq(kind, "serviceaccounts"))
		str_copy(kind, sizeof(kind), "serviceaccount");
	else if (streq(kind, "wi") || streq(kind, "workloadidentities"))
		str_copy(kind, sizeof(kind), "workloadidentity");
	if (!streq(kind, "pod") && !streq(kind, "serviceaccount") && !streq(kind, "workloadidentity")) {
		fprintf(stderr, "keyless doctor: '%s' is not pod/, serviceaccount/ or workloadidentity/\n", target);
		return 2;
	}
	d.kind = kind;
	d.name = strchr(target, '/') + 1;
	d.json_out = streq(output, "json");
	if (open_clients(&d, &cfg) < 0) {
		ok = false;
		goto out;
	}
	if (resolve(&d) == 0 && (d.pi || (d.cluster && check_association(&d, true)))) {
		/* the EKS Pod Identity chain */
		if (!d.role_arn[0] && !check_association(&d, false))
			goto print;
		check_role(&d);
		check_pi_trust(&d);
		if (json_array_size(d.pods)) {
			check_agent(&d);
			for (size_t i = 0; i < json_array_size(d.pods) && i < MAX_PODS; i++)
				check_pi_pod(&d, json_array_get(d.pods, i));
		} else {
			add(&d, "injection", SKIP, NULL, "no pod of service account %s/%s to check", d.ns, d.sa_name);
		}
		if (d.assume)
			add(&d, "assume", SKIP, NULL, "EKS Auth is asked by the agent on the node only; doctor cannot "
			    "call it from here");
		check_permissions(&d);
	} else if (!d.n) {
		check_service_account(&d);
		check_role(&d);
		if (d.role_arn[0]) {
			op_err_clear(&err);
			if (kube_service_account_token(d.kube, d.ns, d.sa_name, d.audience, TOKEN_SECONDS, &d.token, &err) < 0 ||
			    token_claims(&d) < 0)
				add(&d, "token", FAIL, "grant create on serviceaccounts/token, or check the API server",
				    "a token for %s/%s (audience %s) could not be had: %s", d.ns, d.sa_name, d.audience,
				    err.message[0] ? err.message : "undecodable");
		}
		check_provider(&d);
		check_pods(&d);
		check_trust(&d);
		check_assume(&d);
		check_permissions(&d);
	}
print:
	print(&d);
	for (size_t i = 0; i < d.n; i++)
		ok &= d.checks[i].st != FAIL;
out:
	if (d.token) {
		explicit_bzero(d.token, strlen(d.token));
		free(d.token);
	}
	free(d.trust);
	json_decref(d.sa);
	json_decref(d.pods);
	kube_client_free(d.kube);
	kube_config_free(cfg);
	aws_client_free(d.aws);
	return ok ? 0 : 1;
}
