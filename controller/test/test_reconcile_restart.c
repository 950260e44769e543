/* Unit tests of the restart logic (reconcile/wiring.c) against the fake
 * world: restarts that end (requeue soon only after a restart; paused
 * Deployments and OnDelete workloads wait for people, without polling), a
 * marker keyed on the wiring, the API server's clock for "started before the
 * wiring", DeletePods through the Eviction API within a budget, and failures
 * that are reported, never swallowed (review findings 16, 17, 19). */
#include "support.h"

#include "base/clock.h"
#include "base/str.h"
#include "kube/project.h"
#include "world.h"

#define ROLE_ARN "arn:aws:iam::123456789012:role/keyless/prod+logging+s3-reader@711a7d1108366a9d"
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

/* A running pod of s3-reader-sa; owner_kind NULL: no controller; at: its
 * creationTimestamp, offset from WORLD_NOW in seconds (the API server's
 * clock). */
static json_t *pod(const char *name, const char *owner_kind, const char *owner, long at, const char *arn)
{
	static int uid_n;
	char created[40], uid[40];
	json_t *env = json_array(), *p;

	if (arn)
		json_array_append_new(env, json_pack("{s:s, s:s}", "name", "AWS_ROLE_ARN", "value", arn));
	rfc3339_format(WORLD_NOW + (int64_t)at * NSEC_PER_SEC, 0, created, sizeof(created));
	str_format(uid, sizeof(uid), "bbbbbbbb-0000-0000-0000-%012d", ++uid_n);
	p = json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:[{s:s, s:o}]}, s:{s:s}}", "metadata", "namespace", "logging",
		      "name", name, "uid", uid, "creationTimestamp", created, "spec", "serviceAccountName", "s3-reader-sa",
		      "containers", "name", "c", "env", env, "status", "phase", "Running");
	if (owner_kind)
		json_object_set_new(json_object_get(p, "metadata"), "ownerReferences",
				    json_pack("[{s:s, s:s, s:b}]", "kind", owner_kind, "name", owner, "controller", 1));
	return p;
}

static void put_deployment(struct world *w, const char *name, bool paused)
{
	char rs[300];

	str_format(rs, sizeof(rs), "%s-1", name);
	fake_kube_put(&w->kube, &KUBE_REPLICASETS,
		      json_pack("{s:{s:s, s:s, s:[{s:s, s:s, s:b}]}}", "metadata", "namespace", "logging", "name", rs,
				"ownerReferences", "kind", "Deployment", "name", name, "controller", 1));
	fake_kube_put(&w->kube, &KUBE_DEPLOYMENTS, json_pack("{s:{s:s, s:s}, s:{s:b}}", "metadata", "namespace", "logging",
							     "name", name, "spec", "paused", paused));
}

static void put_identity(struct world *w, const char *restart)
{
	char extra[128];

	str_format(extra, sizeof(extra), ",\"restart\":\"%s\"", restart);
	fake_kube_put(&w->kube, &KUBE_SERVICEACCOUNTS, world_sa("logging", "s3-reader-sa"));
	/* the spec's "restart" appears twice; jansson keeps the last */
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", 9, extra));
}

static const char *cond(struct world *w, const char *field)
{
	return world_cond(w, "logging", "s3-reader", "WorkloadsReady", field);
}

static json_t *annotations_of(struct world *w, const struct kube_resource *r, const char *name)
{
	return json_object_get(json_object_get(fake_kube_obj(&w->kube, r, "logging", name), "metadata"), "annotations");
}

static bool is_requeue(struct reconcile_result res, int64_t after_s)
{
	return res.outcome == RECONCILE_REQUEUE && res.after_ns == after_s * NSEC_PER_SEC;
}

static void gone(struct world *w, const char *pod_name)
{
	json_t *o = fake_kube_obj(&w->kube, &KUBE_PODS, "logging", pod_name);

	assert_non_null(o);
	json_object_set_new(json_object_get(o, "metadata"), "deletionTimestamp", json_string("2025-12-01T00:00:10Z"));
	fake_kube_put(&w->kube, &KUBE_PODS, json_deep_copy(o));
}

/* [16] A rollout restart requeues soon once; while the rollout runs (the
 * workload already carries the marker) nothing is polled every 15 s: pod
 * events bring the object back. */
static void test_restart__requeue_soon_only_after_a_restart(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	put_deployment(w, "web", false);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", -3600, NULL));
	put_identity(w, "RolloutRestart");
	res = world_run(w, KEY);
	assert_true(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_true(is_requeue(res, 15));
	res = world_run(w, KEY);
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_string_equal(cond(w, "reason"), "RestartInProgress");
	assert_int_equal(res.outcome, RECONCILE_OK);
	assert_int_equal(fake_kube_count_calls(&w->kube, "patch deployments/"), 0);
}

/* [16] A paused Deployment: ManualRestartRequired naming it and the fix, an
 * event once, no restart, no polling. */
static void test_restart__paused_deployment_needs_a_person_and_is_not_polled(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	put_deployment(w, "web", true);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", -3600, NULL));
	put_identity(w, "RolloutRestart");
	res = world_run(w, KEY);
	assert_string_equal(cond(w, "reason"), "ManualRestartRequired");
	assert_non_null(strstr(cond(w, "message"), "Deployment web is paused"));
	assert_non_null(strstr(cond(w, "message"), "kubectl -n logging rollout restart deployment/web"));
	assert_true(fake_kube_has_event(&w->kube, "ManualRestartRequired"));
	assert_null(annotations_of(w, &KUBE_DEPLOYMENTS, "web"));
	assert_int_equal(res.outcome, RECONCILE_OK);
	res = world_run(w, KEY);
	assert_int_equal(res.outcome, RECONCILE_OK);
	assert_false(fake_kube_has_event(&w->kube, "ManualRestartRequired")); /* not news */
	assert_int_equal(w->kube.writes, 0);
}

/* [16] StatefulSets and DaemonSets with updateStrategy OnDelete: a template
 * change replaces nothing, so keyless names the pods to delete. */
static void test_restart__on_delete_workloads_need_a_person(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	fake_kube_put(&w->kube, &KUBE_STATEFULSETS,
		      json_pack("{s:{s:s, s:s}, s:{s:{s:s}}}", "metadata", "namespace", "logging", "name", "db", "spec",
				"updateStrategy", "type", "OnDelete"));
	fake_kube_put(&w->kube, &KUBE_DAEMONSETS,
		      json_pack("{s:{s:s, s:s}, s:{s:{s:s}}}", "metadata", "namespace", "logging", "name", "agent", "spec",
				"updateStrategy", "type", "OnDelete"));
	fake_kube_put(&w->kube, &KUBE_PODS, pod("db-0", "StatefulSet", "db", -3600, NULL));
	fake_kube_put(&w->kube, &KUBE_PODS, pod("db-1", "StatefulSet", "db", -3600, NULL));
	fake_kube_put(&w->kube, &KUBE_PODS, pod("agent-x", "DaemonSet", "agent", -3600, NULL));
	put_identity(w, "RolloutRestart");
	res = world_run(w, KEY);
	assert_string_equal(cond(w, "reason"), "ManualRestartRequired");
	assert_non_null(strstr(cond(w, "message"), "StatefulSet db has updateStrategy OnDelete"));
	assert_true(strstr(cond(w, "message"), "kubectl -n logging delete pod db-0 db-1") ||
		    strstr(cond(w, "message"), "kubectl -n logging delete pod db-1 db-0"));
	assert_non_null(strstr(cond(w, "message"), "kubectl -n logging delete pod agent-x"));
	assert_null(annotations_of(w, &KUBE_STATEFULSETS, "db"));
	assert_null(annotations_of(w, &KUBE_DAEMONSETS, "agent"));
	assert_int_equal(res.outcome, RECONCILE_OK);
	/* the person deletes the pods; the new ones are injected */
	gone(w, "db-0");
	gone(w, "db-1");
	gone(w, "agent-x");
	fake_kube_put(&w->kube, &KUBE_PODS, pod("db-0b", "StatefulSet", "db", 60, ROLE_ARN));
	res = world_run(w, KEY);
	assert_string_equal(cond(w, "status"), "True");
	assert_int_equal(res.outcome, RECONCILE_OK);
}

/* [16] The annotation is removed, a pod is created in the gap (no
 * injection), the drift is repaired: the wiring is new, so the workload is
 * restarted once more, and only once. */
static void test_restart__pods_created_while_unannotated_are_restarted_once(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	put_deployment(w, "web", false);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", -3600, NULL));
	put_identity(w, "RolloutRestart");
	world_run(w, KEY);
	assert_true(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	gone(w, "web-1-a");
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-b", "ReplicaSet", "web-1", 30, ROLE_ARN));
	world_run(w, KEY);
	assert_string_equal(cond(w, "status"), "True");
	/* ten minutes later someone strips the annotations; a pod comes up meanwhile */
	w->now_ns += 600 * NSEC_PER_SEC;
	w->kube.now_ns += 600 * NSEC_PER_SEC;
	fake_kube_annotate(&w->kube, &KUBE_SERVICEACCOUNTS, "logging", "s3-reader-sa", "eks.amazonaws.com/role-arn", NULL,
			   "kubectl-annotate");
	gone(w, "web-1-b");
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-c", "ReplicaSet", "web-1", 300, NULL));
	res = world_run(w, KEY);
	assert_true(fake_kube_has_event(&w->kube, "DriftRepaired"));
	assert_string_equal(world_status(w, "logging", "s3-reader", "wiredAt"), "2025-12-01T00:10:00Z");
	assert_true(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_string_equal(json_string_value(json_object_get(annotations_of(w, &KUBE_DEPLOYMENTS, "web"),
							      "keyless.dev/restarted-for")),
			    ROLE_ARN " audience=sts.amazonaws.com sts-regional-endpoints=true wiredAt=2025-12-01T00:10:00Z");
	assert_true(is_requeue(res, 15));
	res = world_run(w, KEY);
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_int_equal(res.outcome, RECONCILE_OK);
}

/* [16] "Started before the wiring" is judged on the API server's clock
 * (keyless' managedFields time on the service account), not the
 * controller's: an hour of skew either way changes nothing. */
static void test_restart__wiring_time_is_the_api_servers(void **state)
{
	struct world *w = *state;

	/* the controller's clock an hour ahead: a pod created a minute after
	 * the wiring without the injection is the webhook's problem, not stale */
	w->now_ns = WORLD_NOW + 3600 * NSEC_PER_SEC;
	put_deployment(w, "web", false);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", 60, NULL));
	put_identity(w, "RolloutRestart");
	world_run(w, KEY);
	assert_string_equal(world_status(w, "logging", "s3-reader", "wiredAt"), "2025-12-01T00:00:00Z");
	assert_string_equal(cond(w, "reason"), "InjectionMissing");
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
}

static void test_restart__wiring_time_is_the_api_servers_behind(void **state)
{
	struct world *w = *state;

	/* the controller's clock an hour behind: a pod created a minute before
	 * the wiring is stale and restarted */
	w->now_ns = WORLD_NOW - 3600 * NSEC_PER_SEC;
	put_deployment(w, "web", false);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", -60, NULL));
	put_identity(w, "RolloutRestart");
	world_run(w, KEY);
	assert_string_equal(world_status(w, "logging", "s3-reader", "wiredAt"), "2025-12-01T00:00:00Z");
	assert_string_equal(cond(w, "reason"), "RestartInProgress");
	assert_true(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
}

/* [17] DeletePods evicts (never DELETE), at most RESTART_MAX_EVICTIONS per
 * reconcile, and requeues soon for the rest. */
static void test_restart__delete_pods_evicts_within_a_budget(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;
	char name[32];

	put_deployment(w, "web", false);
	for (int i = 0; i < 7; i++) {
		str_format(name, sizeof(name), "web-1-%d", i);
		fake_kube_put(&w->kube, &KUBE_PODS, pod(name, "ReplicaSet", "web-1", -3600, NULL));
	}
	put_identity(w, "DeletePods");
	res = world_run(w, KEY);
	assert_int_equal(fake_kube_count_calls(&w->kube, "evict pods/"), 5);
	assert_int_equal(fake_kube_count_calls(&w->kube, "delete pods/"), 0);
	assert_true(fake_kube_has_event(&w->kube, "PodEvicted"));
	assert_string_equal(cond(w, "reason"), "RestartInProgress");
	assert_non_null(strstr(cond(w, "message"), "2 more after a requeue (at most 5 evictions per reconcile)"));
	assert_true(is_requeue(res, 15));
	res = world_run(w, KEY);
	assert_int_equal(fake_kube_count_calls(&w->kube, "evict pods/"), 2);
	assert_true(is_requeue(res, 15));
	res = world_run(w, KEY);
	assert_int_equal(fake_kube_count_calls(&w->kube, "evict pods/"), 0);
	assert_string_equal(cond(w, "status"), "True");
	assert_int_equal(res.outcome, RECONCILE_OK);
	assert_int_equal(w->kube.evictions, 7);
}

/* [17] A PodDisruptionBudget blocks the eviction (429): reported
 * (EvictionBlocked, an event) and looked at again later, nothing deleted. */
static void test_restart__eviction_blocked_by_a_budget_is_reported(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	fake_kube_put(&w->kube, &KUBE_PODS, pod("bare", NULL, NULL, -3600, NULL));
	put_identity(w, "DeletePods");
	w->kube.evict_rc = -EAGAIN;
	res = world_run(w, KEY);
	assert_string_equal(cond(w, "reason"), "EvictionBlocked");
	assert_non_null(strstr(cond(w, "message"), "disruption budget"));
	assert_true(fake_kube_has_event(&w->kube, "EvictionBlocked"));
	assert_true(is_requeue(res, 30));
	assert_non_null(fake_kube_obj(&w->kube, &KUBE_PODS, "logging", "bare"));
	/* the budget allows it now */
	w->kube.evict_rc = 0;
	res = world_run(w, KEY);
	assert_null(fake_kube_obj(&w->kube, &KUBE_PODS, "logging", "bare"));
	assert_true(is_requeue(res, 15));
}

/* [17, 19] An eviction that fails (403: no pods/eviction) is a condition and
 * a retry, not silence. */
static void test_restart__eviction_failure_is_reported(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	fake_kube_put(&w->kube, &KUBE_PODS, pod("bare", NULL, NULL, -3600, NULL));
	put_identity(w, "DeletePods");
	w->kube.evict_rc = -EACCES;
	res = world_run(w, KEY);
	assert_string_equal(cond(w, "reason"), "KubernetesError");
	assert_non_null(strstr(cond(w, "message"), "evicting pod bare failed"));
	assert_true(fake_kube_has_event(&w->kube, "KubernetesError"));
	assert_int_equal(res.outcome, RECONCILE_ERROR);
}

/* [19] A workload that cannot be read is reported, not skipped in silence. */
static void test_restart__failed_workload_read_is_reported(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	fake_kube_put(&w->kube, &KUBE_STATEFULSETS,
		      json_pack("{s:{s:s, s:s}, s:{}}", "metadata", "namespace", "logging", "name", "db", "spec"));
	fake_kube_put(&w->kube, &KUBE_PODS, pod("db-0", "StatefulSet", "db", -3600, NULL));
	put_identity(w, "RolloutRestart");
	w->kube.fail_get_res = &KUBE_STATEFULSETS;
	w->kube.fail_get_rc = -EACCES;
	res = world_run(w, KEY);
	assert_string_equal(cond(w, "reason"), "KubernetesError");
	assert_non_null(strstr(cond(w, "message"), "reading StatefulSet db"));
	assert_int_equal(res.outcome, RECONCILE_ERROR);
}

/* [19] A ReplicaSet that cannot be read does not turn its pods into bare
 * ones: nothing is evicted, the failure is reported. */
static void test_restart__failed_replicaset_read_is_not_a_bare_pod(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	put_deployment(w, "web", false);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", -3600, NULL));
	put_identity(w, "DeletePods");
	w->kube.fail_get_res = &KUBE_REPLICASETS;
	w->kube.fail_get_rc = -ETIMEDOUT;
	res = world_run(w, KEY);
	assert_int_equal(fake_kube_count_calls(&w->kube, "evict pods/"), 0);
	assert_int_equal(fake_kube_count_calls(&w->kube, "delete pods/"), 0);
	assert_non_null(fake_kube_obj(&w->kube, &KUBE_PODS, "logging", "web-1-a"));
	assert_string_equal(cond(w, "reason"), "KubernetesError");
	assert_non_null(strstr(cond(w, "message"), "reading ReplicaSet web-1"));
	assert_int_equal(res.outcome, RECONCILE_ERROR);
}

/* [19] A failed restart patch stays on the condition (it was overwritten by
 * RestartInProgress in the same reconcile). */
static void test_restart__failed_restart_patch_stays_reported(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	put_deployment(w, "web", false);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", -3600, NULL));
	put_identity(w, "RolloutRestart");
	w->kube.fail_writes_rc = -EACCES;
	w->kube.fail_write_res = &KUBE_DEPLOYMENTS;
	res = world_run(w, KEY);
	assert_string_equal(cond(w, "reason"), "KubernetesError");
	assert_non_null(strstr(cond(w, "message"), "restarting Deployment web failed"));
	assert_int_equal(res.outcome, RECONCILE_ERROR);
}

/* [19] A status write that fails (not only with Conflict) is retried. */
static void test_restart__failed_status_write_is_retried(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	put_identity(w, "RolloutRestart");
	world_run(w, KEY);
	assert_string_equal(world_cond(w, "logging", "s3-reader", "Ready", "status"), "True");
	/* something changes the status (a pod without the injection), and the write fails */
	fake_kube_put(&w->kube, &KUBE_PODS, pod("late", NULL, NULL, 600, NULL));
	w->kube.fail_writes_rc = -EIO;
	w->kube.fail_write_res = &KUBE_WORKLOADIDENTITIES;
	res = world_run(w, KEY);
	assert_int_equal(res.outcome, RECONCILE_ERROR);
	assert_string_equal(world_cond(w, "logging", "s3-reader", "Ready", "status"), "True"); /* not written */
	w->kube.fail_writes_rc = 0;
	res = world_run(w, KEY);
	assert_string_equal(cond(w, "reason"), "InjectionMissing");
	assert_int_equal(res.outcome, RECONCILE_OK); /* no polling: pod events bring it back */
}

/* The Deployment's restart marker and the restartedAt its pod template carries now. */
static const char *marker_of(struct world *w)
{
	return json_string_value(json_object_get(annotations_of(w, &KUBE_DEPLOYMENTS, "web"), "keyless.dev/restarted-for"));
}

static const char *template_restarted_at(struct world *w)
{
	json_t *d = fake_kube_obj(&w->kube, &KUBE_DEPLOYMENTS, "logging", "web");

	return json_string_value(json_object_get(
		json_object_get(json_object_get(json_object_get(json_object_get(d, "spec"), "template"), "metadata"),
				"annotations"),
		"keyless.dev/restartedAt"));
}

/* A pod the rollout of keyless' restart created (it carries the template's
 * restartedAt), admitted without the injection. */
static void missed_pod(struct world *w, const char *name, long at, const char *restarted_at)
{
	json_t *p = pod(name, "ReplicaSet", "web-1", at, NULL);

	json_object_set_new(json_object_get(p, "metadata"), "annotations",
			    json_pack("{s:s}", "keyless.dev/restartedAt", restarted_at));
	fake_kube_put(&w->kube, &KUBE_PODS, p);
}

/* [issue 9, webhook] The webhook admits pods from a cache of service
 * accounts: the pods of keyless' own restart can come up without the
 * injection when that cache lags. Such pods (from the last restart, still
 * without AWS_ROLE_ARN) get the workload restarted again, 10, 20, 40 s after
 * the previous restart, three times at most; then InjectionMissing and no
 * more polling. Pods older than the last restart only wait for the rollout. */
static void test_restart__pods_the_webhook_missed_are_restarted_again_bounded(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;
	char name[32], base[300], want[320];
	long at = 1;

	put_deployment(w, "web", false);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", -3600, NULL));
	put_identity(w, "RolloutRestart");
	res = world_run(w, KEY);
	assert_true(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_true(is_requeue(res, 15));
	str_copy(base, sizeof(base), marker_of(w));
	/* the rollout has not replaced the old pod yet: it only waits (pod events wake it) */
	res = world_run(w, KEY);
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_int_equal(res.outcome, RECONCILE_OK);
	for (int k = 1; k <= 3; k++) {
		int64_t delay = (int64_t)10 << (k - 1);

		/* the rollout's pod came up without the injection */
		gone(w, k == 1 ? "web-1-a" : name);
		str_format(name, sizeof(name), "web-1-m%d", k);
		missed_pod(w, name, at += 70, template_restarted_at(w));
		res = world_run(w, KEY);
		assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
		assert_string_equal(cond(w, "reason"), "RestartInProgress");
		/* not yet: the webhook gets time to catch up */
		assert_int_equal(res.outcome, RECONCILE_REQUEUE);
		assert_true(res.after_ns > 0 && res.after_ns <= delay * NSEC_PER_SEC);
		w->now_ns += delay * NSEC_PER_SEC;
		res = world_run(w, KEY);
		assert_true(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
		assert_true(is_requeue(res, 15));
		str_format(want, sizeof(want), "%s restarts=%d", base, k + 1);
		assert_string_equal(marker_of(w), want);
	}
	/* the fourth restart's pod is missed too: people have to look */
	gone(w, name);
	missed_pod(w, "web-1-m4", at += 70, template_restarted_at(w));
	w->now_ns += 600 * NSEC_PER_SEC;
	res = world_run(w, KEY);
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_string_equal(cond(w, "reason"), "InjectionMissing");
	assert_non_null(strstr(cond(w, "message"), "restarted 4 times"));
	assert_true(fake_kube_has_event(&w->kube, "InjectionMissing"));
	assert_int_equal(res.outcome, RECONCILE_OK);
	/* and once the webhook works, a person's restart brings the credentials */
	gone(w, "web-1-m4");
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-ok", "ReplicaSet", "web-1", at + 70, ROLE_ARN));
	world_run(w, KEY);
	assert_string_equal(cond(w, "status"), "True");
}

/* A slow rollout: pods older than keyless' last restart lack the injection
 * for minutes; that is no reason to restart again. */
static void test_restart__slow_rollout_is_not_restarted_again(void **state)
{
	struct world *w = *state;
	struct reconcile_result res;

	put_deployment(w, "web", false);
	fake_kube_put(&w->kube, &KUBE_PODS, pod("web-1-a", "ReplicaSet", "web-1", -3600, NULL));
	put_identity(w, "RolloutRestart");
	world_run(w, KEY);
	assert_true(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	w->now_ns += 600 * NSEC_PER_SEC;
	w->kube.now_ns += 600 * NSEC_PER_SEC;
	res = world_run(w, KEY);
	assert_false(fake_kube_has_event(&w->kube, "WorkloadRestarted"));
	assert_string_equal(cond(w, "reason"), "RestartInProgress");
	assert_int_equal(res.outcome, RECONCILE_OK);
	assert_int_equal(fake_kube_count_calls(&w->kube, "patch deployments/"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart__requeue_soon_only_after_a_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__paused_deployment_needs_a_person_and_is_not_polled, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart__on_delete_workloads_need_a_person, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__pods_created_while_unannotated_are_restarted_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart__wiring_time_is_the_api_servers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__wiring_time_is_the_api_servers_behind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__delete_pods_evicts_within_a_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__eviction_blocked_by_a_budget_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__eviction_failure_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__failed_workload_read_is_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__failed_replicaset_read_is_not_a_bare_pod, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__failed_restart_patch_stays_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__failed_status_write_is_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart__pods_the_webhook_missed_are_restarted_again_bounded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart__slow_rollout_is_not_restarted_again, setup, teardown),
	};

	return cmocka_run_group_tests_name("reconcile_restart", tests, NULL, NULL);
}
