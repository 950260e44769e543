#include "kube/informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/ratelimit.h"
#include "base/str.h"
#include "kube/linesplit.h"
#include "kube/status.h"

#define DEFAULT_MAX_LINE ((size_t)4 << 20)

struct kube_informer {
	struct kube_informer_opts o;
	struct kube_cache *cache;
	struct kube_watch_applier *applier;
	char *list_path; /* collection path */
	pthread_t thread, resync_thread;
	bool running, resync_running;
	atomic_bool stop;
	pthread_mutex_t lock; /* guards the fields below + condvar */
	pthread_cond_t cond;
	bool synced;
	struct kube_informer_stats stats;
	struct op_err last_err;
};

int kube_informer_new(const struct kube_informer_opts *opts, struct kube_informer **ret)
{
	struct kube_informer *inf = calloc(1, sizeof(*inf));
	struct buf p = BUF_INIT(0);

	if (!inf)
		return -ENOMEM;
	inf->o = *opts;
	if (!inf->o.list_limit)
		inf->o.list_limit = 500;
	if (!inf->o.max_line)
		inf->o.max_line = DEFAULT_MAX_LINE;
	if (!inf->o.watch_timeout_min_s)
		inf->o.watch_timeout_min_s = 300;
	if (!inf->o.watch_timeout_max_s)
		inf->o.watch_timeout_max_s = 600;
	if (inf->o.watch_timeout_max_s < inf->o.watch_timeout_min_s)
		inf->o.watch_timeout_max_s = inf->o.watch_timeout_min_s;
	if (!inf->o.backoff_base_ns)
		inf->o.backoff_base_ns = 800 * NSEC_PER_MSEC;
	if (!inf->o.backoff_max_ns)
		inf->o.backoff_max_ns = 30 * NSEC_PER_SEC;
	pthread_mutex_init(&inf->lock, NULL);
	cond_init_monotonic(&inf->cond);
	inf->cache = kube_cache_new(opts->kind);
	inf->applier = inf->cache ? kube_watch_applier_new(inf->cache) : NULL;
	if (!inf->applier || kube_path(&p, opts->resource, opts->namespace, NULL, NULL) < 0) {
		buf_release(&p);
		kube_informer_free(inf);
		return -ENOMEM;
	}
	inf->list_path = buf_detach(&p);
	*ret = inf;
	return 0;
}

void kube_informer_free(struct kube_informer *inf)
{
	if (!inf)
		return;
	kube_informer_stop(inf);
	kube_watch_applier_free(inf->applier);
	kube_cache_free(inf->cache);
	free(inf->list_path);
	pthread_cond_destroy(&inf->cond);
	pthread_mutex_destroy(&inf->lock);
	free(inf);
}

struct kube_cache *kube_informer_cache(struct kube_informer *inf)
{
	return inf->cache;
}

bool kube_informer_synced(struct kube_informer *inf)
{
	bool s;

	pthread_mutex_lock(&inf->lock);
	s = inf->synced;
	pthread_mutex_unlock(&inf->lock);
	return s;
}

static struct timespec abs_deadline(int64_t from_now_ns)
{
	return mono_deadline(clock_mono_ns(NULL) + from_now_ns);
}

int kube_informer_wait_synced(struct kube_informer *inf, int64_t timeout_ns)
{
	struct timespec dl = abs_deadline(timeout_ns);
	int r = 0;

	pthread_mutex_lock(&inf->lock);
	while (!inf->synced && !atomic_load(&inf->stop) && r == 0)
		r = pthread_cond_timedwait(&inf->cond, &inf->lock, &dl);
	r = inf->synced ? 0 : (atomic_load(&inf->stop) ? -ECANCELED : -ETIMEDOUT);
	pthread_mutex_unlock(&inf->lock);
	return r;
}

void kube_informer_get_stats(struct kube_informer *inf, struct kube_informer_stats *ret)
{
	pthread_mutex_lock(&inf->lock);
	*ret = inf->stats;
	pthread_mutex_unlock(&inf->lock);
}

void kube_informer_last_error(struct kube_informer *inf, struct op_err *ret)
{
	pthread_mutex_lock(&inf->lock);
	*ret = inf->last_err;
	pthread_mutex_unlock(&inf->lock);
}

/* Sleep up to ns, waking early on stop. Returns false if stopping. */
static bool nap(struct kube_informer *inf, int64_t ns)
{
	struct timespec dl = abs_deadline(ns);

	pthread_mutex_lock(&inf->lock);
	while (!atomic_load(&inf->stop)) {
		if (pthread_cond_timedwait(&inf->cond, &inf->lock, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&inf->lock);
	return !atomic_load(&inf->stop);
}

static void notify(struct kube_informer *inf, struct kube_change *ch)
{
	if (ch->type != KUBE_CHANGE_NONE && inf->o.on_change)
		inf->o.on_change(ch, inf->o.ctx);
	kube_change_release(ch);
}

static void notify_const(const struct kube_change *ch, void *ctx)
{
	struct kube_informer *inf = ctx;

	if (inf->o.on_change)
		inf->o.on_change(ch, inf->o.ctx);
}

static void set_rv(struct kube_informer *inf, const char *rv)
{
	pthread_mutex_lock(&inf->lock);
	str_copy(inf->stats.resource_version, sizeof(inf->stats.resource_version), rv);
	pthread_mutex_unlock(&inf->lock);
}

static void count(struct kube_informer *inf, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&inf->lock);
	*field += n;
	pthread_mutex_unlock(&inf->lock);
}

static void record_error(struct kube_informer *inf, const struct op_err *e)
{
	pthread_mutex_lock(&inf->lock);
	inf->last_err = *e;
	inf->stats.errors++;
	pthread_mutex_unlock(&inf->lock);
}

/* --- list ---------------------------------------------------------------------- */

/* A LIST is streamed: each item is projected into the cache as its bytes
 * arrive, so a 100,000-pod list never exists as a JSON tree. */
struct list_ctx {
	struct kube_informer *inf;
	struct sax_parser *parser;
	struct op_err *err;
	int result;
};

static int list_item(const struct sax_capture *cap, const struct sax_frame *frame, void *ud)
{
	struct list_ctx *l = ud;
	struct kube_change ch;
	int r = kube_cache_upsert(l->inf->cache, cap, &ch);

	(void)frame;
	if (r == -ENOMEM)
		return r;
	notify(l->inf, &ch);
	return 0;
}

static bool list_data(const char *data, size_t len, void *ud)
{
	struct list_ctx *l = ud;

	l->result = sax_feed(l->parser, data, len, l->err);
	return l->result >= 0;
}

static int list_page(struct kube_informer *inf, const char *cont, char *rv, size_t rv_size, char **ret_cont,
		     struct op_err *err)
{
	struct list_ctx l = { .inf = inf, .err = err };
	struct kube_response resp = { .body = BUF_INIT(0) };
	_cleanup_buf_ struct buf p = BUF_INIT(0);
	struct kube_request req = { .method = "GET", .on_data = list_data, .ctx = &l, .cancel = &inf->stop,
				    .timeout_ms = 300000 };
	const struct sax_frame *fr;
	char limit[24];
	int r;

	snprintf(limit, sizeof(limit), "%ld", inf->o.list_limit);
	r = buf_puts(&p, inf->list_path);
	if (r >= 0)
		r = kube_query_add(&p, "limit", limit);
	if (r >= 0)
		r = kube_query_add(&p, "labelSelector", inf->o.label_selector);
	if (r >= 0)
		r = kube_query_add(&p, "fieldSelector", inf->o.field_selector);
	if (r >= 0)
		r = kube_query_add(&p, "continue", cont);
	if (r < 0)
		return r;
	l.parser = sax_new(SAX_LIST, inf->o.kind->fields, inf->o.kind->nfields, list_item, &l);
	if (!l.parser)
		return -ENOMEM;
	req.path = p.data;
	r = kube_do(inf->o.client, &req, &resp, err);
	if (r == -ECANCELED && l.result < 0)
		r = l.result;
	if (r >= 0)
		r = sax_finish(l.parser, err);
	if (r >= 0) {
		fr = sax_frame(l.parser);
		if (!cont)
			str_copy(rv, rv_size, fr->resource_version);
		*ret_cont = fr->cont && *fr->cont ? strdup(fr->cont) : NULL;
	}
	sax_free(l.parser);
	kube_response_release(&resp);
	return r;
}

static int do_list(struct kube_informer *inf, char *rv, size_t rv_size, struct op_err *err)
{
	_cleanup_free_ char *cont = NULL;
	char list_rv[32] = "";
	uint64_t pages = 0;
	int r;

	kube_cache_begin_relist(inf->cache);
	do {
		char *next = NULL;

		r = list_page(inf, cont, list_rv, sizeof(list_rv), &next, err);
		if (r < 0)
			return r;
		pages++;
		free(cont);
		cont = next;
	} while (cont);
	count(inf, &inf->stats.pages, pages);
	kube_cache_sweep(inf->cache, notify_const, inf);
	str_copy(rv, rv_size, list_rv);
	set_rv(inf, rv);
	count(inf, &inf->stats.lists, 1);
	pthread_mutex_lock(&inf->lock);
	inf->synced = true;
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->lock);
	return 0;
}

/* --- watch ---------------------------------------------------------------------- */

struct kube_watch_applier {
	struct kube_cache *cache;
	struct sax_parser *parser;
	/* results of the line being applied */
	struct kube_change change;
	char rv[32];
	bool bookmark;
	int result;
	struct op_err *err;
};

static int apply_event(const struct sax_capture *cap, const struct sax_frame *fr, void *ud)
{
	struct kube_watch_applier *a = ud;
	const char *rv = sax_get(cap, SAX_F_RESOURCE_VERSION, NULL);
	int r = 0;

	if (streq(fr->type, "ERROR")) {
		long code = fr->status_code ? fr->status_code : 500;

		op_err_clear(a->err);
		if (a->err) {
			a->err->code = code == 410 ? -EIDRM : -EPROTO;
			a->err->http_status = (int)code;
			str_copy(a->err->reason, sizeof(a->err->reason), fr->status_reason);
			str_copy(a->err->message, sizeof(a->err->message), fr->status_message);
		}
		a->result = code == 410 ? -EIDRM : -EPROTO;
		return 0;
	}
	if (streq(fr->type, "BOOKMARK")) {
		a->bookmark = true;
	} else if (streq(fr->type, "ADDED") || streq(fr->type, "MODIFIED")) {
		r = kube_cache_upsert(a->cache, cap, &a->change);
	} else if (streq(fr->type, "DELETED")) {
		const char *name = sax_get(cap, SAX_F_NAME, NULL), *ns = sax_get(cap, SAX_F_NAMESPACE, NULL);

		r = name ? kube_cache_delete(a->cache, ns ? ns : "", name, &a->change) : -EPROTO;
	} else {
		a->result = op_err_set(a->err, -EPROTO, "watch: unknown event type '%s'", fr->type);
		return 0;
	}
	if (r < 0 && r != -EINVAL) {
		a->result = op_err_set(a->err, r, "watch: applying a %s event failed", fr->type);
		return 0;
	}
	if (rv && *rv)
		str_copy(a->rv, sizeof(a->rv), rv);
	return 0;
}

struct kube_watch_applier *kube_watch_applier_new(struct kube_cache *cache)
{
	struct kube_watch_applier *a = calloc(1, sizeof(*a));
	const struct kube_kind *k = kube_cache_kind(cache);

	if (!a)
		return NULL;
	a->cache = cache;
	a->parser = sax_new(SAX_EVENT, k->fields, k->nfields, apply_event, a);
	if (!a->parser) {
		free(a);
		return NULL;
	}
	return a;
}

void kube_watch_applier_free(struct kube_watch_applier *a)
{
	if (!a)
		return;
	sax_free(a->parser);
	free(a);
}

int kube_watch_apply_line(struct kube_watch_applier *a, const char *line, size_t len, char *rv, size_t rv_size,
			  struct kube_change *ret_change, bool *ret_bookmark, struct op_err *err)
{
	int r;

	memset(&a->change, 0, sizeof(a->change));
	a->rv[0] = '\0';
	a->bookmark = false;
	a->result = 0;
	a->err = err;
	memset(ret_change, 0, sizeof(*ret_change));
	*ret_bookmark = false;
	r = sax_reset(a->parser);
	if (r >= 0)
		r = sax_feed(a->parser, line, len, err);
	if (r >= 0)
		r = sax_finish(a->parser, err);
	if (r < 0) {
		char why[sizeof(err->message)] = "parse error";

		kube_change_release(&a->change);
		if (r == -ENOMEM)
			return r;
		if (err)
			str_copy(why, sizeof(why), err->message);
		return op_err_set(err, -EPROTO, "watch: invalid event line (%s)", why);
	}
	if (!sax_frame(a->parser)->type[0] && !a->result) {
		kube_change_release(&a->change);
		return op_err_set(err, -EPROTO, "watch: event without a type");
	}
	if (a->result < 0) {
		kube_change_release(&a->change);
		return a->result;
	}
	*ret_change = a->change;
	*ret_bookmark = a->bookmark;
	if (a->rv[0])
		str_copy(rv, rv_size, a->rv);
	return 0;
}

struct watch_ctx {
	struct kube_informer *inf;
	struct linesplit ls;
	char *rv;
	size_t rv_size;
	int result; /* first error from a line */
	struct op_err err;
	uint64_t events, bookmarks;
};

static int on_line(const char *line, size_t len, void *ud)
{
	struct watch_ctx *w = ud;
	struct kube_change ch;
	bool bookmark;
	int r = kube_watch_apply_line(w->inf->applier, line, len, w->rv, w->rv_size, &ch, &bookmark, &w->err);

	if (r < 0) {
		w->result = r;
		return r;
	}
	if (bookmark)
		w->bookmarks++;
	else
		w->events++;
	/* publish progress as it happens (tests and metrics read it) */
	set_rv(w->inf, w->rv);
	count(w->inf, bookmark ? &w->inf->stats.bookmarks : &w->inf->stats.events, 1);
	notify(w->inf, &ch);
	return 0;
}

static bool on_data(const char *data, size_t len, void *ud)
{
	struct watch_ctx *w = ud;
	int r = ls_feed(&w->ls, data, len, on_line, w);

	if (r == -E2BIG) {
		w->result = op_err_set(&w->err, -E2BIG, "watch: event line longer than %zu bytes", w->ls.max_line);
		return false;
	}
	return r == 0;
}

#define SHORT_WATCH_NS NSEC_PER_SEC

static int do_watch(struct kube_informer *inf, char *rv, size_t rv_size, struct op_err *err)
{
	struct watch_ctx w = { .inf = inf, .rv = rv, .rv_size = rv_size };
	struct kube_response resp = { .body = BUF_INIT(0) };
	_cleanup_buf_ struct buf p = BUF_INIT(0);
	long span = inf->o.watch_timeout_max_s - inf->o.watch_timeout_min_s;
	long timeout_s = inf->o.watch_timeout_min_s + (span > 0 ? (long)(rand_u64() % (uint64_t)(span + 1)) : 0);
	char tbuf[24];
	struct kube_request req = { .method = "GET", .on_data = on_data, .ctx = &w, .cancel = &inf->stop };
	int64_t started;
	int r;

	snprintf(tbuf, sizeof(tbuf), "%ld", timeout_s);
	r = buf_puts(&p, inf->list_path);
	if (r >= 0)
		r = kube_query_add(&p, "watch", "1");
	if (r >= 0)
		r = kube_query_add(&p, "allowWatchBookmarks", "true");
	if (r >= 0)
		r = kube_query_add(&p, "resourceVersion", rv);
	if (r >= 0)
		r = kube_query_add(&p, "timeoutSeconds", tbuf);
	if (r >= 0)
		r = kube_query_add(&p, "labelSelector", inf->o.label_selector);
	if (r >= 0)
		r = kube_query_add(&p, "fieldSelector", inf->o.field_selector);
	if (r < 0)
		return r;
	req.path = p.data;
	/* the server ends the watch after timeoutSeconds; a silent half-open
	 * connection is cut a little after that */
	req.timeout_ms = (timeout_s + 30) * 1000;
	ls_init(&w.ls, inf->o.max_line);
	count(inf, &inf->stats.watches, 1);
	started = clock_mono_ns(NULL);
	r = kube_do(inf->o.client, &req, &resp, err);
	kube_response_release(&resp);
	ls_release(&w.ls);
	if (w.result < 0) {
		if (err)
			*err = w.err;
		return w.result;
	}
	/* As client-go's reflector: a watch that ends within a second without
	 * a single event (a proxy closing streams at once) is an error, so it is
	 * re-opened with backoff instead of in a tight loop. */
	if (r == 0 && !w.events && !w.bookmarks && clock_mono_ns(NULL) - started < SHORT_WATCH_NS)
		return op_err_set(err, -ENODATA, "watch %s: ended after %lld ms without an event (very short watch); "
				  "re-opened with backoff", inf->list_path,
				  (long long)((clock_mono_ns(NULL) - started) / NSEC_PER_MSEC));
	return r;
}

/* --- the loop --------------------------------------------------------------------- */

static void *informer_main(void *arg)
{
	struct kube_informer *inf = arg;
	char rv[32] = "";
	bool need_list = true;
	unsigned failures = 0;

	while (!atomic_load(&inf->stop)) {
		struct op_err err;
		int r;

		op_err_clear(&err);
		if (need_list) {
			r = do_list(inf, rv, sizeof(rv), &err);
			if (r == 0) {
				need_list = false;
				failures = 0;
			}
		} else {
			int64_t started = clock_mono_ns(NULL);

			r = do_watch(inf, rv, sizeof(rv), &err);
			if (r == -EIDRM) {
				/* 410: our resourceVersion was compacted away */
				count(inf, &inf->stats.relists_gone, 1);
				need_list = true;
				failures = 0;
				continue;
			}
			if (r == 0 || clock_mono_ns(NULL) - started > 10 * NSEC_PER_SEC)
				failures = 0; /* a healthy watch: resume at once */
			if (r == 0)
				continue;
		}
		if (r == -ECANCELED && atomic_load(&inf->stop))
			break;
		if (r < 0) {
			if (!err.code)
				op_err_set(&err, r, "%s %s: %s", need_list ? "list" : "watch", inf->list_path, strerror(-r));
			record_error(inf, &err);
			if (!nap(inf, jitter_ns(backoff_exp_ns(inf->o.backoff_base_ns, inf->o.backoff_max_ns, failures), 1.0)))
				break;
			failures++;
		}
	}
	kube_client_thread_done(inf->o.client);
	return NULL;
}

struct resync_key {
	char *ns, *name, *idx;
};

struct collect {
	struct kube_cache *c;
	struct resync_key *keys;
	size_t n, cap;
};

static int collect_key(const struct kobj *o, void *ctx)
{
	struct collect *k = ctx;

	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		struct resync_key *nk = realloc(k->keys, cap * sizeof(*nk));

		if (!nk)
			return -ENOMEM;
		k->keys = nk;
		k->cap = cap;
	}
	k->keys[k->n].ns = strdup(o->ns->s);
	k->keys[k->n].name = strdup(kobj_name(k->c, o));
	k->keys[k->n].idx = o->idx ? strdup(o->idx->s) : NULL;
	k->n++;
	return 0;
}

static void *resync_main(void *arg)
{
	struct kube_informer *inf = arg;

	while (nap(inf, jitter_ns(inf->o.resync_ns, 0.1))) {
		struct collect k = { .c = inf->cache };

		if (!kube_informer_synced(inf))
			continue;
		kube_cache_rdlock(inf->cache);
		kube_cache_foreach(inf->cache, collect_key, &k);
		kube_cache_rdunlock(inf->cache);
		for (size_t i = 0; i < k.n; i++) {
			struct kube_change ch = { .type = KUBE_CHANGE_RESYNC, .ns = k.keys[i].ns, .name = k.keys[i].name,
						  .idx = k.keys[i].idx };

			if (ch.ns && ch.name && inf->o.on_change && !atomic_load(&inf->stop))
				inf->o.on_change(&ch, inf->o.ctx);
			kube_change_release(&ch);
		}
		free(k.keys);
	}
	return NULL;
}

int kube_informer_start(struct kube_informer *inf)
{
	int r;

	atomic_store(&inf->stop, false);
	r = pthread_create(&inf->thread, NULL, informer_main, inf);
	if (r != 0)
		return -r;
	inf->running = true;
	if (inf->o.resync_ns > 0) {
		r = pthread_create(&inf->resync_thread, NULL, resync_main, inf);
		if (r != 0) {
			kube_informer_stop(inf);
			return -r;
		}
		inf->resync_running = true;
	}
	return 0;
}

void kube_informer_signal_stop(struct kube_informer *inf)
{
	pthread_mutex_lock(&inf->lock);
	atomic_store(&inf->stop, true);
	pthread_cond_broadcast(&inf->cond);
	pthread_mutex_unlock(&inf->lock);
}

void kube_informer_stop(struct kube_informer *inf)
{
	kube_informer_signal_stop(inf);
	if (inf->running) {
		pthread_join(inf->thread, NULL);
		inf->running = false;
	}
	if (inf->resync_running) {
		pthread_join(inf->resync_thread, NULL);
		inf->resync_running = false;
	}
}
