/* strmap.h: a hash map from C strings to pointers (open addressing, linear
 * probing, tombstones). Keys are copied and owned by the map; values are
 * borrowed (the map never frees them unless strmap_release is given a free
 * function). Not thread-safe: callers lock.
 *
 *     struct strmap m = STRMAP_INIT;
 *     strmap_put(&m, "ns/name", obj, NULL);
 *     obj = strmap_get(&m, "ns/name");
 *     strmap_release(&m, free);
 */
#ifndef KEYLESS_STRMAP_H
#define KEYLESS_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
	char *key; /* NULL = empty; STRMAP_TOMBSTONE = deleted */
	void *value;
	uint32_t hash;
};

struct strmap {
	struct strmap_slot *slots;
	size_t cap;  /* power of two, or 0 */
	size_t len;  /* live entries */
	size_t used; /* live + tombstones */
};

#define STRMAP_INIT { NULL, 0, 0, 0 }

/* FNV-1a, 32-bit. */
uint32_t strmap_hash(const char *s);

/* Value for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
bool strmap_contains(const struct strmap *m, const char *key);

/* Insert or replace. If replaced and ret_old is non-NULL, *ret_old gets the
 * previous value. Returns 1 if inserted, 0 if replaced, -ENOMEM. */
int strmap_put(struct strmap *m, const char *key, void *value, void **ret_old);

/* Remove key; returns its value (or NULL if absent). */
void *strmap_remove(struct strmap *m, const char *key);

/* Iterate: for (size_t i = 0; strmap_next(m, &i, &k, &v);) ... Removing the
 * current entry during iteration is allowed; inserting is not. */
bool strmap_next(const struct strmap *m, size_t *iter, const char **ret_key, void **ret_value);

/* Free all keys (and values with free_value unless NULL). */
void strmap_release(struct strmap *m, void (*free_value)(void *));

#endif
