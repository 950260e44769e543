/* fuzz.h: what the libFuzzer harnesses share (header-only: each harness is
 * one .c file linked with the library; see `make fuzz` and README.md).
 *
 *   fuzz_take(&in, n)     the next n bytes of the input (fewer at its end)
 *   fuzz_byte(&in)        the next byte (0 at the end)
 *   fuzz_str(&in)         the rest of the input as a NUL-terminated copy
 *   fuzz_memfile(d, n)    the bytes as a file, for parsers that read paths
 *   fuzz_aws_client(...)  an AWS client whose transport answers every
 *                         request with the given status and body (the
 *                         first FUZZ_AWS_MAX_REQUESTS; then -EPROTO)
 *
 * Harnesses check properties with FUZZ_ASSERT, which aborts (libFuzzer
 * records the input as a crash).
 */
#ifndef KEYLESS_FUZZ_H
#define KEYLESS_FUZZ_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aws/client.h"
#include "aws/http.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                                      \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                               \
		}                                                                              \
	} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_byte(struct fuzz_in *in)
{
	uint8_t b;

	if (!in->n)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

static inline struct fuzz_in fuzz_take(struct fuzz_in *in, size_t n)
{
	struct fuzz_in out = { in->p, n < in->n ? n : in->n };

	in->p += out.n;
	in->n -= out.n;
	return out;
}

/* A NUL-terminated copy (embedded NULs stay; C string users see a prefix). */
static inline char *fuzz_str(const struct fuzz_in *in)
{
	char *s = malloc(in->n + 1);

	if (!s)
		abort();
	memcpy(s, in->p, in->n);
	s[in->n] = '\0';
	return s;
}

/* Split at the first "\n--\n" (two documents in one input); b is empty
 * when there is no separator. */
static inline void fuzz_split(const struct fuzz_in *in, struct fuzz_in *a, struct fuzz_in *b)
{
	const uint8_t *sep = in->n >= 4 ? memmem(in->p, in->n, "\n--\n", 4) : NULL;

	if (!sep) {
		*a = *in;
		*b = (struct fuzz_in){ in->p + in->n, 0 };
		return;
	}
	*a = (struct fuzz_in){ in->p, (size_t)(sep - in->p) };
	*b = (struct fuzz_in){ sep + 4, in->n - a->n - 4 };
}

/* The bytes as a file (an anonymous memfd): writes its path ("/proc/self/fd/N")
 * into path and returns the fd to close after. */
static inline int fuzz_memfile(const void *data, size_t n, char path[64])
{
	int fd = memfd_create("fuzz", 0);

	if (fd < 0 || (n && write(fd, data, n) != (ssize_t)n))
		abort();
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

/* --- an AWS client with a scripted transport ------------------------------ */

#define FUZZ_AWS_MAX_REQUESTS 4

struct fuzz_aws {
	long status;
	const char *body;
	size_t body_len;
	char error_type[160];
	unsigned requests;
	struct manual_clock clock;
	struct aws_env env;
};

static inline const char *fuzz_aws_getenv(const char *name, void *ctx)
{
	(void)ctx;
	if (streq(name, "AWS_REGION"))
		return "us-east-1";
	if (streq(name, "AWS_EC2_METADATA_DISABLED"))
		return "true";
	return NULL;
}

static inline int fuzz_aws_send(void *ctx, const struct aws_http_request *req, struct aws_http_response *resp,
				struct op_err *err)
{
	struct fuzz_aws *f = ctx;

	(void)req;
	/* a page that always says "more" would be asked for 1000 times: stop
	 * after a few with an error that is not retried */
	if (++f->requests > FUZZ_AWS_MAX_REQUESTS)
		return op_err_set(err, -EPROTO, "fuzz transport: enough");
	resp->status = f->status;
	str_copy(resp->error_type, sizeof(resp->error_type), f->error_type);
	if (f->body_len && buf_append(&resp->body, f->body, f->body_len) < 0)
		abort();
	return 0;
}

static inline void fuzz_aws_sleep(void *ctx, int64_t ns)
{
	struct fuzz_aws *f = ctx;

	manual_clock_advance(&f->clock, ns);
}

/* Static credentials, no rate limit, a manual clock; every request gets
 * f->status and f->body. */
static inline struct aws_client *fuzz_aws_client(struct fuzz_aws *f)
{
	struct aws_client *c = NULL;
	struct aws_credentials *cr = NULL;
	struct op_err e;
	struct aws_client_opts o = { 0 };

	manual_clock_init(&f->clock, 1000 * NSEC_PER_SEC, INT64_C(1795885200) * NSEC_PER_SEC);
	f->env = (struct aws_env){ .getenv = fuzz_aws_getenv, .ctx = f };
	if (aws_credentials_new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0, &cr) < 0)
		abort();
	o.credentials = cr;
	o.env = &f->env;
	o.transport = (struct aws_transport){ .send = fuzz_aws_send, .ctx = f };
	o.clock = &f->clock.clock;
	o.sleep = fuzz_aws_sleep;
	o.sleep_ctx = f;
	o.iam_rate = -1;
	op_err_clear(&e);
	if (aws_client_new(&o, &c, &e) < 0)
		abort();
	aws_credentials_unref(cr);
	return c;
}

#endif
