/* Unit tests of cross-account IRSA (settings accounts, spec.accountId; issue
 * 12): the role, its OIDC provider and its boundary in the other account
 * (an in-memory account of its own, reached through its own client),
 * nothing in the cluster's; refusals before any call; deletion there. */
#include "support.h"

#include "base/str.h"
#include "identity/accounts.h"
#include "kube/project.h"
#include "reconcile/steps.h"
#include "world.h"

#define OTHER "210987654321"
#define KEY "logging/s3-reader"

static const char settings_yaml[] =
	"clusterName: prod\n"
	"accountId: \"123456789012\"\n"
	"permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n"
	"accounts:\n"
	"  - accountId: \"" OTHER "\"\n"
	"    roleArn: arn:aws:iam::" OTHER ":role/keyless-manager\n"
	"    namespaces: [logging, team-*]\n";

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

static void put_identity(struct world *w, const char *ns, const char *extra)
{
	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, world_sa(ns, "s3-reader-sa"));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi(ns, "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", 9, extra));
}

static struct fake_aws *other(struct world *w)
{
	return &w->other_aws[0];
}

static struct fake_role *role_in(struct fake_aws *f, struct world *w)
{
	char name[IAM_ROLE_NAME_MAX + 1];

	return fake_aws_role(f, world_role_name(w, "logging", "s3-reader", name, sizeof(name)));
}

static const char *cond(struct world *w, const char *type, const char *field)
{
	return world_cond(w, "logging", "s3-reader", type, field);
}

/* The whole identity in the other account: provider, role, boundary,
 * annotation; the cluster's account untouched; then a no-op. */
static void test_accounts__role_made_in_the_other_account(void **state)
{
	struct world *w = *state;
	struct fake_role *r;

	put_identity(w, "logging", ",\"accountId\":\"" OTHER "\"");
	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_OK);
	assert_string_equal(cond(w, "Ready", "status"), "True");
	assert_int_equal(w->aws->reads + w->aws->writes, 0); /* not one call in the cluster's account */
	assert_true(other(w)->have_provider);
	assert_string_equal(other(w)->provider_arn,
			    "arn:aws:iam::" OTHER ":oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC");
	r = role_in(other(w), w);
	assert_non_null(r);
	assert_true(str_startswith(r->arn, "arn:aws:iam::" OTHER ":role/keyless/"));
	assert_string_equal(r->boundary, "arn:aws:iam::" OTHER ":policy/keyless-boundary");
	assert_non_null(strstr(r->trust, "\"Federated\":\"arn:aws:iam::" OTHER ":oidc-provider/"));
	assert_non_null(strstr(r->trust, "system:serviceaccount:logging:s3-reader-sa"));
	assert_string_equal(world_sa_annotation(w, "logging", "s3-reader-sa", "eks.amazonaws.com/role-arn"), r->arn);
	assert_string_equal(world_status(w, "logging", "s3-reader", "roleArn"), r->arn);
	assert_null(role_in(w->aws, w));
	/* the drift sweep lists the cluster's account only: it does not vouch for this identity */
	{
		struct wi_memo_snap *snap = NULL;
		long n = wi_memo_snapshot(&w->r, INT64_MAX, &snap);

		assert_int_equal(n, 0);
		wi_memo_snapshot_free(snap, 0);
	}
	/* keyless' own writes bring it back: nothing; a resync: reads in the other account only */
	world_run(w, KEY);
	assert_int_equal(other(w)->writes, 0);
	world_resync(w, KEY);
	assert_int_equal(w->aws->writes + other(w)->writes, 0);
	/* deletion: the role goes from the other account */
	world_delete(w, "logging", "s3-reader");
	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_OK);
	assert_null(role_in(other(w), w));
	assert_true(fake_kube_has_event(&w->kube, "RoleDeleted"));
}

/* An account the settings do not list, or a namespace the entry does not
 * admit: refused before any call, saying why. */
static void test_accounts__refusals_before_any_call(void **state)
{
	struct world *w = *state;

	put_identity(w, "logging", ",\"accountId\":\"999999999999\"");
	world_run(w, KEY);
	assert_string_equal(cond(w, "Ready", "reason"), "AccountNotAllowed");
	assert_non_null(strstr(cond(w, "Ready", "message"), "not in the operator's settings accounts (" OTHER ")"));
	assert_int_equal(w->aws->reads + w->aws->writes + other(w)->reads + other(w)->writes, 0);

	put_identity(w, "payments", ",\"accountId\":\"" OTHER "\"");
	world_run(w, "payments/s3-reader");
	assert_string_equal(world_cond(w, "payments", "s3-reader", "Ready", "reason"), "AccountNotAllowed");
	assert_non_null(strstr(world_cond(w, "payments", "s3-reader", "Ready", "message"),
			       "namespace 'payments' may not use account " OTHER));
	assert_int_equal(other(w)->reads + other(w)->writes, 0);
	/* the cluster's own account named explicitly is the default */
	put_identity(w, "logging", ",\"accountId\":\"123456789012\"");
	world_run(w, KEY);
	assert_string_equal(cond(w, "Ready", "status"), "True");
	assert_non_null(role_in(w->aws, w));
	/* Pod Identity roles stay in the cluster's account */
	put_identity(w, "team-a", ",\"accountId\":\"" OTHER "\",\"mode\":\"PodIdentity\"");
	world_run(w, "team-a/s3-reader");
	assert_string_equal(world_cond(w, "team-a", "s3-reader", "Ready", "reason"), "InvalidSpec");
	assert_non_null(strstr(world_cond(w, "team-a", "s3-reader", "Ready", "message"), "spec.targetRoleArn"));
}

/* Moving an identity between accounts is refused (its role stays where it
 * is, nothing is orphaned); deleting it still cleans up there. */
static void test_accounts__no_move_between_accounts(void **state)
{
	struct world *w = *state;
	json_t *o;

	put_identity(w, "logging", ",\"accountId\":\"" OTHER "\"");
	world_run(w, KEY);
	assert_non_null(role_in(other(w), w));
	o = json_deep_copy(fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader"));
	json_object_del(json_object_get(o, "spec"), "accountId");
	json_object_set_new(json_object_get(o, "metadata"), "generation", json_integer(2));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, o);
	world_run(w, KEY);
	assert_string_equal(cond(w, "Ready", "reason"), "AccountChangeNotSupported");
	assert_non_null(strstr(cond(w, "Ready", "message"), "role is in account " OTHER));
	assert_null(role_in(w->aws, w));
	assert_non_null(role_in(other(w), w));
	world_delete(w, "logging", "s3-reader");
	world_run(w, KEY);
	assert_null(role_in(other(w), w));
}

/* Auto picks IRSA for a cross-account identity, whatever the agent. */
static void test_accounts__auto_is_irsa(void **state)
{
	struct world *w = *state;

	fake_kube_put(&w->kube, &KUBE_DAEMONSETS,
		      json_pack("{s:{s:s, s:s}}", "metadata", "namespace", "kube-system", "name", "eks-pod-identity-agent"));
	put_identity(w, "logging", ",\"accountId\":\"" OTHER "\",\"mode\":\"Auto\"");
	world_run(w, KEY);
	assert_string_equal(cond(w, "ModeSelected", "reason"), "AutoCrossAccount");
	assert_string_equal(cond(w, "Ready", "status"), "True");
	assert_non_null(role_in(other(w), w));
}

/* The settings no longer list the account of a role keyless made: deleting
 * the identity keeps the finalizer and says why, nothing is orphaned. */
static void test_accounts__account_removed_from_settings(void **state)
{
	struct world *w = *state;

	put_identity(w, "logging", ",\"accountId\":\"" OTHER "\"");
	world_run(w, KEY);
	world_set_settings(w, "clusterName: prod\n"
			      "accountId: \"123456789012\"\n"
			      "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n");
	world_delete(w, "logging", "s3-reader");
	assert_int_equal(world_run(w, KEY).outcome, RECONCILE_ERROR);
	assert_string_equal(cond(w, "RoleReady", "reason"), "AccountNotConfigured");
	assert_non_null(role_in(other(w), w));
	assert_int_equal(w->aws->writes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accounts__role_made_in_the_other_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts__refusals_before_any_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts__no_move_between_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts__auto_is_irsa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts__account_removed_from_settings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
