/* linesplit.h: split a byte stream into newline-terminated lines, for the
 * watch protocol (one JSON object per line, arriving in arbitrary chunks).
 *
 * Bytes are fed as they arrive; each complete line (without the '\n', and
 * without a trailing '\r') is passed to the callback. A partial line is kept
 * until the rest arrives. A line longer than `max_line` is an error (-E2BIG):
 * a broken or hostile peer cannot make us buffer without bound. Lines that fit
 * entirely in one chunk are passed straight from the chunk (no copy).
 */
#ifndef KEYLESS_LINESPLIT_H
#define KEYLESS_LINESPLIT_H

#include <stddef.h>

#include "base/buf.h"

struct linesplit {
	struct buf partial;
	size_t max_line;
};

/* Callback: return 0 to continue, < 0 to stop (returned from ls_feed). */
typedef int (*linesplit_fn)(const char *line, size_t len, void *ctx);

void ls_init(struct linesplit *ls, size_t max_line);
void ls_release(struct linesplit *ls);

/* Feed n bytes. Returns 0, the callback's negative value, or -E2BIG. */
int ls_feed(struct linesplit *ls, const char *data, size_t n, linesplit_fn fn, void *ctx);

/* Bytes of an unfinished line held. */
size_t ls_pending(const struct linesplit *ls);

#endif
