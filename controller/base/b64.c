#include "base/b64.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int b64_decode(const char *in, size_t len, bool url, unsigned char **ret, size_t *ret_len)
{
	_cleanup_free_ char *norm = malloc(len + 4);
	_cleanup_free_ unsigned char *out = NULL;
	EVP_ENCODE_CTX *ctx;
	size_t n = 0;
	int outl = 0, finl = 0, r;

	if (!norm)
		return -ENOMEM;
	/* Normalize: drop whitespace, map the URL alphabet, re-pad. */
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (url && c == '-')
			c = '+';
		else if (url && c == '_')
			c = '/';
		else if (c == '-' || c == '_')
			return -EINVAL;
		norm[n++] = c;
	}
	while (n % 4)
		norm[n++] = '=';
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	ctx = EVP_ENCODE_CTX_new();
	if (!ctx)
		return -ENOMEM;
	EVP_DecodeInit(ctx);
	r = EVP_DecodeUpdate(ctx, out, &outl, (const unsigned char *)norm, (int)n);
	if (r >= 0)
		r = EVP_DecodeFinal(ctx, out + outl, &finl);
	EVP_ENCODE_CTX_free(ctx);
	if (r < 0)
		return -EINVAL;
	out[outl + finl] = '\0';
	*ret_len = (size_t)(outl + finl);
	*ret = TAKE_PTR(out);
	return 0;
}

char *b64_encode(const void *in, size_t len, bool url)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	int n;

	if (!out)
		return NULL;
	n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	if (url) {
		while (n > 0 && out[n - 1] == '=')
			n--;
		out[n] = '\0';
		for (int i = 0; i < n; i++) {
			if (out[i] == '+')
				out[i] = '-';
			else if (out[i] == '/')
				out[i] = '_';
		}
	}
	return out;
}
