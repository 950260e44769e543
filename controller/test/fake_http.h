/* fake_http.h: a tiny HTTP/1.1 server on 127.0.0.1 for unit tests of the
 * Kubernetes client and the lease: a thread accepts connections and asks a
 * handler for each answer (one request per connection; it answers with
 * Connection: close). */
#ifndef KEYLESS_TEST_FAKE_HTTP_H
#define KEYLESS_TEST_FAKE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fake_http_answer {
	int status;          /* 0: hang (never answer until the server stops) */
	char headers[256];   /* extra header lines, each ending in \r\n */
	char *body;          /* malloc'd or NULL; freed by the server */
};

/* Called on the server thread, under the server's lock. */
typedef void (*fake_http_handler)(const char *method, const char *path, const char *body, struct fake_http_answer *ret,
				  void *ctx);

struct fake_http;
struct fake_http *fake_http_start(fake_http_handler fn, void *ctx);
void fake_http_stop(struct fake_http *s);
int fake_http_port(const struct fake_http *s);
/* Write a kubeconfig for http://127.0.0.1:<port> (no credentials, or an exec
 * plugin `exec_command` when not NULL) and return its path (test_write_file). */
const char *fake_http_kubeconfig(const struct fake_http *s, const char *exec_command);

#endif
