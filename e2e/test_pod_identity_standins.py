"""EKS Pod Identity through the local world, end to end, without keyless:
an association created in moto's EKS reaches the pod identity webhook's file
(moto rewrites it, as the EKS control plane does), a pod of that service
account gets the container-credentials injection from AWS's webhook, and the
agent stand-in ($KEYLESS_POD_IDENTITY_AGENT) exchanges a real token of that
pod (TokenRequest bound to the pod, audience pods.eks.amazonaws.com) for the
role's credentials through the STS front's EKS Auth; another service account
of the namespace gets EKS Auth's refusal.

Pods are injected with EKS's URI, http://169.254.170.23/v1/credentials; no
process can bind that address here, so the test sends the request to the
agent's loopback port with the same path (as a node routes the link-local
address to its agent).
"""

import json
import os
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from botocore.credentials import ContainerProvider
from kubernetes import client

from conftest import aws_client, wait_until

AUD = "pods.eks.amazonaws.com"
CLUSTER = os.environ.get("KEYLESS_CLUSTER_NAME", "keyless-local")


def webhook_identities():
    path = os.path.join(os.environ["KEYLESS_CLUSTER_DIR"], "webhook", "pod-identity-associations.json")
    with open(path) as f:
        return json.load(f)["identities"]


def container_env(pod):
    return {e.name: e.value for e in pod.spec.containers[0].env or []}


def pod_body(name, sa):
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=client.V1PodSpec(
        service_account_name=sa, containers=[client.V1Container(name="main", image="example.invalid/app:1")]))


def pod_token(core, ns, sa, pod):
    """The token a kubelet projects for the pod's eks-pod-identity-token volume."""
    tr = client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
        audiences=[AUD], expiration_seconds=3600,
        bound_object_ref=client.V1BoundObjectReference(api_version="v1", kind="Pod", name=pod.metadata.name,
                                                       uid=pod.metadata.uid)))
    return core.create_namespaced_service_account_token(sa, ns, tr).status.token


@pytest.fixture
def world(core, namespace):
    iam, eks = aws_client("iam"), aws_client("eks")
    for sa in ("app", "other"):
        core.create_namespaced_service_account(namespace, client.V1ServiceAccount(
            metadata=client.V1ObjectMeta(name=sa)))
    role_name = "pi-standins-" + uuid.uuid4().hex[:8]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": AUD}, "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {"aws:RequestTag/kubernetes-namespace": namespace,
                                       "aws:RequestTag/kubernetes-service-account": "app",
                                       "aws:RequestTag/eks-cluster-name": CLUSTER}}}]}
    role_arn = iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    assoc = eks.create_pod_identity_association(clusterName=CLUSTER, namespace=namespace, serviceAccount="app",
                                                roleArn=role_arn)["association"]
    try:
        yield {"ns": namespace, "role": role_arn, "association": assoc, "eks": eks}
    finally:
        try:
            eks.delete_pod_identity_association(clusterName=CLUSTER, associationId=assoc["associationId"])
        except eks.exceptions.ResourceNotFoundException:
            pass
        iam.delete_role(RoleName=role_name)


def test_association_to_injection_to_agent_credentials(core, world, tmp_path):
    ns = world["ns"]
    wait_until(lambda: {"namespace": ns, "serviceAccount": "app"} in webhook_identities(), 10,
               "moto to write the association into the webhook's file")
    # the webhook reloads the file on change: dry-run until it injects
    wait_until(lambda: "AWS_CONTAINER_CREDENTIALS_FULL_URI" in container_env(
        core.create_namespaced_pod(ns, pod_body("probe", "app"), dry_run="All")), 30,
        "the webhook to load the association")
    pod = core.create_namespaced_pod(ns, pod_body("app-0", "app"))
    env = container_env(pod)
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == "http://169.254.170.23/v1/credentials"
    assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] == \
        "/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
    assert "AWS_ROLE_ARN" not in env
    volume = next(v for v in pod.spec.volumes if v.name == "eks-pod-identity-token")
    assert volume.projected.sources[0].service_account_token.audience == AUD

    # what the SDK in that container does, with the agent standing at the injected path
    agent_uri = os.environ["KEYLESS_POD_IDENTITY_AGENT"] + urlsplit(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]).path
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text(pod_token(core, ns, "app", pod))
    creds = ContainerProvider(environ={"AWS_CONTAINER_CREDENTIALS_FULL_URI": agent_uri,
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file)}).load()
    creds = creds.get_frozen_credentials()
    me = aws_client("sts", aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
                    aws_session_token=creds.token).get_caller_identity()
    role_name = world["role"].split("/")[-1]
    assert me["Arn"].startswith(f"arn:aws:sts::{me['Account']}:assumed-role/{role_name}/eks-{CLUSTER}-app-0-")

    # another service account of the namespace: no association, EKS Auth refuses
    other = core.create_namespaced_pod(ns, pod_body("other-0", "other"))
    assert "AWS_CONTAINER_CREDENTIALS_FULL_URI" not in container_env(other)
    r = requests.get(agent_uri, headers={"Authorization": pod_token(core, ns, "other", other)}, timeout=30)
    assert r.status_code == 404 and "(ResourceNotFoundException)" in r.text

    # deleting the association takes the service account out of the webhook's file
    world["eks"].delete_pod_identity_association(clusterName=CLUSTER,
                                                 associationId=world["association"]["associationId"])
    assert {"namespace": ns, "serviceAccount": "app"} not in webhook_identities()
