/* str.h: bounded string helpers for fixed-size buffers.
 *
 * All functions always NUL-terminate (size > 0) and never write past `size`.
 * Truncation is reported (return value) and, for formatted text, made visible
 * with a trailing "..." so a clipped message is never mistaken for a whole one.
 */
#ifndef KEYLESS_STR_H
#define KEYLESS_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macros.h"

/* Copy src into dst. Returns 0, or -ENOSPC when truncated. */
int str_copy(char *dst, size_t size, const char *src);

/* snprintf that marks truncation with "..." (for messages). Returns 0 or -ENOSPC. */
int str_format(char *dst, size_t size, const char *fmt, ...) _printf_(3, 4);

/* vsnprintf that marks truncation with "...". Returns 0 or -ENOSPC. */
int str_vformat_trunc(char *dst, size_t size, const char *fmt, va_list ap);

/* Appending formatter over a fixed buffer:
 *     char out[128]; struct strfmt f = STRFMT_INIT(out, sizeof(out));
 *     strfmt_add(&f, "%s=%d", k, v);
 * Once the buffer is full, further adds are ignored and `truncated` is set;
 * the text ends with "..." in that case. */
struct strfmt {
	char *buf;
	size_t size;
	size_t len;
	bool truncated;
};
#define STRFMT_INIT(b, s) { .buf = (b), .size = (s), .len = 0, .truncated = false }

void strfmt_add(struct strfmt *f, const char *fmt, ...) _printf_(2, 3);

/* Parse a whole string as a base-10 long in [min, max]. Leading/trailing
 * garbage, empty strings and overflow are errors. Returns 0 or -EINVAL/-ERANGE;
 * *ret written only on success. */
int str_to_long(const char *s, long min, long max, long *ret);

/* Parse a Go-style duration ("500ms", "15s", "2m", "1h", "1m30s"; a bare
 * number means seconds) into ns. Returns 0, -EINVAL, or -ERANGE when the
 * value does not fit in 64-bit nanoseconds (about 292 years). */
int str_to_duration_ns(const char *s, int64_t *ret);

/* Levenshtein distance of two strings, capped at `cap` (longer strings than
 * 79 characters: cap): for did-you-mean suggestions. */
size_t str_edit_distance(const char *a, const char *b, size_t cap);

/* True if s starts with prefix. */
bool str_startswith(const char *s, const char *prefix);

/* True if s ends with suffix. */
bool str_endswith(const char *s, const char *suffix);

#endif
