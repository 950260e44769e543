/* kube_probe: drives controller/kube against a real kube-apiserver for the
 * e2e tests (e2e/test_kube_client.py). Uses $KUBECONFIG (or --kubeconfig).
 *
 *   kube_probe list PATH [--limit N]
 *       {"pages":N,"items":["ns/name",...],"resourceVersion":"..."}
 *   kube_probe request METHOD PATH [--body JSON] [--patch merge|json|apply] [--field-manager M] [--force]
 *       {"rc":-errno,"reason":"...","message":"...","http":N,"object":{...}}
 *   kube_probe delete PATH [--uid U] [--rv RV]
 *   kube_probe informer RESOURCE [--namespace NS] [--watch-timeout S] [--resync-ms N]
 *       prints one JSON line per change; reads commands on stdin:
 *       "dump" -> {"dump":{"ns/name":"rv",...},"stats":{...},"synced":true}; "quit" (or EOF) -> exit
 *   kube_probe event NS KIND APIVERSION NAME UID REASON TIMES NOTE
 *       {"created":N,"updated":N,"failed":N}
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/macros.h"
#include "base/str.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/events.h"
#include "kube/informer.h"
#include "kube/project.h"

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	pthread_mutex_lock(&out_lock);
	if (s)
		printf("%s\n", s);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
	free(s);
	json_decref(o);
}

static json_t *err_json(int rc, const struct op_err *e)
{
	return json_pack("{s:i, s:s, s:s, s:i}", "rc", rc, "reason", e->reason, "message", e->message, "http",
			 e->http_status);
}

static const char *opt(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc - 1; i++) {
		if (streq(argv[i], name))
			return argv[i + 1];
	}
	return NULL;
}

static bool flag(int argc, char **argv, const char *name)
{
	for (int i = 0; i < argc; i++) {
		if (streq(argv[i], name))
			return true;
	}
	return false;
}

static int collect_name(json_t *item, void *ctx)
{
	json_t *meta = json_object_get(item, "metadata");
	const char *ns = json_string_value(json_object_get(meta, "namespace"));
	struct buf b = BUF_INIT(0);

	if (buf_printf(&b, "%s/%s", ns ? ns : "", json_string_value(json_object_get(meta, "name"))) < 0)
		return -ENOMEM;
	json_array_append_new(ctx, json_string(b.data));
	buf_release(&b);
	return 0;
}

static int cmd_list(struct kube_client *c, int argc, char **argv)
{
	struct kube_list_opts lo = { 0 };
	json_t *items = json_array();
	_cleanup_free_ char *rv = NULL;
	unsigned pages = 0;
	struct op_err e;
	long limit = 0;
	int rc;

	if (opt(argc, argv, "--limit"))
		str_to_long(opt(argc, argv, "--limit"), 1, 100000, &limit);
	lo.limit = limit;
	op_err_clear(&e);
	rc = kube_list(c, argv[2], &lo, collect_name, items, &rv, &pages, &e);
	if (rc < 0) {
		json_decref(items);
		emit(err_json(rc, &e));
		return 1;
	}
	emit(json_pack("{s:i, s:o, s:s}", "pages", pages, "items", items, "resourceVersion", rv ? rv : ""));
	return 0;
}

static int cmd_request(struct kube_client *c, int argc, char **argv)
{
	const char *method = argv[2], *path = argv[3], *body = opt(argc, argv, "--body");
	const char *patch = opt(argc, argv, "--patch"), *fm = opt(argc, argv, "--field-manager");
	json_t *out = NULL;
	struct op_err e;
	int rc;

	op_err_clear(&e);
	if (streq(method, "PATCH")) {
		enum kube_patch_type t = KUBE_PATCH_MERGE;

		if (patch && streq(patch, "json"))
			t = KUBE_PATCH_JSON;
		else if (patch && streq(patch, "apply"))
			t = KUBE_PATCH_APPLY;
		else if (patch && streq(patch, "strategic"))
			t = KUBE_PATCH_STRATEGIC;
		rc = kube_patch(c, path, t, body, fm, flag(argc, argv, "--force"), &out, &e);
	} else if (streq(method, "GET")) {
		rc = kube_get(c, path, &out, &e);
	} else {
		json_t *obj = body ? json_loads(body, 0, NULL) : NULL;

		if (!obj) {
			fprintf(stderr, "kube_probe: --body must be JSON\n");
			return 2;
		}
		rc = streq(method, "POST") ? kube_create(c, path, obj, &out, &e) : kube_update(c, path, obj, &out, &e);
		json_decref(obj);
	}
	if (rc < 0) {
		emit(err_json(rc, &e));
		return 0;
	}
	emit(json_pack("{s:i, s:o}", "rc", 0, "object", out ? out : json_null()));
	return 0;
}

static int cmd_delete(struct kube_client *c, int argc, char **argv)
{
	struct kube_delete_opts d = { .uid = opt(argc, argv, "--uid"), .resource_version = opt(argc, argv, "--rv") };
	struct op_err e;
	int rc;

	op_err_clear(&e);
	rc = kube_delete(c, argv[2], &d, &e);
	emit(rc < 0 ? err_json(rc, &e) : json_pack("{s:i}", "rc", 0));
	return 0;
}

static const char *change_name(enum kube_change_type t)
{
	switch (t) {
	case KUBE_CHANGE_ADDED: return "ADDED";
	case KUBE_CHANGE_UPDATED: return "UPDATED";
	case KUBE_CHANGE_DELETED: return "DELETED";
	case KUBE_CHANGE_RESYNC: return "RESYNC";
	default: return "NONE";
	}
}

static void on_change(const struct kube_change *ch, void *ctx)
{
	(void)ctx;
	emit(json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "change", change_name(ch->type), "ns", ch->ns, "name", ch->name,
		       "idx", ch->idx, "old_idx", ch->old_idx));
}

struct dump_ctx {
	struct kube_cache *c;
	json_t *out;
};

static int dump_one(const struct kobj *o, void *ctx)
{
	struct dump_ctx *d = ctx;
	struct buf k = BUF_INIT(0);
	const char *val = "";

	if (kube_cache_kind(d->c) == &KUBE_KIND_GENERIC)
		val = ((const struct generic_proj *)o)->resource_version;
	else if (o->idx)
		val = o->idx->s;
	if (buf_printf(&k, "%s/%s", o->ns->s, kobj_name(d->c, o)) < 0)
		return -ENOMEM;
	json_object_set_new(d->out, k.data, json_string(val));
	buf_release(&k);
	return 0;
}

static int cmd_informer(struct kube_client *c, int argc, char **argv)
{
	const char *res = argv[2];
	const struct kube_resource *r = &KUBE_CONFIGMAPS;
	const struct kube_kind *kind = &KUBE_KIND_GENERIC;
	struct kube_informer_opts o = { .client = c, .namespace = opt(argc, argv, "--namespace"), .on_change = on_change };
	struct kube_informer *inf;
	char line[256];
	long wt = 0, resync = 0;

	if (streq(res, "pods")) {
		r = &KUBE_PODS;
		kind = &KUBE_KIND_POD;
	} else if (streq(res, "serviceaccounts")) {
		r = &KUBE_SERVICEACCOUNTS;
		kind = &KUBE_KIND_SERVICEACCOUNT;
	}
	o.resource = r;
	o.kind = kind;
	if (opt(argc, argv, "--watch-timeout") && str_to_long(opt(argc, argv, "--watch-timeout"), 1, 3600, &wt) == 0)
		o.watch_timeout_min_s = o.watch_timeout_max_s = wt;
	if (opt(argc, argv, "--resync-ms") && str_to_long(opt(argc, argv, "--resync-ms"), 1, 3600000, &resync) == 0)
		o.resync_ns = resync * NSEC_PER_MSEC;
	o.backoff_base_ns = 200 * NSEC_PER_MSEC; /* tests: reconnect quickly */
	o.backoff_max_ns = 2 * NSEC_PER_SEC;
	if (kube_informer_new(&o, &inf) < 0 || kube_informer_start(inf) < 0)
		return 1;
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if (streq(line, "quit"))
			break;
		if (streq(line, "dump")) {
			struct dump_ctx d = { .c = kube_informer_cache(inf), .out = json_object() };
			struct kube_informer_stats st;
			struct op_err le;

			kube_cache_rdlock(d.c);
			kube_cache_foreach(d.c, dump_one, &d);
			kube_cache_rdunlock(d.c);
			kube_informer_get_stats(inf, &st);
			kube_informer_last_error(inf, &le);
			emit(json_pack("{s:o, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}, s:s}", "dump", d.out, "synced",
				       kube_informer_synced(inf), "stats", "lists", (json_int_t)st.lists, "pages",
				       (json_int_t)st.pages, "relists_gone", (json_int_t)st.relists_gone, "watches",
				       (json_int_t)st.watches, "events", (json_int_t)st.events, "bookmarks",
				       (json_int_t)st.bookmarks, "errors", (json_int_t)st.errors, "resource_version",
				       st.resource_version, "last_error", le.message));
		}
	}
	kube_informer_free(inf);
	return 0;
}

static int cmd_event(struct kube_client *c, int argc, char **argv)
{
	struct event_recorder_opts ro = { .client = c, .controller = "keyless.dev/controller", .instance = "kube-probe" };
	struct kube_object_ref ref;
	struct event_recorder *r;
	struct event_stats st;
	long times = 1;

	if (argc < 10)
		return 2;
	ref = (struct kube_object_ref){ .namespace = argv[2], .kind = argv[3], .api_version = argv[4], .name = argv[5],
					.uid = argv[6] };
	str_to_long(argv[8], 1, 1000, &times);
	r = event_recorder_new(&ro);
	if (!r)
		return 1;
	for (long i = 0; i < times; i++) {
		struct op_err e;

		op_err_clear(&e);
		if (event_record(r, &ref, "Warning", argv[7], "Test", &e, "%s", argv[9]) < 0)
			fprintf(stderr, "event: %s\n", e.message);
	}
	event_recorder_stats(r, &st);
	emit(json_pack("{s:I, s:I, s:I}", "created", (json_int_t)st.created, "updated", (json_int_t)st.updated, "failed",
		       (json_int_t)st.failed));
	event_recorder_free(r);
	return 0;
}

int main(int argc, char **argv)
{
	struct kube_config_opts co = { .kubeconfig = opt(argc, argv, "--kubeconfig") };
	_cleanup_(kube_config_freep) struct kube_config *cfg = NULL;
	_cleanup_(kube_client_freep) struct kube_client *c = NULL;
	struct op_err e;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: kube_probe list|request|delete|informer|event ...\n");
		return 2;
	}
	op_err_clear(&e);
	if (kube_config_load(&co, &cfg, &e) < 0 || kube_client_new(cfg, NULL, &c, &e) < 0) {
		fprintf(stderr, "kube_probe: %s\n", e.message);
		return 1;
	}
	if (streq(argv[1], "list"))
		rc = cmd_list(c, argc, argv);
	else if (streq(argv[1], "request") && argc >= 4)
		rc = cmd_request(c, argc, argv);
	else if (streq(argv[1], "delete"))
		rc = cmd_delete(c, argc, argv);
	else if (streq(argv[1], "informer"))
		rc = cmd_informer(c, argc, argv);
	else if (streq(argv[1], "event"))
		rc = cmd_event(c, argc, argv);
	else
		rc = 2;
	kube_client_thread_done(c);
	return rc;
}
