/* Unit tests of the WorkloadIdentity reconciler against in-memory AWS and
 * Kubernetes (fakes.c): the exact AWS calls for a new identity, a no-op
 * resync and each kind of drift; zero writes on a second reconcile; ownership;
 * rejections; service-account conflicts; stale pods; deletion. */
#include "support.h"

#include "base/log.h"
#include "base/str.h"
#include "kube/project.h"
#include "world.h"

/* the role of logging/s3-reader (python3, see test_identity_docs.c) */
#define ROLE "prod+logging+s3-reader@711a7d1108366a9d"
#define ROLE_ARN "arn:aws:iam::123456789012:role/keyless/" ROLE

static const char settings_yaml[] = "clusterName: prod\n"
				    "accountId: \"123456789012\"\n"
				    "oidcIssuer: " WORLD_ISSUER "\n"
				    "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n"
				    "extraTags: {owner: platform}\n";

static json_t *wi(const char *ns, const char *name, const char *sa, const char *created, const char *extra_spec)
{
	return world_wi(ns, name, sa, created, (int)strlen(name), extra_spec ? extra_spec : "");
}

static json_t *sa(const char *ns, const char *name)
{
	return world_sa(ns, name);
}

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

static const char *calls(struct world *w)
{
	return world_calls(w);
}

static struct reconcile_result run(struct world *w, const char *key)
{
	return world_run(w, key);
}

static const char *cond(struct world *w, const char *ns, const char *name, const char *type, const char *field)
{
	return world_cond(w, ns, name, type, field);
}

static void converge(struct world *w)
{
	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, sa("logging", "s3-reader-sa"));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", NULL));
	run(w, "logging/s3-reader");
}

static void test_reconcile__new_identity_exact_calls_then_noop(void **state)
{
	struct world *w = *state;
	struct fake_role *role;
	json_t *s;

	converge(w);
	assert_string_equal(cond(w, "logging", "s3-reader", "Ready", "status"), "True");
	/* the exact AWS calls for a new identity */
	/* a new identity: CreateRole first, no GetRole (the name is free but for a crash after CreateRole) */
	assert_string_equal(calls(w), "ListOpenIDConnectProviders,CreateOpenIDConnectProvider,CreateRole,"
				      "PutRolePolicy");
	assert_int_equal(w->aws->writes, 3);
	/* finalizer, the role name recorded before CreateRole, service account, status */
	assert_int_equal(w->kube.writes, 4);
	role = fake_aws_role(w->aws, ROLE);
	assert_non_null(role);
	assert_string_equal(role->path, "/keyless/");
	assert_string_equal(role->boundary, "arn:aws:iam::123456789012:policy/keyless-boundary");
	assert_string_equal(aws_tag_list_get(&role->tags, "keyless.dev/namespace"), "logging");
	assert_string_equal(aws_tag_list_get(&role->tags, "keyless.dev/name"), "s3-reader");
	assert_string_equal(aws_tag_list_get(&role->tags, "keyless.dev/cluster"), "prod");
	assert_string_equal(aws_tag_list_get(&role->tags, "keyless.dev/issuer"), "oidc.eks.us-east-1.amazonaws.com/id/ABC");
	assert_string_equal(aws_tag_list_get(&role->tags, "keyless.dev/uid"), "11111111-2222-3333-4444-000000000009");
	assert_string_equal(aws_tag_list_get(&role->tags, "owner"), "platform");
	assert_non_null(strstr(role->trust, "\"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub\":\"system:serviceaccount:logging:s3-reader-sa\""));
	assert_non_null(strstr(role->trust, "\"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud\":\"sts.amazonaws.com\""));
	s = fake_kube_obj(&w->kube, &KUBE_SERVICEACCOUNTS, "logging", "s3-reader-sa");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(s, "metadata"), "annotations"),
							      "eks.amazonaws.com/role-arn")), ROLE_ARN);
	assert_string_equal(cond(w, "logging", "s3-reader", "Ready", "status"), "True");
	assert_true(fake_kube_has_event(&w->kube, "RoleCreated"));
	assert_true(fake_kube_has_event(&w->kube, "ServiceAccountAnnotated"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
				    fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader"), "status"),
							      "roleArn")), ROLE_ARN);

	/* a resync with nothing changed: zero writes anywhere, and only the role's reads */
	assert_int_equal(world_resync(w, "logging/s3-reader").outcome, RECONCILE_OK);
	assert_string_equal(calls(w), "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies");
	assert_int_equal(w->aws->writes, 0);
	assert_int_equal(w->kube.writes, 0);
	assert_int_equal(w->kube.n_events, 0);
}

/* A crash after CreateRole, before the status said so: the next reconcile
 * tries CreateRole, IAM answers EntityAlreadyExists, and the role (keyless'
 * own, by its tags) is observed and kept, not duplicated or refused. */
static void test_reconcile__crash_after_create_role_resumes(void **state)
{
	struct world *w = *state;
	json_t *o;

	converge(w);
	o = json_deep_copy(fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader"));
	json_object_del(o, "status");
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, o);
	fake_aws_clear_calls(w->aws);
	w->aws->writes = 0;
	run(w, "logging/s3-reader");
	assert_string_equal(cond(w, "logging", "s3-reader", "Ready", "status"), "True");
	assert_string_equal(calls(w), "CreateRole,GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies");
	assert_int_equal(w->aws->writes, 1); /* the refused CreateRole */
}

static void test_reconcile__each_drift_repaired_with_one_call(void **state)
{
	struct world *w = *state;
	struct fake_role *role;
	struct op_err err;

	converge(w);
	world_resync(w, "logging/s3-reader");
	role = fake_aws_role(w->aws, ROLE);

	/* trust policy edited in the console: widened to every service account */
	free(role->trust);
	role->trust = strdup("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":"
			     "\"arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC\"},"
			     "\"Action\":\"sts:AssumeRoleWithWebIdentity\"}]}");
	world_resync(w, "logging/s3-reader");
	assert_string_equal(calls(w), "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies,UpdateAssumeRolePolicy");
	assert_true(fake_kube_has_event(&w->kube, "DriftRepaired"));
	assert_non_null(strstr(role->trust, "system:serviceaccount:logging:s3-reader-sa"));

	/* the same document with other spacing and key order is no drift */
	free(role->trust);
	role->trust = strdup("{ \"Statement\": [ { \"Condition\": { \"StringEquals\": {"
			     " \"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud\": [\"sts.amazonaws.com\"],"
			     " \"oidc.eks.us-east-1.amazonaws.com/id/ABC:sub\": \"system:serviceaccount:logging:s3-reader-sa\" } },"
			     " \"Action\": \"sts:AssumeRoleWithWebIdentity\", \"Effect\": \"Allow\", \"Principal\": {"
			     " \"Federated\": \"arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC\" } } ],"
			     " \"Version\": \"2012-10-17\" }");
	world_resync(w, "logging/s3-reader");
	assert_int_equal(w->aws->writes, 0);

	/* inline policy widened */
	assert_int_equal(fake_aws_api.iam_put_role_policy(NULL, ROLE, "keyless", "{\"Version\":\"2012-10-17\",\"Statement\":"
				 "[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}", &err), 0);
	world_resync(w, "logging/s3-reader");
	assert_string_equal(calls(w), "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies,PutRolePolicy");

	/* an extra inline policy and an extra managed policy: removed */
	fake_aws_api.iam_put_role_policy(NULL, ROLE, "backdoor", "{\"Version\":\"2012-10-17\",\"Statement\":[]}", &err);
	fake_aws_api.iam_attach_role_policy(NULL, ROLE, "arn:aws:iam::aws:policy/AdministratorAccess", &err);
	world_resync(w, "logging/s3-reader");
	assert_string_equal(calls(w), "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies,DeleteRolePolicy,"
				      "DetachRolePolicy");

	/* a tag removed, another added, the boundary removed, max session changed */
	fake_aws_api.iam_untag_role(NULL, ROLE, (const char *[]){ "owner" }, 1, &err);
	fake_aws_api.iam_tag_role(NULL, ROLE, &(struct aws_tag_in){ "stray", "x" }, 1, &err);
	fake_aws_api.iam_delete_role_permissions_boundary(NULL, ROLE, &err);
	fake_aws_api.iam_update_role(NULL, ROLE, NULL, 7200, &err);
	world_resync(w, "logging/s3-reader");
	assert_string_equal(calls(w), "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies,UpdateRole,"
				      "PutRolePermissionsBoundary,TagRole,UntagRole");
	assert_null(aws_tag_list_get(&role->tags, "stray"));
	assert_string_equal(aws_tag_list_get(&role->tags, "owner"), "platform");

	/* the service-account annotation removed by hand (kubectl annotate sa ... role-arn-) */
	fake_kube_annotate(&w->kube, &KUBE_SERVICEACCOUNTS, "logging", "s3-reader-sa", "eks.amazonaws.com/role-arn", NULL,
			   "kubectl-annotate");
	world_resync(w, "logging/s3-reader");
	assert_int_equal(w->aws->writes, 0);
	assert_int_equal(w->kube.writes, 1); /* the apply; the status did not change */
	assert_true(fake_kube_has_event(&w->kube, "DriftRepaired"));
	/* and converged again */
	world_resync(w, "logging/s3-reader");
	assert_int_equal(w->aws->writes + w->kube.writes, 0);
}

static void test_reconcile__role_not_owned_is_left_untouched(void **state)
{
	struct world *w = *state;
	struct iam_create_role_input in = { .role_name = ROLE, .assume_role_policy = "{\"Version\":\"2012-10-17\"}" };
	struct op_err err;

	assert_int_equal(fake_aws_api.iam_create_role(NULL, &in, NULL, &err), 0); /* someone else's, untagged */
	converge(w);
	assert_string_equal(cond(w, "logging", "s3-reader", "RoleReady", "reason"), "RoleNotOwned");
	assert_string_equal(cond(w, "logging", "s3-reader", "Ready", "status"), "False");
	/* only reads on the role: no update, tag, policy or delete */
	assert_null(strstr(calls(w), "UpdateAssumeRolePolicy"));
	assert_null(strstr(calls(w), "PutRolePolicy"));
	assert_null(strstr(calls(w), "TagRole"));
	assert_string_equal(fake_aws_role(w->aws, ROLE)->trust, "{\"Version\":\"2012-10-17\"}");
	assert_true(fake_kube_has_event(&w->kube, "RoleNotOwned"));
	/* the status never advertises someone else's role (review finding 7) */
	assert_null(world_status(w, "logging", "s3-reader", "roleArn"));
	/* and deletion leaves it alone too */
	json_object_set_new(json_object_get(fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader"),
					    "metadata"), "deletionTimestamp", json_string("2026-01-02T00:00:00Z"));
	assert_int_equal(run(w, "logging/s3-reader").outcome, RECONCILE_OK);
	assert_null(strstr(calls(w), "DeleteRole"));
	assert_non_null(fake_aws_role(w->aws, ROLE));
}

static void test_reconcile__rejections_are_terminal_and_write_nothing_to_aws(void **state)
{
	struct world *w = *state;
	struct reconcile_result r;

	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, sa("logging", "s3-reader-sa"));
	/* a guardrail: iam:* is denied by default */
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, wi("logging", "admin", "s3-reader-sa", "2026-01-01T00:00:00Z", NULL));
	json_object_set_new(json_array_get(json_object_get(json_object_get(json_object_get(
				fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "admin"), "spec"), "permissions"),
						    "statements"), 0), "actions", json_pack("[s]", "iam:PassRole"));
	r = run(w, "logging/admin");
	assert_int_equal(r.outcome, RECONCILE_TERMINAL);
	assert_int_equal(w->aws->n_calls, 0);
	assert_string_equal(cond(w, "logging", "admin", "Ready", "reason"), "PolicyRejected");
	assert_non_null(strstr(cond(w, "logging", "admin", "Ready", "message"), "statements[0].actions[0]"));
	assert_true(fake_kube_has_event(&w->kube, "PolicyRejected"));
	/* a second look at the same rejection: no new event, no status write */
	run(w, "logging/admin");
	assert_int_equal(w->kube.writes, 0);
	assert_int_equal(w->kube.n_events, 0);

	/* an excluded namespace */
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, wi("kube-system", "x", "default", "2026-01-01T00:00:00Z", NULL));
	assert_int_equal(run(w, "kube-system/x").outcome, RECONCILE_TERMINAL);
	assert_string_equal(cond(w, "kube-system", "x", "Ready", "reason"), "NamespaceNotAllowed");
	assert_int_equal(w->aws->n_calls, 0);

	/* an invalid spec */
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, wi("logging", "bad", "Not_Valid", "2026-01-01T00:00:00Z", NULL));
	assert_int_equal(run(w, "logging/bad").outcome, RECONCILE_TERMINAL);
	assert_string_equal(cond(w, "logging", "bad", "Ready", "reason"), "InvalidSpec");
	assert_non_null(strstr(cond(w, "logging", "bad", "Ready", "message"), "spec.serviceAccountName"));
}

static void test_reconcile__older_identity_wins_a_shared_service_account(void **state)
{
	struct world *w = *state;

	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, sa("logging", "shared"));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, wi("logging", "older", "shared", "2026-01-01T00:00:00Z", NULL));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, wi("logging", "newer", "shared", "2026-01-02T00:00:00Z", NULL));
	run(w, "logging/newer");
	assert_string_equal(cond(w, "logging", "newer", "ServiceAccountReady", "reason"), "ServiceAccountConflict");
	assert_non_null(strstr(cond(w, "logging", "newer", "ServiceAccountReady", "message"), "older"));
	assert_null(json_object_get(json_object_get(fake_kube_obj(&w->kube, &KUBE_SERVICEACCOUNTS, "logging", "shared"),
						    "metadata"), "annotations"));
	run(w, "logging/older");
	assert_string_equal(cond(w, "logging", "older", "Ready", "status"), "True");
}

static json_t *pod(const char *name, const char *rs, const char *created, const char *arn)
{
	json_t *env = json_array();

	if (arn)
		json_array_append_new(env, json_pack("{s:s, s:s}", "name", "AWS_ROLE_ARN", "value", arn));
	return json_pack("{s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:b}]}, s:{s:s, s:[{s:s, s:o}]}, s:{s:s}}", "metadata",
			 "namespace", "logging", "name", name, "uid", "bbbbbbbb-0000-0000-0000-000000000001",
			 "creationTimestamp", created, "ownerReferences", "kind", "ReplicaSet", "name", rs, "controller", 1,
			 "spec", "serviceAccountName", "s3-reader-sa", "containers", "name", "c", "env", env, "status",
			 "phase", "Running");
}

static void test_reconcile__stale_pods_restart_once_and_missing_injection(void **state)
{
	struct world *w = *state;
	json_t *dep;

	fake_kube_put(&w->kube, &KUBE_REPLICASETS,
		      json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:b}]}}", "metadata", "namespace", "logging", "name", "web-1",
				"ownerReferences", "kind", "Deployment", "name", "web", "controller", 1));
	fake_kube_put(&w->kube, &KUBE_DEPLOYMENTS, json_pack("{s:{s:s, s:s}, s:{}}", "metadata", "namespace", "logging",
							     "name", "web", "spec"));
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "web-1", "2020-01-01T00:00:00Z", NULL)); /* before wiring */
	converge(w);
	dep = fake_kube_obj(&w->kube, &KUBE_DEPLOYMENTS, "logging", "web");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(dep, "metadata"), "annotations"),
							      "keyless.dev/restarted-for")),
			    ROLE_ARN " audience=sts.amazonaws.com sts-regional-endpoints=true wiredAt=2025-12-01T00:00:00Z");
	assert_non_null(json_object_get(json_object_get(json_object_get(json_object_get(dep, "spec"), "template"),
							"metadata"), "annotations"));
	assert_true(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_string_equal(cond(w, "logging", "s3-reader", "WorkloadsReady", "reason"), "RestartInProgress");
	/* once per wiring: the old pod still there does not restart it again */
	run(w, "logging/s3-reader");
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	/* the rollout replaced it with an injected pod */
	kube_cache_begin_relist(w->kube.pods);
	kube_cache_sweep(w->kube.pods, NULL, NULL);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-b", "web-1", "2100-01-01T00:00:00Z", ROLE_ARN));
	run(w, "logging/s3-reader");
	assert_string_equal(cond(w, "logging", "s3-reader", "WorkloadsReady", "status"), "True");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
				 fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader"), "status"), "stalePods")), 0);
	/* a pod created after the wiring without the injection: the webhook is missing */
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-c", "web-1", "2100-01-01T00:00:00Z", NULL));
	run(w, "logging/s3-reader");
	assert_string_equal(cond(w, "logging", "s3-reader", "WorkloadsReady", "reason"), "InjectionMissing");
	assert_non_null(strstr(cond(w, "logging", "s3-reader", "WorkloadsReady", "message"), "pod identity webhook"));
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
}

static void test_reconcile__deletion_removes_exactly_what_keyless_created(void **state)
{
	struct world *w = *state;
	json_t *o, *s;

	converge(w);
	fake_aws_api.iam_attach_role_policy(NULL, ROLE, "arn:aws:iam::aws:policy/ReadOnlyAccess", NULL);
	o = fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader");
	json_object_set_new(json_object_get(o, "metadata"), "deletionTimestamp", json_string("2026-01-02T00:00:00Z"));

	/* AWS failing: the finalizer stays, retry later */
	str_copy(w->aws->fail_op, sizeof(w->aws->fail_op), "DeleteRole");
	w->aws->fail_rc = -EIO;
	w->aws->fail_times = 1;
	assert_int_equal(run(w, "logging/s3-reader").outcome, RECONCILE_ERROR);
	assert_string_equal(calls(w), "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies,DeleteRolePolicy,"
				      "DetachRolePolicy,DeleteRole");
	assert_non_null(json_array_get(json_object_get(json_object_get(o, "metadata"), "finalizers"), 0));
	assert_non_null(fake_aws_role(w->aws, ROLE));

	/* the retry finishes what is left */
	assert_int_equal(run(w, "logging/s3-reader").outcome, RECONCILE_OK);
	assert_string_equal(calls(w), "GetRole,ListRolePolicies,ListAttachedRolePolicies,DeleteRole");
	assert_null(fake_aws_role(w->aws, ROLE));
	s = fake_kube_obj(&w->kube, &KUBE_SERVICEACCOUNTS, "logging", "s3-reader-sa");
	assert_null(json_object_get(json_object_get(json_object_get(s, "metadata"), "annotations"), "eks.amazonaws.com/role-arn"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(o, "metadata"), "finalizers")), 0);
}

static void test_reconcile__retain_keeps_the_role(void **state)
{
	struct world *w = *state;
	json_t *o;

	converge(w);
	o = fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader");
	json_object_set_new(json_object_get(o, "spec"), "deletionPolicy", json_string("Retain"));
	json_object_set_new(json_object_get(o, "metadata"), "deletionTimestamp", json_string("2026-01-02T00:00:00Z"));
	assert_int_equal(run(w, "logging/s3-reader").outcome, RECONCILE_OK);
	assert_int_equal(w->aws->n_calls, 0);
	assert_non_null(fake_aws_role(w->aws, ROLE));
	assert_true(fake_kube_has_event(&w->kube, "RoleRetained"));
}

static void test_reconcile__crash_between_create_and_policy_converges(void **state)
{
	struct world *w = *state;

	/* CreateRole succeeded, then the process died before PutRolePolicy */
	str_copy(w->aws->fail_op, sizeof(w->aws->fail_op), "PutRolePolicy");
	w->aws->fail_rc = -EIO;
	w->aws->fail_times = 1;
	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, sa("logging", "s3-reader-sa"));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", NULL));
	assert_int_equal(run(w, "logging/s3-reader").outcome, RECONCILE_ERROR);
	assert_string_equal(cond(w, "logging", "s3-reader", "RoleReady", "reason"), "AWSUnavailable");
	/* the next reconcile finds the tagged role and only adds the policy */
	assert_int_equal(run(w, "logging/s3-reader").outcome, RECONCILE_OK);
	assert_string_equal(calls(w), "GetRole,ListRolePolicies,ListAttachedRolePolicies,PutRolePolicy");
	assert_int_equal(fake_aws_role(w->aws, ROLE)->n_inline, 1);
	/* AccessDenied names the action */
	str_copy(w->aws->fail_op, sizeof(w->aws->fail_op), "GetRole");
	w->aws->fail_rc = -EACCES;
	str_copy(w->aws->fail_code, sizeof(w->aws->fail_code), "AccessDenied");
	w->aws->fail_times = 1;
	assert_int_equal(world_resync(w, "logging/s3-reader").outcome, RECONCILE_ERROR);
	assert_string_equal(cond(w, "logging", "s3-reader", "RoleReady", "reason"), "AWSAccessDenied");
	assert_non_null(strstr(cond(w, "logging", "s3-reader", "RoleReady", "message"), "iam:GetRole"));
}

static json_t *owned_pod(const char *name, const char *kind, const char *owner)
{
	return json_pack("{s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:b}]}, s:{s:s, s:[{s:s}]}, s:{s:s}}", "metadata",
			 "namespace", "logging", "name", name, "uid", "cccccccc-0000-0000-0000-000000000001",
			 "creationTimestamp", "2020-01-01T00:00:00Z", "ownerReferences", "kind", kind, "name", owner,
			 "controller", 1, "spec", "serviceAccountName", "s3-reader-sa", "containers", "name", "c", "status",
			 "phase", "Running");
}

static void test_reconcile__jobs_and_paused_deployments_are_only_reported(void **state)
{
	struct world *w = *state;

	fake_kube_put(&w->kube, &KUBE_PODS, owned_pod("batch-1", "Job", "batch"));
	fake_kube_put(&w->kube, &KUBE_REPLICASETS,
		      json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:b}]}}", "metadata", "namespace", "logging", "name", "web-1",
				"ownerReferences", "kind", "Deployment", "name", "web", "controller", 1));
	fake_kube_put(&w->kube, &KUBE_DEPLOYMENTS, json_pack("{s:{s:s, s:s}, s:{s:b}}", "metadata", "namespace", "logging",
							     "name", "web", "spec", "paused", 1));
	fake_kube_put(&w->kube, &KUBE_PODS, owned_pod("web-1-a", "ReplicaSet", "web-1"));
	converge(w);
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_null(json_object_get(json_object_get(fake_kube_obj(&w->kube, &KUBE_DEPLOYMENTS, "logging", "web"),
						    "metadata"), "annotations"));
	assert_string_equal(cond(w, "logging", "s3-reader", "WorkloadsReady", "reason"), "ManualRestartRequired");
	assert_non_null(strstr(cond(w, "logging", "s3-reader", "WorkloadsReady", "message"), "Job pods are never restarted"));
	assert_non_null(strstr(cond(w, "logging", "s3-reader", "WorkloadsReady", "message"),
			       "Deployment web is paused"));
	assert_non_null(strstr(cond(w, "logging", "s3-reader", "WorkloadsReady", "message"),
			       "`kubectl -n logging rollout restart deployment/web`"));
	assert_true(fake_kube_has_event(&w->kube, "ManualRestartRequired"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
				 fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader"), "status"), "stalePods")), 2);
}

static void test_reconcile__policy_too_large_is_refused_before_sending(void **state)
{
	struct world *w = *state;
	json_t *o, *stmts = json_array();

	for (int i = 0; i < 50; i++) {
		json_t *res = json_array();

		for (int j = 0; j < 10; j++)
			json_array_append_new(res, json_sprintf("arn:aws:s3:::a-rather-long-bucket-name-%02d/with/a/long/prefix/%02d/*", i, j));
		json_array_append_new(stmts, json_pack("{s:s, s:[s], s:o}", "effect", "Allow", "actions", "s3:GetObject",
						       "resources", res));
	}
	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, sa("logging", "s3-reader-sa"));
	o = wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", NULL);
	json_object_set_new(json_object_get(json_object_get(o, "spec"), "permissions"), "statements", stmts);
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, o);
	run(w, "logging/s3-reader");
	assert_string_equal(cond(w, "logging", "s3-reader", "RoleReady", "reason"), "PolicyTooLarge");
	assert_non_null(strstr(cond(w, "logging", "s3-reader", "RoleReady", "message"), "10240"));
	assert_null(fake_aws_role(w->aws, ROLE)); /* nothing sent */
	assert_null(strstr(calls(w), "CreateRole"));
}

/* AWS answers GetRole with the AccessDenied text that names keyless' own
 * principal. */
#define DENIED_PRINCIPAL "arn:aws:sts::123456789012:assumed-role/keyless-controller/keyless-1234"

static int denied_get_role(struct aws_client *c, const char *name, struct iam_role **ret, struct op_err *err)
{
	(void)c;
	(void)ret;
	return op_err_setr(err, -EACCES, "AccessDenied",
			   "User: " DENIED_PRINCIPAL " is not authorized to perform: iam:GetRole on resource: "
			   "arn:aws:iam::123456789012:role/keyless/%s because no identity-based policy allows the "
			   "iam:GetRole action", name);
}

static int denied_create_role(struct aws_client *c, const struct iam_create_role_input *in, struct iam_role **ret,
			      struct op_err *err)
{
	(void)c;
	(void)ret;
	return op_err_setr(err, -EACCES, "AccessDenied",
			   "User: " DENIED_PRINCIPAL " is not authorized to perform: iam:CreateRole on resource: "
			   "arn:aws:iam::123456789012:role/keyless/%s because no identity-based policy allows the "
			   "iam:CreateRole action", in->role_name);
}

static void test_reconcile__access_denied_hides_keyless_principal(void **state)
{
	struct world *w = *state;
	struct aws_api denied = fake_aws_api;
	char *logged = NULL;
	size_t logged_len = 0;
	FILE *log = open_memstream(&logged, &logged_len);
	const char *msg;

	assert_non_null(log);
	denied.iam_get_role = denied_get_role;
	denied.iam_create_role = denied_create_role;
	w->r.aws = &denied;
	log_set_stream(log);
	converge(w);
	log_set_stream(NULL);
	fclose(log);
	w->r.aws = &fake_aws_api;

	assert_string_equal(cond(w, "logging", "s3-reader", "RoleReady", "reason"), "AWSAccessDenied");
	msg = cond(w, "logging", "s3-reader", "RoleReady", "message");
	assert_non_null(strstr(msg, "iam:CreateRole")); /* a new identity's first role call */
	assert_non_null(strstr(msg, "assumed-role/<redacted>"));
	assert_null(strstr(msg, "keyless-controller"));
	assert_null(strstr(msg, "keyless-1234"));
	/* the tenant's role ARN (the resource) stays */
	assert_non_null(strstr(msg, ROLE_ARN));
	assert_null(strstr(cond(w, "logging", "s3-reader", "Ready", "message"), "keyless-controller"));
	assert_true(fake_kube_has_event(&w->kube, "AWSAccessDenied"));
	for (int i = 0; i < w->kube.n_events; i++) {
		assert_null(strstr(w->kube.events[i], "keyless-controller"));
		assert_null(strstr(w->kube.events[i], "keyless-1234"));
	}
	/* the controller's own log keeps the whole text */
	assert_non_null(strstr(logged, DENIED_PRINCIPAL));
	free(logged);
}

/* The thumbprint lookup as the reconciler sees it: what reached
 * CreateOpenIDConnectProvider, and the CA file the lookup was given. */
#define SETTINGS_WITH_ISSUER_CA                                                                                        \
	"clusterName: prod\naccountId: \"123456789012\"\noidcIssuer: " WORLD_ISSUER "\n"                                      \
	"permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n"                                       \
	"oidcIssuerCA: /etc/keyless/issuer-ca.pem\n"

static struct aws_api spy_api;
static char spied_thumb[64], spied_ca[256];
static size_t spied_n_thumbs;

static int spy_create_oidc(struct aws_client *c, const struct iam_create_oidc_provider_input *in, char **ret,
			   struct op_err *err)
{
	spied_n_thumbs = in->n_thumbprints;
	str_copy(spied_thumb, sizeof(spied_thumb), in->n_thumbprints ? in->thumbprints[0] : "");
	return fake_aws_api.iam_create_oidc_provider(c, in, ret, err);
}

static int thumb_verified(const char *issuer_url, const char *ca_file, char *out, struct op_err *err)
{
	(void)issuer_url, (void)err;
	str_copy(spied_ca, sizeof(spied_ca), ca_file ? ca_file : "(null)");
	return str_copy(out, 41, "37451a01affcd94ca7bffb9171057f1df6002222");
}

static int thumb_unverified(const char *issuer_url, const char *ca_file, char *out, struct op_err *err)
{
	(void)ca_file;
	str_copy(out, 41, "ffffffffffffffffffffffffffffffffffffffff"); /* a sloppy lookup: must not be pinned */
	return op_err_set(err, -EBADMSG, "the TLS certificate of OIDC issuer %s could not be verified: its thumbprint is "
				   "NOT pinned", issuer_url);
}

static void test_reconcile__oidc_provider_pinned_only_when_verified(void **state)
{
	struct world *w;
	char *logs = NULL;
	size_t logs_len = 0;
	FILE *f;

	(void)state;
	spy_api = fake_aws_api;
	spy_api.iam_create_oidc_provider = spy_create_oidc;

	/* verified: pinned, and the lookup got oidcIssuerCA */
	w = world_new(SETTINGS_WITH_ISSUER_CA, WORLD_ISSUER);
	w->r.aws = &spy_api;
	w->r.thumbprint = thumb_verified;
	converge(w);
	assert_string_equal(cond(w, "logging", "s3-reader", "Ready", "status"), "True");
	assert_string_equal(spied_ca, "/etc/keyless/issuer-ca.pem");
	assert_int_equal(spied_n_thumbs, 1);
	assert_string_equal(spied_thumb, "37451a01affcd94ca7bffb9171057f1df6002222");
	world_free(w);

	/* not verified: the provider is still created, without a thumbprint, and a warning says so */
	w = world_new(settings_yaml, WORLD_ISSUER);
	w->r.aws = &spy_api;
	w->r.thumbprint = thumb_unverified;
	f = open_memstream(&logs, &logs_len);
	assert_non_null(f);
	log_set_stream(f);
	converge(w);
	log_set_stream(NULL);
	fclose(f);
	assert_string_equal(cond(w, "logging", "s3-reader", "Ready", "status"), "True");
	assert_non_null(strstr(calls(w), "CreateOpenIDConnectProvider"));
	assert_int_equal(spied_n_thumbs, 0);
	assert_string_equal(spied_thumb, "");
	if (!strstr(logs, "NOT pinned") || !strstr(logs, WORLD_ISSUER))
		fail_msg("no warning that the provider is not pinned in: %s", logs);
	free(logs);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reconcile__new_identity_exact_calls_then_noop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__crash_after_create_role_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__each_drift_repaired_with_one_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__role_not_owned_is_left_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__rejections_are_terminal_and_write_nothing_to_aws, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__older_identity_wins_a_shared_service_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__stale_pods_restart_once_and_missing_injection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__deletion_removes_exactly_what_keyless_created, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__retain_keeps_the_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__crash_between_create_and_policy_converges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__jobs_and_paused_deployments_are_only_reported, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__policy_too_large_is_refused_before_sending, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile__access_denied_hides_keyless_principal, setup, teardown),
		cmocka_unit_test(test_reconcile__oidc_provider_pinned_only_when_verified),
	};

	return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
