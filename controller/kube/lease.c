#include "kube/lease.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/ratelimit.h"
#include "base/str.h"

struct lease_elector {
	const struct lease_opts *o;
	char *path, *collection;
	/* what we last saw, and when (local monotonic): the expiry clock */
	char *observed;     /* holder + renewTime + duration, as one string */
	char *observed_holder;
	int64_t observed_at;
	int64_t observed_duration_ns; /* the record's leaseDurationSeconds (ours if unset) */
	int64_t duration_ns, deadline_ns, retry_ns;
};

static int64_t mono(const struct lease_elector *e)
{
	return clock_mono_ns(e->o->clock);
}

static void micro_now(char *buf, size_t size)
{
	rfc3339_format(clock_real_ns(NULL), 6, buf, size);
}

static void observe(struct lease_elector *e, json_t *spec)
{
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	const char *renew = json_string_value(json_object_get(spec, "renewTime"));
	json_int_t dur = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
	struct buf b = BUF_INIT(0);

	if (buf_printf(&b, "%s|%s|%lld", holder ? holder : "", renew ? renew : "", (long long)dur) < 0)
		return;
	if (!e->observed || !streq(e->observed, b.data)) {
		free(e->observed);
		e->observed = buf_detach(&b);
		e->observed_at = mono(e);
		/* judge expiry by the holder's duration, as client-go does */
		e->observed_duration_ns = dur > 0 && dur < INT64_MAX / NSEC_PER_SEC ? (int64_t)dur * NSEC_PER_SEC
										   : e->duration_ns;
		if (!e->observed_holder || !streq(e->observed_holder, holder ? holder : "")) {
			free(e->observed_holder);
			e->observed_holder = strdup(holder ? holder : "");
			if (e->o->on_new_leader && holder && *holder)
				e->o->on_new_leader(holder, e->o->ctx);
		}
	}
	buf_release(&b);
}

static json_t *new_spec(struct lease_elector *e, const char *acquire_time, json_int_t transitions)
{
	char now[40];

	micro_now(now, sizeof(now));
	return json_pack("{s:s, s:I, s:s, s:s, s:I}", "holderIdentity", e->o->identity, "leaseDurationSeconds",
			 (json_int_t)(e->duration_ns / NSEC_PER_SEC), "acquireTime", acquire_time ? acquire_time : now,
			 "renewTime", now, "leaseTransitions", transitions);
}

enum lease_try lease_elector_try(struct lease_elector *e, int64_t deadline, struct op_err *err)
{
	json_auto_t *lease = NULL, *spec = NULL, *out = NULL;
	const char *holder, *acq;
	json_t *old;
	json_int_t transitions;
	int r;

	r = kube_get_until(e->o->client, e->path, deadline, &lease, err);
	if (r == -ENOENT) {
		json_auto_t *obj = NULL;

		spec = new_spec(e, NULL, 0);
		obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O}", "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
				"metadata", "name", e->o->name, "namespace", e->o->namespace, "spec", spec);
		if (!obj)
			return LEASE_FAILED;
		r = kube_create_until(e->o->client, e->collection, obj, deadline, &out, err);
		if (r < 0)
			return LEASE_FAILED;
		observe(e, json_object_get(out, "spec"));
		return LEASE_ACQUIRED;
	}
	if (r < 0)
		return LEASE_FAILED;
	old = json_object_get(lease, "spec");
	observe(e, old);
	holder = json_string_value(json_object_get(old, "holderIdentity"));
	if (holder && *holder && !streq(holder, e->o->identity) && mono(e) < e->observed_at + e->observed_duration_ns)
		return LEASE_HELD;
	transitions = json_integer_value(json_object_get(old, "leaseTransitions"));
	acq = json_string_value(json_object_get(old, "acquireTime"));
	if (holder && streq(holder, e->o->identity)) {
		spec = new_spec(e, acq, transitions); /* renew: keep acquireTime */
	} else {
		spec = new_spec(e, NULL, transitions + 1); /* as client-go: any change of holder */
	}
	if (!spec)
		return LEASE_FAILED;
	json_object_set(lease, "spec", spec);
	r = kube_update_until(e->o->client, e->path, lease, deadline, &out, err);
	if (r < 0)
		return LEASE_FAILED; /* Conflict: someone else wrote first */
	observe(e, json_object_get(out, "spec"));
	return LEASE_ACQUIRED;
}

int lease_elector_release(struct lease_elector *e, int64_t deadline, struct op_err *err)
{
	json_auto_t *lease = NULL;
	json_t *spec;
	char now[40];
	int r;

	r = kube_get_until(e->o->client, e->path, deadline, &lease, err);
	if (r < 0)
		return r;
	spec = json_object_get(lease, "spec");
	if (!streq(json_string_value(json_object_get(spec, "holderIdentity")) ?: "", e->o->identity))
		return 0;
	micro_now(now, sizeof(now));
	json_object_set_new(spec, "holderIdentity", json_string(""));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
	json_object_set_new(spec, "renewTime", json_string(now));
	json_object_set_new(spec, "acquireTime", json_string(now));
	return kube_update_until(e->o->client, e->path, lease, deadline, NULL, err);
}

int lease_elector_new(const struct lease_opts *o, struct lease_elector **ret)
{
	struct lease_elector *e = calloc(1, sizeof(*e));
	struct buf b = BUF_INIT(0);

	if (!e)
		return -ENOMEM;
	e->o = o;
	e->duration_ns = o->lease_duration_ns ? o->lease_duration_ns : 15 * NSEC_PER_SEC;
	e->deadline_ns = o->renew_deadline_ns ? o->renew_deadline_ns : 10 * NSEC_PER_SEC;
	e->retry_ns = o->retry_period_ns ? o->retry_period_ns : 2 * NSEC_PER_SEC;
	if (kube_path(&b, &KUBE_LEASES, o->namespace, o->name, NULL) < 0)
		goto nomem;
	e->path = buf_detach(&b);
	if (kube_path(&b, &KUBE_LEASES, o->namespace, NULL, NULL) < 0)
		goto nomem;
	e->collection = buf_detach(&b);
	*ret = e;
	return 0;
nomem:
	buf_release(&b);
	lease_elector_free(e);
	return -ENOMEM;
}

void lease_elector_free(struct lease_elector *e)
{
	if (!e)
		return;
	free(e->path);
	free(e->collection);
	free(e->observed);
	free(e->observed_holder);
	free(e);
}

/* --- the loop --------------------------------------------------------------- */

/* The drain runs on its own thread; the lease thread keeps renewing. */
struct drain {
	const struct lease_opts *o;
	pthread_t thread;
	atomic_bool done;
};

static void *drain_main(void *arg)
{
	struct drain *d = arg;

	d->o->drain(d->o->ctx);
	atomic_store(&d->done, true);
	return NULL;
}

/* Sleep up to ns (real time), polling every 20 ms; returns early (false) as
 * soon as wake() holds. */
static bool nap(int64_t ns, bool (*wake)(const void *), const void *arg)
{
	int64_t end = clock_mono_ns(NULL) + ns;

	while (!wake(arg)) {
		int64_t left = end - clock_mono_ns(NULL);

		if (left <= 0)
			return true;
		sleep_ns(left < 20 * NSEC_PER_MSEC ? left : 20 * NSEC_PER_MSEC);
	}
	return false;
}

static bool stop_set(const void *arg)
{
	return atomic_load((const atomic_bool *)arg);
}

struct renew_wake {
	const atomic_bool *stop;
	struct drain *drain; /* NULL until draining */
};

static bool renew_wake(const void *arg)
{
	const struct renew_wake *w = arg;

	if (!w->drain)
		return atomic_load(w->stop);
	return atomic_load(&w->drain->done);
}

/* A failed attempt worth telling: an API error, not a lost race with another
 * candidate (Conflict, AlreadyExists: the next attempt reads the winner). */
static void report_error(const struct lease_opts *o, const struct op_err *err)
{
	if (o->on_error && err->message[0] && err->code != -ESTALE && err->code != -EEXIST)
		o->on_error(err, o->ctx);
}

int lease_run(const struct lease_opts *o, const atomic_bool *stop, bool release)
{
	struct lease_elector *e = NULL;
	struct drain *drain = NULL;
	struct renew_wake wake = { .stop = stop };
	int64_t last_ok; /* start of the last successful attempt */
	int rc;

	rc = lease_elector_new(o, &e);
	if (rc < 0)
		return rc;
	if (o->fence)
		write_fence_set(o->fence, 0);

	/* acquire */
	for (;;) {
		struct op_err err;
		int64_t start = mono(e);
		enum lease_try t;

		if (atomic_load(stop))
			goto out;
		op_err_clear(&err);
		t = lease_elector_try(e, start + e->deadline_ns, &err);
		if (t == LEASE_ACQUIRED) {
			last_ok = start;
			break;
		}
		if (t == LEASE_FAILED)
			report_error(o, &err);
		if (!nap(jitter_ns(e->retry_ns, 1.2), stop_set, stop))
			goto out;
	}
	if (o->fence)
		write_fence_set(o->fence, last_ok + e->deadline_ns);
	if (o->on_started)
		o->on_started(o->ctx);

	/* renew; on stop, drain while renewing, then release */
	for (;;) {
		struct op_err err;
		int64_t deadline = last_ok + e->deadline_ns, start, left;
		enum lease_try t;

		left = deadline - mono(e);
		nap(left < e->retry_ns ? left : e->retry_ns, renew_wake, &wake);
		if (atomic_load(stop) && !drain) {
			if (!o->drain)
				break;
			drain = calloc(1, sizeof(*drain));
			if (drain)
				drain->o = o;
			if (!drain || pthread_create(&drain->thread, NULL, drain_main, drain) != 0) {
				free(drain);
				drain = NULL;
				o->drain(o->ctx); /* no thread: drain here, without renewing */
				break;
			}
			wake.drain = drain;
		}
		if (drain && atomic_load(&drain->done)) {
			pthread_join(drain->thread, NULL);
			free(drain);
			drain = NULL;
			break;
		}
		start = mono(e);
		if (start >= deadline) {
			rc = -ETIMEDOUT; /* could not renew within the deadline */
			goto lost;
		}
		op_err_clear(&err);
		t = lease_elector_try(e, deadline, &err);
		if (t == LEASE_ACQUIRED) {
			last_ok = start;
			if (o->fence)
				write_fence_set(o->fence, last_ok + e->deadline_ns);
			continue;
		}
		if (t == LEASE_HELD) {
			rc = -EBUSY; /* someone else holds it: stop now */
			goto lost;
		}
		report_error(o, &err);
	}
	/* drained: nothing more is written; let a standby take over */
	if (o->fence)
		write_fence_set(o->fence, 0);
	if (release) {
		struct op_err err;

		lease_elector_release(e, last_ok + e->deadline_ns, &err);
	}
	rc = 0;
	goto out;
lost:
	if (o->fence)
		write_fence_set(o->fence, 0);
	if (drain)
		pthread_detach(drain->thread); /* abandoned: the caller exits (drain is leaked on purpose) */
	if (o->on_stopped)
		o->on_stopped(o->ctx);
out:
	lease_elector_free(e);
	return rc;
}
