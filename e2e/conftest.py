"""Shared fixtures for the end-to-end tests.

The tests run against the local control plane that `hack/local-cluster up`
starts (hack/e2e does that, then runs pytest with the cluster's env file
sourced). Nothing here starts servers.
"""

import base64
import json
import os
import ssl
import time
import urllib.request
import uuid

import boto3
import pytest
from kubernetes import client, config


def env(name):
    v = os.environ.get(name)
    if not v:
        pytest.exit(f"{name} is not set: run the e2e tests through `make e2e` (hack/e2e)", returncode=2)
    return v


@pytest.fixture(scope="session")
def issuer():
    return env("KEYLESS_ISSUER")


@pytest.fixture(scope="session")
def ca_file():
    return env("KEYLESS_CA_FILE")


@pytest.fixture(scope="session")
def kube():
    config.load_kube_config(config_file=env("KUBECONFIG"))
    return client.ApiClient()


@pytest.fixture(scope="session")
def core(kube):
    return client.CoreV1Api(kube)


@pytest.fixture(scope="session")
def apps(kube):
    return client.AppsV1Api(kube)


@pytest.fixture
def namespace(core):
    """A fresh namespace per test, deleted afterwards."""
    name = "e2e-" + uuid.uuid4().hex[:8]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    # the service-account controller creates "default" asynchronously
    wait_until(lambda: _sa_exists(core, name, "default"), 30, "default service account")
    yield name
    core.delete_namespace(name)


def _sa_exists(core, ns, name):
    try:
        core.read_namespaced_service_account(name, ns)
        return True
    except client.ApiException as e:
        if e.status == 404:
            return False
        raise


def wait_until(fn, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def aws_client(service, **kw):
    """boto3 client for the local AWS: moto, and for STS the STS front."""
    endpoint = os.environ["AWS_ENDPOINT_URL_STS"] if service == "sts" else os.environ["AWS_ENDPOINT_URL"]
    return boto3.client(service, endpoint_url=endpoint, region_name=os.environ["AWS_REGION"], **kw)


def aws_client_in_second_account(service, **kw):
    """boto3 client with admin rights in the second account ($KEYLESS_SECOND_ACCOUNT): the test admin
    user assumes $KEYLESS_SECOND_ACCOUNT_ADMIN_ROLE (through the STS front, which relays AssumeRole to
    moto); moto, and for STS the STS front, as aws_client."""
    c = aws_client("sts").assume_role(RoleArn=env("KEYLESS_SECOND_ACCOUNT_ADMIN_ROLE"),
                                      RoleSessionName="e2e-" + uuid.uuid4().hex[:8])["Credentials"]
    return aws_client(service, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                      aws_session_token=c["SessionToken"], **kw)


def token_for(core, ns, sa, audience="sts.amazonaws.com", seconds=3600):
    """A service-account token from the TokenRequest API (what the kubelet mounts)."""
    tr = client.AuthenticationV1TokenRequest(
        spec=client.V1TokenRequestSpec(audiences=[audience], expiration_seconds=seconds))
    return core.create_namespaced_service_account_token(sa, ns, tr).status.token


def jwt_claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def https_get_json(url, ca_file):
    """GET without any client credentials (anonymous), trusting the cluster CA."""
    ctx = ssl.create_default_context(cafile=ca_file)
    with urllib.request.urlopen(url, context=ctx, timeout=10) as r:
        return json.load(r)
