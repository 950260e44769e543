/* Unit tests of the reconciler in EKS Pod Identity mode (issue 12) against
 * in-memory AWS (IAM and EKS associations) and Kubernetes: the calls of a
 * new identity and of a no-op, the trust policy, the association and its
 * ownership, refusals, the migration from IRSA and back phase by phase,
 * Auto, and deletion. */
#include "support.h"

#include "base/clock.h"
#include "base/str.h"
#include "kube/project.h"
#include "reconcile/steps.h"
#include "world.h"

#define ROLE "prod+logging+s3-reader@711a7d1108366a9d"
#define ROLE_ARN "arn:aws:iam::123456789012:role/keyless/" ROLE
#define KEY "logging/s3-reader"

static const char settings_yaml[] = "clusterName: prod\n"
				    "accountId: \"123456789012\"\n"
				    "oidcIssuer: " WORLD_ISSUER "\n"
				    "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n";

static int setup(void **state)
{
	*state = world_new(settings_yaml, WORLD_ISSUER);
	return 0;
}

static int teardown(void **state)
{
	world_free(*state);
	return 0;
}

static void put_identity(struct world *w, const char *extra)
{
	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, world_sa("logging", "s3-reader-sa"));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", 9, extra));
}

/* Change the spec (a new generation), as kubectl apply would. */
static void set_spec(struct world *w, const char *key, json_t *value)
{
	json_t *o = json_deep_copy(fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader"));
	json_t *meta = json_object_get(o, "metadata");

	json_object_set_new(json_object_get(o, "spec"), key, value);
	json_object_set_new(meta, "generation", json_integer(json_integer_value(json_object_get(meta, "generation")) + 1));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, o);
}

static const char *cond(struct world *w, const char *type, const char *field)
{
	return world_cond(w, "logging", "s3-reader", type, field);
}

static const char *trust(struct world *w)
{
	struct fake_role *r = fake_aws_role(w->aws, ROLE);

	assert_non_null(r);
	return r->trust;
}

/* A running pod of s3-reader-sa owned by ReplicaSet web-1, created `at`
 * seconds after WORLD_NOW; with IRSA's AWS_ROLE_ARN, Pod Identity's
 * container credentials, or neither. */
enum pod_way { POD_NONE, POD_IRSA, POD_PI };

static json_t *pod(const char *name, long at, enum pod_way way)
{
	static int uid_n;
	char created[40], uid[40];
	json_t *env = json_array(), *p;

	if (way == POD_IRSA)
		json_array_append_new(env, json_pack("{s:s, s:s}", "name", "AWS_ROLE_ARN", "value", ROLE_ARN));
	if (way == POD_PI)
		json_array_append_new(env, json_pack("{s:s, s:s}", "name", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "value",
						     "http://169.254.170.23/v1/credentials"));
	rfc3339_format(WORLD_NOW + (int64_t)at * NSEC_PER_SEC, 0, created, sizeof(created));
	str_format(uid, sizeof(uid), "cccccccc-0000-0000-0000-%012d", ++uid_n);
	p = json_pack("{s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:b}]}, s:{s:s, s:[{s:s, s:o}]}, s:{s:s}}", "metadata",
		      "namespace", "logging", "name", name, "uid", uid, "creationTimestamp", created, "ownerReferences",
		      "kind", "ReplicaSet", "name", "web-1", "controller", 1, "spec", "serviceAccountName",
		      "s3-reader-sa", "containers", "name", "c", "env", env, "status", "phase", "Running");
	return p;
}

static void put_deployment(struct world *w)
{
	fake_kube_put(&w->kube, &KUBE_REPLICASETS,
		      json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:b}]}}", "metadata", "namespace", "logging", "name", "web-1",
				"ownerReferences", "kind", "Deployment", "name", "web", "controller", 1));
	fake_kube_put(&w->kube, &KUBE_DEPLOYMENTS,
		      json_pack("{s:{s:s, s:s}, s:{}}", "metadata", "namespace", "logging", "name", "web", "spec"));
}

static void gone(struct world *w, const char *pod_name)
{
	json_t *o = fake_kube_obj(&w->kube, &KUBE_PODS, "logging", pod_name);

	assert_non_null(o);
	json_object_set_new(json_object_get(o, "status"), "phase", json_string("Succeeded"));
	fake_kube_put(&w->kube, &KUBE_PODS, json_deep_copy(o));
}

static const char *role_annotation(struct world *w)
{
	return world_sa_annotation(w, "logging", "s3-reader-sa", "eks.amazonaws.com/role-arn");
}

static void test_podidentity__new_identity_calls_trust_association_then_noop(void **state)
{
	struct world *w = *state;
	struct fake_association *a;
	const char *t;

	put_identity(w, ",\"mode\":\"PodIdentity\"");
	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_OK);
	assert_string_equal(cond(w, "Ready", "status"), "True");
	/* no OIDC provider: Pod Identity does not use it */
	assert_string_equal(world_calls(w), "ListPodIdentityAssociations,CreateRole,PutRolePolicy,"
					    "CreatePodIdentityAssociation");
	assert_int_equal(w->aws->writes, 3);
	assert_false(w->aws->have_provider);
	assert_string_equal(cond(w, "OIDCProviderReady", "reason"), "NotNeeded");
	/* the trust names the service principal and binds the session tags */
	t = trust(w);
	assert_non_null(strstr(t, "\"Principal\":{\"Service\":\"pods.eks.amazonaws.com\"}"));
	assert_non_null(strstr(t, "\"Action\":[\"sts:AssumeRole\",\"sts:TagSession\"]"));
	assert_non_null(strstr(t, "\"aws:RequestTag/kubernetes-namespace\":\"logging\""));
	assert_non_null(strstr(t, "\"aws:RequestTag/kubernetes-service-account\":\"s3-reader-sa\""));
	assert_non_null(strstr(t, "\"aws:RequestTag/eks-cluster-arn\":\"arn:aws:eks:us-east-1:123456789012:cluster/prod\""));
	assert_null(strstr(t, "aws:SourceAccount")); /* EKS does not document setting it */
	assert_null(strstr(t, "Federated"));
	/* the association, tagged as keyless' own */
	a = fake_aws_association(w->aws, "logging", "s3-reader-sa");
	assert_non_null(a);
	assert_string_equal(a->role_arn, ROLE_ARN);
	assert_string_equal(aws_tag_list_get(&a->tags, "keyless.dev/uid"), "11111111-2222-3333-4444-000000000009");
	assert_string_equal(aws_tag_list_get(&a->tags, "keyless.dev/cluster"), "prod");
	assert_false(a->disable_session_tags);
	/* no IRSA annotation; the status says the mode and the association */
	assert_null(role_annotation(w));
	assert_string_equal(world_status(w, "logging", "s3-reader", "mode"), "PodIdentity");
	assert_string_equal(world_status(w, "logging", "s3-reader", "associationId"), a->id);
	assert_non_null(strstr(cond(w, "ServiceAccountReady", "message"), a->id));
	assert_string_equal(cond(w, "RoleReady", "message"),
			    "IAM role " ROLE " trusts only EKS Pod Identity sessions of logging/s3-reader-sa in cluster prod");
	assert_true(fake_kube_has_event(&w->kube, "AssociationCreated"));

	/* a second reconcile (keyless' own writes): nothing read, nothing written */
	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_OK);
	assert_string_equal(world_calls(w), "");
	assert_int_equal(w->kube.writes, 0);
	/* a resync: reads only, no writes anywhere */
	assert_int_equal(world_resync(w, KEY).outcome, RECONCILE_OK);
	assert_string_equal(world_calls(w), "DescribePodIdentityAssociation,GetRole,ListRolePolicies,GetRolePolicy,"
					    "ListAttachedRolePolicies");
	assert_int_equal(w->aws->writes, 0);
	assert_int_equal(w->kube.writes, 0);
}

static void test_podidentity__association_drift_repaired_in_place(void **state)
{
	struct world *w = *state;
	struct fake_association *a;

	put_identity(w, ",\"mode\":\"PodIdentity\"");
	world_run(w, KEY);
	a = fake_aws_association(w->aws, "logging", "s3-reader-sa");
	str_copy(a->role_arn, sizeof(a->role_arn), "arn:aws:iam::123456789012:role/elsewhere");
	world_resync(w, KEY);
	assert_non_null(strstr(world_calls(w), "UpdatePodIdentityAssociation"));
	assert_null(strstr(world_calls(w), "DeletePodIdentityAssociation"));
	assert_string_equal(a->role_arn, ROLE_ARN);
	assert_true(fake_kube_has_event(&w->kube, "DriftRepaired"));
	/* deleted behind keyless' back: made again */
	a->used = false;
	world_resync(w, KEY);
	assert_non_null(strstr(world_calls(w), "CreatePodIdentityAssociation"));
	assert_non_null(fake_aws_association(w->aws, "logging", "s3-reader-sa"));
	assert_string_equal(cond(w, "Ready", "status"), "True");
}

/* An association someone else made for the service account is never
 * changed or deleted, and the identity says why. */
static void test_podidentity__foreign_association_not_owned(void **state)
{
	struct world *w = *state;
	const struct aws_tag_in tags[] = { { "team", "x" } };
	struct eks_create_pod_identity_association_input in = {
		.cluster_name = "prod", .namespace_name = "logging", .service_account = "s3-reader-sa",
		.role_arn = "arn:aws:iam::123456789012:role/theirs", .tags = tags, .n_tags = 1,
	};
	struct op_err err;

	fake_aws_current = w->aws;
	assert_int_equal(fake_aws_api.eks_create_pod_identity_association(NULL, &in, NULL, &err), 0);
	put_identity(w, ",\"mode\":\"PodIdentity\"");
	world_run(w, KEY);
	assert_string_equal(cond(w, "Ready", "reason"), "AssociationNotOwned");
	assert_non_null(strstr(cond(w, "ServiceAccountReady", "message"), "role/theirs"));
	assert_null(strstr(world_calls(w), "UpdatePodIdentityAssociation"));
	assert_null(strstr(world_calls(w), "DeletePodIdentityAssociation"));
	assert_null(fake_aws_role(w->aws, ROLE)); /* nothing created before the binding is known to be possible */
	assert_string_equal(fake_aws_association(w->aws, "logging", "s3-reader-sa")->role_arn,
			    "arn:aws:iam::123456789012:role/theirs");
	/* deleting the identity leaves it too */
	world_delete(w, "logging", "s3-reader");
	world_run(w, KEY);
	assert_non_null(fake_aws_association(w->aws, "logging", "s3-reader-sa"));
}

static void test_podidentity__refusals_before_any_call(void **state)
{
	struct world *w = *state;

	/* a target role under IRSA (the settings' default): refused, not applied without it */
	put_identity(w, ",\"targetRoleArn\":\"arn:aws:iam::210987654321:role/reader\"");
	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_TERMINAL);
	assert_string_equal(cond(w, "Ready", "reason"), "PodIdentityFieldsInIRSAMode");
	assert_non_null(strstr(cond(w, "Ready", "message"), "spec.targetRoleArn"));
	assert_string_equal(world_calls(w), "");
	/* session tags off without the operator's guardrail */
	set_spec(w, "targetRoleArn", json_null());
	set_spec(w, "mode", json_string("PodIdentity"));
	set_spec(w, "disableSessionTags", json_true());
	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_TERMINAL);
	assert_string_equal(cond(w, "Ready", "reason"), "SessionTagsDisableNotAllowed");
	assert_string_equal(world_calls(w), "");
	assert_true(fake_kube_has_event(&w->kube, "SessionTagsDisableNotAllowed"));
}

static void test_podidentity__session_policy_and_target_role(void **state)
{
	struct world *w = *state;
	struct fake_association *a;

	world_set_settings(w, "clusterName: prod\naccountId: \"123456789012\"\noidcIssuer: " WORLD_ISSUER "\n"
			      "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n"
			      "guardrails: {allowDisableSessionTags: true}\n");
	put_identity(w, ",\"mode\":\"PodIdentity\",\"disableSessionTags\":true,"
			"\"targetRoleArn\":\"arn:aws:iam::210987654321:role/shared/reader\","
			"\"sessionPolicy\":{\"statements\":[{\"actions\":[\"s3:GetObject\"],"
			"\"resources\":[\"arn:aws:s3:::logs/app/*\"]}]}");
	world_run(w, KEY);
	assert_string_equal(cond(w, "Ready", "status"), "True");
	a = fake_aws_association(w->aws, "logging", "s3-reader-sa");
	assert_non_null(a);
	assert_true(a->disable_session_tags);
	assert_string_equal(a->target_role_arn, "arn:aws:iam::210987654321:role/shared/reader");
	assert_non_null(strstr(a->policy, "arn:aws:s3:::logs/app/*"));
	/* without session tags, the trust can name nothing */
	assert_null(strstr(trust(w), "kubernetes-namespace"));
	assert_non_null(strstr(cond(w, "RoleReady", "message"), "any pod identity association in the account"));
	assert_non_null(strstr(trust(w), "\"Action\":\"sts:AssumeRole\""));
	/* the target role removed from the spec: EKS cannot clear it in place, the association is made again */
	set_spec(w, "targetRoleArn", json_null());
	world_run(w, KEY);
	assert_non_null(strstr(world_calls(w), "DeletePodIdentityAssociation,CreatePodIdentityAssociation"));
	a = fake_aws_association(w->aws, "logging", "s3-reader-sa");
	assert_string_equal(a->target_role_arn, "");
	assert_non_null(a->policy);
	assert_string_equal(world_status(w, "logging", "s3-reader", "associationId"), a->id);
}

/* IRSA -> Pod Identity with a Deployment running throughout: each phase a
 * reconcile, every running pod's way trusted at every step, the same role. */
static void test_podidentity__migration_from_irsa_phase_by_phase(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	put_deployment(w);
	put_identity(w, "");
	world_run(w, KEY);
	assert_string_equal(cond(w, "Ready", "status"), "True");
	assert_string_equal(world_status(w, "logging", "s3-reader", "mode"), "IRSA");
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", 60, POD_IRSA));
	world_run(w, KEY);

	set_spec(w, "mode", json_string("PodIdentity"));
	/* 1: both trusts, the association made, the annotation kept; no restart yet; the next phase at once */
	res = world_run(w, KEY);
	assert_int_equal(res.outcome, RECONCILE_REQUEUE);
	assert_int_equal(res.after_ns, NSEC_PER_SEC);
	assert_string_equal(cond(w, "Migrating", "status"), "True");
	assert_string_equal(cond(w, "Migrating", "reason"), "AddTrust");
	assert_non_null(strstr(trust(w), "Federated"));
	assert_non_null(strstr(trust(w), "pods.eks.amazonaws.com"));
	assert_non_null(fake_aws_association(w->aws, "logging", "s3-reader-sa"));
	assert_string_equal(role_annotation(w), ROLE_ARN);
	assert_int_equal(fake_kube_count_calls(&w->kube, "patch deployments/web"), 0);
	assert_string_equal(world_status(w, "logging", "s3-reader", "mode"), "IRSA");
	assert_string_equal(cond(w, "Ready", "status"), "True"); /* credentials keep working */
	/* 2: the annotation goes */
	world_run(w, KEY);
	assert_string_equal(cond(w, "Migrating", "reason"), "Switch");
	assert_null(role_annotation(w));
	assert_non_null(strstr(trust(w), "Federated"));
	/* 3: the workload is restarted; the IRSA pod still runs, so its trust stays */
	world_run(w, KEY);
	assert_string_equal(cond(w, "Migrating", "reason"), "Restart");
	assert_int_equal(fake_kube_count_calls(&w->kube, "patch deployments/web"), 1);
	assert_non_null(strstr(trust(w), "Federated"));
	/* the rollout replaces the pod with one that has Pod Identity credentials */
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-b", 120, POD_PI));
	gone(w, "web-1-a");
	/* 4: no IRSA pod left: the OIDC statement goes; then Pod Identity is in effect */
	world_run(w, KEY);
	assert_string_equal(cond(w, "Migrating", "reason"), "DropTrust");
	assert_true(fake_kube_has_event(&w->kube, "TrustPolicyUpdated"));
	assert_false(fake_kube_has_event(&w->kube, "DriftRepaired")); /* a migration is not drift */
	assert_null(strstr(trust(w), "Federated"));
	world_run(w, KEY);
	assert_string_equal(cond(w, "Migrating", "status"), "False");
	assert_string_equal(world_status(w, "logging", "s3-reader", "mode"), "PodIdentity");
	assert_string_equal(world_status(w, "logging", "s3-reader", "roleArn"), ROLE_ARN); /* the same role */
	assert_string_equal(cond(w, "Ready", "status"), "True");
	/* the next full read finds nothing uses IRSA any more: the provider is
	 * no longer needed (one status write); after that a resync writes nothing */
	world_resync(w, KEY);
	assert_string_equal(cond(w, "OIDCProviderReady", "reason"), "NotNeeded");
	world_resync(w, KEY);
	assert_int_equal(w->aws->writes, 0);
	assert_int_equal(w->kube.writes, 0);
}

/* Pod Identity -> IRSA, and a crash (the memo lost) in the middle resumes
 * from what AWS and the cluster say. */
static void test_podidentity__migration_back_to_irsa_resumes_after_a_crash(void **state)
{
	struct world *w = *state;

	put_deployment(w);
	put_identity(w, ",\"mode\":\"PodIdentity\"");
	world_run(w, KEY);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", 60, POD_PI));
	world_run(w, KEY);
	assert_string_equal(cond(w, "Ready", "status"), "True");

	set_spec(w, "mode", json_string("IRSA"));
	world_run(w, KEY);
	assert_string_equal(cond(w, "Migrating", "reason"), "AddTrust");
	assert_string_equal(role_annotation(w), ROLE_ARN);
	assert_non_null(fake_aws_association(w->aws, "logging", "s3-reader-sa"));
	/* keyless restarts: a fresh reconciler memory, the same world */
	wi_memo_forget(&w->r, "logging", "s3-reader");
	world_run(w, KEY);
	assert_string_equal(cond(w, "Migrating", "reason"), "Switch");
	assert_null(fake_aws_association(w->aws, "logging", "s3-reader-sa"));
	world_run(w, KEY);
	assert_string_equal(cond(w, "Migrating", "reason"), "Restart");
	assert_non_null(strstr(trust(w), "pods.eks.amazonaws.com"));
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-b", 120, POD_IRSA));
	gone(w, "web-1-a");
	world_run(w, KEY);
	world_run(w, KEY);
	assert_string_equal(cond(w, "Migrating", "status"), "False");
	assert_string_equal(world_status(w, "logging", "s3-reader", "mode"), "IRSA");
	assert_null(strstr(trust(w), "pods.eks.amazonaws.com"));
	assert_null(world_status(w, "logging", "s3-reader", "associationId"));
}

static void test_podidentity__auto_follows_the_agent_and_the_pods(void **state)
{
	struct world *w = *state;
	json_t *win;

	put_identity(w, ",\"mode\":\"Auto\"");
	world_run(w, KEY);
	assert_string_equal(world_status(w, "logging", "s3-reader", "mode"), "IRSA");
	assert_non_null(strstr(cond(w, "Ready", "message"), "") ); /* Ready either way */
	/* the agent appears: Auto moves to Pod Identity (the migration's phases) */
	fake_kube_put(&w->kube, &KUBE_DAEMONSETS, json_pack("{s:{s:s, s:s}}", "metadata", "namespace", "kube-system",
							     "name", "eks-pod-identity-agent"));
	world_resync(w, KEY);
	assert_string_equal(cond(w, "Migrating", "reason"), "AddTrust");
	/* a pod on a Windows node: Auto stays on (returns to) IRSA */
	win = pod("web-1-w", 60, POD_IRSA);
	json_object_set_new(json_object_get(win, "spec"), "nodeSelector", json_pack("{s:s}", "kubernetes.io/os", "windows"));
	fake_kube_put(&w->kube, &KUBE_PODS, win);
	world_resync(w, KEY);
	world_resync(w, KEY);
	world_resync(w, KEY);
	assert_string_equal(world_status(w, "logging", "s3-reader", "mode"), "IRSA");
	assert_string_equal(cond(w, "ModeSelected", "reason"), "AutoWindows");
	assert_non_null(strstr(cond(w, "ModeSelected", "message"), "1 of the identity's pods run on Windows nodes"));
	assert_null(fake_aws_association(w->aws, "logging", "s3-reader-sa"));
	assert_string_equal(role_annotation(w), ROLE_ARN);
	assert_null(strstr(trust(w), "pods.eks.amazonaws.com"));
}

static void test_podidentity__deletion_removes_the_association_first(void **state)
{
	struct world *w = *state;

	put_identity(w, ",\"mode\":\"PodIdentity\"");
	world_run(w, KEY);
	world_delete(w, "logging", "s3-reader");
	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_OK);
	assert_string_equal(world_calls(w), "ListPodIdentityAssociations,DescribePodIdentityAssociation,"
					    "DeletePodIdentityAssociation,GetRole,ListRolePolicies,GetRolePolicy,"
					    "ListAttachedRolePolicies,DeleteRolePolicy,DeleteRole");
	assert_null(fake_aws_association(w->aws, "logging", "s3-reader-sa"));
	assert_null(fake_aws_role(w->aws, ROLE));
}

/* An IRSA identity costs no EKS call, created or deleted. */
static void test_podidentity__irsa_only_makes_no_eks_call(void **state)
{
	struct world *w = *state;

	put_identity(w, "");
	world_run(w, KEY);
	assert_null(strstr(world_calls(w), "PodIdentityAssociation"));
	world_resync(w, KEY);
	assert_null(strstr(world_calls(w), "PodIdentityAssociation"));
	world_delete(w, "logging", "s3-reader");
	world_run(w, KEY);
	assert_null(strstr(world_calls(w), "PodIdentityAssociation"));
	assert_null(fake_aws_role(w->aws, ROLE));
}

/* The trust policy is measured as IAM counts it, against the account's
 * quota, before the role is written: a migration's two statements can
 * outgrow a small quota. */
static void test_podidentity__trust_policy_too_large_refused_before_writing(void **state)
{
	struct world *w = *state;

	put_identity(w, "");
	world_run(w, KEY);
	assert_string_equal(cond(w, "Ready", "status"), "True");
	w->r.trust_policy_quota = 600; /* one statement fits (about 330), two do not */
	set_spec(w, "mode", json_string("PodIdentity"));
	world_run(w, KEY);
	assert_string_equal(cond(w, "RoleReady", "reason"), "TrustPolicyTooLarge");
	assert_non_null(strstr(cond(w, "RoleReady", "message"), "the account allows 600"));
	assert_null(strstr(world_calls(w), "UpdateAssumeRolePolicy"));
	assert_null(strstr(world_calls(w), "CreatePodIdentityAssociation"));
	assert_null(strstr(trust(w), "pods.eks.amazonaws.com"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_podidentity__new_identity_calls_trust_association_then_noop, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__association_drift_repaired_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__foreign_association_not_owned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__refusals_before_any_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__session_policy_and_target_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__migration_from_irsa_phase_by_phase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__migration_back_to_irsa_resumes_after_a_crash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__auto_follows_the_agent_and_the_pods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__deletion_removes_the_association_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__irsa_only_makes_no_eks_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_podidentity__trust_policy_too_large_refused_before_writing, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
