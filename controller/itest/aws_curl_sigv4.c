/* aws_curl_sigv4: measure libcurl's built-in SigV4 (CURLOPT_AWS_SIGV4) against
 * the AWS SigV4 test vectors (the decision recorded in docs/aws.md).
 *
 *     bin/itest/aws_curl_sigv4 CASE_DIR...
 *
 * For every case folder (context.json + request.txt + header-signed-request.txt
 * in the aws-c-auth layout) it sends the vector's request through libcurl with
 * CURLOPT_AWS_SIGV4 = "aws:amz:<region>:<service>" and the vector's
 * credentials to a loopback HTTP server run by this program, captures the
 * Authorization header curl actually sent, and compares it with the vector's
 * expected one. The request time is pinned by sending the vector's X-Amz-Date
 * header (libcurl uses a user-supplied X-Amz-Date); a session token is sent as
 * X-Amz-Security-Token (libcurl has no option for it). One JSON line per case:
 *   {"case":..., "pass":bool, "expected":..., "got":..., "note":...}
 * and a summary line {"summary":{"pass":n,"fail":m}}. Exit status 0 whatever
 * the results (it measures; the pytest decides what to assert).
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/macros.h"

/* --- loopback server: records the last request's header block ----------- */

static int listen_fd = -1;
static int listen_port;
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_request[65536];

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		char req[65536];
		size_t n = 0;
		long clen = 0;
		char *hend = NULL, *cl;
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			return NULL;
		while (n < sizeof(req) - 1) {
			ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);

			if (r <= 0)
				break;
			n += (size_t)r;
			req[n] = '\0';
			hend = strstr(req, "\r\n\r\n");
			if (hend) {
				cl = strcasestr(req, "\r\ncontent-length:");
				clen = cl && cl < hend ? strtol(cl + 17, NULL, 10) : 0;
				if ((size_t)(hend + 4 - req) + (size_t)clen <= n)
					break;
			}
		}
		req[n] = '\0';
		pthread_mutex_lock(&rec_lock);
		snprintf(last_request, sizeof(last_request), "%s", req);
		pthread_mutex_unlock(&rec_lock);
		static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
		if (write(fd, resp, sizeof(resp) - 1) < 0) {
			/* nothing to do: curl reports it */
		}
		close(fd);
	}
}

static int start_server(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	pthread_t t;

	listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(listen_fd, 8) < 0)
		return -errno;
	getsockname(listen_fd, (struct sockaddr *)&a, &len);
	listen_port = ntohs(a.sin_port);
	if (pthread_create(&t, NULL, serve, NULL) != 0)
		return -EAGAIN;
	pthread_detach(t);
	return 0;
}

/* --- case files ----------------------------------------------------------- */

static char *read_file(const char *dir, const char *name)
{
	char path[4096];
	_cleanup_fclose_ FILE *f = NULL;
	struct buf b = BUF_INIT(1 << 20);
	char chunk[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) < 0) {
			buf_release(&b);
			return NULL;
		}
	return buf_detach(&b);
}

/* The Authorization value from a raw request's header block, or NULL. */
static char *find_authorization(const char *raw)
{
	const char *p = raw;

	while (p && *p) {
		const char *eol = strstr(p, "\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '\r'))
			break;
		if (strncasecmp(p, "Authorization:", 14) == 0) {
			const char *v = p + 14;

			while (*v == ' ')
				v++;
			len -= (size_t)(v - p);
			if (len && v[len - 1] == '\r')
				len--;
			return strndup(v, len);
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

static void compact_ts(const char *iso, char out[17])
{
	/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
	size_t j = 0;

	for (size_t i = 0; iso[i] && j < 16; i++)
		if (iso[i] != '-' && iso[i] != ':')
			out[j++] = iso[i];
	out[j] = '\0';
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static void run_case(const char *dir, int *pass, int *fail)
{
	_cleanup_free_ char *ctxs = read_file(dir, "context.json");
	_cleanup_free_ char *reqs = read_file(dir, "request.txt");
	_cleanup_free_ char *signed_req = read_file(dir, "header-signed-request.txt");
	_cleanup_free_ char *expected = NULL, *got = NULL, *line = NULL, *url = NULL, *target = NULL;
	char namebuf[256];
	const char *name;
	json_t *ctx = NULL, *out;
	struct curl_slist *hdrs = NULL, *resolve = NULL;
	char sigv4[256], userpwd[512], ts[17], tsh[64], conn_to[128], note[256] = "";
	const char *region, *service, *akid, *secret, *token, *method, *body;
	char *saveptr = NULL, *p;
	CURL *h = NULL;
	CURLcode rc;

	snprintf(namebuf, sizeof(namebuf), "%s", dir);
	while (strlen(namebuf) > 1 && namebuf[strlen(namebuf) - 1] == '/')
		namebuf[strlen(namebuf) - 1] = '\0';
	name = strrchr(namebuf, '/') ? strrchr(namebuf, '/') + 1 : namebuf;
	if (!ctxs || !reqs || !signed_req) {
		fprintf(stderr, "aws_curl_sigv4: %s: missing files\n", dir);
		return;
	}
	ctx = json_loads(ctxs, 0, NULL);
	region = json_string_value(json_object_get(ctx, "region"));
	service = json_string_value(json_object_get(ctx, "service"));
	akid = json_string_value(json_object_get(json_object_get(ctx, "credentials"), "access_key_id"));
	secret = json_string_value(json_object_get(json_object_get(ctx, "credentials"), "secret_access_key"));
	token = json_string_value(json_object_get(json_object_get(ctx, "credentials"), "token"));
	compact_ts(json_string_value(json_object_get(ctx, "timestamp")), ts);
	expected = find_authorization(signed_req);

	/* request line: METHOD SP TARGET SP HTTP/1.1 (TARGET may contain spaces) */
	body = strstr(reqs, "\n\n");
	body = body ? body + 2 : "";
	line = strndup(reqs, strcspn(reqs, "\n"));
	method = strtok_r(line, " ", &saveptr);
	p = saveptr;
	target = strndup(p, strlen(p) >= 9 ? strlen(p) - 9 : 0); /* drop " HTTP/1.1" */
	if (asprintf(&url, "http://example.amazonaws.com%s", target) < 0)
		goto out;

	/* headers after the request line, except Host (curl writes it from the URL) */
	for (const char *q = strchr(reqs, '\n') + 1; q && *q && *q != '\n';) {
		size_t len = strcspn(q, "\n");
		_cleanup_free_ char *hl = strndup(q, len);
		char *colon = strchr(hl, ':');

		if (colon && strncasecmp(hl, "Host:", 5) != 0) {
			/* curl wants "Name: value"; "Name:" alone would remove a header */
			_cleanup_free_ char *fixed = NULL;

			*colon = '\0';
			if (asprintf(&fixed, "%s: %s", hl, colon[1] == ' ' ? colon + 2 : colon + 1) >= 0)
				hdrs = curl_slist_append(hdrs, fixed);
		}
		q += len;
		if (*q == '\n')
			q++;
	}
	if (json_is_true(json_object_get(ctx, "sign_body"))) {
		/* aws-c-auth's sign_body adds x-amz-content-sha256; libcurl has no
		 * switch for it outside S3, so send it as a header (it gets signed). */
		unsigned char md[SHA256_DIGEST_LENGTH];
		char hh[128];
		int o = snprintf(hh, sizeof(hh), "x-amz-content-sha256: ");

		SHA256((const unsigned char *)body, strlen(body), md);
		for (size_t i = 0; i < sizeof(md); i++)
			o += snprintf(hh + o, sizeof(hh) - (size_t)o, "%02x", md[i]);
		hdrs = curl_slist_append(hdrs, hh);
	}
	snprintf(tsh, sizeof(tsh), "X-Amz-Date: %s", ts);
	hdrs = curl_slist_append(hdrs, tsh);
	if (token) {
		_cleanup_free_ char *th = NULL;

		if (asprintf(&th, "X-Amz-Security-Token: %s", token) >= 0)
			hdrs = curl_slist_append(hdrs, th);
	}
	/* curl adds "Accept: * / *" itself; it does not sign it (it signs only the
	 * CURLOPT_HTTPHEADER list, Host and X-Amz-Date), so the signed set matches
	 * the vector's. Removing it with "Accept:" would make curl sign an empty
	 * accept header, so leave it. */
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:%s", region, service);
	snprintf(userpwd, sizeof(userpwd), "%s:%s", akid, secret);
	snprintf(conn_to, sizeof(conn_to), "example.amazonaws.com:80:127.0.0.1:%d", listen_port);
	resolve = curl_slist_append(NULL, conn_to);

	h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_CONNECT_TO, resolve);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(h, CURLOPT_USERPWD, userpwd);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	pthread_mutex_lock(&rec_lock);
	last_request[0] = '\0';
	pthread_mutex_unlock(&rec_lock);
	rc = curl_easy_perform(h);
	if (rc != CURLE_OK) {
		snprintf(note, sizeof(note), "curl error: %s", curl_easy_strerror(rc));
	} else {
		pthread_mutex_lock(&rec_lock);
		got = find_authorization(last_request);
		pthread_mutex_unlock(&rec_lock);
	}
	{
		bool ok = got && expected && strcmp(got, expected) == 0;

		out = json_pack("{s:s, s:b, s:s?, s:s?, s:s}", "case", name, "pass", ok, "expected", expected, "got",
				got, "note", note);
		json_dumpf(out, stdout, JSON_COMPACT);
		fputc('\n', stdout);
		json_decref(out);
		if (ok)
			(*pass)++;
		else
			(*fail)++;
	}
out:
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	curl_slist_free_all(resolve);
	json_decref(ctx);
}

int main(int argc, char **argv)
{
	int pass = 0, fail = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: aws_curl_sigv4 CASE_DIR...\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (start_server() < 0) {
		fprintf(stderr, "aws_curl_sigv4: cannot listen on loopback\n");
		return 1;
	}
	for (int i = 1; i < argc; i++)
		run_case(argv[i], &pass, &fail);
	printf("{\"summary\":{\"pass\":%d,\"fail\":%d,\"curl\":\"%s\"}}\n", pass, fail, curl_version_info(CURLVERSION_NOW)->version);
	close(listen_fd);
	curl_global_cleanup();
	return 0;
}
