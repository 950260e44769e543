/* buf.h: a growable byte buffer with a hard size cap (after git's strbuf and
 * curl's dynbuf).
 *
 * Every buffer that holds data from the network is a struct buf with a cap:
 * an append that would exceed the cap fails with -E2BIG and leaves the buffer
 * unchanged, so a hostile or broken peer cannot make us allocate without bound.
 * The data is always NUL-terminated (not counted in len), so text can be used
 * as a C string.
 *
 *     struct buf b = BUF_INIT(1 << 20);
 *     buf_append(&b, data, n);
 *     ... b.data, b.len ...
 *     buf_release(&b);
 */
#ifndef KEYLESS_BUF_H
#define KEYLESS_BUF_H

#include <stddef.h>

#include "base/macros.h"

struct buf {
	char *data;   /* NULL until the first append; NUL-terminated after */
	size_t len;   /* bytes used, without the terminator */
	size_t alloc; /* bytes allocated */
	size_t cap;   /* maximum len; 0 means the default cap (BUF_DEFAULT_CAP) */
};

#define BUF_DEFAULT_CAP ((size_t)64 << 20)
#define BUF_INIT(c) { .data = NULL, .len = 0, .alloc = 0, .cap = (c) }

/* Append n bytes. Returns 0, -E2BIG past the cap, -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t n) _warn_unused_;

/* Append a C string. */
int buf_puts(struct buf *b, const char *s) _warn_unused_;

/* Append printf-style text. */
int buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3) _warn_unused_;

/* Drop the first n bytes (n <= len), keeping the rest. */
void buf_consume(struct buf *b, size_t n);

/* Set len to 0, keeping the allocation. */
void buf_reset(struct buf *b);

/* Return the data as a malloc'd NUL-terminated string owned by the caller and
 * reset b to empty (no allocation). Returns NULL-safe "" copy when empty. */
char *buf_detach(struct buf *b);

/* Free the data; b can be reused after. */
void buf_release(struct buf *b);

static inline void buf_releasep(struct buf *b) { buf_release(b); }
#define _cleanup_buf_ _cleanup_(buf_releasep)

#endif
