#include "reconcile/thumbprint.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "base/str.h"

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
	(void)p, (void)ud;
	return s * n;
}

int oidc_thumbprint(const char *issuer_url, char *out, struct op_err *err)
{
	CURL *c = curl_easy_init();
	struct curl_certinfo *ci = NULL;
	const char *pem = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char url[1024];
	CURLcode cc;
	X509 *cert = NULL;
	BIO *bio;
	int r = 0;

	if (!c)
		return -ENOMEM;
	str_format(url, sizeof(url), "%s/.well-known/openid-configuration", issuer_url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L); /* we only read what is presented */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		r = op_err_set(err, -EHOSTUNREACH, "thumbprint of %s: %s", issuer_url, curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1) {
		r = op_err_set(err, -ENODATA, "thumbprint of %s: no certificate presented", issuer_url);
		goto out;
	}
	for (struct curl_slist *s = ci->certinfo[ci->num_of_certs - 1]; s; s = s->next) {
		if (strncmp(s->data, "Cert:", 5) == 0)
			pem = s->data + 5;
	}
	bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (!cert || !X509_digest(cert, EVP_sha1(), md, &mdlen) || mdlen != 20) {
		r = op_err_set(err, -EPROTO, "thumbprint of %s: cannot read the certificate", issuer_url);
		goto out;
	}
	for (unsigned i = 0; i < mdlen; i++)
		str_format(out + 2 * i, 3, "%02x", md[i]);
out:
	X509_free(cert);
	curl_easy_cleanup(c);
	return r;
}
