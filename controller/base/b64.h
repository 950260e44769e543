/* b64.h: base64 (standard and URL-safe alphabets) on OpenSSL's EVP codec. */
#ifndef KEYLESS_B64_H
#define KEYLESS_B64_H

#include <stdbool.h>
#include <stddef.h>

#include "base/macros.h"

/* Decode standard base64 (whitespace and missing padding tolerated) or, with
 * url = true, the URL-safe alphabet without padding (JWT). Returns 0 and a
 * malloc'd NUL-terminated buffer in *ret (length in *ret_len), or -EINVAL. */
int b64_decode(const char *in, size_t len, bool url, unsigned char **ret, size_t *ret_len);

/* Encode; url = true gives URL-safe without padding. Returns a malloc'd
 * string or NULL on allocation failure. */
char *b64_encode(const void *in, size_t len, bool url);

#endif
