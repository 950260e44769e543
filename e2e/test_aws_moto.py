"""keyless's AWS client against moto with signature checking on (issue #4).

Every IAM, STS and EKS call keyless uses is made by the C client
(bin/itest/aws_call) and its effect checked independently with boto3. Three
families moto 5.2.5 lacks are added by the local world's launcher
(hack/cluster/moto_server.py): IAM Add/RemoveClientIDToOpenIDConnectProvider
and the five EKS Pod Identity association calls
(hack/cluster/moto_eks_pod_identity.py). Wrong secrets are rejected
and not retried; web-identity credentials obtained with a real TokenRequest
token from the local kube-apiserver, through the STS front, sign a following
call.
"""

import json
import os
import uuid

import pytest
from kubernetes import client

from aws_driver import AwsCall, start_failing
from conftest import aws_client, token_for

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                  "Action": "sts:AssumeRole"}]}


def uid():
    return uuid.uuid4().hex[:10]


def test_every_call_round_trips(issuer):
    iam = aws_client("iam")
    name = f"kl-rt-{uid()}"
    host = f"oidc-{uid()}.example.com/id/ABC"
    boundary = iam.create_policy(PolicyName=f"kl-boundary-{uid()}", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]
    managed = iam.create_policy(PolicyName=f"kl-managed-{uid()}", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}))["Policy"]["Arn"]
    inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"],
                                                      "Resource": "arn:aws:s3:::b/dir with space/ü+%/*"}]}
    with AwsCall() as c:
        assert c.hello["credentials_kind"] == "environment"
        # --- OIDC provider
        arn = c.ok("CreateOpenIDConnectProvider", Url=f"https://{host}", ClientIDList=["sts.amazonaws.com"],
                   ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
                   Tags={"keyless.dev/cluster": "e2e"})["OpenIDConnectProviderArn"]
        assert arn.endswith(f":oidc-provider/{host}")
        assert arn in c.ok("ListOpenIDConnectProviders")
        # moto 5.2.5 lacks the two client-id actions; hack/cluster/moto_server.py adds them
        c.ok("AddClientIDToOpenIDConnectProvider", OpenIDConnectProviderArn=arn, ClientID="keyless")
        assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == [
            "sts.amazonaws.com", "keyless"]
        c.ok("RemoveClientIDFromOpenIDConnectProvider", OpenIDConnectProviderArn=arn, ClientID="keyless")
        c.ok("TagOpenIDConnectProvider", OpenIDConnectProviderArn=arn, Tags={"team": "platform", "tmp": "x"})
        c.ok("UntagOpenIDConnectProvider", OpenIDConnectProviderArn=arn, TagKeys=["tmp"])
        got = c.ok("GetOpenIDConnectProvider", OpenIDConnectProviderArn=arn)
        assert got["Url"] == host
        assert got["ClientIDList"] == ["sts.amazonaws.com"]
        assert got["ThumbprintList"] == ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
        assert got["Tags"] == {"keyless.dev/cluster": "e2e", "team": "platform"}
        theirs = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        assert {t["Key"]: t["Value"] for t in theirs["Tags"]} == got["Tags"]

        # --- role
        role = c.ok("CreateRole", RoleName=name, Path="/keyless/", AssumeRolePolicyDocument=json.dumps(TRUST),
                    Description="created by keyless e2e: ü & <x>", MaxSessionDuration=7200,
                    PermissionsBoundary=boundary, Tags={"keyless.dev/cluster": "e2e", "keyless.dev/uid": "u 1"})
        assert role["Arn"].endswith(f":role/keyless/{name}")
        theirs = iam.get_role(RoleName=name)["Role"]
        assert theirs["MaxSessionDuration"] == 7200
        assert theirs["Description"] == "created by keyless e2e: ü & <x>"
        assert theirs["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
        assert {t["Key"]: t["Value"] for t in theirs["Tags"]} == {"keyless.dev/cluster": "e2e", "keyless.dev/uid": "u 1"}
        got = c.ok("GetRole", RoleName=name)
        assert got["PermissionsBoundaryArn"] == boundary
        assert json.loads(got["AssumeRolePolicyDocument"]) == TRUST
        c.ok("UpdateRole", RoleName=name, Description="updated", MaxSessionDuration=3600)
        assert iam.get_role(RoleName=name)["Role"]["Description"] == "updated"
        assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 3600
        trust2 = dict(TRUST, Statement=[dict(TRUST["Statement"][0], Principal={"Service": "lambda.amazonaws.com"})])
        c.ok("UpdateAssumeRolePolicy", RoleName=name, PolicyDocument=json.dumps(trust2, indent=2))
        assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust2
        assert json.loads(c.ok("GetRole", RoleName=name)["AssumeRolePolicyDocument"]) == trust2

        # --- tags
        c.ok("TagRole", RoleName=name, Tags={"extra": "1", "keyless.dev/uid": "u 2"})
        c.ok("UntagRole", RoleName=name, TagKeys=["extra"])
        assert c.ok("ListRoleTags", RoleName=name) == {"keyless.dev/cluster": "e2e", "keyless.dev/uid": "u 2"}
        assert {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=name)["Tags"]} == \
            {"keyless.dev/cluster": "e2e", "keyless.dev/uid": "u 2"}

        # --- inline policies
        c.ok("PutRolePolicy", RoleName=name, PolicyName="keyless", PolicyDocument=json.dumps(inline))
        doc = c.ok("GetRolePolicy", RoleName=name, PolicyName="keyless")["PolicyDocument"]
        assert json.loads(doc) == inline
        assert iam.get_role_policy(RoleName=name, PolicyName="keyless")["PolicyDocument"] == inline
        assert c.ok("ListRolePolicies", RoleName=name) == ["keyless"]
        c.ok("DeleteRolePolicy", RoleName=name, PolicyName="keyless")
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == []

        # --- managed policies and the boundary
        c.ok("AttachRolePolicy", RoleName=name, PolicyArn=managed)
        assert c.ok("ListAttachedRolePolicies", RoleName=name) == [
            {"PolicyName": managed.rsplit("/", 1)[1], "PolicyArn": managed}]
        c.ok("DetachRolePolicy", RoleName=name, PolicyArn=managed)
        assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
        c.ok("DeleteRolePermissionsBoundary", RoleName=name)
        assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
        c.ok("PutRolePermissionsBoundary", RoleName=name, PermissionsBoundary=boundary)
        assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary

        # --- account, identity, cluster
        summary = c.ok("GetAccountSummary")
        assert summary["AssumeRolePolicySizeQuota"] == iam.get_account_summary()["SummaryMap"]["AssumeRolePolicySizeQuota"]
        assert summary["Roles"] >= 1
        me = c.ok("GetCallerIdentity")
        assert me["Arn"] == aws_client("sts").get_caller_identity()["Arn"]
        cl = c.ok("DescribeCluster", name=os.environ["KEYLESS_CLUSTER_NAME"])
        assert cl["oidcIssuer"] == issuer
        assert cl["status"] == "ACTIVE"

        # --- errors with codes, delete
        c.ok("PutRolePolicy", RoleName=name, PolicyName="keyless", PolicyDocument=json.dumps(inline))
        out = c.call("DeleteRole", RoleName=name)
        assert (out["errno"], out["error"]["reason"], out["error"]["http_status"]) == ("EBUSY", "DeleteConflict", 409)
        c.ok("DeleteRolePolicy", RoleName=name, PolicyName="keyless")
        c.ok("DeleteRole", RoleName=name)
        out = c.call("GetRole", RoleName=name)
        assert (out["errno"], out["error"]["reason"], out["error"]["http_status"]) == ("ENOENT", "NoSuchEntity", 404)
        assert out["error"]["request_id"]
        out = c.call("CreateOpenIDConnectProvider", Url=f"https://{host}", ClientIDList=["x"])
        assert (out["errno"], out["error"]["reason"]) == ("EEXIST", "EntityAlreadyExists")
        out = c.call("DescribeCluster", name="no-such-cluster")
        assert (out["errno"], out["error"]["reason"]) == ("ENOENT", "ResourceNotFoundException")
        stats = c.ok("Stats")
        assert (stats["writes"], stats["reads"]) == (21, 13)  # each call above, classified
        assert stats["retries"] == 0  # nothing above is transient
        for op in ("AddClientIDToOpenIDConnectProvider", "RemoveClientIDFromOpenIDConnectProvider",
                   "UntagOpenIDConnectProvider"):
            assert stats["ops"][op] == {"calls": 1, "attempts": 1, "errors": 0, "throttled": 0}, op
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def test_pod_identity_association_calls_round_trip():
    """keyless' five association calls against the local moto's association
    API (hack/cluster/moto_eks_pod_identity.py): effects checked with boto3,
    EKS' errors mapped to errno."""
    eks = aws_client("eks")
    cluster = os.environ["KEYLESS_CLUSTER_NAME"]
    ns = f"kl-pia-{uid()}"
    role, role2 = (f"arn:aws:iam::123456789012:role/kl-pia-{uid()}" for _ in range(2))
    token = f"tok-{uid()}"
    with AwsCall() as c:
        # --- create (tags, the idempotency token), read back with boto3
        create = dict(clusterName=cluster, namespace=ns, serviceAccount="app-sa", roleArn=role,
                      clientRequestToken=token, tags={"keyless.dev/cluster": "e2e", "u": "ü 1"})
        a = c.ok("CreatePodIdentityAssociation", **create)
        theirs = eks.describe_pod_identity_association(clusterName=cluster, associationId=a["associationId"])[
            "association"]
        for k in ("clusterName", "namespace", "serviceAccount", "roleArn", "associationArn", "associationId", "tags"):
            assert a[k] == theirs[k], k
        assert (a["namespace"], a["serviceAccount"], a["roleArn"]) == (ns, "app-sa", role)
        assert a["tags"] == {"keyless.dev/cluster": "e2e", "u": "ü 1"}
        assert a["createdAtNs"] == int(round(theirs["createdAt"].timestamp() * 1e6)) * 1000
        assert (a["ownerArn"], a["targetRoleArn"], a["externalId"], a["disableSessionTags"]) == \
            (None, None, None, False)
        # a retry with the same token is the same association; another token is a conflict
        assert c.ok("CreatePodIdentityAssociation", **create) == a
        out = c.call("CreatePodIdentityAssociation", **dict(create, clientRequestToken=None))
        assert (out["errno"], out["error"]["reason"], out["error"]["http_status"]) == \
            ("EEXIST", "ResourceInUseException", 409)
        assert out["attempts"] == 1

        # --- describe, list (filters, pages of 1 followed by the client)
        assert c.ok("DescribePodIdentityAssociation", clusterName=cluster, associationId=a["associationId"]) == a
        b = c.ok("CreatePodIdentityAssociation", clusterName=cluster, namespace=ns, serviceAccount="other-sa",
                 roleArn=role)
        summary = lambda x: {k: x[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn",
                                               "associationId")}
        assert c.ok("ListPodIdentityAssociations", clusterName=cluster, namespace=ns) == [summary(a), summary(b)]
        assert c.ok("ListPodIdentityAssociations", clusterName=cluster, namespace=ns, maxResults=1) == \
            [summary(a), summary(b)]
        assert c.ok("ListPodIdentityAssociations", clusterName=cluster, namespace=ns, serviceAccount="other-sa") == \
            [summary(b)]
        assert c.ok("ListPodIdentityAssociations", clusterName=cluster, namespace=f"{ns}-none") == []

        # --- update
        up = c.ok("UpdatePodIdentityAssociation", clusterName=cluster, associationId=a["associationId"],
                  roleArn=role2)
        assert up["roleArn"] == role2 and up["modifiedAtNs"] >= a["modifiedAtNs"]
        assert eks.describe_pod_identity_association(clusterName=cluster, associationId=a["associationId"])[
            "association"]["roleArn"] == role2
        out = c.call("UpdatePodIdentityAssociation", clusterName=cluster, associationId=a["associationId"])
        assert (out["errno"], out["error"]["reason"], out["error"]["http_status"]) == \
            ("EINVAL", "InvalidParameterException", 400)

        # --- delete, then everything about it is gone
        assert c.ok("DeletePodIdentityAssociation", clusterName=cluster, associationId=a["associationId"]) == up
        c.ok("DeletePodIdentityAssociation", clusterName=cluster, associationId=b["associationId"])
        assert eks.list_pod_identity_associations(clusterName=cluster, namespace=ns)["associations"] == []
        for op, extra in (("DescribePodIdentityAssociation", {}), ("DeletePodIdentityAssociation", {}),
                          ("UpdatePodIdentityAssociation", {"roleArn": role})):
            out = c.call(op, clusterName=cluster, associationId=a["associationId"], **extra)
            assert (out["errno"], out["error"]["reason"], out["error"]["http_status"]) == \
                ("ENOENT", "ResourceNotFoundException", 404), op
            assert out["error"]["request_id"]
        out = c.call("ListPodIdentityAssociations", clusterName="no-such-cluster")
        assert (out["errno"], out["error"]["reason"]) == ("ENOENT", "ResourceNotFoundException")
        out = c.call("CreatePodIdentityAssociation", clusterName=cluster, namespace="Not_A_Namespace",
                     serviceAccount="sa", roleArn=role)
        assert (out["errno"], out["error"]["reason"]) == ("EINVAL", "InvalidParameterException")

        stats = c.ok("Stats")
        assert stats["retries"] == 0  # nothing above is transient
        # five lists, one of them two pages; the one of an unknown cluster failed
        assert stats["ops"]["ListPodIdentityAssociations"] == {"calls": 6, "attempts": 6, "errors": 1,
                                                               "throttled": 0}
        for op in ("CreatePodIdentityAssociation", "DescribePodIdentityAssociation", "UpdatePodIdentityAssociation",
                   "DeletePodIdentityAssociation"):
            assert stats["ops"][op]["attempts"] == stats["ops"][op]["calls"], op


@pytest.mark.parametrize("op,args", [("GetRole", {"RoleName": "whatever"}),
                                     ("GetCallerIdentity", {}),
                                     ("DescribeCluster", {"name": os.environ.get("KEYLESS_CLUSTER_NAME", "x")})])
def test_wrong_secret_is_rejected_and_not_retried(op, args):
    with AwsCall(set_={"AWS_SECRET_ACCESS_KEY": "not-the-secret"}) as c:
        out = c.call(op, **args)
    assert out["errno"] == "EPERM", out
    assert out["error"]["reason"] == "SignatureDoesNotMatch"  # EKS: from moto's Query-style XML
    assert out["error"]["http_status"] == 403
    assert out["attempts"] == 1
    assert out["sleeps_ms"] == []
    assert out["retry_quota"] == {"iam": 500, "sts": 500, "eks": 500}

    with AwsCall(set_={"AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000", "AWS_SECRET_ACCESS_KEY": "x"}) as c:
        out = c.call(op, **args)
    assert (out["errno"], out["error"]["reason"], out["attempts"]) == ("EPERM", "InvalidClientTokenId", 1)


def _provider_for(iam, issuer):
    host = issuer.removeprefix("https://")
    for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        if p["Arn"].endswith(f":oidc-provider/{host}"):
            return p["Arn"]
    return iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40])["OpenIDConnectProviderArn"]


def _web_identity_role(iam, issuer, namespace, sa):
    provider = _provider_for(iam, issuer)
    host = issuer.removeprefix("https://")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:sub": f"system:serviceaccount:{namespace}:{sa}",
                                       f"{host}:aud": "sts.amazonaws.com"}}}]}
    return iam.create_role(RoleName=f"kl-wi-{uid()}", AssumeRolePolicyDocument=json.dumps(trust))["Role"]


def test_web_identity_credentials_from_a_real_token_sign_a_following_call(core, namespace, issuer, tmp_path):
    iam = aws_client("iam")
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="app")))
    role = _web_identity_role(iam, issuer, namespace, "app")
    token_file = tmp_path / "token"
    token_file.write_text(token_for(core, namespace, "app"))
    env = {"AWS_ROLE_ARN": role["Arn"], "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
           "AWS_ROLE_SESSION_NAME": "keyless-e2e", "AWS_STS_REGIONAL_ENDPOINTS": "regional"}
    with AwsCall(set_=env, unset=["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) as c:
        assert c.hello["credentials_kind"] == "web-identity"
        assert role["Arn"] in c.hello["credentials_source"]
        creds = c.ok("Credentials")
        assert creds["HasSessionToken"] and creds["AccessKeyId"]
        me = c.ok("GetCallerIdentity")  # signed with the assumed-role credentials
        assert me["Arn"].endswith(f":assumed-role/{role['RoleName']}/keyless-e2e"), me
        stats = c.ok("Stats")["ops"]
        assert stats["AssumeRoleWithWebIdentity"]["calls"] == 1
        assert stats["GetCallerIdentity"]["calls"] == 1

    # a token of another service account is refused by the trust policy
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="other")))
    token_file.write_text(token_for(core, namespace, "other"))
    with AwsCall(set_=env, unset=["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) as c:
        out = c.call("GetCallerIdentity")
        stats = c.ok("Stats")["ops"]
    assert (out["errno"], out["error"]["reason"]) == ("EACCES", "AccessDenied"), out
    assert "credentials from web-identity" in out["error"]["message"]
    # one AssumeRoleWithWebIdentity (AccessDenied is not retried); no GetCallerIdentity was sent
    assert out["attempts"] == 1
    assert stats == {"AssumeRoleWithWebIdentity": {"calls": 1, "attempts": 1, "errors": 1, "throttled": 0}}


def test_anonymous_assume_role_with_web_identity_call(core, namespace, issuer):
    """The unsigned STS call itself, as the controller may make it."""
    iam = aws_client("iam")
    core.create_namespaced_service_account(namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="app")))
    role = _web_identity_role(iam, issuer, namespace, "app")
    with AwsCall(set_={"AWS_CALL_ANONYMOUS": "1"}) as c:
        got = c.ok("AssumeRoleWithWebIdentity", RoleArn=role["Arn"], RoleSessionName="anon",
                   WebIdentityToken=token_for(core, namespace, "app"))
        assert got["HasSecretAccessKey"] and got["HasSessionToken"]
        assert got["AssumedRoleArn"].endswith(f"assumed-role/{role['RoleName']}/anon")
        out = c.call("GetCallerIdentity")
        assert out["errno"] == "ENOKEY"


def test_misconfiguration_fails_the_client_with_a_clear_error():
    fatal = start_failing(set_={"AWS_ENDPOINT_URL_IAM": "not a url"})
    assert fatal["errno"] == "EINVAL" and "AWS_ENDPOINT_URL_IAM" in fatal["message"]
    fatal = start_failing(clean_credentials=True)
    assert fatal["errno"] == "ENOKEY" and "no AWS credentials" in fatal["message"]
