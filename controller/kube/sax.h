/* sax.h: project Kubernetes objects straight from the JSON byte stream
 * (yajl's streaming parser), without building a JSON tree.
 *
 * Why: the cache keeps a handful of fields per object. Building a full tree
 * with jansson costs ~48 MB/s here (about 20,000 Pod events/s); yajl's
 * streaming parser runs at ~320 MB/s, and a LIST response can be projected
 * item by item as it arrives instead of being held whole in memory.
 *
 * A caller declares the fields it wants as paths of segments ("[]" = any
 * element of an array), e.g. {"spec","containers","[]","env","[]","name"}.
 * While parsing, a per-level bitmask of the fields still possible keeps the
 * work proportional to the fields wanted, not to the document (subtrees such
 * as managedFields are skipped at their first key). Captured scalars (strings,
 * numbers, booleans as "true"/"false"; nulls are skipped) are recorded with
 * their field id and the indices of the arrays on their path.
 *
 * Three framings:
 *   SAX_OBJECT  the document is the object;
 *   SAX_EVENT   a watch event {"type":..., "object":{...}};
 *   SAX_LIST    a LIST response {"metadata":{...}, "items":[{...}, ...]}:
 *               on_object is called at the end of each item.
 * Frame-level values (the event "type", the list's metadata.resourceVersion
 * and metadata.continue, an ERROR event's Status code) are reported too.
 */
#ifndef KEYLESS_KUBE_SAX_H
#define KEYLESS_KUBE_SAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

#define SAX_MAX_SEGS 8
#define SAX_MAX_FIELDS 48

/* A field: path segments, NULL-terminated. */
struct sax_field {
	const char *path[SAX_MAX_SEGS + 1];
};

/* Fields every object gets, at these ids; kind fields follow (id = SAX_KIND_BASE + i). */
enum {
	SAX_F_NAME,
	SAX_F_NAMESPACE,
	SAX_F_UID,
	SAX_F_RESOURCE_VERSION,
	SAX_KIND_BASE,
};

struct sax_value {
	uint16_t field;
	uint16_t idx[2]; /* indices of the first two arrays on the path */
	uint32_t off;    /* into the capture's text */
	uint32_t len;
};

/* What was captured for one object. Values are NUL-terminated in text. */
struct sax_capture {
	struct sax_value *v;
	size_t n, cap;
	struct buf text;
};

/* First value of a field (NULL if absent); *ret_len optional. */
const char *sax_get(const struct sax_capture *c, unsigned field, size_t *ret_len);
static inline const char *sax_str(const struct sax_capture *c, const struct sax_value *v)
{
	return c->text.data + v->off;
}

enum sax_framing { SAX_OBJECT, SAX_EVENT, SAX_LIST };

/* Frame-level information. */
struct sax_frame {
	char type[16];          /* watch event type */
	char resource_version[32]; /* list metadata.resourceVersion */
	char *cont;             /* list metadata.continue (malloc'd), or NULL */
	long status_code;       /* ERROR event object.code */
	char status_reason[64]; /* ERROR event object.reason */
	char status_message[256];
};

struct sax_parser;

/* Called for each object (at its end). Return < 0 to stop parsing. */
typedef int (*sax_object_fn)(const struct sax_capture *cap, const struct sax_frame *frame, void *ctx);

/* kind_fields: the kind's fields (ids SAX_KIND_BASE + i), at most
 * SAX_MAX_FIELDS - SAX_KIND_BASE. max_object: cap on captured bytes per object. */
struct sax_parser *sax_new(enum sax_framing framing, const struct sax_field *kind_fields, size_t n_kind_fields,
			   sax_object_fn fn, void *ctx);
void sax_free(struct sax_parser *p);

/* Feed bytes (any chunking). Returns 0, the callback's value, or -EPROTO
 * with the parser's message in err. */
int sax_feed(struct sax_parser *p, const char *data, size_t len, struct op_err *err);
/* The document is complete. */
int sax_finish(struct sax_parser *p, struct op_err *err);
/* The frame information gathered so far (valid until sax_free/sax_reset). */
const struct sax_frame *sax_frame(struct sax_parser *p);
/* Start a new document (reuse the parser, e.g. one per watch line). */
int sax_reset(struct sax_parser *p);

#endif
