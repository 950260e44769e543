#include "identity/mode.h"

#include <stdio.h>
#include <string.h>

#define MSG(c, ...) snprintf((c)->message, sizeof((c)->message), __VA_ARGS__)

/* The first Pod-Identity-only field the spec sets, or NULL. */
static const char *pod_identity_field(const struct wi_spec *s)
{
	if (s->n_session_statements)
		return "spec.sessionPolicy";
	if (s->target_role_arn)
		return "spec.targetRoleArn";
	if (s->disable_session_tags)
		return "spec.disableSessionTags";
	return NULL;
}

static void choose_auto(const struct mode_facts *f, struct mode_choice *c)
{
	c->mode = WI_MODE_IRSA;
	if (f->cross_account) {
		c->reason = "AutoCrossAccount";
		MSG(c, "IRSA: spec.mode is Auto and spec.accountId names another account, where only IRSA roles are "
		       "made");
	} else if (!f->agent_present) {
		c->reason = "AutoNoAgent";
		MSG(c, "IRSA: spec.mode is Auto and the cluster has no EKS Pod Identity Agent "
		       "(DaemonSet kube-system/eks-pod-identity-agent)");
	} else if (f->fargate_pods) {
		c->reason = "AutoFargate";
		MSG(c, "IRSA: spec.mode is Auto and %zu of the identity's pods run on Fargate, where EKS Pod Identity "
		       "is not available", f->fargate_pods);
	} else if (f->windows_pods) {
		c->reason = "AutoWindows";
		MSG(c, "IRSA: spec.mode is Auto and %zu of the identity's pods run on Windows nodes, where EKS Pod "
		       "Identity is not available", f->windows_pods);
	} else {
		c->mode = WI_MODE_POD_IDENTITY;
		c->reason = "AutoPodIdentity";
		MSG(c, "PodIdentity: spec.mode is Auto, the cluster runs the EKS Pod Identity Agent and no pod of the "
		       "identity runs on Fargate or Windows");
	}
}

void mode_choose(const struct wi_spec *s, const struct mode_policy *p, const struct mode_facts *f,
		 struct mode_choice *c)
{
	const char *field = pod_identity_field(s);

	*c = (struct mode_choice){ .mode = WI_MODE_IRSA };
	switch (s->mode) {
	case WI_MODE_IRSA:
	case WI_MODE_POD_IDENTITY:
		c->mode = s->mode;
		c->reason = "ModeRequested";
		MSG(c, "%s: spec.mode", wi_mode_name(s->mode));
		break;
	case WI_MODE_AUTO:
		choose_auto(f, c);
		break;
	case WI_MODE_DEFAULT:
		if (p->default_mode == WI_MODE_AUTO) {
			choose_auto(f, c);
			break;
		}
		c->mode = p->default_mode == WI_MODE_POD_IDENTITY ? WI_MODE_POD_IDENTITY : WI_MODE_IRSA;
		c->reason = "ModeDefault";
		MSG(c, "%s: the operator's defaultMode (spec.mode is not set)", wi_mode_name(c->mode));
		break;
	}
	if (c->mode == WI_MODE_POD_IDENTITY && (f->fargate_pods || f->windows_pods) && s->mode != WI_MODE_AUTO) {
		size_t used = strlen(c->message);

		snprintf(c->message + used, sizeof(c->message) - used,
			 "; warning: %zu pods on Fargate and %zu on Windows nodes cannot get EKS Pod Identity "
			 "credentials (use spec.mode IRSA or Auto)", f->fargate_pods, f->windows_pods);
	}
	if (field && c->mode == WI_MODE_IRSA) {
		char why[sizeof(c->message)];

		snprintf(why, sizeof(why), "%s", c->message);
		c->refused = true;
		c->reason = "PodIdentityFieldsInIRSAMode";
		MSG(c, "%s applies only to EKS Pod Identity, but the mode in effect is %.300s; set spec.mode to "
		       "PodIdentity, or remove %s", field, why, field);
		return;
	}
	if (f->cross_account && c->mode == WI_MODE_POD_IDENTITY) {
		const char *why = c->reason;

		c->refused = true;
		c->reason = "AccountIdInPodIdentityMode";
		MSG(c, "spec.accountId applies only to IRSA, but the mode in effect is Pod Identity (%s): its role "
		       "lives in the cluster's account. Use spec.targetRoleArn to chain into a role in another "
		       "account, or set spec.mode to IRSA", why);
		return;
	}
	if (s->disable_session_tags && c->mode == WI_MODE_POD_IDENTITY && !p->allow_disable_session_tags) {
		c->refused = true;
		c->reason = "SessionTagsDisableNotAllowed";
		MSG(c, "spec.disableSessionTags: without session tags the role's trust policy cannot name this "
		       "namespace and service account, so any pod identity association in the account could use "
		       "the role; the operator's guardrails.allowDisableSessionTags is false. Remove "
		       "spec.disableSessionTags, or ask the operator");
	}
}
