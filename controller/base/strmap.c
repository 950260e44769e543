#include "base/strmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static char tombstone_marker;
#define TOMBSTONE (&tombstone_marker)

uint32_t strmap_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static struct strmap_slot *find(const struct strmap *m, const char *key, uint32_t h)
{
	size_t mask, i;

	if (!m->cap)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct strmap_slot *s = &m->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

void *strmap_get(const struct strmap *m, const char *key)
{
	struct strmap_slot *s = find(m, key, strmap_hash(key));

	return s ? s->value : NULL;
}

bool strmap_contains(const struct strmap *m, const char *key)
{
	return find(m, key, strmap_hash(key)) != NULL;
}

static int resize(struct strmap *m, size_t cap)
{
	struct strmap_slot *old = m->slots, *slots;
	size_t oldcap = m->cap;

	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	m->slots = slots;
	m->cap = cap;
	m->used = m->len;
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (!old[i].key || old[i].key == TOMBSTONE)
			continue;
		for (j = old[i].hash & (cap - 1); slots[j].key; j = (j + 1) & (cap - 1))
			;
		slots[j] = old[i];
	}
	free(old);
	return 0;
}

int strmap_put(struct strmap *m, const char *key, void *value, void **ret_old)
{
	uint32_t h = strmap_hash(key);
	struct strmap_slot *s = find(m, key, h), *tomb = NULL;
	size_t mask, i;
	char *copy;

	if (s) {
		if (ret_old)
			*ret_old = s->value;
		s->value = value;
		return 0;
	}
	if ((m->used + 1) * 4 > m->cap * 3) {
		size_t cap = m->cap ? m->cap : 8;
		int r;

		while ((m->len + 1) * 2 > cap)
			cap *= 2;
		r = resize(m, cap);
		if (r < 0)
			return r;
	}
	copy = strdup(key);
	if (!copy)
		return -ENOMEM;
	mask = m->cap - 1;
	for (i = h & mask; m->slots[i].key; i = (i + 1) & mask) {
		if (m->slots[i].key == TOMBSTONE && !tomb)
			tomb = &m->slots[i];
	}
	s = tomb ? tomb : &m->slots[i];
	if (!tomb)
		m->used++;
	s->key = copy;
	s->value = value;
	s->hash = h;
	m->len++;
	return 1;
}

void *strmap_remove(struct strmap *m, const char *key)
{
	struct strmap_slot *s = find(m, key, strmap_hash(key));
	void *v;

	if (!s)
		return NULL;
	v = s->value;
	free(s->key);
	s->key = TOMBSTONE;
	s->value = NULL;
	m->len--;
	return v;
}

bool strmap_next(const struct strmap *m, size_t *iter, const char **ret_key, void **ret_value)
{
	for (; *iter < m->cap; (*iter)++) {
		struct strmap_slot *s = &m->slots[*iter];

		if (s->key && s->key != TOMBSTONE) {
			if (ret_key)
				*ret_key = s->key;
			if (ret_value)
				*ret_value = s->value;
			(*iter)++;
			return true;
		}
	}
	return false;
}

void strmap_release(struct strmap *m, void (*free_value)(void *))
{
	for (size_t i = 0; i < m->cap; i++) {
		struct strmap_slot *s = &m->slots[i];

		if (s->key && s->key != TOMBSTONE) {
			if (free_value)
				free_value(s->value);
			free(s->key);
		}
	}
	free(m->slots);
	m->slots = NULL;
	m->cap = m->len = m->used = 0;
}
