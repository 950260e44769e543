/* fuzz_aws_eks: EKS answers (REST JSON: aws/eks.c) through the client
 * pipeline. Input: one byte picks the call, the rest is the 200 body. */
#include "fuzz.h"

#include "aws/eks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t sel = fuzz_byte(&in);
	struct fuzz_aws f = { .status = 200, .body = (const char *)in.p, .body_len = in.n };
	struct aws_client *c = fuzz_aws_client(&f);
	struct eks_pod_identity_association *a = NULL;
	struct op_err err;

	op_err_clear(&err);
	switch (sel % 4) {
	case 0: {
		struct eks_cluster *x = NULL;

		if (eks_describe_cluster(c, "prod", &x, &err) == 0)
			eks_cluster_free(x);
		break;
	}
	case 1: {
		struct eks_create_pod_identity_association_input ci = {
			.cluster_name = "prod", .namespace_name = "ns", .service_account = "sa",
			.role_arn = "arn:aws:iam::123456789012:role/r", .client_request_token = "t",
		};

		if (eks_create_pod_identity_association(c, &ci, &a, &err) == 0)
			eks_pod_identity_association_free(a);
		break;
	}
	case 2:
		if (eks_describe_pod_identity_association(c, "prod", "a-1", &a, &err) == 0)
			eks_pod_identity_association_free(a);
		break;
	case 3: {
		struct eks_pod_identity_association_list l = { 0 };

		if (eks_list_pod_identity_associations(c, "prod", "ns", NULL, 0, &l, &err) == 0)
			eks_pod_identity_association_list_release(&l);
		break;
	}
	}
	aws_client_free(c);
	return 0;
}
