/* fence.h: a write fence, so a leader that may have lost its lease stops
 * writing at once.
 *
 * The lease thread moves the fence forward after each successful renewal to
 * "the start of that renewal attempt + the renew deadline" (on the monotonic
 * clock). Writers (the Kubernetes client for every method but GET, the AWS
 * client for every write operation) check it before each attempt, retries
 * included, and refuse with -ENOLCK once the time is past it; a write's
 * request timeout is also cut to the time left. Readers are never fenced.
 * A fence that was never opened (until 0) refuses every write.
 */
#ifndef KEYLESS_BASE_FENCE_H
#define KEYLESS_BASE_FENCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"

struct write_fence {
	_Atomic int64_t until_ns;  /* monotonic; writes allowed while now < until_ns */
	const struct clock *clock; /* NULL = real */
};

/* Allow writes until `until_ns` (monotonic); 0 closes the fence. */
void write_fence_set(struct write_fence *f, int64_t until_ns);

/* Nanoseconds writes are still allowed for (> 0), or 0 when closed. A NULL
 * fence is always open (INT64_MAX). */
int64_t write_fence_left(const struct write_fence *f);

#endif
