"""Tests of hack/cluster/moto_server.py: the EKS issuer setting and the
empty-body signature fix, against moto started exactly as local-cluster does."""

import json
import os
import socket
import subprocess
import sys
import time

import boto3
import botocore.config
import botocore.exceptions
import botocore.parsers
import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ISSUER = "https://127.0.0.1:6443"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(launcher_args, env_extra):
    port = free_port()
    env = dict(os.environ, **env_extra)
    p = subprocess.Popen([sys.executable, *launcher_args, "-H", "127.0.0.1", "-p", str(port)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            requests.get(url + "/moto-api/data.json", timeout=1)
            return p, url
        except requests.ConnectionError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError("moto did not start")


def bootstrap(url):
    anon = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    iam = boto3.client("iam", **anon)
    iam.create_user(UserName="admin")
    iam.put_user_policy(UserName="admin", PolicyName="p", PolicyDocument=json.dumps(ADMIN))
    key = iam.create_access_key(UserName="admin")["AccessKey"]
    boto3.client("eks", **anon).create_cluster(name="c1", roleArn="arn:aws:iam::123456789012:role/r",
                                               resourcesVpcConfig={"subnetIds": ["s"]})
    requests.post(url + "/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
    return dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id=key["AccessKeyId"],
                aws_secret_access_key=key["SecretAccessKey"])


@pytest.fixture
def launched():
    p, url = start([os.path.join(HERE, "moto_server.py")], {"KEYLESS_EKS_ISSUER": ISSUER})
    yield url
    p.terminate()
    p.wait(10)


@pytest.fixture
def plain_moto():
    p, url = start(["-m", "moto.server"], {})
    yield url
    p.terminate()
    p.wait(10)


def test_describe_cluster_reports_configured_issuer_with_auth_on(launched):
    creds = bootstrap(launched)
    eks = boto3.client("eks", **creds)
    assert eks.list_clusters()["clusters"] == ["c1"]
    assert eks.list_clusters(maxResults=10)["clusters"] == ["c1"]  # GET with a query string
    assert eks.describe_cluster(name="c1")["cluster"]["identity"]["oidc"]["issuer"] == ISSUER


def test_signature_still_checked_for_rest_get(launched):
    creds = bootstrap(launched)
    bad = boto3.client("eks", **dict(creds, aws_secret_access_key="wrong"))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.list_clusters()
    # moto answers auth errors in Query-XML even for REST-JSON services, so
    # botocore cannot parse the code; the body names it.
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in str(e.value)
    # and Query-protocol POSTs (IAM) are checked as before
    with pytest.raises(botocore.exceptions.ClientError) as e:
        boto3.client("iam", **dict(creds, aws_secret_access_key="wrong")).list_users()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert "Users" in boto3.client("iam", **creds).list_users()


def test_unpatched_moto_rejects_correctly_signed_rest_get(plain_moto):
    """The bug the launcher corrects. If this starts failing, moto fixed it
    upstream and fix_empty_body_signatures() can go."""
    creds = bootstrap(plain_moto)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        boto3.client("eks", **creds).list_clusters()
    assert "<Code>SignatureDoesNotMatch</Code>" in str(e.value)


def test_oidc_client_ids_added_and_removed_with_auth_on(launched):
    iam = boto3.client("iam", **bootstrap(launched))
    arn = iam.create_open_id_connect_provider(Url="https://issuer.example/x", ClientIDList=["sts.amazonaws.com"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="https://k.svc")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="https://k.svc")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == [
        "sts.amazonaws.com", "https://k.svc"]
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="https://k.svc")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="absent")
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == ["sts.amazonaws.com"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn + "nope", ClientID="a")
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="a" * 256)
    assert e.value.response["Error"]["Code"] == "ValidationError"


def test_unpatched_moto_lacks_oidc_client_id_actions(plain_moto):
    """If this starts failing, moto implements them and add_oidc_client_id_actions() can go."""
    iam = boto3.client("iam", **bootstrap(plain_moto),
                       config=botocore.config.Config(retries={"total_max_attempts": 1}))
    arn = iam.create_open_id_connect_provider(Url="https://issuer.example/x", ClientIDList=["a"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    # moto answers an HTML 500 page for an action it does not implement
    with pytest.raises(botocore.parsers.ResponseParserError, match="500 Internal Server Error"):
        iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="b")


def _assume_role_world(url):
    """admin -> role `first` (path /team/) -> role `target` that trusts `first`
    by its role ARN, as AWS documents role chaining; `service` trusts only an
    AWS service. Returns (admin creds, sts client maker)."""
    creds = bootstrap(url)
    iam = boto3.client("iam", **creds)
    admin_arn = boto3.client("sts", **creds).get_caller_identity()["Arn"]

    def role(name, principal, path="/"):
        doc = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
        return iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]

    first = role("first", {"AWS": admin_arn}, "/team/")
    iam.put_role_policy(RoleName="first", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["sts:AssumeRole", "iam:ListRoles", "iam:ListUsers"], "Resource": "*"}]}))
    role("target", {"AWS": first})
    role("service", {"Service": "pods.eks.amazonaws.com"})
    return creds, first


def _session(creds, role_arn, **kw):
    c = boto3.client("sts", **creds, config=botocore.config.Config(retries={"total_max_attempts": 1})).assume_role(
        RoleArn=role_arn, RoleSessionName="s1", **kw)["Credentials"]
    return dict(creds, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                aws_session_token=c["SessionToken"])


def _code(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    return e.value.response["Error"]["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


ONLY_LIST_ROLES = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]})


def test_role_chaining_trust_and_session_policy(launched):
    creds, first = _assume_role_world(launched)
    first_session = _session(creds, first)
    target = _session(first_session, "arn:aws:iam::123456789012:role/target")  # trusted by role ARN
    assert boto3.client("sts", **target).get_caller_identity()["Arn"] == \
        "arn:aws:sts::123456789012:assumed-role/target/s1"
    # a service principal never matches an IAM caller (plain moto: a 500)
    assert _code(_session, creds=creds, role_arn="arn:aws:iam::123456789012:role/service")[0] == "AccessDenied"
    # a session policy narrows the role's permissions
    limited = boto3.client("iam", **_session(creds, first, Policy=ONLY_LIST_ROLES))
    limited.list_roles()
    assert _code(limited.list_users) == ("AccessDenied", 403)
    boto3.client("iam", **first_session).list_users()


def test_unpatched_moto_role_chaining_and_session_policy(plain_moto):
    """If this starts failing, moto fixed it and fix_assume_role_checks() can go."""
    creds, first = _assume_role_world(plain_moto)
    first_session = _session(creds, first)
    assert _code(_session, creds=first_session, role_arn="arn:aws:iam::123456789012:role/target")[0] == \
        "AccessDenied"
    boto3.client("iam", **_session(creds, first, Policy=ONLY_LIST_ROLES)).list_users()  # not applied
