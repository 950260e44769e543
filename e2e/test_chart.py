"""The Helm chart on the local control plane (issue #10): `helm lint`, the rendered manifests
accepted by the real kube-apiserver (`kubectl apply --dry-run=server`), `helm install`, then the
real `keyless controller` run locally with the credentials of the chart's ServiceAccount (a token
from the TokenRequest API in a kubeconfig) and the chart's settings ConfigMap, through the IRSA
scenario: every Kubernetes call keyless makes has to pass the chart's RBAC (a missing permission
is a failure; the one left out on purpose, pods/eviction, shows up as one), and every IAM call the
policy `keyless iam-policy` prints for the chart's settings, held by a moto user and evaluated by
the IAM front (resources and conditions). Then server-side apply
of the same WorkloadIdentity twice shows no diff, `helm upgrade` with changed values, `helm
uninstall` leaving the CRD and the WorkloadIdentities and nothing running.

kwok plays the kubelet: the chart's pods are scheduled and reported Running, no container runs
(no image is pulled), so the controller under test is the local bin/keyless-asan."""

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import yaml
from kubernetes import client

from conftest import aws_client, wait_until
from controller_env import KEYLESS, Controller, boundary_policy_arn, install_crd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "charts", "keyless")
sys.path.insert(0, os.path.join(ROOT, "argocd"))
from test_health import health  # noqa: E402  (the Argo CD health check, lua5.1)

GROUP, VERSION, PLURAL = "keyless.dev", "v1alpha1", "workloadidentities"
RELEASE = "kl"
FULLNAME = "kl-keyless"
TIMES = {}  # seconds per step, printed at the end


def run(*cmd, check=True, input=None):
    r = subprocess.run(list(cmd), capture_output=True, text=True, input=input)
    if check:
        assert r.returncode == 0, f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r


class timed:
    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.t = time.monotonic()

    def __exit__(self, *exc):
        TIMES[self.what] = round(time.monotonic() - self.t, 2)


@pytest.fixture(scope="module")
def world(tmp_path_factory, core):
    """The release namespace, a tenant namespace and the values; torn down at the end."""
    d = tmp_path_factory.mktemp("chart")
    w = {"dir": d, "ns": "keyless-" + uuid.uuid4().hex[:6], "tenant": "chart-" + uuid.uuid4().hex[:6]}
    for ns in (w["ns"], w["tenant"]):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    wait_until(lambda: [s for s in core.list_namespaced_service_account(w["tenant"]).items
                        if s.metadata.name == "default"], 30, "default SA")
    w["values"] = write_values(d / "values.yaml", tags={"managed-by": "keyless-chart-e2e"}, evict=False)
    yield w
    if w.get("controller"):
        w["controller"].stop()
    run("helm", "uninstall", RELEASE, "-n", w["ns"], "--wait", check=False)
    # WorkloadIdentities left on purpose (helm uninstall keeps them): their roles and finalizers
    # are removed here, as keyless would have done
    iam = aws_client("iam")
    for o in client.CustomObjectsApi().list_namespaced_custom_object(GROUP, VERSION, w["tenant"], PLURAL)["items"]:
        role = (o.get("status") or {}).get("roleName")
        if role:
            for call in (lambda: iam.delete_role_policy(RoleName=role, PolicyName="keyless"),
                         lambda: iam.delete_role(RoleName=role)):
                try:
                    call()
                except Exception:
                    pass
        client.CustomObjectsApi().patch_namespaced_custom_object(
            GROUP, VERSION, w["tenant"], PLURAL, o["metadata"]["name"], {"metadata": {"finalizers": None}})
    for ns in (w["ns"], w["tenant"]):
        core.delete_namespace(ns)
    print("\nchart e2e timings (s): " + ", ".join(f"{k} {v}" for k, v in TIMES.items()))


def write_values(path, tags, evict):
    values = {
        "settings": {
            "clusterName": os.environ["KEYLESS_CLUSTER_NAME"],
            "region": os.environ["AWS_REGION"],
            "permissionsBoundaryArn": boundary_policy_arn(),
            "resyncPeriod": "10s",
            "extraTags": tags,
            # the local issuer's certificate is signed by the cluster's own CA (a path on this
            # machine: the controller under test runs here, not in the chart's pod)
            "oidcIssuerCA": os.environ["KEYLESS_CA_FILE"],
            # set, so the printed policy needs no eks:DescribeCluster (moto matches an EKS
            # statement's Resource against "*" only)
            "oidcIssuer": os.environ["KEYLESS_ISSUER"],
        },
        "rbac": {"evictPods": evict},
        "serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/keyless"}},
    }
    with open(path, "w") as f:
        yaml.safe_dump(values, f)
    return str(path)


def crd_api():
    return client.CustomObjectsApi()


def get_wi(ns, name):
    return crd_api().get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)


def cond(obj, type_):
    return next((c for c in (obj.get("status") or {}).get("conditions", []) if c["type"] == type_), {})


def wait_cond(ns, name, type_, status, reason=None, timeout=60):
    def ok():
        o = get_wi(ns, name)
        c = cond(o, type_)
        return o if c.get("status") == status and (reason is None or c.get("reason") == reason) else None
    try:
        return wait_until(ok, timeout, f"{ns}/{name} {type_}={status} {reason or ''}")
    except AssertionError:
        raise AssertionError(f"{ns}/{name} status: {json.dumps(get_wi(ns, name).get('status'), indent=1)}")


def wi_manifest(ns, name, sa, **spec):
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkloadIdentity", "metadata": {"name": name, "namespace": ns},
            "spec": {"serviceAccountName": sa, "permissions": {"statements": [
                {"sid": "ReadLogs", "effect": "Allow", "actions": ["s3:GetObject"],
                 "resources": ["arn:aws:s3:::my-log-bucket/logs/*"]}]}, **spec}}


def sa_kubeconfig(core, w):
    """A kubeconfig of the chart's ServiceAccount: a TokenRequest token and the cluster CA."""
    with open(os.environ["KUBECONFIG"]) as f:
        server = yaml.safe_load(f)["clusters"][0]["cluster"]["server"]
    # no audience: the API server's own (what the kubelet mounts for in-cluster clients)
    tr = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=3600))
    token = core.create_namespaced_service_account_token(FULLNAME, w["ns"], tr).status.token
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "keyless",
           "clusters": [{"name": "local", "cluster": {"server": server,
                                                      "certificate-authority": os.environ["KEYLESS_CA_FILE"]}}],
           "users": [{"name": "keyless", "user": {"token": token}}],
           "contexts": [{"name": "keyless", "context": {"cluster": "local", "user": "keyless",
                                                        "namespace": w["ns"]}}]}
    path = w["dir"] / "sa-kubeconfig"
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    os.chmod(path, 0o600)
    return str(path)


def start_controller(core, w, name):
    """keyless as the chart runs it: the chart's settings (from its ConfigMap), the chart's
    ServiceAccount, leader election on the chart's Lease, POD_NAMESPACE the release namespace."""
    cm = core.read_namespaced_config_map(f"{FULLNAME}-settings", w["ns"])
    settings = w["dir"] / f"settings-{name}.yaml"
    settings.write_text(cm.data["settings.yaml"])
    # the Deployment's own leader-election flags (the health/metrics addresses are left out: the
    # chart's pods own those ports)
    args = json.loads(run("kubectl", "-n", w["ns"], "get", "deploy", FULLNAME, "-o",
                          "jsonpath={.spec.template.spec.containers[0].args}").stdout)
    i = args.index("--leader-elect")
    flags = args[i:args.index("--workers")]
    assert flags[:3] == ["--leader-elect", "--lease-namespace", w["ns"]], flags
    env = {"KUBECONFIG": sa_kubeconfig(core, w), "POD_NAMESPACE": w["ns"], **fenced_aws_env(settings, name)}
    with timed(f"controller start ({name})"):
        c = Controller(str(settings), str(w["dir"] / f"controller-{name}.log"), env=env, extra=flags)
    w["controller"] = c
    return c


def fenced_aws_env(settings, name):
    """AWS credentials of a moto user whose only policy is what `keyless iam-policy` prints for
    these settings, its IAM calls through the IAM front (which evaluates that policy)."""
    front = os.environ.get("KEYLESS_IAM_FRONT")
    assert front, "the local cluster has no IAM front (KEYLESS_IAM_FRONT)"
    out = run(os.path.join(ROOT, "bin", "keyless"), "iam-policy", "--settings", str(settings)).stdout
    iam = aws_client("iam")
    user = f"keyless-chart-{name}-{uuid.uuid4().hex[:6]}"
    arn = iam.create_policy(PolicyName=user, PolicyDocument=out)["Policy"]["Arn"]
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    k = iam.create_access_key(UserName=user)["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": k["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": k["SecretAccessKey"],
            "AWS_ENDPOINT_URL_IAM": front}


def forbidden_lines(c):
    """The controller's log lines about an RBAC denial of keyless' own ServiceAccount."""
    return [l for l in c.text().splitlines() if f'forbidden: User "system:serviceaccount:' in l]


# --- 1. static: lint, and the real apiserver accepts what the chart renders -------------------

def test_lint_and_rendered_manifests_accepted_by_the_apiserver(world):
    run("helm", "lint", "--strict", CHART, "-f", os.path.join(CHART, "ci", "lint-values.yaml"))
    # every optional part on (the ServiceMonitor needs prometheus-operator's CRD, not here)
    out = run("helm", "template", RELEASE, CHART, "-n", world["ns"], "--include-crds", "-f", world["values"],
              "--set", "rbac.evictPods=true", "--set", "metrics.service.enabled=true",
              "--set", "networkPolicy.enabled=true", "--set", "replicaCount=3").stdout
    kinds = sorted(d["kind"] for d in yaml.safe_load_all(out) if d)
    assert kinds == sorted(["CustomResourceDefinition", "ServiceAccount", "ConfigMap", "ClusterRole",
                            "ClusterRoleBinding", "Role", "RoleBinding", "Service", "Deployment",
                            "PodDisruptionBudget", "NetworkPolicy"])
    with timed("kubectl apply --dry-run=server"):
        r = run("kubectl", "apply", "--dry-run=server", "--validate=strict", "-n", world["ns"], "-f", "-", input=out)
    assert r.stdout.count("(server dry run)") == len(kinds), r.stdout


# --- 2. install ---------------------------------------------------------------------------------

def test_install(world, apps, core):
    with timed("helm install --wait"):
        r = run("helm", "install", RELEASE, CHART, "-n", world["ns"], "-f", world["values"], "--wait",
                "--timeout", "120s")
    assert "keyless" in r.stdout and "helm uninstall" in r.stdout  # NOTES.txt
    install_crd()  # Established (helm installed it unless another test had)
    dep = apps.read_namespaced_deployment(FULLNAME, world["ns"])
    assert dep.spec.replicas == 2 and dep.status.ready_replicas == 2  # kwok reports the pods Running/Ready
    pods = core.list_namespaced_pod(world["ns"], label_selector=f"app.kubernetes.io/instance={RELEASE}").items
    assert len(pods) == 2 and {p.spec.node_name for p in pods} <= {"kwok-node-0", "kwok-node-1"}
    sa = core.read_namespaced_service_account(FULLNAME, world["ns"])
    assert sa.metadata.annotations["eks.amazonaws.com/role-arn"] == "arn:aws:iam::123456789012:role/keyless"
    world["checksum"] = dep.spec.template.metadata.annotations["checksum/settings"]


# --- 3. keyless with only the chart's RBAC --------------------------------------------------------

def test_irsa_with_only_the_charts_rbac(world, core, apps):
    ns = world["tenant"]
    c = start_controller(core, world, "install")
    # the chart's Lease: leader election went through the Role (create, then get/update by name)
    lease = run("kubectl", "-n", world["ns"], "get", "lease", f"{FULLNAME}-controller", "-o", "json").stdout
    assert json.loads(lease)["spec"]["holderIdentity"]

    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="s3-reader-sa")))
    labels = {"app": "web"}
    apps.create_namespaced_deployment(ns, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(replicas=2, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(service_account_name="s3-reader-sa", containers=[
                                             client.V1Container(name="c", image="example.invalid/web:1")])))))
    old = wait_until(lambda: (lambda p: p if len(p) == 2 else None)(
        core.list_namespaced_pod(ns, label_selector="app=web").items), 60, "2 pods before the identity")
    old_names = {p.metadata.name for p in old}

    t = time.monotonic()
    crd_api().create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, wi_manifest(ns, "s3-reader", "s3-reader-sa"))
    o = wait_cond(ns, "s3-reader", "Ready", "True", timeout=90)
    st = o["status"]
    assert core.read_namespaced_service_account("s3-reader-sa", ns).metadata.annotations[
        "eks.amazonaws.com/role-arn"] == st["roleArn"]
    assert "keyless.dev/cleanup" in o["metadata"]["finalizers"]

    def replaced():
        pods = [p for p in core.list_namespaced_pod(ns, label_selector="app=web").items
                if not p.metadata.deletion_timestamp]
        if len(pods) != 2 or old_names & {p.metadata.name for p in pods}:
            return None
        envs = [{e.name: e.value for e in (p.spec.containers[0].env or [])} for p in pods]
        return pods if all(e.get("AWS_ROLE_ARN") == st["roleArn"] for e in envs) else None
    wait_until(replaced, 90, "the Deployment's pods replaced with injected ones")
    dep = apps.read_namespaced_deployment("web", ns)
    assert dep.metadata.annotations["keyless.dev/restarted-for"].startswith(st["roleArn"])
    wait_cond(ns, "s3-reader", "WorkloadsReady", "True")
    TIMES["IRSA scenario (identity to restarted pods)"] = round(time.monotonic() - t, 2)
    evs = client.EventsV1Api().list_namespaced_event(ns, field_selector="regarding.name=s3-reader").items
    assert {"RoleCreated", "ServiceAccountAnnotated", "WorkloadRestarted"} <= {e.reason for e in evs}
    assert all(e.reporting_controller for e in evs)
    # the role's tags come from the chart's settings
    tags = {t["Key"]: t["Value"] for t in aws_client("iam").get_role(RoleName=st["roleName"])["Role"]["Tags"]}
    assert tags["managed-by"] == "keyless-chart-e2e"
    # the Argo CD health check on the live object
    assert health(get_wi(ns, "s3-reader")) == ("Healthy", f"IAM role {st['roleArn']} wired to service account "
                                                          "s3-reader-sa")
    assert not forbidden_lines(c), forbidden_lines(c)
    assert "AccessDenied" not in c.text(), [l for l in c.text().splitlines() if "AccessDenied" in l]
    world["role"] = st["roleName"]


def test_a_lease_outside_the_role_is_refused_and_reported(world, core):
    """The Lease Role names one Lease: another is refused, and keyless says so (it used to wait
    silently) instead of leading."""
    log = world["dir"] / "controller-other-lease.log"
    env = dict(os.environ, KUBECONFIG=sa_kubeconfig(core, world), POD_NAMESPACE=world["ns"])
    with open(log, "w") as f:
        p = subprocess.Popen([KEYLESS, "controller", "--settings", str(world["dir"] / "settings-install.yaml"),
                              "--leader-elect", "--lease-namespace", world["ns"], "--lease-name", "other"],
                             stdout=f, stderr=subprocess.STDOUT, env=env)
    try:
        want = f'cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "{world["ns"]}"'
        wait_until(lambda: want in log.read_text() or p.poll() is not None, 30, "the forbidden Lease reported")
        assert p.poll() is None and "leader election: Lease request failed" in log.read_text()
        assert "started leading" not in log.read_text()
    finally:
        p.terminate()
        assert p.wait(timeout=20) == 0, log.read_text()[-2000:]


def test_delete_pods_is_forbidden_without_rbac_evict_pods(world, core):
    """The permission the chart leaves out by default shows up as a failure, not silently."""
    ns = world["tenant"]
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="bare-sa")))
    core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name="bare"), spec=client.V1PodSpec(
        service_account_name="bare-sa", containers=[client.V1Container(name="c", image="example.invalid/x:1")])))
    wait_until(lambda: core.read_namespaced_pod("bare", ns).status.phase == "Running", 60, "bare pod Running (kwok)")
    crd_api().create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL,
                                              wi_manifest(ns, "evict", "bare-sa", restart="DeletePods"))
    o = wait_cond(ns, "evict", "WorkloadsReady", "False", "KubernetesError", timeout=90)
    assert "forbidden" in cond(o, "WorkloadsReady")["message"].lower(), cond(o, "WorkloadsReady")
    assert cond(o, "RoleReady")["status"] == "True"
    assert health(o)[0] == "Degraded"
    assert core.read_namespaced_pod("bare", ns).metadata.deletion_timestamp is None
    lines = forbidden_lines(world["controller"])
    assert lines and all("eviction" in l for l in lines), lines


# --- 4. GitOps: keyless never writes spec ----------------------------------------------------------

def test_server_side_apply_twice_shows_no_diff(world, core):
    ns = world["tenant"]
    path = world["dir"] / "gitops-wi.yaml"
    # createServiceAccount: keyless creates the SA (and deletes it with the identity)
    path.write_text(yaml.safe_dump(wi_manifest(ns, "gitops", "gitops-sa", createServiceAccount=True)))
    apply = ["kubectl", "apply", "--server-side", "--field-manager=gitops-e2e", "-f", str(path)]
    run(*apply)
    o = wait_cond(ns, "gitops", "Ready", "True", timeout=90)
    assert core.read_namespaced_service_account("gitops-sa", ns).metadata.owner_references[0].name == "gitops"
    time.sleep(12)  # a periodic resync (10 s) writes nothing either
    run(*apply)
    r = run("kubectl", "diff", "--server-side", "--field-manager=gitops-e2e", "-f", str(path), check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    o2 = get_wi(ns, "gitops")
    assert o2["metadata"]["generation"] == o["metadata"]["generation"] == 1
    # who owns what: the manifest's manager the spec, keyless only finalizers and status
    for mf in o2["metadata"]["managedFields"]:
        if mf["manager"] == "keyless":
            assert "f:spec" not in mf["fieldsV1"], mf
    assert any(mf["manager"] == "keyless" and mf.get("subresource") == "status" for mf in o2["metadata"]["managedFields"])
    # the check has teeth: a write to the manifest's spec by anyone else is a diff
    stmts = o2["spec"]["permissions"]["statements"]
    run("kubectl", "-n", ns, "patch", "wi", "gitops", "--type=merge", "-p",
        json.dumps({"spec": {"permissions": {"statements": [dict(stmts[0], sid="Changed")]}}}))
    r = run("kubectl", "diff", "--server-side", "--force-conflicts", "--field-manager=gitops-e2e", "-f", str(path),
            check=False)
    assert r.returncode == 1 and "Changed" in r.stdout, r.stdout + r.stderr
    run(*apply, "--force-conflicts")

    # deleted through the finalizer: role and created service account gone
    run("kubectl", "delete", "-f", str(path), "--wait=true", "--timeout=60s")
    wait_until(lambda: not [s for s in core.list_namespaced_service_account(ns).items
                            if s.metadata.name == "gitops-sa"], 30, "the created service account deleted")
    with pytest.raises(Exception):
        aws_client("iam").get_role(RoleName=o["status"]["roleName"])
    assert all("eviction" in l for l in forbidden_lines(world["controller"]))


# --- 5. upgrade ----------------------------------------------------------------------------------

def test_upgrade_with_changed_values_restarts_and_takes_effect(world, core, apps):
    old_cm = core.read_namespaced_config_map(f"{FULLNAME}-settings", world["ns"]).data["settings.yaml"]
    old_gen = apps.read_namespaced_deployment(FULLNAME, world["ns"]).metadata.generation
    values = write_values(world["dir"] / "values-2.yaml", tags={"managed-by": "keyless-chart-e2e-2"}, evict=True)
    with timed("helm upgrade --wait"):
        run("helm", "upgrade", RELEASE, CHART, "-n", world["ns"], "-f", values, "--wait", "--timeout", "120s")
    new_cm = core.read_namespaced_config_map(f"{FULLNAME}-settings", world["ns"]).data["settings.yaml"]
    assert old_cm != new_cm and "keyless-chart-e2e-2" in new_cm
    dep = apps.read_namespaced_deployment(FULLNAME, world["ns"])
    assert dep.spec.template.metadata.annotations["checksum/settings"] != world["checksum"]  # restarts on change
    assert dep.metadata.generation > old_gen and dep.status.updated_replicas == 2
    cr = run("kubectl", "get", "clusterrole", FULLNAME, "-o", "json").stdout
    assert any("pods/eviction" in r["resources"] for r in json.loads(cr)["rules"])

    # the running keyless is restarted with the new settings, as the new pods are
    world["controller"].stop()
    c = start_controller(core, world, "upgrade")
    iam, ns = aws_client("iam"), world["tenant"]
    wait_until(lambda: {t["Key"]: t["Value"] for t in iam.get_role(RoleName=world["role"])["Role"]["Tags"]}.get(
        "managed-by") == "keyless-chart-e2e-2", 60, "the role's tags from the new settings")
    # the eviction is allowed now: the bare pod is evicted and the identity becomes Ready
    wait_cond(ns, "evict", "Ready", "True", timeout=90)
    evs = client.EventsV1Api().list_namespaced_event(ns, field_selector="regarding.name=evict").items
    assert "PodEvicted" in {e.reason for e in evs}
    assert not forbidden_lines(c), forbidden_lines(c)


# --- 6. uninstall ----------------------------------------------------------------------------------

def test_uninstall_keeps_crds_and_identities_and_leaves_nothing_running(world, core, apps):
    world["controller"].stop()
    world["controller"] = None
    with timed("helm uninstall --wait"):
        run("helm", "uninstall", RELEASE, "-n", world["ns"], "--wait", "--timeout", "60s")
    run("kubectl", "get", "crd", "workloadidentities.keyless.dev")
    assert {o["metadata"]["name"] for o in crd_api().list_namespaced_custom_object(
        GROUP, VERSION, world["tenant"], PLURAL)["items"]} == {"s3-reader", "evict"}
    sel = f"app.kubernetes.io/instance={RELEASE}"
    wait_until(lambda: not core.list_namespaced_pod(world["ns"], label_selector=sel).items, 60, "the pods gone")
    assert not apps.list_namespaced_deployment(world["ns"]).items
    assert not apps.list_namespaced_replica_set(world["ns"]).items
    assert not core.list_namespaced_config_map(world["ns"], label_selector=sel).items
    assert not [s for s in core.list_namespaced_service_account(world["ns"]).items if s.metadata.name == FULLNAME]
    for kind in ("clusterrole", "clusterrolebinding"):
        assert run("kubectl", "get", kind, FULLNAME, check=False).returncode != 0
    assert not run("kubectl", "-n", world["ns"], "get", "role,rolebinding,pdb", "-o", "name").stdout.strip()
    # what keyless itself created stays: its Lease, released at shutdown (no holder), until the
    # namespace goes
    lease = json.loads(run("kubectl", "-n", world["ns"], "get", "lease", f"{FULLNAME}-controller", "-o",
                           "json").stdout)
    assert not lease["spec"].get("holderIdentity")
