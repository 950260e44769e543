/* fuzz_jwt: JWT-shaped input (header.payload.signature): each part decoded
 * with base/b64.c's URL-safe alphabet (the JWT decoder keyless has) and the
 * payload read as JSON, as a reader of a service-account token's claims
 * would; also the standard alphabet (kubeconfig *-data). Properties: what
 * decodes re-encodes to text that decodes to the same bytes. */
#include "fuzz.h"

#include <jansson.h>

#include "base/b64.h"

static void roundtrip(const char *s, size_t n, bool url)
{
	unsigned char *d = NULL, *d2 = NULL;
	size_t dn = 0, dn2 = 0;
	char *e;

	if (b64_decode(s, n, url, &d, &dn) < 0)
		return;
	FUZZ_ASSERT(d && d[dn] == '\0');
	e = b64_encode(d, dn, url);
	FUZZ_ASSERT(e);
	FUZZ_ASSERT(b64_decode(e, strlen(e), url, &d2, &dn2) == 0);
	FUZZ_ASSERT(dn2 == dn && memcmp(d, d2, dn) == 0);
	if (url) {
		json_t *j = json_loadb((const char *)d, dn, 0, NULL);

		json_decref(j);
	}
	free(d);
	free(d2);
	free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t start = 0;

	for (size_t i = 0; i <= size; i++)
		if (i == size || s[i] == '.') {
			roundtrip(s + start, i - start, true);
			start = i + 1;
		}
	roundtrip(s, size, false);
	return 0;
}
