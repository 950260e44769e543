/* `keyless controller`: connect to the cluster, elect a leader, and run the
 * informers and reconcile workers while leading. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/ratelimit.h"
#include "base/str.h"
#include "cli/cli.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/informer.h"
#include "kube/lease.h"
#include "kube/events.h"
#include "kube/project.h"
#include "aws/api.h"
#include "aws/client.h"
#include "identity/settings.h"
#include "obs/keyless.h"
#include "server/http.h"
#include "reconcile/kube_ops.h"
#include "reconcile/manager.h"
#include "reconcile/sweep.h"
#include "reconcile/thumbprint.h"
#include "reconcile/workload.h"

struct ctl_opts {
	const char *kubeconfig, *context, *settings;
	bool leader_elect;
	const char *lease_namespace, *lease_name, *identity;
	int64_t lease_duration, renew_deadline, retry_period;
	long workers;
	double qps;
	long burst;
	const char *health_addr, *metrics_addr;
	int64_t shutdown_timeout;
};

struct ctl {
	struct ctl_opts o;
	struct kube_config *cfg;
	struct kube_client *client;
	struct kube_informer *pods, *sas, *wis;
	struct manager *mgr;
	struct drift_sweeper *sweeper; /* started with the workers */
	/* the WorkloadIdentity reconciler */
	struct settings *settings;
	struct aws_client *aws;
	struct event_recorder *events;
	struct kube_ops_real kube_real;
	struct kube_ops kube_ops;
	struct wi_reconciler rec;
	struct wi_handler handler;
	char *issuer, *account_id;
	pthread_t starter;
	bool starter_running;
	atomic_bool running;      /* workers started (caches synced) */
	atomic_bool leading;      /* between start_controllers and stop_controllers */
	atomic_bool saw_leader;   /* a standby has observed another replica's lease */
	bool abandoned;           /* reconciles still running after --shutdown-timeout */
	atomic_bool stop;
	/* metrics and the health/metrics server; obs_lock guards the pointers
	 * the collector reads (mgr, informers) against their start and stop */
	struct keyless_metrics km;
	struct http_server *srv;
	pthread_mutex_t obs_lock;
	/* with --leader-elect: open while this replica holds a renewed lease
	 * (kube/lease.h); the kube and AWS clients refuse writes otherwise */
	struct write_fence fence;
};

static atomic_bool *signal_stop;

static void *signal_main(void *arg)
{
	sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig) == 0) {
		log_info("received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
		atomic_store(signal_stop, true);
	}
	return NULL;
}

static void usage(FILE *f)
{
	fputs("usage: keyless controller [options]\n"
	      "\n"
	      "  --settings PATH          operator settings (YAML; see the Helm chart's values)\n"
	      "  --kubeconfig PATH        kubeconfig (default: $KUBECONFIG, in-cluster, ~/.kube/config)\n"
	      "  --context NAME           kubeconfig context (default: current-context)\n"
	      "  --leader-elect           elect a leader through a Lease; only the leader reconciles\n"
	      "  --lease-namespace NS     namespace of the Lease (default: the config's namespace)\n"
	      "  --lease-name NAME        name of the Lease (default: keyless-controller)\n"
	      "  --identity ID            this replica's identity (default: hostname_random)\n"
	      "  --lease-duration D       15s    how long a lease is valid without renewal\n"
	      "  --renew-deadline D       10s    a leader that cannot renew for this long stops\n"
	      "  --retry-period D         2s     between acquire/renew attempts\n"
	      "  --workers N              2      concurrent reconciles\n"
	      "  --kube-api-qps Q         0      client-side rate limit (0: none, rely on API Priority and Fairness)\n"
	      "  --kube-api-burst N       10     burst when --kube-api-qps > 0\n"
	      "  --health-addr ADDR       :8081  serve /healthz and /readyz (and /metrics) on HOST:PORT, :PORT or\n"
	      "                                  [IPV6]:PORT; 0 = off\n"
	      "  --metrics-addr ADDR      (the health address) serve /metrics on its own address; 0 = off\n"
	      "  --shutdown-timeout D     30s    on SIGTERM, how long in-flight reconciles may take to finish\n"
	      "  --log-level LEVEL        info   debug|info|warn|error\n"
	      "  --log-format FORMAT      text   text|json\n",
	      f);
}

static int parse_args(int argc, char **argv, struct ctl_opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r = 0;

#define VALUE()                                                                              \
	do {                                                                                 \
		if (!v) {                                                                    \
			fprintf(stderr, "keyless controller: %s needs a value\n", a);        \
			return -EINVAL;                                                      \
		}                                                                            \
		i++;                                                                         \
	} while (0)
#define DURATION(field)                                                                      \
	do {                                                                                 \
		VALUE();                                                                     \
		if (str_to_duration_ns(v, &o->field) < 0 || o->field <= 0) {                 \
			fprintf(stderr, "keyless controller: %s '%s' is not a duration (e.g. 15s, 500ms)\n", a, v); \
			return -EINVAL;                                                      \
		}                                                                            \
	} while (0)

		if (streq(a, "-h") || streq(a, "--help")) {
			usage(stdout);
			exit(0);
		} else if (streq(a, "--kubeconfig")) {
			VALUE();
			o->kubeconfig = v;
		} else if (streq(a, "--settings")) {
			VALUE();
			o->settings = v;
		} else if (streq(a, "--context")) {
			VALUE();
			o->context = v;
		} else if (streq(a, "--leader-elect")) {
			o->leader_elect = true;
		} else if (streq(a, "--lease-namespace")) {
			VALUE();
			o->lease_namespace = v;
		} else if (streq(a, "--lease-name")) {
			VALUE();
			o->lease_name = v;
		} else if (streq(a, "--identity")) {
			VALUE();
			o->identity = v;
		} else if (streq(a, "--lease-duration")) {
			DURATION(lease_duration);
		} else if (streq(a, "--renew-deadline")) {
			DURATION(renew_deadline);
		} else if (streq(a, "--retry-period")) {
			DURATION(retry_period);
		} else if (streq(a, "--resync") || str_startswith(a, "--resync=")) {
			/* removed: it was parsed but never used. The period is the
			 * settings' resyncPeriod, which both the manager's re-adds and
			 * the reconciler's "AWS verified recently" window follow */
			fprintf(stderr, "keyless controller: --resync was removed; set resyncPeriod in the settings file\n");
			return -EINVAL;
		} else if (streq(a, "--shutdown-timeout")) {
			DURATION(shutdown_timeout);
		} else if (streq(a, "--health-addr")) {
			VALUE();
			o->health_addr = v;
		} else if (streq(a, "--metrics-addr")) {
			VALUE();
			o->metrics_addr = v;
		} else if (streq(a, "--workers")) {
			VALUE();
			r = str_to_long(v, 1, 64, &o->workers);
		} else if (streq(a, "--kube-api-qps")) {
			char *end;

			VALUE();
			o->qps = strtod(v, &end);
			r = (*end || o->qps < 0) ? -EINVAL : 0;
		} else if (streq(a, "--kube-api-burst")) {
			VALUE();
			r = str_to_long(v, 1, 10000, &o->burst);
		} else if (streq(a, "--log-level")) {
			enum log_level l;

			VALUE();
			r = log_level_from_string(v, &l);
			if (r == 0)
				log_set_level(l);
		} else if (streq(a, "--log-format")) {
			VALUE();
			if (streq(v, "json"))
				log_set_json(true);
			else if (!streq(v, "text"))
				r = -EINVAL;
		} else {
			fprintf(stderr, "keyless controller: unknown option '%s' (see --help)\n", a);
			return -EINVAL;
		}
		if (r < 0) {
			fprintf(stderr, "keyless controller: invalid value '%s' for %s\n", v, a);
			return -EINVAL;
		}
#undef DURATION
#undef VALUE
	}
	{
		char host[64];
		int port;
		const char *addrs[] = { o->health_addr, o->metrics_addr };

		for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
			if (addrs[i] && !streq(addrs[i], "0") &&
			    http_parse_addr(addrs[i], host, sizeof(host), &port) < 0) {
				fprintf(stderr, "keyless controller: %s '%s' is not HOST:PORT, :PORT or [IPV6]:PORT\n",
					i ? "--metrics-addr" : "--health-addr", addrs[i]);
				return -EINVAL;
			}
		}
	}
	if (o->renew_deadline >= o->lease_duration) {
		fprintf(stderr, "keyless controller: --renew-deadline must be shorter than --lease-duration\n");
		return -EINVAL;
	}
	if (o->retry_period >= o->renew_deadline) {
		fprintf(stderr, "keyless controller: --retry-period must be shorter than --renew-deadline\n");
		return -EINVAL;
	}
	return 0;
}

static void worker_exit(void *ctx)
{
	struct ctl *c = ctx;

	kube_client_thread_done(c->client);
}

static void reconcile_observed(void *ctx, enum reconcile_outcome outcome, int64_t duration_ns);

static struct reconcile_result reconcile(void *ctx, const char *key)
{
	struct ctl *c = ctx;

	return wi_reconcile(&c->rec, key);
}

static int new_informer(struct ctl *c, const struct kube_resource *r, const struct kube_kind *k,
			void (*fn)(const struct kube_change *, void *), struct kube_informer **ret)
{
	struct kube_informer_opts io = { .client = c->client, .resource = r, .kind = k, .on_change = fn,
					 .ctx = &c->handler };

	return kube_informer_new(&io, ret);
}

static void *start_workers(void *ctx);

static void reconcile_observed(void *ctx, enum reconcile_outcome outcome, int64_t duration_ns)
{
	struct ctl *c = ctx;

	keyless_metrics_reconcile(&c->km, outcome, duration_ns);
}

/* --- health, readiness, metrics ---------------------------------------------- */

/* Ready: the caches are synced and the workers run (the leader, or the only
 * replica), or a standby that has seen the lease held by another replica;
 * never once shutting down. */
static bool controller_ready(struct ctl *c)
{
	if (atomic_load(&c->stop))
		return false;
	if (atomic_load(&c->running))
		return true;
	return c->o.leader_elect && !atomic_load(&c->leading) && atomic_load(&c->saw_leader);
}

struct wi_tally {
	double ready[3];
	double stale;
};

static int tally_wi(const struct kobj *o, void *ctx)
{
	const struct wi_proj *w = (const struct wi_proj *)o;
	struct wi_tally *t = ctx;

	t->ready[w->ready < 3 ? w->ready : WI_READY_UNKNOWN]++;
	t->stale += w->stale_pods > 0 ? w->stale_pods : 0;
	return 0;
}

/* The state gauges, on the server thread at each scrape. */
static void collect(void *ctx)
{
	struct ctl *c = ctx;
	struct keyless_metrics *km = &c->km;
	struct kube_informer *infs[3];
	static const char *const names[3] = { "workloadidentities", "serviceaccounts", "pods" };

	metric_set(km->leader, atomic_load(&c->leading) ? 1 : 0);
	metric_set(km->ready, controller_ready(c) ? 1 : 0);
	pthread_mutex_lock(&c->obs_lock);
	if (c->mgr) {
		struct wq_stats ws;

		wq_get_stats(manager_queue(c->mgr), &ws);
		metric_set(km->queue_depth, (double)ws.depth);
		metric_set(km->queue_delayed, (double)ws.delayed);
		metric_set(km->queue_in_flight, (double)ws.processing);
		metric_set(km->queue_adds, (double)ws.adds);
		metric_set(km->queue_retries, (double)ws.retries);
	}
	infs[0] = c->wis;
	infs[1] = c->sas;
	infs[2] = c->pods;
	for (int i = 0; i < 3; i++) {
		struct kube_informer_stats st;

		if (!infs[i])
			continue;
		kube_informer_get_stats(infs[i], &st);
		metric_set(km->informer_lists, (double)st.lists, names[i]);
		metric_set(km->informer_relists, st.lists > 1 ? (double)(st.lists - 1) : 0, names[i]);
		metric_set(km->informer_relists_gone, (double)st.relists_gone, names[i]);
		metric_set(km->informer_watches, (double)st.watches, names[i]);
		metric_set(km->informer_watch_restarts, st.watches > 1 ? (double)(st.watches - 1) : 0, names[i]);
		metric_set(km->informer_errors, (double)st.errors, names[i]);
		metric_set(km->informer_events, (double)st.events, names[i]);
		metric_set(km->informer_synced, kube_informer_synced(infs[i]) ? 1 : 0, names[i]);
		metric_set(km->cache_objects, (double)kube_cache_len(kube_informer_cache(infs[i])), names[i]);
	}
	if (c->wis && kube_informer_synced(c->wis)) {
		struct wi_tally t = { { 0 }, 0 };

		kube_cache_foreach(kube_informer_cache(c->wis), tally_wi, &t);
		metric_set(km->identities, t.ready[WI_READY_TRUE], "True");
		metric_set(km->identities, t.ready[WI_READY_FALSE], "False");
		metric_set(km->identities, t.ready[WI_READY_UNKNOWN], "Unknown");
		metric_set(km->stale_pods, t.stale);
	}
	pthread_mutex_unlock(&c->obs_lock);
}

enum { SERVE_HEALTH = 1 << 0, SERVE_METRICS = 1 << 1 };

static void serve_http(void *ctx, void *tag, const char *path, struct http_response *resp)
{
	struct ctl *c = ctx;
	unsigned what = (unsigned)(uintptr_t)tag;
	int r = 0;

	if ((what & SERVE_HEALTH) && streq(path, "/healthz")) {
		r = buf_puts(&resp->body, "ok\n");
	} else if ((what & SERVE_HEALTH) && streq(path, "/readyz")) {
		bool ready = controller_ready(c);

		resp->status = ready ? 200 : 503;
		r = buf_puts(&resp->body, ready ? "ok\n" :
				 atomic_load(&c->stop) ? "shutting down\n" :
				 c->o.leader_elect && !atomic_load(&c->leading) ? "standby: the lease is not observed yet\n" :
										  "caches not synced\n");
	} else if ((what & SERVE_METRICS) && streq(path, "/metrics")) {
		resp->content_type = METRICS_CONTENT_TYPE;
		r = metrics_render(c->km.reg, &resp->body);
	} else {
		resp->status = 404;
		r = buf_puts(&resp->body, "not found\n");
	}
	if (r < 0) {
		buf_reset(&resp->body);
		resp->status = 500;
	}
}

/* One listener, or two when --metrics-addr names another address. */
static int start_http(struct ctl *c)
{
	struct http_listener l[2];
	size_t n = 0;
	bool health = c->o.health_addr && !streq(c->o.health_addr, "0");
	bool metrics_own = c->o.metrics_addr && !streq(c->o.metrics_addr, c->o.health_addr ? c->o.health_addr : "");
	struct op_err err;
	int r;

	if (health)
		l[n++] = (struct http_listener){ c->o.health_addr,
						 (void *)(uintptr_t)(SERVE_HEALTH | (metrics_own ? 0 : SERVE_METRICS)) };
	if (metrics_own && !streq(c->o.metrics_addr, "0"))
		l[n++] = (struct http_listener){ c->o.metrics_addr, (void *)(uintptr_t)SERVE_METRICS };
	if (n == 0)
		return 0;
	r = metrics_add_collector(c->km.reg, collect, c);
	if (r < 0)
		return r;
	op_err_clear(&err);
	r = http_server_start(&(struct http_server_opts){ .listeners = l, .n_listeners = n, .handler = serve_http,
							  .ctx = c },
			      &c->srv, &err);
	if (r < 0) {
		log_error("%s", err.message);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned what = (unsigned)(uintptr_t)l[i].tag;

		log_info("serving %s%s%s on %s (port %d)", what & SERVE_HEALTH ? "/healthz, /readyz" : "",
			 what == (SERVE_HEALTH | SERVE_METRICS) ? ", " : "", what & SERVE_METRICS ? "/metrics" : "",
			 l[i].addr, http_server_port(c->srv, i));
	}
	return 0;
}

static void start_controllers(void *ctx)
{
	struct ctl *c = ctx;
	struct manager_opts mo = { .workers = (int)c->o.workers, .reconcile = reconcile, .ctx = c,
				   .resync_ns = c->settings->resync_ns, .on_worker_exit = worker_exit,
				   .queue = { .on_get = keyless_metrics_queue_wait, .on_get_ctx = &c->km } };
	int r;

	log_info("started leading: informers for WorkloadIdentities, ServiceAccounts, Pods; %ld reconcile workers",
		 c->o.workers);
	mo.on_reconcile = reconcile_observed; /* ctx is c: see there */
	atomic_store(&c->leading, true);
	pthread_mutex_lock(&c->obs_lock);
	c->mgr = manager_new(&mo);
	pthread_mutex_unlock(&c->obs_lock);
	if (!c->mgr) {
		atomic_store(&c->stop, true);
		return;
	}
	c->handler = (struct wi_handler){ .r = &c->rec, .q = manager_queue(c->mgr) };
	/* Every cache is assigned before any informer starts: a handler run by
	 * the first informer's LIST reads the others (review finding 13). */
	pthread_mutex_lock(&c->obs_lock);
	r = new_informer(c, &KUBE_SERVICEACCOUNTS, &KUBE_KIND_SERVICEACCOUNT, wi_on_sa_change, &c->sas);
	if (r >= 0)
		r = new_informer(c, &KUBE_PODS, &KUBE_KIND_POD, wi_on_pod_change, &c->pods);
	if (r >= 0)
		r = new_informer(c, &KUBE_WORKLOADIDENTITIES, &KUBE_KIND_WORKLOADIDENTITY, wi_on_wi_change, &c->wis);
	pthread_mutex_unlock(&c->obs_lock);
	if (r >= 0) {
		c->rec.pods = kube_informer_cache(c->pods);
		c->rec.sas = kube_informer_cache(c->sas);
		c->rec.wis = kube_informer_cache(c->wis);
		r = kube_informer_start(c->sas);
	}
	if (r >= 0)
		r = kube_informer_start(c->pods);
	if (r >= 0)
		r = kube_informer_start(c->wis);
	if (r < 0) {
		log_error("cannot start the informers: %s", strerror(-r));
		atomic_store(&c->stop, true);
		return;
	}
	/* Waiting for the caches must not block the lease thread (it has to keep
	 * renewing): a starter thread waits and then starts the workers. */
	if (pthread_create(&c->starter, NULL, start_workers, c) != 0) {
		log_error("cannot start the worker starter thread");
		atomic_store(&c->stop, true);
		return;
	}
	c->starter_running = true;
}

static void *start_workers(void *ctx)
{
	struct ctl *c = ctx;
	struct kube_informer *all[3];
	int r;

	/* reconcile only from synced caches (a half-filled cache would look like drift) */
	all[0] = c->sas;
	all[1] = c->pods;
	all[2] = c->wis;
	for (int i = 0; i < 3; i++) {
		while (!atomic_load(&c->stop) && kube_informer_wait_synced(all[i], NSEC_PER_SEC) == -ETIMEDOUT) {
			struct op_err le;

			kube_informer_last_error(all[i], &le);
			if (le.message[0])
				log_warn("waiting for the informer caches to sync: %s", le.message);
		}
	}
	if (atomic_load(&c->stop))
		return NULL;
	log_info("caches synced: %zu WorkloadIdentities, %zu ServiceAccounts, %zu Pods",
		 kube_cache_len(c->rec.wis), kube_cache_len(c->rec.sas), kube_cache_len(c->rec.pods));
	r = manager_start(c->mgr);
	if (r < 0) {
		log_error("cannot start the workers: %s", strerror(-r));
		atomic_store(&c->stop, true);
		return NULL;
	}
	c->sweeper = drift_sweeper_start(&c->rec, manager_queue(c->mgr), keyless_metrics_drift_sweep, &c->km);
	if (!c->sweeper) {
		log_error("cannot start the drift sweep thread");
		atomic_store(&c->stop, true);
		return NULL;
	}
	atomic_store(&c->running, true);
	return NULL;
}

/* Stop writing: the workers (in-flight reconciles finish). With leader
 * election this runs on its own thread while the lease thread keeps renewing
 * (and the write fence open), then the lease is released. */
static void stop_controllers(void *ctx)
{
	struct ctl *c = ctx;

	log_info("stopping reconcile workers (in-flight reconciles finish, for at most %llds)",
		 (long long)(c->o.shutdown_timeout / NSEC_PER_SEC));
	if (c->starter_running) {
		pthread_join(c->starter, NULL);
		c->starter_running = false;
	}
	atomic_store(&c->running, false);
	drift_sweeper_stop(c->sweeper); /* it adds to the queue: before the workers stop */
	c->sweeper = NULL;
	if (c->mgr && manager_stop_timeout(c->mgr, c->o.shutdown_timeout) < 0) {
		/* with --leader-elect the write fence closes next, so they
		 * cannot write any more; the process exits without waiting */
		log_warn("%d reconciles still running after the shutdown timeout: abandoned",
			 manager_in_flight(c->mgr));
		c->abandoned = true;
	} else {
		log_info("reconcile workers stopped");
	}
	atomic_store(&c->leading, false);
}

/* Leadership lost (renew deadline passed, or another holder): the write
 * fence is already closed, so nothing more is sent; the caller exits at once. */
static void lost_leadership(void *ctx)
{
	(void)ctx;
	log_error("stopped leading: another replica holds the lease or it could not be renewed in time; writes stopped");
}

/* The informers only read; stop them after the lease is released. Stop
 * them all before freeing any: handlers read the other caches. */
static void stop_informers(struct ctl *c)
{
	struct kube_informer *all[] = { c->wis, c->pods, c->sas };

	/* the metrics collector reads them no more */
	pthread_mutex_lock(&c->obs_lock);
	c->pods = c->sas = c->wis = NULL;
	pthread_mutex_unlock(&c->obs_lock);
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (all[i])
			kube_informer_signal_stop(all[i]);
	}
	/* join every thread before freeing any cache: a pods handler still
	 * running reads the WorkloadIdentity cache (a use-after-free otherwise) */
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		if (all[i])
			kube_informer_stop(all[i]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		kube_informer_free(all[i]);
}

/* keyless' own namespace: $POD_NAMESPACE (the chart sets it from the
 * downward API), else the in-cluster service account's; unknown outside a
 * cluster (a kubeconfig's namespace says nothing about where keyless runs). */
static const char *controller_namespace(const struct ctl *c)
{
	const char *env = getenv("POD_NAMESPACE");

	if (env && *env)
		return env;
	if (c->cfg->source && streq(c->cfg->source, "in-cluster"))
		return c->cfg->namespace;
	return NULL;
}

/* The settings' other accounts: one IAM client each, with the credentials
 * of sts:AssumeRole on the account's roleArn (taken at the first call, so a
 * role that cannot be assumed shows on the identities that use it). */
static int open_accounts(struct ctl *c, const struct aws_client_opts *base)
{
	const struct settings *s = c->settings;
	struct op_err err;

	if (!s->n_accounts)
		return 0;
	c->rec.accounts = calloc(s->n_accounts, sizeof(*c->rec.accounts));
	if (!c->rec.accounts)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_accounts; i++) {
		struct aws_client_opts ao = *base;
		struct wi_account *a = &c->rec.accounts[i];
		int r;

		ao.assume_role_arn = s->accounts[i].role_arn;
		ao.assume_role_external_id = s->accounts[i].external_id;
		op_err_clear(&err);
		r = aws_client_new(&ao, &a->awsc, &err);
		if (r < 0) {
			log_error("AWS client for account %s: %s", s->accounts[i].account_id, err.message);
			return r;
		}
		c->rec.n_accounts = i + 1;
		a->id = s->accounts[i].account_id;
		a->entry = &s->accounts[i];
		aws_client_set_observer(a->awsc, keyless_metrics_aws_call, &c->km);
		log_info("account %s: roles made there with the credentials of %s", a->id,
			 aws_client_credentials_source(a->awsc));
	}
	return 0;
}

static void close_accounts(struct ctl *c)
{
	for (size_t i = 0; i < c->rec.n_accounts; i++)
		aws_client_free(c->rec.accounts[i].awsc);
	free(c->rec.accounts);
	c->rec.accounts = NULL;
	c->rec.n_accounts = 0;
}

/* Settings, AWS client, account, issuer, partition, quotas: everything the
 * reconciler needs, resolved once at start. Errors stop the controller. */
static int setup_reconciler(struct ctl *c)
{
	struct aws_client_opts ao = { 0 };
	struct op_err err;
	const struct aws_partition *part;
	int r;

	op_err_clear(&err);
	if (!c->o.settings) {
		log_error("--settings is required (the operator settings file; see README)");
		return -EINVAL;
	}
	r = settings_load(c->o.settings, &c->settings, &err);
	if (r < 0) {
		log_error("%s", err.message);
		return r;
	}
	ao.region = c->settings->region;
	ao.iam_rate_mode = c->settings->iam_rate.mode == IAM_RATE_FIXED ? AWS_RATE_FIXED : AWS_RATE_ADAPTIVE;
	ao.iam_rate = c->settings->iam_rate.max_per_second;
	ao.iam_rate_initial = c->settings->iam_rate.initial_per_second;
	r = aws_client_new(&ao, &c->aws, &err);
	if (r < 0) {
		log_error("AWS client: %s", err.message);
		return r;
	}
	aws_client_set_observer(c->aws, keyless_metrics_aws_call, &c->km);
	log_info("AWS region %s, credentials from %s", aws_client_region(c->aws), aws_client_credentials_source(c->aws));
	{
		struct aws_stats st;

		aws_stats_snapshot(c->aws, &st);
		if (c->settings->iam_rate.mode == IAM_RATE_FIXED)
			log_info("IAM rate: fixed at %g calls/s", st.iam_rate);
		else if (c->settings->iam_rate.max_per_second)
			log_info("IAM rate: adaptive, from %g calls/s, at most %g", st.iam_rate,
				 c->settings->iam_rate.max_per_second);
		else
			log_info("IAM rate: adaptive, from %g calls/s, no ceiling", st.iam_rate);
	}
	if (c->settings->account_id) {
		c->account_id = strdup(c->settings->account_id);
	} else {
		_cleanup_(sts_caller_identity_freep) struct sts_caller_identity *id = NULL;

		r = sts_get_caller_identity(c->aws, &id, &err);
		if (r < 0) {
			log_error("cannot find the AWS account (sts:GetCallerIdentity): %s", err.message);
			return r;
		}
		c->account_id = strdup(id->account);
		log_info("AWS account %s (caller %s)", id->account, id->arn);
	}
	if (c->settings->oidc_issuer) {
		c->issuer = strdup(c->settings->oidc_issuer);
	} else {
		_cleanup_(eks_cluster_freep) struct eks_cluster *cl = NULL;

		r = eks_describe_cluster(c->aws, c->settings->cluster_name, &cl, &err);
		if (r < 0 || !cl->oidc_issuer) {
			log_error("cannot read the OIDC issuer of EKS cluster %s (eks:DescribeCluster): %s; set oidcIssuer "
				  "in the settings for a self-managed cluster",
				  c->settings->cluster_name, r < 0 ? err.message : "the cluster has no OIDC issuer");
			return r < 0 ? r : -ENOENT;
		}
		c->issuer = strdup(cl->oidc_issuer);
	}
	if (!c->account_id || !c->issuer)
		return -ENOMEM;
	log_info("cluster %s, OIDC issuer %s%s%s", c->settings->cluster_name, c->issuer,
		 controller_namespace(c) ? ", own namespace " : "", controller_namespace(c) ? controller_namespace(c) : "");
	part = aws_partition_of(aws_client_region(c->aws));

	c->events = event_recorder_new(&(struct event_recorder_opts){ .client = c->client,
								      .controller = "keyless.dev/controller",
								      .instance = c->o.identity });
	if (!c->events)
		return -ENOMEM;
	c->kube_real = (struct kube_ops_real){ .client = c->client, .events = c->events };
	c->kube_ops = KUBE_OPS_REAL_TEMPLATE;
	c->kube_ops.ctx = &c->kube_real;
	c->rec = (struct wi_reconciler){
		.settings = c->settings,
		.issuer = c->issuer,
		.account_id = c->account_id,
		.partition = part ? part->name : "aws",
		.region = aws_client_region(c->aws),
		.controller_namespace = controller_namespace(c),
		.aws = &aws_api_real,
		.awsc = c->aws,
		.kube = &c->kube_ops,
		.thumbprint = oidc_thumbprint,
	};
	{
		_cleanup_(iam_account_summary_freep) struct iam_account_summary *sum = NULL;
		long q = 0;

		if (c->settings->trust_policy_size_quota)
			c->rec.trust_policy_quota = c->settings->trust_policy_size_quota;
		else if (iam_get_account_summary(c->aws, &sum, &err) == 0 &&
		    iam_account_summary_get(sum, "AssumeRolePolicySizeQuota", &q) == 0)
			c->rec.trust_policy_quota = q;
		else
			log_info("trust-policy size quota unknown (%s); assuming IAM's default 2048",
				 err.message[0] ? err.message : "not in GetAccountSummary");
	}
	r = open_accounts(c, &ao);
	if (r < 0)
		return r;
	wi_reconciler_init(&c->rec);
	return 0;
}

static void on_new_leader(const char *identity, void *ctx)
{
	struct ctl *c = ctx;

	if (!streq(identity, c->o.identity)) {
		log_info("lease held by %s", identity);
		atomic_store(&c->saw_leader, true);
	}
}

/* A failed acquire/renew attempt: logged when the error changes, else at
 * most every 30 s (client-go logs each one; every retry period is noise).
 * Without this a forbidden or unauthorized Lease left keyless waiting
 * silently. Only the lease thread calls it. */
static void on_lease_error(const struct op_err *err, void *ctx)
{
	static char last[sizeof(err->message)];
	static int64_t last_ns;
	int64_t now = clock_mono_ns(NULL);
	char text[sizeof(err->message) + 128];

	(void)ctx;
	if (streq(last, err->message) && now - last_ns < 30 * NSEC_PER_SEC)
		return;
	str_copy(last, sizeof(last), err->message);
	last_ns = now;
	op_err_format(err, text, sizeof(text));
	log_warn("leader election: Lease request failed (retrying every retry period): %s", text);
}

static char *default_identity(void)
{
	char host[256] = "keyless";
	struct buf b = BUF_INIT(0);

	gethostname(host, sizeof(host) - 1);
	if (buf_printf(&b, "%s_%08llx", host, (unsigned long long)(rand_u64() & 0xffffffffULL)) < 0)
		return NULL;
	return buf_detach(&b);
}

int cli_controller(int argc, char **argv)
{
	struct ctl c = { .o = { .lease_name = "keyless-controller", .lease_duration = 15 * NSEC_PER_SEC,
				.renew_deadline = 10 * NSEC_PER_SEC, .retry_period = 2 * NSEC_PER_SEC,
				.workers = 2, .burst = 10,
				.health_addr = ":8081", .shutdown_timeout = 30 * NSEC_PER_SEC } };
	struct kube_config_opts co = { 0 };
	struct kube_client_opts kopts = { 0 }, lopts = { 0 };
	struct kube_client *lease_client = NULL;
	_cleanup_free_ char *identity = NULL;
	pthread_t sig_thread;
	sigset_t set;
	struct op_err err;
	int rc = 0;

	if (parse_args(argc, argv, &c.o) < 0)
		return 2;
	pthread_mutex_init(&c.obs_lock, NULL);
	if (keyless_metrics_init(&c.km, KEYLESS_VERSION) < 0) {
		log_error("out of memory");
		return 1;
	}
	if (!c.o.identity) {
		identity = default_identity();
		c.o.identity = identity;
	}
	/* Signals go to one thread (sigwait); every other thread blocks them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal_stop = &c.stop;
	pthread_create(&sig_thread, NULL, signal_main, &set);
	pthread_detach(sig_thread);

	if (start_http(&c) < 0) {
		rc = 1;
		goto out;
	}
	co.kubeconfig = c.o.kubeconfig;
	co.context = c.o.context;
	op_err_clear(&err);
	if (kube_config_load(&co, &c.cfg, &err) < 0) {
		log_error("%s", err.message);
		rc = 1;
		goto out;
	}
	log_info("Kubernetes API %s (%s)", c.cfg->server, c.cfg->source);
	kopts.qps = c.o.qps;
	kopts.burst = (int)c.o.burst;
	if (c.o.leader_elect)
		kopts.write_fence = &c.fence; /* closed until the lease is acquired */
	/* the lease client must answer well within the renew deadline */
	lopts.timeout_ms = (long)(c.o.renew_deadline / NSEC_PER_MSEC / 2);
	if (kube_client_new(c.cfg, &kopts, &c.client, &err) < 0 || kube_client_new(c.cfg, &lopts, &lease_client, &err) < 0) {
		log_error("%s", err.message);
		rc = 1;
		goto out;
	}
	kube_client_set_observer(c.client, keyless_metrics_kube_request, &c.km);
	kube_client_set_observer(lease_client, keyless_metrics_kube_request, &c.km);
	if (setup_reconciler(&c) < 0) {
		rc = 1;
		goto out;
	}
	if (c.o.leader_elect) {
		aws_client_set_write_fence(c.aws, &c.fence);
		for (size_t i = 0; i < c.rec.n_accounts; i++)
			aws_client_set_write_fence(c.rec.accounts[i].awsc, &c.fence);
	}
	if (c.o.leader_elect) {
		struct lease_opts lo = {
			.client = lease_client,
			.namespace = c.o.lease_namespace ? c.o.lease_namespace : c.cfg->namespace,
			.name = c.o.lease_name,
			.identity = c.o.identity,
			.lease_duration_ns = c.o.lease_duration,
			.renew_deadline_ns = c.o.renew_deadline,
			.retry_period_ns = c.o.retry_period,
			.fence = &c.fence,
			.on_started = start_controllers,
			.on_stopped = lost_leadership,
			.drain = stop_controllers,
			.on_new_leader = on_new_leader,
			.on_error = on_lease_error,
			.ctx = &c,
		};

		log_info("leader election: Lease %s/%s as %s (lease %llds, renew deadline %llds, retry %lldms)", lo.namespace,
			 lo.name, lo.identity, (long long)(c.o.lease_duration / NSEC_PER_SEC),
			 (long long)(c.o.renew_deadline / NSEC_PER_SEC), (long long)(c.o.retry_period / NSEC_PER_MSEC));
		rc = lease_run(&lo, &c.stop, true);
		if (rc < 0) {
			/* Lost leadership: exit now so nothing more is written; the
			 * orchestrator restarts us as a standby. */
			log_error("leader election lost (%s); exiting", strerror(-rc));
			/* the worker starter is done or sees stop within a second
			 * (a thread left unjoined, ThreadSanitizer reports) */
			atomic_store(&c.stop, true);
			if (c.starter_running)
				pthread_join(c.starter, NULL);
			fflush(NULL);
			_exit(1);
		}
		if (c.abandoned) {
			/* abandoned reconciles may still read the caches: no cleanup */
			log_info("released the lease; exiting");
			fflush(NULL);
			_exit(0);
		}
		log_info("released the lease");
	} else {
		start_controllers(&c);
		while (!atomic_load(&c.stop))
			sleep_ns(100 * NSEC_PER_MSEC);
		stop_controllers(&c);
		if (c.abandoned) {
			log_info("exiting");
			fflush(NULL);
			_exit(0);
		}
	}
	stop_informers(&c);
out:
	http_server_stop(c.srv);
	if (c.mgr)
		manager_free(c.mgr);
	if (c.rec.settings)
		wi_reconciler_release(&c.rec);
	close_accounts(&c);
	event_recorder_free(c.events);
	aws_client_free(c.aws);
	settings_free(c.settings);
	free(c.issuer);
	free(c.account_id);
	kube_client_free(c.client);
	kube_client_free(lease_client);
	kube_config_free(c.cfg);
	keyless_metrics_release(&c.km);
	pthread_mutex_destroy(&c.obs_lock);
	return rc;
}
