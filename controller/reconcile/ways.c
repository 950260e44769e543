/* How an identity's pods reach its role: the mode (IRSA or EKS Pod
 * Identity), the migration between them, and the trust policy that follows
 * (identity/mode.h, identity/migration.h, identity/trust.h decide; this file
 * gathers the facts). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/str.h"
#include "identity/trust.h"
#include "kube/project.h"
#include "reconcile/steps.h"

#define AGENT_NAMESPACE "kube-system"
#define AGENT_DAEMONSET "eks-pod-identity-agent"

/* The identity's pods (x->pods, counted once per reconcile by
 * wi_choose_mode): how many run on Fargate or Windows, and how many use each
 * way (a pod with keyless' role in AWS_ROLE_ARN uses IRSA; one with the
 * container-credentials variables uses Pod Identity). */
static void count_pods(struct rctx *x, struct way_pods *f)
{
	struct kube_cache *c = x->r->pods;

	memset(f, 0, sizeof(*f));
	kube_cache_rdlock(c);
	for (const struct kobj *o = kube_cache_index_first(c, x->ns, x->spec->service_account); o;
	     o = kube_cache_index_next(o)) {
		const struct pod_proj *p = (const struct pod_proj *)o;

		/* a terminating pod still runs (its grace period) and may still
		 * fetch credentials: it counts until it is gone */
		if (p->phase != POD_PENDING && p->phase != POD_RUNNING)
			continue;
		f->fargate += p->compute == COMPUTE_FARGATE;
		f->windows += (p->flags & POD_WINDOWS) != 0;
		if (p->flags & POD_HAS_CONTAINER_CREDS)
			f->pi++;
		else if (p->role_arn && wi_arn_is_ours(x, p->role_arn->s))
			f->irsa++;
	}
	kube_cache_rdunlock(c);
}

/* Does the cluster run the Pod Identity Agent? Only asked for Auto. */
static bool agent_present(struct rctx *x)
{
	json_auto_t *ds = NULL;
	struct op_err err;
	int rc;

	op_err_clear(&err);
	rc = x->r->kube->get(x->r->kube->ctx, &KUBE_DAEMONSETS, AGENT_NAMESPACE, AGENT_DAEMONSET, &ds, &err);
	if (rc < 0 && rc != -ENOENT)
		log_warn("%s/%s: reading DaemonSet %s/%s failed (%s); taking the Pod Identity Agent as absent", x->ns,
			 x->name, AGENT_NAMESPACE, AGENT_DAEMONSET, err.message);
	return rc == 0;
}

bool wi_choose_mode(struct rctx *x, struct op_err *err)
{
	const struct settings *s = x->r->settings;
	const struct mode_policy pol = { s->default_mode, s->guardrails.allow_disable_session_tags };
	struct mode_facts facts = { 0 };

	str_format(x->cluster_arn, sizeof(x->cluster_arn), "arn:%s:eks:%s:%s:cluster/%s", x->r->partition,
		   x->r->region ? x->r->region : "", x->r->account_id, s->cluster_name);
	count_pods(x, &x->pods);
	facts.fargate_pods = x->pods.fargate;
	facts.windows_pods = x->pods.windows;
	facts.cross_account = x->acct && x->acct != &x->r->home;
	if (x->spec->mode == WI_MODE_AUTO || (x->spec->mode == WI_MODE_DEFAULT && s->default_mode == WI_MODE_AUTO))
		facts.agent_present = agent_present(x);
	mode_choose(x->spec, &pol, &facts, &x->mode);
	if (x->mode.refused)
		return op_err_setr(err, -EINVAL, x->mode.reason, "%s", x->mode.message), false;
	/* why this mode (not for a plain IRSA identity under the default settings) */
	if (!streq(x->mode.reason, "ModeDefault") || s->default_mode != WI_MODE_IRSA ||
	    conditions_get(&x->conds, COND_MODE))
		conditions_set(&x->conds, COND_MODE, "True", x->mode.reason, x->mode.message, x->generation, x->now);
	return true;
}

static bool sa_annotated(struct rctx *x);

bool wi_needs_provider(struct rctx *x)
{
	/* IRSA chosen or in effect (an identity from before status.mode with a
	 * role was IRSA), or still used by the service account or pods */
	if (x->mode.mode == WI_MODE_IRSA || x->status_mode == WI_MODE_IRSA ||
	    (x->status_mode == WI_MODE_DEFAULT && x->recorded_role[0]) || sa_annotated(x))
		return true;
	return x->pods.irsa > 0;
}

/* Does the service account (as the cache has it) carry one of this object's
 * roles in its role-arn annotation? */
static bool sa_annotated(struct rctx *x)
{
	struct kube_cache *c = x->r->sas;
	const struct sa_proj *sa;
	bool ours;

	kube_cache_rdlock(c);
	sa = (const struct sa_proj *)kube_cache_get(c, x->ns, x->spec->service_account);
	ours = sa && sa->role_arn && wi_arn_is_ours(x, sa->role_arn);
	kube_cache_rdunlock(c);
	return ours;
}

void wi_plan_ways(struct rctx *x, int trust_kinds)
{
	struct mig_facts f;

	f = (struct mig_facts){
		.from = x->status_mode,
		.to = x->mode.mode,
		.trust = trust_kinds < 0 ? 0 : trust_kinds,
		.association = x->association_id[0] != '\0',
		.annotation = sa_annotated(x),
		.irsa_pods = x->pods.irsa,
		.pi_pods = x->pods.pi,
	};
	migration_plan(&f, &x->plan);
	x->planned = true;
	if (x->plan.phase != MIG_STEADY)
		conditions_set(&x->conds, COND_MIGRATING, "True", mig_phase_name(x->plan.phase), x->plan.message,
			       x->generation, x->now);
	else if (conditions_get(&x->conds, COND_MIGRATING))
		conditions_set(&x->conds, COND_MIGRATING, "False", "Done", "no migration in progress", x->generation,
			       x->now);
}

char *wi_trust_document(struct rctx *x, const struct trust_shared *others)
{
	const struct wi_spec *sp = x->spec;
	const char *const clusters[] = { x->cluster_arn };
	const struct trust_irsa irsa = { x->provider_arn, x->r->issuer, sp->audience };
	const struct trust_pod_identity pi = { x->r->account_id, clusters, 1, !sp->disable_session_tags };
	const struct trust_want w = {
		.ns = x->ns,
		.sa = sp->service_account,
		.irsa = &irsa,
		.n_irsa = x->plan.trust_irsa ? 1 : 0,
		.pod_identity = x->plan.trust_pod_identity ? &pi : NULL,
	};

	return others ? identity_trust_shared_document(others, &w) : identity_trust_document(&w);
}
