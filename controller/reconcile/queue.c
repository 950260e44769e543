#include "reconcile/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/ratelimit.h"
#include "base/strmap.h"

#define SET_MARK ((void *)1)
/* how soon wq_get tries again to mark a key processing after running out of memory */
#define GET_RETRY_NS (100 * NSEC_PER_MSEC)

struct delayed {
	int64_t ready_ns;
	char *key;
	size_t pos; /* index in the heap */
};

struct wq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* FIFO of keys (owned strings) */
	char **fifo;
	size_t head, len, cap;
	struct strmap dirty, processing;
	/* min-heap of delayed adds + key -> entry */
	struct delayed **heap;
	size_t hlen, hcap;
	struct strmap waiting;
	/* rate limiting */
	struct strmap failures; /* key -> (uintptr_t) count */
	int64_t base_ns, max_ns;
	struct token_bucket bucket;
	bool shutting_down, draining;
	uint64_t adds, retries;
	void (*on_get)(void *ctx, int64_t queued_ns);
	void *on_get_ctx;
};

static int64_t now_ns(void)
{
	return clock_mono_ns(NULL);
}

struct wq *wq_new(const struct wq_opts *opts)
{
	static const struct wq_opts defaults = { 0 };
	struct wq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	if (!opts)
		opts = &defaults;
	pthread_mutex_init(&q->lock, NULL);
	cond_init_monotonic(&q->cond);
	q->base_ns = opts->base_delay_ns ? opts->base_delay_ns : 5 * NSEC_PER_MSEC;
	q->on_get = opts->on_get;
	q->on_get_ctx = opts->on_get_ctx;
	q->max_ns = opts->max_delay_ns ? opts->max_delay_ns : 1000 * NSEC_PER_SEC;
	tb_init(&q->bucket, opts->qps == 0 ? 10 : (opts->qps < 0 ? 0 : opts->qps), opts->burst ? opts->burst : 100,
		opts->clock);
	return q;
}

void wq_free(struct wq *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->len; i++)
		free(q->fifo[(q->head + i) % q->cap]);
	free(q->fifo);
	for (size_t i = 0; i < q->hlen; i++) {
		free(q->heap[i]->key);
		free(q->heap[i]);
	}
	free(q->heap);
	strmap_release(&q->dirty, NULL);
	strmap_release(&q->processing, NULL);
	strmap_release(&q->waiting, NULL);
	strmap_release(&q->failures, NULL);
	tb_release(&q->bucket);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static int fifo_push(struct wq *q, const char *key)
{
	char *k = strdup(key);

	if (!k)
		return -ENOMEM;
	if (q->len == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 64;
		char **n = malloc(ncap * sizeof(*n));

		if (!n) {
			free(k);
			return -ENOMEM;
		}
		for (size_t i = 0; i < q->len; i++)
			n[i] = q->fifo[(q->head + i) % q->cap];
		free(q->fifo);
		q->fifo = n;
		q->cap = ncap;
		q->head = 0;
	}
	q->fifo[(q->head + q->len) % q->cap] = k;
	q->len++;
	return 0;
}

static char *fifo_pop(struct wq *q)
{
	char *k = q->fifo[q->head];

	q->head = (q->head + 1) % q->cap;
	q->len--;
	return k;
}

/* client-go Add: dedup through dirty; a key being processed is re-queued at
 * Done. The dirty set holds when the key was added (+1, never NULL), for the
 * time it waits (on_get). */
static void add_locked(struct wq *q, const char *key)
{
	if (q->shutting_down || strmap_contains(&q->dirty, key))
		return;
	if (strmap_put(&q->dirty, key, (void *)(uintptr_t)(now_ns() + 1), NULL) < 0)
		return;
	q->adds++;
	if (strmap_contains(&q->processing, key))
		return;
	if (fifo_push(q, key) < 0) {
		strmap_remove(&q->dirty, key);
		return;
	}
	pthread_cond_signal(&q->cond);
}

void wq_add(struct wq *q, const char *key)
{
	pthread_mutex_lock(&q->lock);
	add_locked(q, key);
	pthread_mutex_unlock(&q->lock);
}

/* --- delayed heap ----------------------------------------------------------- */

static void heap_swap(struct wq *q, size_t a, size_t b)
{
	struct delayed *t = q->heap[a];

	q->heap[a] = q->heap[b];
	q->heap[b] = t;
	q->heap[a]->pos = a;
	q->heap[b]->pos = b;
}

static void heap_up(struct wq *q, size_t i)
{
	while (i > 0 && q->heap[(i - 1) / 2]->ready_ns > q->heap[i]->ready_ns) {
		heap_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct wq *q, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < q->hlen && q->heap[l]->ready_ns < q->heap[m]->ready_ns)
			m = l;
		if (r < q->hlen && q->heap[r]->ready_ns < q->heap[m]->ready_ns)
			m = r;
		if (m == i)
			return;
		heap_swap(q, i, m);
		i = m;
	}
}

static struct delayed *heap_pop(struct wq *q)
{
	struct delayed *top = q->heap[0];

	q->hlen--;
	if (q->hlen > 0) {
		q->heap[0] = q->heap[q->hlen];
		q->heap[0]->pos = 0;
		heap_down(q, 0);
	}
	return top;
}

void wq_add_after(struct wq *q, const char *key, int64_t delay_ns)
{
	struct delayed *d;
	int64_t ready;

	if (delay_ns <= 0) {
		wq_add(q, key);
		return;
	}
	ready = now_ns() + delay_ns;
	pthread_mutex_lock(&q->lock);
	if (q->shutting_down)
		goto out;
	d = strmap_get(&q->waiting, key);
	if (d) {
		/* keep the earliest time */
		if (ready < d->ready_ns) {
			d->ready_ns = ready;
			heap_up(q, d->pos);
			pthread_cond_broadcast(&q->cond);
		}
		goto out;
	}
	if (q->hlen == q->hcap) {
		size_t ncap = q->hcap ? q->hcap * 2 : 64;
		struct delayed **n = realloc(q->heap, ncap * sizeof(*n));

		if (!n)
			goto out;
		q->heap = n;
		q->hcap = ncap;
	}
	d = calloc(1, sizeof(*d));
	if (!d || !(d->key = strdup(key))) {
		free(d);
		goto out;
	}
	if (strmap_put(&q->waiting, key, d, NULL) < 0) {
		free(d->key);
		free(d);
		goto out;
	}
	d->ready_ns = ready;
	d->pos = q->hlen;
	q->heap[q->hlen++] = d;
	heap_up(q, d->pos);
	/* a sleeping worker may need to wake earlier */
	pthread_cond_broadcast(&q->cond);
out:
	pthread_mutex_unlock(&q->lock);
}

/* Move every ready delayed key into the queue. */
static void promote_ready(struct wq *q, int64_t now)
{
	while (q->hlen > 0 && q->heap[0]->ready_ns <= now) {
		struct delayed *d = heap_pop(q);

		strmap_remove(&q->waiting, d->key);
		add_locked(q, d->key);
		free(d->key);
		free(d);
	}
}

/* --- rate limiting --------------------------------------------------------------- */

int64_t wq_when(struct wq *q, const char *key)
{
	int64_t exp, bucket;
	uintptr_t n;

	pthread_mutex_lock(&q->lock);
	n = (uintptr_t)strmap_get(&q->failures, key);
	/* out of memory the count cannot grow: back off as far as allowed */
	if (strmap_put(&q->failures, key, (void *)(n + 1), NULL) < 0)
		n = 64;
	pthread_mutex_unlock(&q->lock);
	exp = backoff_exp_ns(q->base_ns, q->max_ns, (unsigned)(n > 64 ? 64 : n));
	bucket = tb_reserve(&q->bucket);
	return exp > bucket ? exp : bucket;
}

void wq_add_rate_limited(struct wq *q, const char *key)
{
	int64_t d = wq_when(q, key);

	pthread_mutex_lock(&q->lock);
	q->retries++;
	pthread_mutex_unlock(&q->lock);
	wq_add_after(q, key, d);
}

void wq_forget(struct wq *q, const char *key)
{
	pthread_mutex_lock(&q->lock);
	strmap_remove(&q->failures, key);
	pthread_mutex_unlock(&q->lock);
}

unsigned wq_num_requeues(struct wq *q, const char *key)
{
	uintptr_t n;

	pthread_mutex_lock(&q->lock);
	n = (uintptr_t)strmap_get(&q->failures, key);
	pthread_mutex_unlock(&q->lock);
	return (unsigned)n;
}

/* --- get / done / shutdown ---------------------------------------------------------- */

int wq_get_timeout(struct wq *q, char **ret_key, int64_t timeout_ns)
{
	int64_t deadline = timeout_ns >= 0 ? now_ns() + timeout_ns : INT64_MAX, queued = -1;
	int r = 0;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		int64_t now = now_ns(), wake = deadline;

		promote_ready(q, now);
		/* Marked processing before it is handed out: a key missing from
		 * `processing` would be queued again by the next add and given to a
		 * second worker. Out of memory, it stays queued and is tried again
		 * shortly. */
		if (q->len > 0) {
			if (strmap_put(&q->processing, q->fifo[q->head], SET_MARK, NULL) >= 0) {
				char *key = fifo_pop(q);
				uintptr_t added = (uintptr_t)strmap_remove(&q->dirty, key);

				*ret_key = key;
				if (q->on_get && added)
					queued = now - (int64_t)(added - 1);
				break;
			}
			if (wake - now > GET_RETRY_NS)
				wake = now + GET_RETRY_NS;
		}
		if (q->shutting_down) {
			r = -ESHUTDOWN;
			break;
		}
		if (now >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		if (q->hlen > 0 && q->heap[0]->ready_ns < wake)
			wake = q->heap[0]->ready_ns;
		if (wake == INT64_MAX) {
			pthread_cond_wait(&q->cond, &q->lock);
		} else {
			struct timespec ts = mono_deadline(wake);

			pthread_cond_timedwait(&q->cond, &q->lock, &ts);
		}
	}
	pthread_mutex_unlock(&q->lock);
	if (r == 0 && queued >= 0)
		q->on_get(q->on_get_ctx, queued);
	return r;
}

int wq_get(struct wq *q, char **ret_key)
{
	return wq_get_timeout(q, ret_key, -1);
}

void wq_done(struct wq *q, const char *key)
{
	pthread_mutex_lock(&q->lock);
	strmap_remove(&q->processing, key);
	if (strmap_contains(&q->dirty, key)) {
		/* it waits in the queue from now on (client-go counts it added here) */
		if (strmap_put(&q->dirty, key, (void *)(uintptr_t)(now_ns() + 1), NULL) < 0) {
			/* replacing a value allocates nothing; keep the older time */
		}
		if (fifo_push(q, key) == 0)
			pthread_cond_signal(&q->cond);
	}
	if (q->processing.len == 0)
		pthread_cond_broadcast(&q->cond); /* a drain may be waiting */
	pthread_mutex_unlock(&q->lock);
}

void wq_shutdown(struct wq *q)
{
	pthread_mutex_lock(&q->lock);
	q->shutting_down = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

void wq_shutdown_drain(struct wq *q)
{
	pthread_mutex_lock(&q->lock);
	q->shutting_down = true;
	q->draining = true;
	pthread_cond_broadcast(&q->cond);
	while (q->processing.len > 0)
		pthread_cond_wait(&q->cond, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

void wq_get_stats(struct wq *q, struct wq_stats *ret)
{
	pthread_mutex_lock(&q->lock);
	ret->adds = q->adds;
	ret->retries = q->retries;
	ret->depth = q->len;
	ret->delayed = q->hlen;
	ret->processing = q->processing.len;
	pthread_mutex_unlock(&q->lock);
}
