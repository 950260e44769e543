#include "support.h"
#include "world.h"

#include "base/str.h"
#include "base/yamljson.h"
#include "identity/naming.h"
#include "kube/project.h"
#include "reconcile/steps.h"

static struct settings *parse_settings(const char *yaml)
{
	json_auto_t *doc = NULL;
	struct settings *s = NULL;
	struct op_err err;

	assert_int_equal(yaml_to_json(yaml, strlen(yaml), &doc, &err), 0);
	if (settings_parse(doc, "test", &s, &err) < 0)
		fail_msg("settings: %s", err.message);
	return s;
}

static int64_t world_realtime(void *ctx)
{
	return ((struct world *)ctx)->now_ns;
}

static int64_t world_monotonic(void *ctx)
{
	return clock_mono_ns(NULL) + ((struct world *)ctx)->mono_offset_ns;
}

/* The settings' other accounts, each a fake account of its own
 * (w->other_aws[i], reached through its client pointer). */
static void wi_accounts(struct world *w)
{
	size_t n = w->settings->n_accounts < WORLD_MAX_ACCOUNTS ? w->settings->n_accounts : WORLD_MAX_ACCOUNTS;

	for (size_t i = 0; i < n; i++) {
		str_copy(w->other_aws[i].account, sizeof(w->other_aws[i].account), w->settings->accounts[i].account_id);
		w->accounts[i] = (struct wi_account){ .id = w->settings->accounts[i].account_id,
						      .awsc = (struct aws_client *)(void *)&w->other_aws[i],
						      .entry = &w->settings->accounts[i] };
	}
	w->r.accounts = n ? w->accounts : NULL;
	w->r.n_accounts = n;
}

static struct world *make(const char *settings_yaml, const char *issuer, struct fake_aws *aws)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->settings = parse_settings(settings_yaml);
	w->aws = aws ? aws : &w->own_aws;
	fake_kube_init(&w->kube);
	fake_aws_current = w->aws;
	w->ops = fake_kube_ops(&w->kube);
	w->now_ns = WORLD_NOW;
	w->kube.token_issuer = issuer;
	w->kube.now_ns = WORLD_NOW; /* the API server's clock agrees unless a test moves one */
	w->clock = (struct clock){ .monotonic_ns = world_monotonic, .realtime_ns = world_realtime, .ctx = w };
	w->r = (struct wi_reconciler){ .settings = w->settings, .issuer = issuer, .account_id = WORLD_ACCOUNT,
				       .clock = &w->clock,
				       .partition = "aws", .region = "us-east-1", .aws = &fake_aws_api, .awsc = NULL, .kube = &w->ops,
				       .pods = w->kube.pods, .sas = w->kube.sas, .wis = w->kube.wis };
	wi_accounts(w);
	wi_reconciler_init(&w->r);
	return w;
}

struct world *world_new(const char *settings_yaml, const char *issuer)
{
	return make(settings_yaml, issuer, NULL);
}

struct world *world_new_sharing(const char *settings_yaml, const char *issuer, struct world *other)
{
	return make(settings_yaml, issuer, other->aws);
}

void world_free(struct world *w)
{
	if (!w)
		return;
	wi_reconciler_release(&w->r);
	fake_kube_release(&w->kube);
	if (w->aws == &w->own_aws)
		fake_aws_reset(&w->own_aws);
	for (size_t i = 0; i < WORLD_MAX_ACCOUNTS; i++)
		fake_aws_reset(&w->other_aws[i]);
	settings_free(w->settings);
	free(w);
}

void world_set_settings(struct world *w, const char *settings_yaml)
{
	settings_free(w->settings);
	w->settings = parse_settings(settings_yaml);
	w->r.settings = w->settings;
	/* a restarted controller has no cached provider */
	wi_reconciler_release(&w->r);
	wi_accounts(w);
	wi_reconciler_init(&w->r);
}

json_t *world_wi(const char *ns, const char *name, const char *sa, const char *created, int uid_n,
		 const char *extra_spec)
{
	char text[4096];
	json_t *o;

	snprintf(text, sizeof(text),
		 "{\"apiVersion\":\"keyless.dev/v1alpha1\",\"kind\":\"WorkloadIdentity\","
		 "\"metadata\":{\"namespace\":\"%s\",\"name\":\"%s\",\"uid\":\"11111111-2222-3333-4444-%012d\","
		 "\"generation\":1,\"creationTimestamp\":\"%s\"},"
		 "\"spec\":{\"serviceAccountName\":\"%s\",\"audience\":\"sts.amazonaws.com\",\"stsRegionalEndpoints\":true,"
		 "\"deletionPolicy\":\"Delete\",\"restart\":\"RolloutRestart\","
		 "\"permissions\":{\"statements\":[{\"sid\":\"ReadLogs\",\"effect\":\"Allow\","
		 "\"actions\":[\"s3:GetObject\"],\"resources\":[\"arn:aws:s3:::my-log-bucket/logs/*\"]}]}%s}}",
		 ns, name, uid_n, created, sa, extra_spec ? extra_spec : "");
	o = json_loads(text, 0, NULL);
	assert_non_null(o);
	return o;
}

json_t *world_sa(const char *ns, const char *name)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "apiVersion", "v1", "kind", "ServiceAccount", "metadata",
			 "namespace", ns, "name", name, "uid", "aaaaaaaa-0000-0000-0000-000000000001", "creationTimestamp",
			 "2026-01-01T00:00:00Z");
}

struct reconcile_result world_run(struct world *w, const char *key)
{
	fake_aws_current = w->aws;
	fake_aws_clear_calls(w->aws);
	for (size_t i = 0; i < WORLD_MAX_ACCOUNTS; i++)
		fake_aws_clear_calls(&w->other_aws[i]);
	fake_kube_clear_calls(&w->kube);
	return wi_reconcile(&w->r, key);
}

struct reconcile_result world_resync(struct world *w, const char *key)
{
	const char *slash = strchr(key, '/');
	char ns[256];

	assert_non_null(slash);
	str_format(ns, sizeof(ns), "%.*s", (int)(slash - key), key);
	wi_memo_forget(&w->r, ns, slash + 1);
	return world_run(w, key);
}

const char *world_calls(struct world *w)
{
	return fake_aws_call_list(w->aws, w->buf, sizeof(w->buf));
}

const char *world_cond(struct world *w, const char *ns, const char *name, const char *type, const char *field)
{
	json_t *o = fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, ns, name), *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, c) {
		if (streq(json_string_value(json_object_get(c, "type")), type))
			return json_string_value(json_object_get(c, field));
	}
	return "";
}

const char *world_status(struct world *w, const char *ns, const char *name, const char *field)
{
	return json_string_value(json_object_get(
		json_object_get(fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, ns, name), "status"), field));
}

const char *world_sa_annotation(struct world *w, const char *ns, const char *name, const char *key)
{
	return json_string_value(json_object_get(
		json_object_get(json_object_get(fake_kube_obj(&w->kube, &KUBE_SERVICEACCOUNTS, ns, name), "metadata"),
				"annotations"),
		key));
}

const char *world_role_name(struct world *w, const char *ns, const char *name, char *out, size_t size)
{
	struct role_key k = { .issuer = w->r.issuer, .prefix = w->settings->role_name_prefix,
			      .path = w->settings->role_path, .cluster = w->settings->cluster_name, .ns = ns,
			      .name = name, .account = w->settings->role_scope == ROLE_SCOPE_ACCOUNT };

	assert_int_equal(identity_role_name(&k, out, size), 0);
	return out;
}

void world_delete(struct world *w, const char *ns, const char *name)
{
	json_t *o = fake_kube_obj(&w->kube, &KUBE_WORKLOADIDENTITIES, ns, name);

	assert_non_null(o);
	json_object_set_new(json_object_get(o, "metadata"), "deletionTimestamp", json_string("2026-01-02T00:00:00Z"));
	fake_kube_put(&w->kube, &KUBE_WORKLOADIDENTITIES, json_deep_copy(o));
}
