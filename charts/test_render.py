"""The chart rendered offline (`helm template`): leader election, RBAC, the settings ConfigMap and
its checksum, the pod's hardening, the schema. No cluster; part of `make chart-check`. What the
real kube-apiserver says of the output, and the chart installed and used, is e2e/test_chart.py."""

import os
import subprocess

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHART = os.path.join(ROOT, "charts", "keyless")
BASE = ["--set", "settings.clusterName=prod",
        "--set", "settings.permissionsBoundaryArn=arn:aws:iam::123456789012:policy/keyless-boundary"]


def helm(*args, check=True):
    r = subprocess.run(["helm", *args], capture_output=True, text=True)
    if check:
        assert r.returncode == 0, r.stderr
    return r


def render(*sets, base=True):
    """{(kind, name): object} of `helm template` with --set/--values arguments."""
    out = helm("template", "kl", CHART, "-n", "keyless-system", *(BASE if base else []), *sets).stdout
    return {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(out) if d}


def container(objs):
    return objs[("Deployment", "kl-keyless")]["spec"]["template"]["spec"]["containers"][0]


def opts(objs):
    """The controller's options as {flag: value or True}: keyless takes a value as the next
    argument, never as --flag=value."""
    args, out, i = container(objs)["args"], {}, 1
    assert args[0] == "controller"
    while i < len(args):
        assert args[i].startswith("--") and "=" not in args[i], args[i]
        if i + 1 < len(args) and not args[i + 1].startswith("--"):
            out[args[i]], i = args[i + 1], i + 2
        else:
            out[args[i]], i = True, i + 1
    return out


def rules(objs, kind="ClusterRole", name="kl-keyless"):
    """{(apiGroup, resource): verbs} of a (Cluster)Role (resourceNames as "name=<n>")."""
    return {(g, r): set(rule["verbs"]) | {f"name={n}" for n in rule.get("resourceNames", [])}
            for rule in objs[(kind, name)]["rules"] for g in rule["apiGroups"] for r in rule["resources"]}


def test_two_replicas_elect_a_leader_even_when_disabled():
    for sets in ([], ["--set", "leaderElection.enabled=false"]):
        objs = render(*sets)
        o = opts(objs)
        assert objs[("Deployment", "kl-keyless")]["spec"]["replicas"] == 2
        assert o["--leader-elect"] is True and o["--lease-namespace"] == "keyless-system"
        assert o["--lease-name"] == "kl-keyless-controller" and o["--settings"] == "/etc/keyless/settings.yaml"
        assert ("Role", "kl-keyless-leader-election") in objs


def test_one_replica_without_leader_election_has_no_lease_role():
    objs = render("--set", "replicaCount=1", "--set", "leaderElection.enabled=false")
    assert "--leader-elect" not in opts(objs)
    assert ("Role", "kl-keyless-leader-election") not in objs
    objs = render("--set", "replicaCount=1")
    assert opts(objs)["--leader-elect"] is True


def test_lease_role_is_one_lease_in_the_release_namespace():
    objs = render()
    role = objs[("Role", "kl-keyless-leader-election")]
    assert role["metadata"]["namespace"] == "keyless-system"
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "resourceNames": ["kl-keyless-controller"],
         "verbs": ["get", "update"]}]


def test_cluster_role_is_exactly_what_keyless_calls():
    assert rules(render()) == {
        ("keyless.dev", "workloadidentities"): {"get", "list", "watch", "patch"},
        ("keyless.dev", "workloadidentities/status"): {"patch"},
        ("", "serviceaccounts"): {"get", "list", "watch", "create", "patch", "delete"},
        ("", "pods"): {"list", "watch"},
        ("apps", "replicasets"): {"get"},
        ("apps", "deployments"): {"get", "patch"},
        ("apps", "statefulsets"): {"get", "patch"},
        ("apps", "daemonsets"): {"get", "patch"},
        ("events.k8s.io", "events"): {"create", "patch"},
    }
    with_evict = rules(render("--set", "rbac.evictPods=true"))
    assert with_evict.pop(("", "pods/eviction")) == {"create"}
    assert with_evict == rules(render())
    # tokens of the service accounts only with verifyAssumeRole
    assert ("", "serviceaccounts/token") not in rules(render())
    with_verify = rules(render("--set", "settings.verifyAssumeRole=true"))
    assert with_verify.pop(("", "serviceaccounts/token")) == {"create"}
    assert with_verify == rules(render())


def test_delete_pods_default_needs_the_eviction_permission():
    r = helm("template", "kl", CHART, *BASE, "--set", "settings.defaultRestart=DeletePods", check=False)
    assert r.returncode != 0 and "rbac.evictPods" in r.stderr
    objs = render("--set", "settings.defaultRestart=DeletePods", "--set", "rbac.evictPods=true")
    assert ("", "pods/eviction") in rules(objs)


def test_pod_is_hardened():
    objs = render()
    pod = objs[("Deployment", "kl-keyless")]["spec"]["template"]["spec"]
    c = container(objs)
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"]
    assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"health": 8081, "metrics": 8080}
    assert opts(objs)["--health-addr"] == ":8081" and opts(objs)["--metrics-addr"] == ":8080"
    assert opts(objs)["--workers"] == "2" and opts(objs)["--log-format"] == "json"
    assert {t["topologyKey"] for t in pod["topologySpreadConstraints"]} == {"topology.kubernetes.io/zone",
                                                                            "kubernetes.io/hostname"}
    assert objs[("PodDisruptionBudget", "kl-keyless")]["spec"]["maxUnavailable"] == 1
    assert {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}} in c["env"]


def test_health_and_metrics_ports_and_flags_are_values():
    o = opts(render("--set", "health.port=9440", "--set", "metrics.port=9441",
                    "--set", "health.addrFlag=--health-probe-bind-address"))
    assert o["--health-probe-bind-address"] == ":9440" and o["--metrics-addr"] == ":9441"


def test_settings_rendered_without_nulls_and_checksum_follows_them():
    objs = render("--set", "settings.resyncPeriod=1h", "--set-string", "settings.accountId=012345678901",
                  "--set", "settings.guardrails.excludeNamespaces={kube-system,kube-public}",
                  "--set", "settings.defaultMaxSessionDuration=7200")
    text = objs[("ConfigMap", "kl-keyless-settings")]["data"]["settings.yaml"]
    assert yaml.safe_load(text) == {
        "clusterName": "prod", "permissionsBoundaryArn": "arn:aws:iam::123456789012:policy/keyless-boundary",
        "resyncPeriod": "1h", "accountId": "012345678901", "defaultMaxSessionDuration": 7200,
        "guardrails": {"excludeNamespaces": ["kube-system", "kube-public"]}}
    assert 'accountId: "012345678901"' in text  # a string, as keyless requires
    ann = lambda o: o[("Deployment", "kl-keyless")]["spec"]["template"]["metadata"]["annotations"]["checksum/settings"]
    assert ann(objs) != ann(render()) and ann(render()) == ann(render())
    assert ann(render("--set", "workers=4")) == ann(render())  # only the settings move it


def test_required_settings_and_schema():
    r = helm("template", "kl", CHART, check=False)
    assert r.returncode != 0 and "settings.clusterName is required" in r.stderr
    r = helm("template", "kl", CHART, "--set", "settings.clusterName=prod", check=False)
    assert r.returncode != 0 and "settings.permissionsBoundaryArn is required" in r.stderr
    assert ("ConfigMap", "kl-keyless-settings") in render("--set", "settings.clusterName=prod",
                                                          "--set", "settings.permissionsBoundaryWaived=true", base=False)
    for bad in (["--set", "settings.clusterNme=x"], ["--set", "settings.guardrails.deniedAction={iam:*}"],
                ["--set", "settings.defaultRestart=Restart"], ["--set", "settings.accountId=1234"],
                ["--set", "settings.defaultMaxSessionDuration=60"], ["--set", "replicas=3"],
                ["--set", "logFormat=xml"]):
        r = helm("template", "kl", CHART, *BASE, *bad, check=False)
        assert r.returncode != 0 and "schema" in r.stderr, bad


def test_service_account_annotations_and_optional_parts():
    objs = render("--set", "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::1:role/k")
    assert objs[("ServiceAccount", "kl-keyless")]["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/k"}
    assert not {k for k in render() if k[0] in ("Service", "ServiceMonitor", "NetworkPolicy")}
    objs = render("--set", "metrics.service.enabled=true", "--set", "metrics.serviceMonitor.enabled=true",
                  "--set", "networkPolicy.enabled=true")
    svc = objs[("Service", "kl-keyless-metrics")]
    assert svc["spec"]["ports"] == [{"name": "metrics", "port": 8080, "targetPort": "metrics", "protocol": "TCP"}]
    assert objs[("ServiceMonitor", "kl-keyless")]["spec"]["endpoints"][0]["port"] == "metrics"
    np = objs[("NetworkPolicy", "kl-keyless")]["spec"]
    assert np["policyTypes"] == ["Ingress", "Egress"]
    assert {p["port"] for rule in np["egress"] for p in rule["ports"]} == {53, 443, 6443}


def test_chart_crds_are_the_repo_crds():
    for name in os.listdir(os.path.join(ROOT, "crds")):
        if name.endswith(".yaml"):
            with open(os.path.join(ROOT, "crds", name)) as a, open(os.path.join(CHART, "crds", name)) as b:
                assert a.read() == b.read(), f"charts/keyless/crds/{name} differs: make chart-crds"
