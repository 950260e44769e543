"""Prepare the local AWS for running keyless and write its settings file.

Creates (idempotently) the permissions boundary every keyless role gets, a
customer managed policy in moto that allows everything except IAM and
Organizations (a typical boundary), and writes the operator settings for the
local cluster. Prints the settings path.

usage: keyless_setup.py --out settings.yaml [--resync 30s]
"""

import argparse
import json
import os

import boto3

BOUNDARY = {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--resync", default="30s")
    a = ap.parse_args()
    iam = boto3.client("iam", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
    arn = next((p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if p["PolicyName"] == "keyless-boundary"),
               None)
    if not arn:
        arn = iam.create_policy(PolicyName="keyless-boundary", PolicyDocument=json.dumps(BOUNDARY))["Policy"]["Arn"]
    settings = {
        "clusterName": os.environ["KEYLESS_CLUSTER_NAME"],
        "region": os.environ["AWS_REGION"],
        # accountId: from sts:GetCallerIdentity; oidcIssuer: from eks:DescribeCluster
        "manageOidcProvider": True,
        "rolePath": "/keyless/",
        "permissionsBoundaryArn": arn,
        "defaultRestart": "RolloutRestart",
        "resyncPeriod": a.resync,
        "extraTags": {"managed-by": "keyless"},
        # tag keys tenants may set on their roles: ones no ABAC condition trusts (README, guardrails)
        "guardrails": {"allowedTagKeys": ["app", "cost-center"]},
    }
    with open(a.out, "w") as f:
        f.write("# keyless operator settings for the local cluster (hack/cluster/keyless_setup.py)\n")
        json.dump(settings, f, indent=2)
        f.write("\n")
    print(a.out)


if __name__ == "__main__":
    main()
