/* aws_sign: sign requests with keyless's SigV4 (aws_http_sign) for the
 * botocore cross-check (e2e/test_aws_sigv4_crosscheck.py).
 *
 * stdin: one JSON object per line
 *   {"id": any, "method": "POST", "url": "https://iam.amazonaws.com/",
 *    "headers": [["Content-Type", "..."], ...], "body": "text (UTF-8)",
 *    "access_key_id": "...", "secret_access_key": "...", "session_token": "..."|null,
 *    "region": "us-east-1", "service": "iam", "time": 1440938160}
 * stdout: one JSON object per line
 *   {"id": ..., "authorization": "...", "amz_date": "...", "signed_headers": "...",
 *    "canonical_request": "..."}   or   {"id": ..., "error": "..."}
 * The signed headers are Host (from the URL, as botocore derives it) plus
 * the given headers plus what SigV4 adds, exactly as the client signs.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "aws/http.h"
#include "base/clock.h"

static json_t *sign_one(json_t *in)
{
	json_t *hdrs = json_object_get(in, "headers"), *out, *h;
	struct sigv4_header *hv = NULL;
	struct sigv4_credentials creds = {
		.access_key_id = json_string_value(json_object_get(in, "access_key_id")),
		.secret_access_key = json_string_value(json_object_get(in, "secret_access_key")),
		.session_token = json_string_value(json_object_get(in, "session_token")),
	};
	struct aws_http_request req = {
		.method = json_string_value(json_object_get(in, "method")),
		.url = json_string_value(json_object_get(in, "url")),
		.body = json_string_value(json_object_get(in, "body")),
	};
	struct sigv4_signed s;
	size_t i, n = json_array_size(hdrs);
	int r;

	out = json_object();
	json_object_set(out, "id", json_object_get(in, "id"));
	hv = calloc(n + 1, sizeof(*hv));
	if (!hv || !req.method || !req.url) {
		free(hv);
		json_object_set_new(out, "error", json_string("bad input"));
		return out;
	}
	json_array_foreach(hdrs, i, h)
	{
		hv[i].name = json_string_value(json_array_get(h, 0));
		hv[i].value = json_string_value(json_array_get(h, 1));
	}
	req.headers = hv;
	req.n_headers = n;
	req.body_len = req.body ? json_string_length(json_object_get(in, "body")) : 0;
	r = aws_http_sign(&req, &creds, json_string_value(json_object_get(in, "region")),
			  json_string_value(json_object_get(in, "service")),
			  (int64_t)json_integer_value(json_object_get(in, "time")) * NSEC_PER_SEC, &s);
	free(hv);
	if (r < 0) {
		json_object_set_new(out, "error", json_string(strerror(-r)));
		return out;
	}
	json_object_set_new(out, "authorization", json_string(s.authorization));
	json_object_set_new(out, "amz_date", json_string(s.amz_date));
	json_object_set_new(out, "signed_headers", json_string(s.signed_headers));
	json_object_set_new(out, "canonical_request", json_string(s.canonical_request));
	sigv4_signed_release(&s);
	return out;
}

int main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long n = 0;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		json_error_t jerr;
		json_t *in = json_loadb(line, (size_t)len, 0, &jerr), *out;

		if (!in) {
			fprintf(stderr, "aws_sign: line %lu: %s\n", n + 1, jerr.text);
			free(line);
			return 1;
		}
		out = sign_one(in);
		json_dumpf(out, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
		fputc('\n', stdout);
		json_decref(out);
		json_decref(in);
		n++;
	}
	free(line);
	return 0;
}
