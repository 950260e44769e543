"""controller/kube against the real kube-apiserver (issue #3), through the
bin/itest/kube_probe driver (built with ASan+UBSan).

Watches and the 410 test use ConfigMaps, which the local cluster serves
without the watch cache (--watch-cache-sizes configmaps#0), so compacting etcd
really makes an old resourceVersion "too old"."""

import json
import os
import queue
import subprocess
import threading
import time
import uuid

import pytest
from kubernetes import client

from conftest import wait_until
from fault_proxy import KubeFaultProxy
from tcp_proxy import TcpProxy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROBE = os.path.join(ROOT, "bin", "itest", "kube_probe")


def probe(*args, kubeconfig=None):
    env = dict(os.environ)
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    out = subprocess.run([PROBE, *args], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


class Informer:
    """kube_probe informer as a subprocess: change lines arrive on a queue;
    dump() asks for the cache content and stats."""

    def __init__(self, resource, namespace, kubeconfig=None, extra=()):
        env = dict(os.environ)
        if kubeconfig:
            env["KUBECONFIG"] = kubeconfig
        self.p = subprocess.Popen([PROBE, "informer", resource, "--namespace", namespace, *extra],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, bufsize=1)
        self.changes = queue.Queue()
        self.dumps = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            msg = json.loads(line)
            (self.dumps if "dump" in msg else self.changes).put(msg)

    def dump(self):
        self.p.stdin.write("dump\n")
        self.p.stdin.flush()
        return self.dumps.get(timeout=10)

    def wait(self, pred, what, timeout=30):
        return wait_until(lambda: (lambda d: d if pred(d) else None)(self.dump()), timeout, what, interval=0.2)

    def drain_changes(self):
        out = []
        while True:
            try:
                out.append(self.changes.get_nowait())
            except queue.Empty:
                return out

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            pass
        assert self.p.wait(timeout=15) == 0


def api_configmaps(core, ns):
    lst = core.list_namespaced_config_map(ns)
    return {f"{ns}/{c.metadata.name}": c.metadata.resource_version for c in lst.items}


def proxied_kubeconfig(tmp_path, port):
    """The cluster's kubeconfig with the server behind a TcpProxy."""
    text = open(os.environ["KUBECONFIG"]).read()
    server = [l.split()[-1] for l in text.splitlines() if "server:" in l][0]
    path = tmp_path / "kubeconfig-proxied"
    path.write_text(text.replace(server, f"https://127.0.0.1:{port}"))
    return str(path)


@pytest.fixture
def proxy():
    server = [l.split()[-1] for l in open(os.environ["KUBECONFIG"]).read().splitlines() if "server:" in l][0]
    port = int(server.rsplit(":", 1)[1])
    p = TcpProxy("127.0.0.1", port)
    yield p
    p.close()


def test_list_pagination_with_limit_1(core, namespace):
    for i in range(5):
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"cm{i}")))
    out = probe("list", f"/api/v1/namespaces/{namespace}/configmaps", "--limit", "1")
    want = sorted(api_configmaps(core, namespace))  # includes kube-root-ca.crt
    assert sorted(out["items"]) == want
    assert out["pages"] == len(want)  # one item per page, each page followed its `continue`
    assert int(out["resourceVersion"]) > 0


def test_rest_verbs_and_status_errors(core, namespace):
    base = f"/api/v1/namespaces/{namespace}/configmaps"
    created = probe("request", "POST", base, "--body",
                    json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}}))
    assert created["rc"] == 0 and created["object"]["data"] == {"x": "1"}
    again = probe("request", "POST", base, "--body", json.dumps({"metadata": {"name": "a"}}))
    assert (again["rc"], again["reason"], again["http"]) == (-17, "AlreadyExists", 409)  # -EEXIST
    missing = probe("request", "GET", f"{base}/nope")
    assert (missing["rc"], missing["reason"]) == (-2, "NotFound")  # -ENOENT
    bad = probe("request", "POST", base, "--body", json.dumps({"metadata": {"name": "Not_Valid"}}))
    assert (bad["rc"], bad["reason"], bad["http"]) == (-22, "Invalid", 422)
    assert "metadata.name" in bad["message"]

    # merge patch, JSON patch, server-side apply with a field manager
    m = probe("request", "PATCH", f"{base}/a", "--patch", "merge", "--body", '{"data":{"y":"2"}}')
    assert m["object"]["data"] == {"x": "1", "y": "2"}
    j = probe("request", "PATCH", f"{base}/a", "--patch", "json", "--body", '[{"op":"remove","path":"/data/x"}]')
    assert j["object"]["data"] == {"y": "2"}
    a = probe("request", "PATCH", f"{base}/a", "--patch", "apply", "--field-manager", "keyless", "--force", "--body",
              json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"z": "3"}}))
    assert a["object"]["data"]["z"] == "3"
    assert "keyless" in [f["manager"] for f in a["object"]["metadata"]["managedFields"]]

    # conflict on a stale resourceVersion is reported as Conflict
    stale = a["object"]
    core.patch_namespaced_config_map("a", namespace, {"data": {"w": "4"}})
    put = probe("request", "PUT", f"{base}/a", "--body", json.dumps(stale))
    assert (put["rc"], put["reason"], put["http"]) == (-116, "Conflict", 409)  # -ESTALE

    # delete with preconditions: wrong uid refused, right uid accepted
    uid = stale["metadata"]["uid"]
    wrong = probe("delete", f"{base}/a", "--uid", str(uuid.uuid4()))
    assert (wrong["rc"], wrong["reason"]) == (-116, "Conflict")
    assert probe("delete", f"{base}/a", "--uid", uid)["rc"] == 0
    with pytest.raises(client.ApiException) as e:
        core.read_namespaced_config_map("a", namespace)
    assert e.value.status == 404

    # the status subresource (a namespace's status through PATCH .../status)
    st = probe("request", "PATCH", f"/api/v1/namespaces/{namespace}/status", "--patch", "merge",
               "--body", '{"status":{"conditions":[{"type":"E2ETest","status":"True"}]}}')
    assert {"type": "E2ETest", "status": "True"} in [
        {k: c[k] for k in ("type", "status")} for c in st["object"]["status"]["conditions"]]


def test_informer_list_watch_and_resume_after_dropped_connection(core, namespace, proxy, tmp_path):
    for n in ("a", "b"):
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=n)))
    inf = Informer("configmaps", namespace, proxied_kubeconfig(tmp_path, proxy.port))
    try:
        d = inf.wait(lambda d: d["synced"] and d["dump"] == api_configmaps(core, namespace), "initial sync")
        assert d["stats"]["lists"] == 1
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c")))
        inf.wait(lambda d: f"{namespace}/c" in d["dump"], "watch event for c")
        watches = d["stats"]["watches"]

        proxy.cut(block=True)  # drop the watch and refuse reconnects for a while
        core.delete_namespaced_config_map("a", namespace)
        core.patch_namespaced_config_map("b", namespace, {"data": {"k": "v"}})
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="d")))
        time.sleep(1.0)
        assert f"{namespace}/a" in inf.dump()["dump"]  # it cannot know yet
        proxy.unblock()

        d = inf.wait(lambda d: d["dump"] == api_configmaps(core, namespace), "resume after reconnect")
        assert d["stats"]["lists"] == 1  # resumed from its resourceVersion: no relist
        assert d["stats"]["relists_gone"] == 0
        assert d["stats"]["watches"] > watches
        assert d["stats"]["errors"] >= 1
        changes = {(c["change"], c["name"]) for c in inf.drain_changes()}
        assert {("DELETED", "a"), ("UPDATED", "b"), ("ADDED", "d")} <= changes
    finally:
        inf.close()


def etcd_compact():
    """Compact etcd to its current revision (what the apiserver does every 5 min)."""
    ep = os.environ["KEYLESS_ETCD_ENDPOINT"]
    st = subprocess.run(["etcdctl", f"--endpoints={ep}", "endpoint", "status", "-w", "json"],
                        capture_output=True, text=True, check=True)
    rev = json.loads(st.stdout)[0]["Status"]["header"]["revision"]
    subprocess.run(["etcdctl", f"--endpoints={ep}", "compact", str(rev)], capture_output=True, check=True)
    return rev


def test_informer_relists_on_410_gone_without_missing_or_phantom_objects(core, namespace, proxy, tmp_path):
    for n in ("keep", "drop", "change"):
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=n)))
    inf = Informer("configmaps", namespace, proxied_kubeconfig(tmp_path, proxy.port))
    try:
        inf.wait(lambda d: d["synced"] and d["dump"] == api_configmaps(core, namespace), "initial sync")
        inf.drain_changes()
        proxy.cut(block=True)
        core.delete_namespaced_config_map("drop", namespace)
        core.patch_namespaced_config_map("change", namespace, {"data": {"v": "2"}})
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="new")))
        # some churn elsewhere so the compaction revision is past our changes
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="tmp")))
        core.delete_namespaced_config_map("tmp", namespace)
        etcd_compact()
        proxy.unblock()

        d = inf.wait(lambda d: d["stats"]["relists_gone"] >= 1 and d["dump"] == api_configmaps(core, namespace),
                     "relist after 410 Gone")
        assert d["stats"]["lists"] >= 2
        want = api_configmaps(core, namespace)
        assert d["dump"] == want  # nothing missed, nothing phantom, current resourceVersions
        changes = [(c["change"], c["name"]) for c in inf.drain_changes()]
        assert ("DELETED", "drop") in changes
        assert ("UPDATED", "change") in changes
        assert ("ADDED", "new") in changes
        assert not [c for c in changes if c[1] in ("keep", "kube-root-ca.crt")]  # unchanged: no event
        assert ("ADDED", "tmp") not in changes  # came and went while we were away
    finally:
        inf.close()


def test_informer_relist_failing_once_then_succeeding_drops_every_deleted_object(core, namespace, tmp_path):
    """Review finding 3: after a 410 the first relist attempt fails (500 from
    the fault proxy) and an object is deleted before the next attempt; the
    successful attempt must sweep both the object deleted while the watch was
    down and the one deleted between the attempts."""
    for n in ("keep", "gone-before", "gone-between", "change"):
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=n)))
    proxy = KubeFaultProxy(os.environ["KUBECONFIG"]).start()
    state = {"watches_down": False, "fail_list": False, "failed_lists": 0}
    path = f"/api/v1/namespaces/{namespace}/configmaps"

    def rule(method, p):
        if method != "GET" or not p.startswith(path):
            return None
        if "watch=1" in p:
            return "500" if state["watches_down"] else None
        if state["fail_list"]:
            state["fail_list"] = False
            state["failed_lists"] += 1
            core.delete_namespaced_config_map("gone-between", namespace)  # deleted between the attempts
            return "500"
        return None

    proxy.rule = rule
    inf = Informer("configmaps", namespace, proxy.kubeconfig(tmp_path), extra=("--watch-timeout", "2"))
    try:
        inf.wait(lambda d: d["synced"] and d["dump"] == api_configmaps(core, namespace), "initial sync")
        inf.drain_changes()
        # the watch goes down (its 2 s timeout ends it; re-opening fails) ...
        state["watches_down"] = True
        wait_until(lambda: any(a == "500" and "watch=1" in q for _, _, q, a in proxy.log), 30,
                   "the watch to end and fail to re-open")
        # ... the world changes and etcd is compacted past the informer's resourceVersion
        core.delete_namespaced_config_map("gone-before", namespace)
        core.patch_namespaced_config_map("change", namespace, {"data": {"v": "2"}})
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="new")))
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="tmp")))
        core.delete_namespaced_config_map("tmp", namespace)
        etcd_compact()
        state["fail_list"] = True
        state["watches_down"] = False

        try:
            d = inf.wait(lambda d: d["stats"]["relists_gone"] >= 1 and d["stats"]["lists"] >= 2
                         and d["dump"] == api_configmaps(core, namespace), "relist after 410 Gone and a failed attempt")
        except AssertionError:
            raise AssertionError(f"cache {inf.dump()} vs the API {api_configmaps(core, namespace)}; "
                                 f"proxy log {proxy.log[-12:]}")
        assert state["failed_lists"] == 1
        assert d["stats"]["errors"] >= 2  # the failed watches and the failed list
        names = {k.split("/", 1)[1] for k in d["dump"]}
        assert "gone-before" not in names and "gone-between" not in names
        changes = [(c["change"], c["name"]) for c in inf.drain_changes()]
        assert ("DELETED", "gone-before") in changes
        assert ("DELETED", "gone-between") in changes
        assert ("UPDATED", "change") in changes
        assert ("ADDED", "new") in changes
        assert not [c for c in changes if c[1] == "keep"]
    finally:
        inf.close()
        proxy.stop()


def test_bookmarks_are_observed(core, namespace):
    other = "e2e-bm-" + uuid.uuid4().hex[:6]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    # Bookmarks come from the apiserver's watch cache (ConfigMaps bypass it
    # here), so watch ServiceAccounts; with a 4 s server-side watch timeout the
    # apiserver sends a bookmark shortly before it ends the watch.
    inf = Informer("serviceaccounts", namespace, extra=("--watch-timeout", "4"))
    try:
        inf.wait(lambda d: d["synced"], "sync")
        # bookmarks carry progress; make the resourceVersion move outside our namespace
        for i in range(3):
            core.create_namespaced_service_account(other, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=f"x{i}")))
        last = int(core.list_namespaced_service_account(other).metadata.resource_version)
        d = inf.wait(lambda d: d["stats"]["bookmarks"] >= 1, "a bookmark", timeout=30)
        # the bookmark moved our resourceVersion past changes we never saw
        assert int(d["stats"]["resource_version"]) >= last
        assert d["stats"]["events"] == 0
        d = inf.wait(lambda d: d["stats"]["watches"] >= 2, "the 4 s watch to end and be resumed")
        assert d["stats"]["relists_gone"] == 0
    finally:
        inf.close()
        core.delete_namespace(other)


def test_pod_informer_projection_and_resync(core, apps, namespace):
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="app-sa")))
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(
            replicas=2, selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(service_account_name="app-sa",
                                      containers=[client.V1Container(name="c", image="example.invalid/x")]))))
    apps.create_namespaced_deployment(namespace, dep)
    inf = Informer("pods", namespace, extra=("--resync-ms", "1000"))
    try:
        d = inf.wait(lambda d: len(d["dump"]) == 2, "two pods")
        assert set(d["dump"].values()) == {"app-sa"}  # indexed by service account
        time.sleep(2.5)
        resyncs = [c for c in inf.drain_changes() if c["change"] == "RESYNC"]
        assert len(resyncs) >= 2 and {c["idx"] for c in resyncs} == {"app-sa"}
    finally:
        inf.close()


def test_events_are_deduplicated_into_a_series(core, namespace):
    cm = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="ev")))
    out = probe("event", namespace, "ConfigMap", "v1", "ev", cm.metadata.uid, "E2EReason", "5", "same note")
    assert out == {"created": 1, "updated": 4, "failed": 0}
    ev = client.EventsV1Api().list_namespaced_event(namespace, field_selector="regarding.name=ev").items
    assert len(ev) == 1
    assert ev[0].reason == "E2EReason" and ev[0].note == "same note"
    assert ev[0].series.count == 5
    assert ev[0].reporting_controller == "keyless.dev/controller"
    assert ev[0].regarding.uid == cm.metadata.uid


def _sa_with_configmap_access(core, namespace, name):
    rbac = client.RbacAuthorizationV1Api()
    rbac.create_namespaced_role(namespace, client.V1Role(
        metadata=client.V1ObjectMeta(name=name),
        rules=[client.V1PolicyRule(api_groups=[""], resources=["configmaps"], verbs=["get", "list", "watch"])]))
    rbac.create_namespaced_role_binding(namespace, client.V1RoleBinding(
        metadata=client.V1ObjectMeta(name=name),
        role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name=name),
        subjects=[client.RbacV1Subject(kind="ServiceAccount", name=name, namespace=namespace)]))
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))


def _recreate_sa(core, namespace, name):
    """Deleting the service account invalidates every token issued for it."""
    core.delete_namespaced_service_account(name, namespace)
    wait_until(lambda: name not in [s.metadata.name for s in core.list_namespaced_service_account(namespace).items],
               30, "service account deletion")
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))


def _kubeconfig_with_user(tmp_path, user_yaml):
    text = open(os.environ["KUBECONFIG"]).read()
    head, _, rest = text.partition("users:\n")
    _, _, tail = rest.partition("contexts:\n")
    path = tmp_path / "kubeconfig-user"
    path.write_text(head + "users:\n" + user_yaml + "contexts:\n" + tail)
    return str(path)


def test_exec_plugin_credentials_rerun_after_401(core, namespace, tmp_path):
    _sa_with_configmap_access(core, namespace, "probe-sa")
    counter = tmp_path / "runs"
    plugin = tmp_path / "token-plugin.sh"
    plugin.write_text(f"""#!/bin/sh
n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}
tok=$(kubectl --kubeconfig {os.environ['KUBECONFIG']} -n {namespace} create token probe-sa)
printf '{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{{"token":"%s"}}}}' "$tok"
""")
    plugin.chmod(0o755)
    user = ("- name: keyless-local-admin\n  user:\n    exec:\n"
            "      apiVersion: client.authentication.k8s.io/v1\n"
            f"      command: {plugin}\n")
    kc = _kubeconfig_with_user(tmp_path, user)
    inf = Informer("configmaps", namespace, kc, extra=("--watch-timeout", "2"))
    try:
        inf.wait(lambda d: d["synced"], "sync with an exec-plugin token")
        assert int(counter.read_text()) == 1  # cached, not run per request
        time.sleep(3)  # several watches later, still one run
        assert int(counter.read_text()) == 1
        _recreate_sa(core, namespace, "probe-sa")  # the cached token is now rejected (401)
        # the next 2 s watch gets 401: the plugin runs again, once
        wait_until(lambda: int(counter.read_text()) >= 2, 20, "the plugin to run again after a 401")
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="after")))
        d = inf.wait(lambda d: f"{namespace}/after" in d["dump"], "progress with the new token")
        assert int(counter.read_text()) == 2
        assert d["stats"]["relists_gone"] == 0
    finally:
        inf.close()


def test_token_file_is_reread_when_it_rotates(core, namespace, tmp_path):
    _sa_with_configmap_access(core, namespace, "probe-sa")
    tokfile = tmp_path / "token"
    new_token = lambda: subprocess.run(["kubectl", "-n", namespace, "create", "token", "probe-sa"],
                                       capture_output=True, text=True, check=True).stdout.strip()
    tokfile.write_text(new_token())
    kc = _kubeconfig_with_user(tmp_path, f"- name: keyless-local-admin\n  user:\n    tokenFile: {tokfile}\n")
    inf = Informer("configmaps", namespace, kc, extra=("--watch-timeout", "2"))
    try:
        inf.wait(lambda d: d["synced"], "sync with a token file")
        _recreate_sa(core, namespace, "probe-sa")
        errors = inf.wait(lambda d: d["stats"]["errors"] >= 1, "401 with the old token")["stats"]["errors"]
        assert "Unauthorized" in inf.dump()["last_error"] or "401" in inf.dump()["last_error"]
        tokfile.write_text(new_token())  # rotated, as the kubelet does with projected tokens
        core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="rotated")))
        inf.wait(lambda d: f"{namespace}/rotated" in d["dump"], "progress with the rotated token")
        assert errors >= 1
    finally:
        inf.close()
