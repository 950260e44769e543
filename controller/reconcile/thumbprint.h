/* thumbprint.h: the thumbprint IAM pins for an OIDC provider: the SHA-1 of the
 * top intermediate CA of the issuer host's certificate chain (AWS: "the last
 * certificate in the chain the server presents, the top intermediate"), as 40
 * lowercase hex digits.
 *
 * The chain must verify first (peer and host name), against ca_file or, when
 * ca_file is NULL, the system's trust store: an unverified chain is never
 * pinned. The certificate is taken from the chain OpenSSL verified, not from
 * what the server chose to send: with a root at its top, the certificate just
 * below the root; a chain of one certificate (a self-signed server
 * certificate trusted through ca_file) or one that ends at a trust anchor
 * that is not self-signed (an intermediate in ca_file): its top certificate.
 *
 * I/O: one TLS handshake to the issuer's host (libcurl with the OpenSSL
 * backend, 5 s, no HTTP request). IAM accepts a provider without
 * thumbprints, so callers treat any failure as "omit it, and warn". */
#ifndef KEYLESS_RECONCILE_THUMBPRINT_H
#define KEYLESS_RECONCILE_THUMBPRINT_H

#include "base/err.h"

/* issuer_url must be https://. ca_file: PEM bundle (borrowed) or NULL for the
 * system store. out must hold 41 bytes; it is written only on success.
 * Returns 0, or -EBADMSG when the issuer's certificate does not verify,
 * -EINVAL for a non-https URL, -ENOENT for an unreadable ca_file,
 * -ETIMEDOUT/-EHOSTUNREACH when the host cannot be reached, -EOPNOTSUPP when
 * libcurl does not use OpenSSL, other -errno on other failures. */
int oidc_thumbprint(const char *issuer_url, const char *ca_file, char *out, struct op_err *err);

#endif
