/* clock.h: time in nanoseconds, and an injectable clock for tests.
 *
 * Code that needs "now" takes a `const struct clock *` (NULL = the real
 * clocks), so tests can drive time by hand (refresh margins, backoff, leases).
 */
#ifndef KEYLESS_CLOCK_H
#define KEYLESS_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define NSEC_PER_MSEC INT64_C(1000000)
#define NSEC_PER_SEC INT64_C(1000000000)

struct clock {
	int64_t (*monotonic_ns)(void *ctx); /* for durations and deadlines */
	int64_t (*realtime_ns)(void *ctx);  /* wall clock (expiry timestamps) */
	void *ctx;
};

/* Real clocks (CLOCK_MONOTONIC, CLOCK_REALTIME). */
int64_t clock_mono_ns(const struct clock *c);
int64_t clock_real_ns(const struct clock *c);

/* A manual clock for tests: both clocks read *now_ns (realtime = now + offset). */
struct manual_clock {
	struct clock clock;
	int64_t mono_ns;
	int64_t real_offset_ns;
};
void manual_clock_init(struct manual_clock *m, int64_t mono_ns, int64_t real_ns);
void manual_clock_advance(struct manual_clock *m, int64_t ns);

/* Condition variables timed on the monotonic clock (wall-clock jumps do not
 * shorten or stretch waits): init one, and turn a CLOCK_MONOTONIC time in ns
 * (clock_mono_ns(NULL) + delay) into the deadline pthread_cond_timedwait takes. */
int cond_init_monotonic(pthread_cond_t *cond);
struct timespec mono_deadline(int64_t mono_ns);

/* Sleep for ns (real time); returns early only on error. */
void sleep_ns(int64_t ns);

/* Parse RFC 3339 ("2026-11-28T17:00:00Z", fractional seconds and offsets
 * allowed) into ns since the epoch. Returns 0 or -EINVAL. */
int rfc3339_parse(const char *s, int64_t *ret_ns);

/* Format ns since the epoch as RFC 3339 UTC with the given number of
 * fractional digits (0, 3, 6). buf must hold 32 bytes. */
void rfc3339_format(int64_t ns, int frac_digits, char *buf, size_t size);

#endif
