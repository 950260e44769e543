/* The EKS pod identity association of a WorkloadIdentity (Pod Identity
 * mode): found again by ListPodIdentityAssociations(namespace, service
 * account), owned when it carries keyless' tags for this cluster and object
 * (the same as its role's), created with an idempotency token, updated in
 * place, and never modified or deleted when someone else made it
 * (AssociationNotOwned). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aws/eks.h"
#include "aws/policy.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/str.h"
#include "identity/documents.h"
#include "reconcile/steps.h"

/* Does the association carry keyless' tags for this cluster and object? */
static bool association_ours(const struct rctx *x, const struct eks_pod_identity_association *a)
{
	const char *c = aws_tag_list_get(&a->tags, TAG_CLUSTER), *ns = aws_tag_list_get(&a->tags, TAG_NAMESPACE),
		   *name = aws_tag_list_get(&a->tags, TAG_NAME), *uid = aws_tag_list_get(&a->tags, TAG_UID);

	return c && ns && name && uid && streq(c, x->r->settings->cluster_name) && streq(ns, x->ns) &&
	       streq(name, x->name) && streq(uid, x->uid);
}

static void keep(struct rctx *x, struct eks_pod_identity_association *a)
{
	eks_pod_identity_association_free(x->assoc);
	x->assoc = a;
	str_copy(x->association_id, sizeof(x->association_id), a ? a->association_id : "");
	x->association_created_ns = a ? a->created_at_ns : 0;
}

static bool not_owned(struct rctx *x, const struct eks_pod_identity_association *a)
{
	char msg[900];

	str_format(msg, sizeof(msg),
		   "service account %s/%s already has pod identity association %s (role %s), which keyless did not "
		   "create for this WorkloadIdentity; keyless never changes or deletes it. Delete it, or use another "
		   "service account",
		   x->ns, x->spec->service_account, a->association_id, a->role_arn ? a->role_arn : "?");
	if (!conditions_get(&x->conds, COND_SA) || !streq(conditions_get(&x->conds, COND_SA)->reason, "AssociationNotOwned"))
		rctx_event(x, "Warning", "AssociationNotOwned", "ListPodIdentityAssociations", "%s", msg);
	conditions_set(&x->conds, COND_ROLE, "Unknown", "AssociationNotOwned", msg, x->generation, x->now);
	conditions_set(&x->conds, COND_SA, "False", "AssociationNotOwned", msg, x->generation, x->now);
	conditions_set(&x->conds, COND_WORKLOADS, "Unknown", "AssociationNotOwned", msg, x->generation, x->now);
	return false;
}

static int delete_one(struct rctx *x, const char *id, const char *why)
{
	struct op_err err;
	int rc;

	op_err_clear(&err);
	rc = x->r->aws->eks_delete_pod_identity_association(x->r->awsc, x->r->settings->cluster_name, id, NULL, &err);
	if (rc < 0 && rc != -ENOENT)
		return rctx_aws_failed(x, COND_SA, "eks:DeletePodIdentityAssociation", rc, &err), rc;
	rctx_event(x, "Normal", "AssociationDeleted", "DeletePodIdentityAssociation", "deleted pod identity association %s (%s)",
		   id, why);
	return 0;
}

/* Each association of (this namespace, sa), described, to fn (which takes
 * it, or NULL on stop). 0, or the first negative errno (an AWS failure is
 * reported on the condition; fn's own errors are returned as they are). */
static int each_association(struct rctx *x, const char *sa,
			    int (*fn)(struct rctx *x, struct eks_pod_identity_association *a))
{
	const char *cluster = x->r->settings->cluster_name;
	struct eks_pod_identity_association_list l = { 0 };
	struct op_err err;
	int rc;

	op_err_clear(&err);
	rc = x->r->aws->eks_list_pod_identity_associations(x->r->awsc, cluster, x->ns, sa, 0, &l, &err);
	if (rc < 0)
		return rctx_aws_failed(x, COND_SA, "eks:ListPodIdentityAssociations", rc, &err), rc;
	for (size_t i = 0; i < l.n && rc == 0; i++) {
		struct eks_pod_identity_association *a = NULL;

		op_err_clear(&err);
		rc = x->r->aws->eks_describe_pod_identity_association(x->r->awsc, cluster, l.items[i].association_id, &a,
								       &err);
		if (rc == -ENOENT)
			rc = 0; /* gone between the list and the describe */
		else if (rc < 0)
			rctx_aws_failed(x, COND_SA, "eks:DescribePodIdentityAssociation", rc, &err);
		else
			rc = fn(x, a);
	}
	eks_pod_identity_association_list_release(&l);
	return rc;
}

/* wi_find_association: keep ours; another's binds the service account. */
static int found(struct rctx *x, struct eks_pod_identity_association *a)
{
	if (association_ours(x, a)) {
		keep(x, a);
		return 0;
	}
	not_owned(x, a);
	eks_pod_identity_association_free(a);
	return -EPERM;
}

/* wi_delete_association: delete ours, leave the others. */
static int delete_if_ours(struct rctx *x, struct eks_pod_identity_association *a)
{
	int rc = association_ours(x, a) ? delete_one(x, a->association_id, "the WorkloadIdentity was deleted") : 0;

	eks_pod_identity_association_free(a);
	return rc;
}

bool wi_find_association(struct rctx *x)
{
	const char *cluster = x->r->settings->cluster_name;
	struct eks_pod_identity_association *a = NULL;
	struct op_err err;
	int rc;

	x->association_known = true;
	/* the one recorded in the status, read directly */
	if (x->association_id[0]) {
		op_err_clear(&err);
		rc = x->r->aws->eks_describe_pod_identity_association(x->r->awsc, cluster, x->association_id, &a, &err);
		if (rc == -ENOENT) {
			keep(x, NULL);
		} else if (rc < 0) {
			return rctx_aws_failed(x, COND_SA, "eks:DescribePodIdentityAssociation", rc, &err);
		} else if (!association_ours(x, a)) {
			eks_pod_identity_association_free(a);
			keep(x, NULL); /* the status named something that is not ours: look by service account */
		} else if (!streq(a->namespace_name ?: "", x->ns) ||
			   !streq(a->service_account ?: "", x->spec->service_account)) {
			/* spec.serviceAccountName moved: an association cannot move */
			rc = delete_one(x, a->association_id, "the WorkloadIdentity names another service account now");
			eks_pod_identity_association_free(a);
			keep(x, NULL);
			if (rc < 0)
				return false;
		} else {
			keep(x, a);
			return true;
		}
	}
	return each_association(x, x->spec->service_account, found) == 0;
}

/* The token of a create: the same for retries of the same request (this
 * object, generation and role), so a crash between EKS' answer and the
 * status write does not create a second one. */
static void create_token(const struct rctx *x, char *out, size_t size)
{
	str_format(out, size, "%.36s-%lld", x->uid, x->generation);
}

static bool create(struct rctx *x, const char *policy)
{
	const struct wi_spec *sp = x->spec;
	const struct aws_tag_in tags[] = {
		{ TAG_CLUSTER, x->r->settings->cluster_name }, { TAG_NAMESPACE, x->ns }, { TAG_NAME, x->name },
		{ TAG_UID, x->uid },
	};
	char token[64];
	struct eks_create_pod_identity_association_input in = {
		.cluster_name = x->r->settings->cluster_name,
		.namespace_name = x->ns,
		.service_account = sp->service_account,
		.role_arn = x->role_arn,
		.tags = tags,
		.n_tags = ARRAY_SIZE(tags),
		.target_role_arn = sp->target_role_arn,
		.policy = policy,
		.disable_session_tags = sp->disable_session_tags,
	};
	struct eks_pod_identity_association *a = NULL;
	struct op_err err;
	int rc;

	create_token(x, token, sizeof(token));
	in.client_request_token = token;
	op_err_clear(&err);
	rc = x->r->aws->eks_create_pod_identity_association(x->r->awsc, &in, &a, &err);
	if (rc < 0)
		return rctx_aws_failed(x, COND_SA, "eks:CreatePodIdentityAssociation", rc, &err);
	keep(x, a);
	rctx_event(x, "Normal", "AssociationCreated", "CreatePodIdentityAssociation",
		   "created pod identity association %s: service account %s -> role %s%s%s", x->association_id,
		   sp->service_account, x->role_arn, sp->target_role_arn ? " -> target role " : "",
		   sp->target_role_arn ? sp->target_role_arn : "");
	return true;
}

static bool same_policy(const char *have, const char *want)
{
	if (!have || !want)
		return !have && !want;
	return aws_policy_equal(have, want) == 1;
}

bool wi_ensure_association(struct rctx *x)
{
	const struct wi_spec *sp = x->spec;
	const struct eks_pod_identity_association *a = x->assoc;
	_cleanup_free_ char *policy = NULL;
	struct eks_update_pod_identity_association_input up = { 0 };
	struct eks_pod_identity_association *updated = NULL;
	struct op_err err;
	int none, rc;
	bool differs;

	if (!x->association_known)
		return true; /* nothing was looked up (a fresh reconcile): nothing to change */
	if (!x->plan.association) {
		if (!x->association_id[0])
			return true;
		rc = delete_one(x, x->association_id, x->plan.phase == MIG_STEADY ? "the identity uses IRSA"
										: "migrating to IRSA");
		if (rc < 0)
			return false;
		keep(x, NULL);
		return true;
	}
	policy = identity_session_policy(sp, &none);
	if (!policy && !none) {
		x->transient = true;
		return false;
	}
	if (policy && identity_policy_size(policy) > STS_SESSION_POLICY_SIZE_MAX) {
		char msg[300];

		str_format(msg, sizeof(msg), "spec.sessionPolicy: the session policy would be %zu characters; STS allows %d "
			   "(without whitespace)", identity_policy_size(policy), STS_SESSION_POLICY_SIZE_MAX);
		conditions_set(&x->conds, COND_SA, "False", "PolicyTooLarge", msg, x->generation, x->now);
		return false;
	}
	if (!a)
		return create(x, policy);
	/* a target role or session policy to remove: EKS documents no way to
	 * clear them in an update, so the association is made again */
	if ((a->target_role_arn && !sp->target_role_arn) || (a->policy && !policy)) {
		rc = delete_one(x, a->association_id, "its target role or session policy was removed from the spec");
		keep(x, NULL);
		return rc == 0 && create(x, policy);
	}
	differs = false;
	up.cluster_name = x->r->settings->cluster_name;
	up.association_id = a->association_id;
	if (!streq(a->role_arn ?: "", x->role_arn))
		differs = true, up.role_arn = x->role_arn;
	if (sp->target_role_arn && !streq(a->target_role_arn ?: "", sp->target_role_arn))
		differs = true, up.target_role_arn = sp->target_role_arn;
	if (policy && !same_policy(a->policy, policy))
		differs = true, up.policy = policy;
	if (a->disable_session_tags != sp->disable_session_tags) {
		differs = true;
		up.disable_session_tags = sp->disable_session_tags ? EKS_BOOL_TRUE : EKS_BOOL_FALSE;
	}
	if (!differs)
		return true;
	op_err_clear(&err);
	rc = x->r->aws->eks_update_pod_identity_association(x->r->awsc, &up, &updated, &err);
	if (rc < 0)
		return rctx_aws_failed(x, COND_SA, "eks:UpdatePodIdentityAssociation", rc, &err);
	rctx_event(x, "Normal", x->was_ready ? "DriftRepaired" : "AssociationUpdated", "UpdatePodIdentityAssociation",
		   "updated pod identity association %s to what the WorkloadIdentity says", a->association_id);
	keep(x, updated);
	return true;
}

int wi_delete_association(struct rctx *x, const char *sa)
{
	return sa ? each_association(x, sa, delete_if_ours) : 0;
}
