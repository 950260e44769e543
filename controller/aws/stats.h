/* stats.h: the AWS operations keyless calls, and per-client call counters.
 *
 * Every API request (each page of a paginated list counts) is one call of
 * its operation; attempts count HTTP exchanges including retries. Only what
 * reaches the wire counts: a call that fails before sending anything (no
 * credentials, bad input) leaves the counters alone. Counters
 * are atomics inside the client: aws_stats_snapshot() can run on any thread
 * (metrics, tests asserting "AWS calls per reconcile").
 */
#ifndef KEYLESS_AWS_STATS_H
#define KEYLESS_AWS_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "aws/endpoint.h"

enum aws_op {
	/* IAM */
	AWS_OP_IAM_LIST_OIDC_PROVIDERS,
	AWS_OP_IAM_GET_OIDC_PROVIDER,
	AWS_OP_IAM_CREATE_OIDC_PROVIDER,
	AWS_OP_IAM_ADD_CLIENT_ID_TO_OIDC_PROVIDER,
	AWS_OP_IAM_TAG_OIDC_PROVIDER,
	AWS_OP_IAM_REMOVE_CLIENT_ID_FROM_OIDC_PROVIDER,
	AWS_OP_IAM_UNTAG_OIDC_PROVIDER,
	AWS_OP_IAM_GET_ROLE,
	AWS_OP_IAM_CREATE_ROLE,
	AWS_OP_IAM_UPDATE_ROLE,
	AWS_OP_IAM_UPDATE_ASSUME_ROLE_POLICY,
	AWS_OP_IAM_DELETE_ROLE,
	AWS_OP_IAM_TAG_ROLE,
	AWS_OP_IAM_UNTAG_ROLE,
	AWS_OP_IAM_LIST_ROLE_TAGS,
	AWS_OP_IAM_PUT_ROLE_POLICY,
	AWS_OP_IAM_GET_ROLE_POLICY,
	AWS_OP_IAM_DELETE_ROLE_POLICY,
	AWS_OP_IAM_LIST_ROLE_POLICIES,
	AWS_OP_IAM_ATTACH_ROLE_POLICY,
	AWS_OP_IAM_DETACH_ROLE_POLICY,
	AWS_OP_IAM_LIST_ATTACHED_ROLE_POLICIES,
	AWS_OP_IAM_PUT_ROLE_PERMISSIONS_BOUNDARY,
	AWS_OP_IAM_DELETE_ROLE_PERMISSIONS_BOUNDARY,
	AWS_OP_IAM_GET_ACCOUNT_SUMMARY,
	AWS_OP_IAM_LIST_ROLES,
	AWS_OP_IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS,
	/* STS */
	AWS_OP_STS_GET_CALLER_IDENTITY,
	AWS_OP_STS_ASSUME_ROLE_WITH_WEB_IDENTITY,
	AWS_OP_STS_ASSUME_ROLE,
	/* EKS */
	AWS_OP_EKS_DESCRIBE_CLUSTER,
	AWS_OP_EKS_CREATE_POD_IDENTITY_ASSOCIATION,
	AWS_OP_EKS_DESCRIBE_POD_IDENTITY_ASSOCIATION,
	AWS_OP_EKS_UPDATE_POD_IDENTITY_ASSOCIATION,
	AWS_OP_EKS_DELETE_POD_IDENTITY_ASSOCIATION,
	AWS_OP_EKS_LIST_POD_IDENTITY_ASSOCIATIONS,
	AWS_OP__COUNT,
};

struct aws_op_info {
	const char *name; /* the API's action name, e.g. "GetRole" */
	enum aws_service service;
	bool write;       /* mutates AWS state */
};

/* Static description of op (never NULL for a valid op). */
const struct aws_op_info *aws_op_info(enum aws_op op);

/* Look an op up by its action name ("GetRole"); -ENOENT if unknown. */
int aws_op_from_name(const char *name, enum aws_op *ret);

struct aws_op_stats {
	uint64_t calls;     /* API requests (pages count) */
	uint64_t attempts;  /* HTTP exchanges, retries included */
	uint64_t errors;    /* calls that ended in an error */
	uint64_t throttled; /* attempts answered with a throttling error */
};

struct aws_stats {
	struct aws_op_stats op[AWS_OP__COUNT];
	uint64_t reads, writes;        /* calls by classification */
	uint64_t retries;              /* attempts beyond the first */
	uint64_t quota_exhausted;      /* retries refused by the retry quota */
	uint64_t rate_limited;         /* IAM attempts that waited for a token */
	int64_t rate_limited_ns;       /* total wait for IAM tokens */
	double iam_rate;               /* IAM send rate now, calls/s (0 = no limit) */
	double iam_rate_measured;      /* IAM answers/s lately (smoothed) */
	uint64_t iam_rate_cuts;        /* throttling answers that cut the rate */
	int64_t backoff_ns;            /* total retry backoff slept */
};

struct aws_client;

/* Copy the client's counters. */
void aws_stats_snapshot(const struct aws_client *c, struct aws_stats *ret);

/* The calls one thread makes while a tally is attached to it (a reconcile's
 * own calls, whatever the other workers do meanwhile; the client's counters
 * above are the sum over all threads). Counted as `calls`: when the first
 * attempt reaches the wire. */
struct aws_call_tally {
	uint64_t reads, writes;
};

/* Attach t (the caller's, zeroed by it) to the calling thread, or detach with
 * NULL; returns the tally attached before. */
struct aws_call_tally *aws_call_tally_attach(struct aws_call_tally *t);

#endif
