"""Tests of the EKS Auth AssumeRoleForPodIdentity endpoint of sts_front.py,
with botocore's `eks-auth` client, no Kubernetes needed.

    $KEYLESS_PY -m pytest -q hack/standins/test_eks_auth.py

Starts for the module: hack/cluster/moto_server.py (the local moto, with the
pod identity association routes and its EKS cluster's issuer set to a fake
HTTPS issuer run here, as local-cluster does with the apiserver's), signature
checking on, and sts_front.py as a subprocess. Pod tokens are minted with
PyJWT, shaped as a kubelet's projected service account tokens (sub, aud,
kubernetes.io claims of the pod). Roles, associations and checks go through
moto with boto3.
"""

import json
import os
import subprocess
import sys
import time
import uuid

import boto3
import jwt
import pytest
import requests
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa

from test_sts_front import HERE, free_port, issuer, run_front, stop, wait_http  # noqa: F401 (issuer: a fixture)

ACCOUNT = "123456789012"
CLUSTER = "c1"
AUD = "pods.eks.amazonaws.com"
CLUSTER_DIR = os.path.join(os.path.dirname(HERE), "cluster")
sys.path.insert(0, CLUSTER_DIR)
import bootstrap_aws  # noqa: E402  (the front's policy, as local-cluster gives it)

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
AGENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "eks-auth:AssumeRoleForPodIdentity",
                                                 "Resource": "*"}]}
RAW = Config(parameter_validation=False, retries={"total_max_attempts": 1})
MINTED = []


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def moto(issuer, tmp_path_factory):
    port = free_port()
    out = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "INITIAL_NO_AUTH"))}
    env["KEYLESS_EKS_ISSUER"] = issuer.iss
    proc = subprocess.Popen([sys.executable, os.path.join(CLUSTER_DIR, "moto_server.py"),
                             "-H", "127.0.0.1", "-p", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/moto-api/")
        anon = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="boot", aws_secret_access_key="boot")
        iam = boto3.client("iam", **anon)
        keys = {}
        for user, policy in (("sts-front", bootstrap_aws.FRONT_POLICY), ("admin", ADMIN), ("agent", AGENT)):
            iam.create_user(UserName=user)
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
            k = iam.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
        cluster = boto3.client("eks", **anon).create_cluster(
            name=CLUSTER, roleArn=f"arn:aws:iam::{ACCOUNT}:role/cluster",
            resourcesVpcConfig={"subnetIds": ["s"]})["cluster"]
        assert cluster["identity"]["oidc"]["issuer"] == issuer.iss
        second = bootstrap_aws.second_account(anon)
        requests.post(url + "/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
        yield {"url": url, "keys": keys, "cluster_arn": cluster["arn"], "second": second}
    finally:
        stop(proc)
        out.close()


@pytest.fixture(scope="module")
def front(moto, issuer, tmp_path_factory):
    """As local-cluster runs it: other accounts read through their keyless-test-admin role."""
    yield from run_front(moto, issuer, tmp_path_factory, "--account-role", bootstrap_aws.SECOND_ADMIN_ROLE)


def aws(svc, moto, user="admin", creds=None):
    c = creds or moto["keys"][user]
    return boto3.client(svc, endpoint_url=moto["url"], region_name="us-east-1",
                        **dict(zip(("aws_access_key_id", "aws_secret_access_key", "aws_session_token"), c)))


@pytest.fixture(scope="module")
def eks_auth(front, moto):
    key, secret = moto["keys"]["agent"]
    return boto3.client("eks-auth", endpoint_url=front["url"], region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, config=RAW)


@pytest.fixture
def ns():
    return "ns-" + uuid.uuid4().hex[:8]


def pod_trust(conditions=None, actions=("sts:AssumeRole", "sts:TagSession")):
    st = {"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": list(actions)}
    if conditions:
        st["Condition"] = conditions
    return [st]


@pytest.fixture
def role(moto):
    """role(statements, permissions=None) -> role ARN."""
    def make(statements, permissions=None):
        iam = aws("iam", moto)
        name = "r-" + uuid.uuid4().hex[:12]
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": statements}))["Role"]["Arn"]
        if permissions:
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": permissions}))
        return arn
    return make


def associate(moto, ns, sa, role_arn, **kw):
    return aws("eks", moto).create_pod_identity_association(
        clusterName=CLUSTER, namespace=ns, serviceAccount=sa, roleArn=role_arn, **kw)["association"]


@pytest.fixture
def mint(issuer):
    def make(ns, sa="app", aud=AUD, exp_in=600, key=None, iss=None, pod=True):
        now = int(time.time())
        k8s = {"namespace": ns, "serviceaccount": {"name": sa, "uid": str(uuid.uuid4())}}
        if pod:
            k8s["pod"] = {"name": f"{sa}-7d9f8-x2k4q", "uid": str(uuid.uuid4())}
        claims = {"iss": iss or issuer.iss, "sub": f"system:serviceaccount:{ns}:{sa}", "aud": aud,
                  "iat": now - 5, "nbf": now - 5, "exp": now + exp_in, "kubernetes.io": k8s}
        token = jwt.encode(claims, key or issuer.rsa, algorithm="RS256", headers={"kid": "k1"})
        MINTED.append(token)
        return token
    return make


def error(eks_auth, token, cluster=CLUSTER):
    with pytest.raises(ClientError) as e:
        eks_auth.assume_role_for_pod_identity(clusterName=cluster, token=token)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def whoami(moto, out):
    c = out["credentials"]
    return aws("sts", moto, creds=(c["accessKeyId"], c["secretAccessKey"], c["sessionToken"])).get_caller_identity()


def ns_sa_condition(ns, sa="app"):
    return {"StringEquals": {"aws:RequestTag/kubernetes-namespace": ns,
                             "aws:RequestTag/kubernetes-service-account": sa,
                             "aws:RequestTag/eks-cluster-name": CLUSTER}}


# ---------------------------------------------------------------- tests

def test_right_role_gets_working_credentials(eks_auth, moto, role, mint, ns):
    arn = role(pod_trust(ns_sa_condition(ns)))
    a = associate(moto, ns, "app", arn)
    out = eks_auth.assume_role_for_pod_identity(clusterName=CLUSTER, token=mint(ns))
    assert out["subject"] == {"namespace": ns, "serviceAccount": "app"}
    assert out["audience"] == AUD
    assert out["podIdentityAssociation"] == {"associationArn": a["associationArn"],
                                             "associationId": a["associationId"]}
    name = arn.split("/")[-1]
    session = out["assumedRoleUser"]["arn"].split("/")[-1]
    assert out["assumedRoleUser"]["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}"
    assert session.startswith(f"eks-{CLUSTER}-app-7d9f8-x2k4q-") and len(session) <= 64
    role_id = aws("iam", moto).get_role(RoleName=name)["Role"]["RoleId"]
    assert out["assumedRoleUser"]["assumeRoleId"] == f"{role_id}:{session}"
    assert out["credentials"]["expiration"].timestamp() > time.time() + 600  # botocore parsed a timestamp
    assert whoami(moto, out)["Arn"] == out["assumedRoleUser"]["arn"]


def test_session_tags_as_request_tags(eks_auth, moto, role, mint, ns):
    """Every tag EKS sets is in the request context, with its value."""
    tags = {"StringEquals": {"aws:RequestTag/eks-cluster-arn": moto["cluster_arn"]},
            "StringLike": {"aws:RequestTag/kubernetes-pod-name": "app-*",
                           "aws:RequestTag/kubernetes-pod-uid": "*-*-*-*-*"},
            "ForAllValues:StringEquals": {"aws:TagKeys": [
                "eks-cluster-arn", "eks-cluster-name", "kubernetes-namespace", "kubernetes-service-account",
                "kubernetes-pod-name", "kubernetes-pod-uid"]}}
    associate(moto, ns, "app", role(pod_trust(tags)))
    assert eks_auth.assume_role_for_pod_identity(clusterName=CLUSTER, token=mint(ns))["credentials"]


def test_wrong_audience(eks_auth, moto, role, mint, ns):
    associate(moto, ns, "app", role(pod_trust()))
    code, status, msg = error(eks_auth, mint(ns, aud="sts.amazonaws.com"))
    assert (code, status) == ("InvalidTokenException", 400) and AUD in msg


def test_expired_token(eks_auth, moto, role, mint, ns):
    associate(moto, ns, "app", role(pod_trust()))
    code, status, msg = error(eks_auth, mint(ns, exp_in=-60))
    assert (code, status) == ("ExpiredTokenException", 400) and msg.startswith("Token expired")


def test_token_of_another_key_or_issuer_or_not_a_pod(eks_auth, moto, role, mint, issuer, ns):
    associate(moto, ns, "app", role(pod_trust()))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert error(eks_auth, mint(ns, key=other))[:2] == ("InvalidTokenException", 400)
    assert error(eks_auth, mint(ns, iss=issuer.url + "/second"))[:2] == ("InvalidTokenException", 400)
    assert error(eks_auth, mint(ns, pod=False))[:2] == ("InvalidTokenException", 400)
    assert error(eks_auth, "a.b.c")[:2] == ("InvalidTokenException", 400)


def test_service_account_without_association(eks_auth, moto, role, mint, ns):
    associate(moto, ns, "app", role(pod_trust()))
    code, status, _ = error(eks_auth, mint("other-" + ns))  # same SA name, another namespace
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert error(eks_auth, mint(ns, sa="other"))[:2] == ("ResourceNotFoundException", 404)


def test_unknown_cluster_and_bad_parameters(eks_auth, mint, ns):
    assert error(eks_auth, mint(ns), cluster="nope")[:2] == ("ResourceNotFoundException", 404)
    assert error(eks_auth, mint(ns), cluster="-bad")[:2] == ("InvalidParameterException", 400)


def test_unsigned_request_refused(front, mint, ns):
    c = boto3.client("eks-auth", endpoint_url=front["url"], region_name="us-east-1",
                     config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        c.assume_role_for_pod_identity(clusterName=CLUSTER, token=mint(ns))
    assert e.value.response["Error"]["Code"] == "AccessDeniedException"


def test_trust_naming_another_namespace_is_denied(eks_auth, moto, role, mint, ns):
    associate(moto, ns, "app", role(pod_trust(ns_sa_condition("production"))))
    code, status, msg = error(eks_auth, mint(ns))
    assert (code, status) == ("AccessDeniedException", 400) and "Unable to assume role" in msg


def test_trust_of_another_principal_is_denied(eks_auth, moto, role, mint, ns):
    st = [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
           "Action": ["sts:AssumeRole", "sts:TagSession"]}]
    associate(moto, ns, "app", role(st))
    assert error(eks_auth, mint(ns))[0] == "AccessDeniedException"
    deny = pod_trust() + [{"Effect": "Deny", "Principal": {"Service": "pods.eks.amazonaws.com"},
                           "Action": "sts:AssumeRole", "Condition": {"StringEquals": {
                               "aws:RequestTag/kubernetes-service-account": "other"}}}]
    arn = role(deny)
    associate(moto, ns, "other", arn)
    associate(moto, ns, "third", arn)
    assert error(eks_auth, mint(ns, sa="other"))[0] == "AccessDeniedException"
    assert eks_auth.assume_role_for_pod_identity(clusterName=CLUSTER, token=mint(ns, sa="third"))["credentials"]


def test_session_tags_need_tag_session(eks_auth, moto, role, mint, ns):
    """sts:AssumeRole alone: refused while EKS tags the session, allowed with disableSessionTags."""
    arn = role(pod_trust(actions=["sts:AssumeRole"]))
    associate(moto, ns, "app", arn)
    assert error(eks_auth, mint(ns))[0] == "AccessDeniedException"
    associate(moto, ns, "untagged", arn, disableSessionTags=True)
    out = eks_auth.assume_role_for_pod_identity(clusterName=CLUSTER, token=mint(ns, sa="untagged"))
    assert whoami(moto, out)["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{arn.split('/')[-1]}/")


def test_disabled_session_tags_fail_tag_conditions(eks_auth, moto, role, mint, ns):
    associate(moto, ns, "app", role(pod_trust(ns_sa_condition(ns))), disableSessionTags=True)
    assert error(eks_auth, mint(ns))[0] == "AccessDeniedException"


def chain_roles(role, ns, external_id_condition=True, trusted=None):
    """(pod role, target role) as the EKS guide sets them up; the target's
    trust names `trusted` (default: the pod role)."""
    first = role(pod_trust(), permissions=[{"Effect": "Allow", "Action": ["sts:AssumeRole", "sts:TagSession"],
                                            "Resource": "*"}])
    return first, lambda external_id: role([{
        "Effect": "Allow", "Principal": {"AWS": trusted or first}, "Action": ["sts:AssumeRole", "sts:TagSession"],
        **({"Condition": {"StringEquals": {"sts:ExternalId": external_id}}} if external_id_condition else {})}])


def test_target_role_chaining(eks_auth, moto, role, mint, ns):
    first, make_target = chain_roles(role, ns)
    a = associate(moto, ns, "app", first, targetRoleArn=f"arn:aws:iam::{ACCOUNT}:role/placeholder")
    target = make_target(a["externalId"])
    aws("eks", moto).update_pod_identity_association(clusterName=CLUSTER, associationId=a["associationId"],
                                                     targetRoleArn=target)
    out = eks_auth.assume_role_for_pod_identity(clusterName=CLUSTER, token=mint(ns))
    me = whoami(moto, out)
    assert me["Arn"] == out["assumedRoleUser"]["arn"]
    assert me["Arn"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/{target.split('/')[-1]}/eks-{CLUSTER}-")
    assert out["podIdentityAssociation"]["associationId"] == a["associationId"]


def test_target_role_trust_must_allow_the_first_role(eks_auth, moto, role, mint, ns):
    first, _ = chain_roles(role, ns)
    _, other_target = chain_roles(role, ns, trusted=f"arn:aws:iam::{ACCOUNT}:role/someone-else")
    a = associate(moto, ns, "app", first, targetRoleArn=f"arn:aws:iam::{ACCOUNT}:role/placeholder")
    aws("eks", moto).update_pod_identity_association(clusterName=CLUSTER, associationId=a["associationId"],
                                                     targetRoleArn=other_target(a["externalId"]))
    assert error(eks_auth, mint(ns))[0] == "AccessDeniedException"
    # the right principal but another association's external id
    _, target = chain_roles(role, ns, trusted=first)
    aws("eks", moto).update_pod_identity_association(clusterName=CLUSTER, associationId=a["associationId"],
                                                     targetRoleArn=target(str(uuid.uuid4())))
    assert error(eks_auth, mint(ns))[0] == "AccessDeniedException"


def test_target_role_in_second_account(eks_auth, moto, role, mint, ns):
    """A target in another account: the front reads it there (--account-role) and evaluates its
    trust, which moto does not for a role outside the caller's account."""
    c = aws("sts", moto).assume_role(RoleArn=moto["second"]["admin_role"], RoleSessionName="tests")["Credentials"]
    iam_b = aws("iam", moto, creds=(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]))
    second = bootstrap_aws.SECOND_ACCOUNT

    def target(trusted, external_id):
        return iam_b.create_role(RoleName="t-" + uuid.uuid4().hex[:12], AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"AWS": trusted}, "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}}}]}))["Role"]["Arn"]

    first, _ = chain_roles(role, ns)
    a = associate(moto, ns, "app", first, targetRoleArn=f"arn:aws:iam::{second}:role/placeholder")
    eks = aws("eks", moto)
    for arn in (target(f"arn:aws:iam::{ACCOUNT}:role/someone-else", a["externalId"]),
                target(first, str(uuid.uuid4())), f"arn:aws:iam::{second}:role/missing"):
        eks.update_pod_identity_association(clusterName=CLUSTER, associationId=a["associationId"], targetRoleArn=arn)
        assert error(eks_auth, mint(ns))[0] == "AccessDeniedException", arn
    good = target(first, a["externalId"])
    eks.update_pod_identity_association(clusterName=CLUSTER, associationId=a["associationId"], targetRoleArn=good)
    out = eks_auth.assume_role_for_pod_identity(clusterName=CLUSTER, token=mint(ns))
    me = whoami(moto, out)
    assert me["Account"] == second and me["Arn"] == out["assumedRoleUser"]["arn"]
    assert me["Arn"].startswith(f"arn:aws:sts::{second}:assumed-role/{good.split('/')[-1]}/eks-{CLUSTER}-")


def test_session_policy_applies(eks_auth, moto, role, mint, ns):
    """The association's policy becomes the session policy: the pod's
    credentials can do only what both the role and the policy allow."""
    perms = [{"Effect": "Allow", "Action": ["iam:ListRoles", "iam:ListUsers"], "Resource": "*"}]
    arn = role(pod_trust(actions=["sts:AssumeRole"]), permissions=perms)
    session_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]})
    associate(moto, ns, "limited", arn, disableSessionTags=True, policy=session_policy)
    associate(moto, ns, "full", arn, disableSessionTags=True)
    for sa, can_list_users in (("full", True), ("limited", False)):
        c = eks_auth.assume_role_for_pod_identity(clusterName=CLUSTER, token=mint(ns, sa=sa))["credentials"]
        iam = aws("iam", moto, creds=(c["accessKeyId"], c["secretAccessKey"], c["sessionToken"]))
        iam.list_roles()
        if can_list_users:
            iam.list_users()
        else:
            with pytest.raises(ClientError) as e:
                iam.list_users()
            assert e.value.response["Error"]["Code"] == "AccessDenied"


def test_log_never_holds_a_token(front):
    time.sleep(0.2)
    text = front["log"].read_text()
    assert "AssumeRoleForPodIdentity cluster=c1" in text and "AccessDeniedException" in text
    assert len(MINTED) > 10
    for token in MINTED:
        for part in token.split("."):
            assert len(part) < 16 or part not in text
