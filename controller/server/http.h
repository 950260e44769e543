/* http.h: a small HTTP/1.1 server on libwebsockets for the operational
 * endpoints (/healthz, /readyz, /metrics).
 *
 * One libwebsockets context with one vhost per listener, served by one
 * thread of its own; libwebsockets is only touched from that thread (and by
 * lws_cancel_service() to stop it). Each GET is answered by calling the
 * handler on that thread with the listener's tag and the path (the query
 * string is not part of it); the handler fills the body and returns the
 * status. Other methods get 405. Responses carry Content-Length and the
 * connection is kept alive.
 *
 *     struct http_listener l[] = { { ":8081", (void *)1 } };
 *     struct http_server_opts o = { .listeners = l, .n_listeners = 1, .handler = fn, .ctx = c };
 *     http_server_start(&o, &srv, &err);   ...   http_server_stop(srv);
 */
#ifndef KEYLESS_SERVER_HTTP_H
#define KEYLESS_SERVER_HTTP_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define HTTP_SERVER_MAX_LISTENERS 4

struct http_listener {
	/* "HOST:PORT", ":PORT" (every address) or "[::1]:PORT"; HOST is an IP
	 * address or "localhost"; PORT 0 picks a free port */
	const char *addr;
	void *tag; /* handed to the handler */
};

struct http_response {
	int status;               /* 200 unless set */
	const char *content_type; /* static string; default "text/plain; charset=utf-8" */
	struct buf body;          /* capped at 16 MiB */
};

/* Called on the server thread; must not block for long. */
typedef void (*http_handler_fn)(void *ctx, void *tag, const char *path, struct http_response *resp);

struct http_server_opts {
	const struct http_listener *listeners;
	size_t n_listeners; /* 1 .. HTTP_SERVER_MAX_LISTENERS */
	http_handler_fn handler;
	void *ctx;
};

struct http_server;

/* Parse "HOST:PORT"/":PORT"/"[V6]:PORT" into host (empty: every address)
 * and port. Returns 0 or -EINVAL. */
int http_parse_addr(const char *addr, char *host, size_t host_size, int *ret_port);

/* Listen on every listener and start the server thread. Returns 0, or
 * -EINVAL (a bad address), -EADDRINUSE/-EACCES/... (cannot listen; err says
 * which address), -ENOMEM. */
int http_server_start(const struct http_server_opts *opts, struct http_server **ret, struct op_err *err);

/* The port listener i listens on (the chosen one for port 0). */
int http_server_port(const struct http_server *s, size_t i);

/* Stop the thread, close the listeners and free; accepts NULL. */
void http_server_stop(struct http_server *s);

#endif
