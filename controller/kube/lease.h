/* lease.h: leader election on a coordination.k8s.io/v1 Lease (client-go's
 * leaderelection semantics).
 *
 * A candidate tries to acquire or renew every `retry` period. It acquires the
 * lease when it is free (no holder), or when the holder has not renewed it for
 * the record's own `leaseDurationSeconds` (the holder's setting, not ours) as
 * *observed locally*: the time on this candidate's monotonic clock since it
 * first saw the current record (holder, renewTime, duration), so clocks need
 * not agree. Writes use the lease's resourceVersion, so two candidates cannot
 * both win (the loser gets Conflict).
 *
 * The leader renews every `retry`. Each attempt (GET + PUT, credentials
 * included) is bounded by the renew deadline: "the start of the last
 * successful attempt + renew_deadline", which no request, retry or sleep
 * passes. That moment is also the write fence (base/fence.h): writers stop
 * there. A standby observes a renewal at or after the start of the attempt
 * that wrote it, and waits lease_duration (> renew_deadline) from then, so
 * the old leader has stopped writing (by lease_duration - renew_deadline)
 * before a standby can take over. If the deadline passes, or another holder
 * appears, the fence closes, on_stopped is called and lease_run returns; the
 * caller must exit at once.
 *
 * On *stop while leading, `drain` runs on its own thread (the caller stops its
 * writers there and waits for in-flight work) while the lease thread keeps
 * renewing; then the fence closes and the lease is released (holderIdentity
 * "", leaseDurationSeconds 1, as client-go's ReleaseOnCancel), so a standby
 * takes over at its next retry.
 */
#ifndef KEYLESS_KUBE_LEASE_H
#define KEYLESS_KUBE_LEASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/fence.h"
#include "kube/client.h"

struct lease_opts {
	struct kube_client *client; /* should have no write fence of its own */
	const char *namespace;
	const char *name;
	const char *identity;     /* unique per replica (e.g. pod name + random) */
	int64_t lease_duration_ns; /* 0 = 15 s; what we write in the record */
	int64_t renew_deadline_ns; /* 0 = 10 s */
	int64_t retry_period_ns;   /* 0 = 2 s */
	const struct clock *clock; /* monotonic time for expiry and deadlines; NULL = real
				    * (must be the client's clock) */
	struct write_fence *fence; /* optional: opened while leading (see above) */
	void (*on_started)(void *ctx); /* became leader (called on the lease thread) */
	/* leadership lost (deadline passed, or another holder): called on the
	 * lease thread after the fence closed; must not block. */
	void (*on_stopped)(void *ctx);
	/* graceful stop: runs on its own thread while the lease is renewed;
	 * when it returns, nothing more may be written. NULL = nothing to drain. */
	void (*drain)(void *ctx);
	void (*on_new_leader)(const char *identity, void *ctx); /* optional: observed holder changed */
	/* optional: an acquire or renew attempt failed on an API error (401,
	 * 403, network, timeout, ...; not a valid lease held by another, nor a
	 * lost write race: Conflict, AlreadyExists); called on the lease thread,
	 * must not block */
	void (*on_error)(const struct op_err *err, void *ctx);
	void *ctx;
};

/* Run the election until *stop becomes true. While leading, renew; when
 * *stop becomes true while leading, drain (renewing meanwhile), close the
 * fence, then release the lease (if release is set). Returns 0 when stopped,
 * or -ETIMEDOUT (renew deadline passed) / -EBUSY (another holder) when
 * leadership was lost, after on_stopped: the caller must exit at once (a
 * drain still running is abandoned). */
int lease_run(const struct lease_opts *opts, const atomic_bool *stop, bool release);

/* Outcome of one acquire/renew attempt. */
enum lease_try {
	LEASE_ACQUIRED, /* we hold it now (newly or renewed) */
	LEASE_HELD,     /* another holder's lease is still valid */
	LEASE_FAILED,   /* API error or conflict */
};

/* One candidate's state, for lease_run and for tests that drive attempts
 * one by one (with a manual clock). */
struct lease_elector;
int lease_elector_new(const struct lease_opts *opts, struct lease_elector **ret);
void lease_elector_free(struct lease_elector *e);
/* One acquire-or-renew attempt; no request goes past deadline_ns (monotonic
 * on opts->clock; 0 = none). */
enum lease_try lease_elector_try(struct lease_elector *e, int64_t deadline_ns, struct op_err *err);
/* Release the lease if we hold it (CAS on its resourceVersion). */
int lease_elector_release(struct lease_elector *e, int64_t deadline_ns, struct op_err *err);

#endif
