#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/str.h"

#define BODY_CAP ((size_t)16 << 20)
#define CHUNK 16384

struct vhost_user {
	struct http_server *srv;
	void *tag;
};

struct http_server {
	struct lws_context *ctx;
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;
	http_handler_fn handler;
	void *hctx;
	size_t n;
	struct vhost_user users[HTTP_SERVER_MAX_LISTENERS];
	char hosts[HTTP_SERVER_MAX_LISTENERS][64];
	char names[HTTP_SERVER_MAX_LISTENERS][8]; /* vhost names: libwebsockets keeps the pointers */
	int ports[HTTP_SERVER_MAX_LISTENERS];
	struct lws_protocols protocols[2];
};

/* per connection: the response being written */
struct conn {
	char *body;
	size_t len, sent;
	unsigned char *scratch; /* LWS_PRE + CHUNK */
};

int http_parse_addr(const char *addr, char *host, size_t host_size, int *ret_port)
{
	const char *colon;
	long port;
	size_t hl;

	if (!addr)
		return -EINVAL;
	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		hl = (size_t)(close - addr - 1);
		colon = close + 1;
		addr++;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - addr);
		if (memchr(addr, ':', hl))
			return -EINVAL; /* a bare IPv6 address needs brackets */
	}
	if (hl >= host_size || str_to_long(colon + 1, 0, 65535, &port) < 0)
		return -EINVAL;
	memcpy(host, addr, hl);
	host[hl] = 0;
	if (streq(host, "localhost"))
		str_copy(host, host_size, "127.0.0.1");
	if (host[0]) {
		unsigned char tmp[sizeof(struct in6_addr)];

		if (inet_pton(AF_INET, host, tmp) != 1 && inet_pton(AF_INET6, host, tmp) != 1)
			return -EINVAL;
	}
	*ret_port = (int)port;
	return 0;
}

/* libwebsockets reports a failed bind only in its log: try it first, so the
 * error names the cause (the port is free again at once: SO_REUSEADDR). */
static int probe_bind(const char *host, int port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, one = 1, r = 0;

	if (host[0] && strchr(host, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &a->sin6_addr);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (host[0])
			inet_pton(AF_INET, host, &a->sin_addr);
		sl = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		r = -errno;
	close(fd);
	return r;
}

static void conn_release(struct conn *c)
{
	free(c->body);
	free(c->scratch);
	c->body = NULL;
	c->scratch = NULL;
}

static int respond(struct lws *wsi, struct conn *c, int status, const char *ctype, struct buf *body)
{
	unsigned char hdr[LWS_PRE + 512], *start = &hdr[LWS_PRE], *p = start, *end = &hdr[sizeof(hdr) - 1];

	conn_release(c);
	c->len = body->len;
	c->sent = 0;
	c->body = buf_detach(body);
	c->scratch = malloc(LWS_PRE + CHUNK);
	if (!c->body || !c->scratch)
		return -1;
	if (lws_add_http_common_headers(wsi, (unsigned)status, ctype, c->len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store", 8, &p,
					 end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (c->len == 0)
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	lws_callback_on_writable(wsi);
	return 0;
}

static int on_http(struct lws *wsi, struct conn *c, const char *uri)
{
	struct vhost_user *u = lws_vhost_user(lws_get_vhost(wsi));
	struct http_response resp = { .status = 200, .body = BUF_INIT(BODY_CAP) };
	char path[512];
	int r;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0) {
		/* a request body may follow, unread: answer and close */
		unsigned char hdr[LWS_PRE + 256], *start = &hdr[LWS_PRE], *p = start, *end = &hdr[sizeof(hdr) - 1];

		/* the connection closes either way once the headers are out */
		(void)(lws_add_http_common_headers(wsi, 405, "text/plain; charset=utf-8", 0, &p, end) ||
		       lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close", 5, &p,
						    end) ||
		       lws_finalize_write_http_header(wsi, start, &p, end));
		return -1;
	}
	str_copy(path, sizeof(path), uri ? uri : "/");
	path[strcspn(path, "?")] = 0;
	u->srv->handler(u->srv->hctx, u->tag, path, &resp);
	r = respond(wsi, c, resp.status, resp.content_type ? resp.content_type : "text/plain; charset=utf-8",
		    &resp.body);
	buf_release(&resp.body);
	return r;
}

static int on_writable(struct lws *wsi, struct conn *c)
{
	size_t n;
	bool last;

	if (!c->body)
		return 0;
	n = c->len - c->sent;
	if (n > CHUNK)
		n = CHUNK;
	last = c->sent + n == c->len;
	memcpy(c->scratch + LWS_PRE, c->body + c->sent, n);
	if (lws_write(wsi, c->scratch + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	c->sent += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	conn_release(c);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return on_http(wsi, c, in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writable(wsi, c);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c)
			conn_release(c);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void *serve(void *arg)
{
	struct http_server *s = arg;

	while (!atomic_load(&s->stop))
		lws_service(s->ctx, 0);
	return NULL;
}

static void lws_log_quiet(int level, const char *line)
{
	(void)level;
	(void)line;
}

int http_server_start(const struct http_server_opts *opts, struct http_server **ret, struct op_err *err)
{
	struct lws_context_creation_info ci = { 0 };
	struct http_server *s;
	int r;

	if (opts->n_listeners == 0 || opts->n_listeners > HTTP_SERVER_MAX_LISTENERS || !opts->handler)
		return op_err_set(err, -EINVAL, "http server: 1 to %d listeners and a handler", HTTP_SERVER_MAX_LISTENERS);
	s = calloc(1, sizeof(*s));
	if (!s)
		return op_err_set(err, -ENOMEM, "out of memory");
	s->handler = opts->handler;
	s->hctx = opts->ctx;
	s->n = opts->n_listeners;
	for (size_t i = 0; i < s->n; i++) {
		if (http_parse_addr(opts->listeners[i].addr, s->hosts[i], sizeof(s->hosts[i]), &s->ports[i]) < 0) {
			r = op_err_set(err, -EINVAL, "'%s' is not an address to listen on (HOST:PORT, :PORT or [IPV6]:PORT)",
				       opts->listeners[i].addr ? opts->listeners[i].addr : "");
			goto fail;
		}
		if (s->ports[i] != 0 && (r = probe_bind(s->hosts[i], s->ports[i])) < 0) {
			op_err_set(err, r, "cannot listen on %s: %s", opts->listeners[i].addr, strerror(-r));
			goto fail;
		}
		s->users[i] = (struct vhost_user){ s, opts->listeners[i].tag };
	}
	s->protocols[0] = (struct lws_protocols){ .name = "http", .callback = callback,
						  .per_session_data_size = sizeof(struct conn) };
	/* libwebsockets' own log would go to stderr in its own format; keyless
	 * reports errors itself (a failed listen above, a failed vhost below) */
	lws_set_log_level(LLL_ERR, lws_log_quiet);
	ci.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	ci.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	ci.protocols = s->protocols;
	ci.server_string = "keyless";
	ci.count_threads = 1;
	s->ctx = lws_create_context(&ci);
	if (!s->ctx) {
		r = op_err_set(err, -ENOMEM, "http server: cannot create the libwebsockets context");
		goto fail;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct lws_context_creation_info vi = { 0 };
		struct lws_vhost *vh;

		s->names[i][0] = 'l';
		s->names[i][1] = (char)('0' + i);
		vi.vhost_name = s->names[i];
		vi.port = s->ports[i];
		vi.iface = s->hosts[i][0] ? s->hosts[i] : NULL;
		vi.protocols = s->protocols;
		vi.user = &s->users[i];
		vi.server_string = "keyless";
		if (s->hosts[i][0] && !strchr(s->hosts[i], ':'))
			vi.options = LWS_SERVER_OPTION_DISABLE_IPV6;
		vh = lws_create_vhost(s->ctx, &vi);
		if (!vh) {
			r = op_err_set(err, -EADDRNOTAVAIL, "cannot listen on %s", opts->listeners[i].addr);
			goto fail;
		}
		s->ports[i] = lws_get_vhost_listen_port(vh);
	}
	if (pthread_create(&s->thread, NULL, serve, s) != 0) {
		r = op_err_set(err, -EAGAIN, "http server: cannot start its thread");
		goto fail;
	}
	s->thread_started = true;
	*ret = s;
	return 0;
fail:
	http_server_stop(s);
	return r;
}

int http_server_port(const struct http_server *s, size_t i)
{
	return i < s->n ? s->ports[i] : -1;
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	if (s->thread_started) {
		atomic_store(&s->stop, true);
		lws_cancel_service(s->ctx);
		pthread_join(s->thread, NULL);
	}
	if (s->ctx)
		lws_context_destroy(s->ctx);
	free(s);
}
