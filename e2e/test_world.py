"""Prove the local world is real (issue #2, part 4).

Each test exercises a real component: the kube-apiserver's TokenRequest API and
OIDC discovery, the kube-controller-manager's Deployment -> ReplicaSet -> Pod
chain, the pod identity webhook as a registered mutating webhook, moto with
signature checking, the STS front's web-identity checks, and the second AWS
account (hack/cluster/bootstrap_aws.py) with a role there assumed by a real token.
"""

import json
import ssl
import time
import urllib.error
import urllib.request
import uuid

import botocore.exceptions
import jwt
import pytest
from kubernetes import client
from kubernetes.utils import parse_quantity

from conftest import aws_client, aws_client_in_second_account, env, https_get_json, jwt_claims, token_for, wait_until

TOKEN_PATH = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token"


def make_sa(core, ns, name, annotations=None):
    core.create_namespaced_service_account(
        ns, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name, annotations=annotations)))


def make_deployment(apps, ns, name, sa, replicas=2):
    labels = {"app": name}
    dep = client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(
                    service_account_name=sa,
                    containers=[client.V1Container(name="app", image="example.invalid/app:1",
                                                   env=[client.V1EnvVar(name="KEEP", value="me")])]))))
    apps.create_namespaced_deployment(ns, dep)


def pods_of(core, ns, app, n):
    def ready():
        pods = core.list_namespaced_pod(ns, label_selector=f"app={app}").items
        return pods if len(pods) >= n else None
    return wait_until(ready, 60, f"{n} pods of deployment {app} (ReplicaSet controller)")


def env_of(container):
    return {e.name: e.value for e in (container.env or [])}


def test_webhook_injects_into_pods_of_annotated_service_account(core, apps, namespace):
    arn = f"arn:aws:iam::123456789012:role/e2e-{namespace}"
    make_sa(core, namespace, "app-sa", {"eks.amazonaws.com/role-arn": arn,
                                        "eks.amazonaws.com/sts-regional-endpoints": "true"})
    make_sa(core, namespace, "plain-sa")
    make_deployment(apps, namespace, "with-role", "app-sa")
    make_deployment(apps, namespace, "without-role", "plain-sa", replicas=1)

    pods = pods_of(core, namespace, "with-role", 2)
    for pod in pods:
        # created by the ReplicaSet controller, not by us
        assert pod.metadata.owner_references[0].kind == "ReplicaSet"
        c = pod.spec.containers[0]
        e = env_of(c)
        assert e["AWS_ROLE_ARN"] == arn
        assert e["AWS_WEB_IDENTITY_TOKEN_FILE"] == TOKEN_PATH
        assert e["AWS_STS_REGIONAL_ENDPOINTS"] == "regional"
        assert e["KEEP"] == "me"
        mounts = {m.name: m for m in c.volume_mounts}
        assert mounts["aws-iam-token"].mount_path == TOKEN_PATH.rsplit("/", 1)[0]
        assert mounts["aws-iam-token"].read_only
        vols = {v.name: v for v in pod.spec.volumes}
        src = vols["aws-iam-token"].projected.sources[0].service_account_token
        assert src.audience == "sts.amazonaws.com"
        assert src.path == "token"
        assert src.expiration_seconds == 86400

    plain = pods_of(core, namespace, "without-role", 1)[0]
    assert "AWS_ROLE_ARN" not in env_of(plain.spec.containers[0])
    assert "aws-iam-token" not in {v.name for v in plain.spec.volumes or []}


def test_token_claims_and_signature_verify_against_anonymous_jwks(core, namespace, issuer, ca_file):
    make_sa(core, namespace, "app-sa")
    token = token_for(core, namespace, "app-sa")
    claims = jwt_claims(token)
    assert claims["iss"] == issuer
    assert claims["sub"] == f"system:serviceaccount:{namespace}:app-sa"
    assert claims["aud"] == ["sts.amazonaws.com"]

    # Discovery and JWKS are readable without credentials, as AWS reads them.
    disco = https_get_json(f"{issuer}/.well-known/openid-configuration", ca_file)
    assert disco["issuer"] == issuer
    assert disco["jwks_uri"] == f"{issuer}/openid/v1/jwks"
    jwks = jwt.PyJWKSet.from_dict(https_get_json(disco["jwks_uri"], ca_file))
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    verified = jwt.decode(token, key.key, algorithms=["RS256"], audience="sts.amazonaws.com", issuer=issuer)
    assert verified["sub"] == claims["sub"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"), key.key,
                   algorithms=["RS256"], audience="sts.amazonaws.com")

    # ... while the rest of the API is not anonymous.
    ctx = ssl.create_default_context(cafile=ca_file)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{issuer}/api/v1/namespaces", context=ctx, timeout=10)
    assert e.value.code in (401, 403)


def _trust(provider_arn, issuer_host, sub):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {f"{issuer_host}:sub": sub, f"{issuer_host}:aud": "sts.amazonaws.com"}},
        }],
    })


def _ensure_provider(iam, issuer):
    host = issuer.removeprefix("https://")
    for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        if p["Arn"].endswith(f":oidc-provider/{host}"):
            return p["Arn"]
    return iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]


def test_assume_role_with_web_identity_through_sts_front(core, namespace, issuer):
    iam = aws_client("iam")
    provider = _ensure_provider(iam, issuer)
    host = issuer.removeprefix("https://")
    make_sa(core, namespace, "app-sa")
    make_sa(core, namespace, "other-sa")
    suffix = uuid.uuid4().hex[:6]
    mine = iam.create_role(RoleName=f"e2e-mine-{suffix}",
                           AssumeRolePolicyDocument=_trust(provider, host, f"system:serviceaccount:{namespace}:app-sa"))
    other = iam.create_role(RoleName=f"e2e-other-{suffix}",
                            AssumeRolePolicyDocument=_trust(provider, host, f"system:serviceaccount:{namespace}:other-sa"))

    token = token_for(core, namespace, "app-sa")
    sts = aws_client("sts")  # unsigned call is what SDKs send; credentials are ignored
    out = sts.assume_role_with_web_identity(RoleArn=mine["Role"]["Arn"], RoleSessionName="e2e",
                                            WebIdentityToken=token)
    c = out["Credentials"]
    assert c["AccessKeyId"] and c["SecretAccessKey"] and c["SessionToken"]

    # The temporary credentials are real to moto: a signed call with them works.
    who = aws_client("sts", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                     aws_session_token=c["SessionToken"]).get_caller_identity()
    assert f":assumed-role/{mine['Role']['RoleName']}/e2e" in who["Arn"]

    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=other["Role"]["Arn"], RoleSessionName="e2e",
                                          WebIdentityToken=token)
    assert e.value.response["Error"]["Code"] == "AccessDenied"

    # A token for another audience is not accepted by the provider at all.
    bad_aud = token_for(core, namespace, "app-sa", audience="not-sts")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sts.assume_role_with_web_identity(RoleArn=mine["Role"]["Arn"], RoleSessionName="e2e",
                                          WebIdentityToken=bad_aud)
    assert e.value.response["Error"]["Code"] == "InvalidIdentityToken"


def test_moto_checks_signatures():
    import os
    ok = aws_client("iam")
    assert "Users" in ok.list_users()
    bad = aws_client("iam", aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key="not-the-secret")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.list_users()
    assert e.value.response["Error"]["Code"] in ("SignatureDoesNotMatch", "InvalidClientTokenId")
    unknown = aws_client("iam", aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key="x")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        unknown.list_users()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_eks_describe_cluster_reports_the_local_issuer(issuer):
    import os
    eks = aws_client("eks")
    cluster = eks.describe_cluster(name=os.environ["KEYLESS_CLUSTER_NAME"])["cluster"]
    assert cluster["identity"]["oidc"]["issuer"] == issuer


# --- the second AWS account (cross-account IRSA): bootstrap_aws.py's roles there ---

def _keys(c):
    return dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                aws_session_token=c["SessionToken"])


def _no_such_role(iam, name):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.get_role(RoleName=name)
    return e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_admin_reaches_the_second_account_and_its_iam_is_separate():
    second, first = env("KEYLESS_SECOND_ACCOUNT"), env("AWS_ACCOUNT_ID")
    assert second != first
    me = aws_client_in_second_account("sts").get_caller_identity()
    assert me["Account"] == second and me["Arn"].startswith(f"arn:aws:sts::{second}:assumed-role/keyless-test-admin/")
    iam_b, iam_a = aws_client_in_second_account("iam"), aws_client("iam")
    roles_b = {r["Arn"] for r in iam_b.list_roles()["Roles"]}
    assert {env("KEYLESS_SECOND_ACCOUNT_ADMIN_ROLE"), env("KEYLESS_SECOND_ACCOUNT_MANAGER_ROLE")} <= roles_b
    assert _no_such_role(iam_a, "keyless-manager")
    assert "keyless-test-admin" in {u["UserName"] for u in iam_a.list_users()["Users"]}
    assert "keyless-test-admin" not in {u["UserName"] for u in iam_b.list_users()["Users"]}
    name = f"e2e-b-{uuid.uuid4().hex[:6]}"
    arn = iam_b.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{first}:root"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    try:
        assert arn == f"arn:aws:iam::{second}:role/{name}"
        assert _no_such_role(iam_a, name)
    finally:
        iam_b.delete_role(RoleName=name)


def test_manager_role_of_the_second_account_manages_iam_there():
    second = env("KEYLESS_SECOND_ACCOUNT")
    c = aws_client("sts").assume_role(RoleArn=env("KEYLESS_SECOND_ACCOUNT_MANAGER_ROLE"),
                                      RoleSessionName="e2e-manager")["Credentials"]
    assert aws_client("sts", **_keys(c)).get_caller_identity()["Arn"] == \
        f"arn:aws:sts::{second}:assumed-role/keyless-manager/e2e-manager"
    iam = aws_client("iam", **_keys(c))
    name = f"e2e-mgr-{uuid.uuid4().hex[:6]}"
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17",
                                                                               "Statement": []}))["Role"]["Arn"]
    assert arn == f"arn:aws:iam::{second}:role/{name}"
    assert aws_client_in_second_account("iam").get_role(RoleName=name)["Role"]["Arn"] == arn
    iam.delete_role(RoleName=name)
    assert _no_such_role(iam, name)
    with pytest.raises(botocore.exceptions.ClientError) as e:  # IAM only
        aws_client("eks", **_keys(c)).list_clusters()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_service_account_token_assumes_a_role_in_the_second_account(core, namespace, issuer):
    second, first = env("KEYLESS_SECOND_ACCOUNT"), env("AWS_ACCOUNT_ID")
    iam_b = aws_client_in_second_account("iam")
    host = issuer.removeprefix("https://")
    provider = f"arn:aws:iam::{second}:oidc-provider/{host}"
    created = provider not in [p["Arn"] for p in iam_b.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    if created:
        assert iam_b.create_open_id_connect_provider(
            Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"] == \
            provider
    make_sa(core, namespace, "app-sa")
    sub = f"system:serviceaccount:{namespace}:app-sa"
    suffix = uuid.uuid4().hex[:6]
    roles = [iam_b.create_role(RoleName=f"e2e-b-{suffix}", AssumeRolePolicyDocument=_trust(provider, host, sub)),
             # a trust naming the first account's provider for this issuer, not the second's
             iam_b.create_role(RoleName=f"e2e-b-a-{suffix}", AssumeRolePolicyDocument=_trust(
                 f"arn:aws:iam::{first}:oidc-provider/{host}", host, sub))]
    mine, wrong = (r["Role"] for r in roles)
    try:
        token = token_for(core, namespace, "app-sa")
        sts = aws_client("sts")
        out = sts.assume_role_with_web_identity(RoleArn=mine["Arn"], RoleSessionName="e2e-b", WebIdentityToken=token)
        who = aws_client("sts", **_keys(out["Credentials"])).get_caller_identity()
        assert who["Account"] == second
        assert who["Arn"] == out["AssumedRoleUser"]["Arn"] == \
            f"arn:aws:sts::{second}:assumed-role/{mine['RoleName']}/e2e-b"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=wrong["Arn"], RoleSessionName="e2e-b", WebIdentityToken=token)
        assert e.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        for r in (mine, wrong):
            iam_b.delete_role(RoleName=r["RoleName"])
        if created:
            iam_b.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)


# --- pods run: kube-scheduler binds them to kwok's fake nodes, kwok plays the kubelet ---

KWOK_NODES = {"kwok-node-0", "kwok-node-1"}


def is_running_ready(pod):
    conds = {c.type: c.status for c in (pod.status.conditions or [])}
    return (pod.metadata.deletion_timestamp is None and pod.status.phase == "Running"
            and conds.get("Ready") == "True" and conds.get("PodScheduled") == "True")


def running_pods(core, ns, app, n, timeout=60, exclude_uids=()):
    """Wait for exactly n pods of app, none of exclude_uids, all Running and Ready on a fake node."""
    def ok():
        pods = core.list_namespaced_pod(ns, label_selector=f"app={app}").items
        if len(pods) != n or any(p.metadata.uid in exclude_uids for p in pods):
            return None
        return pods if all(is_running_ready(p) for p in pods) else None
    return wait_until(ok, timeout, f"{n} Running/Ready pods of {app}")


def rollout_complete(apps, ns, name, replicas, timeout=90):
    """What `kubectl rollout status` checks: the new ReplicaSet has every replica, available, none old left."""
    def ok():
        d = apps.read_namespaced_deployment(name, ns)
        s = d.status
        done = (s.observed_generation or 0) >= d.metadata.generation and \
            (s.updated_replicas or 0) == replicas and (s.replicas or 0) == replicas and \
            (s.available_replicas or 0) == replicas and (s.ready_replicas or 0) == replicas
        return d if done else None
    return wait_until(ok, timeout, f"rollout of deployment {name}")


def test_deployment_pods_are_scheduled_to_fake_nodes_and_run(core, apps, namespace):
    nodes = {n.metadata.name: n for n in core.list_node(label_selector="keyless.dev/kwok=true").items}
    assert set(nodes) == KWOK_NODES
    for n in nodes.values():
        assert n.metadata.annotations["kwok.x-k8s.io/node"] == "fake"
        assert n.metadata.labels["kubernetes.io/os"] == "linux"
        assert "eks.amazonaws.com/compute-type" not in n.metadata.labels
        assert {c.type: c.status for c in n.status.conditions}["Ready"] == "True"
        assert parse_quantity(n.status.allocatable["pods"]) == 1000
    # kwok keeps a node Lease like a kubelet, so the node lifecycle controller keeps the node Ready
    leases = client.CoordinationV1Api().list_namespaced_lease("kube-node-lease").items
    assert KWOK_NODES <= {lease.metadata.name for lease in leases}

    make_sa(core, namespace, "plain-sa")
    make_deployment(apps, namespace, "web", "plain-sa", replicas=4)
    pods = running_pods(core, namespace, "web", 4)
    for p in pods:
        assert p.spec.node_name in KWOK_NODES
        assert p.spec.scheduler_name == "default-scheduler"
        assert p.status.container_statuses[0].ready and p.status.container_statuses[0].state.running
        assert p.status.pod_ip and p.status.host_ip == "127.0.0.1"
    d = rollout_complete(apps, namespace, "web", 4)
    assert {c.type: c.status for c in d.status.conditions}["Available"] == "True"


def test_rollout_restart_completes_and_new_pods_pass_admission(core, apps, namespace):
    make_sa(core, namespace, "app-sa")
    make_deployment(apps, namespace, "api", "app-sa", replicas=3)
    rollout_complete(apps, namespace, "api", 3)
    old = running_pods(core, namespace, "api", 3)
    assert all("AWS_ROLE_ARN" not in env_of(p.spec.containers[0]) for p in old)
    old_uids = {p.metadata.uid for p in old}

    # What keyless does: annotate the service account, then restart the pods
    # that started before the annotation.
    arn = f"arn:aws:iam::123456789012:role/e2e-restart-{namespace}"
    core.patch_namespaced_service_account("app-sa", namespace,
                                          {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": arn}}})
    # The webhook reads service accounts from a watch-fed cache: wait until a
    # dry-run pod CREATE (admitted through the webhook, never stored) shows it.
    probe = client.V1Pod(metadata=client.V1ObjectMeta(name="probe"), spec=client.V1PodSpec(
        service_account_name="app-sa", containers=[client.V1Container(name="c", image="example.invalid/x")]))
    wait_until(lambda: env_of(core.create_namespaced_pod(namespace, probe, dry_run="All").spec.containers[0])
               .get("AWS_ROLE_ARN") == arn, 30, "the webhook to see the annotation")

    # kubectl rollout restart's patch
    restarted_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    apps.patch_namespaced_deployment("api", namespace, {"spec": {"template": {"metadata": {
        "annotations": {"kubectl.kubernetes.io/restartedAt": restarted_at}}}}})
    rollout_complete(apps, namespace, "api", 3)
    new = running_pods(core, namespace, "api", 3, exclude_uids=old_uids)
    rs = {r.metadata.name: r for r in apps.list_namespaced_replica_set(namespace, label_selector="app=api").items}
    assert len(rs) == 2
    for p in new:
        assert p.metadata.annotations["kubectl.kubernetes.io/restartedAt"] == restarted_at
        owner = p.metadata.owner_references[0]
        assert owner.kind == "ReplicaSet" and rs[owner.name].spec.replicas == 3
        e = env_of(p.spec.containers[0])
        assert e["AWS_ROLE_ARN"] == arn
        assert e["AWS_WEB_IDENTITY_TOKEN_FILE"] == TOKEN_PATH
        assert "aws-iam-token" in {v.name for v in p.spec.volumes}
    # the old ReplicaSet was scaled to zero and its pods are gone
    assert sorted(r.spec.replicas for r in rs.values()) == [0, 3]
    assert not {p.metadata.uid for p in core.list_namespaced_pod(namespace).items} & old_uids


def test_job_pod_completes(core, namespace):
    batch = client.BatchV1Api()
    batch.create_namespaced_job(namespace, client.V1Job(
        metadata=client.V1ObjectMeta(name="once"),
        spec=client.V1JobSpec(backoff_limit=0, template=client.V1PodTemplateSpec(spec=client.V1PodSpec(
            restart_policy="Never", containers=[client.V1Container(name="c", image="example.invalid/x")])))))

    def complete():
        j = batch.read_namespaced_job("once", namespace)
        conds = {c.type: c.status for c in (j.status.conditions or [])}
        return j if conds.get("Complete") == "True" else None
    j = wait_until(complete, 60, "job once to complete")
    assert j.status.succeeded == 1 and not j.status.failed
    pods = core.list_namespaced_pod(namespace, label_selector="job-name=once").items
    assert len(pods) == 1
    assert pods[0].status.phase == "Succeeded"
    assert pods[0].spec.node_name in KWOK_NODES
    term = pods[0].status.container_statuses[0].state.terminated
    assert term.exit_code == 0 and term.reason == "Completed"


def test_deleted_pod_is_replaced_and_runs(core, apps, namespace):
    make_sa(core, namespace, "plain-sa")
    make_deployment(apps, namespace, "worker", "plain-sa", replicas=2)
    pods = running_pods(core, namespace, "worker", 2)
    victim = pods[0]
    # a graceful delete, as kubectl does: the apiserver sets deletionTimestamp,
    # kwok (the "kubelet") finishes it, the ReplicaSet controller replaces it
    core.delete_namespaced_pod(victim.metadata.name, namespace)
    after = running_pods(core, namespace, "worker", 2, exclude_uids={victim.metadata.uid})
    assert pods[1].metadata.uid in {p.metadata.uid for p in after}
    rollout_complete(apps, namespace, "worker", 2)
