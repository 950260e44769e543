#include "reconcile/thumbprint.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h> /* X509_check_issued */
#include <string.h>
#include <strings.h>

#include "base/str.h"

/* The certificate to pin from a verified chain (leaf first, trust anchor
 * last): the one below a self-signed root, else the trust anchor itself. */
static X509 *top_intermediate(STACK_OF(X509) *chain)
{
	int n = chain ? sk_X509_num(chain) : 0;
	X509 *top;

	if (n < 1)
		return NULL;
	top = sk_X509_value(chain, n - 1);
	if (n >= 2 && X509_check_issued(top, top) == X509_V_OK)
		return sk_X509_value(chain, n - 2);
	return top;
}

static int curl_failed(const char *issuer_url, const char *ca_file, CURLcode cc, const char *detail,
		       struct op_err *err)
{
	const char *why = detail[0] ? detail : curl_easy_strerror(cc);

	switch (cc) {
	case CURLE_PEER_FAILED_VERIFICATION:
		return op_err_set(err, -EBADMSG,
				  "the TLS certificate of OIDC issuer %s could not be verified against %s (%s): "
				  "its thumbprint is NOT pinned; set oidcIssuerCA to the PEM file of the CA that "
				  "issued it",
				  issuer_url, ca_file ? ca_file : "the system's trust store", why);
	case CURLE_SSL_CACERT_BADFILE:
		return op_err_set(err, -ENOENT, "thumbprint of %s: cannot use the CA file %s (%s)", issuer_url,
				  ca_file ? ca_file : "(system default)", why);
	case CURLE_OPERATION_TIMEDOUT:
		return op_err_set(err, -ETIMEDOUT, "thumbprint of %s: %s", issuer_url, why);
	case CURLE_OUT_OF_MEMORY:
		return op_err_set(err, -ENOMEM, "thumbprint of %s: %s", issuer_url, why);
	default:
		return op_err_set(err, -EHOSTUNREACH, "thumbprint of %s: %s", issuer_url, why);
	}
}

/* What the pre-request callback found on the verified connection. */
struct grab {
	CURL *curl;
	int r; /* 0 once md holds the digest; -errno otherwise */
	const char *why;
	unsigned char md[20];
};

/* Runs once the connection is up (TLS handshake done and verified, host name
 * checked) and before any request is sent; aborts the transfer: the chain is
 * all we came for. */
static int on_connected(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct grab *g = ud;
	struct curl_tlssessioninfo *tls = NULL;
	unsigned int mdlen = 0;
	X509 *cert;
	SSL *ssl;

	(void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
	if (curl_easy_getinfo(g->curl, CURLINFO_TLS_SSL_PTR, &tls) != CURLE_OK || !tls ||
	    tls->backend != CURLSSLBACKEND_OPENSSL || !tls->internals) {
		g->r = -EOPNOTSUPP;
		g->why = "libcurl does not use OpenSSL";
		return CURL_PREREQFUNC_ABORT;
	}
	ssl = tls->internals;
	/* curl fails the handshake otherwise; checked again because pinning depends on it */
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		g->r = -EBADMSG;
		g->why = "OpenSSL did not verify the chain";
		return CURL_PREREQFUNC_ABORT;
	}
	cert = top_intermediate(SSL_get0_verified_chain(ssl));
	if (!cert || !X509_digest(cert, EVP_sha1(), g->md, &mdlen) || mdlen != sizeof(g->md)) {
		g->r = -EPROTO;
		g->why = "no verified certificate chain";
		return CURL_PREREQFUNC_ABORT;
	}
	g->r = 0;
	return CURL_PREREQFUNC_ABORT;
}

int oidc_thumbprint(const char *issuer_url, const char *ca_file, char *out, struct op_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct grab g = { .r = -EPROTO, .why = "the connection was not established" };
	CURLcode cc;
	int r = 0;

	if (!issuer_url || strncasecmp(issuer_url, "https://", 8) != 0)
		return op_err_set(err, -EINVAL, "thumbprint of %s: only https:// issuers have a certificate to pin",
				  issuer_url ? issuer_url : "(none)");
	g.curl = curl_easy_init();
	if (!g.curl)
		return op_err_set(err, -ENOMEM, "thumbprint of %s: curl_easy_init failed", issuer_url);
	curl_easy_setopt(g.curl, CURLOPT_URL, issuer_url);
	curl_easy_setopt(g.curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(g.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(g.curl, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(g.curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(g.curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file)
		curl_easy_setopt(g.curl, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(g.curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(g.curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(g.curl, CURLOPT_PREREQFUNCTION, on_connected);
	curl_easy_setopt(g.curl, CURLOPT_PREREQDATA, &g);
	cc = curl_easy_perform(g.curl);
	if (cc != CURLE_OK && cc != CURLE_ABORTED_BY_CALLBACK) {
		r = curl_failed(issuer_url, ca_file, cc, errbuf, err);
		goto out;
	}
	if (g.r == -EBADMSG) {
		r = op_err_set(err, g.r,
			       "the TLS certificate of OIDC issuer %s could not be verified (%s): its thumbprint is "
			       "NOT pinned; set oidcIssuerCA to the PEM file of the CA that issued it",
			       issuer_url, g.why);
		goto out;
	}
	if (g.r < 0) {
		r = op_err_set(err, g.r, "thumbprint of %s: %s; the thumbprint is NOT pinned", issuer_url, g.why);
		goto out;
	}
	for (size_t i = 0; i < sizeof(g.md); i++)
		str_format(out + 2 * i, 3, "%02x", g.md[i]);
out:
	curl_easy_cleanup(g.curl);
	return r;
}
