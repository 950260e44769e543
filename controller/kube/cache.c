#include "kube/cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macros.h"

/* Interned strings live in a chained hash table; the chain pointer sits in
 * front of the public struct istr. */
struct istr_node {
	struct istr_node *next;
	struct istr str;
};

/* 40 bytes: a 48-byte malloc chunk (one per service account in use, and
 * one per WorkloadIdentity's service account). */
struct ibucket {
	struct ibucket *next;
	const struct istr *ns, *idx;
	struct kobj *head;
	uint32_t count;
	uint32_t hash;
};

struct kube_cache {
	pthread_rwlock_t lock;
	const struct kube_kind *kind;
	struct kobj **tab;
	size_t ntab, len;
	struct istr_node **itab;
	size_t nitab, ilen;
	struct ibucket **btab;
	size_t nbtab, blen;
	uint32_t generation; /* relist generation: +1 per kube_cache_begin_relist */
};

static uint32_t fnv(uint32_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

#define FNV_INIT 2166136261u

static uint32_t key_hash(const char *ns, size_t nslen, const char *name, size_t namelen)
{
	uint32_t h = fnv(FNV_INIT, ns, nslen);

	h = fnv(h, "/", 1);
	return fnv(h, name, namelen);
}

static uint32_t ptr_hash(const void *a, const void *b)
{
	uint64_t x = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)b * 0xc2b2ae3d27d4eb4fULL;

	return (uint32_t)(x ^ (x >> 32));
}

/* Grow a chained table when it holds more than `load` entries per slot. */
#define GROW(tab, ntab, len, load, type, next_field, hash_of)                                                \
	do {                                                                                                 \
		if ((len) >= (ntab) * (load)) {                                                              \
			size_t nn = (ntab) ? (ntab) * 2 : 64;                                                \
			type **nt = calloc(nn, sizeof(*nt));                                                 \
			if (nt) {                                                                            \
				for (size_t i_ = 0; i_ < (ntab); i_++) {                                     \
					type *e_ = (tab)[i_], *n_;                                           \
					for (; e_; e_ = n_) {                                                \
						n_ = e_->next_field;                                         \
						e_->next_field = nt[(hash_of(e_)) & (nn - 1)];               \
						nt[(hash_of(e_)) & (nn - 1)] = e_;                           \
					}                                                                    \
				}                                                                            \
				free(tab);                                                                   \
				(tab) = nt;                                                                  \
				(ntab) = nn;                                                                 \
			}                                                                                    \
		}                                                                                            \
	} while (0)

/* Objects per slot of the object table before it doubles: 2 keeps chains
 * short (1.5 objects on average when full) at half the table of 1. */
#define OBJ_LOAD 2

#define KOBJ_HASH(o) ((o)->hash)
#define ISTR_HASH(n) ((n)->str.hash)
#define IB_HASH(b) ((b)->hash)

struct kube_cache *kube_cache_new(const struct kube_kind *kind)
{
	struct kube_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	pthread_rwlock_init(&c->lock, NULL);
	c->kind = kind;
	return c;
}

const struct kube_kind *kube_cache_kind(const struct kube_cache *c)
{
	return c->kind;
}

const char *kobj_name(const struct kube_cache *c, const struct kobj *o)
{
	return (const char *)o + c->kind->size;
}

char *kobj_tail(const struct kube_cache *c, struct kobj *o)
{
	char *name = (char *)o + c->kind->size;

	return name + strlen(name) + 1;
}

/* --- interning ------------------------------------------------------------- */

static struct istr_node *istr_find(struct kube_cache *c, const char *s, size_t len, uint32_t h)
{
	if (!c->nitab)
		return NULL;
	for (struct istr_node *n = c->itab[h & (c->nitab - 1)]; n; n = n->next) {
		if (n->str.hash == h && n->str.len == len && memcmp(n->str.s, s, len) == 0)
			return n;
	}
	return NULL;
}

const struct istr *kube_cache_intern(struct kube_cache *c, const char *s, size_t len)
{
	struct istr_node *n;
	uint32_t h;

	if (len == (size_t)-1)
		len = strlen(s);
	h = fnv(FNV_INIT, s, len);
	n = istr_find(c, s, len, h);
	if (n) {
		n->str.refs++;
		return &n->str;
	}
	GROW(c->itab, c->nitab, c->ilen, 1, struct istr_node, next, ISTR_HASH);
	if (!c->nitab)
		return NULL;
	n = malloc(sizeof(*n) + len + 1);
	if (!n)
		return NULL;
	n->str.refs = 1;
	n->str.hash = h;
	n->str.len = (uint32_t)len;
	memcpy(n->str.s, s, len);
	n->str.s[len] = '\0';
	n->next = c->itab[h & (c->nitab - 1)];
	c->itab[h & (c->nitab - 1)] = n;
	c->ilen++;
	return &n->str;
}

void kube_cache_unintern(struct kube_cache *c, const struct istr *s)
{
	struct istr_node *node, **pp;

	if (!s || --((struct istr *)s)->refs > 0)
		return;
	node = (struct istr_node *)((char *)s - offsetof(struct istr_node, str));
	for (pp = &c->itab[s->hash & (c->nitab - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == node) {
			*pp = node->next;
			break;
		}
	}
	c->ilen--;
	free(node);
}

static const struct istr *istr_lookup(struct kube_cache *c, const char *s)
{
	size_t len = strlen(s);
	struct istr_node *n = istr_find(c, s, len, fnv(FNV_INIT, s, len));

	return n ? &n->str : NULL;
}

/* --- index ------------------------------------------------------------------- */

static struct ibucket *bucket_find(struct kube_cache *c, const struct istr *ns, const struct istr *idx)
{
	uint32_t h = ptr_hash(ns, idx);

	if (!c->nbtab)
		return NULL;
	for (struct ibucket *b = c->btab[h & (c->nbtab - 1)]; b; b = b->next) {
		if (b->ns == ns && b->idx == idx)
			return b;
	}
	return NULL;
}

static int index_add(struct kube_cache *c, struct kobj *o)
{
	struct ibucket *b;

	if (!o->idx)
		return 0;
	b = bucket_find(c, o->ns, o->idx);
	if (!b) {
		GROW(c->btab, c->nbtab, c->blen, 1, struct ibucket, next, IB_HASH);
		b = calloc(1, sizeof(*b));
		if (!b || !c->nbtab) {
			free(b);
			return -ENOMEM;
		}
		b->ns = o->ns;
		b->idx = o->idx;
		b->hash = ptr_hash(o->ns, o->idx);
		b->next = c->btab[b->hash & (c->nbtab - 1)];
		c->btab[b->hash & (c->nbtab - 1)] = b;
		c->blen++;
	}
	o->iprev = NULL;
	o->inext = b->head;
	if (b->head)
		b->head->iprev = o;
	b->head = o;
	b->count++;
	return 0;
}

static void index_remove(struct kube_cache *c, struct kobj *o)
{
	struct ibucket *b, **pp;

	if (!o->idx)
		return;
	b = bucket_find(c, o->ns, o->idx);
	if (!b)
		return;
	if (o->iprev)
		o->iprev->inext = o->inext;
	else
		b->head = o->inext;
	if (o->inext)
		o->inext->iprev = o->iprev;
	o->inext = o->iprev = NULL;
	if (--b->count > 0)
		return;
	for (pp = &c->btab[b->hash & (c->nbtab - 1)]; *pp; pp = &(*pp)->next) {
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	}
	c->blen--;
	free(b);
}

/* --- objects ---------------------------------------------------------------- */

static struct kobj *obj_find(struct kube_cache *c, const char *ns, size_t nslen, const char *name, size_t namelen,
			     uint32_t h, struct kobj ***ret_pp)
{
	struct kobj **pp;

	if (!c->ntab)
		return NULL;
	for (pp = &c->tab[h & (c->ntab - 1)]; *pp; pp = &(*pp)->hnext) {
		struct kobj *o = *pp;

		const char *oname = kobj_name(c, o);

		/* the stored name is NUL-terminated: strncmp stops at its end */
		if (o->hash == h && o->ns->len == nslen && strncmp(oname, name, namelen) == 0 &&
		    oname[namelen] == '\0' && memcmp(o->ns->s, ns, nslen) == 0) {
			if (ret_pp)
				*ret_pp = pp;
			return o;
		}
	}
	return NULL;
}

static void obj_release(struct kube_cache *c, struct kobj *o)
{
	if (c->kind->release)
		c->kind->release(c, o);
	kube_cache_unintern(c, o->idx);
	kube_cache_unintern(c, o->ns);
	free(o);
}

static int change_fill(struct kube_change *ch, enum kube_change_type t, const char *ns, const char *name,
		       const struct istr *idx, const struct istr *old_idx)
{
	ch->type = t;
	ch->ns = strdup(ns);
	ch->name = strdup(name);
	ch->idx = idx ? strdup(idx->s) : NULL;
	ch->old_idx = old_idx ? strdup(old_idx->s) : NULL;
	if (!ch->ns || !ch->name || (idx && !ch->idx) || (old_idx && !ch->old_idx)) {
		kube_change_release(ch);
		return -ENOMEM;
	}
	return 0;
}

void kube_change_release(struct kube_change *ch)
{
	free(ch->ns);
	free(ch->name);
	free(ch->idx);
	free(ch->old_idx);
	memset(ch, 0, sizeof(*ch));
}

int kube_uid_parse(const char *s, uint8_t out[16])
{
	uint8_t tmp[16];
	int n = 0;

	for (const char *p = s; *p; p++) {
		int v;

		if (*p == '-')
			continue;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			return -EINVAL;
		if (n >= 32)
			return -EINVAL;
		if (n % 2 == 0)
			tmp[n / 2] = (uint8_t)(v << 4);
		else
			tmp[n / 2] |= (uint8_t)v;
		n++;
	}
	if (n != 32)
		return -EINVAL;
	memcpy(out, tmp, 16);
	return 0;
}

void kube_uid_format(const uint8_t uid[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int j = 0;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[uid[i] >> 4];
		out[j++] = hex[uid[i] & 15];
	}
	out[j] = '\0';
}

int kube_cache_upsert(struct kube_cache *c, const struct sax_capture *cap, struct kube_change *ret_change)
{
	const char *name = sax_get(cap, SAX_F_NAME, NULL);
	const char *ns = sax_get(cap, SAX_F_NAMESPACE, NULL);
	const char *uid = sax_get(cap, SAX_F_UID, NULL);
	struct kobj *o, *old, **pp = NULL;
	size_t nslen, namelen, tail;
	int r;

	memset(ret_change, 0, sizeof(*ret_change));
	if (!name || !*name)
		return -EINVAL;
	ns = ns ? ns : "";
	nslen = strlen(ns);
	namelen = strlen(name);
	tail = c->kind->tail_size ? c->kind->tail_size(cap) : 0;
	if (namelen > UINT16_MAX || tail > UINT16_MAX)
		return -EINVAL;
	o = calloc(1, c->kind->size + namelen + 1 + tail);
	if (!o)
		return -ENOMEM;
	memcpy((char *)o + c->kind->size, name, namelen + 1);
	o->hash = key_hash(ns, nslen, name, namelen);
	if (uid)
		kube_uid_parse(uid, o->uid);

	pthread_rwlock_wrlock(&c->lock);
	o->ns = kube_cache_intern(c, ns, nslen);
	if (!o->ns) {
		r = -ENOMEM;
		goto fail;
	}
	r = c->kind->project(c, cap, o);
	if (r < 0)
		goto fail;
	o->mark = c->generation;
	old = obj_find(c, ns, nslen, name, namelen, o->hash, &pp);
	if (old && old->idx == o->idx && memcmp(old->uid, o->uid, 16) == 0 && c->kind->equal(old, o)) {
		old->mark = c->generation;
		obj_release(c, o);
		pthread_rwlock_unlock(&c->lock);
		return 0;
	}
	r = change_fill(ret_change, old ? KUBE_CHANGE_UPDATED : KUBE_CHANGE_ADDED, ns, name, o->idx,
			old ? old->idx : NULL);
	if (r < 0)
		goto fail;
	if (old) {
		*pp = old->hnext;
		index_remove(c, old);
		obj_release(c, old);
		c->len--;
	}
	GROW(c->tab, c->ntab, c->len, OBJ_LOAD, struct kobj, hnext, KOBJ_HASH);
	if (!c->ntab || index_add(c, o) < 0) {
		kube_change_release(ret_change);
		r = -ENOMEM;
		goto fail;
	}
	o->hnext = c->tab[o->hash & (c->ntab - 1)];
	c->tab[o->hash & (c->ntab - 1)] = o;
	c->len++;
	pthread_rwlock_unlock(&c->lock);
	return 0;
fail:
	obj_release(c, o);
	pthread_rwlock_unlock(&c->lock);
	return r;
}

int kube_cache_delete(struct kube_cache *c, const char *ns, const char *name, struct kube_change *ret_change)
{
	size_t nslen = strlen(ns ? ns : ""), namelen = strlen(name);
	struct kobj *o, **pp = NULL;
	int r = 0;

	memset(ret_change, 0, sizeof(*ret_change));
	ns = ns ? ns : "";
	pthread_rwlock_wrlock(&c->lock);
	o = obj_find(c, ns, nslen, name, namelen, key_hash(ns, nslen, name, namelen), &pp);
	if (o) {
		r = change_fill(ret_change, KUBE_CHANGE_DELETED, ns, name, NULL, o->idx);
		*pp = o->hnext;
		index_remove(c, o);
		obj_release(c, o);
		c->len--;
	}
	pthread_rwlock_unlock(&c->lock);
	return r;
}

void kube_cache_begin_relist(struct kube_cache *c)
{
	pthread_rwlock_wrlock(&c->lock);
	c->generation++; /* wraps after 2^32 relists: harmless, only equality counts */
	pthread_rwlock_unlock(&c->lock);
}

size_t kube_cache_sweep(struct kube_cache *c, void (*fn)(const struct kube_change *ch, void *ctx), void *ctx)
{
	struct kube_change *changes = NULL;
	size_t n = 0, cap = 0;

	pthread_rwlock_wrlock(&c->lock);
	for (size_t i = 0; i < c->ntab; i++) {
		struct kobj **pp = &c->tab[i];

		while (*pp) {
			struct kobj *o = *pp;

			if (o->mark == c->generation) {
				pp = &o->hnext;
				continue;
			}
			if (n == cap) {
				struct kube_change *nc = realloc(changes, (cap ? cap * 2 : 16) * sizeof(*nc));

				if (nc) {
					changes = nc;
					cap = cap ? cap * 2 : 16;
				}
			}
			if (n < cap && change_fill(&changes[n], KUBE_CHANGE_DELETED, o->ns->s, kobj_name(c, o), NULL,
						   o->idx) == 0)
				n++;
			*pp = o->hnext;
			index_remove(c, o);
			obj_release(c, o);
			c->len--;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	for (size_t i = 0; i < n; i++) {
		if (fn)
			fn(&changes[i], ctx);
		kube_change_release(&changes[i]);
	}
	free(changes);
	return n;
}

void kube_cache_rdlock(struct kube_cache *c)
{
	pthread_rwlock_rdlock(&c->lock);
}

void kube_cache_rdunlock(struct kube_cache *c)
{
	pthread_rwlock_unlock(&c->lock);
}

const struct kobj *kube_cache_get(struct kube_cache *c, const char *ns, const char *name)
{
	size_t nslen = strlen(ns ? ns : ""), namelen = strlen(name);

	ns = ns ? ns : "";
	return obj_find(c, ns, nslen, name, namelen, key_hash(ns, nslen, name, namelen), NULL);
}

const struct kobj *kube_cache_index_first(struct kube_cache *c, const char *ns, const char *idx)
{
	const struct istr *ins = istr_lookup(c, ns ? ns : ""), *iidx = istr_lookup(c, idx);
	struct ibucket *b;

	if (!ins || !iidx)
		return NULL;
	b = bucket_find(c, ins, iidx);
	return b ? b->head : NULL;
}

const struct kobj *kube_cache_index_next(const struct kobj *o)
{
	return o->inext;
}

size_t kube_cache_index_count(struct kube_cache *c, const char *ns, const char *idx)
{
	const struct istr *ins = istr_lookup(c, ns ? ns : ""), *iidx = istr_lookup(c, idx);
	struct ibucket *b;

	if (!ins || !iidx)
		return 0;
	b = bucket_find(c, ins, iidx);
	return b ? b->count : 0;
}

size_t kube_cache_len(struct kube_cache *c)
{
	size_t n;

	/* under the lock: an informer thread may be upserting (a data race
	 * ThreadSanitizer found) */
	kube_cache_rdlock(c);
	n = c->len;
	kube_cache_rdunlock(c);
	return n;
}

int kube_cache_foreach(struct kube_cache *c, int (*fn)(const struct kobj *o, void *ctx), void *ctx)
{
	for (size_t i = 0; i < c->ntab; i++) {
		for (struct kobj *o = c->tab[i]; o; o = o->hnext) {
			int r = fn(o, ctx);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

void kube_cache_free(struct kube_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ntab; i++) {
		struct kobj *o = c->tab[i], *n;

		for (; o; o = n) {
			n = o->hnext;
			index_remove(c, o);
			obj_release(c, o);
		}
	}
	free(c->tab);
	free(c->btab);
	for (size_t i = 0; i < c->nitab; i++) {
		struct istr_node *n = c->itab[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(c->itab);
	pthread_rwlock_destroy(&c->lock);
	free(c);
}

struct upsert_json_ctx {
	struct kube_cache *c;
	struct kube_change *ch;
	int r;
};

static int upsert_cb(const struct sax_capture *cap, const struct sax_frame *frame, void *ud)
{
	struct upsert_json_ctx *u = ud;

	(void)frame;
	u->r = kube_cache_upsert(u->c, cap, u->ch);
	return 0;
}

int kube_cache_upsert_json(struct kube_cache *c, json_t *obj, struct kube_change *ret_change)
{
	struct upsert_json_ctx u = { .c = c, .ch = ret_change, .r = -EINVAL };
	_cleanup_free_ char *text = json_dumps(obj, JSON_COMPACT);
	struct sax_parser *p;
	struct op_err err;
	int r;

	memset(ret_change, 0, sizeof(*ret_change));
	if (!text)
		return -ENOMEM;
	p = sax_new(SAX_OBJECT, c->kind->fields, c->kind->nfields, upsert_cb, &u);
	if (!p)
		return -ENOMEM;
	r = sax_feed(p, text, strlen(text), &err);
	if (r >= 0)
		r = sax_finish(p, &err);
	sax_free(p);
	return r < 0 ? r : u.r;
}
