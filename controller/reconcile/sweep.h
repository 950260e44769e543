/* sweep.h: the periodic drift sweep (issue 11: steady-state IAM cost nearly
 * independent of the number of identities).
 *
 * Once per resyncPeriod, one thread reads the roles keyless verified, many
 * per call, and compares each with the fingerprints the reconciler
 * remembered when it last verified the role in full (identity/fingerprint.h,
 * reconcile/memo.c). An identity whose role drifted or vanished is marked
 * for a full verification and enqueued at once; the others stay verified, so
 * their periodic reconciles read nothing in AWS. The OIDC provider is read
 * once per sweep (List + Get), not per identity.
 *
 *   driftDetection: bulk   GetAccountAuthorizationDetails (Filter=Role),
 *     up to 1,000 roles per page with trust policy, boundary, tags, inline
 *     and attached policies: a no-op sweep of N identities costs
 *     ceil(roles in the account / 1000) + 2 calls. It needs
 *     iam:GetAccountAuthorizationDetails, which cannot be scoped to
 *     keyless' roles (it reads every IAM policy document of the account).
 *   driftDetection: roles  (default) ListRoles under rolePath (trust policy,
 *     description, maximum session duration; up to 1,000 per page). A
 *     trust-policy drift is caught by the listing; tags, boundary and
 *     policies are not in it, so every identity the listing found unchanged
 *     is verified in full (4 reads) at its own slot, spread evenly across
 *     the period: IAM sees a flat rate, not a spike at resync.
 *
 * Identities not verified (waiting, failing, never reconciled) are not
 * swept: the manager's per-identity resync goes on for them. A failed sweep
 * is logged and counted; verifications then age out after two periods and
 * each identity is read in full again (memo.c).
 */
#ifndef KEYLESS_RECONCILE_SWEEP_H
#define KEYLESS_RECONCILE_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "reconcile/queue.h"
#include "reconcile/workload.h"

struct drift_sweep_stats {
	size_t listed;   /* roles in the listing */
	size_t known;    /* verified identities swept */
	size_t vouched;  /* bulk: found as verified */
	size_t drifted;  /* enqueued: the role changed */
	size_t missing;  /* enqueued: the role was not in the listing */
	size_t spread;   /* roles: to verify across the period (*ret_spread) */
	uint64_t calls;  /* IAM calls the sweep made */
	bool provider_changed; /* the OIDC provider changed: every identity enqueued */
};

/* One sweep now (no sleeping). Identities to verify at once are marked and
 * added to q. roles mode: *ret_spread (malloc'd keys, free each and the
 * array) lists the identities to verify across the period, in order
 * (NULL/0 when none, as in bulk mode). 0 or a negative errno (the listing failed: err
 * says why; what was compared before the failure was acted on). */
int drift_sweep(struct wi_reconciler *r, struct wq *q, struct drift_sweep_stats *st, char ***ret_spread,
		size_t *ret_n_spread, struct op_err *err);

/* Mark key for a full verification and enqueue it (a roles-mode slot). */
void drift_sweep_verify(struct wi_reconciler *r, struct wq *q, const char *key);

/* The sweeping thread: the first sweep one period after the start, then one
 * per period (settings' resyncPeriod); in roles mode it enqueues the spread
 * keys at even intervals until the next sweep. on_sweep (may be NULL) is
 * called after each sweep with its result (metrics). stop: returns once the
 * thread has ended (a sweep in progress finishes its current call). */
struct drift_sweeper;
struct drift_sweeper *drift_sweeper_start(struct wi_reconciler *r, struct wq *q,
					  void (*on_sweep)(void *ctx, int rc, const struct drift_sweep_stats *st),
					  void *ctx);
void drift_sweeper_stop(struct drift_sweeper *s);

#endif
