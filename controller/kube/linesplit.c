#include "kube/linesplit.h"

#include <errno.h>
#include <string.h>

void ls_init(struct linesplit *ls, size_t max_line)
{
	ls->partial = (struct buf)BUF_INIT(max_line);
	ls->max_line = max_line;
}

void ls_release(struct linesplit *ls)
{
	buf_release(&ls->partial);
}

size_t ls_pending(const struct linesplit *ls)
{
	return ls->partial.len;
}

static int emit(const char *line, size_t len, linesplit_fn fn, void *ctx)
{
	if (len && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0; /* blank lines carry nothing */
	return fn(line, len, ctx);
}

int ls_feed(struct linesplit *ls, const char *data, size_t n, linesplit_fn fn, void *ctx)
{
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t take = nl ? (size_t)(nl - data) : n;
		int r;

		if (!nl) {
			if (ls->partial.len + take > ls->max_line)
				return -E2BIG;
			return buf_append(&ls->partial, data, take) < 0 ? -E2BIG : 0;
		}
		if (ls->partial.len == 0) {
			if (take > ls->max_line)
				return -E2BIG;
			r = emit(data, take, fn, ctx);
		} else {
			if (ls->partial.len + take > ls->max_line || buf_append(&ls->partial, data, take) < 0)
				return -E2BIG;
			r = emit(ls->partial.data, ls->partial.len, fn, ctx);
			buf_reset(&ls->partial);
		}
		if (r < 0)
			return r;
		data += take + 1;
		n -= take + 1;
	}
	return 0;
}
