"""Tests for iam_front.py, no Kubernetes needed.

    $KEYLESS_PY -m pytest -q hack/standins/test_iam_front.py

The evaluator is checked against AWS's documented policy examples (pure
tests, each citing its page), then the front itself: moto_server as a
subprocess with signature checking on, iam_front.py as a subprocess started
as hack/local-cluster starts it, and IAM users whose only policies are the
ones under test, driven with boto3 through the front.
"""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import uuid

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import iam_front  # noqa: E402
from iam_front import condition_holds, evaluate  # noqa: E402

ACCOUNT = "123456789012"
FRONT_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
    "iam:*", "sts:GetCallerIdentity"]}]}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def ctx(**kw):
    """Request context from keyword pairs: key__sub -> 'key/sub' (aws_requesttag__dept -> aws:requesttag/dept)."""
    out = {}
    for k, v in kw.items():
        k = k.replace("__", "/").replace("_", ":", 1).lower()
        out[k] = v if isinstance(v, list) else [v]
    return out


def decide(policy, action, resource="*", context=None):
    return evaluate([("p", policy)], action, resource, context or {})[0]


# ---------------------------------------------------------------- documented examples (pure)

def test_explicit_deny_wins_over_allow():
    """"Policy evaluation logic": an explicit deny in any policy overrides any allow; without
    an allow the request is implicitly denied.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html"""
    allow = {"Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
    deny = {"Statement": [{"Effect": "Deny", "Action": "iam:CreateRole", "Resource": "*"}]}
    assert decide(allow, "iam:CreateRole") == "Allow"
    assert evaluate([("a", allow), ("d", deny)], "iam:CreateRole", "*", {})[0] == "ExplicitDeny"
    assert evaluate([("a", allow), ("d", deny)], "iam:GetRole", "*", {})[0] == "Allow"
    assert decide({"Statement": []}, "iam:GetRole") == "ImplicitDeny"


def test_create_users_only_with_specific_tags():
    """"IAM: Create new users only with specific tags" (StringEqualsIfExists on aws:RequestTag,
    ForAllValues:StringEquals on aws:TagKeys): Department=QualityAssurance alone is allowed;
    JobFunction=employee with Project=core is not.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_iam-new-user-tag.html"""
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "TagUsersWithOnlyTheseTags", "Effect": "Allow", "Action": ["iam:CreateUser", "iam:TagUser"],
        "Resource": "*", "Condition": {
            "StringEqualsIfExists": {"aws:RequestTag/Department": ["Development", "QualityAssurance"],
                                     "aws:RequestTag/JobFunction": "Employee"},
            "ForAllValues:StringEquals": {"aws:TagKeys": ["Department", "JobFunction"]}}}]}
    assert decide(policy, "iam:CreateUser", context=ctx(aws_requesttag__Department="QualityAssurance",
                                                         aws_tagkeys=["Department"])) == "Allow"
    assert decide(policy, "iam:CreateUser", context=ctx(
        aws_requesttag__JobFunction="employee", aws_requesttag__Project="core",
        aws_tagkeys=["JobFunction", "Project"])) == "ImplicitDeny"
    # no tags at all: IfExists and ForAllValues both hold
    assert decide(policy, "iam:CreateUser") == "Allow"


def test_add_a_specific_tag_to_a_user_with_a_specific_tag():
    """"IAM: Add a specific tag to a user with a specific tag": iam:ResourceTag/JobFunction must be
    Manager, aws:RequestTag/Department one of three, and Department the only tag key.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_iam-add-tag.html"""
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "ListTagsForAllUsers", "Effect": "Allow", "Action": ["iam:ListUserTags", "iam:ListUsers"],
         "Resource": "*"},
        {"Sid": "TagManagerWithSpecificDepartment", "Effect": "Allow", "Action": "iam:TagUser", "Resource": "*",
         "Condition": {"StringEquals": {"iam:ResourceTag/JobFunction": "Manager",
                                        "aws:RequestTag/Department": ["Marketing", "Development",
                                                                      "QualityAssurance"]},
                       "ForAllValues:StringEquals": {"aws:TagKeys": "Department"}}}]}
    ok = ctx(iam_resourcetag__JobFunction="Manager", aws_requesttag__Department="Marketing",
             aws_tagkeys=["Department"])
    assert decide(policy, "iam:TagUser", context=ok) == "Allow"
    assert decide(policy, "iam:TagUser", context=dict(ok, **ctx(iam_resourcetag__JobFunction="Intern"))) \
        == "ImplicitDeny"
    assert decide(policy, "iam:TagUser", context=dict(ok, **ctx(aws_requesttag__Department="Sales"))) \
        == "ImplicitDeny"
    assert decide(policy, "iam:TagUser", context=dict(ok, **ctx(aws_tagkeys=["Department", "Cost"]))) \
        == "ImplicitDeny"
    assert decide(policy, "iam:ListUsers") == "Allow"


def test_for_all_values_with_no_keys_and_null_guard():
    """"Multivalued context key examples", Deny with ForAllValues: "The ForAllValues set operator
    also returns true if there are no context keys in the request"; a Null condition with
    "false" prevents a missing key from matching.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html"""
    assert condition_holds("ForAllValues:StringLike", "aws:TagKeys", ["key1*"], {}) is True
    assert condition_holds("ForAllValues:StringLike", "aws:TagKeys", ["key1*"], {"aws:tagkeys": []}) is True
    assert condition_holds("ForAnyValue:StringLike", "aws:TagKeys", ["key1*"], {}) is False
    assert condition_holds("Null", "aws:TagKeys", "false", {}) is False
    assert condition_holds("Null", "aws:TagKeys", "false", ctx(aws_tagkeys=["a"])) is True
    deny = {"Statement": [{"Effect": "Deny", "Action": "iam:TagUser", "Resource": "*", "Condition": {
        "ForAllValues:StringLike": {"aws:TagKeys": ["key1*"]}, "Null": {"aws:TagKeys": "false"}}}]}
    assert decide(deny, "iam:TagUser") == "ImplicitDeny"  # no tags: the Null guard keeps it from denying
    assert decide(deny, "iam:TagUser", context=ctx(aws_tagkeys=["key1a", "key1b"])) == "ExplicitDeny"
    assert decide(deny, "iam:TagUser", context=ctx(aws_tagkeys=["key1a", "other"])) == "ImplicitDeny"


def test_for_any_value_deny():
    """"Multivalued context key examples", Deny with ForAnyValue: denied when any requested tag
    key matches.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition_examples-multi-valued-context-keys.html"""
    deny = {"Statement": [{"Effect": "Deny", "Action": "iam:TagRole", "Resource": "*", "Condition": {
        "ForAnyValue:StringEquals": {"aws:TagKeys": ["webserver"]}}}]}
    assert decide(deny, "iam:TagRole", context=ctx(aws_tagkeys=["a", "webserver"])) == "ExplicitDeny"
    assert decide(deny, "iam:TagRole", context=ctx(aws_tagkeys=["a"])) == "ImplicitDeny"
    assert decide(deny, "iam:TagRole") == "ImplicitDeny"


def test_permissions_boundary_delegation():
    """"Permissions boundaries for IAM entities", delegating responsibility: create or change
    entities only when iam:PermissionsBoundary is the given policy; without the parameter the key
    is missing and StringEquals fails, StringNotEquals holds (negated operators on a missing key).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"""
    b = f"arn:aws:iam::{ACCOUNT}:policy/XCompanyBoundaries"
    policy = {"Statement": [
        {"Sid": "CreateOrChangeOnlyWithBoundary", "Effect": "Allow", "Resource": "*",
         "Action": ["iam:CreateUser", "iam:PutUserPolicy", "iam:PutUserPermissionsBoundary"],
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": b}}},
        {"Sid": "NoBoundaryUserDelete", "Effect": "Deny", "Action": "iam:DeleteUserPermissionsBoundary",
         "Resource": "*"}]}
    assert decide(policy, "iam:CreateUser", context=ctx(iam_permissionsboundary=b)) == "Allow"
    assert decide(policy, "iam:CreateUser") == "ImplicitDeny"
    assert decide(policy, "iam:CreateUser", context=ctx(iam_permissionsboundary=b + "x")) == "ImplicitDeny"
    assert decide(policy, "iam:DeleteUserPermissionsBoundary") == "ExplicitDeny"
    assert condition_holds("StringNotEquals", "iam:PermissionsBoundary", b, {}) is True
    assert condition_holds("StringNotEqualsIfExists", "iam:PermissionsBoundary", b, {}) is True
    assert condition_holds("StringEqualsIfExists", "iam:PermissionsBoundary", b, {}) is True


@pytest.mark.parametrize("op,wanted,values,expected", [
    ("StringEquals", "a", ["a"], True), ("StringEquals", "A", ["a"], False),
    ("StringEqualsIgnoreCase", "A", ["a"], True), ("StringNotEquals", "a", ["b"], True),
    ("StringLike", "role/k*", ["role/keyless"], True), ("StringEquals", "role/k*", ["role/keyless"], False),
    ("StringNotLike", "k*", ["x"], True),
    ("ArnLike", "arn:aws:iam::*:role/keyless/*", [f"arn:aws:iam::{ACCOUNT}:role/keyless/a"], True),
    ("ArnLike", "arn:aws:iam::*:role/keyless/*", [f"arn:aws:iam::{ACCOUNT}:role/other/a"], False),
    # ArnLike matches the six parts one by one: a * in the account part stays in the account part
    ("ArnLike", "arn:aws:iam::*role/x:*", [f"arn:aws:iam::{ACCOUNT}:role/x"], False),
    ("ArnLike", "arn:aws:*:*:*:role/x", [f"arn:aws:iam::{ACCOUNT}:role/x"], True),
    ("ArnEquals", f"arn:aws:iam::{ACCOUNT}:policy/p", [f"arn:aws:iam::{ACCOUNT}:policy/p"], True),
    ("ArnNotLike", "arn:aws:iam::aws:policy/*", [f"arn:aws:iam::{ACCOUNT}:policy/p"], True),
    ("Bool", "true", ["true"], True), ("Bool", True, ["true"], True), ("Bool", "false", ["true"], False),
    ("NumericLessThanEquals", "3600", ["900"], True), ("NumericGreaterThan", "3600", ["900"], False),
    ("Null", "true", None, True), ("Null", "true", ["x"], False),
    ("StringEqualsIfExists", "a", None, True), ("StringEquals", "a", None, False),
    ("ForAllValues:StringEquals", ["a", "b"], ["a", "b"], True),
    ("ForAllValues:StringEquals", ["a"], ["a", "b"], False),
    ("ForAnyValue:StringEquals", ["b"], ["a", "b"], True),
    ("ForAnyValue:StringNotEquals", ["a"], ["a", "b"], True),
    ("ForAllValues:StringNotEquals", ["a"], ["a", "b"], False),
    ("DateLessThan", "2030-01-01T00:00:00Z", ["2020-01-01T00:00:00Z"], False),  # unsupported: no match
])
def test_condition_operator(op, wanted, values, expected):
    """"IAM JSON policy elements: Condition operators" (String, ARN, Bool, Numeric, Null, ...IfExists).
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"""
    c = {} if values is None else {"k:key": values}
    assert condition_holds(op, "K:Key", wanted, c) is expected


def test_resource_and_not_action():
    """"IAM JSON policy elements: Resource" (ARN wildcards per segment) and NotAction/NotResource.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"""
    p = {"Statement": [{"Effect": "Allow", "Action": "iam:*Role*",
                        "Resource": f"arn:aws:iam::{ACCOUNT}:role/keyless/*"},
                       {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}]}
    assert decide(p, "iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/keyless/x") == "Allow"
    assert decide(p, "iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/x") == "ImplicitDeny"
    assert decide(p, "IAM:getrole", f"arn:aws:iam::{ACCOUNT}:role/keyless/x") == "Allow"  # actions: any case
    assert decide(p, "s3:GetObject", "arn:aws:s3:::public/a") == "Allow"
    assert decide(p, "s3:GetObject", "arn:aws:s3:::secret/a") == "ImplicitDeny"


def test_denial_message_wording():
    """"Troubleshoot access denied error messages": "User: <arn> is not authorized to perform:
    <action> on resource: <arn> because no identity-based policy allows the <action> action".
    https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html"""
    u, r = f"arn:aws:iam::{ACCOUNT}:user/u", f"arn:aws:iam::{ACCOUNT}:role/x"
    assert iam_front.denial_message(u, "iam:DeleteRole", r, "ImplicitDeny") == (
        f"User: {u} is not authorized to perform: iam:DeleteRole on resource: {r} because no "
        "identity-based policy allows the iam:DeleteRole action")
    assert iam_front.denial_message(u, "iam:DeleteRole", r, "ExplicitDeny").endswith(
        "on resource: " + r + " with an explicit deny in an identity-based policy")


# ---------------------------------------------------------------- the front against moto

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@pytest.fixture(scope="module")
def moto(tmp_path_factory):
    port = free_port()
    out = open(tmp_path_factory.mktemp("moto") / "moto.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "INITIAL_NO_AUTH"))}
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while True:
            try:
                requests.get(url + "/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                assert time.time() < deadline, "moto did not start"
                time.sleep(0.1)
        boot = boto3.client("iam", endpoint_url=url, region_name="us-east-1",
                            aws_access_key_id="boot", aws_secret_access_key="boot")
        keys = {}
        for user, policy in (("iam-front", FRONT_POLICY), ("admin", ADMIN_POLICY)):
            boot.create_user(UserName=user)
            boot.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(policy))
            k = boot.create_access_key(UserName=user)["AccessKey"]
            keys[user] = (k["AccessKeyId"], k["SecretAccessKey"])
        requests.post(url + "/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
        yield {"url": url, "keys": keys}
    finally:
        stop(proc)
        out.close()


@pytest.fixture(scope="module")
def front(moto, tmp_path_factory):
    log_file = tmp_path_factory.mktemp("front") / "iam-front.log"
    key, secret = moto["keys"]["iam-front"]
    env = dict(os.environ, IAM_FRONT_AWS_ACCESS_KEY_ID=key, IAM_FRONT_AWS_SECRET_ACCESS_KEY=secret)
    port = free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "iam_front.py"), "--listen", f"127.0.0.1:{port}",
                             "--upstream", moto["url"], "--log-file", str(log_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        line = proc.stdout.readline().strip() if ready else ""
        assert line == f"iam-front listening on http://127.0.0.1:{port}", line
        yield {"url": f"http://127.0.0.1:{port}", "log": log_file}
    finally:
        rc = stop(proc)
    assert rc == 0, "iam-front did not exit cleanly on SIGTERM"


@pytest.fixture(scope="module")
def admin(moto):
    key, secret = moto["keys"]["admin"]
    return boto3.client("iam", endpoint_url=moto["url"], region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret)


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/boundary"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                            "Principal": {"AWS": ACCOUNT}}]})
# the shape of `keyless iam-policy`'s fence, for cluster "c1"
FENCE = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadRoles", "Effect": "Allow", "Action": "iam:GetRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/*"},
    {"Sid": "Create", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:TagRole"],
     "Resource": f"arn:aws:iam::{ACCOUNT}:role/k/c1+*",
     "Condition": {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY, "aws:RequestTag/keyless.dev/cluster": "c1"},
                   "ForAllValues:StringLike": {"aws:TagKeys": ["keyless.dev/*"]}}},
    {"Sid": "Owned", "Effect": "Allow", "Action": ["iam:DeleteRole", "iam:TagRole", "iam:UntagRole"],
     "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
     "Condition": {"StringEquals": {"iam:ResourceTag/keyless.dev/cluster": "c1"}}},
    {"Sid": "Grant", "Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": f"arn:aws:iam::{ACCOUNT}:role/*",
     "Condition": {"StringEquals": {"iam:ResourceTag/keyless.dev/cluster": "c1",
                                    "iam:PermissionsBoundary": BOUNDARY}}},
    {"Sid": "NoRelease", "Effect": "Deny", "Action": "iam:UntagRole", "Resource": "*",
     "Condition": {"ForAnyValue:StringEqualsIgnoreCase": {"aws:TagKeys": "keyless.dev/cluster"}}}]}
DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


@pytest.fixture(scope="module")
def fenced(admin, front):
    """An IAM client through the front for a user whose only policy (attached, managed) is FENCE."""
    admin.create_policy(PolicyName="boundary", PolicyDocument=DOC)
    arn = admin.create_policy(PolicyName="fence", PolicyDocument=json.dumps(FENCE))["Policy"]["Arn"]
    admin.create_user(UserName="fenced")
    admin.attach_user_policy(UserName="fenced", PolicyArn=arn)
    k = admin.create_access_key(UserName="fenced")["AccessKey"]
    return boto3.client("iam", endpoint_url=front["url"], region_name="us-east-1",
                        aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"])


def denied(call, *needles):
    with pytest.raises(ClientError) as e:
        call()
    err = e.value.response["Error"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, err
    assert err["Code"] == "AccessDenied", err
    for n in needles:
        assert n in err["Message"], err["Message"]
    return err["Message"]


def tags(owner="c1"):
    return [{"Key": "keyless.dev/cluster", "Value": owner}]


def test_create_role_only_fenced(fenced, admin):
    name = "c1+" + uuid.uuid4().hex[:8]
    msg = denied(lambda: fenced.create_role(RoleName=name, Path="/k/", AssumeRolePolicyDocument=TRUST,
                                            Tags=tags()),
                 f"user/fenced is not authorized to perform: iam:CreateRole on resource: "
                 f"arn:aws:iam::{ACCOUNT}:role/k/{name}", "because no identity-based policy allows")
    assert msg.startswith(f"User: arn:aws:iam::{ACCOUNT}:user/fenced ")
    denied(lambda: fenced.create_role(RoleName=name, Path="/other/", AssumeRolePolicyDocument=TRUST,
                                      PermissionsBoundary=BOUNDARY, Tags=tags()), "iam:CreateRole")
    denied(lambda: fenced.create_role(RoleName=name, Path="/k/", AssumeRolePolicyDocument=TRUST,
                                      PermissionsBoundary=BOUNDARY, Tags=tags("c2")), "iam:CreateRole")
    denied(lambda: fenced.create_role(RoleName=name, Path="/k/", AssumeRolePolicyDocument=TRUST,
                                      PermissionsBoundary=BOUNDARY, Tags=tags() + [{"Key": "x", "Value": "y"}]))
    role = fenced.create_role(RoleName=name, Path="/k/", AssumeRolePolicyDocument=TRUST,
                              PermissionsBoundary=BOUNDARY, Tags=tags())["Role"]
    assert role["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/k/{name}"
    fenced.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=DOC)
    fenced.tag_role(RoleName=name, Tags=[{"Key": "keyless.dev/name", "Value": "x"}])
    denied(lambda: fenced.untag_role(RoleName=name, TagKeys=["keyless.dev/cluster"]),
           "iam:UntagRole", "with an explicit deny in an identity-based policy")
    admin.delete_role_policy(RoleName=name, PolicyName="p")
    fenced.delete_role(RoleName=name)


def test_foreign_roles_untouchable(fenced, admin):
    name = "c1+foreign-" + uuid.uuid4().hex[:6]
    admin.create_role(RoleName=name, Path="/k/", AssumeRolePolicyDocument=TRUST, PermissionsBoundary=BOUNDARY)
    other = "c1+other-" + uuid.uuid4().hex[:6]
    admin.create_role(RoleName=other, Path="/k/", AssumeRolePolicyDocument=TRUST, Tags=tags("c2"),
                      PermissionsBoundary=BOUNDARY)
    for n in (name, other):
        arn = f"arn:aws:iam::{ACCOUNT}:role/k/{n}"
        denied(lambda: fenced.put_role_policy(RoleName=n, PolicyName="p", PolicyDocument=DOC),
               f"iam:PutRolePolicy on resource: {arn}")
        denied(lambda: fenced.delete_role(RoleName=n), "iam:DeleteRole")
        # tagging a foreign role into ownership
        denied(lambda: fenced.tag_role(RoleName=n, Tags=tags()), "iam:TagRole")
    assert admin.list_role_tags(RoleName=name)["Tags"] == []


def test_grant_needs_the_boundary_on_the_role(fenced, admin):
    """PutRolePolicy carries the role's current boundary as iam:PermissionsBoundary."""
    name = "c1+nob-" + uuid.uuid4().hex[:6]
    admin.create_role(RoleName=name, Path="/k/", AssumeRolePolicyDocument=TRUST, Tags=tags())
    denied(lambda: fenced.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=DOC), "iam:PutRolePolicy")
    admin.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=BOUNDARY)
    fenced.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=DOC)


def test_passthrough(front, moto, admin):
    """Non-IAM calls and unknown keys go to moto unevaluated (moto checks signatures)."""
    key, secret = moto["keys"]["admin"]
    sts = boto3.client("sts", endpoint_url=front["url"], region_name="us-east-1",
                       aws_access_key_id=key, aws_secret_access_key=secret)
    assert sts.get_caller_identity()["Account"] == ACCOUNT
    bad = boto3.client("iam", endpoint_url=front["url"], region_name="us-east-1",
                       aws_access_key_id="AKIANOTAKEY000000000", aws_secret_access_key="x")
    with pytest.raises(ClientError) as e:
        bad.list_roles()
    assert e.value.response["Error"]["Code"] in ("InvalidClientTokenId", "AccessDenied")
    # an admin (Allow *) through the front is allowed everything
    via = boto3.client("iam", endpoint_url=front["url"], region_name="us-east-1",
                       aws_access_key_id=key, aws_secret_access_key=secret)
    via.list_roles()


def test_log_never_holds_secrets(front, moto):
    text = open(front["log"]).read()
    assert "authorize iam:CreateRole" in text
    for _, secret in moto["keys"].values():
        assert secret not in text
