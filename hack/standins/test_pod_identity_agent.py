"""Tests of pod_identity_agent.py, the EKS Pod Identity Agent stand-in, with
botocore's container credential provider as the client (what every AWS SDK in
a pod does with AWS_CONTAINER_CREDENTIALS_FULL_URI and
AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE), against the real STS front's EKS Auth
endpoint and moto (the fixtures of test_eks_auth.py).

    $KEYLESS_PY -m pytest -q hack/standins/test_pod_identity_agent.py
"""

import datetime
import os
import select
import subprocess
import sys

import pytest
import requests
from botocore.credentials import ContainerProvider
from botocore.exceptions import CredentialRetrievalError

from test_eks_auth import (ACCOUNT, MINTED, associate, aws, front, issuer, mint, moto, ns,  # noqa: F401
                           ns_sa_condition, pod_trust, role)
from test_sts_front import HERE, free_port, stop

CLUSTER = "c1"


def start_agent(moto, endpoint, log_file):
    key, secret = moto["keys"]["agent"]
    env = dict(os.environ, POD_IDENTITY_AGENT_AWS_ACCESS_KEY_ID=key, POD_IDENTITY_AGENT_AWS_SECRET_ACCESS_KEY=secret)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "pod_identity_agent.py"), "--listen", f"127.0.0.1:{port}",
         "--cluster-name", CLUSTER, "--endpoint", endpoint, "--region", "us-east-1", "--log-file", str(log_file)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline().strip() if ready else ""
    assert line == f"pod-identity-agent listening on http://127.0.0.1:{port}", line
    return proc, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def agent(moto, front, tmp_path_factory):
    log_file = tmp_path_factory.mktemp("agent") / "agent.log"
    proc, url = start_agent(moto, front["url"], log_file)
    try:
        yield {"url": url, "log": log_file}
    finally:
        rc = stop(proc)
    assert rc == 0, "the agent did not exit cleanly on SIGTERM"


def provider(agent, token_file):
    return ContainerProvider(environ={"AWS_CONTAINER_CREDENTIALS_FULL_URI": agent["url"] + "/v1/credentials",
                                      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token_file)})


def get(agent, token=None, host=None):
    headers = {} if token is None else {"Authorization": token}
    if host:
        headers["Host"] = host
    return requests.get(agent["url"] + "/v1/credentials", headers=headers, timeout=30)


def test_sdk_gets_the_roles_credentials(agent, moto, role, mint, ns, tmp_path):
    arn = role(pod_trust(ns_sa_condition(ns)))
    associate(moto, ns, "app", arn)
    token_file = tmp_path / "eks-pod-identity-token"
    token_file.write_text(mint(ns))
    creds = provider(agent, token_file).load().get_frozen_credentials()
    me = aws("sts", moto, creds=(creds.access_key, creds.secret_key, creds.token)).get_caller_identity()
    assert me["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{arn.split('/')[-1]}/eks-{CLUSTER}-app-")


def test_answer_shape(agent, moto, role, mint, ns):
    associate(moto, ns, "app", role(pod_trust()))
    r = get(agent, mint(ns))
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    body = r.json()
    assert set(body) == {"AccessKeyId", "SecretAccessKey", "Token", "AccountId", "Expiration"}
    assert body["AccountId"] == ACCOUNT
    exp = datetime.datetime.strptime(body["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert exp > datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)


def test_link_local_host_accepted_other_host_refused(agent, moto, role, mint, ns):
    associate(moto, ns, "app", role(pod_trust()))
    assert get(agent, mint(ns), host="169.254.170.23").status_code == 200
    r = get(agent, mint(ns), host="example.com:80")
    assert r.status_code == 403 and r.text.startswith("Access Denied. Called agent through invalid address")


@pytest.mark.parametrize("token,why", [
    (None, "Service account token cannot be empty"),
    ("", "Service account token cannot be empty"),
    ("not-a-jwt", "Service account token cannot be parsed"),
])
def test_missing_or_unparseable_token(agent, token, why):
    r = get(agent, token)
    assert r.status_code == 400 and r.text.startswith(why)


def test_expired_token_refused_before_eks_auth(agent, mint, ns):
    r = get(agent, mint(ns, exp_in=-5))
    assert r.status_code == 400 and "failed basic claim validations: token is expired" in r.text


def test_eks_auth_refusals_pass_through(agent, moto, role, mint, ns, tmp_path):
    associate(moto, ns, "denied", role(pod_trust(ns_sa_condition("production", "denied"))))
    r = get(agent, mint(ns, sa="denied"))
    assert r.status_code == 400 and "(AccessDeniedException): Unable to assume role" in r.text
    r = get(agent, mint(ns, sa="nobody"))  # no association
    assert r.status_code == 404 and "(ResourceNotFoundException)" in r.text and "fault: client" in r.text
    r = get(agent, mint(ns, sa="denied", aud="sts.amazonaws.com"))
    assert r.status_code == 400 and "(InvalidTokenException)" in r.text
    # what the SDK makes of it: no credentials
    token_file = tmp_path / "token"
    token_file.write_text(mint(ns, sa="nobody"))
    with pytest.raises(CredentialRetrievalError):
        provider(agent, token_file).load().get_frozen_credentials()


def test_eks_auth_unreachable_is_500(moto, mint, ns, tmp_path):
    proc, url = start_agent(moto, f"http://127.0.0.1:{free_port()}", tmp_path / "agent.log")
    try:
        r = get({"url": url}, mint(ns))
        assert r.status_code == 500 and "unable to fetch credentials from EKS Auth" in r.text
    finally:
        stop(proc)


def test_other_paths_and_health(agent):
    assert requests.get(agent["url"] + "/healthz", timeout=5).text == "ok\n"
    assert requests.get(agent["url"] + "/v2/credentials", timeout=5).status_code == 404


def test_log_never_holds_a_token(agent):
    text = agent["log"].read_text()
    assert "credentials for " in text and "error fetching credentials: 404" in text
    for token in MINTED:
        for part in token.split("."):
            assert len(part) < 16 or part not in text
