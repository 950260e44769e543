/* cache.h: a lean, indexed, thread-safe store of projected objects of one kind.
 *
 * The cache keeps a *projection* of each object, not the object: the fields
 * reconcile needs, in a fixed-size struct that starts with struct kobj (the
 * common header: namespace, name, uid, index value) followed by kind fields
 * (struct kube_kind says which JSON fields to capture and how to fill,
 * compare and release the projection). Objects arrive as captures from the
 * streaming parser (kube/sax.h), never as whole JSON trees. Repeated
 * strings (namespaces, service-account names, owner names, role ARNs) are
 * interned: stored once, reference-counted. Objects are found by namespace/
 * name (hash table) and by (namespace, index value) through an index whose
 * buckets are intrusive lists (e.g. pods by serviceAccountName).
 *
 * Writers (the informer's watch thread) call kube_cache_upsert/_delete/
 * _sweep, which return what changed (struct kube_change) so the caller can
 * notify handlers after the lock is released. Readers take the read lock:
 *
 *     kube_cache_rdlock(c);
 *     for (o = kube_cache_index_first(c, ns, sa); o; o = kube_cache_index_next(o)) ...
 *     kube_cache_rdunlock(c);
 *
 * Pointers returned by lookups are valid only while the read lock is held.
 */
#ifndef KEYLESS_KUBE_CACHE_H
#define KEYLESS_KUBE_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kube/sax.h"

struct kube_cache;

/* An interned string: compare interned strings by pointer. */
struct istr {
	uint32_t refs;
	uint32_t hash;
	uint32_t len;
	char s[];
};

/* Common header of every projection: 64 bytes. The name follows the kind's
 * struct (kobj_name), NUL-terminated. */
struct kobj {
	struct kobj *hnext;         /* hash chain (cache-private) */
	struct kobj *inext, *iprev; /* index bucket list (cache-private) */
	const struct istr *ns;      /* "" for cluster-scoped objects */
	const struct istr *idx;     /* index value within ns, or NULL */
	uint32_t hash;
	uint32_t mark;              /* relist generation of the last upsert (cache-private) */
	uint8_t uid[16];            /* metadata.uid as 16 bytes (zeros if not a UUID) */
};

/* How to project one kind. */
struct kube_kind {
	const char *name;  /* "pods", for messages */
	size_t size;       /* sizeof the projection struct (>= sizeof(struct kobj)) */
	/* The fields to capture (their ids are SAX_KIND_BASE + index). */
	const struct sax_field *fields;
	size_t nfields;
	/* Optional: how many bytes the kind keeps after the name (kobj_tail), for
	 * strings of its own that interning would not share: 0 for none. */
	size_t (*tail_size)(const struct sax_capture *cap);
	/* Fill the kind fields of p from the capture (the header is already set;
	 * intern strings with kube_cache_intern, set p->idx if the kind is
	 * indexed; kobj_tail has tail_size bytes). Return < 0 to reject the
	 * object (it is then not stored). */
	int (*project)(struct kube_cache *c, const struct sax_capture *cap, struct kobj *p);
	/* Release the kind fields (unintern); may be NULL if nothing to release. */
	void (*release)(struct kube_cache *c, struct kobj *p);
	/* Equal projections: an update that changes nothing we keep is no change. */
	bool (*equal)(const struct kobj *a, const struct kobj *b);
};

enum kube_change_type {
	KUBE_CHANGE_NONE,
	KUBE_CHANGE_ADDED,
	KUBE_CHANGE_UPDATED,
	KUBE_CHANGE_DELETED,
	KUBE_CHANGE_RESYNC,
};

/* What a write did, with owned copies of the keys so handlers can run after
 * the lock is released. Release with kube_change_release. */
struct kube_change {
	enum kube_change_type type;
	char *ns;
	char *name;
	char *idx;     /* index value after the change (NULL if none / deleted) */
	char *old_idx; /* before (NULL if none / added) */
};

struct kube_cache *kube_cache_new(const struct kube_kind *kind);
void kube_cache_free(struct kube_cache *c);

const struct kube_kind *kube_cache_kind(const struct kube_cache *c);

/* --- writers (take the write lock inside) --- */

/* Insert or replace from a capture of the kind's fields. *ret_change tells
 * what happened (NONE if the projection did not change). Returns 0, -EINVAL
 * if the object has no name, or the kind's rejection. */
int kube_cache_upsert(struct kube_cache *c, const struct sax_capture *cap, struct kube_change *ret_change);

/* Convenience for tests and rare paths: project a jansson object (it is
 * serialized and streamed through the same parser). */
int kube_cache_upsert_json(struct kube_cache *c, json_t *obj, struct kube_change *ret_change);

/* Remove ns/name. ret_change->type is DELETED or NONE. */
int kube_cache_delete(struct kube_cache *c, const char *ns, const char *name, struct kube_change *ret_change);

/* Relist support: kube_cache_begin_relist() before upserting the whole list,
 * then kube_cache_sweep() removes every object not upserted since the last
 * begin_relist, calling fn for each deletion (outside the lock). Returns the
 * number removed. Each begin_relist starts a new generation, so attempts
 * that failed before the one that is swept change nothing. */
void kube_cache_begin_relist(struct kube_cache *c);
size_t kube_cache_sweep(struct kube_cache *c, void (*fn)(const struct kube_change *ch, void *ctx), void *ctx);

void kube_change_release(struct kube_change *ch);

/* For kind projectors: intern s[0..len) (len (size_t)-1 = strlen). Returns
 * NULL on allocation failure. Call only from project() (write lock held). */
const struct istr *kube_cache_intern(struct kube_cache *c, const char *s, size_t len);
void kube_cache_unintern(struct kube_cache *c, const struct istr *s);

/* --- readers --- */

void kube_cache_rdlock(struct kube_cache *c);
void kube_cache_rdunlock(struct kube_cache *c);

const char *kobj_name(const struct kube_cache *c, const struct kobj *o);
/* The kind's bytes after the name (kube_kind.tail_size). */
char *kobj_tail(const struct kube_cache *c, struct kobj *o);
const struct kobj *kube_cache_get(struct kube_cache *c, const char *ns, const char *name);
const struct kobj *kube_cache_index_first(struct kube_cache *c, const char *ns, const char *idx);
const struct kobj *kube_cache_index_next(const struct kobj *o);
/* The number of objects; takes the read lock itself (do not hold it). */
size_t kube_cache_len(struct kube_cache *c);
size_t kube_cache_index_count(struct kube_cache *c, const char *ns, const char *idx);

/* Visit every object (read lock held by the caller). Stop when fn returns < 0. */
int kube_cache_foreach(struct kube_cache *c, int (*fn)(const struct kobj *o, void *ctx), void *ctx);

/* Parse a UUID string into 16 bytes (0 or -EINVAL); format back (37 bytes). */
int kube_uid_parse(const char *s, uint8_t out[16]);
void kube_uid_format(const uint8_t uid[16], char out[37]);

#endif
