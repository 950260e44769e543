"""Prove the local world is real (issue #2, part 4).

Each test exercises a real component: the kube-apiserver's TokenRequest API and
OIDC discovery, the kube-controller-manager's Deployment -> ReplicaSet -> Pod
chain, the pod identity webhook as a registered mutating webhook, moto with
signature checking, and the STS front's web-identity checks.
"""

import json
import ssl
import urllib.error
import urllib.request
import uuid

import botocore.exceptions
import jwt
import pytest
from kubernetes import client

from conftest import aws_client, https_get_json, jwt_claims, token_for, wait_until

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
