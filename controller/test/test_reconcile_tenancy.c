/* Unit tests of the reconciler against hostile or careless tenants and
 * operators (issue #8, review findings in brackets): names that cannot
 * collide [7], ownership that identifies the cluster and the object [1],
 * tags tenants cannot forge [2], audiences [5], no takeover of others'
 * service accounts [6, 14, 15], conflicts decided before anything is created
 * [8], guardrails that revoke [9], nothing orphaned [10]. Each fails on the
 * code the review read. */
#include "support.h"

#include "base/str.h"
#include "kube/project.h"
#include "world.h"

#define SETTINGS "clusterName: prod\n"                                                    \
		 "accountId: \"123456789012\"\n"                                           \
		 "oidcIssuer: " WORLD_ISSUER "\n"                                          \
		 "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n"
#define ISSUER_B "https://oidc.eks.eu-west-1.amazonaws.com/id/BBB"
#define CREATED "2026-01-01T00:00:00Z"

static struct world *W;

static int setup(void **state)
{
	(void)state;
	W = world_new(SETTINGS, WORLD_ISSUER);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	world_free(W);
	W = NULL;
	return 0;
}

static void put_sa(struct world *w, const char *ns, const char *name)
{
	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, world_sa(ns, name));
}

static void put_wi(struct world *w, const char *ns, const char *name, const char *sa, int uid, const char *extra)
{
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, world_wi(ns, name, sa, CREATED, uid, extra));
}

static const char *ready(struct world *w, const char *ns, const char *name)
{
	return world_cond(w, ns, name, "Ready", "status");
}

static const char *reason(struct world *w, const char *ns, const char *name, const char *type)
{
	return world_cond(w, ns, name, type, "reason");
}

static struct fake_role *role_of(struct world *w, const char *ns, const char *name)
{
	char n[65];

	return fake_aws_role(w->aws, world_role_name(w, ns, name, n, sizeof(n)));
}

static void patch_spec(struct world *w, const char *ns, const char *name, const char *key, json_t *value)
{
	json_t *o = json_deep_copy(fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, ns, name));

	json_object_set_new(json_object_get(o, "spec"), key, value);
	json_object_set_new(json_object_get(o, "metadata"), "generation",
			    json_integer(json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation")) + 1));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, o);
}

/* [7] team-a/app and team/a-app used to share "prod-team-a-app": the second
 * got RoleNotOwned and the first's ARN in its status. */
static void test_tenancy__dashes_do_not_collide(void **state)
{
	struct fake_role *a, *b;

	(void)state;
	put_sa(W, "team-a", "app");
	put_sa(W, "team", "a-app");
	put_wi(W, "team-a", "app", "app", 1, NULL);
	put_wi(W, "team", "a-app", "a-app", 2, NULL);
	world_run(W, "team-a/app");
	world_run(W, "team/a-app");
	assert_string_equal(ready(W, "team-a", "app"), "True");
	assert_string_equal(ready(W, "team", "a-app"), "True");
	a = role_of(W, "team-a", "app");
	b = role_of(W, "team", "a-app");
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_non_null(strstr(a->trust, "system:serviceaccount:team-a:app\""));
	assert_non_null(strstr(b->trust, "system:serviceaccount:team:a-app\""));
	assert_string_not_equal(world_status(W, "team-a", "app", "roleArn"), world_status(W, "team", "a-app", "roleArn"));
}

/* [1] Two clusters named "prod" (two regions) in one account: each keeps to
 * its own role; deleting one's object never deletes the other's role. */
static void test_tenancy__same_cluster_name_other_issuer(void **state)
{
	struct world *b = world_new_sharing(SETTINGS, ISSUER_B, W);
	struct fake_role *ra, *rb;
	char trust_a[2048];

	(void)state;
	put_wi(W, "team", "app", "app", 1, NULL);
	put_sa(W, "team", "app");
	put_wi(b, "team", "app", "app", 2, ",\"tags\":{}");
	put_sa(b, "team", "app");
	world_run(W, "team/app");
	ra = role_of(W, "team", "app");
	assert_non_null(ra);
	str_copy(trust_a, sizeof(trust_a), ra->trust);
	for (int i = 0; i < 2; i++) {
		world_run(b, "team/app");
		assert_null(strstr(world_calls(b), ra->name)); /* never named */
		world_run(W, "team/app");
		assert_int_equal(W->aws->writes, 0); /* A sees no drift: B never touched its role */
	}
	rb = role_of(b, "team", "app");
	assert_non_null(rb);
	assert_ptr_not_equal(ra, rb);
	assert_string_equal(ra->trust, trust_a);
	assert_non_null(strstr(rb->trust, "oidc.eks.eu-west-1.amazonaws.com/id/BBB:sub"));
	assert_string_equal(ready(b, "team", "app"), "True");
	/* B's object goes: B's role goes, A's stays */
	world_delete(b, "team", "app");
	assert_int_equal(world_run(b, "team/app").outcome, RECONCILE_OK);
	assert_null(role_of(b, "team", "app"));
	assert_non_null(role_of(W, "team", "app"));

	/* a role with A's name but B's issuer tag (say, A's name was B's before
	 * a rename): A does not touch it and does not advertise it */
	{
		struct fake_role *r = role_of(W, "team", "app");

		for (size_t i = 0; i < r->tags.n; i++) {
			if (streq(r->tags.items[i].key, "keyless.dev/issuer")) {
				free(r->tags.items[i].value);
				r->tags.items[i].value = strdup("oidc.eks.eu-west-1.amazonaws.com/id/BBB");
			}
		}
		world_resync(W, "team/app");
		assert_string_equal(reason(W, "team", "app", "RoleReady"), "RoleNotOwned");
		assert_non_null(strstr(world_cond(W, "team", "app", "RoleReady", "message"), "another cluster"));
		assert_int_equal(W->aws->writes, 0);
		assert_null(world_status(W, "team", "app", "roleArn"));
	}
	world_free(b);
}

/* [1, 7] A re-created object (new uid) does not silently adopt the role an
 * earlier one left with deletionPolicy Retain; it does when asked. */
static void test_tenancy__recreated_object_adopts_only_when_asked(void **state)
{
	json_t *o;

	(void)state;
	put_sa(W, "team", "app");
	put_wi(W, "team", "app", "app", 1, ",\"tags\":{}");
	patch_spec(W, "team", "app", "deletionPolicy", json_string("Retain"));
	world_run(W, "team/app");
	assert_string_equal(ready(W, "team", "app"), "True");
	world_delete(W, "team", "app");
	world_run(W, "team/app");
	assert_non_null(role_of(W, "team", "app")); /* retained */
	/* the same name again, a new uid */
	put_wi(W, "team", "app", "app", 2, NULL);
	world_run(W, "team/app");
	assert_string_equal(reason(W, "team", "app", "RoleReady"), "RoleOwnedByEarlierObject");
	assert_non_null(strstr(world_cond(W, "team", "app", "RoleReady", "message"), "keyless.dev/adopt-role=true"));
	/* the only write tried: the new object's CreateRole, which IAM refused (EntityAlreadyExists) */
	assert_int_equal(W->aws->writes, 1);
	assert_non_null(strstr(world_calls(W), "CreateRole,GetRole"));
	assert_null(world_status(W, "team", "app", "roleArn"));
	/* deleting it must not delete the retained role either */
	/* asked to adopt: the uid tag moves to the new object */
	o = json_deep_copy(fake_kube_obj(&W->kube, &KUBE_WORKLOADIDENTITIES, "team", "app"));
	json_object_set_new(json_object_get(o, "metadata"), "annotations",
			    json_pack("{s:s}", "keyless.dev/adopt-role", "true"));
	fake_kube_put(&W->kube, &KUBE_WORKLOADIDENTITIES, o);
	world_run(W, "team/app");
	assert_string_equal(ready(W, "team", "app"), "True");
	assert_true(fake_kube_has_event(&W->kube, "RoleAdopted"));
	assert_string_equal(aws_tag_list_get(&role_of(W, "team", "app")->tags, "keyless.dev/uid"),
			    "11111111-2222-3333-4444-000000000002");
}

/* [2] The operator's extraTags win over spec.tags; keyless' own tags cannot
 * be set by a tenant at all. */
static void test_tenancy__operator_tags_win(void **state)
{
	struct fake_role *r;

	(void)state;
	world_set_settings(W, SETTINGS "extraTags: {abac-scope: restricted}\n"
				       "guardrails: {allowedTagKeys: [abac-scope, cost-center]}\n");
	put_sa(W, "t1", "app");
	put_wi(W, "t1", "app", "app", 1, ",\"tags\":{\"Abac-Scope\":\"admin\",\"cost-center\":\"42\"}");
	world_run(W, "t1/app");
	world_run(W, "t1/app");
	r = role_of(W, "t1", "app");
	assert_non_null(r);
	assert_string_equal(aws_tag_list_get(&r->tags, "abac-scope"), "restricted");
	assert_null(aws_tag_list_get(&r->tags, "Abac-Scope"));
	assert_string_equal(aws_tag_list_get(&r->tags, "cost-center"), "42");
	assert_int_equal(W->aws->writes, 0); /* and stable */
}

/* [2] With the default guardrails a tenant may set no tag at all. */
static void test_tenancy__tenant_tags_need_the_guardrail(void **state)
{
	(void)state;
	put_sa(W, "t1", "app");
	put_wi(W, "t1", "app", "app", 1, ",\"tags\":{\"team\":\"platform\"}");
	world_run(W, "t1/app");
	assert_string_equal(reason(W, "t1", "app", "Ready"), "PolicyRejected");
	assert_non_null(strstr(world_cond(W, "t1", "app", "Ready", "message"), "spec.tags[team]"));
	assert_null(role_of(W, "t1", "app"));
}

/* [5] Audiences: only allowed ones reach the shared OIDC provider, and the
 * ones keyless added leave it once no identity uses them. */
static void test_tenancy__audiences_are_governed(void **state)
{
	(void)state;
	put_sa(W, "t1", "app");
	put_wi(W, "t1", "app", "app", 1, NULL);
	world_run(W, "t1/app"); /* creates the provider with sts.amazonaws.com */
	put_sa(W, "t2", "app");
	put_wi(W, "t2", "app", "app", 2, ",\"audience\":\"https://kubernetes.default.svc\"");
	world_run(W, "t2/app");
	assert_string_equal(reason(W, "t2", "app", "Ready"), "PolicyRejected");
	assert_non_null(strstr(world_cond(W, "t2", "app", "Ready", "message"), "spec.audience"));
	assert_int_equal(W->aws->n_client_ids, 1);

	world_set_settings(W, SETTINGS "guardrails: {allowedAudiences: [sts.amazonaws.com, "
				       "'https://kubernetes.default.svc']}\n");
	world_run(W, "t2/app");
	assert_string_equal(ready(W, "t2", "app"), "True");
	assert_int_equal(W->aws->n_client_ids, 2);
	assert_string_equal(W->aws->client_ids[1], "https://kubernetes.default.svc");
	assert_non_null(strstr(world_calls(W), "TagOpenIDConnectProvider"));
	assert_string_equal(world_sa_annotation(W, "t2", "app", "eks.amazonaws.com/audience"),
			    "https://kubernetes.default.svc");
	/* the last user goes: the client id and its tag go too; the STS one stays */
	world_delete(W, "t2", "app");
	assert_int_equal(world_run(W, "t2/app").outcome, RECONCILE_OK);
	assert_non_null(strstr(world_calls(W), "RemoveClientIDFromOpenIDConnectProvider"));
	assert_non_null(strstr(world_calls(W), "UntagOpenIDConnectProvider"));
	assert_int_equal(W->aws->n_client_ids, 1);
	assert_string_equal(W->aws->client_ids[0], "sts.amazonaws.com");
	assert_true(fake_kube_has_event(&W->kube, "OIDCAudienceRemoved"));
	world_delete(W, "t1", "app");
	world_run(W, "t1/app");
	assert_int_equal(W->aws->n_client_ids, 1); /* never removed */
}

static json_t *deployment_and_pod(struct world *w, const char *ns, const char *sa)
{
	fake_kube_put(&w->kube, &KUBE_REPLICASETS,
		      json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:b}]}}", "metadata", "namespace", ns, "name", "web-1",
				"ownerReferences", "kind", "Deployment", "name", "web", "controller", 1));
	fake_kube_put(&w->kube, &KUBE_DEPLOYMENTS, json_pack("{s:{s:s, s:s}, s:{}}", "metadata", "namespace", ns, "name",
							     "web", "spec"));
	fake_kube_put(&w->kube, &KUBE_PODS,
		      json_pack("{s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:b}]}, s:{s:s, s:[{s:s}]}, s:{s:s}}", "metadata",
				"namespace", ns, "name", "web-1-a", "uid", "cccccccc-0000-0000-0000-000000000001",
				"creationTimestamp", "2020-01-01T00:00:00Z", "ownerReferences", "kind", "ReplicaSet", "name",
				"web-1", "controller", 1, "spec", "serviceAccountName", sa, "containers", "name", "c",
				"status", "phase", "Running"));
	return fake_kube_obj(&w->kube, &KUBE_DEPLOYMENTS, ns, "web");
}

/* [21] A ReplicaSet whose controller ownerReference has no name (malformed or
 * aggregated API data) is not followed: no crash, the Deployment untouched. */
static void test_tenancy__malformed_owner_reference_is_not_followed(void **state)
{
	json_t *dep, *rs;

	(void)state;
	put_sa(W, "t1", "web");
	dep = deployment_and_pod(W, "t1", "web");
	rs = fake_kube_obj(&W->kube, &KUBE_REPLICASETS, "t1", "web-1");
	json_object_del(json_array_get(json_object_get(json_object_get(rs, "metadata"), "ownerReferences"), 0), "name");
	put_wi(W, "t1", "web", "web", 1, NULL);
	world_run(W, "t1/web");
	world_run(W, "t1/web");
	assert_non_null(role_of(W, "t1", "web"));
	assert_null(json_object_get(json_object_get(dep, "metadata"), "annotations")); /* not restarted */
}

/* [6] An SA whose role annotation someone else manages is not re-pointed
 * (nor its workloads restarted) unless it opts in. */
static void test_tenancy__no_takeover_of_a_hand_annotated_sa(void **state)
{
	const char *theirs = "arn:aws:iam::123456789012:role/payments-prod";
	json_t *dep;

	(void)state;
	put_sa(W, "team", "payments");
	fake_kube_annotate(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "payments", "eks.amazonaws.com/role-arn", theirs,
			   "kubectl-annotate");
	dep = deployment_and_pod(W, "team", "payments");
	put_wi(W, "team", "grab", "payments", 1, NULL);
	world_run(W, "team/grab");
	assert_string_equal(reason(W, "team", "grab", "ServiceAccountReady"), "ServiceAccountManagedElsewhere");
	assert_non_null(strstr(world_cond(W, "team", "grab", "ServiceAccountReady", "message"), "kubectl-annotate"));
	assert_non_null(strstr(world_cond(W, "team", "grab", "ServiceAccountReady", "message"),
			       "keyless.dev/allow-takeover=true"));
	assert_string_equal(world_sa_annotation(W, "team", "payments", "eks.amazonaws.com/role-arn"), theirs);
	assert_null(json_object_get(json_object_get(dep, "metadata"), "annotations")); /* not restarted */
	assert_string_equal(ready(W, "team", "grab"), "False");
	/* reported, not retried with writes: a second reconcile writes nothing to Kubernetes */
	world_run(W, "team/grab");
	assert_int_equal(W->kube.writes, 0);
	assert_int_equal(W->kube.n_events, 0);

	/* the service account's owner opts in */
	fake_kube_annotate(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "payments", "keyless.dev/allow-takeover", "true",
			   "kubectl-annotate");
	world_run(W, "team/grab");
	assert_string_equal(ready(W, "team", "grab"), "False"); /* restarting */
	assert_string_equal(reason(W, "team", "grab", "ServiceAccountReady"), "Reconciled");
	assert_string_equal(world_sa_annotation(W, "team", "payments", "eks.amazonaws.com/role-arn"),
			    world_status(W, "team", "grab", "roleArn"));
	assert_true(fake_kube_has_event(&W->kube, "AnnotationTakenOver"));
}

/* [15] A foreign audience annotation cannot be removed by keyless' apply: it
 * is reported (not re-applied every reconcile with Ready=True). */
static void test_tenancy__foreign_audience_annotation_is_reported(void **state)
{
	(void)state;
	put_sa(W, "team", "app");
	fake_kube_annotate(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "app", "eks.amazonaws.com/audience", "foo", "helm");
	put_wi(W, "team", "app", "app", 1, NULL);
	world_run(W, "team/app");
	assert_string_equal(reason(W, "team", "app", "ServiceAccountReady"), "AnnotationOwnedElsewhere");
	assert_non_null(strstr(world_cond(W, "team", "app", "ServiceAccountReady", "message"), "helm"));
	assert_string_equal(ready(W, "team", "app"), "False");
	world_run(W, "team/app");
	assert_int_equal(W->kube.writes, 0);
	/* helm stops setting it */
	fake_kube_annotate(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "app", "eks.amazonaws.com/audience", NULL, "helm");
	world_run(W, "team/app");
	assert_string_equal(ready(W, "team", "app"), "True");
}

/* [14] A service account keyless created keeps its ownerReference through
 * every later apply and goes with the object; one that existed already (the
 * cache had not seen it yet) is not adopted. */
static void test_tenancy__created_sa_lifecycle(void **state)
{
	struct kube_change ch;
	json_t *sa;

	(void)state;
	put_wi(W, "team", "app", "app", 1, ",\"createServiceAccount\":true");
	world_run(W, "team/app");
	sa = fake_kube_obj(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "app");
	assert_non_null(sa);
	assert_int_equal(json_array_size(json_object_get(json_object_get(sa, "metadata"), "ownerReferences")), 1);
	/* drift: someone removes the annotation; keyless re-applies it */
	fake_kube_annotate(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "app", "eks.amazonaws.com/role-arn", NULL,
			   "kubectl-annotate");
	world_run(W, "team/app");
	sa = fake_kube_obj(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "app");
	assert_non_null(world_sa_annotation(W, "team", "app", "eks.amazonaws.com/role-arn"));
	assert_int_equal(json_array_size(json_object_get(json_object_get(sa, "metadata"), "ownerReferences")), 1);
	/* the object goes: so does the service account */
	world_delete(W, "team", "app");
	world_run(W, "team/app");
	assert_null(fake_kube_obj(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "app"));
	assert_true(fake_kube_has_event(&W->kube, "ServiceAccountDeleted"));

	/* an existing SA the cache has not seen yet is annotated, not owned */
	put_sa(W, "team", "other");
	kube_cache_delete(W->kube.sas, "team", "other", &ch);
	kube_change_release(&ch);
	put_wi(W, "team", "o", "other", 2, ",\"createServiceAccount\":true");
	world_run(W, "team/o");
	sa = fake_kube_obj(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "other");
	assert_null(json_object_get(json_object_get(sa, "metadata"), "ownerReferences"));
	assert_non_null(world_sa_annotation(W, "team", "other", "eks.amazonaws.com/role-arn"));
	world_delete(W, "team", "o");
	world_run(W, "team/o");
	assert_non_null(fake_kube_obj(&W->kube, &KUBE_SERVICEACCOUNTS, "team", "other")); /* not deleted */
	assert_null(world_sa_annotation(W, "team", "other", "eks.amazonaws.com/role-arn")); /* released */
}

/* [8] The loser of a shared service account gets no role at all, and a role
 * it got earlier is deleted. */
static void test_tenancy__conflict_decided_before_anything_is_created(void **state)
{
	(void)state;
	put_sa(W, "t2", "shared");
	/* "newer" alone first: it gets a role */
	fake_kube_put(&W->kube, &KUBE_WORKLOADIDENTITIES, world_wi("t2", "newer", "shared", "2026-01-02T00:00:00Z", 2, NULL));
	world_run(W, "t2/newer");
	assert_non_null(role_of(W, "t2", "newer"));
	/* an older claimant appears (say, restored from a backup) */
	fake_kube_put(&W->kube, &KUBE_WORKLOADIDENTITIES, world_wi("t2", "older", "shared", "2026-01-01T00:00:00Z", 1, NULL));
	world_run(W, "t2/newer");
	assert_string_equal(reason(W, "t2", "newer", "ServiceAccountReady"), "ServiceAccountConflict");
	assert_non_null(strstr(world_cond(W, "t2", "newer", "RoleReady", "message"), "older"));
	assert_null(role_of(W, "t2", "newer"));
	assert_null(world_status(W, "t2", "newer", "roleArn"));
	world_run(W, "t2/older");
	assert_string_equal(ready(W, "t2", "older"), "True");
	/* and a loser that never had one: no call that creates anything */
	fake_kube_put(&W->kube, &KUBE_WORKLOADIDENTITIES, world_wi("t2", "third", "shared", "2026-01-03T00:00:00Z", 3, NULL));
	world_run(W, "t2/third");
	assert_int_equal(W->aws->writes, 0);
	assert_null(strstr(world_calls(W), "CreateRole"));
	assert_string_equal(world_sa_annotation(W, "t2", "shared", "eks.amazonaws.com/role-arn"),
			    world_status(W, "t2", "older", "roleArn"));
}

/* [9] Guardrails are an invariant: tightened while Ready, the role's
 * permissions are revoked (trust kept); allowed again, restored. */
static void test_tenancy__tightened_guardrails_revoke(void **state)
{
	struct fake_role *r;
	char trust[2048];

	(void)state;
	put_sa(W, "t1", "app");
	put_wi(W, "t1", "app", "app", 1, NULL);
	world_run(W, "t1/app");
	r = role_of(W, "t1", "app");
	assert_int_equal(r->n_inline, 1);
	fake_aws_api.iam_attach_role_policy(NULL, r->name, "arn:aws:iam::aws:policy/ReadOnlyAccess", NULL);
	str_copy(trust, sizeof(trust), r->trust);

	world_set_settings(W, SETTINGS "guardrails: {deniedActions: ['iam:*', 's3:*', '*']}\n");
	assert_int_equal(world_run(W, "t1/app").outcome, RECONCILE_OK); /* a resync keeps checking */
	assert_string_equal(reason(W, "t1", "app", "Ready"), "PolicyRejected");
	assert_int_equal(r->n_inline, 0);
	assert_int_equal(r->n_attached, 0);
	assert_string_equal(r->trust, trust);
	assert_non_null(strstr(world_cond(W, "t1", "app", "RoleReady", "message"), "removed the permissions"));
	assert_true(fake_kube_has_event(&W->kube, "PermissionsRevoked"));
	assert_string_equal(world_sa_annotation(W, "t1", "app", "eks.amazonaws.com/role-arn"),
			    world_status(W, "t1", "app", "roleArn"));
	/* someone re-attaches a policy by hand: the next resync revokes it again */
	fake_aws_api.iam_attach_role_policy(NULL, r->name, "arn:aws:iam::aws:policy/AdministratorAccess", NULL);
	world_run(W, "t1/app");
	assert_int_equal(r->n_attached, 0);

	/* allowed again: restored at once */
	world_set_settings(W, SETTINGS);
	world_run(W, "t1/app");
	assert_string_equal(ready(W, "t1", "app"), "True");
	assert_int_equal(r->n_inline, 1);

	/* the namespace excluded: revoked too; guardrailEnforcement keep: left */
	world_set_settings(W, SETTINGS "guardrailEnforcement: keep\nguardrails: {excludeNamespaces: [t1]}\n");
	assert_int_equal(world_run(W, "t1/app").outcome, RECONCILE_TERMINAL);
	assert_string_equal(reason(W, "t1", "app", "Ready"), "NamespaceNotAllowed");
	assert_int_equal(r->n_inline, 1);
	world_set_settings(W, SETTINGS "guardrails: {excludeNamespaces: [t1]}\n");
	world_run(W, "t1/app");
	assert_int_equal(r->n_inline, 0);
}

/* keyless' own namespace is excluded unless allowed. */
static void test_tenancy__controller_namespace_is_excluded(void **state)
{
	(void)state;
	W->r.controller_namespace = "keyless-system";
	put_sa(W, "keyless-system", "keyless");
	put_wi(W, "keyless-system", "grab", "keyless", 1, NULL);
	assert_int_equal(world_run(W, "keyless-system/grab").outcome, RECONCILE_TERMINAL);
	assert_string_equal(reason(W, "keyless-system", "grab", "Ready"), "NamespaceNotAllowed");
	assert_non_null(strstr(world_cond(W, "keyless-system", "grab", "Ready", "message"), "allowControllerNamespace"));
	assert_int_equal(W->aws->n_calls, 0);
	assert_null(world_sa_annotation(W, "keyless-system", "keyless", "eks.amazonaws.com/role-arn"));
	world_set_settings(W, SETTINGS "guardrails: {allowControllerNamespace: true}\n");
	world_run(W, "keyless-system/grab");
	assert_string_equal(ready(W, "keyless-system", "grab"), "True");
}

/* [10] A prefix change moves the identity: a new role, the service account
 * re-pointed, the old role deleted once no pod uses it; the finalizer
 * removes exactly what exists then. */
static void test_tenancy__prefix_change_moves_without_orphans(void **state)
{
	char old_name[65], new_name[65];
	const char *old_arn;
	char old_arn_copy[640];
	json_t *pod;

	(void)state;
	put_sa(W, "t1", "app");
	put_wi(W, "t1", "app", "app", 1, NULL);
	world_run(W, "t1/app");
	world_role_name(W, "t1", "app", old_name, sizeof(old_name));
	old_arn = world_status(W, "t1", "app", "roleArn");
	str_copy(old_arn_copy, sizeof(old_arn_copy), old_arn);
	/* a pod already runs with the old role */
	pod = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:[{s:s, s:[{s:s, s:s}]}]}, s:{s:s}}", "metadata", "namespace",
			"t1", "name", "bare", "uid", "cccccccc-0000-0000-0000-000000000009", "creationTimestamp",
			"2100-01-01T00:00:00Z", "spec", "serviceAccountName", "app", "containers", "name", "c", "env",
			"name", "AWS_ROLE_ARN", "value", old_arn_copy, "status", "phase", "Running");
	fake_kube_put(&W->kube, &KUBE_PODS, pod);

	world_set_settings(W, SETTINGS "roleNamePrefix: k-\n");
	world_role_name(W, "t1", "app", new_name, sizeof(new_name));
	assert_string_not_equal(old_name, new_name);
	world_run(W, "t1/app");
	assert_non_null(fake_aws_role(W->aws, new_name));
	assert_string_equal(world_status(W, "t1", "app", "roleName"), new_name);
	assert_string_equal(world_sa_annotation(W, "t1", "app", "eks.amazonaws.com/role-arn"),
			    world_status(W, "t1", "app", "roleArn"));
	/* the old role stays while a pod uses it, recorded as retired */
	assert_non_null(fake_aws_role(W->aws, old_name));
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_object_get(
				    fake_kube_obj(&W->kube, &KUBE_WORKLOADIDENTITIES, "t1", "app"), "status"), "retiredRoles"), 0)),
			    old_name);
	/* the pod is replaced: the old role goes */
	{
		struct kube_change ch;

		kube_cache_delete(W->kube.pods, "t1", "bare", &ch);
		kube_change_release(&ch);
	}
	world_run(W, "t1/app");
	assert_null(fake_aws_role(W->aws, old_name));
	assert_null(json_object_get(json_object_get(fake_kube_obj(&W->kube, &KUBE_WORKLOADIDENTITIES, "t1", "app"),
						    "status"), "retiredRoles"));
	assert_true(fake_kube_has_event(&W->kube, "RoleDeleted"));
	/* a second change, then deletion before the move finished: both go */
	world_set_settings(W, SETTINGS "roleNamePrefix: j-\n");
	world_run(W, "t1/app");
	world_delete(W, "t1", "app");
	world_run(W, "t1/app");
	for (int i = 0; i < FAKE_MAX; i++)
		assert_false(W->aws->roles[i].used);
}

/* [10] serviceAccountName a -> b: a loses keyless' annotations. */
static void test_tenancy__service_account_rename_releases_the_old_one(void **state)
{
	(void)state;
	put_sa(W, "t4", "a");
	put_sa(W, "t4", "b");
	put_wi(W, "t4", "x", "a", 1, NULL);
	world_run(W, "t4/x");
	assert_non_null(world_sa_annotation(W, "t4", "a", "eks.amazonaws.com/role-arn"));
	patch_spec(W, "t4", "x", "serviceAccountName", json_string("b"));
	world_run(W, "t4/x");
	assert_null(world_sa_annotation(W, "t4", "a", "eks.amazonaws.com/role-arn"));
	assert_null(world_sa_annotation(W, "t4", "a", "eks.amazonaws.com/sts-regional-endpoints"));
	assert_string_equal(world_sa_annotation(W, "t4", "b", "eks.amazonaws.com/role-arn"),
			    world_status(W, "t4", "x", "roleArn"));
	assert_string_equal(world_status(W, "t4", "x", "serviceAccount"), "b");
	assert_string_equal(ready(W, "t4", "x"), "True");
	world_delete(W, "t4", "x");
	world_run(W, "t4/x");
	assert_null(world_sa_annotation(W, "t4", "b", "eks.amazonaws.com/role-arn"));
}

/* [21] The longest role path IAM allows (512 characters): the ARN in the
 * status and on the service account is whole, not cut to a fixed buffer. */
static void test_tenancy__longest_role_path_gives_a_whole_arn(void **state)
{
	char settings[1024], path[513], want[700], name[65];
	struct world *w;
	json_t *sa;

	(void)state;
	memset(path, 'p', 512);
	path[0] = path[511] = '/';
	path[512] = '\0';
	str_format(settings, sizeof(settings), SETTINGS "rolePath: %s\n", path);
	w = world_new(settings, WORLD_ISSUER);
	put_sa(w, "t1", "app");
	put_wi(w, "t1", "app", "app", 1, NULL);
	world_run(w, "t1/app");
	assert_string_equal(ready(w, "t1", "app"), "True");
	str_format(want, sizeof(want), "arn:aws:iam::123456789012:role%s%s", path,
		   world_role_name(w, "t1", "app", name, sizeof(name)));
	assert_int_equal(strlen(want), 30 + 512 + strlen(name));
	assert_string_equal(world_status(w, "t1", "app", "roleArn"), want);
	sa = fake_kube_obj(&w->kube, &KUBE_SERVICEACCOUNTS, "t1", "app");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(sa, "metadata"),
									      "annotations"),
							      "eks.amazonaws.com/role-arn")),
			    want);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tenancy__dashes_do_not_collide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__same_cluster_name_other_issuer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__recreated_object_adopts_only_when_asked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__operator_tags_win, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__tenant_tags_need_the_guardrail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__audiences_are_governed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__malformed_owner_reference_is_not_followed, setup, teardown),
		cmocka_unit_test(test_tenancy__longest_role_path_gives_a_whole_arn),
		cmocka_unit_test_setup_teardown(test_tenancy__no_takeover_of_a_hand_annotated_sa, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__foreign_audience_annotation_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__created_sa_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__conflict_decided_before_anything_is_created, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__tightened_guardrails_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__controller_namespace_is_excluded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__prefix_change_moves_without_orphans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenancy__service_account_rename_releases_the_old_one, setup, teardown),
	};

	return cmocka_run_group_tests_name("reconcile_tenancy", tests, NULL, NULL);
}
