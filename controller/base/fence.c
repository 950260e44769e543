#include "base/fence.h"

void write_fence_set(struct write_fence *f, int64_t until_ns)
{
	atomic_store(&f->until_ns, until_ns);
}

int64_t write_fence_left(const struct write_fence *f)
{
	int64_t until, left;

	if (!f)
		return INT64_MAX;
	until = atomic_load(&((struct write_fence *)f)->until_ns);
	if (until <= 0)
		return 0;
	left = until - clock_mono_ns(f->clock);
	return left > 0 ? left : 0;
}
