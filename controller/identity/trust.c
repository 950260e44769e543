#include "identity/trust.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/str.h"
#include "identity/documents.h"
#include "identity/naming.h"

#define POLICY_VERSION "2012-10-17"

static json_t *irsa_statement(const struct trust_irsa *t, const char *ns, const char *sa)
{
	const char *host = identity_issuer_host(t->issuer);
	struct buf sub_key = BUF_INIT(0), aud_key = BUF_INIT(0), sub = BUF_INIT(0);
	json_t *cond, *st = NULL;

	if (buf_printf(&sub_key, "%s:sub", host) < 0 || buf_printf(&aud_key, "%s:aud", host) < 0 ||
	    buf_printf(&sub, "system:serviceaccount:%s:%s", ns, sa) < 0)
		goto out;
	cond = json_object();
	if (cond) {
		json_object_set_new(cond, sub_key.data, json_string(sub.data));
		json_object_set_new(cond, aud_key.data, json_string(t->audience));
		st = json_pack("{s:s, s:{s:s}, s:s, s:{s:o}}", "Effect", "Allow", "Principal", "Federated",
			       t->provider_arn, "Action", "sts:AssumeRoleWithWebIdentity", "Condition", "StringEquals",
			       cond);
	}
out:
	buf_release(&sub_key);
	buf_release(&aud_key);
	buf_release(&sub);
	return st;
}

static json_t *pod_identity_statement(const struct trust_pod_identity *t, const char *ns, const char *sa)
{
	json_t *eq, *clusters;

	if (!t->session_tags)
		return json_pack("{s:s, s:{s:s}, s:s}", "Effect", "Allow", "Principal", "Service", POD_IDENTITY_SERVICE,
				 "Action", "sts:AssumeRole");
	eq = json_object();
	if (!eq)
		return NULL;
	if (t->n_clusters == 1) {
		clusters = json_string(t->cluster_arns[0]);
	} else {
		clusters = json_array();
		for (size_t i = 0; i < t->n_clusters; i++)
			json_array_append_new(clusters, json_string(t->cluster_arns[i]));
	}
	json_object_set_new(eq, "aws:RequestTag/eks-cluster-arn", clusters);
	json_object_set_new(eq, "aws:RequestTag/kubernetes-namespace", json_string(ns));
	json_object_set_new(eq, "aws:RequestTag/kubernetes-service-account", json_string(sa));
	return json_pack("{s:s, s:{s:s}, s:[s,s], s:{s:o}}", "Effect", "Allow", "Principal", "Service",
			 POD_IDENTITY_SERVICE, "Action", "sts:AssumeRole", "sts:TagSession", "Condition", "StringEquals",
			 eq);
}

char *identity_trust_document(const struct trust_want *w)
{
	json_t *stmts = json_array(), *doc;
	char *s = NULL;

	if (!stmts)
		return NULL;
	for (size_t i = 0; i < w->n_irsa; i++) {
		json_t *st = irsa_statement(&w->irsa[i], w->ns, w->sa);

		if (!st || json_array_append_new(stmts, st) < 0)
			goto out;
	}
	if (w->pod_identity) {
		json_t *st;

		if (w->pod_identity->session_tags && w->pod_identity->n_clusters == 0)
			goto out;
		st = pod_identity_statement(w->pod_identity, w->ns, w->sa);
		if (!st || json_array_append_new(stmts, st) < 0)
			goto out;
	}
	if (json_array_size(stmts) == 0)
		goto out;
	doc = json_pack("{s:s, s:O}", "Version", POLICY_VERSION, "Statement", stmts);
	if (doc)
		s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
out:
	json_decref(stmts);
	return s;
}

static bool is_string(const char *v, const char *s)
{
	return streq(v, s);
}

static bool names_oidc_provider(const char *v, const char *unused)
{
	(void)unused;
	return strstr(v, ":oidc-provider/") != NULL;
}

/* v is a string, or a list holding one, for which match(string, s) holds. */
static bool any_string(json_t *v, bool (*match)(const char *v, const char *s), const char *s)
{
	size_t i;
	json_t *item;

	if (json_is_string(v))
		return match(json_string_value(v), s);
	json_array_foreach(v, i, item) {
		if (json_is_string(item) && match(json_string_value(item), s))
			return true;
	}
	return false;
}

static int statement_kind(json_t *st)
{
	json_t *p = json_object_get(st, "Principal");

	if (!json_is_object(p) || json_object_size(p) != 1)
		return TRUST_OTHER;
	if (any_string(json_object_get(p, "Federated"), names_oidc_provider, NULL) &&
	    any_string(json_object_get(st, "Action"), is_string, "sts:AssumeRoleWithWebIdentity"))
		return TRUST_IRSA;
	if (any_string(json_object_get(p, "Service"), is_string, POD_IDENTITY_SERVICE))
		return TRUST_POD_IDENTITY;
	return TRUST_OTHER;
}

int identity_trust_kinds(const char *doc)
{
	json_t *root = json_loads(doc, JSON_DECODE_ANY, NULL), *stmts, *st;
	int kinds = 0;
	size_t i;

	if (!json_is_object(root)) {
		json_decref(root);
		return -EINVAL;
	}
	stmts = json_object_get(root, "Statement");
	if (json_is_object(stmts)) {
		kinds = statement_kind(stmts);
	} else if (json_is_array(stmts)) {
		json_array_foreach(stmts, i, st)
			kinds |= json_is_object(st) ? statement_kind(st) : TRUST_OTHER;
	} else {
		kinds = -EINVAL;
	}
	json_decref(root);
	return kinds;
}

/* --- shared (account-scoped) roles --------------------------------------------- */

/* The cluster name in an owner tag whose value is the issuer tag of host
 * ("oidc.../id/X"), or NULL. */
static const char *owner_of_issuer(const struct trust_shared_in *in, const char *host)
{
	char issuer[1100], tag[300];

	if (str_format(issuer, sizeof(issuer), "https://%s", host) < 0)
		return NULL;
	identity_issuer_tag(issuer, tag, sizeof(tag));
	for (size_t i = 0; i < in->n_tags; i++) {
		const char *c = identity_owner_tag_cluster(in->tags[i].key);

		if (c && strcasecmp(c, in->cluster) != 0 && streq(in->tags[i].value, tag))
			return c;
	}
	return NULL;
}

static bool other_owner(const struct trust_shared_in *in, const char *cluster)
{
	for (size_t i = 0; i < in->n_tags; i++) {
		const char *c = identity_owner_tag_cluster(in->tags[i].key);

		if (c && strcasecmp(c, in->cluster) != 0 && strcasecmp(c, cluster) == 0)
			return true;
	}
	return false;
}

/* The only condition is StringEquals with exactly these keys (and values
 * that are strings, but for the one named `list_ok`, which may be a list). */
static json_t *only_string_equals(json_t *st, size_t n_keys)
{
	json_t *c = json_object_get(st, "Condition"), *eq = json_object_get(c, "StringEquals");

	if (!json_is_object(c) || json_object_size(c) != 1 || !json_is_object(eq) || json_object_size(eq) != n_keys)
		return NULL;
	return eq;
}

static void shared_irsa(const struct trust_shared_in *in, json_t *st, const char *sub, struct trust_shared *out)
{
	const char *arn = json_string_value(json_object_get(json_object_get(st, "Principal"), "Federated"));
	const char *host = arn ? strstr(arn, ":oidc-provider/") : NULL, *aud;
	char key[1100];
	json_t *eq;

	if (!host)
		return;
	host += strlen(":oidc-provider/");
	if (in->provider_arn && streq(arn, in->provider_arn)) {
		out->own_kinds |= TRUST_IRSA;
		return;
	}
	if (!streq(json_string_value(json_object_get(st, "Action")) ?: "", "sts:AssumeRoleWithWebIdentity") ||
	    !(eq = only_string_equals(st, 2)) || !owner_of_issuer(in, host))
		return;
	if (str_format(key, sizeof(key), "%s:sub", host) < 0 ||
	    !streq(json_string_value(json_object_get(eq, key)) ?: "", sub))
		return;
	str_format(key, sizeof(key), "%s:aud", host);
	aud = json_string_value(json_object_get(eq, key));
	if (!aud || out->n_irsa >= TRUST_SHARED_MAX)
		return;
	for (size_t i = 0; i < out->n_irsa; i++) {
		if (streq(out->irsa[i].provider_arn, arn))
			return;
	}
	out->irsa[out->n_irsa++] = (struct trust_irsa){ arn, host, aud };
}

static void shared_cluster(const struct trust_shared_in *in, const char *arn, struct trust_shared *out)
{
	const char *name = arn ? strstr(arn, ":cluster/") : NULL;

	if (!name)
		return;
	if (in->cluster_arn && streq(arn, in->cluster_arn)) {
		out->own_kinds |= TRUST_POD_IDENTITY;
		return;
	}
	if (!other_owner(in, name + strlen(":cluster/")) || out->n_clusters >= TRUST_SHARED_MAX)
		return;
	for (size_t i = 0; i < out->n_clusters; i++) {
		if (streq(out->cluster_arns[i], arn))
			return;
	}
	out->cluster_arns[out->n_clusters++] = arn;
}

static void shared_pod_identity(const struct trust_shared_in *in, json_t *st, struct trust_shared *out)
{
	json_t *eq, *arns, *item;
	size_t i;

	if (!json_object_get(st, "Condition")) { /* session tags disabled: nobody's in particular */
		out->own_kinds |= TRUST_POD_IDENTITY;
		return;
	}
	eq = only_string_equals(st, 3);
	if (!eq || !streq(json_string_value(json_object_get(eq, "aws:RequestTag/kubernetes-namespace")) ?: "", in->ns) ||
	    !streq(json_string_value(json_object_get(eq, "aws:RequestTag/kubernetes-service-account")) ?: "", in->sa))
		return;
	arns = json_object_get(eq, "aws:RequestTag/eks-cluster-arn");
	if (json_is_string(arns))
		shared_cluster(in, json_string_value(arns), out);
	json_array_foreach(arns, i, item)
		shared_cluster(in, json_string_value(item), out);
}

static int cmp_irsa(const void *a, const void *b)
{
	return strcmp(((const struct trust_irsa *)a)->provider_arn, ((const struct trust_irsa *)b)->provider_arn);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void shared_statement(const struct trust_shared_in *in, json_t *st, const char *sub, struct trust_shared *out)
{
	if (!json_is_object(st) || !streq(json_string_value(json_object_get(st, "Effect")) ?: "", "Allow"))
		return;
	switch (statement_kind(st)) {
	case TRUST_IRSA: shared_irsa(in, st, sub, out); break;
	case TRUST_POD_IDENTITY: shared_pod_identity(in, st, out); break;
	default: break;
	}
}

int identity_trust_shared(const struct trust_shared_in *in, struct trust_shared *out)
{
	char sub[700];
	json_t *stmts, *st;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!in->observed || str_format(sub, sizeof(sub), "system:serviceaccount:%s:%s", in->ns, in->sa) < 0)
		return 0;
	out->doc = stmts = identity_policy_statements(in->observed); /* owns the strings kept */
	json_array_foreach(stmts, i, st)
		shared_statement(in, st, sub, out);
	return 0;
}

void identity_trust_shared_release(struct trust_shared *s)
{
	json_decref(s->doc);
	memset(s, 0, sizeof(*s));
}

char *identity_trust_shared_document(const struct trust_shared *others, const struct trust_want *own)
{
	struct trust_irsa irsa[TRUST_SHARED_MAX + 4];
	const char *clusters[TRUST_SHARED_MAX + 4];
	struct trust_pod_identity pi = { 0 };
	struct trust_want w = *own;
	size_t ni = 0, nc = 0;

	for (size_t i = 0; i < own->n_irsa && ni < ARRAY_SIZE(irsa); i++)
		irsa[ni++] = own->irsa[i];
	for (size_t i = 0; i < others->n_irsa && ni < ARRAY_SIZE(irsa); i++) {
		bool dup = false;

		for (size_t j = 0; j < own->n_irsa; j++)
			dup = dup || streq(own->irsa[j].provider_arn, others->irsa[i].provider_arn);
		if (!dup)
			irsa[ni++] = others->irsa[i];
	}
	qsort(irsa, ni, sizeof(irsa[0]), cmp_irsa);
	if (own->pod_identity) {
		pi = *own->pod_identity;
		for (size_t i = 0; i < pi.n_clusters && nc < ARRAY_SIZE(clusters); i++)
			clusters[nc++] = pi.cluster_arns[i];
	} else {
		pi.session_tags = true;
	}
	for (size_t i = 0; pi.session_tags && i < others->n_clusters && nc < ARRAY_SIZE(clusters); i++)
		clusters[nc++] = others->cluster_arns[i];
	qsort(clusters, nc, sizeof(clusters[0]), cmp_str);
	pi.cluster_arns = clusters;
	pi.n_clusters = nc;
	w.irsa = irsa;
	w.n_irsa = ni;
	w.pod_identity = own->pod_identity || nc ? &pi : NULL;
	return identity_trust_document(&w);
}
