#include "kube/lease.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/ratelimit.h"
#include "base/str.h"

struct elector {
	const struct lease_opts *o;
	char *path, *collection;
	/* what we last saw, and when (local monotonic): the expiry clock */
	char *observed;     /* holder + renewTime + duration, as one string */
	char *observed_holder;
	int64_t observed_at;
	int64_t duration_ns, deadline_ns, retry_ns;
};

static int64_t mono(void)
{
	return clock_mono_ns(NULL);
}

static void micro_now(char *buf, size_t size)
{
	rfc3339_format(clock_real_ns(NULL), 6, buf, size);
}

static void observe(struct elector *e, json_t *spec)
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
		e->observed_at = mono();
		if (!e->observed_holder || !streq(e->observed_holder, holder ? holder : "")) {
			free(e->observed_holder);
			e->observed_holder = strdup(holder ? holder : "");
			if (e->o->on_new_leader && holder && *holder)
				e->o->on_new_leader(holder, e->o->ctx);
		}
	}
	buf_release(&b);
}

static json_t *new_spec(struct elector *e, const char *acquire_time, json_int_t transitions)
{
	char now[40];

	micro_now(now, sizeof(now));
	return json_pack("{s:s, s:I, s:s, s:s, s:I}", "holderIdentity", e->o->identity, "leaseDurationSeconds",
			 (json_int_t)(e->duration_ns / NSEC_PER_SEC), "acquireTime", acquire_time ? acquire_time : now,
			 "renewTime", now, "leaseTransitions", transitions);
}

static enum lease_try try_acquire_or_renew(struct elector *e, struct op_err *err)
{
	json_auto_t *lease = NULL, *spec = NULL, *out = NULL;
	const char *holder, *acq;
	json_t *old;
	json_int_t transitions;
	int r;

	r = kube_get(e->o->client, e->path, &lease, err);
	if (r == -ENOENT) {
		json_auto_t *obj = NULL;

		spec = new_spec(e, NULL, 0);
		obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:O}", "apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
				"metadata", "name", e->o->name, "namespace", e->o->namespace, "spec", spec);
		if (!obj)
			return LEASE_FAILED;
		r = kube_create(e->o->client, e->collection, obj, &out, err);
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
	if (holder && *holder && !streq(holder, e->o->identity) && mono() < e->observed_at + e->duration_ns)
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
	r = kube_update(e->o->client, e->path, lease, &out, err);
	if (r < 0)
		return LEASE_FAILED; /* Conflict: someone else wrote first */
	observe(e, json_object_get(out, "spec"));
	return LEASE_ACQUIRED;
}

static void release_lease(struct elector *e)
{
	json_auto_t *lease = NULL;
	struct op_err err;
	json_t *spec;
	char now[40];

	if (kube_get(e->o->client, e->path, &lease, &err) < 0)
		return;
	spec = json_object_get(lease, "spec");
	if (!streq(json_string_value(json_object_get(spec, "holderIdentity")) ?: "", e->o->identity))
		return;
	micro_now(now, sizeof(now));
	json_object_set_new(spec, "holderIdentity", json_string(""));
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
	json_object_set_new(spec, "renewTime", json_string(now));
	json_object_set_new(spec, "acquireTime", json_string(now));
	kube_update(e->o->client, e->path, lease, NULL, &err);
}

/* Sleep up to ns, polling stop every 50 ms. Returns false when stopping. */
static bool nap(const atomic_bool *stop, int64_t ns)
{
	int64_t end = mono() + ns;

	while (!atomic_load(stop)) {
		int64_t left = end - mono();

		if (left <= 0)
			return true;
		sleep_ns(left < 50 * NSEC_PER_MSEC ? left : 50 * NSEC_PER_MSEC);
	}
	return false;
}

int lease_run(const struct lease_opts *o, const atomic_bool *stop, bool release)
{
	struct elector e = { .o = o };
	struct buf b = BUF_INIT(0);
	int64_t last_renew;
	int rc = 0;

	e.duration_ns = o->lease_duration_ns ? o->lease_duration_ns : 15 * NSEC_PER_SEC;
	e.deadline_ns = o->renew_deadline_ns ? o->renew_deadline_ns : 10 * NSEC_PER_SEC;
	e.retry_ns = o->retry_period_ns ? o->retry_period_ns : 2 * NSEC_PER_SEC;
	if (kube_path(&b, &KUBE_LEASES, o->namespace, o->name, NULL) < 0)
		return -ENOMEM;
	e.path = buf_detach(&b);
	if (kube_path(&b, &KUBE_LEASES, o->namespace, NULL, NULL) < 0) {
		free(e.path);
		return -ENOMEM;
	}
	e.collection = buf_detach(&b);

	/* acquire */
	for (;;) {
		struct op_err err;

		if (atomic_load(stop))
			goto out;
		if (try_acquire_or_renew(&e, &err) == LEASE_ACQUIRED)
			break;
		if (!nap(stop, jitter_ns(e.retry_ns, 1.2)))
			goto out;
	}
	last_renew = mono();
	if (o->on_started)
		o->on_started(o->ctx);

	/* renew */
	for (;;) {
		struct op_err err;
		enum lease_try t;

		if (!nap(stop, e.retry_ns)) {
			/* stop writing first, then let a standby take over */
			if (o->on_stopped)
				o->on_stopped(o->ctx);
			if (release)
				release_lease(&e);
			goto out;
		}
		t = try_acquire_or_renew(&e, &err);
		if (t == LEASE_ACQUIRED) {
			last_renew = mono();
			continue;
		}
		if (t == LEASE_HELD) {
			rc = -EBUSY; /* someone else holds it: stop now */
			break;
		}
		if (mono() - last_renew >= e.deadline_ns) {
			rc = -ETIMEDOUT; /* could not renew within the deadline */
			break;
		}
	}
	if (o->on_stopped)
		o->on_stopped(o->ctx);
out:
	free(e.path);
	free(e.collection);
	free(e.observed);
	free(e.observed_holder);
	return rc;
}
