"""Bootstrap the local AWS (moto) for keyless tests, then switch auth on.

While moto still accepts unauthenticated calls (its INITIAL_NO_AUTH_ACTION_COUNT
is unlimited until we lower it), create:
  * IAM user `keyless-test-admin` (inline policy Allow *:*) and an access key:
    the "test credentials" written to the cluster's env file;
  * IAM user `sts-front` with only what the STS front needs, and a key;
  * IAM user `iam-front` (iam:*: it reads callers' policies and replays the
    calls it allowed) and a key;
  * IAM user `pod-identity-agent` (eks-auth:AssumeRoleForPodIdentity, as an
    EKS node role has for the agent) and a key;
  * the EKS cluster <name> (its issuer is the local kube-apiserver's, see
    moto_server.py);
  * in a second account, SECOND_ACCOUNT (210987654321; for cross-account
    IRSA), two roles that trust the first account (Principal AWS
    arn:aws:iam::<first account>:root, sts:AssumeRole):
    `keyless-test-admin` (inline policy Allow *:*), the tests' admin access
    to that account and what the STS front assumes to read it
    (sts_front.py --account-role), and `keyless-manager` (iam:* and
    sts:GetCallerIdentity), the role keyless assumes to manage IAM there.
    moto makes an account when it is first used: the anonymous client's
    AssumeRole of keyless-test-admin there succeeds before the role exists,
    and its credentials (in that account) create both roles. The roles must
    exist: moto reads a session's role to authorize every later call made
    with its credentials (HTTP 500 when the role is missing).
Then POST /moto-api/reset-auth with 0: from now on every request must carry a
valid SigV4 signature from a known key and be allowed by that key's IAM policies.
Finally prove it: a correctly signed call succeeds and a call signed with a wrong
secret is rejected; and the second account works with auth on: the admin user
assumes keyless-test-admin (its credentials are in the second account, list
both roles and see none of the first account's users, and the first account's
IAM has no such roles), the admin user assumes keyless-manager, the sts-front
user assumes keyless-test-admin. Note that moto checks the trust policy of a
role only when the role is in the caller's own account: the roles' trust is
what AWS would need, moto does not evaluate it (the caller's identity policy
is checked: the sts-front user may assume only roles named keyless-test-admin).

The output json (mode 0600) holds each user's key, cluster_arn, issuer,
account (the first account) and second_account: {account, admin_role,
manager_role} (role ARNs); hack/local-cluster exports the latter as
KEYLESS_SECOND_ACCOUNT, KEYLESS_SECOND_ACCOUNT_ADMIN_ROLE and
KEYLESS_SECOND_ACCOUNT_MANAGER_ROLE.

usage: bootstrap_aws.py --endpoint URL --region R --cluster NAME --out creds.json
"""

import argparse
import json
import os
import sys

import boto3
import botocore.exceptions
import requests

ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

# the second account (cross-account IRSA) and its two roles
SECOND_ACCOUNT = "210987654321"
SECOND_ADMIN_ROLE = "keyless-test-admin"  # Allow *:*; also the STS front's --account-role
SECOND_MANAGER_ROLE = "keyless-manager"  # what keyless assumes to manage IAM there
MANAGER_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:*", "sts:GetCallerIdentity"], "Resource": "*"}]}

FRONT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "iam:GetRole",
                "iam:ListOpenIDConnectProviders",
                "iam:GetOpenIDConnectProvider",
                "sts:AssumeRoleWithWebIdentity",
                # EKS Auth AssumeRoleForPodIdentity (the front's stand-in)
                "eks:DescribeCluster",
                "eks:ListPodIdentityAssociations",
                "eks:DescribePodIdentityAssociation",
            ],
            "Resource": "*",
        },
        # another account's OIDC providers and roles, read through this role there (--account-role)
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::*:role/{SECOND_ADMIN_ROLE}"},
    ],
}

# the node role of the Pod Identity Agent stand-in (what EKS's node role needs for the agent)
AGENT_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "eks-auth:AssumeRoleForPodIdentity", "Resource": "*"}]}

IAM_FRONT_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:*", "sts:GetCallerIdentity"], "Resource": "*"}]}


def user_with_key(iam, name, policy):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="bootstrap", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def _client(service, base, c):
    """A client of base's endpoint and region with temporary credentials c (STS's Credentials)."""
    return boto3.client(service, **dict(base, aws_access_key_id=c["AccessKeyId"],
                                        aws_secret_access_key=c["SecretAccessKey"],
                                        aws_session_token=c["SessionToken"]))


def second_account(anon):
    """While auth is off: the two roles of SECOND_ACCOUNT, trusting the calling
    (first) account. anon: boto3 client arguments (endpoint, region, any key).
    Returns {account, admin_role, manager_role} (ARNs)."""
    sts = boto3.client("sts", **anon)
    me = sts.get_caller_identity()
    partition, first = me["Arn"].split(":")[1], me["Account"]
    admin_arn = f"arn:{partition}:iam::{SECOND_ACCOUNT}:role/{SECOND_ADMIN_ROLE}"
    # the role does not exist yet: moto issues the credentials anyway (auth is off)
    c = sts.assume_role(RoleArn=admin_arn, RoleSessionName="keyless-bootstrap")["Credentials"]
    got = _client("sts", anon, c).get_caller_identity()["Account"]
    if got != SECOND_ACCOUNT:
        sys.exit(f"bootstrap_aws: credentials for {admin_arn} are in account {got}")
    iam = _client("iam", anon, c)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{first}:root"}, "Action": "sts:AssumeRole"}]}
    out = {"account": SECOND_ACCOUNT}
    for key, name, policy in (("admin_role", SECOND_ADMIN_ROLE, ADMIN_POLICY),
                              ("manager_role", SECOND_MANAGER_ROLE, MANAGER_POLICY)):
        out[key] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName="bootstrap", PolicyDocument=json.dumps(policy))
    return out


def check_second_account(base, admin, front, second):
    """With auth on: the admin user reaches the second account through both
    roles, its IAM is not the first account's, and the STS front's user may
    assume the admin role there. Exits on the first failure."""
    def assume(keys, arn):
        return boto3.client("sts", **base, **keys).assume_role(RoleArn=arn, RoleSessionName="keyless-bootstrap")[
            "Credentials"]

    c = assume(admin, second["admin_role"])
    if _client("sts", base, c).get_caller_identity()["Account"] != second["account"]:
        sys.exit("bootstrap_aws: the admin role's credentials are not in the second account")
    iam_b, iam_a = _client("iam", base, c), boto3.client("iam", **base, **admin)
    roles_b = {r["Arn"] for r in iam_b.list_roles()["Roles"]}
    if not {second["admin_role"], second["manager_role"]} <= roles_b:
        sys.exit(f"bootstrap_aws: the second account's roles are missing: {sorted(roles_b)}")
    users_a = {u["UserName"] for u in iam_a.list_users()["Users"]}
    if users_a & {u["UserName"] for u in iam_b.list_users()["Users"]} or \
            {r["RoleName"] for r in iam_a.list_roles()["Roles"]} & {SECOND_ADMIN_ROLE, SECOND_MANAGER_ROLE}:
        sys.exit("bootstrap_aws: the second account's IAM is not separate from the first's")
    m = _client("sts", base, assume(admin, second["manager_role"])).get_caller_identity()["Arn"]
    partition = second["manager_role"].split(":")[1]
    if not m.startswith(f"arn:{partition}:sts::{second['account']}:assumed-role/{SECOND_MANAGER_ROLE}/"):
        sys.exit(f"bootstrap_aws: assuming {second['manager_role']} gave {m}")
    assume(front, second["admin_role"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    anon = dict(endpoint_url=a.endpoint, region_name=a.region,
                aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam = boto3.client("iam", **anon)
    creds = {
        "admin": user_with_key(iam, "keyless-test-admin", ADMIN_POLICY),
        "sts_front": user_with_key(iam, "sts-front", FRONT_POLICY),
        "iam_front": user_with_key(iam, "iam-front", IAM_FRONT_POLICY),
        "pod_identity_agent": user_with_key(iam, "pod-identity-agent", AGENT_POLICY),
    }
    eks = boto3.client("eks", **anon)
    cluster = eks.create_cluster(
        name=a.cluster,
        roleArn="arn:aws:iam::123456789012:role/eks-cluster-role",
        resourcesVpcConfig={"subnetIds": ["subnet-0local"]},
    )["cluster"]
    creds["cluster_arn"] = cluster["arn"]
    creds["issuer"] = cluster["identity"]["oidc"]["issuer"]
    creds["second_account"] = second_account(anon)

    r = requests.post(f"{a.endpoint}/moto-api/reset-auth", data=b"0", timeout=10)
    r.raise_for_status()

    admin = dict(endpoint_url=a.endpoint, region_name=a.region,
                 aws_access_key_id=creds["admin"]["access_key_id"],
                 aws_secret_access_key=creds["admin"]["secret_access_key"])
    ident = boto3.client("sts", **admin).get_caller_identity()
    creds["account"] = ident["Account"]
    bad = dict(admin, aws_secret_access_key="wrong-secret")
    try:
        boto3.client("iam", **bad).list_users()
    except botocore.exceptions.ClientError as e:
        if e.response["Error"]["Code"] not in ("SignatureDoesNotMatch", "InvalidClientTokenId"):
            raise
    else:
        sys.exit("bootstrap_aws: moto accepted a request signed with a wrong secret; auth is not on")
    base = dict(endpoint_url=a.endpoint, region_name=a.region)
    keys = {k: {"aws_access_key_id": creds[k]["access_key_id"], "aws_secret_access_key": creds[k]["secret_access_key"]}
            for k in ("admin", "sts_front")}
    check_second_account(base, keys["admin"], keys["sts_front"], creds["second_account"])

    fd = os.open(a.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f, indent=2)
    print(f"bootstrap_aws: account {creds['account']} (second account {SECOND_ACCOUNT}), cluster {a.cluster}, "
          f"issuer {creds['issuer']}, auth on")


if __name__ == "__main__":
    main()
