/* fuzz_kube_watch: watch stream bytes -> lines (kube/linesplit.c) -> events
 * projected into a cache (kube/sax.c SAX_EVENT, kube/project.c, kube/cache.c),
 * as kube/informer.c applies them. Input: one byte picks the kind and the
 * chunk size, the rest is the stream. */
#include "fuzz.h"

#include "kube/cache.h"
#include "kube/informer.h"
#include "kube/linesplit.h"
#include "kube/project.h"

struct ctx {
	struct kube_watch_applier *a;
	char rv[64];
};

static int on_line(const char *line, size_t len, void *ud)
{
	struct ctx *c = ud;
	struct kube_change ch;
	struct op_err err;
	bool bookmark;

	op_err_clear(&err);
	if (kube_watch_apply_line(c->a, line, len, c->rv, sizeof(c->rv), &ch, &bookmark, &err) == 0)
		kube_change_release(&ch);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kube_kind *const kinds[] = { &KUBE_KIND_POD, &KUBE_KIND_SERVICEACCOUNT,
							 &KUBE_KIND_WORKLOADIDENTITY, &KUBE_KIND_GENERIC };
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	size_t chunk = (sel >> 2) ? (sel >> 2) : in.n + 1;
	struct kube_cache *cache = kube_cache_new(kinds[sel & 3]);
	struct ctx c = { 0 };
	struct linesplit ls;

	if (!cache)
		return 0;
	c.a = kube_watch_applier_new(cache);
	ls_init(&ls, 1 << 20);
	while (c.a && in.n) {
		struct fuzz_in part = fuzz_take(&in, chunk);

		if (ls_feed(&ls, (const char *)part.p, part.n, on_line, &c) < 0)
			break;
	}
	ls_release(&ls);
	kube_watch_applier_free(c.a);
	kube_cache_free(cache);
	return 0;
}
