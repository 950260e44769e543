/* Unit tests for reconcile/thumbprint: the OIDC thumbprint is taken only from
 * a chain that verified. Each case starts a one-connection TLS server in a
 * thread on 127.0.0.1 (OpenSSL), serving fixtures from testdata/tls (made by
 * its gen.sh): root -> inter -> leaf, other (a name that is not 127.0.0.1),
 * self (self-signed). Expected thumbprints are computed from the PEM files. */
#include "support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/str.h"
#include "reconcile/thumbprint.h"

#define TLS_DIR "controller/test/testdata/tls/"
#define UNTOUCHED "untouched"

struct server {
	SSL_CTX *ctx;
	int fd;
	int port;
	pthread_t thread;
};

static void set_timeout(int fd)
{
	struct timeval tv = { .tv_sec = 10 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A listening socket on 127.0.0.1 with a kernel-chosen port. */
static int listen_local(int *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*ret_port = ntohs(a.sin_port);
	return fd;
}

/* Accept one connection, run the server side of the handshake (which fails
 * when the client rejects the certificate), answer a request if one comes
 * (a client that gets the chain from an HTTP exchange sees the same server),
 * close. */
static void *serve_one(void *arg)
{
	static const char resp[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	struct server *s = arg;
	int c = accept(s->fd, NULL, NULL);
	char req[4096];
	SSL *ssl;

	if (c < 0)
		return NULL;
	set_timeout(c);
	ssl = SSL_new(s->ctx);
	if (ssl) {
		SSL_set_fd(ssl, c);
		if (SSL_accept(ssl) == 1) {
			if (SSL_read(ssl, req, sizeof(req)) > 0)
				SSL_write(ssl, resp, (int)sizeof(resp) - 1);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
	}
	ERR_clear_error();
	close(c);
	return NULL;
}

static void server_start(struct server *s, const char *chain, const char *key)
{
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	assert_int_equal(SSL_CTX_use_certificate_chain_file(s->ctx, chain), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(s->ctx, key, SSL_FILETYPE_PEM), 1);
	s->fd = listen_local(&s->port);
	set_timeout(s->fd); /* accept gives up if the client never connects */
	assert_int_equal(pthread_create(&s->thread, NULL, serve_one, s), 0);
}

static void server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
	SSL_CTX_free(s->ctx);
}

/* SHA-1 of the first certificate in a PEM file, as lowercase hex. */
static void sha1_of(const char *pem_file, char out[41])
{
	FILE *f = fopen(pem_file, "r");
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	assert_true(X509_digest(x, EVP_sha1(), md, &n));
	assert_int_equal(n, 20);
	for (unsigned i = 0; i < n; i++)
		str_format(out + 2 * i, 3, "%02x", md[i]);
	X509_free(x);
}

/* Serve chain/key once and look the thumbprint up with ca_file. */
static int lookup(const char *chain, const char *key, const char *ca_file, char out[41], struct op_err *e)
{
	struct server s;
	char url[128];
	int r;

	server_start(&s, chain, key);
	str_format(url, sizeof(url), "https://127.0.0.1:%d/id/test", s.port);
	op_err_clear(e);
	str_copy(out, 41, UNTOUCHED);
	r = oidc_thumbprint(url, ca_file, out, e);
	server_stop(&s);
	return r;
}

static void assert_not_pinned(const struct op_err *e)
{
	if (!strstr(e->message, "could not be verified") || !strstr(e->message, "NOT pinned") ||
	    !strstr(e->message, "oidcIssuerCA"))
		fail_msg("message '%s' does not say it could not be verified, NOT pinned, oidcIssuerCA", e->message);
}

static void test_thumbprint__verified_chain_pins_the_intermediate(void **state)
{
	char out[41], want[41];
	struct op_err e;

	(void)state;
	sha1_of(TLS_DIR "inter.pem", want);
	assert_int_equal(lookup(TLS_DIR "leaf-chain.pem", TLS_DIR "leaf.key", TLS_DIR "root.pem", out, &e), 0);
	assert_string_equal(out, want);
	assert_int_equal(strlen(out), 40);
}

static void test_thumbprint__extra_certificate_at_the_end_is_ignored(void **state)
{
	char out[41], want[41];
	struct op_err e;

	(void)state;
	/* the last certificate presented is self.pem; the verified chain's is not */
	sha1_of(TLS_DIR "inter.pem", want);
	assert_int_equal(lookup(TLS_DIR "extra-chain.pem", TLS_DIR "leaf.key", TLS_DIR "root.pem", out, &e), 0);
	assert_string_equal(out, want);
}

static void test_thumbprint__intermediate_as_trust_anchor(void **state)
{
	char out[41], want[41];
	struct op_err e;

	(void)state;
	sha1_of(TLS_DIR "inter.pem", want);
	assert_int_equal(lookup(TLS_DIR "leaf-chain.pem", TLS_DIR "leaf.key", TLS_DIR "inter.pem", out, &e), 0);
	assert_string_equal(out, want);
}

static void test_thumbprint__self_signed_trusted_by_ca_file(void **state)
{
	char out[41], want[41];
	struct op_err e;

	(void)state;
	sha1_of(TLS_DIR "self.pem", want);
	assert_int_equal(lookup(TLS_DIR "self.pem", TLS_DIR "self.key", TLS_DIR "self.pem", out, &e), 0);
	assert_string_equal(out, want);
}

static void test_thumbprint__untrusted_is_not_pinned(void **state)
{
	char out[41];
	struct op_err e;

	(void)state;
	/* the system store does not know the test root */
	assert_int_equal(lookup(TLS_DIR "leaf-chain.pem", TLS_DIR "leaf.key", NULL, out, &e), -EBADMSG);
	assert_string_equal(out, UNTOUCHED);
	assert_not_pinned(&e);
	/* a self-signed certificate against the wrong CA */
	assert_int_equal(lookup(TLS_DIR "self.pem", TLS_DIR "self.key", TLS_DIR "root.pem", out, &e), -EBADMSG);
	assert_string_equal(out, UNTOUCHED);
	assert_not_pinned(&e);
}

static void test_thumbprint__wrong_host_name_is_not_pinned(void **state)
{
	char out[41];
	struct op_err e;

	(void)state;
	/* chains to root, but names other.example, not 127.0.0.1 */
	assert_int_equal(lookup(TLS_DIR "other-chain.pem", TLS_DIR "other.key", TLS_DIR "root.pem", out, &e), -EBADMSG);
	assert_string_equal(out, UNTOUCHED);
	assert_not_pinned(&e);
}

static void test_thumbprint__missing_ca_file(void **state)
{
	char out[41];
	struct op_err e;

	(void)state;
	assert_int_equal(lookup(TLS_DIR "leaf-chain.pem", TLS_DIR "leaf.key", TLS_DIR "missing.pem", out, &e), -ENOENT);
	assert_string_equal(out, UNTOUCHED);
	assert_non_null(strstr(e.message, "missing.pem"));
}

static void test_thumbprint__only_https(void **state)
{
	char out[41] = UNTOUCHED;
	struct op_err e;

	(void)state;
	op_err_clear(&e);
	assert_int_equal(oidc_thumbprint("http://127.0.0.1:1/id/x", TLS_DIR "root.pem", out, &e), -EINVAL);
	assert_non_null(strstr(e.message, "https://"));
	assert_int_equal(oidc_thumbprint("issuer.example/id/x", NULL, out, NULL), -EINVAL);
	assert_int_equal(oidc_thumbprint(NULL, NULL, out, NULL), -EINVAL);
	assert_string_equal(out, UNTOUCHED);
}

static void test_thumbprint__unreachable(void **state)
{
	char out[41] = UNTOUCHED, url[64];
	struct op_err e;
	int port, fd = listen_local(&port);

	(void)state;
	close(fd); /* nobody listens there now */
	str_format(url, sizeof(url), "https://127.0.0.1:%d", port);
	op_err_clear(&e);
	assert_int_equal(oidc_thumbprint(url, TLS_DIR "root.pem", out, &e), -EHOSTUNREACH);
	assert_string_equal(out, UNTOUCHED);
	assert_non_null(strstr(e.message, url));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thumbprint__verified_chain_pins_the_intermediate),
		cmocka_unit_test(test_thumbprint__extra_certificate_at_the_end_is_ignored),
		cmocka_unit_test(test_thumbprint__intermediate_as_trust_anchor),
		cmocka_unit_test(test_thumbprint__self_signed_trusted_by_ca_file),
		cmocka_unit_test(test_thumbprint__untrusted_is_not_pinned),
		cmocka_unit_test(test_thumbprint__wrong_host_name_is_not_pinned),
		cmocka_unit_test(test_thumbprint__missing_ca_file),
		cmocka_unit_test(test_thumbprint__only_https),
		cmocka_unit_test(test_thumbprint__unreachable),
	};

	signal(SIGPIPE, SIG_IGN); /* the server side writes to clients that hung up */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
