/* bench_kube: memory per cached object at keyless' scale, and watch events
 * applied per second.
 *
 * Input: real objects as the API server returns them (bench/objects.h): a
 * Pod captured from the local kube-apiserver (pod-injected.json, 2.35 KB as
 * compact JSON), a Ready WorkloadIdentity and the ServiceAccount keyless
 * created for it, expanded into N distinct pods and K identities with one
 * ServiceAccount each (names, uids, namespaces, service accounts, owners,
 * role ARNs varied), each kind serialized as a list - a "recorded list
 * response".
 * Loading goes through the same path as the informers' lists: each body
 * streamed in 64 KiB chunks through the SAX_LIST projector of its kind into
 * kube_cache_upsert. Memory is the heap in use after loading (mallinfo2
 * uordblks + hblkhd: mmap'd chunks such as the large hash tables count)
 * minus before, with all response buffers allocated before the first
 * measurement. Then the reconciler's per-identity memo (reconcile/memo.c)
 * is filled for the K identities through the reconciler's own memo calls
 * (as one verified, wired reconcile of each leaves it), and measured the
 * same way. Then the responses are freed, malloc_trim(0), and
 * VmRSS/RssAnon read from /proc/self/status: what the caches and the memo
 * hold resident without the input (keyless adds the file pages of its
 * libraries, its threads' stacks and its buffers); the peak, VmHWM, includes
 * the generated input.
 * Then the read side: every pod looked up by namespace/name, and every
 * (namespace, service account) index bucket walked, timed.
 * Then M watch event lines (MODIFIED with a changed phase so the projection
 * changes, plus some ADDED/DELETED) are fed in 64 KiB chunks through the line
 * splitter and kube_watch_apply_line on one thread; events/s = M / elapsed.
 *
 * usage: bench_kube [-i K identities (10000)] [N pods (100000)] [M events (200000)] [pod template.json]
 */
#include <jansson.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/macros.h"
#include "base/ratelimit.h"
#include "base/str.h"
#include "bench/objects.h"
#include "kube/cache.h"
#include "kube/informer.h"
#include "kube/linesplit.h"
#include "kube/project.h"
#include "reconcile/steps.h"

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

/* The heap in use: malloc's arena and its mmap'd chunks (large hash tables
 * are allocated with mmap: the pods' table of 131,072 slots is 1 MiB). */
static size_t heap_used(void)
{
	struct mallinfo2 mi;

	malloc_trim(0);
	mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

/* Stream a list response into c as the informer does (64 KiB chunks through
 * the kind's SAX_LIST projector): the heap it added and the time it took.
 * 0, or -1 after a message. */
static int load_list(struct kube_cache *c, const struct buf *list, long *ret_heap, double *ret_s)
{
	const struct kube_kind *kind = kube_cache_kind(c);
	struct sax_parser *lp = sax_new(SAX_LIST, kind->fields, kind->nfields, list_item, c);
	size_t before = heap_used(), after;
	int64_t t0 = clock_mono_ns(NULL);
	struct op_err e;

	for (size_t off = 0; off < list->len; off += 65536) {
		size_t len = list->len - off < 65536 ? list->len - off : 65536;

		if (sax_feed(lp, list->data + off, len, &e) < 0) {
			fprintf(stderr, "bench_kube: %s: %s\n", kind->name, e.message);
			return -1;
		}
	}
	if (sax_finish(lp, &e) < 0) {
		fprintf(stderr, "bench_kube: %s: %s\n", kind->name, e.message);
		return -1;
	}
	*ret_s = (double)(clock_mono_ns(NULL) - t0) / 1e9;
	sax_free(lp);
	after = heap_used();
	*ret_heap = (long)after - (long)before;
	return 0;
}

/* What one verified, wired reconcile of each identity leaves in the
 * reconciler's memo (wi_memo_seen, _verified, _wired): the heap it added.
 * 0 or -1. */
static int fill_memo(struct wi_reconciler *r, long k, long *ret_heap)
{
	struct rctx *x = calloc(1, sizeof(*x));
	struct wi_spec spec = { .generation = 1 };
	size_t before = heap_used();

	if (!x)
		return -1;
	x->r = r;
	x->spec = &spec;
	x->generation = 1;
	for (long i = 0; i < k; i++) {
		struct bench_ident id;

		bench_ident(i, &id);
		str_copy(x->ns, sizeof(x->ns), id.ns);
		str_copy(x->name, sizeof(x->name), id.name);
		str_copy(x->uid, sizeof(x->uid), id.uid);
		str_copy(x->role_arn, sizeof(x->role_arn), id.arn);
		x->role_fp = wi_memo_arn_hash(id.role);
		x->role_list_fp = wi_memo_arn_hash(id.uid);
		spec.service_account = id.sa;
		wi_memo_seen(x);
		wi_memo_verified(x, clock_mono_ns(NULL), true);
		wi_memo_wired(x, id.arn, "true", NULL);
	}
	free(x);
	*ret_heap = (long)heap_used() - (long)before;
	return 0;
}

static int64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The cache's read operations on the n pods: every pod looked up by
 * namespace/name (in a scattered order), and every (namespace, service
 * account) index bucket walked; 7 passes of each, timed in this thread's
 * CPU time, the fastest reported (less of what else ran on the machine). */
static void time_lookups(struct kube_cache *c, long n)
{
	const long passes = 7;
	struct bench_pod_key *keys = calloc((size_t)n, sizeof(*keys));
	long found = 0, walked = 0, walks = 0;
	int64_t best_get = INT64_MAX, best_walk = INT64_MAX;

	if (!keys || n <= 0) {
		free(keys);
		return;
	}
	for (long i = 0; i < n; i++)
		bench_pod_key((i * 7919) % n, &keys[i]);
	kube_cache_rdlock(c);
	for (long p = 0; p < passes; p++) {
		int64_t t0 = cpu_ns(), t1;

		found = 0;
		for (long i = 0; i < n; i++)
			found += kube_cache_get(c, keys[i].ns, keys[i].name) != NULL;
		t1 = cpu_ns();
		best_get = t1 - t0 < best_get ? t1 - t0 : best_get;
	}
	for (long p = 0; p < passes; p++) {
		int64_t t0 = cpu_ns(), t1;

		walked = walks = 0;
		for (long ns = 0; ns < 200; ns++) {
			for (long sa = 0; sa < 20; sa++) {
				char nsb[32], sab[32];

				snprintf(nsb, sizeof(nsb), "team-%03ld", ns);
				snprintf(sab, sizeof(sab), "app-sa-%ld", sa);
				for (const struct kobj *o = kube_cache_index_first(c, nsb, sab); o; o = kube_cache_index_next(o))
					walked++;
				walks++;
			}
		}
		t1 = cpu_ns();
		best_walk = t1 - t0 < best_walk ? t1 - t0 : best_walk;
	}
	kube_cache_rdunlock(c);
	printf("lookups: %ld gets by namespace/name (%ld found) in %.1f ms = %.0f ns each; %ld index walks over %ld pods in %.1f ms = %.1f ns per pod (CPU time, fastest of %ld passes)\n",
	       n, found, (double)best_get / 1e6, (double)best_get / (double)n, walks, walked, (double)best_walk / 1e6,
	       walked ? (double)best_walk / (double)walked : 0.0, passes);
	free(keys);
}

/* VmRSS, RssAnon and VmHWM of this process, in KiB. */
static void proc_status(long *vm_rss, long *rss_anon, long *vm_hwm)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	*vm_rss = *rss_anon = *vm_hwm = -1;
	while (f && fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", vm_rss);
		sscanf(line, "RssAnon: %ld", rss_anon);
		sscanf(line, "VmHWM: %ld", vm_hwm);
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	long k = 10000, n, m;
	const char *tpl;
	struct kube_cache *cache = kube_cache_new(&KUBE_KIND_POD);
	struct kube_cache *wis = kube_cache_new(&KUBE_KIND_WORKLOADIDENTITY);
	struct kube_cache *sas = kube_cache_new(&KUBE_KIND_SERVICEACCOUNT);
	struct wi_reconciler rec = { 0 };
	struct buf list = BUF_INIT((size_t)16 << 30), stream = BUF_INIT((size_t)16 << 30);
	struct buf wi_list = BUF_INIT((size_t)4 << 30), sa_list = BUF_INIT((size_t)4 << 30);
	long pod_heap, wi_heap, sa_heap, memo_heap, vm_rss, rss_anon, vm_hwm;
	double pod_s, wi_s, sa_s;
	int64_t t0, t1, c0, c1;
	char rv[32] = "1";
	struct linesplit ls;
	struct kube_watch_applier *applier;
	long applied = 0;
	int opt;

	while ((opt = getopt(argc, argv, "i:")) != -1) {
		if (opt != 'i' || str_to_long(optarg, 0, 10000000, &k) < 0) {
			fprintf(stderr, "usage: bench_kube [-i identities] [pods] [events] [pod template.json]\n");
			return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	m = argc > 2 ? strtol(argv[2], NULL, 10) : 200000;
	tpl = argc > 3 ? argv[3] : NULL;
	if (bench_load_templates(tpl) < 0)
		return 1;
	wi_reconciler_init(&rec);

	/* 1. the recorded LIST responses, all built before the first measurement */
	if (bench_build_list(&list, "PodList", "v1", n, bench_make_running_pod) < 0 ||
	    bench_build_list(&wi_list, "WorkloadIdentityList", API_VERSION, k, bench_make_wi) < 0 ||
	    bench_build_list(&sa_list, "ServiceAccountList", "v1", k, bench_make_sa) < 0) {
		fprintf(stderr, "bench_kube: out of memory building the list responses\n");
		return 1;
	}
	if (load_list(cache, &list, &pod_heap, &pod_s) < 0 || load_list(wis, &wi_list, &wi_heap, &wi_s) < 0 ||
	    load_list(sas, &sa_list, &sa_heap, &sa_s) < 0 || fill_memo(&rec, k, &memo_heap) < 0)
		return 1;
	printf("list: %ld pods (%zu bytes of JSON each, %.1f MB) streamed into the cache in %.2f s\n", n,
	       bench_json_len(bench_tpl_pod), (double)list.len / 1e6, pod_s);
	printf("cache: %ld bytes of heap for %ld pods = %.1f bytes per pod (%.1f MiB)\n", pod_heap, n,
	       (double)pod_heap / (double)n, (double)pod_heap / 1048576.0);
	if (k) {
		printf("identities: %ld WorkloadIdentities (%zu bytes of JSON each, %.1f MB) in %.2f s: %ld bytes of heap = %.1f bytes per WorkloadIdentity (%.2f MiB)\n",
		       k, bench_json_len(bench_tpl_wi), (double)wi_list.len / 1e6, wi_s, wi_heap, (double)wi_heap / (double)k,
		       (double)wi_heap / 1048576.0);
		printf("serviceaccounts: %ld ServiceAccounts (%zu bytes of JSON each, %.1f MB) in %.2f s: %ld bytes of heap = %.1f bytes per ServiceAccount (%.2f MiB)\n",
		       k, bench_json_len(bench_tpl_sa), (double)sa_list.len / 1e6, sa_s, sa_heap, (double)sa_heap / (double)k,
		       (double)sa_heap / 1048576.0);
		printf("memo: %ld bytes of heap for %ld identities = %.1f bytes per identity (%.2f MiB)\n", memo_heap, k,
		       (double)memo_heap / (double)k, (double)memo_heap / 1048576.0);
	}
	printf("total: %ld bytes of heap = %.1f MiB (pods, WorkloadIdentities, ServiceAccounts, memo)\n",
	       pod_heap + wi_heap + sa_heap + memo_heap, (double)(pod_heap + wi_heap + sa_heap + memo_heap) / 1048576.0);
	buf_release(&list);
	buf_release(&wi_list);
	buf_release(&sa_list);
	malloc_trim(0);
	proc_status(&vm_rss, &rss_anon, &vm_hwm);
	printf("steady: VmRSS %ld KiB, RssAnon %ld KiB after freeing the responses (peak so far VmHWM %ld KiB)\n", vm_rss,
	       rss_anon, vm_hwm);
	time_lookups(cache, n);

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
		p = bench_make_pod(which, i % 2 ? "Running" : "Succeeded");
		snprintf(rv, sizeof(rv), "%ld", 1000 + i);
		json_object_set_new(json_object_get(p, "metadata"), "resourceVersion", json_string(rv));
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
	c0 = cpu_ns();
	for (size_t off = 0; off < stream.len; off += 65536) {
		size_t len = stream.len - off < 65536 ? stream.len - off : 65536;
		struct apply a = { applier, &applied };
		int r;

		r = ls_feed(&ls, stream.data + off, len, apply_line, &a);
		if (r < 0)
			return 1;
	}
	t1 = clock_mono_ns(NULL);
	c1 = cpu_ns();
	printf("watch: %ld events (%.1f MB) parsed and applied in %.2f s = %.0f events/s on one core (CPU time %.2f s = %.0f events/s)\n",
	       applied, (double)stream.len / 1e6, (double)(t1 - t0) / 1e9, (double)applied / ((double)(t1 - t0) / 1e9),
	       (double)(c1 - c0) / 1e9, (double)applied / ((double)(c1 - c0) / 1e9));
	printf("cache after events: %zu pods\n", kube_cache_len(cache));
	proc_status(&vm_rss, &rss_anon, &vm_hwm);
	printf("peak: VmHWM %ld KiB (with the generated responses and watch events)\n", vm_hwm);
	ls_release(&ls);
	kube_watch_applier_free(applier);
	buf_release(&stream);
	kube_cache_free(cache);
	kube_cache_free(wis);
	kube_cache_free(sas);
	wi_reconciler_release(&rec);
	bench_free_templates();
	return 0;
}
