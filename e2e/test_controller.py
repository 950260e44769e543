"""The WorkloadIdentity controller end to end (issue #5): the real
`keyless controller` (ASan+UBSan build) against the local kube-apiserver,
the pod identity webhook, moto and the STS front."""

import json
import os
import re
import subprocess
import time
import uuid

import botocore.exceptions
import pytest
from kubernetes import client

from conftest import aws_client, token_for, wait_until
from controller_env import Controller, install_crd, keyless_role_name, write_settings

GROUP, VERSION, PLURAL = "keyless.dev", "v1alpha1", "workloadidentities"
CLUSTER = os.environ.get("KEYLESS_CLUSTER_NAME", "keyless-local")
ISSUER_HOST = os.environ.get("KEYLESS_ISSUER", "").removeprefix("https://")
CALLS = {}  # AWS calls per reconcile, measured below, printed at the end


@pytest.fixture(scope="module")
def controller(tmp_path_factory):
    install_crd()
    d = tmp_path_factory.mktemp("controller")
    c = Controller(write_settings(str(d / "settings.yaml")), str(d / "controller.log"))
    yield c
    rc = c.stop()
    print("\n" + "\n".join(f"AWS calls per reconcile, {k}: {v}" for k, v in CALLS.items()))
    assert rc == 0, c.text()[-4000:]


def crd_api():
    return client.CustomObjectsApi()


def make_wi(ns, name, sa, statements=None, **spec):
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkloadIdentity", "metadata": {"name": name},
            "spec": {"serviceAccountName": sa,
                     "permissions": {"statements": statements or [
                         {"sid": "ReadLogs", "effect": "Allow", "actions": ["s3:GetObject"],
                          "resources": ["arn:aws:s3:::my-log-bucket/logs/*"]}]}, **spec}}
    return crd_api().create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, body)


def get_wi(ns, name):
    return crd_api().get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)


def cond(obj, type_):
    for c in (obj.get("status") or {}).get("conditions", []):
        if c["type"] == type_:
            return c
    return {}


def wait_cond(ns, name, type_, status, reason=None, timeout=60):
    def ok():
        o = get_wi(ns, name)
        c = cond(o, type_)
        return o if c.get("status") == status and (reason is None or c.get("reason") == reason) else None
    try:
        return wait_until(ok, timeout, f"{ns}/{name} {type_}={status} {reason or ''}")
    except AssertionError:
        raise AssertionError(f"{ns}/{name} status: {json.dumps(get_wi(ns, name).get('status'), indent=1)}")


def role_name(ns, name):
    return keyless_role_name(ns, name)


def make_sa(core, ns, name):
    core.create_namespaced_service_account(ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name)))


def sa_annotations(core, ns, name):
    return core.read_namespaced_service_account(name, ns).metadata.annotations or {}


def events_of(ns, name):
    evs = client.EventsV1Api().list_namespaced_event(ns, field_selector=f"regarding.name={name}").items
    return {e.reason for e in evs}


def reconcile_costs(controller, key):
    """[(aws calls, aws writes, kube writes)] of each reconcile of key, in order."""
    out = []
    for l in controller.reconcile_lines(key):
        m = re.search(r"(\d+) AWS calls \((\d+) writes\), (\d+) Kubernetes writes", l)
        out.append(tuple(int(x) for x in m.groups()))
    return out


def wait_cost(controller, key, n, pred, what, timeout=15):
    """Wait for a reconcile of key after the first n that matches pred: its summary line is logged when
    the reconcile ends, after the writes a test can already see."""
    return wait_until(lambda: next((c for c in reconcile_costs(controller, key)[n:] if pred(c)), None),
                      timeout, what)


def wait_quiet_resync(controller, key, timeout=40):
    """Wait for a reconcile that read AWS and wrote nothing (a periodic resync of a converged object;
    reconciles that pods or the service account bring read nothing in AWS)."""
    return wait_cost(controller, key, len(controller.reconcile_lines(key)),
                     lambda c: c[0] > 0 and c[1] == 0 and c[2] == 0, f"a no-op resync of {key}", timeout)


def test_identity_end_to_end(controller, core, apps, namespace, issuer):
    make_sa(core, namespace, "s3-reader-sa")
    labels = {"app": "web"}
    apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1DeploymentSpec(replicas=2, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(service_account_name="s3-reader-sa", containers=[
                                             client.V1Container(name="c", image="example.invalid/web:1")])))))
    old = wait_until(lambda: (lambda p: p if len(p) == 2 else None)(
        core.list_namespaced_pod(namespace, label_selector="app=web").items), 60, "2 pods before the identity")
    old_names = {p.metadata.name for p in old}
    assert all("AWS_ROLE_ARN" not in {e.name for e in (p.spec.containers[0].env or [])} for p in old)

    make_wi(namespace, "s3-reader", "s3-reader-sa")
    o = wait_cond(namespace, "s3-reader", "Ready", "True", timeout=90)
    name = role_name(namespace, "s3-reader")
    st = o["status"]
    assert st["roleName"] == name and st["roleArn"].endswith(f":role/keyless/{name}")
    assert st["serviceAccount"] == "s3-reader-sa" and st["observedGeneration"] == 1 and st["stalePods"] == 0
    assert {c["type"] for c in st["conditions"]} == {"Ready", "OIDCProviderReady", "RoleReady",
                                                     "ServiceAccountReady", "WorkloadsReady"}

    # the role in moto: exactly the two StringEquals conditions on this service account
    iam = aws_client("iam")
    role = iam.get_role(RoleName=name)["Role"]
    doc = role["AssumeRolePolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    (stmt,) = doc["Statement"]
    assert stmt["Effect"] == "Allow" and stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert stmt["Principal"] == {"Federated": st["oidcProviderArn"]}
    assert stmt["Condition"] == {"StringEquals": {
        f"{ISSUER_HOST}:sub": f"system:serviceaccount:{namespace}:s3-reader-sa",
        f"{ISSUER_HOST}:aud": "sts.amazonaws.com"}}
    assert role["Path"] == "/keyless/"
    assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/keyless-e2e-boundary")
    tags = {t["Key"]: t["Value"] for t in role["Tags"]}
    assert tags["keyless.dev/cluster"] == CLUSTER and tags["keyless.dev/namespace"] == namespace
    assert tags["keyless.dev/name"] == "s3-reader" and tags["keyless.dev/uid"] == o["metadata"]["uid"]
    assert tags["keyless.dev/issuer"] == ISSUER_HOST
    assert tags["managed-by"] == "keyless-e2e"
    pol = iam.get_role_policy(RoleName=name, PolicyName="keyless")["PolicyDocument"]
    pol = json.loads(pol) if isinstance(pol, str) else pol
    assert pol["Statement"][0]["Action"] in (["s3:GetObject"], "s3:GetObject")
    # the OIDC provider for the real issuer, with the audience
    prov = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=st["oidcProviderArn"])
    assert "sts.amazonaws.com" in prov["ClientIDList"]
    assert st["oidcProviderArn"].endswith(f":oidc-provider/{ISSUER_HOST}")

    # the service account, and pods replaced with the injection (real webhook)
    ann = sa_annotations(core, namespace, "s3-reader-sa")
    assert ann["eks.amazonaws.com/role-arn"] == st["roleArn"]
    assert ann["eks.amazonaws.com/sts-regional-endpoints"] == "true"

    def replaced():
        pods = [p for p in core.list_namespaced_pod(namespace, label_selector="app=web").items
                if not p.metadata.deletion_timestamp]
        if len(pods) != 2 or old_names & {p.metadata.name for p in pods}:
            return None
        envs = [{e.name: e.value for e in (p.spec.containers[0].env or [])} for p in pods]
        return pods if all(e.get("AWS_ROLE_ARN") == st["roleArn"] for e in envs) else None
    wait_until(replaced, 90, "the Deployment's pods replaced with injected ones")
    dep = apps.read_namespaced_deployment("web", namespace)
    # the restart marker names the wiring: role, audience, regional endpoints, when the API server recorded it
    assert dep.metadata.annotations["keyless.dev/restarted-for"] == (
        f"{st['roleArn']} audience=sts.amazonaws.com sts-regional-endpoints=true wiredAt={st['wiredAt']}")
    wait_cond(namespace, "s3-reader", "WorkloadsReady", "True")
    assert {"RoleCreated", "ServiceAccountAnnotated", "WorkloadRestarted"} <= events_of(namespace, "s3-reader")

    # a token of the service account assumes the role through the STS front
    sts = aws_client("sts")
    creds = sts.assume_role_with_web_identity(RoleArn=st["roleArn"], RoleSessionName="e2e",
                                              WebIdentityToken=token_for(core, namespace, "s3-reader-sa"))["Credentials"]
    who = aws_client("sts", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                     aws_session_token=creds["SessionToken"]).get_caller_identity()
    assert f":assumed-role/{name}/e2e" in who["Arn"]

    # converged: a periodic resync writes nothing
    key = f"{namespace}/s3-reader"
    first = wait_cost(controller, key, 0, lambda c: True, "the first reconcile's summary")
    CALLS["new identity (first reconcile: provider, role, policy)"] = f"{first[0]} ({first[1]} writes)"
    # reconciles the restart's pod events brought within a resync period of the verification: no AWS call
    between = [c for c in reconcile_costs(controller, key)[1:] if c[0] == 0]
    if between:
        CALLS["pod event"] = f"{between[0][0]} ({between[0][1]} writes), {between[0][2]} Kubernetes writes"
    noop = wait_quiet_resync(controller, key)
    CALLS["no-op resync"] = f"{noop[0]} ({noop[1]} writes), {noop[2]} Kubernetes writes"
    assert noop[1] == 0 and noop[2] == 0


def test_drift_in_trust_policy_and_annotation_is_repaired(controller, core, namespace):
    make_sa(core, namespace, "app-sa")
    make_wi(namespace, "app", "app-sa")
    st = wait_cond(namespace, "app", "Ready", "True")["status"]
    name, key, iam = st["roleName"], f"{namespace}/app", aws_client("iam")

    # someone widens the trust policy in the console
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": st["oidcProviderArn"]},
                                                    "Action": "sts:AssumeRoleWithWebIdentity"}]}
    n = len(controller.reconcile_lines(key))
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(wide))

    def restored():
        d = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
        d = json.loads(d) if isinstance(d, str) else d
        return "Condition" in d["Statement"][0]
    wait_until(restored, 40, "the trust policy repaired by the periodic resync")
    # the Event follows the IAM write (the recorder sends it after the repair)
    wait_until(lambda: "DriftRepaired" in events_of(namespace, "app"), 15, "the DriftRepaired event")
    fix = wait_cost(controller, key, n, lambda c: c[1] > 0, "the repairing reconcile's summary")
    CALLS["drift: trust policy"] = f"{fix[0]} ({fix[1]} writes)"
    assert fix[1] == 1

    # someone removes the annotation: the ServiceAccount watch brings it back at once
    n = len(controller.reconcile_lines(key))
    subprocess.run(["kubectl", "-n", namespace, "annotate", "sa", "app-sa", "eks.amazonaws.com/role-arn-"],
                   check=True, capture_output=True)
    wait_until(lambda: sa_annotations(core, namespace, "app-sa").get("eks.amazonaws.com/role-arn") == st["roleArn"],
               20, "the annotation restored")
    fix = wait_cost(controller, key, n, lambda c: c[2] > 0, "the re-annotating reconcile's summary")
    CALLS["drift: service-account annotation"] = f"{fix[0]} ({fix[1]} writes), {fix[2]} Kubernetes write"
    assert fix[1] == 0

    # someone attaches a broad managed policy to the role: detached again
    extra = iam.create_policy(PolicyName=f"e2e-admin-{uuid.uuid4().hex[:6]}", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))["Policy"]["Arn"]
    n = len(controller.reconcile_lines(key))
    iam.attach_role_policy(RoleName=name, PolicyArn=extra)
    wait_until(lambda: not iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"], 40,
               "the extra managed policy detached")
    fix = wait_cost(controller, key, n, lambda c: c[1] > 0, "the detaching reconcile's summary")
    CALLS["drift: extra managed policy"] = f"{fix[0]} ({fix[1]} writes)"


def test_production_and_staging_each_trust_only_their_namespace(controller, core):
    ids = {}
    for env, actions in (("production", ["s3:GetObject", "s3:PutObject"]), ("staging", ["s3:GetObject"])):
        ns = f"{env}-{uuid.uuid4().hex[:6]}"
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        wait_until(lambda: [s for s in core.list_namespaced_service_account(ns).items
                            if s.metadata.name == "default"], 30, "default SA")
        make_sa(core, ns, "app-sa")
        make_wi(ns, "app", "app-sa", [{"effect": "Allow", "actions": actions,
                                        "resources": [f"arn:aws:s3:::{env}-bucket/*"]}])
        ids[env] = (ns, wait_cond(ns, "app", "Ready", "True")["status"]["roleArn"])
    try:
        (pns, prole), (sns, srole) = ids["production"], ids["staging"]
        assert prole != srole
        sts = aws_client("sts")
        ok = sts.assume_role_with_web_identity(RoleArn=prole, RoleSessionName="prod",
                                               WebIdentityToken=token_for(core, pns, "app-sa"))
        assert ok["Credentials"]["AccessKeyId"]
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=prole, RoleSessionName="stag",
                                              WebIdentityToken=token_for(core, sns, "app-sa"))
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=srole, RoleSessionName="prod",
                                              WebIdentityToken=token_for(core, pns, "app-sa"))
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        iam = aws_client("iam")
        pol = iam.get_role_policy(RoleName=prole.rsplit("/", 1)[1], PolicyName="keyless")["PolicyDocument"]
        assert "s3:PutObject" in json.dumps(pol)
        pol = iam.get_role_policy(RoleName=srole.rsplit("/", 1)[1], PolicyName="keyless")["PolicyDocument"]
        assert "s3:PutObject" not in json.dumps(pol)
    finally:
        for ns, _ in ids.values():
            core.delete_namespace(ns)


def test_no_field_can_name_another_namespace(controller, core, namespace):
    make_sa(core, namespace, "app-sa")
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkloadIdentity", "metadata": {"name": "sneaky"},
            "spec": {"serviceAccountName": "app-sa", "namespace": "kube-system", "trustPolicy": {"sub": "*"},
                     "subject": "system:serviceaccount:kube-system:admin",
                     "permissions": {"statements": [{"actions": ["s3:GetObject"], "resources": ["*"],
                                                     "effect": "Allow"}]}}}
    # unknown fields are pruned by the structural schema (or rejected if the API server is strict)
    try:
        crd_api().create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    except client.ApiException as e:
        assert e.status in (400, 422)
        return
    o = get_wi(namespace, "sneaky")
    assert set(o["spec"]) <= {"serviceAccountName", "permissions", "audience", "stsRegionalEndpoints",
                              "createServiceAccount", "deletionPolicy"}
    # Resource "*" for s3:GetObject is refused by the guardrails anyway; make it valid and check the trust
    crd_api().patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "sneaky", {
        "spec": {"permissions": {"statements": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::b/*"],
                                                 "effect": "Allow"}]}}})
    st = wait_cond(namespace, "sneaky", "Ready", "True")["status"]
    doc = aws_client("iam").get_role(RoleName=st["roleName"])["Role"]["AssumeRolePolicyDocument"]
    text = json.dumps(doc)
    assert f"system:serviceaccount:{namespace}:app-sa" in text
    assert "kube-system" not in text


def test_preexisting_untagged_role_is_left_untouched(controller, core, namespace):
    iam = aws_client("iam")
    name = role_name(namespace, "taken")
    foreign = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                       "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName=name, Path="/keyless/", AssumeRolePolicyDocument=json.dumps(foreign))
    try:
        make_sa(core, namespace, "app-sa")
        make_wi(namespace, "taken", "app-sa")
        o = wait_cond(namespace, "taken", "RoleReady", "False", "RoleNotOwned")
        assert "will not modify" in cond(o, "RoleReady")["message"]
        assert cond(o, "Ready")["status"] == "False"
        role = iam.get_role(RoleName=name)["Role"]
        doc = role["AssumeRolePolicyDocument"]
        assert (json.loads(doc) if isinstance(doc, str) else doc) == foreign
        assert not role.get("Tags")
        assert not iam.list_role_policies(RoleName=name)["PolicyNames"]
        assert "eks.amazonaws.com/role-arn" not in sa_annotations(core, namespace, "app-sa")
        # deleting the WorkloadIdentity does not delete someone else's role
        crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "taken")
        wait_until(lambda: not [i for i in crd_api().list_namespaced_custom_object(
            GROUP, VERSION, namespace, PLURAL)["items"] if i["metadata"]["name"] == "taken"], 40, "WI deleted")
        assert iam.get_role(RoleName=name)["Role"]["RoleName"] == name
    finally:
        iam.delete_role(RoleName=name)


def test_deletion_removes_exactly_what_keyless_created(controller, core, namespace):
    make_sa(core, namespace, "app-sa")
    core.patch_namespaced_service_account("app-sa", namespace, {"metadata": {"annotations": {"team": "payments"}}})
    make_wi(namespace, "gone", "app-sa")
    st = wait_cond(namespace, "gone", "Ready", "True")["status"]
    iam = aws_client("iam")
    assert iam.get_role(RoleName=st["roleName"])
    crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "gone")
    wait_until(lambda: not [i for i in crd_api().list_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL)["items"] if i["metadata"]["name"] == "gone"], 40, "finalizer done")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role(RoleName=st["roleName"])
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
    ann = sa_annotations(core, namespace, "app-sa")
    assert "eks.amazonaws.com/role-arn" not in ann and ann.get("team") == "payments"  # only ours removed
    wait_until(lambda: "RoleDeleted" in events_of(namespace, "gone"), 15, "the RoleDeleted event")
    # the OIDC provider is shared by every identity: it stays
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=st["oidcProviderArn"])


def test_guardrails_reject_and_shared_service_account_conflict(controller, core, namespace):
    make_sa(core, namespace, "app-sa")
    make_wi(namespace, "admin", "app-sa", [{"effect": "Allow", "actions": ["iam:PassRole"], "resources": ["*"]}])
    o = wait_cond(namespace, "admin", "Ready", "False", "PolicyRejected")
    assert "statements[0].actions[0]" in cond(o, "Ready")["message"]
    wait_until(lambda: "PolicyRejected" in events_of(namespace, "admin"), 15, "the PolicyRejected event")
    with pytest.raises(botocore.exceptions.ClientError):
        aws_client("iam").get_role(RoleName=role_name(namespace, "admin"))
    crd_api().delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "admin")

    make_wi(namespace, "first", "app-sa")
    wait_cond(namespace, "first", "Ready", "True")
    time.sleep(1.1)  # creation times are in seconds
    make_wi(namespace, "second", "app-sa")
    o = wait_cond(namespace, "second", "ServiceAccountReady", "False", "ServiceAccountConflict")
    assert "first" in cond(o, "ServiceAccountReady")["message"]
    first = get_wi(namespace, "first")["status"]["roleArn"]
    assert sa_annotations(core, namespace, "app-sa")["eks.amazonaws.com/role-arn"] == first
    # the loser gets no role at all: nothing in IAM trusts the shared service account for it
    assert "roleArn" not in o["status"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        aws_client("iam").get_role(RoleName=role_name(namespace, "second"))
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_delete_pods_mode_and_missing_injection(controller, core, namespace):
    make_sa(core, namespace, "app-sa")
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="bare"),
                       spec=client.V1PodSpec(service_account_name="app-sa",
                                             containers=[client.V1Container(name="c", image="example.invalid/x")]))
    core.create_namespaced_pod(namespace, pod)
    make_wi(namespace, "app", "app-sa", restart="DeletePods")
    # the pod without a controller, started before the wiring, is evicted (restart: DeletePods)
    wait_until(lambda: not [p for p in core.list_namespaced_pod(namespace).items if p.metadata.name == "bare"],
               60, "the bare pod deleted")
    wait_until(lambda: "PodEvicted" in events_of(namespace, "app"), 15, "the PodEvicted event")
    wait_cond(namespace, "app", "Ready", "True")

    # without the pod identity webhook, a pod created after the wiring lacks AWS_ROLE_ARN:
    # reported as InjectionMissing, and keyless does not restart anything for it
    adm = client.AdmissionregistrationV1Api()
    saved = adm.read_mutating_webhook_configuration("pod-identity-webhook")
    adm.delete_mutating_webhook_configuration("pod-identity-webhook")
    try:
        time.sleep(6)  # the apiserver's webhook configuration cache, and keyless' 5 s grace after the wiring
        core.create_namespaced_pod(namespace, client.V1Pod(
            metadata=client.V1ObjectMeta(name="late"),
            spec=client.V1PodSpec(service_account_name="app-sa",
                                  containers=[client.V1Container(name="c", image="example.invalid/x")])))
        o = wait_cond(namespace, "app", "WorkloadsReady", "False", "InjectionMissing")
        assert "pod identity webhook" in cond(o, "WorkloadsReady")["message"]
        assert o["status"]["stalePods"] == 1
        assert [p.metadata.name for p in core.list_namespaced_pod(namespace).items] == ["late"]  # not deleted
    finally:
        saved.metadata = client.V1ObjectMeta(name="pod-identity-webhook")
        adm.create_mutating_webhook_configuration(saved)
