#include "kube/sax.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "base/str.h"

#define MAX_LEVELS 64
#define FRAME_BASE 48 /* frame fields use mask bits 48.. */
#define OBJECT_CAP ((size_t)4 << 20)

enum frame_field { FR_TYPE, FR_CODE, FR_REASON, FR_MESSAGE, FR_LIST_RV, FR_LIST_CONTINUE, FR_COUNT };

static const struct sax_field frame_fields[FR_COUNT] = {
	[FR_TYPE] = { { "type" } },
	[FR_CODE] = { { "object", "code" } },
	[FR_REASON] = { { "object", "reason" } },
	[FR_MESSAGE] = { { "object", "message" } },
	[FR_LIST_RV] = { { "metadata", "resourceVersion" } },
	[FR_LIST_CONTINUE] = { { "metadata", "continue" } },
};

static const struct sax_field common_fields[SAX_KIND_BASE] = {
	[SAX_F_NAME] = { { "metadata", "name" } },
	[SAX_F_NAMESPACE] = { { "metadata", "namespace" } },
	[SAX_F_UID] = { { "metadata", "uid" } },
	[SAX_F_RESOURCE_VERSION] = { { "metadata", "resourceVersion" } },
};

struct level {
	uint64_t mask;   /* fields still possible below this container */
	uint64_t pending; /* map: mask for the value of the last key */
	int32_t index;   /* array: index of the current element */
	uint16_t idx[2]; /* array indices on the path (inside the object) */
	uint8_t nidx;
	bool is_array, is_root, is_items;
	bool pending_object; /* map: the last key was "object" (event framing) */
	bool pending_items;  /* map: the last key was "items" (list framing) */
};

struct sax_parser {
	enum sax_framing framing;
	const struct sax_field *fields[SAX_MAX_FIELDS];
	size_t nfields;
	sax_object_fn fn;
	void *ctx;
	yajl_handle h;
	yajl_callbacks cb;
	struct level stack[MAX_LEVELS];
	int depth;    /* levels in use */
	int overflow; /* levels beyond MAX_LEVELS (not tracked) */
	int root;     /* stack index of the object root map, or -1 */
	bool have_object;
	int cb_result;
	struct sax_capture cap;
	struct sax_frame frame;
};

const char *sax_get(const struct sax_capture *c, unsigned field, size_t *ret_len)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->v[i].field == field) {
			if (ret_len)
				*ret_len = c->v[i].len;
			return c->text.data + c->v[i].off;
		}
	}
	return NULL;
}

static const struct sax_field *field_of(struct sax_parser *p, int bit)
{
	return bit >= FRAME_BASE ? &frame_fields[bit - FRAME_BASE] : p->fields[bit];
}

/* Segment index of the children of stack level l, for a field bit. */
static int seg_index(struct sax_parser *p, int bit, int l)
{
	return bit >= FRAME_BASE ? l : l - p->root;
}

/* Bits of mask whose segment at this level equals (or, for arrays, is "[]") key. */
static uint64_t filter(struct sax_parser *p, uint64_t mask, int l, const char *key, size_t len)
{
	uint64_t out = 0;

	while (mask) {
		int bit = __builtin_ctzll(mask);
		int si = seg_index(p, bit, l);
		const char *seg = si >= 0 && si < SAX_MAX_SEGS ? field_of(p, bit)->path[si] : NULL;

		mask &= mask - 1;
		if (!seg)
			continue;
		if (key ? (strlen(seg) == len && memcmp(seg, key, len) == 0) : streq(seg, "[]"))
			out |= UINT64_C(1) << bit;
	}
	return out;
}

/* Bits of mask whose path ends at this level's children. */
static uint64_t terminal(struct sax_parser *p, uint64_t mask, int l)
{
	uint64_t out = 0;

	while (mask) {
		int bit = __builtin_ctzll(mask);
		int si = seg_index(p, bit, l);

		mask &= mask - 1;
		if (si >= 0 && si + 1 <= SAX_MAX_SEGS && field_of(p, bit)->path[si + 1] == NULL)
			out |= UINT64_C(1) << bit;
	}
	return out;
}

static uint64_t all_object_bits(struct sax_parser *p)
{
	return p->nfields >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << p->nfields) - 1;
}

static uint64_t frame_bits(struct sax_parser *p)
{
	uint64_t m = 0;

	if (p->framing == SAX_EVENT)
		m = (UINT64_C(1) << (FRAME_BASE + FR_TYPE)) | (UINT64_C(1) << (FRAME_BASE + FR_CODE)) |
		    (UINT64_C(1) << (FRAME_BASE + FR_REASON)) | (UINT64_C(1) << (FRAME_BASE + FR_MESSAGE));
	else if (p->framing == SAX_LIST)
		m = (UINT64_C(1) << (FRAME_BASE + FR_LIST_RV)) | (UINT64_C(1) << (FRAME_BASE + FR_LIST_CONTINUE));
	return m;
}

static void capture_reset(struct sax_capture *c)
{
	c->n = 0;
	buf_reset(&c->text);
}

static int record(struct sax_parser *p, uint64_t bits, const struct level *at, const char *val, size_t len)
{
	while (bits) {
		int bit = __builtin_ctzll(bits);

		bits &= bits - 1;
		if (bit >= FRAME_BASE) {
			struct sax_frame *f = &p->frame;

			switch (bit - FRAME_BASE) {
			case FR_TYPE:
				snprintf(f->type, sizeof(f->type), "%.*s", (int)len, val);
				break;
			case FR_CODE:
				f->status_code = strtol(val, NULL, 10);
				break;
			case FR_REASON:
				snprintf(f->status_reason, sizeof(f->status_reason), "%.*s", (int)len, val);
				break;
			case FR_MESSAGE:
				snprintf(f->status_message, sizeof(f->status_message), "%.*s", (int)len, val);
				break;
			case FR_LIST_RV:
				snprintf(f->resource_version, sizeof(f->resource_version), "%.*s", (int)len, val);
				break;
			case FR_LIST_CONTINUE:
				free(f->cont);
				f->cont = strndup(val, len);
				break;
			}
			continue;
		}
		if (p->cap.n == p->cap.cap) {
			size_t ncap = p->cap.cap ? p->cap.cap * 2 : 32;
			struct sax_value *nv = realloc(p->cap.v, ncap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			p->cap.v = nv;
			p->cap.cap = ncap;
		}
		p->cap.v[p->cap.n] = (struct sax_value){ .field = (uint16_t)bit, .idx = { at->idx[0], at->idx[1] },
							 .off = (uint32_t)p->cap.text.len, .len = (uint32_t)len };
		if (buf_append(&p->cap.text, val, len) < 0 || buf_append(&p->cap.text, "", 1) < 0)
			return -E2BIG;
		p->cap.n++;
	}
	return 0;
}

/* The mask for a new value at the current position, advancing array indices. */
static uint64_t value_mask(struct sax_parser *p, struct level *child_idx_out)
{
	struct level *top;

	if (p->overflow || p->depth == 0) {
		if (child_idx_out)
			memset(child_idx_out, 0, sizeof(*child_idx_out));
		return 0;
	}
	top = &p->stack[p->depth - 1];
	if (child_idx_out) {
		memcpy(child_idx_out->idx, top->idx, sizeof(top->idx));
		child_idx_out->nidx = top->nidx;
	}
	if (!top->is_array)
		return top->pending;
	top->index++;
	if (child_idx_out && p->root >= 0 && p->depth - 1 > p->root && child_idx_out->nidx < 2)
		child_idx_out->idx[child_idx_out->nidx++] = (uint16_t)(top->index > 65535 ? 65535 : top->index);
	return filter(p, top->mask, p->depth - 1, NULL, 0);
}

static int on_scalar(struct sax_parser *p, const char *val, size_t len)
{
	struct level at;
	uint64_t m = value_mask(p, &at);

	if (!m)
		return 1;
	m = terminal(p, m, p->depth - 1);
	if (m && record(p, m, &at, val, len) < 0) {
		p->cb_result = -E2BIG;
		return 0;
	}
	return 1;
}

static int cb_string(void *ud, const unsigned char *s, size_t len)
{
	return on_scalar(ud, (const char *)s, len);
}

static int cb_number(void *ud, const char *s, size_t len)
{
	return on_scalar(ud, s, len);
}

static int cb_boolean(void *ud, int b)
{
	return on_scalar(ud, b ? "true" : "false", b ? 4 : 5);
}

static int cb_null(void *ud)
{
	struct sax_parser *p = ud;

	value_mask(p, NULL); /* advance the array index; nulls are not captured */
	return 1;
}

static int push(struct sax_parser *p, bool is_array)
{
	struct level child = { 0 };
	struct level *parent = p->depth ? &p->stack[p->depth - 1] : NULL;
	uint64_t m;

	if (p->overflow || p->depth == MAX_LEVELS) {
		p->overflow++;
		return 1;
	}
	m = parent ? value_mask(p, &child) : frame_bits(p);
	child.is_array = is_array;
	child.index = -1;
	if (!is_array) {
		bool root = false;

		if (p->framing == SAX_OBJECT && p->depth == 0)
			root = true;
		else if (p->framing == SAX_EVENT && p->depth == 1 && parent->pending_object)
			root = true;
		else if (p->framing == SAX_LIST && p->depth == 2 && parent->is_items)
			root = true;
		if (root) {
			p->root = p->depth;
			child.is_root = true;
			child.nidx = 0;
			m = (m & ~all_object_bits(p)) | all_object_bits(p);
			capture_reset(&p->cap);
		}
	} else if (p->framing == SAX_LIST && p->depth == 1 && parent->pending_items) {
		child.is_items = true;
	}
	child.mask = m;
	p->stack[p->depth++] = child;
	return 1;
}

static int cb_start_map(void *ud)
{
	return push(ud, false);
}

static int cb_start_array(void *ud)
{
	return push(ud, true);
}

static int cb_map_key(void *ud, const unsigned char *key, size_t len)
{
	struct sax_parser *p = ud;
	struct level *top;

	if (p->overflow)
		return 1;
	top = &p->stack[p->depth - 1];
	top->pending = filter(p, top->mask, p->depth - 1, (const char *)key, len);
	top->pending_object = p->depth == 1 && len == 6 && memcmp(key, "object", 6) == 0;
	top->pending_items = p->depth == 1 && len == 5 && memcmp(key, "items", 5) == 0;
	return 1;
}

static int pop(struct sax_parser *p)
{
	struct level l;

	if (p->overflow) {
		p->overflow--;
		return 1;
	}
	l = p->stack[--p->depth];
	if (l.is_root) {
		p->root = -1;
		p->have_object = true;
		if (p->framing != SAX_EVENT) {
			int r = p->fn(&p->cap, &p->frame, p->ctx);

			if (r < 0) {
				p->cb_result = r;
				return 0;
			}
		}
	}
	if (p->depth == 0 && p->framing == SAX_EVENT && p->have_object) {
		int r = p->fn(&p->cap, &p->frame, p->ctx);

		if (r < 0) {
			p->cb_result = r;
			return 0;
		}
	}
	return 1;
}

static int cb_end(void *ud)
{
	return pop(ud);
}

static int new_handle(struct sax_parser *p)
{
	p->h = yajl_alloc(&p->cb, NULL, p);
	return p->h ? 0 : -ENOMEM;
}

struct sax_parser *sax_new(enum sax_framing framing, const struct sax_field *kind_fields, size_t n_kind_fields,
			   sax_object_fn fn, void *ctx)
{
	struct sax_parser *p;

	if (SAX_KIND_BASE + n_kind_fields > SAX_MAX_FIELDS)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->framing = framing;
	for (size_t i = 0; i < SAX_KIND_BASE; i++)
		p->fields[i] = &common_fields[i];
	for (size_t i = 0; i < n_kind_fields; i++)
		p->fields[SAX_KIND_BASE + i] = &kind_fields[i];
	p->nfields = SAX_KIND_BASE + n_kind_fields;
	p->fn = fn;
	p->ctx = ctx;
	p->cap.text = (struct buf)BUF_INIT(OBJECT_CAP);
	p->cb = (yajl_callbacks){
		.yajl_null = cb_null,
		.yajl_boolean = cb_boolean,
		.yajl_number = cb_number,
		.yajl_string = cb_string,
		.yajl_start_map = cb_start_map,
		.yajl_map_key = cb_map_key,
		.yajl_end_map = cb_end,
		.yajl_start_array = cb_start_array,
		.yajl_end_array = cb_end,
	};
	p->root = -1;
	if (new_handle(p) < 0) {
		sax_free(p);
		return NULL;
	}
	return p;
}

void sax_free(struct sax_parser *p)
{
	if (!p)
		return;
	if (p->h)
		yajl_free(p->h);
	free(p->cap.v);
	buf_release(&p->cap.text);
	free(p->frame.cont);
	free(p);
}

int sax_reset(struct sax_parser *p)
{
	yajl_free(p->h);
	p->h = NULL;
	p->depth = p->overflow = 0;
	p->root = -1;
	p->have_object = false;
	p->cb_result = 0;
	free(p->frame.cont);
	memset(&p->frame, 0, sizeof(p->frame));
	capture_reset(&p->cap);
	return new_handle(p);
}

const struct sax_frame *sax_frame(struct sax_parser *p)
{
	return &p->frame;
}

static int status_to_err(struct sax_parser *p, yajl_status st, const char *data, size_t len, struct op_err *err)
{
	unsigned char *msg;

	if (st == yajl_status_ok)
		return 0;
	if (st == yajl_status_client_canceled)
		return p->cb_result ? p->cb_result : -ECANCELED;
	msg = yajl_get_error(p->h, 0, (const unsigned char *)data, len);
	op_err_set(err, -EPROTO, "invalid JSON: %s", msg ? (const char *)msg : "parse error");
	if (msg)
		yajl_free_error(p->h, msg);
	return -EPROTO;
}

int sax_feed(struct sax_parser *p, const char *data, size_t len, struct op_err *err)
{
	return status_to_err(p, yajl_parse(p->h, (const unsigned char *)data, len), data, len, err);
}

int sax_finish(struct sax_parser *p, struct op_err *err)
{
	return status_to_err(p, yajl_complete_parse(p->h), NULL, 0, err);
}
