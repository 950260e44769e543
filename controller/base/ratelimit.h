/* ratelimit.h: token bucket, exponential backoff with jitter, random numbers.
 *
 * Pure apart from the clock passed in (NULL = real clocks) and the thread-safe
 * random source; tests use struct manual_clock.
 */
#ifndef KEYLESS_RATELIMIT_H
#define KEYLESS_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/clock.h"

/* A token bucket as golang.org/x/time/rate: `rate` tokens per second refill
 * up to `burst`; a reservation may drive the balance negative and reports how
 * long the caller must wait. rate <= 0 means unlimited. Thread-safe. */
struct token_bucket {
	pthread_mutex_t lock;
	double rate;
	double burst;
	double tokens;
	int64_t last_ns;
	const struct clock *clock;
};

void tb_init(struct token_bucket *tb, double rate, double burst, const struct clock *clock);
void tb_release(struct token_bucket *tb);

/* Take one token; return the delay in ns before it may be used (0 = now). */
int64_t tb_reserve(struct token_bucket *tb);

/* Take one token only if available now. */
bool tb_try(struct token_bucket *tb);

/* Reserve and sleep the returned delay. */
void tb_wait(struct token_bucket *tb);

/* base * 2^attempt, capped at max (no overflow for any attempt >= 0). */
int64_t backoff_exp_ns(int64_t base_ns, int64_t max_ns, unsigned attempt);

/* "Full jitter" (AWS SDKs): uniform in [0, min(cap, base * 2^attempt)]. */
int64_t backoff_full_jitter_ns(int64_t base_ns, int64_t cap_ns, unsigned attempt);

/* d plus up to `factor` * d of uniform jitter (client-go's wait.Jitter). */
int64_t jitter_ns(int64_t d, double factor);

/* Uniform random 64-bit value / double in [0,1). Thread-safe, seeded from
 * getrandom(); not for cryptographic use. */
uint64_t rand_u64(void);
double rand_unit(void);

#endif
