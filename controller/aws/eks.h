/* eks.h: the AWS EKS calls keyless needs (REST-JSON, 2017-11-01).
 *
 * Conventions as iam.h. Requests are built as botocore's EKS model says
 * (path labels and query values percent-encoded with the unreserved set,
 * JSON bodies with the model's member names); list calls follow nextToken.
 * Timestamps (createdAt, modifiedAt) are epoch seconds in the answers and
 * come back as ns since the epoch (0 if absent).
 *
 * The five Pod Identity association calls round-trip against the local
 * moto, to which hack/cluster/moto_eks_pod_identity.py adds them (moto 5.2.5
 * has none), and are checked against botocore's serializer (docs/aws.md).
 */
#ifndef KEYLESS_AWS_EKS_H
#define KEYLESS_AWS_EKS_H

#include <stdbool.h>
#include <stdint.h>

#include "aws/client.h"
#include "aws/types.h"
#include "base/err.h"

struct eks_cluster {
	char *name;
	char *arn;
	char *status;     /* "ACTIVE", "CREATING", ... */
	char *version;    /* Kubernetes version */
	char *endpoint;   /* API server URL */
	char *oidc_issuer; /* identity.oidc.issuer, NULL if none */
	char *certificate_authority; /* base64 PEM (certificateAuthority.data) */
	char *platform_version;
	int64_t created_at_ns;
	struct aws_tag_list tags;
};
void eks_cluster_free(struct eks_cluster *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct eks_cluster *, eks_cluster_free)

int eks_describe_cluster(struct aws_client *c, const char *name, struct eks_cluster **ret, struct op_err *err);

struct eks_pod_identity_association {
	char *cluster_name;
	char *namespace_name;
	char *service_account;
	char *role_arn;
	char *association_arn;
	char *association_id;
	char *owner_arn;       /* NULL unless created by an EKS add-on */
	char *target_role_arn; /* NULL if none */
	char *external_id;
	char *policy;          /* the session policy (JSON text), NULL if none */
	bool disable_session_tags;
	int64_t created_at_ns;
	int64_t modified_at_ns;
	struct aws_tag_list tags;
};
void eks_pod_identity_association_free(struct eks_pod_identity_association *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct eks_pod_identity_association *, eks_pod_identity_association_free)

struct eks_create_pod_identity_association_input {
	const char *cluster_name;    /* required */
	const char *namespace_name;  /* required */
	const char *service_account; /* required */
	const char *role_arn;        /* required */
	const char *client_request_token; /* idempotency token; NULL = a new UUID */
	const struct aws_tag_in *tags;
	size_t n_tags;
	const char *target_role_arn; /* NULL: none */
	const char *policy;          /* session policy JSON; NULL: none (EKS requires disable_session_tags with it) */
	bool disable_session_tags;   /* sent only when true */
};

/* An optional boolean of an update: left out, or sent. */
enum eks_bool { EKS_BOOL_UNCHANGED = 0, EKS_BOOL_FALSE, EKS_BOOL_TRUE };

struct eks_update_pod_identity_association_input {
	const char *cluster_name;   /* required */
	const char *association_id; /* required */
	const char *role_arn;       /* NULL = unchanged */
	const char *client_request_token; /* NULL = a new UUID */
	const char *target_role_arn; /* NULL = unchanged */
	const char *policy;          /* NULL = unchanged */
	enum eks_bool disable_session_tags;
};

/* One entry of ListPodIdentityAssociations. */
struct eks_pod_identity_association_summary {
	char *cluster_name;
	char *namespace_name;
	char *service_account;
	char *association_arn;
	char *association_id;
	char *owner_arn;
};
struct eks_pod_identity_association_list {
	struct eks_pod_identity_association_summary *items;
	size_t n;
};
void eks_pod_identity_association_list_release(struct eks_pod_identity_association_list *l);

int eks_create_pod_identity_association(struct aws_client *c,
					const struct eks_create_pod_identity_association_input *in,
					struct eks_pod_identity_association **ret, struct op_err *err);
int eks_describe_pod_identity_association(struct aws_client *c, const char *cluster_name, const char *association_id,
					  struct eks_pod_identity_association **ret, struct op_err *err);
int eks_update_pod_identity_association(struct aws_client *c,
					const struct eks_update_pod_identity_association_input *in,
					struct eks_pod_identity_association **ret, struct op_err *err);
/* ret may be NULL (the deleted association is then dropped). */
int eks_delete_pod_identity_association(struct aws_client *c, const char *cluster_name, const char *association_id,
					struct eks_pod_identity_association **ret, struct op_err *err);
/* All associations of a cluster, optionally filtered by namespace and/or
 * service account (NULL = no filter); max_results 0 = not sent (EKS's page size). */
int eks_list_pod_identity_associations(struct aws_client *c, const char *cluster_name, const char *namespace_name,
				       const char *service_account, int max_results,
				       struct eks_pod_identity_association_list *ret, struct op_err *err);

/* A random (v4) UUID, as botocore fills idempotency tokens. out: 37 bytes. */
void eks_uuid4(char out[37]);

#endif
