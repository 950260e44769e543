#include "base/ratelimit.h"

#include <sys/random.h>

void tb_init(struct token_bucket *tb, double rate, double burst, const struct clock *clock)
{
	pthread_mutex_init(&tb->lock, NULL);
	tb->rate = rate;
	tb->burst = burst < 1 ? 1 : burst;
	tb->tokens = tb->burst;
	tb->clock = clock;
	tb->last_ns = clock_mono_ns(clock);
}

void tb_release(struct token_bucket *tb)
{
	pthread_mutex_destroy(&tb->lock);
}

static void refill(struct token_bucket *tb, int64_t now)
{
	if (now > tb->last_ns) {
		tb->tokens += (double)(now - tb->last_ns) / (double)NSEC_PER_SEC * tb->rate;
		if (tb->tokens > tb->burst)
			tb->tokens = tb->burst;
		tb->last_ns = now;
	}
}

int64_t tb_reserve(struct token_bucket *tb)
{
	int64_t now, delay = 0;

	if (tb->rate <= 0)
		return 0;
	pthread_mutex_lock(&tb->lock);
	now = clock_mono_ns(tb->clock);
	refill(tb, now);
	tb->tokens -= 1;
	if (tb->tokens < 0)
		delay = (int64_t)(-tb->tokens / tb->rate * (double)NSEC_PER_SEC);
	pthread_mutex_unlock(&tb->lock);
	return delay;
}

bool tb_try(struct token_bucket *tb)
{
	bool ok = false;

	if (tb->rate <= 0)
		return true;
	pthread_mutex_lock(&tb->lock);
	refill(tb, clock_mono_ns(tb->clock));
	if (tb->tokens >= 1) {
		tb->tokens -= 1;
		ok = true;
	}
	pthread_mutex_unlock(&tb->lock);
	return ok;
}

void tb_wait(struct token_bucket *tb)
{
	sleep_ns(tb_reserve(tb));
}

int64_t backoff_exp_ns(int64_t base_ns, int64_t max_ns, unsigned attempt)
{
	int64_t d = base_ns;

	for (unsigned i = 0; i < attempt; i++) {
		if (d >= max_ns / 2)
			return max_ns;
		d *= 2;
	}
	return d > max_ns ? max_ns : d;
}

int64_t backoff_full_jitter_ns(int64_t base_ns, int64_t cap_ns, unsigned attempt)
{
	int64_t ceiling = backoff_exp_ns(base_ns, cap_ns, attempt);

	return (int64_t)(rand_unit() * (double)ceiling);
}

int64_t jitter_ns(int64_t d, double factor)
{
	return d + (int64_t)(rand_unit() * factor * (double)d);
}

static __thread uint64_t rng_state;

uint64_t rand_u64(void)
{
	uint64_t x;

	if (rng_state == 0) {
		if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state) || rng_state == 0)
			rng_state = 0x9e3779b97f4a7c15ULL ^ (uint64_t)clock_mono_ns(NULL);
	}
	/* xorshift64* */
	x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

double rand_unit(void)
{
	return (double)(rand_u64() >> 11) * (1.0 / 9007199254740992.0);
}
