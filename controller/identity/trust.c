#include "identity/trust.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
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
