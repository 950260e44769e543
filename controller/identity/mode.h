/* mode.h: which way an identity's pods get credentials, and why (pure).
 *
 * spec.mode says IRSA, PodIdentity or Auto; absent, the settings'
 * defaultMode decides (itself IRSA unless set). Auto picks EKS Pod Identity
 * when the cluster runs the Pod Identity Agent (the eks-pod-identity-agent
 * DaemonSet in kube-system, or the EKS add-on) and none of the identity's
 * pods runs on Fargate or on a Windows node, where the agent is not
 * available; otherwise IRSA. The choice and its reason go to status.mode and
 * a condition message.
 *
 * Refusals (the identity is not Ready, nothing is written):
 *   PodIdentityFieldsInIRSAMode   spec.sessionPolicy, spec.targetRoleArn or
 *        spec.disableSessionTags while the mode in effect is IRSA (from the
 *        settings, or Auto falling back): applying the identity without them
 *        would give its pods more than it asked for (no session policy) or
 *        another role (no chaining), so keyless refuses instead.
 *   AccountIdInPodIdentityMode  spec.accountId (another account) while the
 *        mode in effect is Pod Identity: its roles live in the cluster's
 *        account (spec.targetRoleArn chains into another). Auto picks IRSA
 *        for such an identity (AutoCrossAccount).
 *   SessionTagsDisableNotAllowed  spec.disableSessionTags without the
 *        operator's guardrails.allowDisableSessionTags: with no session tags
 *        the role's trust cannot name the namespace and service account, so
 *        any association in the account could name the role.
 */
#ifndef KEYLESS_IDENTITY_MODE_H
#define KEYLESS_IDENTITY_MODE_H

#include <stdbool.h>
#include <stddef.h>

#include "identity/spec.h"

/* What the cluster says (gathered by reconcile/). */
struct mode_facts {
	bool agent_present;  /* the Pod Identity Agent DaemonSet (or add-on) exists */
	size_t fargate_pods; /* the identity's pods that run on Fargate */
	size_t windows_pods; /* the identity's pods that run on Windows nodes */
	bool cross_account;  /* spec.accountId names another account than the cluster's */
};

/* What the operator says (settings). */
struct mode_policy {
	enum wi_mode default_mode;        /* WI_MODE_DEFAULT means IRSA */
	bool allow_disable_session_tags;
};

struct mode_choice {
	enum wi_mode mode;   /* WI_MODE_IRSA or WI_MODE_POD_IDENTITY (meaningless when refused) */
	bool refused;
	const char *reason;  /* CamelCase: why this mode, or why refused */
	char message[512];   /* for the status condition and events */
};

void mode_choose(const struct wi_spec *s, const struct mode_policy *p, const struct mode_facts *f,
		 struct mode_choice *ret);

#endif
