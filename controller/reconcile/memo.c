/* What the reconciler remembers per WorkloadIdentity between reconciles
 * (steps.h, "memo"): cost proportional to change. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "identity/trust.h"
#include "kube/project.h"
#include "reconcile/steps.h"

/* 72 bytes per object (an 80-byte malloc chunk); with the map's copy of the
 * key and its slot about 150 bytes per identity (bench_kube -i 10000).
 * Strings, the uid too, are kept as hashes; a collision can only make
 * keyless skip an event, which the next resync makes up for. */
struct wi_memo {
	uint64_t uid_hash;             /* metadata.uid */
	long long seen_generation;     /* the generation the last reconcile read */
	long long verified_generation; /* the generation AWS was verified for */
	int64_t verified_ns;           /* monotonic; 0 = not verified */
	uint64_t role_hash;            /* the role ARN verified */
	uint64_t wired_hash;           /* the service account and the annotations left on it; 0 = none */
	uint64_t role_fp, role_list_fp; /* the role as verified (identity/fingerprint.h); 0 = unknown */
	int8_t trust_kinds;            /* enum trust_kind the verified trust policy holds; -1 = unknown */
	bool elsewhere;                /* the role is in another account (settings accounts) */
};

/* FNV-1a, 64-bit, over the strings and their terminators */
static uint64_t hash_strs(const char *const *v, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		const char *s = v[i] ? v[i] : "";

		do {
			h ^= (unsigned char)*s;
			h *= 1099511628211ULL;
		} while (*s++);
	}
	return h ? h : 1;
}

static uint64_t wired_hash(const char *sa, const char *role, const char *regional, const char *audience)
{
	/* the default audience: absent, or named */
	const char *v[4] = { sa, role, regional, audience && !streq(audience, WI_DEFAULT_AUDIENCE) ? audience : "" };

	return hash_strs(v, 4);
}

static uint64_t uid_hash(const char *uid)
{
	return hash_strs(&uid, 1);
}

static void key_of(char *out, size_t size, const char *ns, const char *name)
{
	str_format(out, size, "%s/%s", ns, name);
}

/* With r->memo_lock held: the entry of ns/name for uid, created if missing
 * (and reset if it was another object's of that name); NULL without memory. */
static struct wi_memo *entry(struct wi_reconciler *r, const char *ns, const char *name, const char *uid)
{
	char key[600];
	struct wi_memo *m;

	key_of(key, sizeof(key), ns, name);
	m = strmap_get(&r->memo, key);
	if (m && m->uid_hash == uid_hash(uid))
		return m;
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m)
			return NULL;
		if (strmap_put(&r->memo, key, m, NULL) < 0) {
			free(m);
			return NULL;
		}
	} else {
		memset(m, 0, sizeof(*m));
	}
	m->uid_hash = uid_hash(uid);
	return m;
}

/* A drift sweep vouches for every verified role once per resync period
 * (reconcile/sweep.c), so a verification stays good for two: one period
 * and the sweep's own duration. When sweeps fail, each identity is read in
 * full at most two periods after its last verification. */
static int64_t verify_period(const struct wi_reconciler *r)
{
	return 2 * (r->settings->resync_ns > 0 ? r->settings->resync_ns : 600 * NSEC_PER_SEC);
}

void wi_memo_seen(struct rctx *x)
{
	struct wi_memo *m;

	pthread_mutex_lock(&x->r->memo_lock);
	m = entry(x->r, x->ns, x->name, x->uid);
	if (m)
		m->seen_generation = x->generation;
	pthread_mutex_unlock(&x->r->memo_lock);
}

bool wi_memo_fresh(struct rctx *x)
{
	char key[600];
	const struct wi_memo *m;
	bool fresh;

	key_of(key, sizeof(key), x->ns, x->name);
	pthread_mutex_lock(&x->r->memo_lock);
	m = strmap_get(&x->r->memo, key);
	fresh = m && m->verified_ns && m->uid_hash == uid_hash(x->uid) && m->verified_generation == x->generation &&
		x->role_arn[0] && m->role_hash == hash_strs((const char *[]){ x->role_arn }, 1) &&
		clock_mono_ns(x->r->clock) - m->verified_ns < verify_period(x->r);
	pthread_mutex_unlock(&x->r->memo_lock);
	return fresh;
}

void wi_memo_verified(struct rctx *x, int64_t at_ns, bool ok)
{
	struct wi_memo *m;

	pthread_mutex_lock(&x->r->memo_lock);
	m = entry(x->r, x->ns, x->name, x->uid);
	if (m) {
		m->verified_ns = ok ? at_ns : 0;
		m->verified_generation = x->generation;
		m->role_hash = ok ? hash_strs((const char *[]){ x->role_arn }, 1) : 0;
		m->role_fp = ok ? x->role_fp : 0;
		m->role_list_fp = ok ? x->role_list_fp : 0;
		m->elsewhere = x->acct && x->acct != &x->r->home;
		m->trust_kinds = ok && x->planned ? (int8_t)((x->plan.trust_irsa ? TRUST_IRSA : 0) |
							   (x->plan.trust_pod_identity ? TRUST_POD_IDENTITY : 0))
						  : -1;
	}
	pthread_mutex_unlock(&x->r->memo_lock);
}

int wi_memo_trust_kinds(struct rctx *x)
{
	char key[600];
	const struct wi_memo *m;
	int kinds;

	key_of(key, sizeof(key), x->ns, x->name);
	pthread_mutex_lock(&x->r->memo_lock);
	m = strmap_get(&x->r->memo, key);
	kinds = m && m->uid_hash == uid_hash(x->uid) && m->verified_ns ? m->trust_kinds : -1;
	pthread_mutex_unlock(&x->r->memo_lock);
	return kinds;
}

void wi_memo_wired(struct rctx *x, const char *role, const char *regional, const char *audience)
{
	struct wi_memo *m;

	pthread_mutex_lock(&x->r->memo_lock);
	m = entry(x->r, x->ns, x->name, x->uid);
	if (m)
		m->wired_hash = wired_hash(x->spec->service_account, role, regional, audience);
	pthread_mutex_unlock(&x->r->memo_lock);
}

void wi_memo_forget(struct wi_reconciler *r, const char *ns, const char *name)
{
	char key[600];

	key_of(key, sizeof(key), ns, name);
	pthread_mutex_lock(&r->memo_lock);
	free(strmap_remove(&r->memo, key));
	pthread_mutex_unlock(&r->memo_lock);
}

bool wi_memo_wi_echo(struct wi_reconciler *r, const char *ns, const char *name)
{
	struct kube_cache *c = r->wis;
	const struct wi_proj *w;
	char key[600], uid[37] = "";
	long long gen = -1;
	bool echo = false;
	const struct wi_memo *m;

	kube_cache_rdlock(c);
	w = (const struct wi_proj *)kube_cache_get(c, ns, name);
	if (w && !w->deleting && w->finalizers > 0) {
		gen = w->generation;
		kube_uid_format(w->h.uid, uid);
	}
	kube_cache_rdunlock(c);
	if (gen < 0)
		return false;
	key_of(key, sizeof(key), ns, name);
	pthread_mutex_lock(&r->memo_lock);
	m = strmap_get(&r->memo, key);
	echo = m && m->uid_hash == uid_hash(uid) && m->seen_generation == gen;
	pthread_mutex_unlock(&r->memo_lock);
	return echo;
}

bool wi_memo_sa_echo(struct wi_reconciler *r, const char *ns, const char *wi_name, const char *sa_name)
{
	struct kube_cache *c = r->sas;
	const struct sa_proj *sa;
	char key[600];
	uint64_t h = 0;
	bool echo;
	const struct wi_memo *m;

	kube_cache_rdlock(c);
	sa = (const struct sa_proj *)kube_cache_get(c, ns, sa_name);
	if (sa && sa->role_arn && sa->regional)
		h = wired_hash(sa_name, sa->role_arn, sa->regional->s, sa->audience ? sa->audience->s : NULL);
	kube_cache_rdunlock(c);
	if (!h)
		return false;
	key_of(key, sizeof(key), ns, wi_name);
	pthread_mutex_lock(&r->memo_lock);
	m = strmap_get(&r->memo, key);
	echo = m && m->wired_hash == h;
	pthread_mutex_unlock(&r->memo_lock);
	return echo;
}

/* --- the drift sweep ------------------------------------------------------------ */

uint64_t wi_memo_arn_hash(const char *arn)
{
	return hash_strs((const char *[]){ arn }, 1);
}

static int cmp_snap(const void *a, const void *b)
{
	uint64_t x = ((const struct wi_memo_snap *)a)->arn_hash, y = ((const struct wi_memo_snap *)b)->arn_hash;

	return x < y ? -1 : x > y;
}

void wi_memo_snapshot_free(struct wi_memo_snap *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].key);
	free(v);
}

long wi_memo_snapshot(struct wi_reconciler *r, int64_t before_ns, struct wi_memo_snap **ret)
{
	struct wi_memo_snap *v;
	size_t n = 0, iter = 0;
	const char *key;
	void *val;

	pthread_mutex_lock(&r->memo_lock);
	v = calloc(r->memo.len + 1, sizeof(*v));
	while (v && strmap_next(&r->memo, &iter, &key, &val)) {
		const struct wi_memo *m = val;

		/* the sweep reads roles of the cluster's account, not pod identity
		 * associations nor other accounts: such an identity is not vouched
		 * for, and is read in full (its association too) when its
		 * verification expires, two periods after the last */
		if (!m->verified_ns || m->verified_ns > before_ns || !m->role_hash || !m->role_fp || m->elsewhere ||
		    (m->trust_kinds > 0 && (m->trust_kinds & TRUST_POD_IDENTITY)))
			continue;
		v[n] = (struct wi_memo_snap){ .key = strdup(key), .arn_hash = m->role_hash, .role_fp = m->role_fp,
					      .role_list_fp = m->role_list_fp };
		if (!v[n++].key) {
			wi_memo_snapshot_free(v, n);
			v = NULL;
		}
	}
	pthread_mutex_unlock(&r->memo_lock);
	if (!v)
		return -ENOMEM;
	qsort(v, n, sizeof(*v), cmp_snap);
	*ret = v;
	return (long)n;
}

void wi_memo_vouch(struct wi_reconciler *r, const char *key, uint64_t arn_hash, int64_t at_ns)
{
	struct wi_memo *m;

	pthread_mutex_lock(&r->memo_lock);
	m = strmap_get(&r->memo, key);
	if (m && m->verified_ns && m->role_hash == arn_hash && m->verified_ns < at_ns)
		m->verified_ns = at_ns;
	pthread_mutex_unlock(&r->memo_lock);
}

bool wi_memo_invalidate(struct wi_reconciler *r, const char *key, int64_t at_ns)
{
	struct wi_memo *m;
	bool done = false;

	pthread_mutex_lock(&r->memo_lock);
	m = strmap_get(&r->memo, key);
	if (m && m->verified_ns && m->verified_ns <= at_ns) {
		m->verified_ns = 0;
		done = true;
	}
	pthread_mutex_unlock(&r->memo_lock);
	return done;
}
