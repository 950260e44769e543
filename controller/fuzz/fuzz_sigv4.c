/* fuzz_sigv4: SigV4 canonicalisation (aws/sigv4.c) of a raw request in the
 * test suite's request.txt form (request line, headers with folded
 * continuation lines, blank line, body), with flags from the first byte;
 * and aws_http_sign (aws/http.c) on a URL made from the target.
 * Properties: signing succeeds or refuses with -EINVAL; the canonical
 * request has no line break inside a header value; uri-encoding round-trips
 * through uri-decoding. */
#include "fuzz.h"

#include "aws/http.h"
#include "aws/sigv4.h"

#define MAX_HEADERS 32

static void check_roundtrip(const char *s, size_t n)
{
	struct buf enc = BUF_INIT(0), dec = BUF_INIT(0);

	FUZZ_ASSERT(sigv4_uri_encode(&enc, s, n, false) == 0);
	FUZZ_ASSERT(sigv4_uri_decode(&dec, enc.data ? enc.data : "", enc.len) == 0);
	FUZZ_ASSERT(dec.len == n && (n == 0 || memcmp(dec.data, s, n) == 0));
	buf_release(&enc);
	buf_release(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	char *text = fuzz_str(&in), *p, *eol, *sp, *body;
	struct sigv4_header h[MAX_HEADERS];
	size_t nh = 0;
	struct sigv4_credentials creds = { "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
					   (sel & 8) ? "token" : NULL };
	struct sigv4_params prm = { .creds = &creds, .region = "us-east-1", .service = "service",
				    .time_ns = INT64_C(1440938160) * NSEC_PER_SEC, .flags = sel & 7 };
	struct sigv4_signed s;
	char *query = NULL;
	int r;

	check_roundtrip((const char *)in.p, in.n);
	/* request line: METHOD SP target [SP version] */
	eol = strchr(text, '\n');
	if (!eol)
		goto out;
	*eol = '\0';
	p = eol + 1;
	sp = strchr(text, ' ');
	if (!sp)
		goto out;
	*sp = '\0';
	{
		char *ver = strrchr(sp + 1, ' ');

		if (ver)
			*ver = '\0';
	}
	query = strchr(sp + 1, '?');
	if (query)
		*query++ = '\0';
	/* headers, folded lines joined back with their line break */
	body = strstr(p, "\n\n");
	if (body) {
		*body = '\0';
		body += 2;
	}
	while (*p && nh < MAX_HEADERS) {
		char *end = strchr(p, '\n'), *colon;

		if (end)
			*end = '\0';
		if ((*p == ' ' || *p == '\t') && nh) {
			p[-1] = '\n'; /* restore the fold into the previous value */
		} else if ((colon = strchr(p, ':'))) {
			*colon = '\0';
			h[nh].name = p;
			h[nh].value = colon + 1;
			nh++;
		}
		if (!end)
			break;
		p = end + 1;
	}
	{
		struct sigv4_request req = { .method = text, .path = sp + 1, .query = query, .headers = h,
					     .n_headers = nh, .body = body, .body_len = body ? strlen(body) : 0 };

		r = sigv4_sign(&req, &prm, &s);
		FUZZ_ASSERT(r == 0 || r == -EINVAL);
		if (r == 0) {
			/* header lines: every value's line breaks were folds, now spaces */
			const char *ch = strchr(strchr(s.canonical_request, '\n') + 1, '\n') + 1;

			ch = strchr(ch, '\n') + 1;
			for (const char *l = ch; *l && *l != '\n'; l = strchr(l, '\n') + 1)
				FUZZ_ASSERT(strchr(l, ':') && strchr(l, ':') < strchr(l, '\n'));
			FUZZ_ASSERT(strlen(s.signature) == 64);
			sigv4_signed_release(&s);
		}
	}
	{
		char *url = NULL;
		struct aws_http_request hr = { .method = text, .headers = h + (nh ? 1 : 0), .n_headers = nh ? nh - 1 : 0 };

		if (asprintf(&url, "https://example.amazonaws.com%s%s%s", sp + 1, query ? "?" : "", query ? query : "") > 0) {
			hr.url = url;
			if (aws_http_sign(&hr, &creds, "us-east-1", "iam", 0, &s) == 0)
				sigv4_signed_release(&s);
			free(url);
		}
	}
out:
	free(text);
	return 0;
}
