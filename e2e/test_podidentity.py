"""EKS Pod Identity mode end to end (issue 12): the real `keyless controller` against the local
kube-apiserver and moto (with the pod identity association API of hack/cluster/moto_eks_pod_identity.py).
The role's trust, the association and its tags, the service account, the status; the migration from
IRSA to Pod Identity and back with a Deployment running, phase by phase; the CRD's rules; deletion.
AWS calls per reconcile are printed at the end."""

import json
import os
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from kubernetes import client

from conftest import aws_client, token_for, wait_until
from test_pod_identity_standins import container_env, pod_body, pod_token
from controller_env import Controller, install_crd, write_settings
from test_controller import (crd_api, events_of, get_wi, make_sa, make_wi, reconcile_costs, sa_annotations,
                             wait_cond, wait_cost, wait_quiet_resync, GROUP, PLURAL, VERSION)

CLUSTER = os.environ.get("KEYLESS_CLUSTER_NAME", "keyless-local")
CALLS = {}


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    install_crd()
    d = tmp_path_factory.mktemp("controller-pi")
    c = Controller(write_settings(str(d / "settings.yaml")), str(d / "controller.log"))
    yield c
    rc = c.stop()
    print("\n" + "\n".join(f"AWS calls per reconcile (Pod Identity), {k}: {v}" for k, v in CALLS.items()))
    assert rc == 0, c.text()[-4000:]


def trust_of(role_name):
    d = aws_client("iam").get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    return json.loads(d) if isinstance(d, str) else d


def principals(doc):
    return [next(iter(s["Principal"].items())) for s in doc["Statement"]]


def associations(ns, sa):
    eks = aws_client("eks")
    out = []
    for s in eks.list_pod_identity_associations(clusterName=CLUSTER, namespace=ns, serviceAccount=sa)["associations"]:
        try:
            out.append(eks.describe_pod_identity_association(clusterName=CLUSTER,
                                                             associationId=s["associationId"])["association"])
        except eks.exceptions.ResourceNotFoundException:
            pass  # deleted between the list and the describe
    return out


def patch_spec(ns, name, **spec):
    crd_api().patch_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name, {"spec": spec})


def agent_get(core, ns, sa, pod):
    """What the SDK in the pod's container does: GET the injected URI (the agent's loopback port stands at
    the link-local address) with a token bound to the pod."""
    uri = os.environ["KEYLESS_POD_IDENTITY_AGENT"] + urlsplit(
        container_env(pod)["AWS_CONTAINER_CREDENTIALS_FULL_URI"]).path
    return requests.get(uri, headers={"Authorization": pod_token(core, ns, sa, pod)}, timeout=30)


def caller(creds):
    return aws_client("sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                      aws_session_token=creds["Token"] if "Token" in creds else creds["SessionToken"]
                      ).get_caller_identity()["Arn"]


def pod_credentials_work(core, ns, sa, pod, role_name):
    """The pod's credentials, the way it gets them (IRSA: its AWS_ROLE_ARN and a token of its service
    account through the STS front; Pod Identity: the agent and EKS Auth), name role_name."""
    env = container_env(pod)
    if "AWS_CONTAINER_CREDENTIALS_FULL_URI" in env:
        r = agent_get(core, ns, sa, pod)
        assert r.status_code == 200, r.text
        arn = caller(r.json())
    else:
        creds = aws_client("sts").assume_role_with_web_identity(
            RoleArn=env["AWS_ROLE_ARN"], RoleSessionName="e2e", WebIdentityToken=token_for(core, ns, sa))["Credentials"]
        arn = caller(creds)
    assert f":assumed-role/{role_name}/" in arn, arn


def test_pod_identity_identity(controller, core, namespace):
    make_sa(core, namespace, "s3-reader-sa")
    make_wi(namespace, "s3-reader", "s3-reader-sa", mode="PodIdentity")
    o = wait_cond(namespace, "s3-reader", "Ready", "True", timeout=90)
    st = o["status"]
    assert st["mode"] == "PodIdentity" and st["associationId"].startswith("a-")
    assert [c for c in st["conditions"] if c["type"] == "OIDCProviderReady"][0]["reason"] == "NotNeeded"

    # the role trusts the Pod Identity service, bound by session tags to this namespace and service account
    (stmt,) = trust_of(st["roleName"])["Statement"]
    assert stmt["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert stmt["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    eq = stmt["Condition"]["StringEquals"]
    assert eq["aws:RequestTag/kubernetes-namespace"] == namespace
    assert eq["aws:RequestTag/kubernetes-service-account"] == "s3-reader-sa"
    assert eq["aws:RequestTag/eks-cluster-arn"].endswith(f":cluster/{CLUSTER}")
    assert set(eq) == {"aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account",
                       "aws:RequestTag/eks-cluster-arn"}

    # the association in EKS, keyless' own by its tags; no IRSA annotation
    (a,) = associations(namespace, "s3-reader-sa")
    assert a["associationId"] == st["associationId"] and a["roleArn"] == st["roleArn"]
    assert a["tags"]["keyless.dev/cluster"] == CLUSTER and a["tags"]["keyless.dev/uid"] == o["metadata"]["uid"]
    assert "eks.amazonaws.com/role-arn" not in sa_annotations(core, namespace, "s3-reader-sa")
    assert "AssociationCreated" in events_of(namespace, "s3-reader")

    # a pod of the service account gets the container-credentials injection (AWS's webhook, the association
    # file kept by the local EKS), and the agent hands it the role's credentials for its token
    wait_until(lambda: "AWS_CONTAINER_CREDENTIALS_FULL_URI" in container_env(
        core.create_namespaced_pod(namespace, pod_body("probe", "s3-reader-sa"), dry_run="All")), 30,
        "the webhook to load the association")
    pod = core.create_namespaced_pod(namespace, pod_body("app-0", "s3-reader-sa"))
    assert "AWS_ROLE_ARN" not in container_env(pod)
    pod_credentials_work(core, namespace, "s3-reader-sa", pod, st["roleName"])

    # another namespace's association naming this role: EKS Auth refuses, the trust binds the namespace
    other = f"other-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        make_sa(core, other, "s3-reader-sa")
        stolen = aws_client("eks").create_pod_identity_association(
            clusterName=CLUSTER, namespace=other, serviceAccount="s3-reader-sa", roleArn=st["roleArn"])["association"]
        wait_until(lambda: "AWS_CONTAINER_CREDENTIALS_FULL_URI" in container_env(
            core.create_namespaced_pod(other, pod_body("probe", "s3-reader-sa"), dry_run="All")), 30,
            "the webhook to load the other association")
        thief = core.create_namespaced_pod(other, pod_body("thief", "s3-reader-sa"))
        r = agent_get(core, other, "s3-reader-sa", thief)
        assert r.status_code == 400 and "AccessDenied" in r.text, r.text
        aws_client("eks").delete_pod_identity_association(clusterName=CLUSTER, associationId=stolen["associationId"])
    finally:
        core.delete_namespace(other)

    key = f"{namespace}/s3-reader"
    first = wait_cost(controller, key, 0, lambda c: True, "the first reconcile's summary")
    CALLS["new identity"] = f"{first[0]} ({first[1]} writes)"
    assert first[1] == 3  # CreateRole, PutRolePolicy, CreatePodIdentityAssociation
    noop = wait_quiet_resync(controller, key)
    CALLS["no-op resync"] = f"{noop[0]} ({noop[1]} writes), {noop[2]} Kubernetes writes"
    assert noop[1] == 0 and noop[2] == 0

    # drift: someone points the association at another role; the resync points it back
    n = len(controller.reconcile_lines(key))
    aws_client("eks").update_pod_identity_association(clusterName=CLUSTER, associationId=a["associationId"],
                                                      roleArn=st["roleArn"] + "-other")
    wait_until(lambda: associations(namespace, "s3-reader-sa")[0]["roleArn"] == st["roleArn"], 40,
               "the association repaired")
    fix = wait_cost(controller, key, n, lambda c: c[1] > 0, "the repairing reconcile")
    CALLS["drift: association role"] = f"{fix[0]} ({fix[1]} writes)"
    assert fix[1] == 1

    # deletion: the association, then the role
    crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "s3-reader")
    wait_until(lambda: not associations(namespace, "s3-reader-sa"), 40, "the association deleted")
    iam = aws_client("iam")
    wait_until(lambda: st["roleName"] not in {r["RoleName"] for r in iam.list_roles(PathPrefix="/keyless/")["Roles"]},
               40, "the role deleted")


def test_association_someone_else_made_is_never_touched(controller, core, namespace):
    make_sa(core, namespace, "theirs-sa")
    eks = aws_client("eks")
    theirs = eks.create_pod_identity_association(clusterName=CLUSTER, namespace=namespace, serviceAccount="theirs-sa",
                                                 roleArn="arn:aws:iam::123456789012:role/someone-else",
                                                 tags={"team": "x"})["association"]
    make_wi(namespace, "mine", "theirs-sa", mode="PodIdentity")
    o = wait_cond(namespace, "mine", "Ready", "False", reason="AssociationNotOwned")
    assert theirs["associationId"] in [c for c in o["status"]["conditions"] if c["type"] == "ServiceAccountReady"][0]["message"]
    crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "mine")
    wait_until(lambda: not any(i["metadata"]["name"] == "mine" for i in
                               crd_api().list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)["items"]),
               40, "the identity gone")
    (a,) = associations(namespace, "theirs-sa")
    assert a["associationId"] == theirs["associationId"] and a["roleArn"].endswith("role/someone-else")


def test_crd_refuses_pod_identity_fields_under_irsa(controller, namespace):
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkloadIdentity", "metadata": {"name": "bad"},
            "spec": {"serviceAccountName": "sa", "mode": "IRSA",
                     "targetRoleArn": "arn:aws:iam::210987654321:role/reader",
                     "permissions": {"managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}}}
    with pytest.raises(client.exceptions.ApiException) as e:
        crd_api().create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    assert e.value.status == 422 and "apply only to EKS Pod Identity" in e.value.body
    body["spec"] = {"serviceAccountName": "sa", "mode": "PodIdentity",
                    "sessionPolicy": {"statements": [{"actions": ["s3:GetObject"], "resources": ["*"]}]},
                    "permissions": {"managedPolicyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]}}
    with pytest.raises(client.exceptions.ApiException) as e:
        crd_api().create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    assert e.value.status == 422 and "session tags disabled" in e.value.body


def _pods(core, ns):
    return [p for p in core.list_namespaced_pod(ns, label_selector="app=mig").items if not p.metadata.deletion_timestamp]


def _env(p):
    return {e.name: e.value for e in (p.spec.containers[0].env or [])}


def test_migration_irsa_to_pod_identity_and_back(controller, core, apps, namespace):
    make_sa(core, namespace, "mig-sa")
    labels = {"app": "mig"}
    apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="mig"),
        spec=client.V1DeploymentSpec(replicas=2, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(service_account_name="mig-sa", containers=[
                                             client.V1Container(name="c", image="example.invalid/mig:1")])))))
    make_wi(namespace, "mig", "mig-sa")
    st = wait_cond(namespace, "mig", "Ready", "True", timeout=90)["status"]
    assert st["mode"] == "IRSA"
    arn, key = st["roleArn"], f"{namespace}/mig"
    wait_until(lambda: (lambda ps: len(ps) == 2 and all(_env(p).get("AWS_ROLE_ARN") == arn for p in ps))(
        _pods(core, namespace)), 90, "IRSA pods")

    def phases_seen():
        return [c.get("reason") for c in [next((c for c in get_wi(namespace, "mig")["status"]["conditions"]
                                                if c["type"] == "Migrating"), {})]]

    seen, trusts, checked, creds_checked, unfetchable = [], [], [0], [0], [0]

    def watch(done):
        o = get_wi(namespace, "mig")
        m = next((c for c in o["status"]["conditions"] if c["type"] == "Migrating"), {})
        if m.get("status") == "True" and (not seen or seen[-1] != m["reason"]):
            seen.append(m["reason"])
        kinds = {k for k, _ in principals(trust_of(st["roleName"]))}
        # every running pod's way is trusted at every poll, and its credentials really work at each new
        # phase and at the end (the STS front for IRSA, the agent and EKS Auth for Pod Identity)
        check = done(o) or len(seen) != checked[0]
        checked[0] = len(seen)
        for p in _pods(core, namespace):
            if p.status.phase == "Running" and "AWS_ROLE_ARN" in _env(p):
                assert "Federated" in kinds, (seen, kinds)
            if p.status.phase == "Running" and "AWS_CONTAINER_CREDENTIALS_FULL_URI" in _env(p):
                assert "Service" in kinds, (seen, kinds)
            if check and p.status.phase == "Running" and (
                    "AWS_ROLE_ARN" in _env(p) or "AWS_CONTAINER_CREDENTIALS_FULL_URI" in _env(p)):
                if "AWS_CONTAINER_CREDENTIALS_FULL_URI" in _env(p) and not associations(namespace, "mig-sa"):
                    # back to IRSA, from Switch on: the association is gone, so a Pod Identity pod keeps
                    # the credentials it holds (the agent and the SDKs cache them) but cannot fetch new ones
                    # until its restart (README, "Migration")
                    unfetchable[0] += 1
                    continue
                pod_credentials_work(core, namespace, "mig-sa", p, st["roleName"])
                creds_checked[0] += 1
        trusts.append(kinds)
        return o if done(o) else None

    patch_spec(namespace, "mig", mode="PodIdentity")
    o = wait_until(lambda: watch(lambda o: o["status"].get("mode") == "PodIdentity"), 180,
                   "the migration to Pod Identity")
    CALLS["migration IRSA -> PodIdentity, phases seen"] = ", ".join(seen)
    assert o["status"]["roleArn"] == arn  # the same role throughout
    assert "eks.amazonaws.com/role-arn" not in sa_annotations(core, namespace, "mig-sa")
    assert [k for k, _ in principals(trust_of(st["roleName"]))] == ["Service"]
    assert associations(namespace, "mig-sa")
    assert not any("AWS_ROLE_ARN" in _env(p) for p in _pods(core, namespace) if p.status.phase == "Running")
    # the restarted pods have Pod Identity credentials that work
    wait_until(lambda: (lambda ps: len(ps) == 2 and all("AWS_CONTAINER_CREDENTIALS_FULL_URI" in _env(p) and
                                                        p.status.phase == "Running" for p in ps))(
        _pods(core, namespace)), 90, "Pod Identity pods")
    for p in _pods(core, namespace):
        pod_credentials_work(core, namespace, "mig-sa", p, st["roleName"])

    seen.clear()
    patch_spec(namespace, "mig", mode="IRSA")
    o = wait_until(lambda: watch(lambda o: o["status"].get("mode") == "IRSA" and
                                 not any(c["type"] == "Migrating" and c["status"] == "True"
                                         for c in o["status"]["conditions"])), 180, "the migration back to IRSA")
    CALLS["migration PodIdentity -> IRSA, phases seen"] = ", ".join(seen)
    assert o["status"]["roleArn"] == arn
    assert sa_annotations(core, namespace, "mig-sa")["eks.amazonaws.com/role-arn"] == arn
    assert [k for k, _ in principals(trust_of(st["roleName"]))] == ["Federated"]
    assert not associations(namespace, "mig-sa")
    wait_until(lambda: (lambda ps: len(ps) == 2 and all(_env(p).get("AWS_ROLE_ARN") == arn and
                                                        p.status.phase == "Running" for p in ps))(
        _pods(core, namespace)), 90, "IRSA pods again")
    for p in _pods(core, namespace):
        pod_credentials_work(core, namespace, "mig-sa", p, st["roleName"])
    CALLS["migration: pod credentials checked along the way"] = (
        f"{creds_checked[0]} fetched and working; {unfetchable[0]} Pod Identity pod checks skipped after the "
        f"association was gone (back to IRSA)")


def test_auto_follows_the_agent_and_windows_pods(controller, core, apps, namespace):
    """Auto: IRSA without the Pod Identity Agent DaemonSet; Pod Identity once it exists; IRSA again while a
    pod of the identity selects Windows nodes (where the agent cannot run)."""
    make_sa(core, namespace, "auto-sa")
    make_wi(namespace, "auto", "auto-sa", mode="Auto")
    o = wait_cond(namespace, "auto", "Ready", "True", timeout=90)
    assert o["status"]["mode"] == "IRSA"
    labels = {"app": "agent"}
    agent = client.V1DaemonSet(metadata=client.V1ObjectMeta(name="eks-pod-identity-agent"), spec=client.V1DaemonSetSpec(
        selector=client.V1LabelSelector(match_labels=labels),
        template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels=labels), spec=client.V1PodSpec(
            containers=[client.V1Container(name="agent", image="example.invalid/eks-pod-identity-agent:1")]))))
    apps.create_namespaced_daemon_set("kube-system", agent)
    win_node = f"kwok-win-{uuid.uuid4().hex[:6]}"
    try:
        # the DaemonSet is not watched: the periodic resync (10 s here) notices it
        wait_until(lambda: get_wi(namespace, "auto")["status"].get("mode") == "PodIdentity", 90,
                   "Auto moving to Pod Identity")
        assert associations(namespace, "auto-sa")
        # a Windows workload on a Windows node (kwok runs it); it got the Pod Identity injection, so the move
        # back to IRSA restarts it (a bare pod would wait for people)
        core.create_node(client.V1Node(metadata=client.V1ObjectMeta(
            name=win_node, annotations={"kwok.x-k8s.io/node": "fake"},
            labels={"kubernetes.io/os": "windows", "kubernetes.io/hostname": win_node, "keyless.dev/kwok": "true"})))
        win_labels = {"app": "win"}
        apps.create_namespaced_deployment(namespace, client.V1Deployment(
            metadata=client.V1ObjectMeta(name="win"),
            spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(match_labels=win_labels),
                                         template=client.V1PodTemplateSpec(
                                             metadata=client.V1ObjectMeta(labels=win_labels),
                                             spec=client.V1PodSpec(service_account_name="auto-sa",
                                                                   node_selector={"kubernetes.io/os": "windows"},
                                                                   containers=[client.V1Container(
                                                                       name="c", image="example.invalid/win:1")])))))
        wait_until(lambda: get_wi(namespace, "auto")["status"].get("mode") == "IRSA", 120,
                   "Auto back on IRSA for a Windows pod")
        assert not associations(namespace, "auto-sa")
        mode = [c for c in get_wi(namespace, "auto")["status"]["conditions"] if c["type"] == "ModeSelected"][0]
        assert mode["reason"] == "AutoWindows" and "Windows nodes" in mode["message"], mode
    finally:
        apps.delete_namespaced_daemon_set("eks-pod-identity-agent", "kube-system")
        try:
            core.delete_node(win_node)
        except client.exceptions.ApiException:
            pass
