#include "kube/events.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/ratelimit.h"
#include "base/str.h"
#include "base/strmap.h"

#define NOTE_MAX 1024

struct seen {
	char *ns, *name; /* the Event object */
	int64_t first_ns, last_ns;
	long count;
	bool busy; /* a create or patch of this Event is in flight (the entry is not freed meanwhile) */
};

struct event_recorder {
	struct event_recorder_opts o;
	char *controller, *instance;
	/* guards seen and stats only: no request is made with it held; one
	 * request per key at a time (busy), the others wait on `idle` */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct strmap seen; /* dedup key -> struct seen */
	struct event_stats stats;
};

static void seen_free(void *p)
{
	struct seen *s = p;

	if (!s)
		return;
	free(s->ns);
	free(s->name);
	free(s);
}

struct event_recorder *event_recorder_new(const struct event_recorder_opts *opts)
{
	struct event_recorder *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->o = *opts;
	if (!r->o.window_ns)
		r->o.window_ns = 600 * NSEC_PER_SEC;
	r->controller = strdup(opts->controller ? opts->controller : "keyless.dev/controller");
	r->instance = strdup(opts->instance ? opts->instance : "keyless");
	if (!r->controller || !r->instance) {
		event_recorder_free(r);
		return NULL;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->idle, NULL);
	return r;
}

void event_recorder_free(struct event_recorder *r)
{
	if (!r)
		return;
	strmap_release(&r->seen, seen_free);
	pthread_cond_destroy(&r->idle);
	pthread_mutex_destroy(&r->lock);
	free(r->controller);
	free(r->instance);
	free(r);
}

/* Drop entries whose window has passed (called with the lock held). */
static void expire(struct event_recorder *r, int64_t now)
{
	size_t it = 0;
	const char *k;
	void *v;

	while (strmap_next(&r->seen, &it, &k, &v)) {
		struct seen *s = v;

		if (!s->busy && now - s->first_ns > r->o.window_ns)
			seen_free(strmap_remove(&r->seen, k));
	}
}

static int create_event(struct event_recorder *r, const struct kube_object_ref *ref, const char *ns, const char *type,
			const char *reason, const char *action, const char *note, char **ret_name, struct op_err *err)
{
	_cleanup_buf_ struct buf name = BUF_INIT(0), path = BUF_INIT(0);
	json_auto_t *ev = NULL;
	char now[40];
	int rc;

	rfc3339_format(clock_real_ns(r->o.clock), 6, now, sizeof(now));
	/* a name is a DNS subdomain of at most 253 characters: at most 236 of the
	 * object's (not ending in '-' or '.'), '.', 16 hex digits */
	int keep = (int)strnlen(ref->name, 236);

	while (keep > 0 && (ref->name[keep - 1] == '-' || ref->name[keep - 1] == '.'))
		keep--;
	if (buf_printf(&name, "%.*s.%016llx", keep, ref->name, (unsigned long long)rand_u64()) < 0 ||
	    kube_path(&path, &KUBE_EVENTS, ns, NULL, NULL) < 0)
		return -ENOMEM;
	ev = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}}",
		       "apiVersion", "events.k8s.io/v1", "kind", "Event", "metadata", "name", name.data, "namespace", ns,
		       "eventTime", now, "reportingController", r->controller, "reportingInstance", r->instance,
		       "action", action, "reason", reason, "type", type, "note", note, "regarding", "apiVersion",
		       ref->api_version, "kind", ref->kind, "name", ref->name, "uid", ref->uid ? ref->uid : "");
	if (!ev)
		return -ENOMEM;
	if (ref->namespace && *ref->namespace)
		json_object_set_new(json_object_get(ev, "regarding"), "namespace", json_string(ref->namespace));
	rc = kube_create(r->o.client, path.data, ev, NULL, err);
	if (rc < 0)
		return rc;
	*ret_name = buf_detach(&name);
	return 0;
}

static int bump_series(struct event_recorder *r, const char *ns, const char *name, long count, struct op_err *err)
{
	_cleanup_buf_ struct buf path = BUF_INIT(0), patch = BUF_INIT(0);
	char now[40];

	rfc3339_format(clock_real_ns(r->o.clock), 6, now, sizeof(now));
	if (kube_path(&path, &KUBE_EVENTS, ns, name, NULL) < 0 ||
	    buf_printf(&patch, "{\"series\":{\"count\":%ld,\"lastObservedTime\":\"%s\"}}", count, now) < 0)
		return -ENOMEM;
	return kube_patch(r->o.client, path.data, KUBE_PATCH_MERGE, patch.data, NULL, false, NULL, err);
}

int event_record(struct event_recorder *r, const struct kube_object_ref *ref, const char *type, const char *reason,
		 const char *action, struct op_err *err, const char *fmt, ...)
{
	_cleanup_buf_ struct buf key = BUF_INIT(0);
	const char *ns = ref->namespace && *ref->namespace ? ref->namespace : "default";
	char note[NOTE_MAX], *name = NULL;
	struct seen *s;
	int64_t now = clock_mono_ns(r->o.clock);
	va_list ap;
	int rc;

	va_start(ap, fmt);
	str_vformat_trunc(note, sizeof(note), fmt, ap);
	va_end(ap);
	if (buf_printf(&key, "%s|%s|%s|%s|%s", ref->uid ? ref->uid : ref->name, type, reason, action, note) < 0)
		return -ENOMEM;

	pthread_mutex_lock(&r->lock);
	expire(r, now);
	/* the same Event being written by another thread: wait for it (no
	 * request is made with the lock held) */
	while ((s = strmap_get(&r->seen, key.data)) && s->busy)
		pthread_cond_wait(&r->idle, &r->lock);
	if (s) {
		long count = ++s->count;

		s->last_ns = now;
		s->busy = true;
		pthread_mutex_unlock(&r->lock);
		rc = bump_series(r, s->ns, s->name, count, err);
		pthread_mutex_lock(&r->lock);
		s->busy = false;
		pthread_cond_broadcast(&r->idle);
		if (rc == -ENOENT) {
			/* the Event was deleted (TTL): start over */
			seen_free(strmap_remove(&r->seen, key.data));
		} else {
			if (rc < 0)
				r->stats.failed++;
			else
				r->stats.updated++;
			pthread_mutex_unlock(&r->lock);
			return rc;
		}
	}
	/* a placeholder, busy, so a concurrent repeat waits for this create */
	s = calloc(1, sizeof(*s));
	if (!s || !(s->ns = strdup(ns)) || strmap_put(&r->seen, key.data, s, NULL) < 0) {
		seen_free(s);
		pthread_mutex_unlock(&r->lock);
		return -ENOMEM;
	}
	s->busy = true;
	pthread_mutex_unlock(&r->lock);
	rc = create_event(r, ref, ns, type, reason, action, note, &name, err);
	pthread_mutex_lock(&r->lock);
	s->busy = false;
	pthread_cond_broadcast(&r->idle);
	if (rc < 0) {
		r->stats.failed++;
		seen_free(strmap_remove(&r->seen, key.data));
		pthread_mutex_unlock(&r->lock);
		return rc;
	}
	s->name = name;
	s->first_ns = s->last_ns = now;
	s->count = 1;
	r->stats.created++;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void event_recorder_stats(struct event_recorder *r, struct event_stats *ret)
{
	pthread_mutex_lock(&r->lock);
	*ret = r->stats;
	pthread_mutex_unlock(&r->lock);
}
