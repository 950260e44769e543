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
    moto_server.py).
Then POST /moto-api/reset-auth with 0: from now on every request must carry a
valid SigV4 signature from a known key and be allowed by that key's IAM policies.
Finally prove it: a correctly signed call succeeds and a call signed with a wrong
secret is rejected.

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
        }
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

    fd = os.open(a.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f, indent=2)
    print(f"bootstrap_aws: account {creds['account']}, cluster {a.cluster}, issuer {creds['issuer']}, auth on")


if __name__ == "__main__":
    main()
