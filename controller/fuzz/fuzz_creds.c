/* fuzz_creds: credential documents from outside the process: the IMDS and
 * container-credentials JSON (aws/creds.c), the IMDS exchange itself (token,
 * role name, document: aws/creds_providers.c, the transport answering each
 * request with the input), an exec plugin's ExecCredential (kube/auth.c, v1
 * and v1beta1), and the shared AWS config/credentials files (aws/config.c).
 * Input: one byte picks the parser, the rest is the document. */
#include "fuzz.h"

#include "aws/config.h"
#include "aws/creds.h"
#include "kube/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	struct aws_credentials *cr = NULL;
	struct op_err err;

	op_err_clear(&err);
	switch (sel % 6) {
	case 0:
		if (aws_creds_parse_json((const char *)in.p, in.n, &cr, &err) == 0) {
			FUZZ_ASSERT(cr->access_key_id && cr->secret_access_key);
			aws_credentials_unref(cr);
		}
		break;
	case 1:
	case 2: {
		struct kube_creds kc = { 0 };
		int64_t exp;

		if (kube_exec_credential_parse((const char *)in.p, in.n,
					       sel % 6 == 1 ? "client.authentication.k8s.io/v1"
							    : "client.authentication.k8s.io/v1beta1",
					       &kc, &exp, &err) == 0) {
			FUZZ_ASSERT(kc.token || (kc.cert_pem && kc.key_pem));
			kube_creds_release(&kc);
		}
		break;
	}
	case 3:
	case 4: {
		struct fuzz_aws f = { .status = 200, .body = (const char *)in.p, .body_len = in.n };
		struct aws_client *c = fuzz_aws_client(&f);
		struct aws_creds_provider *p = NULL;

		if (sel % 6 == 3)
			(void)aws_creds_provider_imds("http://169.254.169.254", 1000, 1, false, &p);
		else
			(void)aws_creds_provider_container("http://169.254.170.2/v1/credentials", NULL, "tok", &p);
		if (p && p->fetch(p, c, &cr, &err) == 0) {
			FUZZ_ASSERT(cr->access_key_id && cr->secret_access_key);
			aws_credentials_unref(cr);
		}
		aws_creds_provider_free(p);
		aws_client_free(c);
		break;
	}
	case 5: {
		struct fuzz_in a, b;
		char pa[64], pb[64];
		int fa, fb;
		struct aws_shared_config *cfg = NULL;

		fuzz_split(&in, &a, &b);
		fa = fuzz_memfile(a.p, a.n, pa);
		fb = fuzz_memfile(b.p, b.n, pb);
		if (aws_shared_config_load_files(pa, pb, &cfg, &err) == 0) {
			static const char *const keys[] = { "region", "role_arn", "aws_access_key_id",
							    "source_profile", "web_identity_token_file" };

			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				(void)aws_shared_config_get(cfg, "default", keys[i]);
				(void)aws_shared_config_get(cfg, "a", keys[i]);
			}
			(void)aws_shared_config_has_profile(cfg, "a");
			aws_shared_config_free(cfg);
		}
		close(fa);
		close(fb);
		break;
	}
	}
	return 0;
}
