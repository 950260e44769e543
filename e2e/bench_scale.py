"""The scale benchmark behind `make bench-scale` (issue 11): the real `keyless controller` (release build,
bin/keyless) on the local control plane that hack/bench-scale starts for it, measured from outside:

  throttled  N new WorkloadIdentities across 20 namespaces, IAM behind a proxy that answers `Throttling`
             (HTTP 400, IAM's XML error) to every request above BENCH_IAM_LIMIT (20) per second
  create     N new WorkloadIdentities across 20 other namespaces against moto, unthrottled
  churn      a 100-replica Deployment (kwok pods) whose service account has an identity, rolled twice
  cold       BENCH_PODS bare pods (kwok) added, keyless restarted: exec -> "caches synced" -> first reconcile
  resync     that controller (resyncPeriod BENCH_RESYNC, default 60s; driftDetection roles), then one with
             driftDetection bulk: after the start-up pass, from the first drift sweep that knows every
             identity to the next one (one sweep, the reads it spread over the period, every resync)
  cache      bin/bench/bench_kube (the in-process cache benchmark) at BENCH_CACHE_PODS pods and
             BENCH_CACHE_IDENTITIES identities with their service accounts and memo: heap per object, RSS
             after freeing the generated responses, peak RSS

IAM calls come from keyless' own /metrics (keyless_aws_requests_total: a call with its retries counts
once); the throttling proxy also counts the attempts it passed and refused. Kubernetes writes are
keyless_kube_requests_total with verb POST/PUT/PATCH/DELETE. Memory and CPU are read from /proc/PID.

Run it through `make bench-scale` (hack/bench-scale), which starts and stops the cluster; the table goes to
stdout and, with the raw figures, to BENCH_OUT (default build/bench-scale.json).
"""

import collections
import concurrent.futures
import datetime
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

from kubernetes import client, config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import aws_client, wait_until  # noqa: E402
from controller_env import install_crd, write_settings  # noqa: E402
from fault_proxy import ThrottlingProxy  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYLESS = os.environ.get("BENCH_KEYLESS") or os.path.join(ROOT, "bin", "keyless")
N = int(os.environ.get("BENCH_IDENTITIES", "1000"))
PODS = int(os.environ.get("BENCH_PODS", "20000"))
NS_COUNT = 20
IAM_LIMIT = float(os.environ.get("BENCH_IAM_LIMIT", "20"))
RESYNC = os.environ.get("BENCH_RESYNC", "60s")
CHURN_REPLICAS = int(os.environ.get("BENCH_CHURN_REPLICAS", "100"))
CACHE_PODS = int(os.environ.get("BENCH_CACHE_PODS", "100000"))
CACHE_IDENTITIES = int(os.environ.get("BENCH_CACHE_IDENTITIES", "10000"))
PHASES = os.environ.get("BENCH_PHASES", "cache,throttled,create,churn,cold,resync").split(",")
WORKDIR = os.environ.get("BENCH_WORKDIR") or os.path.join(ROOT, "build", "bench-scale")
OUT = os.environ.get("BENCH_OUT") or os.path.join(ROOT, "build", "bench-scale.json")
CLK_TCK = os.sysconf("SC_CLK_TCK")
WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE")
GROUP, VERSION, PLURAL = "keyless.dev", "v1alpha1", "workloadidentities"


def say(msg):
    print(f"bench-scale: {msg}", file=sys.stderr, flush=True)


# --- the keyless process, seen from outside ---------------------------------------------------------

def proc_status(pid):
    """VmHWM, VmRSS, RssAnon, RssFile in KiB and CPU seconds (utime+stime) of pid."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    out["cpu_s"] = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)
    return out


def parse_metrics(text):
    """Prometheus text -> {(name, frozenset(labels)): value} for the counters the bench reads."""
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$', line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def metric_delta(before, after, name, key):
    """Counter `name` grouped by label `key` (a label name, or a tuple of them): after - before."""
    keys = (key,) if isinstance(key, str) else key
    out = collections.Counter()
    for (n, labels), v in after.items():
        if n != name:
            continue
        d = dict(labels)
        delta = v - before.get((n, labels), 0.0)
        if delta:
            out[tuple(d.get(k, "") for k in keys) if len(keys) > 1 else d.get(keys[0], "")] += int(delta)
    return out


class Keyless:
    """`keyless controller` with its log in log_path; exec time recorded (wall clock, UTC)."""

    def __init__(self, name, settings, env=None, extra=()):
        os.makedirs(WORKDIR, exist_ok=True)
        self.log_path = os.path.join(WORKDIR, f"keyless-{name}.log")
        self.log = open(self.log_path, "w")
        self.exec_wall = time.time()
        self.exec_mono = time.monotonic()
        self.p = subprocess.Popen([KEYLESS, "controller", "--settings", settings, "--health-addr", "127.0.0.1:0",
                                   *extra], stdout=self.log, stderr=subprocess.STDOUT,
                                  env=dict(os.environ, **(env or {})))
        self._port = None

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_log(self, needle, timeout):
        wait_until(lambda: needle in self.text() or self.p.poll() is not None, timeout, f"keyless log '{needle}'")
        assert self.p.poll() is None, self.text()[-3000:]

    def port(self):
        if self._port is None:
            def find():
                m = re.search(r"serving .*/metrics.* on \S+ \(port (\d+)\)", self.text())
                return int(m.group(1)) if m else None
            self._port = wait_until(find, 60, "keyless metrics port")
        return self._port

    def metrics(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port()}/metrics", timeout=30) as r:
            return parse_metrics(r.read().decode())

    def snapshot(self):
        return {"t": time.monotonic(), "m": self.metrics(), "proc": proc_status(self.p.pid)}

    def log_time(self, needle):
        """Wall-clock time (epoch s) of the first log line containing needle."""
        for line in self.text().splitlines():
            if needle in line:
                ts = line.split(" ", 1)[0]
                return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                    tzinfo=datetime.timezone.utc).timestamp()
        return None

    def reconciled(self):
        """[(key, line index)] of every 'reconciled (...)' line so far."""
        out = []
        for i, line in enumerate(self.text().splitlines()):
            m = re.search(r" (\S+): reconciled \(", line)
            if m:
                out.append((m.group(1), i))
        return out

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()


def window(k, before, after):
    """The figures of one measured window of keyless k."""
    iam = metric_delta(before["m"], after["m"], "keyless_aws_requests_total", ("service", "operation", "code"))
    by_action = collections.Counter()
    errors = collections.Counter()
    for (svc, op, code), v in iam.items():
        if svc == "iam":
            by_action[op] += v
            if code != "OK":
                errors[f"{op}:{code}"] += v
    kube = metric_delta(before["m"], after["m"], "keyless_kube_requests_total", "verb")
    return {
        "seconds": round(after["t"] - before["t"], 2),
        "iam_calls": sum(by_action.values()),
        "iam_by_action": dict(sorted(by_action.items())),
        "iam_errors": dict(errors),
        "other_aws": {f"{s}:{o}": v for (s, o, _), v in iam.items() if s != "iam"},
        "kube_writes": sum(v for verb, v in kube.items() if verb in WRITE_VERBS),
        "kube_by_verb": dict(kube),
        "reconciles": dict(metric_delta(before["m"], after["m"], "keyless_reconcile_total", "result")),
        "cpu_s": round(after["proc"]["cpu_s"] - before["proc"]["cpu_s"], 2),
        "vmhwm_kib": after["proc"]["VmHWM"], "vmrss_kib": after["proc"]["VmRSS"],
        "rssanon_kib": after["proc"]["RssAnon"], "rssfile_kib": after["proc"]["RssFile"],
    }


# --- Kubernetes objects ------------------------------------------------------------------------------

def kube_clients():
    config.load_kube_config(config_file=os.environ["KUBECONFIG"])
    c = client.Configuration.get_default_copy()
    c.connection_pool_maxsize = 32
    api = client.ApiClient(c)
    return client.CoreV1Api(api), client.AppsV1Api(api), client.CustomObjectsApi(api)


def namespaces(prefix):
    return [f"{prefix}-{i:02d}" for i in range(NS_COUNT)]


def ensure_namespaces(core, names):
    for ns in names:
        try:
            core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        except client.ApiException as e:
            if e.status != 409:
                raise


def identity(i, ns):
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkloadIdentity",
            "metadata": {"name": f"wi-{i:05d}", "namespace": ns},
            "spec": {"serviceAccountName": f"sa-{i:05d}", "createServiceAccount": True,
                     "restart": "None",
                     "permissions": {"statements": [
                         {"sid": "Read", "effect": "Allow", "actions": ["s3:GetObject"],
                          "resources": [f"arn:aws:s3:::bench-bucket-{i % 50}/{ns}/*"]}]}}}


def parallel(fn, items, workers=16):
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        for f in concurrent.futures.as_completed([ex.submit(fn, x) for x in items]):
            f.result()


def create_identities(crd, prefix):
    nss = namespaces(prefix)
    items = [(i, nss[i % NS_COUNT]) for i in range(N)]
    parallel(lambda x: crd.create_namespaced_custom_object(GROUP, VERSION, x[1], PLURAL, identity(*x)), items)
    return items


def count_ready(crd, prefix):
    n = 0
    cont = None
    while True:
        r = crd.list_cluster_custom_object(GROUP, VERSION, PLURAL, limit=2000, _continue=cont)
        for o in r["items"]:
            if not o["metadata"]["namespace"].startswith(prefix + "-"):
                continue
            conds = (o.get("status") or {}).get("conditions") or []
            if any(c["type"] == "Ready" and c["status"] == "True" for c in conds):
                n += 1
        cont = r["metadata"].get("continue")
        if not cont:
            return n


def wait_all_ready(crd, prefix, timeout, k):
    t0 = time.monotonic()
    last = -1
    while True:
        n = count_ready(crd, prefix)
        if n != last:
            last = n
        if n >= N:
            return time.monotonic()
        if k.p.poll() is not None:
            raise AssertionError("keyless exited: " + k.text()[-3000:])
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"only {n} of {N} identities Ready after {timeout}s")
        time.sleep(1.0)


def settings(name, **over):
    os.makedirs(WORKDIR, exist_ok=True)
    base = {"resyncPeriod": "1h", "extraTags": {"managed-by": "keyless-bench"}}
    base.update(over)
    return write_settings(os.path.join(WORKDIR, f"settings-{name}.yaml"), **base)


def delete_identities(core, crd, prefix):
    """Forget a phase's identities without keyless: finalizers off, namespaces deleted, roles deleted in
    moto directly (so the next phase starts from the same IAM state)."""
    for ns in namespaces(prefix):
        for o in crd.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)["items"]:
            crd.patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, o["metadata"]["name"],
                                               {"metadata": {"finalizers": None}})
        core.delete_namespace(ns)
    iam = aws_client("iam")
    roles = [r["RoleName"] for page in iam.get_paginator("list_roles").paginate(PathPrefix="/keyless/")
             for r in page["Roles"] if f"+{prefix}-" in r["RoleName"]]

    # one at a time: moto's IAM answers concurrent deletes with broken responses
    for name in roles:
        for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=p)
        for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
        iam.delete_role(RoleName=name)
    wait_until(lambda: not any(o["metadata"]["namespace"].startswith(prefix + "-") for o in
                               crd.list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"]), 120,
               f"{prefix} identities gone")
    return len(roles)


# --- phases ------------------------------------------------------------------------------------------

def phase_new_identities(core, crd, prefix, name, env=None, proxy=None):
    ensure_namespaces(core, namespaces(prefix))
    k = Keyless(name, settings(name), env=env)
    try:
        k.wait_log("caches synced", 120)
        k.port()
        time.sleep(1.0)  # the provider lookup of an empty cluster has nothing to do; let it settle
        before = k.snapshot()
        t0 = time.monotonic()
        create_identities(crd, prefix)
        t_created = time.monotonic()
        t_ready = wait_all_ready(crd, prefix, max(600, N * 3), k)
        after = k.snapshot()
        res = window(k, before, after)
        res.update({"identities": N, "create_s": round(t_created - t0, 2), "ready_s": round(t_ready - t0, 2)})
        if proxy:
            res["proxy"] = proxy.summary(t0, t_ready)
        return res, k
    except BaseException:
        k.stop()
        raise


def phase_churn(core, apps, crd, k, prefix):
    ns = namespaces(prefix)[0]
    sa = "sa-00000"
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "churn", "namespace": ns},
           "spec": {"replicas": CHURN_REPLICAS, "selector": {"matchLabels": {"app": "churn"}},
                    "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                    "template": {"metadata": {"labels": {"app": "churn"}},
                                 "spec": {"serviceAccountName": sa,
                                          "containers": [{"name": "app", "image": "busybox:bench"}]}}}}
    apps.create_namespaced_deployment(ns, dep)
    kubectl = ["kubectl", "-n", ns]
    subprocess.run(kubectl + ["rollout", "status", "deployment/churn", "--timeout=300s"], check=True,
                   capture_output=True)
    time.sleep(5.0)  # keyless sees the pods (created after the wiring: nothing to restart)
    before = k.snapshot()
    for _ in range(2):
        subprocess.run(kubectl + ["rollout", "restart", "deployment/churn"], check=True, capture_output=True)
        subprocess.run(kubectl + ["rollout", "status", "deployment/churn", "--timeout=300s"], check=True,
                       capture_output=True)
    # the old pods terminate after the rollout reports done: wait until only the replicas are left
    wait_until(lambda: len(core.list_namespaced_pod(ns, label_selector="app=churn").items) == CHURN_REPLICAS,
               120, "old churn pods gone")
    time.sleep(5.0)
    after = k.snapshot()
    res = window(k, before, after)
    res.update({"replicas": CHURN_REPLICAS, "rollouts": 2})
    return res


def create_pods(core, prefix, count):
    """count bare pods, default service account, bound to the kwok nodes (nodeName: no scheduler, kwok
    drives them Running), spread over the phase's namespaces."""
    nss = namespaces(prefix)
    nodes = [n.metadata.name for n in core.list_node(label_selector="keyless.dev/kwok=true").items]

    def mk(i):
        ns = nss[i % NS_COUNT]
        body = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"bulk-{i:06d}", "namespace": ns, "labels": {"app": f"bulk-{i % 100}"}},
                "spec": {"nodeName": nodes[i % len(nodes)],
                         "containers": [{"name": "app", "image": "busybox:bench"}]}}
        for attempt in range(5):
            try:
                core.create_namespaced_pod(ns, body)
                return
            except client.ApiException as e:
                if e.status == 409:
                    return
                if e.status not in (429, 500, 503, 504) or attempt == 4:
                    raise
                time.sleep(1.0)
    t0 = time.monotonic()
    parallel(mk, range(count), workers=16)
    return time.monotonic() - t0


def count_running(core):
    n = 0
    cont = None
    while True:
        r = core.list_pod_for_all_namespaces(limit=5000, _continue=cont, field_selector="status.phase=Running")
        n += len(r.items)
        cont = r.metadata._continue
        if not cont:
            return n


def phase_cold(core, prefix):
    if PODS:
        say(f"creating {PODS} pods")
        took = create_pods(core, prefix, PODS)
        say(f"created {PODS} pods in {took:.1f}s; waiting for kwok to run them")
        t0 = time.monotonic()
        try:
            wait_until(lambda: count_running(core) >= PODS, max(300, PODS / 20), "pods Running", interval=5)
            running_s = time.monotonic() - t0
        except AssertionError:
            running_s = None
    else:
        took, running_s = 0.0, 0.0
    k = Keyless("cold", settings("cold", resyncPeriod=RESYNC))
    try:
        k.wait_log("caches synced", 300)
        wait_until(lambda: k.reconciled() or k.p.poll() is not None, 300, "first reconcile")
        after_first = proc_status(k.p.pid)
        synced = k.log_time("caches synced")
        first = k.log_time(": reconciled (")
        res = {"pods_in_cluster": PODS, "pods_create_s": round(took, 1),
               "pods_running_s": round(running_s, 1) if running_s is not None else None,
               "identities": N, "exec_to_synced_s": round(synced - k.exec_wall, 3),
               "exec_to_first_reconcile_s": round(first - k.exec_wall, 3),
               "vmhwm_kib_at_first": after_first["VmHWM"], "rssanon_kib_at_first": after_first["RssAnon"],
               "vmrss_kib_at_first": after_first["VmRSS"]}
        return res, k
    except BaseException:
        k.stop()
        raise


SWEEP_RE = re.compile(r"drift sweep: (\d+) roles listed, (\d+) verified identities: (\d+) unchanged, (\d+) drifted, "
                      r"(\d+) missing, (\d+) to verify across the period; (\d+) IAM calls")


def sweeps(k):
    return [dict(zip(("listed", "known", "unchanged", "drifted", "missing", "spread", "calls"),
                     (int(x) for x in m.groups()))) for m in SWEEP_RE.finditer(k.text())]


def phase_resync(k, ids, mode):
    """A no-op resync period of a converged controller (driftDetection `mode`): from the first drift sweep
    that knows every identity to the next one, so the window holds one sweep and (roles) the full reads
    it spread over the period, and every per-identity resync of that period."""
    period = parse_duration(RESYNC)
    keys = {f"{ns}/wi-{i:05d}" for i, ns in ids}
    t0 = time.monotonic()
    wait_until(lambda: len({key for key, _ in k.reconciled() if key in keys}) >= len(keys) or k.p.poll() is not None,
               max(900, N * 2), "keyless' start-up pass", interval=1)
    startup_s = time.monotonic() - t0
    wait_until(lambda: any(sw["known"] >= len(keys) for sw in sweeps(k)) or k.p.poll() is not None,
               3 * period + 600, "a drift sweep of every identity", interval=0.5)
    n = len(sweeps(k))
    before = k.snapshot()
    wait_until(lambda: len(sweeps(k)) > n or k.p.poll() is not None, 3 * period + 600, "the next drift sweep",
               interval=0.5)
    after = k.snapshot()
    res = window(k, before, after)
    res.update({"period": RESYNC, "mode": mode, "identities": N, "sweep": sweeps(k)[n],
                "startup_pass_s": round(startup_s, 1), "proc_after": after["proc"]})
    return res


def parse_duration(s):
    m = re.fullmatch(r"(\d+)(s|m|h)", s)
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


def phase_cache():
    exe = os.path.join(ROOT, "bin", "bench", "bench_kube")
    r = subprocess.run(["/usr/bin/time", "-f", "MAXRSS_KIB %M", exe, "-i", str(CACHE_IDENTITIES), str(CACHE_PODS),
                        "200000"], cwd=ROOT, capture_output=True, text=True, check=True)
    rss = int(re.search(r"MAXRSS_KIB (\d+)", r.stderr).group(1))
    m = re.search(r"cache: (\d+) bytes of heap for \d+ pods = ([\d.]+) bytes per pod", r.stdout)
    res = {"pods": CACHE_PODS, "identities": CACHE_IDENTITIES, "maxrss_kib": rss,
           "cache_heap_kib": int(m.group(1)) // 1024, "bytes_per_pod": float(m.group(2)),
           "output": r.stdout.strip().splitlines()}
    for key, pat in (("bytes_per_wi", r"= ([\d.]+) bytes per WorkloadIdentity"),
                     ("bytes_per_sa", r"= ([\d.]+) bytes per ServiceAccount"),
                     ("bytes_per_memo", r"= ([\d.]+) bytes per identity")):
        m = re.search(pat, r.stdout)
        res[key] = float(m.group(1)) if m else None
    m = re.search(r"total: (\d+) bytes of heap", r.stdout)
    res["total_heap_kib"] = int(m.group(1)) // 1024
    m = re.search(r"steady: VmRSS (\d+) KiB, RssAnon (\d+) KiB", r.stdout)
    res["steady_vmrss_kib"], res["steady_rssanon_kib"] = int(m.group(1)), int(m.group(2))
    return res


# --- report ------------------------------------------------------------------------------------------

def mib(kib):
    return f"{kib / 1024:.1f}" if kib is not None else "-"


def calls(d):
    return ", ".join(f"{k} {v}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "0"


def table(res):
    rows = ["| scenario | figure |", "|---|---|"]
    for name, label in (("throttled", f"{N} new identities, IAM throttled above {IAM_LIMIT:g}/s"),
                        ("create", f"{N} new identities, moto unthrottled")):
        r = res.get(name)
        if not r:
            continue
        rows.append(f"| {label} | all Ready in **{r['ready_s']} s** (created in {r['create_s']} s); "
                    f"IAM calls {r['iam_calls']} ({calls(r['iam_by_action'])}); "
                    f"Kubernetes writes {r['kube_writes']}; peak RSS {mib(r['vmhwm_kib'])} MiB, "
                    f"RssAnon {mib(r['rssanon_kib'])} MiB; CPU {r['cpu_s']} s |")
        if r.get("proxy"):
            p = r["proxy"]
            rows.append(f"| ... at the proxy | {p['attempts']} attempts: {p['passed']} passed, {p['throttled']} "
                        f"throttled; achieved {p['rate_per_s']} calls/s (busiest 10 s: "
                        f"{p['peak_10s_rate_per_s']}/s); IAM errors seen by keyless: {r['iam_errors'] or 'none'} |")
    for name in ("resync_bulk", "resync_roles"):
        r = res.get(name)
        if r:
            sw = r["sweep"]
            rows.append(f"| no-op resync period of {N}, driftDetection {r['mode']} (resyncPeriod {r['period']}) | "
                        f"IAM calls **{r['iam_calls']}** ({calls(r['iam_by_action'])}) in {r['seconds']} s, the "
                        f"sweep itself {sw['calls']} ({sw['listed']} roles listed: {sw['unchanged']} unchanged, "
                        f"{sw['drifted']} drifted, {sw['missing']} missing, {sw['spread']} spread); Kubernetes "
                        f"writes {r['kube_writes']}; reconciles {sum(r['reconciles'].values())}; CPU {r['cpu_s']} s |")
    r = res.get("churn")
    if r:
        rows.append(f"| pod churn: {r['replicas']}-replica Deployment rolled {r['rollouts']}x | IAM calls "
                    f"**{r['iam_calls']}** ({calls(r['iam_by_action'])}); Kubernetes writes {r['kube_writes']}; "
                    f"reconciles {sum(r['reconciles'].values())}; CPU {r['cpu_s']} s in {r['seconds']} s |")
    r = res.get("cold")
    if r:
        rows.append(f"| cold start, {r['identities']} identities + {r['pods_in_cluster']} pods | exec -> caches synced "
                    f"**{r['exec_to_synced_s']} s**, -> first reconcile **{r['exec_to_first_reconcile_s']} s**; at the "
                    f"first reconcile RSS {mib(r['vmrss_kib_at_first'])} MiB (RssAnon "
                    f"{mib(r['rssanon_kib_at_first'])}); after the start-up pass and the resync window VmHWM "
                    f"{mib(r.get('vmhwm_kib_after_pass'))} MiB, RssAnon {mib(r.get('rssanon_kib_after_pass'))} MiB |")
    r = res.get("cache")
    if r:
        per = f"{r['bytes_per_pod']:.0f} bytes per pod"
        if r["identities"]:
            per += (f", {r['bytes_per_wi']:.0f} per WorkloadIdentity, {r['bytes_per_sa']:.0f} per ServiceAccount, "
                    f"{r['bytes_per_memo']:.0f} per identity in the reconciler's memo")
        rows.append(f"| in-process cache (bench_kube), {r['pods']} pods + {r['identities']} identities and their "
                    f"service accounts | heap **{mib(r['total_heap_kib'])} MiB** (pods {mib(r['cache_heap_kib'])} "
                    f"MiB; {per}); after freeing the generated responses VmRSS **{mib(r['steady_vmrss_kib'])} MiB**, "
                    f"RssAnon {mib(r['steady_rssanon_kib'])} MiB; peak RSS {mib(r['maxrss_kib'])} MiB (with the "
                    f"generated input) |")
    return "\n".join(rows)


def main():
    core, apps, crd = kube_clients()
    install_crd()
    res = {"identities": N, "namespaces": NS_COUNT, "pods": PODS, "keyless": KEYLESS,
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "loadavg_start": open("/proc/loadavg").read().split()[:3]}
    say(f"N={N} identities, {PODS} pods, phases {','.join(PHASES)}; load average {res['loadavg_start']}")

    def save():
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        res["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        with open(OUT, "w") as f:
            json.dump(res, f, indent=1, default=str)

    try:
        if "cache" in PHASES:
            say(f"cache: bench_kube {CACHE_PODS} pods, {CACHE_IDENTITIES} identities")
            res["cache"] = phase_cache()
            save()
        if "throttled" in PHASES:
            proxy = ThrottlingProxy(os.environ["AWS_ENDPOINT_URL"], IAM_LIMIT).start()
            try:
                say(f"throttled: {N} identities, IAM limited to {IAM_LIMIT:g}/s by the proxy")
                r, k = phase_new_identities(core, crd, "bt", "throttled", env={"AWS_ENDPOINT_URL_IAM": proxy.url},
                                            proxy=proxy)
                k.stop()
            finally:
                proxy.stop()
            res["throttled"] = r
            save()
            say(f"throttled: {r['ready_s']} s; deleting those identities (finalizers off, roles via moto)")
            res["throttled"]["roles_deleted_after"] = delete_identities(core, crd, "bt")
        k = None
        if "create" in PHASES:
            say(f"create: {N} identities against moto")
            r, k = phase_new_identities(core, crd, "b", "create")
            res["create"] = r
            save()
            say(f"create: {r['ready_s']} s")
        if "churn" in PHASES and k:
            say(f"churn: {CHURN_REPLICAS}-replica Deployment rolled twice")
            res["churn"] = phase_churn(core, apps, crd, k, "b")
            save()
        if k:
            k.stop()
        if "cold" in PHASES:
            r, k = phase_cold(core, "b")
            res["cold"] = r
            save()
            say(f"cold: synced {r['exec_to_synced_s']} s, first reconcile {r['exec_to_first_reconcile_s']} s")
            try:
                if "resync" in PHASES:
                    ids = [(i, namespaces("b")[i % NS_COUNT]) for i in range(N)]
                    say("resync: driftDetection roles (the cold controller)")
                    res["resync_roles"] = phase_resync(k, ids, "roles")
                    res["cold"]["vmhwm_kib_after_pass"] = res["resync_roles"]["proc_after"]["VmHWM"]
                    res["cold"]["rssanon_kib_after_pass"] = res["resync_roles"]["proc_after"]["RssAnon"]
                    save()
                    k.stop()
                    say("resync: driftDetection bulk")
                    k = Keyless("bulk", settings("bulk", resyncPeriod=RESYNC, driftDetection="bulk"))
                    res["resync_bulk"] = phase_resync(k, ids, "bulk")
                    save()
            finally:
                k.stop()
    finally:
        save()
    print(table(res))
    print(f"\nload average at start {' '.join(res['loadavg_start'])}, at end {' '.join(res['loadavg_end'])}; "
          f"raw figures: {OUT}")


if __name__ == "__main__":
    main()
