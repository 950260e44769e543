/* The periodic drift sweep (sweep.h). */
#include "reconcile/sweep.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aws/stats.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/macros.h"
#include "identity/fingerprint.h"
#include "identity/documents.h"
#include "reconcile/steps.h"

#define SWEEP_MAX_TAGS 64
#define SWEEP_MAX_ATTACHED 128

struct sweep {
	struct wi_reconciler *r;
	struct wq *q;
	enum drift_detection mode;
	int64_t started_ns;
	struct wi_memo_snap *snap;
	size_t n;
	bool *seen;
	struct drift_sweep_stats *st;
	char **spread;
	size_t n_spread;
};

static void verify_now(struct sweep *s, size_t i, size_t *counter)
{
	if (wi_memo_invalidate(s->r, s->snap[i].key, s->started_ns)) {
		wq_add(s->q, s->snap[i].key);
		(*counter)++;
	}
}

/* the snapshot entry of this ARN, or -1 */
static long find(const struct sweep *s, const char *arn)
{
	uint64_t h = wi_memo_arn_hash(arn);
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->snap[mid].arn_hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->snap[lo].arn_hash == h ? (long)lo : -1;
}

static uint64_t detail_fingerprint(const struct iam_role_detail *d)
{
	const struct iam_role *role = d->role;
	struct wi_tag tags[SWEEP_MAX_TAGS];
	const char *attached[SWEEP_MAX_ATTACHED];
	const char *keyless = NULL;
	struct role_state st;

	if (role->tags.n > SWEEP_MAX_TAGS || d->attached.n > SWEEP_MAX_ATTACHED)
		return 0; /* more than keyless ever sets: drifted */
	for (size_t i = 0; i < role->tags.n; i++)
		tags[i] = (struct wi_tag){ role->tags.items[i].key, role->tags.items[i].value };
	for (size_t i = 0; i < d->attached.n; i++)
		attached[i] = d->attached.items[i].arn;
	for (size_t i = 0; i < d->inline_names.n; i++)
		if (streq(d->inline_names.items[i], INLINE_POLICY_NAME))
			keyless = d->inline_docs.items[i];
	st = (struct role_state){
		.trust_policy = role->assume_role_policy,
		.boundary_arn = role->permissions_boundary_arn,
		.tags = tags,
		.n_tags = role->tags.n,
		.inline_names = (const char *const *)d->inline_names.items,
		.n_inline = d->inline_names.n,
		.keyless_policy = keyless,
		.attached = attached,
		.n_attached = d->attached.n,
	};
	return role_fingerprint(&st);
}

static int on_role(const struct iam_role_detail *d, void *ctx)
{
	struct sweep *s = ctx;
	long i;

	s->st->listed++;
	i = find(s, d->role->arn);
	if (i < 0 || s->seen[i])
		return 0;
	s->seen[i] = true;
	if (s->mode == DRIFT_BULK) {
		if (d->has_policies && detail_fingerprint(d) == s->snap[i].role_fp) {
			wi_memo_vouch(s->r, s->snap[i].key, s->snap[i].arn_hash, s->started_ns);
			s->st->vouched++;
		} else {
			verify_now(s, (size_t)i, &s->st->drifted);
		}
		return 0;
	}
	{
		struct role_state st = { .trust_policy = d->role->assume_role_policy,
					 .description = d->role->description,
					 .max_session_duration = d->role->max_session_duration };

		if (role_list_fingerprint(&st) != s->snap[i].role_list_fp) {
			verify_now(s, (size_t)i, &s->st->drifted);
			return 0;
		}
	}
	/* the listing has no tags, boundary or policies: verified at its slot */
	s->spread[s->n_spread] = strdup(s->snap[i].key);
	if (!s->spread[s->n_spread])
		return -ENOMEM;
	s->n_spread++;
	return 0;
}

static void free_keys(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void verify_all(struct sweep *s)
{
	for (size_t i = 0; i < s->n; i++)
		verify_now(s, i, &s->st->drifted);
}

int drift_sweep(struct wi_reconciler *r, struct wq *q, struct drift_sweep_stats *st, char ***ret_spread,
		size_t *ret_n_spread, struct op_err *err)
{
	struct sweep s = { .r = r, .q = q, .mode = r->settings->drift_detection, .st = st };
	struct aws_call_tally tally = { 0 }, *prev = aws_call_tally_attach(&tally);
	bool changed = false;
	long n;
	int rc;

	memset(st, 0, sizeof(*st));
	s.started_ns = clock_mono_ns(r->clock);
	n = wi_memo_snapshot(r, s.started_ns, &s.snap);
	if (n < 0) {
		rc = op_err_set(err, (int)n, "out of memory");
		goto out;
	}
	s.n = (size_t)n;
	st->known = s.n;
	s.seen = calloc(s.n + 1, sizeof(*s.seen));
	s.spread = calloc(s.n + 1, sizeof(*s.spread));
	if (!s.seen || !s.spread) {
		rc = op_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	rc = wi_provider_sweep(r, &changed, err);
	if (rc < 0)
		goto out;
	if (changed) {
		/* each identity looks the provider up again and repairs it */
		st->provider_changed = true;
		verify_all(&s);
		goto out;
	}
	if (s.mode == DRIFT_BULK)
		rc = r->aws->iam_get_account_authorization_details_roles(r->awsc, on_role, &s, err);
	else
		rc = r->aws->iam_list_roles(r->awsc, r->settings->role_path, on_role, &s, err);
	if (rc < 0)
		goto out;
	/* a complete listing without the role: it is gone (or moved) */
	for (size_t i = 0; i < s.n; i++)
		if (!s.seen[i])
			verify_now(&s, i, &st->missing);
out:
	aws_call_tally_attach(prev);
	st->calls = tally.reads + tally.writes;
	st->spread = s.n_spread;
	if (rc < 0 || !ret_spread || !s.n_spread) {
		free_keys(s.spread, s.n_spread);
		if (rc >= 0 && ret_spread) {
			*ret_spread = NULL;
			*ret_n_spread = 0;
		}
	} else {
		*ret_spread = s.spread;
		*ret_n_spread = s.n_spread;
	}
	wi_memo_snapshot_free(s.snap, s.n);
	free(s.seen);
	return rc;
}

void drift_sweep_verify(struct wi_reconciler *r, struct wq *q, const char *key)
{
	if (wi_memo_invalidate(r, key, clock_mono_ns(r->clock)))
		wq_add(q, key);
}

/* --- the thread ------------------------------------------------------------------- */

struct drift_sweeper {
	struct wi_reconciler *r;
	struct wq *q;
	void (*on_sweep)(void *ctx, int rc, const struct drift_sweep_stats *st);
	void *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
};

/* Sleep until the monotonic deadline; false when asked to stop. */
static bool wait_until(struct drift_sweeper *s, int64_t deadline_ns)
{
	struct timespec ts = mono_deadline(deadline_ns);
	bool go_on;

	pthread_mutex_lock(&s->lock);
	while (!s->stop && clock_mono_ns(NULL) < deadline_ns)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &ts) == ETIMEDOUT)
			break;
	go_on = !s->stop;
	pthread_mutex_unlock(&s->lock);
	return go_on;
}

static void *sweeper_main(void *arg)
{
	struct drift_sweeper *s = arg;
	int64_t period = s->r->settings->resync_ns > 0 ? s->r->settings->resync_ns : 600 * NSEC_PER_SEC;
	int64_t next = clock_mono_ns(NULL) + period;

	while (wait_until(s, next)) {
		struct drift_sweep_stats st;
		struct op_err err;
		char **spread = NULL;
		size_t n = 0;
		int rc;

		next += period;
		op_err_clear(&err);
		rc = drift_sweep(s->r, s->q, &st, &spread, &n, &err);
		if (rc < 0)
			log_warn("drift sweep (driftDetection %s) failed: %s; identities are verified one by one until a "
				 "sweep succeeds", s->r->settings->drift_detection == DRIFT_BULK ? "bulk" : "roles",
				 err.message);
		else
			log_info("drift sweep: %zu roles listed, %zu verified identities: %zu unchanged, %zu drifted, "
				 "%zu missing, %zu to verify across the period; %llu IAM calls%s",
				 st.listed, st.known, st.vouched, st.drifted, st.missing, st.spread,
				 (unsigned long long)st.calls, st.provider_changed ? " (the OIDC provider changed)" : "");
		if (s->on_sweep)
			s->on_sweep(s->ctx, rc, &st);
		/* the listing (up to 1,000 roles' documents a page) is freed: give
		 * the pages back, or each thread's malloc arena keeps them */
		malloc_trim(0);
		/* roles: one full verification every period / n, the last one before the next sweep */
		for (size_t i = 0; i < n; i++) {
			int64_t slot = next - period + (int64_t)((double)period * (double)(i + 1) / (double)(n + 1));

			if (!wait_until(s, slot)) {
				free_keys(spread, n);
				return NULL;
			}
			drift_sweep_verify(s->r, s->q, spread[i]);
		}
		free_keys(spread, n);
	}
	return NULL;
}

struct drift_sweeper *drift_sweeper_start(struct wi_reconciler *r, struct wq *q,
					  void (*on_sweep)(void *ctx, int rc, const struct drift_sweep_stats *st),
					  void *ctx)
{
	struct drift_sweeper *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	*s = (struct drift_sweeper){ .r = r, .q = q, .on_sweep = on_sweep, .ctx = ctx };
	pthread_mutex_init(&s->lock, NULL);
	if (cond_init_monotonic(&s->cond) != 0 || pthread_create(&s->thread, NULL, sweeper_main, s) != 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

void drift_sweeper_stop(struct drift_sweeper *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
