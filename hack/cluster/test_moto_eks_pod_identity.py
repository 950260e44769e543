"""Tests of hack/cluster/moto_eks_pod_identity.py: the EKS Pod Identity
association API added to the local moto, with botocore (boto3) as the client,
so every request and answer is shaped by botocore's eks model. The server is
moto_server.py as local-cluster starts it, with signature checking on."""

import datetime
import json
import os
import re
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

from test_moto_server import HERE, bootstrap, plain_moto, start  # noqa: F401 (plain_moto is a fixture)

ROLE = "arn:aws:iam::123456789012:role/pod-role"
ROLE2 = "arn:aws:iam::123456789012:role/pod-role-2"
TARGET = "arn:aws:iam::210987654321:role/target"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                             "Resource": "*"}]})
ASSOCIATION_MEMBERS = {"clusterName", "namespace", "serviceAccount", "roleArn", "associationArn", "associationId",
                       "tags", "createdAt", "modifiedAt", "ownerArn", "disableSessionTags", "targetRoleArn",
                       "externalId", "policy"}
# no client-side validation, no retries: what the server answers is what the test sees
RAW = botocore.config.Config(parameter_validation=False, retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def webhook_file(tmp_path_factory):
    return tmp_path_factory.mktemp("webhook") / "pod-identity-associations.json"


@pytest.fixture(scope="module")
def server(webhook_file):
    p, url = start([os.path.join(HERE, "moto_server.py")], {
        "KEYLESS_POD_IDENTITY_CONFIG": str(webhook_file), "KEYLESS_POD_IDENTITY_CLUSTER": "us-east-1/c1"})
    creds = bootstrap(url)
    yield url, creds
    p.terminate()
    p.wait(10)


@pytest.fixture
def eks(server):
    return boto3.client("eks", **server[1])


@pytest.fixture
def raw(server):
    return boto3.client("eks", config=RAW, **server[1])


@pytest.fixture
def cluster(eks):
    name = f"pi-{uuid.uuid4().hex[:8]}"
    eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/cluster",
                       resourcesVpcConfig={"subnetIds": ["s"]})
    return name


def error(call, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kw)
    r = e.value.response
    return r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Message"]


def test_create_describe_update_delete(eks, cluster):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    a = eks.create_pod_identity_association(clusterName=cluster, namespace="prod", serviceAccount="app-sa",
                                            roleArn=ROLE, tags={"keyless.dev/cluster": "e2e", "team": "a b"})[
        "association"]
    assert set(a) <= ASSOCIATION_MEMBERS
    assert re.fullmatch(r"a-[a-z0-9]{17}", a["associationId"])
    assert a["associationArn"] == (f"arn:aws:eks:us-east-1:123456789012:podidentityassociation/"
                                   f"{cluster}/{a['associationId']}")
    assert (a["clusterName"], a["namespace"], a["serviceAccount"], a["roleArn"]) == (cluster, "prod", "app-sa", ROLE)
    assert a["tags"] == {"keyless.dev/cluster": "e2e", "team": "a b"}
    assert a["disableSessionTags"] is False
    assert "targetRoleArn" not in a and "externalId" not in a and "ownerArn" not in a and "policy" not in a
    assert before <= a["createdAt"] == a["modifiedAt"]  # botocore parsed a Timestamp

    got = eks.describe_pod_identity_association(clusterName=cluster, associationId=a["associationId"])["association"]
    assert got == a

    up = eks.update_pod_identity_association(clusterName=cluster, associationId=a["associationId"],
                                             roleArn=ROLE2)["association"]
    assert up["roleArn"] == ROLE2
    assert up["createdAt"] == a["createdAt"] and up["modifiedAt"] >= a["modifiedAt"]
    assert {k: v for k, v in up.items() if k not in ("roleArn", "modifiedAt")} == \
        {k: v for k, v in a.items() if k not in ("roleArn", "modifiedAt")}
    assert eks.describe_pod_identity_association(clusterName=cluster, associationId=a["associationId"])[
        "association"] == up

    gone = eks.delete_pod_identity_association(clusterName=cluster, associationId=a["associationId"])["association"]
    assert gone == up
    assert eks.list_pod_identity_associations(clusterName=cluster)["associations"] == []
    assert error(eks.describe_pod_identity_association, clusterName=cluster, associationId=a["associationId"])[:2] \
        == ("ResourceNotFoundException", 404)
    assert error(eks.delete_pod_identity_association, clusterName=cluster, associationId=a["associationId"])[:2] \
        == ("ResourceNotFoundException", 404)


def test_target_role_external_id_session_tags_and_policy(eks, cluster):
    a = eks.create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=ROLE,
                                            targetRoleArn=TARGET)["association"]
    assert a["targetRoleArn"] == TARGET
    assert str(uuid.UUID(a["externalId"])) == a["externalId"]
    # a policy needs session tags off
    assert error(eks.update_pod_identity_association, clusterName=cluster, associationId=a["associationId"],
                 policy=POLICY)[:2] == ("InvalidParameterException", 400)
    up = eks.update_pod_identity_association(clusterName=cluster, associationId=a["associationId"],
                                             disableSessionTags=True, policy=POLICY)["association"]
    assert (up["disableSessionTags"], up["policy"], up["externalId"]) == (True, POLICY, a["externalId"])
    # and turning them back on while the policy stays is refused
    assert error(eks.update_pod_identity_association, clusterName=cluster, associationId=a["associationId"],
                 disableSessionTags=False)[:2] == ("InvalidParameterException", 400)
    # "" removes the target role (and its external id) and the policy
    up = eks.update_pod_identity_association(clusterName=cluster, associationId=a["associationId"],
                                             targetRoleArn="", policy="")["association"]
    assert not {"targetRoleArn", "externalId", "policy"} & set(up)
    assert up["disableSessionTags"] is True
    b = eks.create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="other",
                                            roleArn=ROLE, disableSessionTags=True, policy=POLICY)["association"]
    assert (b["disableSessionTags"], b["policy"]) == (True, POLICY)
    assert error(eks.create_pod_identity_association, clusterName=cluster, namespace="ns", serviceAccount="third",
                 roleArn=ROLE, policy=POLICY)[:2] == ("InvalidParameterException", 400)


@pytest.mark.parametrize("change,why", [
    ({"namespace": None}, "namespace is required"),
    ({"serviceAccount": ""}, "serviceAccount is required"),
    ({"roleArn": None}, "roleArn is required"),
    ({"namespace": "Prod"}, "not a valid Kubernetes namespace"),
    ({"namespace": "a" * 64}, "not a valid Kubernetes namespace"),
    ({"serviceAccount": "sa_1"}, "not a valid Kubernetes service account"),
    ({"roleArn": "arn:aws:iam::123:role/x"}, "roleArn is not a valid IAM role ARN"),
    ({"roleArn": "arn:aws:iam::123456789012:user/x"}, "roleArn is not a valid IAM role ARN"),
    ({"targetRoleArn": "role/x"}, "targetRoleArn is not a valid IAM role ARN"),
    ({"disableSessionTags": "yes"}, "disableSessionTags must be a boolean"),
    ({"disableSessionTags": True, "policy": "{not json"}, "policy must be an IAM policy document"),
    ({"tags": {"aws:x": "y"}}, "reserved"),
    ({"tags": {"k" * 129: "v"}}, "a key is 1 to 128"),
    ({"tags": {"k": "v" * 257}}, "a value at most 256"),
    ({"tags": {f"k{i}": "v" for i in range(51)}}, "1 to 50 tags"),
])
def test_create_invalid_parameter(raw, cluster, change, why):
    args = dict(dict(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=ROLE), **change)
    code, status, message = error(raw.create_pod_identity_association,
                                  **{k: v for k, v in args.items() if v is not None})
    assert (code, status) == ("InvalidParameterException", 400)
    assert why in message
    assert raw.list_pod_identity_associations(clusterName=cluster)["associations"] == []


def test_errors(eks, raw, cluster):
    a = eks.create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="sa",
                                            roleArn=ROLE)["association"]
    # the same namespace/service account again: in use, whatever the role
    code, status, message = error(eks.create_pod_identity_association, clusterName=cluster, namespace="ns",
                                  serviceAccount="sa", roleArn=ROLE2)
    assert (code, status) == ("ResourceInUseException", 409)
    assert a["associationId"] in message
    # unknown cluster, for each call
    for call, kw in ((eks.create_pod_identity_association, dict(namespace="ns", serviceAccount="sa", roleArn=ROLE)),
                     (eks.describe_pod_identity_association, dict(associationId=a["associationId"])),
                     (eks.update_pod_identity_association, dict(associationId=a["associationId"], roleArn=ROLE)),
                     (eks.delete_pod_identity_association, dict(associationId=a["associationId"])),
                     (eks.list_pod_identity_associations, {})):
        code, status, message = error(call, clusterName="no-such-cluster", **kw)
        assert (code, status, message) == ("ResourceNotFoundException", 404, "No cluster found for name: "
                                           "no-such-cluster."), call
    # unknown association
    for call, kw in ((eks.describe_pod_identity_association, {}),
                     (eks.update_pod_identity_association, dict(roleArn=ROLE)),
                     (eks.delete_pod_identity_association, {})):
        assert error(call, clusterName=cluster, associationId="a-0000000000000000x", **kw)[:2] == \
            ("ResourceNotFoundException", 404)
    # an update must change something; role ARNs are checked
    assert error(eks.update_pod_identity_association, clusterName=cluster, associationId=a["associationId"])[:2] \
        == ("InvalidParameterException", 400)
    assert error(eks.update_pod_identity_association, clusterName=cluster, associationId=a["associationId"],
                 roleArn="nope")[:2] == ("InvalidParameterException", 400)
    # list bounds
    for bad in (0, 101):
        assert error(raw.list_pod_identity_associations, clusterName=cluster, maxResults=bad)[:2] == \
            ("InvalidParameterException", 400)
    assert error(eks.list_pod_identity_associations, clusterName=cluster, nextToken="garbage")[:2] == \
        ("InvalidParameterException", 400)
    assert eks.describe_pod_identity_association(clusterName=cluster, associationId=a["associationId"])[
        "association"]["roleArn"] == ROLE  # nothing above changed it


def test_client_request_token_idempotency(eks, cluster):
    args = dict(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=ROLE, tags={"a": "1"},
                clientRequestToken="token-1")
    a = eks.create_pod_identity_association(**args)["association"]
    assert eks.create_pod_identity_association(**args)["association"] == a  # a retry: the same association
    assert len(eks.list_pod_identity_associations(clusterName=cluster)["associations"]) == 1
    code, status, message = error(eks.create_pod_identity_association, **dict(args, roleArn=ROLE2))
    assert (code, status) == ("InvalidParameterException", 400) and "token-1" in message
    # without the token the duplicate is a conflict
    assert error(eks.create_pod_identity_association, **dict(args, clientRequestToken="token-2"))[0] == \
        "ResourceInUseException"

    up_args = dict(clusterName=cluster, associationId=a["associationId"], roleArn=ROLE2, clientRequestToken="u-1")
    up = eks.update_pod_identity_association(**up_args)["association"]
    assert eks.update_pod_identity_association(**up_args)["association"] == up  # modifiedAt not moved
    # a token of a create is not one of an update
    assert eks.update_pod_identity_association(**dict(up_args, roleArn=ROLE, clientRequestToken="token-1"))[
        "association"]["roleArn"] == ROLE
    assert error(eks.update_pod_identity_association, **dict(up_args, roleArn=ROLE))[0] == \
        "InvalidParameterException"

    # once deleted, the token makes a new association
    eks.delete_pod_identity_association(clusterName=cluster, associationId=a["associationId"])
    again = eks.create_pod_identity_association(**args)["association"]
    assert again["associationId"] != a["associationId"]


def test_list_filters_and_pagination(eks, cluster):
    made = []
    for ns, sa in (("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "x")):
        made.append(eks.create_pod_identity_association(clusterName=cluster, namespace=ns, serviceAccount=sa,
                                                        roleArn=ROLE)["association"])
    summary = lambda a: {k: a[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn",
                                           "associationId")}
    full = eks.list_pod_identity_associations(clusterName=cluster)
    assert full["associations"] == [summary(a) for a in made]  # in creation order, summaries only
    assert "nextToken" not in full
    assert [a["associationId"] for a in eks.list_pod_identity_associations(clusterName=cluster, namespace="a")[
        "associations"]] == [made[0]["associationId"], made[1]["associationId"]]
    assert [(a["namespace"], a["serviceAccount"]) for a in eks.list_pod_identity_associations(
        clusterName=cluster, serviceAccount="x")["associations"]] == [("a", "x"), ("b", "x"), ("c", "x")]
    assert eks.list_pod_identity_associations(clusterName=cluster, namespace="b", serviceAccount="y")[
        "associations"] == [summary(made[3])]
    assert eks.list_pod_identity_associations(clusterName=cluster, namespace="zzz")["associations"] == []

    p1 = eks.list_pod_identity_associations(clusterName=cluster, maxResults=2)
    assert p1["associations"] == [summary(a) for a in made[:2]] and p1["nextToken"]
    # a deletion between pages does not shift the next page
    eks.delete_pod_identity_association(clusterName=cluster, associationId=made[1]["associationId"])
    p2 = eks.list_pod_identity_associations(clusterName=cluster, maxResults=2, nextToken=p1["nextToken"])
    assert p2["associations"] == [summary(a) for a in made[2:4]]
    p3 = eks.list_pod_identity_associations(clusterName=cluster, maxResults=2, nextToken=p2["nextToken"])
    assert p3["associations"] == [summary(made[4])] and "nextToken" not in p3
    # botocore's paginator (the model's pagination config) with a filter
    pages = eks.get_paginator("list_pod_identity_associations").paginate(
        clusterName=cluster, serviceAccount="x", PaginationConfig={"PageSize": 1})
    assert [a["namespace"] for page in pages for a in page["associations"]] == ["a", "b", "c"]


def test_deleting_the_cluster_deletes_its_associations(eks, cluster):
    eks.create_pod_identity_association(clusterName=cluster, namespace="ns", serviceAccount="sa", roleArn=ROLE)
    eks.delete_cluster(name=cluster)
    eks.create_cluster(name=cluster, roleArn="arn:aws:iam::123456789012:role/cluster",
                       resourcesVpcConfig={"subnetIds": ["s"]})
    assert eks.list_pod_identity_associations(clusterName=cluster)["associations"] == []


def test_signature_checked(server, cluster):
    url, creds = server
    bad = boto3.client("eks", config=RAW, **dict(creds, aws_secret_access_key="wrong"))
    for call, kw in ((bad.list_pod_identity_associations, dict(namespace="ns", maxResults=5)),
                     (bad.create_pod_identity_association, dict(namespace="ns", serviceAccount="sa", roleArn=ROLE))):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(clusterName=cluster, **kw)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert "<Code>SignatureDoesNotMatch</Code>" in str(e.value)
    assert boto3.client("eks", **creds).list_pod_identity_associations(clusterName=cluster)["associations"] == []


def test_associations_live_per_account_and_region_and_reset_clears_them():
    """In process (moto's mock_aws): where the state lives."""
    import moto
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.eks.models import eks_backends

    import moto_eks_pod_identity as pi

    pi.install()
    with moto.mock_aws():
        def client(region):
            return boto3.client("eks", region_name=region, aws_access_key_id="x", aws_secret_access_key="x")
        east, west = client("us-east-1"), client("eu-west-1")
        for c in (east, west):
            c.create_cluster(name="c", roleArn="arn:aws:iam::123456789012:role/cluster",
                             resourcesVpcConfig={"subnetIds": ["s"]})
        a = east.create_pod_identity_association(clusterName="c", namespace="ns", serviceAccount="sa",
                                                 roleArn=ROLE)["association"]
        assert west.list_pod_identity_associations(clusterName="c")["associations"] == []
        backend = eks_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        assert list(pi._state(backend)["by_cluster"]["c"]) == [a["associationId"]]
        assert pi._state(eks_backends["111111111111"]["us-east-1"])["by_cluster"] == {}
        backend.reset()
        east.create_cluster(name="c", roleArn="arn:aws:iam::123456789012:role/cluster",
                            resourcesVpcConfig={"subnetIds": ["s"]})
        assert east.list_pod_identity_associations(clusterName="c")["associations"] == []


def test_unpatched_moto_has_no_pod_identity_routes(plain_moto):  # noqa: F811
    """If this starts failing, moto routes the association API itself and
    moto_eks_pod_identity.install() can go (it already steps aside when
    EKSResponse has create_pod_identity_association)."""
    eks = boto3.client("eks", config=RAW, **bootstrap(plain_moto))
    with pytest.raises(botocore.exceptions.ClientError) as e:
        eks.list_pod_identity_associations(clusterName="c1")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_webhook_association_file_follows_the_cluster(eks, cluster, webhook_file):
    """c1 (bootstrap's cluster) is the configured one: its associations are in
    the webhook's file, as the EKS control plane keeps the webhook's; other
    clusters' are not."""
    def listed():
        return json.loads(webhook_file.read_text())["identities"] if webhook_file.exists() else None
    assert listed() is None  # untouched until a change
    a = eks.create_pod_identity_association(clusterName="c1", namespace="prod", serviceAccount="web",
                                            roleArn=ROLE)["association"]
    b = eks.create_pod_identity_association(clusterName="c1", namespace="dev", serviceAccount="web",
                                            roleArn=ROLE)["association"]
    eks.create_pod_identity_association(clusterName=cluster, namespace="other", serviceAccount="x", roleArn=ROLE)
    assert listed() == [{"namespace": "dev", "serviceAccount": "web"}, {"namespace": "prod", "serviceAccount": "web"}]
    eks.update_pod_identity_association(clusterName="c1", associationId=a["associationId"], roleArn=ROLE2)
    eks.delete_pod_identity_association(clusterName="c1", associationId=b["associationId"])
    assert listed() == [{"namespace": "prod", "serviceAccount": "web"}]
    eks.delete_pod_identity_association(clusterName="c1", associationId=a["associationId"])
    assert listed() == []
    assert not [p for p in os.listdir(webhook_file.parent) if p.endswith(".tmp")]
