"""`keyless doctor` against the local world (issue 13): each check passing and failing in a setup made
on purpose. Pods are created by the API server and mutated by AWS's real webhook; roles are read from
moto; --assume goes through the STS front, which evaluates trust policies as AWS documents them, so
its answer and doctor's own diagnosis can be compared."""

import json
import os
import subprocess
import uuid

import pytest
from kubernetes import client

from conftest import aws_client, wait_until
from controller_env import Controller, install_crd, write_settings
from test_controller import make_sa, make_wi, wait_cond

BIN = os.environ.get("KEYLESS_BIN") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin")
HOST = os.environ.get("KEYLESS_ISSUER", "").removeprefix("https://")


def doctor(ns, target, *extra):
    p = subprocess.run([os.path.join(BIN, "keyless"), "doctor", "-n", ns, target, "-o", "json", *extra],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode in (0, 1), p.stderr
    out = json.loads(p.stdout)
    return p.returncode, {c["id"]: c for c in out["checks"]}, p.stdout + p.stderr


def account():
    return aws_client("sts").get_caller_identity()["Account"]


def hand_made_role(sub, aud="sts.amazonaws.com", swap=False):
    """A role made by hand (not keyless) with an IRSA trust for sub/aud."""
    provider = f"arn:aws:iam::{account()}:oidc-provider/{HOST}"
    cond = {f"{HOST}:sub": aud if swap else sub, f"{HOST}:aud": sub if swap else aud}
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
                                                   "Action": "sts:AssumeRoleWithWebIdentity",
                                                   "Condition": {"StringEquals": cond}}]}
    name = "hand-" + uuid.uuid4().hex[:10]
    return aws_client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]


def sa_with(core, ns, name, annotations):
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(
        metadata=client.V1ObjectMeta(name=name, annotations=annotations)))


def pod(core, ns, name, sa, security=None):
    spec = {"serviceAccountName": sa, "containers": [{"name": "c", "image": "busybox"}]}
    if security:
        spec["containers"][0]["securityContext"] = security
    return core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
                                           "spec": spec})


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    install_crd()
    d = tmp_path_factory.mktemp("doctor")
    c = Controller(write_settings(str(d / "settings.yaml")), str(d / "controller.log"))
    yield c
    assert c.stop() == 0, c.text()[-3000:]


def test_doctor_passes_for_a_working_identity(controller, core, namespace):
    make_sa(core, namespace, "app-sa")
    make_wi(namespace, "app", "app-sa")
    wait_cond(namespace, "app", "Ready", "True", timeout=90)
    pod(core, namespace, "p1", "app-sa")
    rc, checks, text = doctor(namespace, "workloadidentity/app", "--assume", "--action", "s3:GetObject",
                              "--resource", "arn:aws:s3:::my-log-bucket/logs/x")
    assert rc == 0, text
    for c in ("service-account", "role", "oidc-provider", "injection", "trust", "assume", "permissions", "permission"):
        assert checks[c]["status"] == "pass", (c, text)
    assert "allowed by the inline policies" in checks["permission"]["evidence"]
    assert "token" not in checks  # the token was had, and never printed
    # an action the role does not have
    rc, checks, _ = doctor(namespace, "pod/p1", "--action", "s3:PutObject", "--resource",
                           "arn:aws:s3:::my-log-bucket/logs/x")
    assert rc == 1 and checks["permission"]["status"] == "fail"
    assert "not allowed" in checks["permission"]["evidence"]


@pytest.mark.parametrize("setup,expect", [
    ("namespace", "sub names namespace 'elsewhere', the token is for namespace"),
    ("swapped", "sub and aud are swapped"),
])
def test_doctor_names_the_trust_mistake_and_sts_agrees(controller, core, namespace, setup, expect):
    sub = f"system:serviceaccount:{namespace}:hand-sa"
    arn = hand_made_role(f"system:serviceaccount:elsewhere:hand-sa" if setup == "namespace" else sub,
                         swap=setup == "swapped")
    sa_with(core, namespace, "hand-sa", {"eks.amazonaws.com/role-arn": arn})
    rc, checks, text = doctor(namespace, "serviceaccount/hand-sa", "--assume")
    assert rc == 1, text
    assert checks["trust"]["status"] == "fail" and expect in checks["trust"]["evidence"], text
    # the STS front (AWS's rules) refuses the same token
    assert checks["assume"]["status"] == "fail" and "AccessDenied" in checks["assume"]["evidence"], text
    assert checks["role"]["status"] == "pass" and checks["oidc-provider"]["status"] == "pass"


def test_doctor_pod_created_before_the_annotation(controller, core, namespace):
    arn = hand_made_role(f"system:serviceaccount:{namespace}:late-sa")
    sa_with(core, namespace, "late-sa", {})
    pod(core, namespace, "early", "late-sa")
    core.patch_namespaced_service_account("late-sa", namespace,
                                          {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": arn}}})
    rc, checks, text = doctor(namespace, "pod/early")
    assert rc == 1
    assert checks["injection"]["status"] == "fail" and "before the service account's annotation" in \
        checks["injection"]["evidence"], text
    assert "restart" in checks["injection"]["fix"]
    assert checks["trust"]["status"] == "pass", text


def test_doctor_non_root_container_without_fs_group(controller, core, namespace):
    arn = hand_made_role(f"system:serviceaccount:{namespace}:nr-sa")
    sa_with(core, namespace, "nr-sa", {"eks.amazonaws.com/role-arn": arn})
    pod(core, namespace, "nonroot", "nr-sa", security={"runAsUser": 1000})
    rc, checks, text = doctor(namespace, "pod/nonroot")
    assert rc == 1
    assert checks["injection"]["status"] == "fail" and "fsGroup" in checks["injection"]["fix"], text


def test_doctor_annotation_key_typo(controller, core, namespace):
    arn = hand_made_role(f"system:serviceaccount:{namespace}:typo-sa")
    sa_with(core, namespace, "typo-sa", {"eks.amazonaws.com/role_arn": arn})
    rc, checks, text = doctor(namespace, "serviceaccount/typo-sa")
    assert rc == 1
    assert checks["service-account"]["status"] == "fail"
    assert "eks.amazonaws.com/role_arn" in checks["service-account"]["evidence"], text
    assert "rename the annotation 'eks.amazonaws.com/role_arn'" in checks["service-account"]["fix"]


def test_doctor_audience_not_registered(controller, core, namespace):
    arn = hand_made_role(f"system:serviceaccount:{namespace}:aud-sa", aud="not-registered")
    sa_with(core, namespace, "aud-sa", {"eks.amazonaws.com/role-arn": arn,
                                        "eks.amazonaws.com/audience": "not-registered"})
    rc, checks, text = doctor(namespace, "serviceaccount/aud-sa", "--assume")
    assert rc == 1
    assert checks["oidc-provider"]["status"] == "fail" and "does not list the audience 'not-registered'" in \
        checks["oidc-provider"]["evidence"], text
    assert checks["assume"]["status"] == "fail" and "InvalidIdentityToken" in checks["assume"]["evidence"], text


def test_doctor_missing_role_and_usage(controller, core, namespace):
    sa_with(core, namespace, "gone-sa", {"eks.amazonaws.com/role-arn":
                                         f"arn:aws:iam::{account()}:role/does-not-exist-{uuid.uuid4().hex[:6]}"})
    rc, checks, text = doctor(namespace, "serviceaccount/gone-sa")
    assert rc == 1 and checks["role"]["status"] == "fail" and "does not exist" in checks["role"]["evidence"]
    p = subprocess.run([os.path.join(BIN, "keyless"), "doctor", "deployment/x"], capture_output=True, text=True)
    assert p.returncode == 2


CLUSTER = os.environ.get("KEYLESS_CLUSTER_NAME", "keyless-local")


def injected_pi_pod(core, ns, sa):
    """A pod that got the Pod Identity injection (the webhook reads associations from a file the local EKS
    keeps, a moment after keyless made one)."""
    def make():
        p = core.create_namespaced_pod(ns, {"apiVersion": "v1", "kind": "Pod",
                                            "metadata": {"generateName": "pi-"},
                                            "spec": {"serviceAccountName": sa,
                                                     "containers": [{"name": "c", "image": "busybox"}]}})
        env = {e.name for e in (p.spec.containers[0].env or [])}
        if "AWS_CONTAINER_CREDENTIALS_FULL_URI" in env:
            return p.metadata.name
        core.delete_namespaced_pod(p.metadata.name, ns, grace_period_seconds=0)
        return None
    return wait_until(make, 60, "a pod with the Pod Identity injection")


def test_doctor_pod_identity_chain(controller, core, apps, namespace):
    make_sa(core, namespace, "pi-sa")
    make_wi(namespace, "pi", "pi-sa", mode="PodIdentity")
    wait_cond(namespace, "pi", "Ready", "True", timeout=90)
    name = injected_pi_pod(core, namespace, "pi-sa")
    wait_until(lambda: core.read_namespaced_pod(name, namespace).spec.node_name, 30, "the pod scheduled")
    # without --cluster: said
    rc, checks, text = doctor(namespace, "workloadidentity/pi")
    assert rc == 1 and "--cluster" in checks["association"]["fix"], text
    # no agent DaemonSet in the local world yet
    rc, checks, text = doctor(namespace, f"pod/{name}", "--cluster", CLUSTER)
    assert rc == 1, text
    for c in ("association", "role", "trust", "injection"):
        assert checks[c]["status"] == "pass", (c, text)
    assert checks["agent"]["status"] == "fail" and "no DaemonSet" in checks["agent"]["evidence"]
    assert "service-account" not in checks  # no IRSA annotation expected in this mode
    labels = {"app": "doctor-agent"}
    agent = client.V1DaemonSet(metadata=client.V1ObjectMeta(name="eks-pod-identity-agent"), spec=client.V1DaemonSetSpec(
        selector=client.V1LabelSelector(match_labels=labels),
        template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels), spec=client.V1PodSpec(
            containers=[client.V1Container(name="agent", image="example.invalid/eks-pod-identity-agent:1")]))))
    apps.create_namespaced_daemon_set("kube-system", agent)
    try:
        def agent_ok():
            rc, checks, text = doctor(namespace, f"pod/{name}", "--cluster", CLUSTER)
            return (rc, checks) if checks["agent"]["status"] == "pass" else None
        rc, checks = wait_until(agent_ok, 60, "the agent's pod on the node")
        assert rc == 0, checks
    finally:
        apps.delete_namespaced_daemon_set("eks-pod-identity-agent", "kube-system")


def test_doctor_pod_identity_trust_for_another_namespace(controller, core, namespace):
    acct = account()
    doc = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": "elsewhere",
                                       "aws:RequestTag/kubernetes-service-account": "pi-hand-sa"}}}]}
    role = aws_client("iam").create_role(RoleName="hand-pi-" + uuid.uuid4().hex[:8],
                                         AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]
    eks = aws_client("eks")
    a = eks.create_pod_identity_association(clusterName=CLUSTER, namespace=namespace, serviceAccount="pi-hand-sa",
                                            roleArn=role)["association"]
    try:
        sa_with(core, namespace, "pi-hand-sa", {})
        rc, checks, text = doctor(namespace, "serviceaccount/pi-hand-sa", "--cluster", CLUSTER)
        assert rc == 1
        assert checks["association"]["status"] == "pass" and role in checks["association"]["evidence"]
        assert checks["trust"]["status"] == "fail" and "kubernetes-namespace is 'elsewhere'" in \
            checks["trust"]["evidence"], text
        assert acct
    finally:
        eks.delete_pod_identity_association(clusterName=CLUSTER, associationId=a["associationId"])


def test_doctor_webhook_not_registered(controller, core, namespace):
    """The webhook's registration removed for the test (and put back): a pod created meanwhile gets no
    injection, and doctor says no webhook is registered."""
    adm = client.AdmissionregistrationV1Api()
    saved = adm.read_mutating_webhook_configuration("pod-identity-webhook")
    arn = hand_made_role(f"system:serviceaccount:{namespace}:hook-sa")
    sa_with(core, namespace, "hook-sa", {"eks.amazonaws.com/role-arn": arn})
    adm.delete_mutating_webhook_configuration("pod-identity-webhook")
    try:
        pod(core, namespace, "unhooked", "hook-sa")
        rc, checks, text = doctor(namespace, "pod/unhooked")
        assert rc == 1
        assert checks["injection"]["status"] == "fail" and "no pod identity webhook is registered" in \
            checks["injection"]["evidence"], text
    finally:
        saved.metadata = client.V1ObjectMeta(name="pod-identity-webhook")
        adm.create_mutating_webhook_configuration(saved)


def test_doctor_missing_oidc_provider(controller, core, namespace):
    """The cluster's OIDC provider removed for the test (and put back as it was): doctor names it, and STS
    (the front) answers InvalidIdentityToken."""
    iam = aws_client("iam")
    provider = f"arn:aws:iam::{account()}:oidc-provider/{HOST}"
    saved = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    arn = hand_made_role(f"system:serviceaccount:{namespace}:np-sa")
    sa_with(core, namespace, "np-sa", {"eks.amazonaws.com/role-arn": arn})
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    try:
        rc, checks, text = doctor(namespace, "serviceaccount/np-sa", "--assume")
        assert rc == 1
        assert checks["oidc-provider"]["status"] == "fail" and "no IAM OIDC provider" in \
            checks["oidc-provider"]["evidence"], text
        assert checks["assume"]["status"] == "fail" and "InvalidIdentityToken" in checks["assume"]["evidence"], text
    finally:
        try:
            iam.create_open_id_connect_provider(Url="https://" + HOST, ClientIDList=saved["ClientIDList"],
                                                ThumbprintList=saved.get("ThumbprintList") or [],
                                                Tags=saved.get("Tags") or [])
        except Exception as e:  # keyless put it back first
            assert "EntityAlreadyExists" in str(e), e
