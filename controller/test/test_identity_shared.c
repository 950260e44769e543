/* Unit tests of the pure side of shared roles (roleScope Account, issue
 * 12): the role name without the cluster, whose role it is by its tags,
 * and which parts of a shared trust policy belong to the other owners. */
#include "support.h"

#include <openssl/sha.h>

#include "identity/naming.h"
#include "identity/trust.h"

#define ISSUER_A "https://oidc.eks.us-east-1.amazonaws.com/id/AAA"
#define HOST_A "oidc.eks.us-east-1.amazonaws.com/id/AAA"
#define HOST_B "oidc.eks.eu-west-1.amazonaws.com/id/BBB"
#define PROVIDER(h) "arn:aws:iam::123456789012:oidc-provider/" h
#define CLUSTER(n) "arn:aws:eks:us-east-1:123456789012:cluster/" n

/* The documented name, computed here from naming.h's description. */
static void expected_name(const char *prefix, const char *path, const char *ns, const char *name, char *out,
			  size_t size)
{
	char input[512], readable[256];
	unsigned char d[SHA256_DIGEST_LENGTH];

	snprintf(input, sizeof(input), "keyless-role/account/v1\n%s\n%s\n%s\n%s", prefix, path, ns, name);
	SHA256((const unsigned char *)input, strlen(input), d);
	snprintf(readable, sizeof(readable), "%s%s+%s", prefix, ns, name);
	readable[strlen(readable) > 47 ? 47 : strlen(readable)] = '\0';
	snprintf(out, size, "%s@%02x%02x%02x%02x%02x%02x%02x%02x", readable, d[0], d[1], d[2], d[3], d[4], d[5], d[6],
		 d[7]);
}

static void test_shared__role_name_leaves_out_the_cluster(void **state)
{
	struct role_key k = { .issuer = ISSUER_A, .prefix = "", .path = "/keyless/", .cluster = "prod", .ns = "logging",
			      .name = "s3-reader", .account = true };
	char got[IAM_ROLE_NAME_MAX + 1], want[128], cluster_scoped[IAM_ROLE_NAME_MAX + 1];

	(void)state;
	assert_int_equal(identity_role_name(&k, got, sizeof(got)), 0);
	expected_name("", "/keyless/", "logging", "s3-reader", want, sizeof(want));
	assert_string_equal(got, want);
	/* another cluster, another issuer: the same name */
	k.cluster = "stage";
	k.issuer = "https://oidc.example.com/x";
	assert_int_equal(identity_role_name(&k, cluster_scoped, sizeof(cluster_scoped)), 0);
	assert_string_equal(cluster_scoped, got);
	/* the cluster-scoped name of the same identity differs */
	k.account = false;
	assert_int_equal(identity_role_name(&k, cluster_scoped, sizeof(cluster_scoped)), 0);
	assert_string_not_equal(cluster_scoped, got);
	/* long names are cut to 47 readable characters; the prefix counts */
	k = (struct role_key){ .prefix = "k-", .path = "/", .ns = "a-namespace-with-a-rather-long-name",
			       .name = "and-an-object-name-that-is-long-too", .account = true };
	assert_int_equal(identity_role_name(&k, got, sizeof(got)), 0);
	expected_name("k-", "/", k.ns, k.name, want, sizeof(want));
	assert_string_equal(got, want);
	assert_int_equal(strlen(got), 64);
	/* what IAM refuses is still refused */
	k.name = "x/y";
	assert_int_equal(identity_role_name(&k, got, sizeof(got)), -EINVAL);
}

static const struct {
	const char *what;
	struct wi_tag tags[6];
	size_t n;
	enum role_owner want;
} owners[] = {
	{ "this cluster owns it",
	  { { "keyless.dev/scope", "Account" }, { "keyless.dev/namespace", "ns" }, { "keyless.dev/name", "n" },
	    { "keyless.dev/owner/prod", HOST_A } }, 4, ROLE_OWNED },
	{ "owner tag key in another case (IAM keys are case-insensitive)",
	  { { "keyless.dev/scope", "Account" }, { "keyless.dev/namespace", "ns" }, { "keyless.dev/name", "n" },
	    { "Keyless.dev/Owner/prod", HOST_A } }, 4, ROLE_OWNED },
	{ "another cluster owns it: this one may join",
	  { { "keyless.dev/scope", "Account" }, { "keyless.dev/namespace", "ns" }, { "keyless.dev/name", "n" },
	    { "keyless.dev/owner/stage", HOST_B } }, 4, ROLE_SHARED },
	{ "nobody owns it any more",
	  { { "keyless.dev/scope", "Account" }, { "keyless.dev/namespace", "ns" }, { "keyless.dev/name", "n" } }, 3,
	  ROLE_SHARED },
	{ "a cluster of this name with another issuer",
	  { { "keyless.dev/scope", "Account" }, { "keyless.dev/namespace", "ns" }, { "keyless.dev/name", "n" },
	    { "keyless.dev/owner/prod", HOST_B } }, 4, ROLE_OTHER_CLUSTER },
	{ "shared, for another namespace",
	  { { "keyless.dev/scope", "Account" }, { "keyless.dev/namespace", "other" }, { "keyless.dev/name", "n" },
	    { "keyless.dev/owner/prod", HOST_A } }, 4, ROLE_FOREIGN },
	{ "an owner tag without the scope tag is not keyless' shared role",
	  { { "keyless.dev/namespace", "ns" }, { "keyless.dev/name", "n" }, { "keyless.dev/owner/prod", HOST_A } }, 3,
	  ROLE_FOREIGN },
	{ "scope with another value",
	  { { "keyless.dev/scope", "account" }, { "keyless.dev/namespace", "ns" }, { "keyless.dev/name", "n" },
	    { "keyless.dev/owner/prod", HOST_A } }, 4, ROLE_FOREIGN },
	{ "a cluster-scoped role of this cluster is judged as before",
	  { { "keyless.dev/cluster", "prod" }, { "keyless.dev/issuer", HOST_A }, { "keyless.dev/namespace", "ns" },
	    { "keyless.dev/name", "n" }, { "keyless.dev/uid", "u1" } }, 5, ROLE_OWNED },
};

static void test_shared__owner_by_tags(void **state)
{
	const struct owner_key k = { .issuer_tag = HOST_A, .cluster = "prod", .ns = "ns", .name = "n", .uid = "u1" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(owners); i++) {
		enum role_owner got = identity_role_owner(owners[i].tags, owners[i].n, &k);

		if (got != owners[i].want)
			fail_msg("%s: got %d, want %d", owners[i].what, got, owners[i].want);
	}
	assert_string_equal(identity_owner_tag_cluster("KEYLESS.DEV/OWNER/stage"), "stage");
	assert_null(identity_owner_tag_cluster("keyless.dev/owner/"));
	assert_null(identity_owner_tag_cluster("keyless.dev/name"));
	assert_int_equal(identity_other_owners(owners[0].tags, 4, "prod"), 0);
	assert_int_equal(identity_other_owners(owners[2].tags, 4, "prod"), 1);
}

/* A shared role's trust policy as two owners (prod on A, stage on B) left
 * it, plus what nobody may keep. */
static const char observed[] =
	"{\"Version\":\"2012-10-17\",\"Statement\":["
	/* prod's own */
	"{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" PROVIDER(HOST_A) "\"},"
	"\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringEquals\":{"
	"\"" HOST_A ":sub\":\"system:serviceaccount:ns:sa\",\"" HOST_A ":aud\":\"sts.amazonaws.com\"}}},"
	/* stage's: kept */
	"{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" PROVIDER(HOST_B) "\"},"
	"\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringEquals\":{"
	"\"" HOST_B ":sub\":\"system:serviceaccount:ns:sa\",\"" HOST_B ":aud\":\"other-aud\"}}},"
	/* a cluster that let go (no owner tag): dropped */
	"{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" PROVIDER("oidc.example.com/id/GONE") "\"},"
	"\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringEquals\":{"
	"\"oidc.example.com/id/GONE:sub\":\"system:serviceaccount:ns:sa\","
	"\"oidc.example.com/id/GONE:aud\":\"sts.amazonaws.com\"}}},"
	/* stage's provider but trusting another service account, or with a wildcard: dropped */
	"{\"Effect\":\"Allow\",\"Principal\":{\"Federated\":\"" PROVIDER(HOST_B) "\"},"
	"\"Action\":\"sts:AssumeRoleWithWebIdentity\",\"Condition\":{\"StringLike\":{"
	"\"" HOST_B ":sub\":\"system:serviceaccount:*\",\"" HOST_B ":aud\":\"sts.amazonaws.com\"}}},"
	/* Pod Identity: prod, stage and a stranger */
	"{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"pods.eks.amazonaws.com\"},"
	"\"Action\":[\"sts:AssumeRole\",\"sts:TagSession\"],\"Condition\":{\"StringEquals\":{"
	"\"aws:RequestTag/eks-cluster-arn\":[\"" CLUSTER("stage") "\",\"" CLUSTER("prod") "\",\"" CLUSTER("evil") "\"],"
	"\"aws:RequestTag/kubernetes-namespace\":\"ns\",\"aws:RequestTag/kubernetes-service-account\":\"sa\"}}},"
	/* anything else: dropped */
	"{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999999999999:root\"},\"Action\":\"sts:AssumeRole\"}"
	"]}";

static const struct wi_tag both_tags[] = {
	{ "keyless.dev/scope", "Account" }, { "keyless.dev/namespace", "ns" }, { "keyless.dev/name", "n" },
	{ "keyless.dev/owner/prod", HOST_A }, { "keyless.dev/owner/stage", HOST_B },
};

static void test_shared__other_owners_parts(void **state)
{
	const struct trust_shared_in in = { .observed = observed, .tags = both_tags, .n_tags = ARRAY_SIZE(both_tags),
					    .cluster = "prod", .provider_arn = PROVIDER(HOST_A),
					    .cluster_arn = CLUSTER("prod"), .ns = "ns", .sa = "sa" };
	struct trust_shared s;

	(void)state;
	assert_int_equal(identity_trust_shared(&in, &s), 0);
	assert_int_equal(s.own_kinds, TRUST_IRSA | TRUST_POD_IDENTITY);
	assert_int_equal(s.n_irsa, 1);
	assert_string_equal(s.irsa[0].provider_arn, PROVIDER(HOST_B));
	assert_string_equal(s.irsa[0].audience, "other-aud");
	assert_int_equal(s.n_clusters, 1);
	assert_string_equal(s.cluster_arns[0], CLUSTER("stage"));
	identity_trust_shared_release(&s);
	/* no policy, or not JSON: nothing */
	struct trust_shared_in bad = in;
	bad.observed = "not json";
	assert_int_equal(identity_trust_shared(&bad, &s), 0);
	assert_int_equal(s.n_irsa + s.n_clusters + (size_t)s.own_kinds, 0);
	identity_trust_shared_release(&s);
}

/* Every owner computes the same document from the same facts: prod's view
 * and stage's view of one role agree byte for byte. */
static char *as_owner(const char *cluster, const char *host, const char *audience, const char *doc)
{
	char provider[256], cluster_arn[256], issuer[256];
	struct trust_shared s;
	char *out;

	snprintf(provider, sizeof(provider), PROVIDER("%s"), host);
	snprintf(cluster_arn, sizeof(cluster_arn), CLUSTER("%s"), cluster);
	snprintf(issuer, sizeof(issuer), "https://%s", host);
	const struct trust_shared_in in = { .observed = doc, .tags = both_tags, .n_tags = ARRAY_SIZE(both_tags),
					    .cluster = cluster, .provider_arn = provider, .cluster_arn = cluster_arn,
					    .ns = "ns", .sa = "sa" };
	const struct trust_irsa irsa = { provider, issuer, audience };
	const char *clusters[] = { cluster_arn };
	const struct trust_pod_identity pi = { "123456789012", clusters, 1, true };
	const struct trust_want w = { .ns = "ns", .sa = "sa", .irsa = &irsa, .n_irsa = 1, .pod_identity = &pi };

	assert_int_equal(identity_trust_shared(&in, &s), 0);
	out = identity_trust_shared_document(&s, &w);
	identity_trust_shared_release(&s);
	assert_non_null(out);
	return out;
}

static void test_shared__owners_agree(void **state)
{
	char *a = as_owner("prod", HOST_A, "sts.amazonaws.com", observed);
	char *b = as_owner("stage", HOST_B, "other-aud", a);
	char *a2 = as_owner("prod", HOST_A, "sts.amazonaws.com", b);

	(void)state;
	assert_string_equal(a, b);
	assert_string_equal(a, a2);
	assert_null(strstr(a, "GONE"));
	assert_null(strstr(a, "evil"));
	assert_null(strstr(a, "999999999999"));
	assert_null(strstr(a, "system:serviceaccount:*"));
	/* sorted: eu-west-1 (stage) before us-east-1 (prod); cluster ARNs by value */
	assert_true(strstr(a, HOST_B ":sub") < strstr(a, HOST_A ":sub"));
	assert_non_null(strstr(a, "[\"" CLUSTER("prod") "\",\"" CLUSTER("stage") "\"]"));
	free(a);
	free(b);
	free(a2);
}

/* A cluster letting go wants nothing: the others' parts remain; with no
 * other part there is no document (the trust is left as it is). */
static void test_shared__release(void **state)
{
	const struct trust_shared_in in = { .observed = observed, .tags = both_tags, .n_tags = ARRAY_SIZE(both_tags),
					    .cluster = "prod", .provider_arn = PROVIDER(HOST_A),
					    .cluster_arn = CLUSTER("prod"), .ns = "ns", .sa = "sa" };
	const struct trust_want none = { .ns = "ns", .sa = "sa" };
	struct trust_shared s;
	char *doc;

	(void)state;
	assert_int_equal(identity_trust_shared(&in, &s), 0);
	doc = identity_trust_shared_document(&s, &none);
	assert_non_null(doc);
	assert_null(strstr(doc, HOST_A));
	assert_null(strstr(doc, CLUSTER("prod")));
	assert_non_null(strstr(doc, HOST_B ":sub"));
	assert_non_null(strstr(doc, "\"aws:RequestTag/eks-cluster-arn\":\"" CLUSTER("stage") "\""));
	free(doc);
	identity_trust_shared_release(&s);
	memset(&s, 0, sizeof(s));
	assert_null(identity_trust_shared_document(&s, &none));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared__role_name_leaves_out_the_cluster),
		cmocka_unit_test(test_shared__owner_by_tags),
		cmocka_unit_test(test_shared__other_owners_parts),
		cmocka_unit_test(test_shared__owners_agree),
		cmocka_unit_test(test_shared__release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
