/* Unit tests of shared roles (settings roleScope: Account, issue 12): two
 * clusters' keyless, each with its own Kubernetes, against one in-memory
 * AWS account. One role per namespace/name; each cluster adds and removes
 * only its own owner tag and its own part of the trust policy; the last
 * owner deletes the role; sizes are refused before anything is written. */
#include "support.h"

#include "base/str.h"
#include "identity/trust.h"
#include "kube/project.h"
#include "reconcile/steps.h"
#include "world.h"

#define ISSUER_B "https://oidc.eks.eu-west-1.amazonaws.com/id/BBB"
#define KEY "logging/s3-reader"
#define OWNER_PROD "keyless.dev/owner/prod"
#define OWNER_STAGE "keyless.dev/owner/stage"

#define SETTINGS(cluster)                                                                                            \
	"clusterName: " cluster "\n"                                                                                 \
	"accountId: \"123456789012\"\n"                                                                              \
	"roleScope: Account\n"                                                                                       \
	"permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n"

struct two {
	struct world *a, *b; /* prod (WORLD_ISSUER), stage (ISSUER_B) */
};

static int setup(void **state)
{
	struct two *t = calloc(1, sizeof(*t));

	t->a = world_new(SETTINGS("prod"), WORLD_ISSUER);
	t->b = world_new_sharing(SETTINGS("stage"), ISSUER_B, t->a);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct two *t = *state;

	world_free(t->b);
	world_free(t->a);
	free(t);
	return 0;
}

static void put_identity(struct world *w, int uid_n, const char *extra)
{
	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, world_sa("logging", "s3-reader-sa"));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", uid_n, extra));
}

static struct fake_role *role(struct world *w)
{
	char name[IAM_ROLE_NAME_MAX + 1];

	return fake_aws_role(w->aws, world_role_name(w, "logging", "s3-reader", name, sizeof(name)));
}

static const char *tag(struct world *w, const char *key)
{
	return aws_tag_list_get(&role(w)->tags, key);
}

static const char *ready(struct world *w)
{
	return world_cond(w, "logging", "s3-reader", "Ready", "status");
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

#define SUB_PROD "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub"
#define SUB_STAGE "oidc.eks.eu-west-1.amazonaws.com/id/BBB:sub"

static void both_own_it(struct two *t)
{
	put_identity(t->a, 1, "");
	put_identity(t->b, 2, "");
	assert_int_equal(world_run(t->a, KEY).outcome, RECONCILE_OK);
	assert_int_equal(world_run(t->b, KEY).outcome, RECONCILE_OK);
	assert_string_equal(ready(t->a), "True");
	assert_string_equal(ready(t->b), "True");
}

/* The second cluster joins the first's role: one role, one name without the
 * cluster, both owner tags, one IRSA statement per cluster in a fixed order;
 * then neither sees anything to change. */
static void test_shared__two_clusters_one_role(void **state)
{
	struct two *t = *state;
	char name[IAM_ROLE_NAME_MAX + 1];
	struct fake_role *r;

	put_identity(t->a, 1, "");
	world_run(t->a, KEY);
	world_role_name(t->a, "logging", "s3-reader", name, sizeof(name));
	assert_true(str_startswith(name, "logging+s3-reader@"));
	r = role(t->a);
	assert_non_null(r);
	assert_string_equal(tag(t->a, "keyless.dev/scope"), "Account");
	assert_string_equal(tag(t->a, OWNER_PROD), "oidc.eks.us-east-1.amazonaws.com/id/ABC");
	assert_null(tag(t->a, "keyless.dev/cluster"));
	assert_null(tag(t->a, "keyless.dev/uid"));
	assert_null(strstr(r->description, "prod"));

	/* stage computes the same name and joins */
	put_identity(t->b, 2, "");
	assert_int_equal(world_run(t->b, KEY).outcome, RECONCILE_OK);
	assert_ptr_equal(role(t->b), r);
	/* its own OIDC provider, then CreateRole finds the name taken, reads the role and joins */
	assert_string_equal(world_calls(t->b), "ListOpenIDConnectProviders,CreateOpenIDConnectProvider,CreateRole,"
					       "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies,"
					       "UpdateAssumeRolePolicy,TagRole");
	assert_string_equal(tag(t->b, OWNER_STAGE), "oidc.eks.eu-west-1.amazonaws.com/id/BBB");
	assert_string_equal(tag(t->b, OWNER_PROD), "oidc.eks.us-east-1.amazonaws.com/id/ABC");
	assert_int_equal(count(r->trust, "\"Federated\""), 2);
	/* sorted by provider ARN: eu-west-1 before us-east-1 */
	assert_true(strstr(r->trust, SUB_STAGE) < strstr(r->trust, SUB_PROD));
	assert_string_equal(ready(t->b), "True");
	assert_string_equal(world_status(t->b, "logging", "s3-reader", "roleArn"),
			    world_status(t->a, "logging", "s3-reader", "roleArn"));
	/* prod's next verification reads the other owner's part and keeps it */
	world_resync(t->a, KEY);
	assert_int_equal(t->a->aws->writes, 0);
	world_resync(t->b, KEY);
	assert_int_equal(t->b->aws->writes, 0);
	assert_int_equal(count(r->trust, "\"Federated\""), 2);
}

/* Deleting one cluster's object lets go of the role (its statement and
 * owner tag), leaving the other's; the last owner deletes it. */
static void test_shared__last_owner_deletes(void **state)
{
	struct two *t = *state;
	struct fake_role *r;

	both_own_it(t);
	r = role(t->a);
	world_delete(t->a, "logging", "s3-reader");
	assert_int_equal(world_run(t->a, KEY).outcome, RECONCILE_OK);
	assert_non_null(role(t->b));
	assert_null(tag(t->b, OWNER_PROD));
	assert_non_null(tag(t->b, OWNER_STAGE));
	assert_null(strstr(r->trust, SUB_PROD));
	assert_non_null(strstr(r->trust, SUB_STAGE));
	assert_int_equal(r->n_inline, 1); /* the policies are stage's too */
	assert_null(strstr(world_calls(t->a), "DeleteRole"));
	assert_true(fake_kube_has_event(&t->a->kube, "RoleReleased"));
	/* stage sees its own role as it left it */
	world_resync(t->b, KEY);
	assert_int_equal(t->b->aws->writes, 0);
	assert_string_equal(ready(t->b), "True");
	/* prod's keyless again (a finalizer retry): already let go, nothing */
	world_run(t->a, KEY);
	assert_null(strstr(world_calls(t->a), "Untag"));
	/* the last owner goes: the role goes */
	world_delete(t->b, "logging", "s3-reader");
	assert_int_equal(world_run(t->b, KEY).outcome, RECONCILE_OK);
	assert_null(role(t->b));
	assert_true(fake_kube_has_event(&t->b->kube, "RoleDeleted"));
}

/* Two last owners letting go at the same time each see the other's tag:
 * whoever finds no owner left after removing its own deletes the role. */
static void test_shared__concurrent_release_leaves_no_orphan(void **state)
{
	struct two *t = *state;
	struct fake_role *r;

	both_own_it(t);
	r = role(t->a);
	/* stage already removed its tag (it read prod's before prod let go) */
	{
		const char *keys[] = { OWNER_STAGE };

		fake_tags_remove(&r->tags, keys, 1);
	}
	world_delete(t->a, "logging", "s3-reader");
	assert_int_equal(world_run(t->a, KEY).outcome, RECONCILE_OK);
	assert_null(role(t->a));
}

/* Statements nobody owns (a cluster that let go, one added by hand) and an
 * owner's statement that trusts something else are dropped; the owners'
 * parts stay. */
static void test_shared__only_owners_statements_kept(void **state)
{
	struct two *t = *state;
	struct fake_role *r;
	char *doc;

	both_own_it(t);
	r = role(t->a);
	doc = strdup("{\"Version\":\"2012-10-17\",\"Statement\":["
			 "{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"arn:aws:iam::123456789012:oidc-provider/"
			 "oidc.eks.eu-west-1.amazonaws.com/id/BBB\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\","
			 "\"Condition\":{\"StringEquals\":{\"" SUB_STAGE "\":\"system:serviceaccount:logging:*\","
			 "\"oidc.eks.eu-west-1.amazonaws.com/id/BBB:aud\":\"sts.amazonaws.com\"}}},"
			 "{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"arn:aws:iam::123456789012:oidc-provider/"
			 "oidc.example.com/id/GONE\"},\"Action\":\"sts:AssumeRoleWithWebIdentity\","
			 "\"Condition\":{\"StringEquals\":{\"oidc.example.com/id/GONE:sub\":\"system:serviceaccount:"
			 "logging:s3-reader-sa\",\"oidc.example.com/id/GONE:aud\":\"sts.amazonaws.com\"}}}]}");
	free(r->trust);
	r->trust = doc;
	world_resync(t->a, KEY);
	assert_non_null(strstr(world_calls(t->a), "UpdateAssumeRolePolicy"));
	assert_null(strstr(r->trust, "GONE"));
	assert_null(strstr(r->trust, SUB_STAGE)); /* stage's was not its statement: it adds it again */
	assert_non_null(strstr(r->trust, SUB_PROD));
	world_resync(t->b, KEY);
	assert_non_null(strstr(r->trust, "\"" SUB_STAGE "\":\"system:serviceaccount:logging:s3-reader-sa\""));
	assert_non_null(strstr(r->trust, SUB_PROD));
	assert_null(strstr(r->trust, ":*"));
}

/* One IRSA statement per cluster outgrows the trust policy quota: refused
 * before anything is written, naming the size, the quota and the advice. */
static void test_shared__trust_policy_too_large(void **state)
{
	struct two *t = *state;
	const char *msg;

	put_identity(t->a, 1, "");
	world_run(t->a, KEY);
	t->b->r.trust_policy_quota = 500; /* one statement (about 330) fits, two do not */
	put_identity(t->b, 2, "");
	world_run(t->b, KEY);
	assert_string_equal(world_cond(t->b, "logging", "s3-reader", "RoleReady", "reason"), "TrustPolicyTooLarge");
	msg = world_cond(t->b, "logging", "s3-reader", "RoleReady", "message");
	assert_non_null(strstr(msg, "2 statements, one per cluster that shares the role"));
	assert_non_null(strstr(msg, "the account allows 500"));
	assert_non_null(strstr(msg, "trustPolicySizeQuota"));
	assert_non_null(strstr(msg, "spec.mode: PodIdentity"));
	assert_null(strstr(world_calls(t->b), "UpdateAssumeRolePolicy"));
	assert_null(strstr(world_calls(t->b), "TagRole"));
	assert_null(tag(t->a, OWNER_STAGE));
	assert_int_equal(count(role(t->a)->trust, "\"Federated\""), 1);
}

/* Pod Identity in both clusters: one statement listing both clusters'
 * ARNs, one association in each cluster. */
static void test_shared__pod_identity_lists_both_clusters(void **state)
{
	struct two *t = *state;
	const char *tr;

	put_identity(t->a, 1, ",\"mode\":\"PodIdentity\"");
	put_identity(t->b, 2, ",\"mode\":\"PodIdentity\"");
	world_run(t->a, KEY);
	world_run(t->b, KEY);
	assert_string_equal(ready(t->b), "True");
	tr = role(t->a)->trust;
	assert_non_null(strstr(tr, "\"aws:RequestTag/eks-cluster-arn\":[\"arn:aws:eks:us-east-1:123456789012:"
				   "cluster/prod\",\"arn:aws:eks:us-east-1:123456789012:cluster/stage\"]"));
	assert_null(strstr(tr, "Federated"));
	world_resync(t->a, KEY);
	assert_int_equal(t->a->aws->writes, 0);
	/* prod lets go: stage's cluster alone */
	world_delete(t->a, "logging", "s3-reader");
	world_run(t->a, KEY);
	tr = role(t->b)->trust;
	assert_non_null(strstr(tr, "\"aws:RequestTag/eks-cluster-arn\":\"arn:aws:eks:us-east-1:123456789012:"
				   "cluster/stage\""));
	assert_null(strstr(tr, "cluster/prod"));
}

/* A cluster of the same name with another issuer (another region) holds
 * the owner tag: this one neither changes nor deletes the role. */
static void test_shared__same_cluster_name_other_issuer_refused(void **state)
{
	struct two *t = *state;
	struct world *c = world_new_sharing(SETTINGS("prod"), ISSUER_B, t->a);
	char trust[2048];

	put_identity(t->a, 1, "");
	world_run(t->a, KEY);
	str_copy(trust, sizeof(trust), role(t->a)->trust);
	put_identity(c, 3, "");
	world_run(c, KEY);
	assert_string_equal(world_cond(c, "logging", "s3-reader", "RoleReady", "reason"), "RoleNotOwned");
	assert_non_null(strstr(world_cond(c, "logging", "s3-reader", "RoleReady", "message"), "another OIDC issuer"));
	assert_null(strstr(world_calls(c), "UpdateAssumeRolePolicy"));
	assert_null(strstr(world_calls(c), "TagRole"));
	world_delete(c, "logging", "s3-reader");
	world_run(c, KEY);
	assert_non_null(role(t->a));
	assert_string_equal(role(t->a)->trust, trust);
	world_free(c);
}

/* Switching a cluster from roleScope Cluster to Account moves the identity
 * to the shared role and retires the cluster's own once nothing uses it. */
static void test_shared__scope_change_moves_to_shared_role(void **state)
{
	struct two *t = *state;
	struct world *w = t->a;
	char old[IAM_ROLE_NAME_MAX + 1];

	world_set_settings(w, "clusterName: prod\n"
			      "accountId: \"123456789012\"\n"
			      "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n");
	put_identity(w, 1, "");
	world_run(w, KEY);
	world_role_name(w, "logging", "s3-reader", old, sizeof(old));
	assert_non_null(fake_aws_role(w->aws, old));
	world_set_settings(w, SETTINGS("prod"));
	world_run(w, KEY);
	world_run(w, KEY);
	assert_non_null(role(w));
	assert_null(fake_aws_role(w->aws, old));
	assert_string_equal(ready(w), "True");
	assert_non_null(strstr(world_sa_annotation(w, "logging", "s3-reader-sa", "eks.amazonaws.com/role-arn"),
			       ":role/keyless/logging+s3-reader@"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared__two_clusters_one_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared__last_owner_deletes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared__concurrent_release_leaves_no_orphan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared__only_owners_statements_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared__trust_policy_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared__pod_identity_lists_both_clusters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared__same_cluster_name_other_issuer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared__scope_change_moves_to_shared_role, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
