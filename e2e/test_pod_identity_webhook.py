"""AWS's pod identity webhook (amazon-eks-pod-identity-webhook), as
hack/local-cluster runs and registers it: what it injects and what it leaves
alone. These are the behaviours the former Python stand-in's own tests
covered, now held against the real webhook.

Most checks admit a pod with a dry-run CREATE: the apiserver runs its
admission chain (the ServiceAccount plugin, then the mutating webhook) and
returns the pod as it would be stored, without storing it. The wire-level
checks POST AdmissionReviews to the webhook's /mutate directly.

The cluster's flags (hack/local-cluster): --aws-default-region $AWS_REGION,
--sts-regional-endpoint=true, --token-audience sts.amazonaws.com,
--token-expiration 86400, --annotation-prefix eks.amazonaws.com,
--watch-container-credentials-config <dir>/webhook/pod-identity-associations.json.
"""

import base64
import json
import os
import ssl
import urllib.error
import urllib.request
import uuid

import pytest
from kubernetes import client

from conftest import wait_until

ROLE = "arn:aws:iam::111122223333:role/keyless-demo"
MOUNT = "/var/run/secrets/eks.amazonaws.com/serviceaccount"
TOKEN_FILE = MOUNT + "/token"
REGION = os.environ.get("AWS_REGION", "us-east-1")
# what a bare container of an annotated service account gets, in this order
INJECTED = [("AWS_STS_REGIONAL_ENDPOINTS", "regional"), ("AWS_DEFAULT_REGION", REGION), ("AWS_REGION", REGION),
            ("AWS_ROLE_ARN", ROLE), ("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE)]
TOKEN_MOUNT = {"name": "aws-iam-token", "readOnly": True, "mountPath": MOUNT}
P = "eks.amazonaws.com/"

# service account -> annotations; "sentinel" is created last (see the fixture)
SAS = {
    "app": {P + "role-arn": ROLE},
    "plain": {"team": "x"},
    "other-prefix": {"example.com/role-arn": ROLE},
    "custom": {P + "role-arn": ROLE, P + "audience": "keyless.example", P + "token-expiration": "7200"},
    "short": {P + "role-arn": ROLE, P + "token-expiration": "300"},
    "bad-expiration": {P + "role-arn": ROLE, P + "token-expiration": "soon"},
    "sts-true": {P + "role-arn": ROLE, P + "sts-regional-endpoints": "true"},
    "sts-false": {P + "role-arn": ROLE, P + "sts-regional-endpoints": "false"},
    "sts-maybe": {P + "role-arn": ROLE, P + "sts-regional-endpoints": "maybe"},
    "pia": {P + "role-arn": ROLE},
}


def cluster_dir():
    return os.environ["KEYLESS_CLUSTER_DIR"]


def ports():
    with open(os.path.join(cluster_dir(), "ports")) as f:
        return dict(line.strip().split("=", 1) for line in f if "=" in line)


def pod(containers=None, init=None, volumes=None, annotations=None, labels=None, sa="app", **spec):
    p = {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"generateName": "app-", "annotations": annotations or {}, "labels": labels or {}},
         "spec": {"serviceAccountName": sa,
                  "containers": containers or [{"name": "main", "image": "example.invalid/app:1"}]}}
    if sa is None:
        del p["spec"]["serviceAccountName"]
    if init is not None:
        p["spec"]["initContainers"] = init
    if volumes is not None:
        p["spec"]["volumes"] = volumes
    p["spec"].update(spec)
    return p


def admit(core, ns, body):
    """The pod as the apiserver would store it (dry-run CREATE through admission)."""
    r = core.create_namespaced_pod(ns, body, dry_run="All", _preload_content=False)
    return json.loads(r.data)


def env(container):
    return [(e["name"], e.get("value")) for e in container.get("env", [])]


def aws_env(container):
    return [(n, v) for n, v in env(container) if n.startswith("AWS_")]


def mounts(container):
    """volumeMounts without the apiserver's own service-account token mount."""
    return [m for m in container.get("volumeMounts", []) if not m["name"].startswith("kube-api-access-")]


def volumes(p):
    return [v for v in p["spec"].get("volumes", []) if not v["name"].startswith("kube-api-access-")]


def token_source(p, name="aws-iam-token"):
    vol = next(v for v in p["spec"]["volumes"] if v["name"] == name)
    (src,) = vol["projected"]["sources"]
    return src["serviceAccountToken"]


@pytest.fixture(scope="module")
def ns(core):
    name = "e2e-piw-" + uuid.uuid4().hex[:8]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_until(lambda: core.list_namespaced_service_account(name, field_selector="metadata.name=default").items,
               30, "default service account")
    core.patch_namespaced_service_account("default", name, {"metadata": {"annotations": {P + "role-arn": ROLE}}})
    for sa, ann in SAS.items():
        core.create_namespaced_service_account(name, client.V1ServiceAccount(
            metadata=client.V1ObjectMeta(name=sa, annotations=ann)))
    # The webhook reads service accounts from an informer fed by one watch, in
    # order: once the last one created is seen, so are all the others.
    core.create_namespaced_service_account(name, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name="sentinel", annotations={P + "role-arn": ROLE})))
    wait_until(lambda: ("AWS_ROLE_ARN", ROLE) in env(admit(core, name, pod(sa="sentinel"))["spec"]["containers"][0]),
               30, "the webhook's service-account cache to hold the test's service accounts")
    yield name
    core.delete_namespace(name)


# --- what is injected ------------------------------------------------------------

def test_bare_pod_gets_token_volume_env_and_mount(core, ns):
    out = admit(core, ns, pod())
    c = out["spec"]["containers"][0]
    assert env(c) == INJECTED
    assert mounts(c) == [TOKEN_MOUNT]
    assert c["image"] == "example.invalid/app:1"
    # the token volume goes first (the ServiceAccount plugin added kube-api-access-* already)
    assert out["spec"]["volumes"][0]["name"] == "aws-iam-token"
    assert volumes(out) == [{"name": "aws-iam-token", "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"audience": "sts.amazonaws.com", "expirationSeconds": 86400, "path": "token"}}]}}]


def test_existing_env_mounts_and_volumes_are_kept_and_appended_to(core, ns):
    c = {"name": "main", "image": "example.invalid/app:1", "env": [{"name": "FOO", "value": "1"}],
         "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
    out = admit(core, ns, pod([c], volumes=[{"name": "data", "emptyDir": {}}]))
    c = out["spec"]["containers"][0]
    assert env(c) == [("FOO", "1")] + INJECTED
    assert mounts(c) == [{"name": "data", "mountPath": "/data"}, TOKEN_MOUNT]
    assert [v["name"] for v in volumes(out)] == ["aws-iam-token", "data"]  # prepended


def test_init_containers_and_every_container_are_injected(core, ns):
    out = admit(core, ns, pod([{"name": "a", "image": "x.invalid/a"}, {"name": "b", "image": "x.invalid/b", "env": []}],
                              init=[{"name": "init", "image": "x.invalid/i"}]))
    for c in out["spec"]["initContainers"] + out["spec"]["containers"]:
        assert env(c) == INJECTED, c["name"]
        assert mounts(c) == [TOKEN_MOUNT], c["name"]


def test_identity_env_set_by_the_pod_is_never_overridden(core, ns):
    mine = [{"name": "AWS_ROLE_ARN", "value": "arn:aws:iam::999999999999:role/mine"}]
    out = admit(core, ns, pod([{"name": "main", "image": "x.invalid/a", "env": mine}]))
    c = out["spec"]["containers"][0]
    # AWS_ROLE_ARN present blocks the whole pair (no AWS_WEB_IDENTITY_TOKEN_FILE either);
    # the regional-STS and region variables and the mount are still added
    assert env(c) == [("AWS_ROLE_ARN", "arn:aws:iam::999999999999:role/mine"),
                      ("AWS_STS_REGIONAL_ENDPOINTS", "regional"),
                      ("AWS_DEFAULT_REGION", REGION), ("AWS_REGION", REGION)]
    assert mounts(c) == [TOKEN_MOUNT]


def test_container_with_everything_defined_is_left_alone(core, ns):
    full = [{"name": n, "value": "x"} for n in ("AWS_ROLE_ARN", "AWS_REGION", "AWS_STS_REGIONAL_ENDPOINTS")]
    out = admit(core, ns, pod([{"name": "main", "image": "x.invalid/a", "env": full},
                               {"name": "other", "image": "x.invalid/b"}]))
    c0, c1 = out["spec"]["containers"]
    assert env(c0) == [(e["name"], "x") for e in full] and mounts(c0) == []
    assert env(c1) == INJECTED and mounts(c1) == [TOKEN_MOUNT]
    assert volumes(out)[0]["name"] == "aws-iam-token"  # the pod still gets the volume


def test_skip_containers_annotation(core, ns):
    out = admit(core, ns, pod([{"name": "main", "image": "x.invalid/a"}, {"name": "sidecar", "image": "x.invalid/s"}],
                              init=[{"name": "init-first", "image": "x.invalid/i"},
                                    {"name": "init2", "image": "x.invalid/i"}],
                              annotations={P + "skip-containers": "init-first,sidecar"}))
    init, containers = out["spec"]["initContainers"], out["spec"]["containers"]
    assert env(init[0]) == [] and mounts(init[0]) == []
    assert env(containers[1]) == [] and mounts(containers[1]) == []
    assert env(init[1]) == INJECTED and env(containers[0]) == INJECTED


def test_audience_and_token_expiration_annotations(core, ns):
    out = admit(core, ns, pod(sa="custom"))
    assert token_source(out) == {"audience": "keyless.example", "expirationSeconds": 7200, "path": "token"}


def test_token_expiration_minimum_and_pod_annotation(core, ns):
    # below the minimum: raised to 600 s (the apiserver's own minimum; the stand-in used 3600)
    assert token_source(admit(core, ns, pod(sa="short")))["expirationSeconds"] == 600
    # a pod annotation wins over the service account's, and is held to the same minimum
    assert token_source(admit(core, ns, pod(sa="short", annotations={P + "token-expiration": "5000"})))[
        "expirationSeconds"] == 5000
    assert token_source(admit(core, ns, pod(annotations={P + "token-expiration": "60"})))["expirationSeconds"] == 600
    # not a number: the flag's default
    assert token_source(admit(core, ns, pod(sa="bad-expiration")))["expirationSeconds"] == 86400


@pytest.mark.parametrize("sa,regional", [("sts-true", True), ("sts-false", False), ("sts-maybe", True), ("app", True)])
def test_sts_regional_endpoints_annotation_over_the_flag(core, ns, sa, regional):
    # the cluster runs --sts-regional-endpoint=true: "false" opts out, an
    # unparsable value is ignored (the flag applies), no annotation = the flag
    c = admit(core, ns, pod(sa=sa))["spec"]["containers"][0]
    assert (("AWS_STS_REGIONAL_ENDPOINTS", "regional") in env(c)) is regional
    assert env(c)[-2:] == INJECTED[-2:]


def test_a_region_set_by_the_pod_blocks_both_region_variables(core, ns):
    out = admit(core, ns, pod([{"name": "main", "image": "x.invalid/a",
                                "env": [{"name": "AWS_REGION", "value": "ap-south-1"}]}]))
    assert env(out["spec"]["containers"][0]) == [("AWS_REGION", "ap-south-1"), ("AWS_STS_REGIONAL_ENDPOINTS", "regional"),
                                                 ("AWS_ROLE_ARN", ROLE), ("AWS_WEB_IDENTITY_TOKEN_FILE", TOKEN_FILE)]


@pytest.mark.parametrize("label", ["kubernetes.io/os", "beta.kubernetes.io/os"])
def test_windows_node_selector_gets_a_windows_token_path(core, ns, label):
    c = admit(core, ns, pod(nodeSelector={label: "windows"}))["spec"]["containers"][0]
    assert dict(env(c))["AWS_WEB_IDENTITY_TOKEN_FILE"] == "C:" + TOKEN_FILE.replace("/", "\\")
    assert mounts(c) == [TOKEN_MOUNT]  # the mount path itself stays as given


@pytest.mark.parametrize("sa", ["plain", "other-prefix"])
def test_service_account_without_the_role_annotation_is_not_injected(core, ns, sa):
    out = admit(core, ns, pod(sa=sa))
    assert aws_env(out["spec"]["containers"][0]) == []
    assert volumes(out) == [] and mounts(out["spec"]["containers"][0]) == []


def test_pod_without_service_account_name_uses_default(core, ns):
    # the apiserver's ServiceAccount admission plugin sets "default" before the webhook runs
    out = admit(core, ns, pod(sa=None))
    assert out["spec"]["serviceAccountName"] == "default"
    assert env(out["spec"]["containers"][0]) == INJECTED


def test_skip_label_and_other_kinds_are_not_sent_to_the_webhook(core, apps, ns):
    # the registration's objectSelector, as on EKS
    out = admit(core, ns, pod(labels={P + "skip-pod-identity-webhook": "true"}))
    assert aws_env(out["spec"]["containers"][0]) == [] and volumes(out) == []
    # only Pod CREATEs: a Deployment's template is not mutated
    dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
           "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
               "metadata": {"labels": {"a": "b"}},
               "spec": {"serviceAccountName": "app", "containers": [{"name": "c", "image": "x.invalid/a"}]}}}}
    r = json.loads(apps.create_namespaced_deployment(ns, dep, dry_run="All", _preload_content=False).data)
    assert "env" not in r["spec"]["template"]["spec"]["containers"][0]


def test_already_injected_pod_is_unchanged_and_a_partial_one_completed(core, ns):
    once = admit(core, ns, pod([{"name": "a", "image": "x.invalid/a"}]))
    for c in once["spec"]["containers"]:  # without the apiserver's own token volume
        c["volumeMounts"] = mounts(c)
    again = pod(once["spec"]["containers"], volumes=volumes(once))
    twice = admit(core, ns, again)
    assert env(twice["spec"]["containers"][0]) == INJECTED
    assert mounts(twice["spec"]["containers"][0]) == [TOKEN_MOUNT]
    assert [v["name"] for v in volumes(twice)] == ["aws-iam-token"]
    # token volume present, one container still bare: only that one is completed
    partial = pod(once["spec"]["containers"] + [{"name": "late", "image": "x.invalid/l"}], volumes=volumes(once))
    out = admit(core, ns, partial)
    assert env(out["spec"]["containers"][1]) == INJECTED
    assert [v["name"] for v in volumes(out)] == ["aws-iam-token"]


def test_own_volume_named_aws_iam_token_is_kept_and_containers_still_injected(core, ns):
    # The real webhook keeps a pod's own "aws-iam-token" volume and still adds
    # the variables and the mount, so the token file is whatever that volume
    # holds. (The stand-in left such a pod alone.)
    foreign = [{"name": "aws-iam-token", "projected": {"sources": [
        {"serviceAccountToken": {"audience": "vault", "expirationSeconds": 3600, "path": "token"}}]}}]
    out = admit(core, ns, pod(volumes=foreign))
    assert token_source(out)["audience"] == "vault"
    assert len(volumes(out)) == 1
    c = out["spec"]["containers"][0]
    assert env(c) == INJECTED and mounts(c) == [TOKEN_MOUNT]


# --- EKS Pod Identity (container credentials), from the watched config file ------

def test_pod_identity_association_file_switches_to_container_credentials(core, ns):
    path = os.path.join(cluster_dir(), "webhook", "pod-identity-associations.json")
    with open(path) as f:
        saved = f.read()
    try:
        with open(path + ".tmp", "w") as f:
            json.dump({"identities": [{"namespace": ns, "serviceAccount": "pia"}]}, f)
        os.rename(path + ".tmp", path)  # as a config management tool would replace it
        out = wait_until(lambda: (lambda o: o if "AWS_CONTAINER_CREDENTIALS_FULL_URI" in dict(
            env(o["spec"]["containers"][0])) else None)(admit(core, ns, pod(sa="pia"))),
            30, "the webhook to load the association file")
        c = out["spec"]["containers"][0]
        # the association takes precedence over the role-arn annotation: no web identity
        assert env(c) == [("AWS_STS_REGIONAL_ENDPOINTS", "regional"), ("AWS_DEFAULT_REGION", REGION),
                          ("AWS_REGION", REGION),
                          ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.170.23/v1/credentials"),
                          ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                           "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token")]
        assert mounts(c) == [{"name": "eks-pod-identity-token", "readOnly": True,
                              "mountPath": "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount"}]
        src = token_source(out, "eks-pod-identity-token")
        assert src["audience"] == "pods.eks.amazonaws.com" and src["path"] == "eks-pod-identity-token"
        # the default lifetime gets a jitter: 22 to 24 hours
        assert 79200 <= src["expirationSeconds"] <= 86400
        assert out["metadata"]["labels"][P + "pod-identity"] == "enabled"
        # other service accounts keep IRSA
        assert env(admit(core, ns, pod(sa="app"))["spec"]["containers"][0]) == INJECTED
    finally:
        with open(path + ".tmp", "w") as f:
            f.write(saved)
        os.rename(path + ".tmp", path)
    wait_until(lambda: ("AWS_ROLE_ARN", ROLE) in env(admit(core, ns, pod(sa="pia"))["spec"]["containers"][0]),
               30, "the webhook to reload the emptied association file")


# --- the wire: AdmissionReview v1 straight to /mutate ----------------------------

def post(path, body, ctype="application/json"):
    ctx = ssl.create_default_context(cafile=os.environ["KEYLESS_CA_FILE"])
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(f"https://127.0.0.1:{ports()['HOOK_PORT']}{path}", data=data,
                                 headers={"Content-Type": ctype}, method="POST")
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return r.status, json.loads(r.read())


def review(p, ns, uid="uid-1"):
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": {"group": "", "version": "v1", "kind": "Pod"},
                        "resource": {"group": "", "version": "v1", "resource": "pods"},
                        "namespace": ns, "operation": "CREATE", "object": p}}


def test_https_healthz_and_metrics_port():
    ctx = ssl.create_default_context(cafile=os.environ["KEYLESS_CA_FILE"])
    with urllib.request.urlopen(f"https://127.0.0.1:{ports()['HOOK_PORT']}/healthz", context=ctx, timeout=5) as r:
        assert r.status == 200 and r.read() == b"ok"
    with urllib.request.urlopen(f"http://127.0.0.1:{ports()['HOOK_METRICS_PORT']}/metrics", timeout=5) as r:
        assert b"pod_identity_webhook_used" in r.read()


def test_https_admission_review_round_trip(ns):
    status, out = post("/mutate", review(pod(), ns, uid="round-trip-1"))
    assert status == 200
    assert out["apiVersion"] == "admission.k8s.io/v1" and out["kind"] == "AdmissionReview"
    r = out["response"]
    assert r["uid"] == "round-trip-1" and r["allowed"] is True and r["patchType"] == "JSONPatch"
    ops = json.loads(base64.b64decode(r["patch"]))
    # upstream replaces /spec/containers wholesale (the stand-in sent fine-grained adds)
    assert [(o["op"], o["path"]) for o in ops] == [("add", "/spec/volumes"), ("add", "/spec/containers")]
    assert [(e["name"], e["value"]) for e in ops[1]["value"][0]["env"]] == INJECTED


def test_https_unknown_or_unannotated_service_account_passes_through(ns):
    for sa in ("plain", "no-such-sa"):
        _, out = post("/mutate", review(pod(sa=sa), ns, uid="u-" + sa))
        assert out["response"] == {"uid": "u-" + sa, "allowed": True}, sa


def test_https_wrong_content_type_and_undecodable_requests(ns):
    with pytest.raises(urllib.error.HTTPError) as e:
        post("/mutate", review(pod(), ns), ctype="text/plain")
    assert e.value.code == 415
    # Not an AdmissionReview, or a pod that does not decode: HTTP 200 with a
    # response that is not allowed (allowed omitted = false) and the decoder's
    # message; with failurePolicy Ignore the apiserver admits such a pod
    # unmutated. (The stand-in answered HTTP 400, and allowed=true.)
    status, out = post("/mutate", b'["not", "a", "review"]')
    assert status == 200 and not out["response"].get("allowed") and out["response"]["status"]["message"]
    broken = pod()
    broken["spec"]["containers"] = "not-a-list"
    status, out = post("/mutate", review(broken, ns, uid="broken"))
    assert status == 200 and out["response"]["uid"] == "broken" and not out["response"].get("allowed")
