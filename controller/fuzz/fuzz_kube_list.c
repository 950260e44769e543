/* fuzz_kube_list: a LIST response streamed through the SAX projection
 * (kube/sax.c SAX_LIST) into a cache, item by item, as kube/informer.c
 * lists; then the frame (resourceVersion, continue). Input: one byte picks
 * the kind and the chunk size, the rest is the body. */
#include "fuzz.h"

#include "kube/cache.h"
#include "kube/project.h"
#include "kube/sax.h"

static int on_item(const struct sax_capture *cap, const struct sax_frame *frame, void *ud)
{
	struct kube_cache *cache = ud;
	struct kube_change ch;

	(void)frame;
	if (kube_cache_upsert(cache, cap, &ch) == -ENOMEM)
		return -ENOMEM;
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
	const struct kube_kind *k = kinds[sel & 3];
	struct kube_cache *cache = kube_cache_new(k);
	struct sax_parser *p;
	struct op_err err;
	int r = 0;

	if (!cache)
		return 0;
	op_err_clear(&err);
	p = sax_new(SAX_LIST, k->fields, k->nfields, on_item, cache);
	while (p && in.n && r >= 0) {
		struct fuzz_in part = fuzz_take(&in, chunk);

		r = sax_feed(p, (const char *)part.p, part.n, &err);
	}
	if (p && r >= 0 && sax_finish(p, &err) >= 0) {
		const struct sax_frame *f = sax_frame(p);

		FUZZ_ASSERT(strlen(f->resource_version) < sizeof(f->resource_version));
		FUZZ_ASSERT(strlen(f->type) < sizeof(f->type));
	}
	kube_cache_begin_relist(cache);
	kube_cache_sweep(cache, NULL, NULL);
	sax_free(p);
	kube_cache_free(cache);
	return 0;
}
