/* Cost proportional to change (issue 11, review findings 18 and 22): what a
 * reconcile brought by pods, the service account or keyless' own writes
 * costs in AWS calls, how many reconciles a new identity takes through the
 * informer handlers and the work queue, what waits on watches instead of
 * polling IAM, that no lock is held across network I/O, and what the
 * periodic drift sweep reads and enqueues. */
#include "support.h"

#include <ctype.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/str.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/events.h"
#include "kube/project.h"
#include "reconcile/queue.h"
#include "reconcile/sweep.h"
#include "fake_http.h"
#include "world.h"

static const char settings_yaml[] = "clusterName: prod\n"
				    "accountId: \"123456789012\"\n"
				    "oidcIssuer: " WORLD_ISSUER "\n"
				    "resyncPeriod: 10m\n"
				    "permissionsBoundaryArn: arn:aws:iam::123456789012:policy/keyless-boundary\n";

#define KEY "logging/s3-reader"

/* A world whose cache changes reach the real handlers and a real queue. */
struct env {
	struct world *w;
	struct wq *q;
	struct wi_handler h;
	int reconciles;
};

static void on_change(void *ctx, const struct kube_resource *r, const struct kube_change *ch)
{
	struct env *e = ctx;

	if (r == &KUBE_WORKLOADIDENTITIES)
		wi_on_wi_change(ch, &e->h);
	else if (r == &KUBE_SERVICEACCOUNTS)
		wi_on_sa_change(ch, &e->h);
	else if (r == &KUBE_PODS)
		wi_on_pod_change(ch, &e->h);
}

static int setup_with(void **state, const char *yaml)
{
	struct env *e = calloc(1, sizeof(*e));
	struct wq_opts qo = { .qps = -1 };

	assert_non_null(e);
	e->w = world_new(yaml, WORLD_ISSUER);
	e->q = wq_new(&qo);
	e->h = (struct wi_handler){ .r = &e->w->r, .q = e->q };
	e->w->kube.on_change = on_change;
	e->w->kube.on_change_ctx = e;
	*state = e;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, settings_yaml);
}

static int setup_bulk(void **state)
{
	static char yaml[sizeof(settings_yaml) + 32];

	str_format(yaml, sizeof(yaml), "%sdriftDetection: bulk\n", settings_yaml);
	return setup_with(state, yaml);
}

static int teardown(void **state)
{
	struct env *e = *state;

	e->w->kube.on_change = NULL;
	wq_free(e->q);
	world_free(e->w);
	free(e);
	return 0;
}

/* What the manager's workers do, until the queue is empty (delayed re-adds
 * are not waited for). The AWS calls of all these reconciles are in
 * world_calls(). Returns the last result. */
static struct reconcile_result drain(struct env *e)
{
	struct reconcile_result res = { .outcome = RECONCILE_OK };
	char *key;

	fake_aws_clear_calls(e->w->aws);
	fake_kube_clear_calls(&e->w->kube);
	while (wq_get_timeout(e->q, &key, 50 * NSEC_PER_MSEC) == 0) {
		e->reconciles++;
		fake_aws_current = e->w->aws;
		res = wi_reconcile(&e->w->r, key);
		wq_done(e->q, key);
		free(key);
	}
	return res;
}

static json_t *stale_pod(const char *name)
{
	return json_pack("{s:{s:s, s:s, s:s, s:s}, s:{s:s, s:[{s:s}]}, s:{s:s}}", "metadata", "namespace", "logging",
			 "name", name, "uid", "bbbbbbbb-0000-0000-0000-000000000001", "creationTimestamp",
			 "2020-01-01T00:00:00Z", "spec", "serviceAccountName", "s3-reader-sa", "containers", "name", "c",
			 "status", "phase", "Running");
}

static void converge(struct env *e)
{
	fake_kube_put(&e->w->kube, &KUBE_SERVICEACCOUNTS, world_sa("logging", "s3-reader-sa"));
	fake_kube_put(&e->w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", 9, ""));
	drain(e);
	assert_string_equal(world_cond(e->w, "logging", "s3-reader", "Ready", "status"), "True");
}

/* A new identity: 2 role writes (CreateRole with tags and boundary,
 * PutRolePolicy) and no read, plus the one-time provider, and one reconcile:
 * keyless' own finalizer, status and service-account writes bring it back
 * no more. */
static void test_cost__new_identity_two_writes_one_reconcile(void **state)
{
	struct env *e = *state;

	converge(e);
	assert_string_equal(world_calls(e->w), "ListOpenIDConnectProviders,CreateOpenIDConnectProvider,CreateRole,"
					       "PutRolePolicy");
	assert_int_equal(e->w->aws->writes, 3);
	assert_int_equal(e->reconciles, 1);
}

/* A pod event re-runs the pod step only: no AWS call; two resync periods
 * later without a drift sweep AWS is verified again, and so it is for a new
 * generation. */
static void test_cost__pod_event_costs_no_aws_call(void **state)
{
	struct env *e = *state;
	json_t *o;

	converge(e);
	e->reconciles = 0;
	fake_kube_put(&e->w->kube, &KUBE_PODS, stale_pod("bare"));
	drain(e);
	assert_int_equal(e->reconciles, 1);
	assert_string_equal(world_calls(e->w), "");
	assert_string_equal(world_cond(e->w, "logging", "s3-reader", "WorkloadsReady", "status"), "False");

	/* the periodic resync a resync period later reads nothing: the drift
	 * sweep (reconcile/sweep.c) vouches for verified roles each period */
	e->w->mono_offset_ns += 600 * NSEC_PER_SEC;
	wq_add(e->q, KEY);
	drain(e);
	assert_string_equal(world_calls(e->w), "");
	/* without a sweep, a verification ages out after two periods */
	e->w->mono_offset_ns += 600 * NSEC_PER_SEC;
	wq_add(e->q, KEY);
	drain(e);
	assert_string_equal(world_calls(e->w), "ListOpenIDConnectProviders,GetOpenIDConnectProvider,GetRole,"
					       "ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies");
	/* and the pod event right after it does not */
	fake_kube_put(&e->w->kube, &KUBE_PODS, stale_pod("bare2"));
	drain(e);
	assert_string_equal(world_calls(e->w), "");

	/* a spec change (a new generation) verifies AWS */
	o = json_deep_copy(fake_kube_obj(&e->w->kube, &KUBE_WORKLOADIDENTITIES, "logging", "s3-reader"));
	json_object_set_new(json_object_get(o, "metadata"), "generation", json_integer(2));
	json_object_set_new(json_object_get(o, "spec"), "maxSessionDuration", json_integer(7200));
	fake_kube_put(&e->w->kube, &KUBE_WORKLOADIDENTITIES, o);
	drain(e);
	assert_string_equal(world_calls(e->w), "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies,"
					       "UpdateRole");
}

/* Someone removes keyless' annotation: the service-account event is no echo,
 * the annotation is restored without AWS reads. */
static void test_cost__service_account_drift_costs_no_aws_call(void **state)
{
	struct env *e = *state;

	converge(e);
	e->reconciles = 0;
	fake_kube_annotate(&e->w->kube, &KUBE_SERVICEACCOUNTS, "logging", "s3-reader-sa", "eks.amazonaws.com/role-arn",
			   NULL, "kubectl-annotate");
	drain(e);
	assert_int_equal(e->reconciles, 1);
	assert_string_equal(world_calls(e->w), "");
	assert_non_null(world_sa_annotation(e->w, "logging", "s3-reader-sa", "eks.amazonaws.com/role-arn"));
}

/* Waiting for a service account is not polled: the reconcile asks for no
 * early requeue, and the service account's creation brings the object back
 * (without reading IAM again). */
static void test_cost__waiting_for_a_service_account_is_not_polled(void **state)
{
	struct env *e = *state;
	struct reconcile_result res;

	fake_kube_put(&e->w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", 9, ""));
	res = drain(e);
	assert_string_equal(world_cond(e->w, "logging", "s3-reader", "ServiceAccountReady", "reason"),
			    "ServiceAccountNotFound");
	assert_int_equal(res.outcome, RECONCILE_OK); /* not a 60 s requeue */
	assert_int_equal(e->reconciles, 1);
	fake_kube_put(&e->w->kube, &KUBE_SERVICEACCOUNTS, world_sa("logging", "s3-reader-sa"));
	drain(e);
	assert_int_equal(e->reconciles, 2);
	assert_string_equal(world_calls(e->w), "");
	assert_string_equal(world_cond(e->w, "logging", "s3-reader", "Ready", "status"), "True");
}

/* --- no lock held across I/O ------------------------------------------------------ */

struct gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	bool entered, open;
};

static struct gate gate = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false };

/* The issuer's TLS thumbprint: blocks until the test opens the gate. */
static int blocking_thumbprint(const char *url, const char *ca, char *out, struct op_err *err)
{
	(void)url, (void)ca, (void)err;
	pthread_mutex_lock(&gate.m);
	gate.entered = true;
	pthread_cond_broadcast(&gate.c);
	while (!gate.open)
		pthread_cond_wait(&gate.c, &gate.m);
	pthread_mutex_unlock(&gate.m);
	str_copy(out, 41, "0123456789abcdef0123456789abcdef01234567");
	return 0;
}

static void *reconcile_main(void *arg)
{
	struct world *w = arg;

	wi_reconcile(&w->r, KEY);
	return NULL;
}

static void test_cost__provider_lock_not_held_across_io(void **state)
{
	struct env *e = *state;
	pthread_t t;
	int busy;

	gate.entered = gate.open = false;
	e->w->r.thumbprint = blocking_thumbprint;
	fake_kube_put(&e->w->kube, &KUBE_SERVICEACCOUNTS, world_sa("logging", "s3-reader-sa"));
	fake_kube_put(&e->w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", 9, ""));
	fake_aws_current = e->w->aws;
	assert_int_equal(pthread_create(&t, NULL, reconcile_main, e->w), 0);
	pthread_mutex_lock(&gate.m);
	while (!gate.entered)
		pthread_cond_wait(&gate.c, &gate.m);
	pthread_mutex_unlock(&gate.m);
	/* the provider is being created (a TLS connection to the issuer): the
	 * reconciler's lock is free for the other workers */
	busy = pthread_mutex_trylock(&e->w->r.lock);
	if (busy == 0)
		pthread_mutex_unlock(&e->w->r.lock);
	pthread_mutex_lock(&gate.m);
	gate.open = true;
	pthread_cond_broadcast(&gate.c);
	pthread_mutex_unlock(&gate.m);
	pthread_join(t, NULL);
	assert_int_equal(busy, 0);
	assert_string_equal(world_cond(e->w, "logging", "s3-reader", "Ready", "status"), "True");
}

/* The event recorder: an Event create that hangs does not stop another one. */
struct ev_env {
	struct kube_config *cfg;
	struct kube_client *client;
	struct event_recorder *rec;
	atomic_bool fast_done;
};

static void ev_handler(const char *method, const char *path, const char *body, struct fake_http_answer *ret, void *ctx)
{
	(void)method, (void)path, (void)ctx;
	if (strstr(body, "slow")) {
		ret->status = 0; /* hangs until the server stops */
		return;
	}
	ret->status = 201;
	ret->body = strdup("{}");
}

static void *record_main(void *arg)
{
	struct ev_env *v = arg;
	struct kube_object_ref ref = { "keyless.dev/v1alpha1", "WorkloadIdentity", "logging", "slow", "u1" };
	struct op_err err;

	op_err_clear(&err);
	event_record(v->rec, &ref, "Normal", "Slow", "Test", &err, "slow");
	kube_client_thread_done(v->client);
	return NULL;
}

static void *record_fast_main(void *arg)
{
	struct ev_env *v = arg;
	struct kube_object_ref ref = { "keyless.dev/v1alpha1", "WorkloadIdentity", "logging", "fast", "u2" };
	struct op_err err;

	op_err_clear(&err);
	assert_int_equal(event_record(v->rec, &ref, "Normal", "Fast", "Test", &err, "fast"), 0);
	atomic_store(&v->fast_done, true);
	kube_client_thread_done(v->client);
	return NULL;
}

static void test_cost__event_recorder_not_locked_across_io(void **state)
{
	struct ev_env v = { 0 };
	struct fake_http *srv = fake_http_start(ev_handler, NULL);
	const char *paths[1] = { fake_http_kubeconfig(srv, NULL) };
	struct kube_client_opts ko = { 0 };
	struct op_err err;
	pthread_t slow, fast;
	bool done = false;

	(void)state;
	if (kube_config_from_files(paths, 1, NULL, &v.cfg, &err) < 0)
		fail_msg("kubeconfig: %s", err.message);
	assert_int_equal(kube_client_new(v.cfg, &ko, &v.client, &err), 0);
	v.rec = event_recorder_new(&(struct event_recorder_opts){ .client = v.client });
	assert_non_null(v.rec);
	assert_int_equal(pthread_create(&slow, NULL, record_main, &v), 0);
	sleep_ns(200 * NSEC_PER_MSEC); /* the slow create is on the wire */
	assert_int_equal(pthread_create(&fast, NULL, record_fast_main, &v), 0);
	for (int i = 0; i < 250 && !(done = atomic_load(&v.fast_done)); i++)
		sleep_ns(20 * NSEC_PER_MSEC);
	fake_http_stop(srv); /* releases the hanging request */
	pthread_join(fast, NULL);
	pthread_join(slow, NULL);
	assert_true(done);
	event_recorder_free(v.rec);
	kube_client_free(v.client);
	kube_config_free(v.cfg);
}

/* --- the drift sweep (reconcile/sweep.c) ---------------------------------------------- */

/* One sweep a little after the convergence; the calls it made. */
static struct drift_sweep_stats sweep(struct env *e, char ***spread, size_t *n)
{
	struct drift_sweep_stats st;
	struct op_err err;

	e->w->mono_offset_ns += NSEC_PER_SEC;
	fake_aws_clear_calls(e->w->aws);
	fake_aws_current = e->w->aws;
	op_err_clear(&err);
	assert_int_equal(drift_sweep(&e->w->r, e->q, &st, spread, n, &err), 0);
	return st;
}

static void free_spread(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* bulk: one GetAccountAuthorizationDetails page and the provider (List +
 * Get) vouch for every verified role; their resyncs then read nothing */
static void test_sweep__bulk_no_op_is_one_page_and_the_provider(void **state)
{
	struct env *e = *state;
	struct drift_sweep_stats st;
	char **spread = NULL;
	size_t n = 0;

	converge(e);
	st = sweep(e, &spread, &n);
	assert_string_equal(world_calls(e->w),
			    "ListOpenIDConnectProviders,GetOpenIDConnectProvider,GetAccountAuthorizationDetails");
	assert_int_equal(st.known, 1);
	assert_int_equal(st.vouched, 1);
	assert_int_equal(st.drifted + st.missing + st.spread, 0);
	assert_int_equal(n, 0);
	free_spread(spread, n);
	e->reconciles = 0;
	drain(e);
	assert_int_equal(e->reconciles, 0); /* nothing enqueued */

	/* 1.5 periods after the verification, one after the sweep: still fresh */
	e->w->mono_offset_ns += 900 * NSEC_PER_SEC;
	wq_add(e->q, KEY);
	drain(e);
	assert_string_equal(world_calls(e->w), "");
}

/* An identity with a pod identity association is not vouched for by the
 * sweep (which sees roles, not associations): once its verification expires
 * it is read in full, association included, and a deleted one comes back. */
static void test_sweep__pod_identity_is_not_vouched_for(void **state)
{
	struct env *e = *state;
	struct drift_sweep_stats st;
	char **spread = NULL;
	size_t n = 0;

	fake_kube_put(&e->w->kube, &KUBE_SERVICEACCOUNTS, world_sa("logging", "s3-reader-sa"));
	fake_kube_put(&e->w->kube, &KUBE_WORKLOADIDENTITIES,
		      world_wi("logging", "s3-reader", "s3-reader-sa", "2026-01-01T00:00:00Z", 9, ",\"mode\":\"PodIdentity\""));
	drain(e);
	assert_string_equal(world_cond(e->w, "logging", "s3-reader", "Ready", "status"), "True");
	st = sweep(e, &spread, &n);
	assert_int_equal(st.vouched, 0);
	free_spread(spread, n);
	fake_aws_association(e->w->aws, "logging", "s3-reader-sa")->used = false; /* deleted behind keyless' back */
	e->w->mono_offset_ns += 1300 * NSEC_PER_SEC; /* past two periods of 600 s */
	wq_add(e->q, KEY);
	drain(e);
	assert_non_null(strstr(world_calls(e->w), "CreatePodIdentityAssociation"));
	assert_non_null(fake_aws_association(e->w->aws, "logging", "s3-reader-sa"));
}

/* bulk: a managed policy attached in the console is found by the sweep and
 * only that identity is reconciled (and repaired); a tag key whose case
 * changed is no drift (IAM compares keys without case) */
static void test_sweep__bulk_drift_enqueues_and_repairs(void **state)
{
	struct env *e = *state;
	struct fake_role *fr;
	struct drift_sweep_stats st;
	char **spread = NULL;
	size_t n = 0;

	converge(e);
	fr = &e->w->aws->roles[0];
	assert_true(fr->used);
	for (size_t i = 0; i < fr->tags.n; i++)
		for (char *k = fr->tags.items[i].key; *k; k++)
			*k = (char)toupper((unsigned char)*k);
	st = sweep(e, &spread, &n);
	assert_int_equal(st.vouched, 1);

	fr->attached[fr->n_attached++] = strdup("arn:aws:iam::aws:policy/AdministratorAccess");
	st = sweep(e, &spread, &n);
	assert_int_equal(st.drifted, 1);
	assert_int_equal(st.vouched, 0);
	e->reconciles = 0;
	drain(e);
	assert_int_equal(e->reconciles, 1);
	assert_non_null(strstr(world_calls(e->w), "DetachRolePolicy"));
	assert_int_equal(fr->n_attached, 0);

	/* the repaired role is vouched for again by the next sweep */
	st = sweep(e, &spread, &n);
	assert_int_equal(st.vouched, 1);
}

/* a role deleted behind keyless' back is missing from the listing: that
 * identity is reconciled and the role created again */
static void test_sweep__missing_role_is_recreated(void **state)
{
	struct env *e = *state;
	struct drift_sweep_stats st;
	char **spread = NULL;
	size_t n = 0;

	converge(e);
	fake_aws_role_drop(&e->w->aws->roles[0]);
	st = sweep(e, &spread, &n);
	assert_int_equal(st.missing, 1);
	drain(e);
	assert_non_null(strstr(world_calls(e->w), "CreateRole"));
}

/* roles (default): ListRoles under rolePath; the trust policy is compared
 * at once, everything else is verified in full at the identity's slot */
static void test_sweep__roles_lists_compares_trust_and_spreads_the_rest(void **state)
{
	struct env *e = *state;
	struct fake_role *fr;
	struct drift_sweep_stats st;
	char **spread = NULL;
	size_t n = 0;

	converge(e);
	st = sweep(e, &spread, &n);
	assert_string_equal(world_calls(e->w), "ListOpenIDConnectProviders,GetOpenIDConnectProvider,ListRoles");
	assert_int_equal(st.spread, 1);
	assert_int_equal(n, 1);
	assert_string_equal(spread[0], KEY);
	e->reconciles = 0;
	drain(e);
	assert_int_equal(e->reconciles, 0); /* nothing at once */
	drift_sweep_verify(&e->w->r, e->q, spread[0]);
	free_spread(spread, n);
	drain(e);
	assert_string_equal(world_calls(e->w), "GetRole,ListRolePolicies,GetRolePolicy,ListAttachedRolePolicies");

	fr = &e->w->aws->roles[0];
	free(fr->trust);
	fr->trust = strdup("{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":"
			   "{\"AWS\":\"*\"},\"Action\":\"sts:AssumeRole\"}]}");
	st = sweep(e, &spread, &n);
	assert_int_equal(st.drifted, 1);
	assert_int_equal(n, 0);
	free_spread(spread, n);
	drain(e);
	assert_non_null(strstr(world_calls(e->w), "UpdateAssumeRolePolicy"));
}

/* the provider lost an audience: every verified identity is reconciled and
 * the audience added back */
static void test_sweep__provider_change_reverifies_every_identity(void **state)
{
	struct env *e = *state;
	struct fake_aws *f;
	struct drift_sweep_stats st;
	char **spread = NULL;
	size_t n = 0;

	converge(e);
	f = e->w->aws;
	assert_int_equal(f->n_client_ids, 1);
	free(f->client_ids[--f->n_client_ids]);
	st = sweep(e, &spread, &n);
	assert_true(st.provider_changed);
	assert_int_equal(st.drifted, 1);
	drain(e);
	assert_non_null(strstr(world_calls(e->w), "AddClientIDToOpenIDConnectProvider"));
	assert_int_equal(f->n_client_ids, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cost__new_identity_two_writes_one_reconcile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cost__pod_event_costs_no_aws_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cost__service_account_drift_costs_no_aws_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cost__waiting_for_a_service_account_is_not_polled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cost__provider_lock_not_held_across_io, setup, teardown),
		cmocka_unit_test(test_cost__event_recorder_not_locked_across_io),
		cmocka_unit_test_setup_teardown(test_sweep__bulk_no_op_is_one_page_and_the_provider, setup_bulk, teardown),
		cmocka_unit_test_setup_teardown(test_sweep__pod_identity_is_not_vouched_for, setup_bulk, teardown),
		cmocka_unit_test_setup_teardown(test_sweep__bulk_drift_enqueues_and_repairs, setup_bulk, teardown),
		cmocka_unit_test_setup_teardown(test_sweep__missing_role_is_recreated, setup_bulk, teardown),
		cmocka_unit_test_setup_teardown(test_sweep__roles_lists_compares_trust_and_spreads_the_rest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sweep__provider_change_reverifies_every_identity, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
