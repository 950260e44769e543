#include "identity/render.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "identity/accounts.h"
#include "identity/desired.h"
#include "identity/documents.h"
#include "identity/guardrails.h"
#include "identity/mode.h"
#include "identity/naming.h"
#include "identity/spec.h"
#include "identity/trust.h"

#define PLACEHOLDER_UID "00000000-0000-0000-0000-000000000000"

static json_t *refused(json_t *out, const char *reason, const char *message)
{
	json_object_set_new(out, "error", json_pack("{s:s, s:s}", "reason", reason, "message", message));
	return out;
}

/* A copy of obj with what only the API server gives filled in. */
static json_t *completed(const struct render_in *in, json_t *obj, json_t *notes)
{
	json_t *o = json_deep_copy(obj), *meta;

	if (!o || !json_is_object(o))
		return o;
	meta = json_object_get(o, "metadata");
	if (!json_is_object(meta))
		return o; /* wi_spec_parse says what is wrong */
	if (!json_object_get(meta, "namespace") && in->default_namespace) {
		json_object_set_new(meta, "namespace", json_string(in->default_namespace));
		json_array_append_new(notes, json_sprintf("metadata.namespace: not set; rendered in namespace '%s' "
							  "(-n)", in->default_namespace));
	}
	if (!json_object_get(meta, "uid")) {
		json_object_set_new(meta, "uid", json_string(PLACEHOLDER_UID));
		json_array_append_new(notes, json_string("metadata.uid: assigned by the API server; the role's "
							 "keyless.dev/uid tag shows a placeholder"));
	}
	return o;
}

static json_t *doc_json(const char *text)
{
	return text ? json_loads(text, 0, NULL) : json_null();
}

static json_t *tags_json(const struct role_tags *t, bool placeholder_uid)
{
	json_t *o = json_object();

	for (size_t i = 0; i < t->n; i++)
		json_object_set_new(o, t->tags[i].key,
				    json_string(placeholder_uid && streq(t->tags[i].key, TAG_UID) ? "(metadata.uid)"
												   : t->tags[i].value));
	return o;
}

static json_t *strings(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *identity_render(const struct render_in *in, json_t *obj)
{
	const struct settings *s = in->settings;
	json_t *out = json_object(), *notes = json_array(), *o = NULL, *role, *ret = NULL;
	struct wi_spec *sp = NULL;
	struct op_err err;
	struct account_choice ac;
	struct mode_choice mc;
	struct role_tags tags;
	char name[IAM_ROLE_NAME_MAX + 1], arn[1024], provider[768], cluster_arn[320], issuer_tag[260], desc[512],
		msg[700];
	char *trust = NULL, *perms = NULL, *session = NULL;
	long quota = in->trust_policy_quota > 0 ? in->trust_policy_quota
			: s->trust_policy_size_quota ? s->trust_policy_size_quota : IAM_TRUST_POLICY_SIZE_DEFAULT;
	bool placeholder_uid;
	int none;

	if (!out || !notes)
		goto fail;
	{
		json_t *meta = json_object_get(obj, "metadata");
		const char *ns = json_string_value(json_object_get(meta, "namespace"));
		const char *nm = json_string_value(json_object_get(meta, "name"));

		json_object_set_new(out, "workloadIdentity", json_sprintf("%s/%s", ns ? ns : in->default_namespace
										    ? in->default_namespace : "?",
									   nm ? nm : "?"));
	}
	o = completed(in, obj, notes);
	placeholder_uid = streq(json_string_value(json_object_get(json_object_get(o, "metadata"), "uid")) ?: "",
				PLACEHOLDER_UID);
	op_err_clear(&err);
	/* 1. the spec, the namespace, the guardrails, the account, the mode */
	if (wi_spec_parse(o, &sp, &err) < 0) {
		ret = refused(out, "InvalidSpec", err.message);
		goto done;
	}
	if (guardrails_check_namespace(&s->guardrails, sp->namespace, &err) < 0) {
		ret = refused(out, "NamespaceNotAllowed", err.message);
		goto done;
	}
	if (in->controller_namespace && !s->guardrails.allow_controller_namespace &&
	    streq(in->controller_namespace, sp->namespace)) {
		str_format(msg, sizeof(msg), "namespace '%s' is keyless' own; set guardrails.allowControllerNamespace: "
			   "true to allow it", sp->namespace);
		ret = refused(out, "NamespaceNotAllowed", msg);
		goto done;
	}
	if (guardrails_check_spec(&s->guardrails, sp, &err) < 0) {
		ret = refused(out, "PolicyRejected", err.message);
		goto done;
	}
	identity_account_choose(s, in->account_id, sp->namespace, sp, &ac);
	if (ac.refused) {
		ret = refused(out, "AccountNotAllowed", ac.message);
		goto done;
	}
	{
		const struct mode_policy mp = { s->default_mode, s->guardrails.allow_disable_session_tags };
		const struct mode_facts mf = { .agent_present = true, .cross_account = ac.entry != NULL };

		mode_choose(sp, &mp, &mf, &mc);
		if (mc.refused) {
			ret = refused(out, mc.reason, mc.message);
			goto done;
		}
		if (streq(mc.reason, "AutoPodIdentity"))
			json_array_append_new(notes, json_string("mode Auto: rendered as in a cluster that runs the EKS Pod "
								 "Identity Agent with no pod of the identity on Fargate "
								 "or Windows (else IRSA)"));
	}
	/* 2. the role */
	{
		const struct role_key k = { .issuer = in->issuer, .prefix = s->role_name_prefix, .path = s->role_path,
					    .cluster = s->cluster_name, .ns = sp->namespace, .name = sp->name,
					    .account = s->role_scope == ROLE_SCOPE_ACCOUNT };

		if (identity_role_name(&k, name, sizeof(name)) < 0) {
			str_format(msg, sizeof(msg), "metadata.name: '%s' cannot be part of an IAM role name", sp->name);
			ret = refused(out, "InvalidSpec", msg);
			goto done;
		}
	}
	str_format(arn, sizeof(arn), "arn:%s:iam::%s:role%s%s", in->partition, ac.account_id,
		   s->role_path ? s->role_path : "/", name);
	str_format(provider, sizeof(provider), "arn:%s:iam::%s:oidc-provider/%s", in->partition, ac.account_id,
		   identity_issuer_host(in->issuer));
	str_format(cluster_arn, sizeof(cluster_arn), "arn:%s:eks:%s:%s:cluster/%s", in->partition,
		   in->region ? in->region : "", in->account_id, s->cluster_name);
	{
		const char *const clusters[] = { cluster_arn };
		const struct trust_irsa irsa = { provider, in->issuer, sp->audience };
		const struct trust_pod_identity pi = { in->account_id, clusters, 1, !sp->disable_session_tags };
		const bool is_pi = mc.mode == WI_MODE_POD_IDENTITY;
		const struct trust_want w = { .ns = sp->namespace, .sa = sp->service_account, .irsa = &irsa,
					      .n_irsa = is_pi ? 0 : 1, .pod_identity = is_pi ? &pi : NULL };

		trust = identity_trust_document(&w);
	}
	perms = identity_permission_policy(sp, &none);
	if (!trust || (!perms && !none))
		goto fail;
	if (perms && identity_policy_size(perms) > IAM_INLINE_POLICY_SIZE_MAX) {
		str_format(msg, sizeof(msg), "spec.permissions.statements: the inline policy would be %zu characters; "
			   "IAM allows %d per role (without whitespace); use fewer statements or managedPolicyArns",
			   identity_policy_size(perms), IAM_INLINE_POLICY_SIZE_MAX);
		ret = refused(out, "PolicyTooLarge", msg);
		goto done;
	}
	if ((long)identity_policy_size(trust) > quota) {
		str_format(msg, sizeof(msg), "the trust policy of IAM role %s would be %zu characters; the account "
			   "allows %ld (trustPolicySizeQuota)", name, identity_policy_size(trust), quota);
		ret = refused(out, "TrustPolicyTooLarge", msg);
		goto done;
	}
	session = mc.mode == WI_MODE_POD_IDENTITY ? identity_session_policy(sp, &none) : NULL;
	if (mc.mode == WI_MODE_POD_IDENTITY && !session && !none)
		goto fail;
	if (session && identity_policy_size(session) > STS_SESSION_POLICY_SIZE_MAX) {
		str_format(msg, sizeof(msg), "spec.sessionPolicy: the session policy would be %zu characters; STS allows "
			   "%d (without whitespace)", identity_policy_size(session), STS_SESSION_POLICY_SIZE_MAX);
		ret = refused(out, "PolicyTooLarge", msg);
		goto done;
	}
	identity_issuer_tag(in->issuer, issuer_tag, sizeof(issuer_tag));
	{
		const struct role_owner_id who = { sp->namespace, sp->name, sp->uid, issuer_tag };

		identity_role_tags(s, &who, sp, &tags);
	}
	identity_role_description(s, sp->namespace, sp->name, sp, desc, sizeof(desc));
	json_object_set_new(out, "mode", json_string(wi_mode_name(mc.mode)));
	json_object_set_new(out, "modeReason", json_string(mc.message));
	role = json_object();
	json_object_set_new(out, "role", role);
	json_object_set_new(role, "name", json_string(name));
	json_object_set_new(role, "arn", json_string(arn));
	json_object_set_new(role, "path", json_string(s->role_path ? s->role_path : "/"));
	json_object_set_new(role, "description", json_string(desc));
	json_object_set_new(role, "maxSessionDuration",
			    json_integer(sp->max_session_duration ? sp->max_session_duration
								  : s->default_max_session_duration));
	json_object_set_new(role, "permissionsBoundary", ac.boundary[0] ? json_string(ac.boundary) : json_null());
	json_object_set_new(role, "trustPolicy", doc_json(trust));
	json_object_set_new(role, "permissionPolicy", doc_json(perms));
	json_object_set_new(role, "managedPolicyArns", strings(sp->managed_policy_arns, sp->n_managed_policy_arns));
	json_object_set_new(role, "tags", tags_json(&tags, placeholder_uid));
	if (mc.mode == WI_MODE_POD_IDENTITY) {
		json_t *a;

		json_object_set_new(out, "serviceAccount", json_pack("{s:s, s:{}}", "name", sp->service_account,
								      "annotations"));
		a = json_pack("{s:s, s:s, s:s, s:s}", "clusterName", s->cluster_name, "namespace", sp->namespace,
			      "serviceAccount", sp->service_account, "roleArn", arn);
		if (sp->target_role_arn)
			json_object_set_new(a, "targetRoleArn", json_string(sp->target_role_arn));
		json_object_set_new(a, "disableSessionTags", json_boolean(sp->disable_session_tags));
		if (session)
			json_object_set_new(a, "policy", doc_json(session));
		json_object_set_new(a, "tags", json_pack("{s:s, s:s, s:s, s:s}", TAG_CLUSTER, s->cluster_name,
							 TAG_NAMESPACE, sp->namespace, TAG_NAME, sp->name, TAG_UID,
							 placeholder_uid ? "(metadata.uid)" : sp->uid));
		json_object_set_new(out, "podIdentityAssociation", a);
	} else {
		json_t *ann = json_object();

		json_object_set_new(ann, ANN_ROLE_ARN, json_string(arn));
		json_object_set_new(ann, ANN_REGIONAL, json_string(sp->sts_regional_endpoints ? "true" : "false"));
		if (!streq(sp->audience, WI_DEFAULT_AUDIENCE))
			json_object_set_new(ann, ANN_AUDIENCE, json_string(sp->audience));
		json_object_set_new(out, "serviceAccount", json_pack("{s:s, s:o}", "name", sp->service_account,
								      "annotations", ann));
		json_array_append_new(notes, json_sprintf("the cluster's OIDC issuer is registered as IAM OIDC provider "
							  "%s with client id '%s'", provider, sp->audience));
	}
	ret = out;
done:
	if (json_array_size(notes))
		json_object_set_new(ret, "notes", json_incref(notes));
	goto release;
fail:
	json_decref(out);
	ret = NULL;
release:
	json_decref(notes);
	json_decref(o);
	wi_spec_free(sp);
	free(trust);
	free(perms);
	free(session);
	return ret;
}
