/* Unit tests for leader election (kube/lease) and what it relies on in the
 * Kubernetes client: request deadlines (no retry or Retry-After sleep past
 * them) and the write fence. A fake apiserver (fake_http.c) serves one Lease
 * on loopback; expiry is judged on a manual clock where the test drives
 * attempts one by one, on the real clock where lease_run runs. */
#include "support.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/clock.h"
#include "base/fence.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/lease.h"
#include "fake_http.h"

#define LEASE_PATH "/apis/coordination.k8s.io/v1/namespaces/ns/leases/le"

enum mode { ANSWER, THROTTLE, HANG, FORBID };

/* The fake apiserver's state (guarded by the server's lock). */
struct world {
	enum mode get_mode, put_mode;
	bool exists;
	char holder[64];
	long duration, transitions, rv;
	char renew[64];
	unsigned gets, puts, puts_ok, posts, others;
	int64_t last_ok_put_ns; /* monotonic, when the last successful PUT arrived */
	unsigned puts_by_me_after_stop;
	atomic_bool stop_seen;
};

static char *status_body(int code, const char *reason)
{
	char b[256];

	snprintf(b, sizeof(b), "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"%s\",\"code\":%d}",
		 reason, code);
	return strdup(b);
}

static char *lease_json(struct world *w)
{
	json_auto_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:I, s:s, s:s, s:I}}", "apiVersion",
				   "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", "le", "namespace", "ns",
				   "resourceVersion", "", "spec", "holderIdentity", w->holder, "leaseDurationSeconds",
				   (json_int_t)w->duration, "acquireTime", "2026-12-04T00:00:00.000000Z", "renewTime",
				   w->renew, "leaseTransitions", (json_int_t)w->transitions);
	char rv[24];

	snprintf(rv, sizeof(rv), "%ld", w->rv);
	json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
	return json_dumps(o, JSON_COMPACT);
}

static void throttle(struct fake_http_answer *a)
{
	a->status = 429;
	snprintf(a->headers, sizeof(a->headers), "Retry-After: 30\r\n");
	a->body = status_body(429, "TooManyRequests");
}

static void apply_spec(struct world *w, json_t *spec)
{
	snprintf(w->holder, sizeof(w->holder), "%s", json_string_value(json_object_get(spec, "holderIdentity")) ?: "");
	snprintf(w->renew, sizeof(w->renew), "%s", json_string_value(json_object_get(spec, "renewTime")) ?: "");
	w->duration = (long)json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
	w->transitions = (long)json_integer_value(json_object_get(spec, "leaseTransitions"));
	w->rv++;
}

static void handle(const char *method, const char *path, const char *body, struct fake_http_answer *a, void *ctx)
{
	struct world *w = ctx;

	if (streq(method, "GET") && streq(path, LEASE_PATH)) {
		w->gets++;
		if (w->get_mode == HANG)
			return;
		if (w->get_mode == THROTTLE)
			return throttle(a);
		if (w->get_mode == FORBID) {
			a->status = 403;
			a->body = status_body(403, "Forbidden");
			return;
		}
		if (!w->exists) {
			a->status = 404;
			a->body = status_body(404, "NotFound");
			return;
		}
		a->status = 200;
		a->body = lease_json(w);
		return;
	}
	if ((streq(method, "PUT") && streq(path, LEASE_PATH)) ||
	    (streq(method, "POST") && streq(path, "/apis/coordination.k8s.io/v1/namespaces/ns/leases"))) {
		json_auto_t *o = json_loads(body, 0, NULL);
		const char *rv = json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
		json_t *spec = json_object_get(o, "spec");

		if (method[1] == 'U') {
			w->puts++;
			if (atomic_load(&w->stop_seen) &&
			    streq(json_string_value(json_object_get(spec, "holderIdentity")) ?: "", "me"))
				w->puts_by_me_after_stop++;
		} else {
			w->posts++;
		}
		if (w->put_mode == HANG)
			return;
		if (w->put_mode == THROTTLE)
			return throttle(a);
		if (method[1] == 'U' ? (!w->exists || !rv || strtol(rv, NULL, 10) != w->rv) : w->exists) {
			a->status = 409;
			a->body = status_body(409, method[1] == 'U' ? "Conflict" : "AlreadyExists");
			return;
		}
		w->exists = true;
		apply_spec(w, spec);
		w->puts_ok += method[1] == 'U';
		w->last_ok_put_ns = clock_mono_ns(NULL);
		a->status = method[1] == 'U' ? 200 : 201;
		a->body = lease_json(w);
		return;
	}
	w->others++;
	a->status = 200;
	a->body = strdup("{}");
}

struct env {
	struct world w;
	struct fake_http *srv;
	struct kube_config *cfg;
	struct kube_client *client;
	struct write_fence fence;
};

static void env_init(struct env *e, const struct kube_client_opts *ko)
{
	const char *paths[1];
	struct op_err err;

	memset(e, 0, sizeof(*e));
	e->w.duration = 15;
	snprintf(e->w.renew, sizeof(e->w.renew), "2026-12-04T00:00:00.000000Z");
	e->srv = fake_http_start(handle, &e->w);
	paths[0] = fake_http_kubeconfig(e->srv, NULL);
	if (kube_config_from_files(paths, 1, NULL, &e->cfg, &err) < 0)
		fail_msg("kubeconfig: %s", err.message);
	assert_int_equal(kube_client_new(e->cfg, ko, &e->client, &err), 0);
}

static void env_release(struct env *e)
{
	fake_http_stop(e->srv);
	kube_client_thread_done(e->client);
	kube_client_free(e->client);
	kube_config_free(e->cfg);
}

static double since_s(int64_t t0)
{
	return (double)(clock_mono_ns(NULL) - t0) / 1e9;
}

/* --- the client ------------------------------------------------------------- */

static void test_kube_client__retry_after_never_sleeps_past_the_deadline(void **state)
{
	struct env e;
	struct op_err err;
	json_t *got = NULL;
	int64_t t0;

	(void)state;
	env_init(&e, NULL);
	e.w.exists = true;
	e.w.get_mode = THROTTLE; /* 429 Retry-After: 30, as API Priority and Fairness answers */
	t0 = clock_mono_ns(NULL);
	assert_int_equal(kube_get_until(e.client, LEASE_PATH, t0 + 500 * NSEC_PER_MSEC, &got, &err), -EAGAIN);
	assert_true(since_s(t0) < 0.5); /* answered at once: a 30 s sleep would pass the deadline */
	assert_int_equal(e.w.gets, 1);
	env_release(&e);
}

static void test_kube_client__deadline_bounds_a_request_that_hangs(void **state)
{
	struct env e;
	struct op_err err;
	json_t *got = NULL;
	int64_t t0;

	(void)state;
	env_init(&e, NULL); /* request timeout: the default 30 s */
	e.w.exists = true;
	e.w.get_mode = HANG;
	t0 = clock_mono_ns(NULL);
	assert_int_equal(kube_get_until(e.client, LEASE_PATH, t0 + 300 * NSEC_PER_MSEC, &got, &err), -ETIMEDOUT);
	assert_true(since_s(t0) >= 0.29);
	assert_true(since_s(t0) < 0.8);
	env_release(&e);
}

static void test_kube_client__write_fence_refuses_writes_not_reads(void **state)
{
	struct env e;
	struct write_fence fence = { 0 };
	struct kube_client_opts ko = { .write_fence = &fence };
	struct op_err err;
	json_t *got = NULL;
	json_auto_t *obj = json_pack("{s:{s:s}}", "metadata", "name", "x");

	(void)state;
	env_init(&e, &ko);
	e.w.exists = true;
	/* closed (never opened): writes are not sent, reads are */
	assert_int_equal(kube_update(e.client, "/api/v1/namespaces/ns/configmaps/x", obj, NULL, &err), -ENOLCK);
	assert_int_equal(kube_patch(e.client, "/api/v1/namespaces/ns/configmaps/x", KUBE_PATCH_MERGE, "{}", NULL, false,
				    NULL, &err), -ENOLCK);
	assert_int_equal(kube_delete(e.client, "/api/v1/namespaces/ns/configmaps/x", NULL, &err), -ENOLCK);
	assert_int_equal(e.w.others, 0);
	assert_int_equal(kube_get(e.client, LEASE_PATH, &got, &err), 0);
	json_decref(got);
	/* open: sent */
	write_fence_set(&fence, clock_mono_ns(NULL) + 10 * NSEC_PER_SEC);
	assert_int_equal(kube_update(e.client, "/api/v1/namespaces/ns/configmaps/x", obj, NULL, &err), 0);
	assert_int_equal(e.w.others, 1);
	/* past its time: refused again */
	write_fence_set(&fence, clock_mono_ns(NULL) - 1);
	assert_int_equal(kube_update(e.client, "/api/v1/namespaces/ns/configmaps/x", obj, NULL, &err), -ENOLCK);
	assert_int_equal(e.w.others, 1);
	env_release(&e);
}

/* --- expiry, as a standby judges it ------------------------------------------ */

static void test_lease__standby_judges_expiry_by_the_records_duration(void **state)
{
	struct env e;
	struct manual_clock mc;
	struct lease_elector *el;
	struct op_err err;
	struct lease_opts o = { .namespace = "ns", .name = "le", .identity = "me",
				.lease_duration_ns = 15 * NSEC_PER_SEC, .clock = &mc.clock };

	(void)state;
	env_init(&e, NULL);
	manual_clock_init(&mc, 1000 * NSEC_PER_SEC, 0);
	o.client = e.client;
	e.w.exists = true;
	snprintf(e.w.holder, sizeof(e.w.holder), "other");
	e.w.duration = 2; /* the holder's setting, not ours (15 s) */
	assert_int_equal(lease_elector_new(&o, &el), 0);
	assert_int_equal(lease_elector_try(el, 0, &err), LEASE_HELD);
	manual_clock_advance(&mc, 1900 * NSEC_PER_MSEC);
	assert_int_equal(lease_elector_try(el, 0, &err), LEASE_HELD);
	manual_clock_advance(&mc, 200 * NSEC_PER_MSEC); /* 2.1 s without a change: expired */
	assert_int_equal(lease_elector_try(el, 0, &err), LEASE_ACQUIRED);
	assert_string_equal(e.w.holder, "me");
	assert_int_equal(e.w.duration, 15); /* we write ours */
	assert_int_equal(e.w.transitions, 1);
	lease_elector_free(el);
	env_release(&e);
}

static void test_lease__expiry_counts_from_the_last_observed_change(void **state)
{
	struct env e;
	struct manual_clock mc;
	struct lease_elector *el;
	struct op_err err;
	struct lease_opts o = { .namespace = "ns", .name = "le", .identity = "me",
				.lease_duration_ns = 15 * NSEC_PER_SEC, .clock = &mc.clock };

	(void)state;
	env_init(&e, NULL);
	manual_clock_init(&mc, 1000 * NSEC_PER_SEC, 0);
	o.client = e.client;
	e.w.exists = true;
	snprintf(e.w.holder, sizeof(e.w.holder), "other");
	e.w.duration = 2;
	assert_int_equal(lease_elector_new(&o, &el), 0);
	assert_int_equal(lease_elector_try(el, 0, &err), LEASE_HELD);
	manual_clock_advance(&mc, 1500 * NSEC_PER_MSEC);
	/* the holder renews (its clock may say anything: only the change counts) */
	snprintf(e.w.renew, sizeof(e.w.renew), "1999-01-01T00:00:00.000000Z");
	e.w.rv++;
	assert_int_equal(lease_elector_try(el, 0, &err), LEASE_HELD);
	manual_clock_advance(&mc, 1500 * NSEC_PER_MSEC); /* 3 s since first seen, 1.5 s since the change */
	assert_int_equal(lease_elector_try(el, 0, &err), LEASE_HELD);
	manual_clock_advance(&mc, 600 * NSEC_PER_MSEC);
	assert_int_equal(lease_elector_try(el, 0, &err), LEASE_ACQUIRED);
	/* a released lease (no holder) is free at once */
	snprintf(e.w.holder, sizeof(e.w.holder), "%s", "");
	e.w.rv++;
	assert_int_equal(lease_elector_try(el, 0, &err), LEASE_ACQUIRED);
	lease_elector_free(el);
	env_release(&e);
}

/* --- lease_run on the real clock ------------------------------------------------ */

struct run {
	struct env *e;
	struct lease_opts o;
	atomic_bool stop;
	atomic_int rc, started, stopped, errors, last_error_status;
	atomic_bool done;
	int64_t drain_ns;
	atomic_llong fence_left_at_drain_end;
	pthread_t t;
};

static void on_started(void *ctx)
{
	struct run *r = ctx;

	atomic_store(&r->started, 1);
}

static void on_stopped(void *ctx)
{
	struct run *r = ctx;

	atomic_fetch_add(&r->stopped, 1);
}

static void on_error(const struct op_err *err, void *ctx)
{
	struct run *r = ctx;

	atomic_fetch_add(&r->errors, 1);
	atomic_store(&r->last_error_status, err->http_status);
}

static void drain(void *ctx)
{
	struct run *r = ctx;

	sleep_ns(r->drain_ns); /* in-flight reconciles that outlast the lease duration */
	atomic_store(&r->fence_left_at_drain_end, write_fence_left(&r->e->fence));
}

static void *run_main(void *arg)
{
	struct run *r = arg;

	atomic_store(&r->rc, lease_run(&r->o, &r->stop, true));
	atomic_store(&r->done, true);
	return NULL;
}

static void run_start(struct run *r, struct env *e)
{
	r->e = e;
	r->o = (struct lease_opts){ .client = e->client, .namespace = "ns", .name = "le", .identity = "me",
				    .lease_duration_ns = 2 * NSEC_PER_SEC, .renew_deadline_ns = NSEC_PER_SEC,
				    .retry_period_ns = 100 * NSEC_PER_MSEC, .fence = &e->fence, .on_started = on_started,
				    .on_stopped = on_stopped, .drain = drain, .on_error = on_error, .ctx = r };
	assert_int_equal(pthread_create(&r->t, NULL, run_main, r), 0);
	for (int i = 0; i < 300 && !atomic_load(&r->started); i++)
		sleep_ns(10 * NSEC_PER_MSEC);
	assert_true(atomic_load(&r->started));
	assert_true(write_fence_left(&e->fence) > 0);
}

/* wait up to s seconds for lease_run to return */
static bool run_wait(struct run *r, double s)
{
	int64_t t0 = clock_mono_ns(NULL);

	while (!atomic_load(&r->done) && since_s(t0) < s)
		sleep_ns(5 * NSEC_PER_MSEC);
	if (!atomic_load(&r->done))
		return false;
	pthread_join(r->t, NULL);
	return true;
}

static void renewal_fails(enum mode m)
{
	struct env e;
	struct run r = { 0 };
	double after;

	env_init(&e, NULL);
	run_start(&r, &e);
	/* a few renewals (waited for: valgrind on a loaded machine is slow) */
	for (int i = 0; i < 100 && atomic_load(&e.w.puts_ok) < 2; i++)
		sleep_ns(50 * NSEC_PER_MSEC);
	assert_true(e.w.puts_ok >= 2);
	e.w.put_mode = m; /* from now on every renewal is throttled (429 Retry-After: 30) or hangs */
	assert_true(run_wait(&r, 3.0)); /* old code: 3 x 30 s of Retry-After sleeps, or a 30 s timeout */
	after = (double)(clock_mono_ns(NULL) - e.w.last_ok_put_ns) / 1e9;
	assert_int_equal(atomic_load(&r.rc), -ETIMEDOUT);
	assert_int_equal(atomic_load(&r.stopped), 1);
	assert_int_equal(write_fence_left(&e.fence), 0); /* writers stopped */
	/* the renew deadline (1 s) counts from the start of the last successful
	 * attempt, which is before the server saw it: stopped within ~1 s of it,
	 * before a standby could take over (2 s after it saw that renewal); the
	 * margin is for valgrind on a loaded machine */
	assert_true(after < 1.6);
	if (m == THROTTLE)
		assert_true(e.w.puts >= e.w.puts_ok + 3); /* retried every retry period, no 30 s sleep */
	env_release(&e);
}

static void test_lease__throttled_renewals_stop_the_leader_within_the_renew_deadline(void **state)
{
	(void)state;
	renewal_fails(THROTTLE);
}

static void test_lease__hanging_renewals_stop_the_leader_within_the_renew_deadline(void **state)
{
	(void)state;
	renewal_fails(HANG);
}

static void test_lease__sigterm_drains_while_renewing_then_releases(void **state)
{
	struct env e;
	struct run r = { 0 };
	int64_t t0;

	(void)state;
	env_init(&e, NULL);
	r.drain_ns = 2500 * NSEC_PER_MSEC; /* longer than the lease duration (2 s) */
	run_start(&r, &e);
	sleep_ns(200 * NSEC_PER_MSEC);
	atomic_store(&e.w.stop_seen, true);
	t0 = clock_mono_ns(NULL);
	atomic_store(&r.stop, true);
	assert_true(run_wait(&r, 5.0));
	assert_true(since_s(t0) >= 2.5);
	assert_int_equal(atomic_load(&r.rc), 0);
	assert_int_equal(atomic_load(&r.stopped), 0);
	/* renewed all through the drain: the fence was still open at its end */
	assert_true(e.w.puts_by_me_after_stop >= 10);
	assert_true(atomic_load(&r.fence_left_at_drain_end) > 0);
	/* then released (client-go's ReleaseOnCancel) and the fence closed */
	assert_string_equal(e.w.holder, "");
	assert_int_equal(e.w.duration, 1);
	assert_int_equal(write_fence_left(&e.fence), 0);
	env_release(&e);
}

/* A Lease the credentials may not read (RBAC) is reported on every failed
 * attempt through on_error, and acquired once the permission arrives; a
 * plain acquisition reports nothing. */
static void test_lease__forbidden_attempts_are_reported(void **state)
{
	struct env e, e2;
	struct run r = { 0 }, r2 = { 0 };

	(void)state;
	env_init(&e, NULL);
	e.w.get_mode = FORBID;
	/* run_start waits up to 3 s for leadership: grant it after 300 ms */
	r.e = &e;
	r.o = (struct lease_opts){ .client = e.client, .namespace = "ns", .name = "le", .identity = "me",
				   .lease_duration_ns = 2 * NSEC_PER_SEC, .renew_deadline_ns = NSEC_PER_SEC,
				   .retry_period_ns = 100 * NSEC_PER_MSEC, .fence = &e.fence, .on_started = on_started,
				   .on_stopped = on_stopped, .drain = drain, .on_error = on_error, .ctx = &r };
	assert_int_equal(pthread_create(&r.t, NULL, run_main, &r), 0);
	sleep_ns(300 * NSEC_PER_MSEC);
	assert_false(atomic_load(&r.started));
	assert_true(atomic_load(&r.errors) >= 2);
	assert_int_equal(atomic_load(&r.last_error_status), 403);
	e.w.get_mode = ANSWER;
	for (int i = 0; i < 300 && !atomic_load(&r.started); i++)
		sleep_ns(10 * NSEC_PER_MSEC);
	assert_true(atomic_load(&r.started));
	atomic_store(&r.stop, true);
	assert_true(run_wait(&r, 3.0));
	assert_int_equal(atomic_load(&r.rc), 0);
	env_release(&e);

	/* no error on a clean acquisition and renewals */
	env_init(&e2, NULL);
	run_start(&r2, &e2);
	sleep_ns(300 * NSEC_PER_MSEC);
	atomic_store(&r2.stop, true);
	assert_true(run_wait(&r2, 3.0));
	assert_int_equal(atomic_load(&r2.errors), 0);
	env_release(&e2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kube_client__retry_after_never_sleeps_past_the_deadline),
		cmocka_unit_test(test_kube_client__deadline_bounds_a_request_that_hangs),
		cmocka_unit_test(test_kube_client__write_fence_refuses_writes_not_reads),
		cmocka_unit_test(test_lease__standby_judges_expiry_by_the_records_duration),
		cmocka_unit_test(test_lease__expiry_counts_from_the_last_observed_change),
		cmocka_unit_test(test_lease__throttled_renewals_stop_the_leader_within_the_renew_deadline),
		cmocka_unit_test(test_lease__hanging_renewals_stop_the_leader_within_the_renew_deadline),
		cmocka_unit_test(test_lease__sigterm_drains_while_renewing_then_releases),
		cmocka_unit_test(test_lease__forbidden_attempts_are_reported),
	};

	return cmocka_run_group_tests(tests, test_tmpdir_setup, test_tmpdir_teardown);
}
