/* bench_kube: memory per cached Pod and watch events applied per second.
 *
 * Input: a real Pod captured from the local kube-apiserver (created by the
 * ReplicaSet controller, mutated by the pod identity webhook, with
 * managedFields: controller/test/testdata/kube/pod-injected.json, 2.35 KB as
 * compact JSON), expanded into N distinct pods (names, uids, namespaces,
 * service accounts, owners, role ARNs varied) serialized as a PodList - a
 * "recorded list response". Loading goes through the same path as the
 * informer's list: the body streamed in 64 KiB chunks through the SAX_LIST
 * projector into kube_cache_upsert. Memory is the heap in use after loading
 * (mallinfo2 uordblks) minus before, with the response buffer allocated
 * before the first measurement. Then M watch event lines (MODIFIED with a
 * changed phase so the projection changes, plus some ADDED/DELETED) are fed
 * in 64 KiB chunks through the line splitter and kube_watch_apply_line on one
 * thread; events/s = M / elapsed.
 *
 * usage: bench_kube [N pods (100000)] [M events (200000)] [template.json]
 */
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/macros.h"
#include "base/ratelimit.h"
#include "kube/cache.h"
#include "kube/informer.h"
#include "kube/linesplit.h"
#include "kube/project.h"

static json_t *template_pod;

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v));
}

/* Pod i, varied the way a real cluster varies: 200 namespaces, 20 service
 * accounts and 50 ReplicaSets per namespace. */
static json_t *make_pod(long i, const char *phase)
{
	json_t *p = json_deep_copy(template_pod), *meta = json_object_get(p, "metadata"), *spec = json_object_get(p, "spec");
	json_t *owner = json_array_get(json_object_get(meta, "ownerReferences"), 0), *env, *e;
	char ns[32], name[64], uid[40], sa[32], rs[48], arn[128];
	size_t j;

	snprintf(ns, sizeof(ns), "team-%03ld", i % 200);
	snprintf(rs, sizeof(rs), "web-%ld-6cccf4c497", (i / 200) % 50);
	snprintf(name, sizeof(name), "%s-%05lx", rs, i);
	snprintf(uid, sizeof(uid), "%08lx-1854-4a73-a023-%012lx", i, i * 7919);
	snprintf(sa, sizeof(sa), "app-sa-%ld", (i / 200) % 20);
	snprintf(arn, sizeof(arn), "arn:aws:iam::123456789012:role/keyless-bench-%s-%s", ns, sa);
	set_str(meta, "namespace", ns);
	set_str(meta, "name", name);
	set_str(meta, "uid", uid);
	set_str(meta, "generateName", rs);
	set_str(owner, "name", rs);
	set_str(spec, "serviceAccountName", sa);
	set_str(spec, "serviceAccount", sa);
	set_str(json_object_get(p, "status"), "phase", phase);
	env = json_object_get(json_array_get(json_object_get(spec, "containers"), 0), "env");
	json_array_foreach(env, j, e) {
		if (strcmp(json_string_value(json_object_get(e, "name")), "AWS_ROLE_ARN") == 0)
			set_str(e, "value", arn);
	}
	return p;
}

static int list_item(const struct sax_capture *cap, const struct sax_frame *frame, void *ctx)
{
	struct kube_change ch;
	int r = kube_cache_upsert(ctx, cap, &ch);

	(void)frame;
	kube_change_release(&ch);
	return r;
}

struct apply {
	struct kube_watch_applier *a;
	long *applied;
};

static int apply_line(const char *line, size_t len, void *ctx)
{
	struct apply *ap = ctx;
	struct kube_change ch;
	struct op_err e;
	char rv[32];
	bool bm;
	int rc = kube_watch_apply_line(ap->a, line, len, rv, sizeof(rv), &ch, &bm, &e);

	kube_change_release(&ch);
	(*ap->applied)++;
	return rc;
}

static size_t heap_used(void)
{
	malloc_trim(0);
	return mallinfo2().uordblks;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	long m = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
	const char *tpl = argc > 3 ? argv[3] : "controller/test/testdata/kube/pod-injected.json";
	struct kube_cache *cache = kube_cache_new(&KUBE_KIND_POD);
	struct buf list = BUF_INIT((size_t)16 << 30), stream = BUF_INIT((size_t)16 << 30);
	size_t before, after, tpl_bytes;
	int64_t t0, t1;
	json_error_t jerr;
	char rv[32] = "1";
	struct linesplit ls;
	struct kube_watch_applier *applier;
	long applied = 0;

	template_pod = json_load_file(tpl, 0, &jerr);
	if (!template_pod) {
		fprintf(stderr, "bench_kube: %s: %s\n", tpl, jerr.text);
		return 1;
	}
	{
		char *s = json_dumps(template_pod, JSON_COMPACT);

		tpl_bytes = strlen(s);
		free(s);
	}

	/* 1. the recorded LIST response */
	if (buf_puts(&list, "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[") < 0)
		return 1;
	for (long i = 0; i < n; i++) {
		json_t *p = make_pod(i, "Running");
		char *s = json_dumps(p, JSON_COMPACT);

		if ((i && buf_puts(&list, ",") < 0) || buf_puts(&list, s) < 0)
			return 1;
		free(s);
		json_decref(p);
	}
	if (buf_puts(&list, "]}") < 0)
		return 1;

	{
		struct sax_parser *lp = sax_new(SAX_LIST, KUBE_KIND_POD.fields, KUBE_KIND_POD.nfields, list_item, cache);
		struct op_err e;

		before = heap_used();
		t0 = clock_mono_ns(NULL);
		for (size_t off = 0; off < list.len; off += 65536) {
			size_t len = list.len - off < 65536 ? list.len - off : 65536;

			if (sax_feed(lp, list.data + off, len, &e) < 0) {
				fprintf(stderr, "bench_kube: %s\n", e.message);
				return 1;
			}
		}
		if (sax_finish(lp, &e) < 0)
			return 1;
		t1 = clock_mono_ns(NULL);
		sax_free(lp);
		after = heap_used();
	}
	printf("list: %ld pods (%zu bytes of JSON each, %.1f MB) streamed into the cache in %.2f s\n", n, tpl_bytes,
	       (double)list.len / 1e6, (double)(t1 - t0) / 1e9);
	printf("cache: %zu bytes of heap for %ld pods = %.1f bytes per pod (%.1f MiB)\n", after - before, n,
	       (double)(after - before) / (double)n, (double)(after - before) / 1048576.0);

	/* 2. watch events: 90% MODIFIED (phase flips), 5% DELETED, 5% ADDED */
	for (long i = 0; i < m; i++) {
		long which = (long)(rand_u64() % (uint64_t)n);
		const char *type = "MODIFIED";
		json_t *p, *ev;
		char *s;

		if (i % 20 == 0)
			type = "DELETED";
		else if (i % 20 == 1)
			type = "ADDED";
		p = make_pod(which, i % 2 ? "Running" : "Succeeded");
		snprintf(rv, sizeof(rv), "%ld", 1000 + i);
		set_str(json_object_get(p, "metadata"), "resourceVersion", rv);
		ev = json_pack("{s:s, s:o}", "type", type, "object", p);
		s = json_dumps(ev, JSON_COMPACT);
		if (buf_puts(&stream, s) < 0 || buf_puts(&stream, "\n") < 0)
			return 1;
		free(s);
		json_decref(ev);
	}
	ls_init(&ls, (size_t)4 << 20);
	applier = kube_watch_applier_new(cache);
	t0 = clock_mono_ns(NULL);
	for (size_t off = 0; off < stream.len; off += 65536) {
		size_t len = stream.len - off < 65536 ? stream.len - off : 65536;
		struct apply a = { applier, &applied };
		int r;

		r = ls_feed(&ls, stream.data + off, len, apply_line, &a);
		if (r < 0)
			return 1;
	}
	t1 = clock_mono_ns(NULL);
	printf("watch: %ld events (%.1f MB) parsed and applied in %.2f s = %.0f events/s on one core\n", applied,
	       (double)stream.len / 1e6, (double)(t1 - t0) / 1e9, (double)applied / ((double)(t1 - t0) / 1e9));
	printf("cache after events: %zu pods\n", kube_cache_len(cache));
	buf_release(&list);
	ls_release(&ls);
	kube_watch_applier_free(applier);
	buf_release(&stream);
	kube_cache_free(cache);
	json_decref(template_pod);
	return 0;
}
