/* thumbprint.h: the thumbprint IAM wants for an OIDC provider: the SHA-1 of
 * the top certificate of the chain the issuer's host presents (AWS: "the
 * thumbprint of the top intermediate CA"), as 40 lowercase hex digits.
 * I/O: one TLS handshake (libcurl, 5 s), certificate parsing with OpenSSL.
 * IAM accepts a provider without thumbprints, so callers treat a failure as
 * "omit it". */
#ifndef KEYLESS_RECONCILE_THUMBPRINT_H
#define KEYLESS_RECONCILE_THUMBPRINT_H

#include "base/err.h"

/* out must hold 41 bytes. Returns 0 or -errno. */
int oidc_thumbprint(const char *issuer_url, char *out, struct op_err *err);

#endif
