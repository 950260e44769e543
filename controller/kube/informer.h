/* informer.h: list/watch one resource into a cache and tell a handler what
 * changed (client-go's Reflector + Informer semantics).
 *
 * One thread per informer:
 *   1. LIST (paginated, `limit` per page) into the cache; objects that
 *      disappeared since the previous list are removed (and reported deleted);
 *      the informer is then "synced";
 *   2. WATCH from the list's resourceVersion with allowWatchBookmarks=true and
 *      a server-side timeoutSeconds randomized in [5, 10] minutes; every
 *      event (and bookmark) advances the resourceVersion, so a dropped or
 *      ended watch resumes where it stopped;
 *   3. 410 Gone (at watch start or as an ERROR event: the resourceVersion was
 *      compacted away) -> back to 1, and the difference is reported;
 *   4. other failures -> retry after a jittered exponential backoff
 *      (800 ms doubling to 30 s; reset after a healthy watch).
 * The stream is split into lines by kube/linesplit (capped line length).
 * Handlers run on the informer's thread (or the resync thread) after the
 * cache lock is released; they must be quick (enqueue a key) and thread-safe.
 * An optional resync replays every cached object as KUBE_CHANGE_RESYNC every
 * `resync` (+ up to 10% jitter).
 */
#ifndef KEYLESS_KUBE_INFORMER_H
#define KEYLESS_KUBE_INFORMER_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "kube/cache.h"
#include "kube/client.h"

struct kube_informer;

struct kube_informer_opts {
	struct kube_client *client;
	const struct kube_resource *resource;
	const struct kube_kind *kind;
	const char *namespace;      /* NULL: all namespaces */
	const char *label_selector;
	const char *field_selector;
	void (*on_change)(const struct kube_change *ch, void *ctx);
	void *ctx;
	int64_t resync_ns;          /* 0: no resync */
	long list_limit;            /* page size; 0 = 500 */
	size_t max_line;            /* watch line cap; 0 = 4 MiB */
	long watch_timeout_min_s;   /* 0 = 300 */
	long watch_timeout_max_s;   /* 0 = 600 */
	int64_t backoff_base_ns;    /* 0 = 800 ms */
	int64_t backoff_max_ns;     /* 0 = 30 s */
};

struct kube_informer_stats {
	uint64_t lists;      /* full lists (initial + relists) */
	uint64_t pages;      /* list pages fetched */
	uint64_t relists_gone; /* relists caused by 410 Gone */
	uint64_t watches;    /* watch requests started */
	uint64_t events;     /* ADDED/MODIFIED/DELETED events applied */
	uint64_t bookmarks;
	uint64_t errors;     /* failed list/watch attempts */
	char resource_version[32];
};

int kube_informer_new(const struct kube_informer_opts *opts, struct kube_informer **ret);
/* Start the thread(s). */
int kube_informer_start(struct kube_informer *inf);
/* Stop and join (the in-flight watch is cancelled within ~1 s). */
void kube_informer_stop(struct kube_informer *inf);
/* Ask to stop without waiting (stop several in parallel, then join each). */
void kube_informer_signal_stop(struct kube_informer *inf);
void kube_informer_free(struct kube_informer *inf);

bool kube_informer_synced(struct kube_informer *inf);
/* Wait until synced; -ETIMEDOUT after timeout_ns, -ECANCELED if stopped. */
int kube_informer_wait_synced(struct kube_informer *inf, int64_t timeout_ns);
struct kube_cache *kube_informer_cache(struct kube_informer *inf);
void kube_informer_get_stats(struct kube_informer *inf, struct kube_informer_stats *ret);
/* The last error the loop hit (empty if none), for logs and tests. */
void kube_informer_last_error(struct kube_informer *inf, struct op_err *ret);

/* Applies watch event lines to a cache (used by the informer, tests and the
 * benchmark). Owns a streaming parser configured for the cache's kind; one
 * thread at a time. */
struct kube_watch_applier;

struct kube_watch_applier *kube_watch_applier_new(struct kube_cache *cache);
void kube_watch_applier_free(struct kube_watch_applier *a);

/* Apply one event line. When the line carries a resourceVersion it is copied
 * into rv (size rv_size). Returns 0, -EIDRM for a 410 ERROR event, -EPROTO
 * for other ERROR events or malformed lines. */
int kube_watch_apply_line(struct kube_watch_applier *a, const char *line, size_t len, char *rv, size_t rv_size,
			  struct kube_change *ret_change, bool *ret_bookmark, struct op_err *err);

#endif
