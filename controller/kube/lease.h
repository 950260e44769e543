/* lease.h: leader election on a coordination.k8s.io/v1 Lease (client-go's
 * leaderelection semantics).
 *
 * A candidate tries to acquire or renew every `retry` period. It acquires the
 * lease when it is free (no holder), or when the holder has not renewed it for
 * `lease_duration` as *observed locally* (the time since this candidate last
 * saw the lease record change, so clocks need not agree). Writes use the
 * lease's resourceVersion, so two candidates cannot both win (the loser gets
 * Conflict). The leader renews every `retry`; if it cannot renew for
 * `renew_deadline` (< lease_duration), it stops leading: on_stopped is called,
 * and the caller must stop writing at once. Releasing (on SIGTERM) clears the
 * holder so a standby takes over at its next retry instead of waiting for the
 * lease to expire.
 */
#ifndef KEYLESS_KUBE_LEASE_H
#define KEYLESS_KUBE_LEASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/client.h"

struct lease_opts {
	struct kube_client *client;
	const char *namespace;
	const char *name;
	const char *identity;     /* unique per replica (e.g. pod name + random) */
	int64_t lease_duration_ns; /* 0 = 15 s */
	int64_t renew_deadline_ns; /* 0 = 10 s */
	int64_t retry_period_ns;   /* 0 = 2 s */
	void (*on_started)(void *ctx); /* became leader (called on the lease thread) */
	void (*on_stopped)(void *ctx); /* lost or released leadership */
	void (*on_new_leader)(const char *identity, void *ctx); /* optional: observed holder changed */
	void *ctx;
};

/* Run the election until *stop becomes true. While leading, renew; when
 * *stop becomes true while leading, call on_stopped (the caller stops its
 * writers there) and then release the lease (if release is set). Returns 0
 * when stopped, or -ETIMEDOUT (renew deadline passed) / -EBUSY (another
 * holder) when leadership was lost, after on_stopped, so the caller exits.
 * The client's request timeout must be below renew_deadline. */
int lease_run(const struct lease_opts *opts, const atomic_bool *stop, bool release);

/* Outcome of one acquire/renew attempt, for tests. */
enum lease_try {
	LEASE_ACQUIRED, /* we hold it now (newly or renewed) */
	LEASE_HELD,     /* another holder's lease is still valid */
	LEASE_FAILED,   /* API error or conflict */
};

#endif
