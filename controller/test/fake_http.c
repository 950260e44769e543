#include "fake_http.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support.h"

struct fake_http {
	int fd, port;
	int stop_pipe[2];
	pthread_t thread;
	pthread_mutex_t lock;
	fake_http_handler fn;
	void *ctx;
};

struct conn {
	struct fake_http *s;
	int fd;
};

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct fake_http *s = c->s;
	char req[65536], method[16] = "", path[2048] = "";
	size_t n = 0, need = 0;
	char *hdr_end = NULL;
	struct fake_http_answer a = { 0 };
	char head[1024];
	size_t blen;

	for (;;) {
		ssize_t k = read(c->fd, req + n, sizeof(req) - 1 - n);

		if (k <= 0)
			goto out;
		n += (size_t)k;
		req[n] = '\0';
		if (!hdr_end && (hdr_end = strstr(req, "\r\n\r\n"))) {
			const char *cl = strcasestr(req, "\r\nContent-Length:");

			need = (size_t)(hdr_end + 4 - req) + (cl && cl < hdr_end ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (hdr_end && n >= need)
			break;
		if (n >= sizeof(req) - 1)
			goto out;
	}
	if (sscanf(req, "%15s %2047s", method, path) != 2)
		goto out;
	pthread_mutex_lock(&s->lock);
	s->fn(method, path, hdr_end + 4, &a, s->ctx);
	pthread_mutex_unlock(&s->lock);
	if (a.status == 0) {
		struct pollfd p = { .fd = s->stop_pipe[0], .events = POLLIN };

		poll(&p, 1, -1);
		goto out;
	}
	blen = a.body ? strlen(a.body) : 0;
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		 a.status, blen, a.headers);
	if (send(c->fd, head, strlen(head), MSG_NOSIGNAL) < 0 || (blen && send(c->fd, a.body, blen, MSG_NOSIGNAL) < 0))
		goto out;
out:
	free(a.body);
	close(c->fd);
	free(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct fake_http *s = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN }, { .fd = s->stop_pipe[0], .events = POLLIN } };
		struct conn *c;
		pthread_t t;
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept(s->fd, NULL, NULL);
		if (fd < 0)
			continue;
		c = calloc(1, sizeof(*c));
		c->s = s;
		c->fd = fd;
		if (pthread_create(&t, NULL, conn_main, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

struct fake_http *fake_http_start(fake_http_handler fn, void *ctx)
{
	struct fake_http *s = calloc(1, sizeof(*s));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	assert_non_null(s);
	s->fn = fn;
	s->ctx = ctx;
	pthread_mutex_init(&s->lock, NULL);
	assert_int_equal(pipe(s->stop_pipe), 0);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s->fd, 64), 0);
	assert_int_equal(getsockname(s->fd, (struct sockaddr *)&sa, &len), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, accept_main, s), 0);
	return s;
}

void fake_http_stop(struct fake_http *s)
{
	if (!s)
		return;
	assert_int_equal(write(s->stop_pipe[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	close(s->fd);
	/* connection threads (detached) see the pipe and end; give them a moment */
	usleep(50000);
	pthread_mutex_lock(&s->lock);
	pthread_mutex_unlock(&s->lock);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

int fake_http_port(const struct fake_http *s)
{
	return s->port;
}

const char *fake_http_kubeconfig(const struct fake_http *s, const char *exec_command)
{
	char text[2048];

	if (exec_command)
		snprintf(text, sizeof(text),
			 "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
			 "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:%d'}}]\n"
			 "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: '%s',"
			 " interactiveMode: Never}}}]\n"
			 "contexts: [{name: t, context: {cluster: c, user: u, namespace: ns}}]\n",
			 s->port, exec_command);
	else
		snprintf(text, sizeof(text),
			 "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
			 "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:%d'}}]\n"
			 "users: [{name: u, user: {token: t0k}}]\n"
			 "contexts: [{name: t, context: {cluster: c, user: u, namespace: ns}}]\n",
			 s->port);
	return test_write_file("kubeconfig", text);
}
