"""SigV4 cross-check (issue #4): keyless's signer against botocore's.

For N randomized IAM-, STS- and EKS-shaped requests (fixed seed: random
parameters with unicode and reserved characters, shuffled query strings,
form bodies in both encodings, JSON bodies, session tokens, custom ports,
all three partitions), the Authorization header that keyless computes
(bin/itest/aws_sign, the client's own aws_http_sign) must equal the one
botocore's SigV4Auth computes for the same request, time and credentials.
Needs no servers.
"""

import datetime
import json
import os
import random
import string
import subprocess
from unittest import mock
from urllib.parse import quote, quote_plus

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

N = 1200
SEED = 20261128
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("KEYLESS_BIN", os.path.join(ROOT, "bin"))

UNICODE = "äöüßéñ漢字カタカナ한국어😀🚀ΩЖ€"
RESERVED = " !\"#$%&'()*+,/:;<=>?@[\\]^`{|}~"
ALNUM = string.ascii_letters + string.digits
IAM_NAME = ALNUM + "+=,.@_-"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1",
           "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-gov-east-1"]


def enc(s):
    return quote(s, safe="-_.~")


def rand_text(r, n_max=40, alphabet=None):
    alphabet = alphabet or (ALNUM + UNICODE + RESERVED)
    return "".join(r.choice(alphabet) for _ in range(r.randint(1, n_max)))


def suffix(region):
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def local_endpoint(r):
    return f"http://127.0.0.1:{r.randint(1024, 65535)}"


def form_body(r, params):
    items = list(params.items())
    if r.random() < 0.5:  # botocore's own serializer: urlencode (quote_plus)
        return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in items)
    return "&".join(f"{enc(k)}={enc(v)}" for k, v in items)


def policy(r):
    doc = {"Version": "2012-10-17", "Statement": [{
        "Sid": rand_text(r, 10, ALNUM),
        "Effect": r.choice(["Allow", "Deny"]),
        "Action": [f"s3:{rand_text(r, 12, ALNUM)}" for _ in range(r.randint(1, 4))],
        "Resource": f"arn:aws:s3:::{rand_text(r, 20)}/*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/x": rand_text(r, 20)}},
    }]}
    return json.dumps(doc, ensure_ascii=r.random() < 0.5, indent=r.choice([None, 2]))


def iam_request(r):
    part = r.choice(["aws", "aws-cn", "aws-us-gov", "local"])
    url, region = {
        "aws": ("https://iam.amazonaws.com/", "us-east-1"),
        "aws-cn": ("https://iam.cn-north-1.amazonaws.com.cn/", "cn-north-1"),
        "aws-us-gov": ("https://iam.us-gov.amazonaws.com/", "us-gov-west-1"),
        "local": (local_endpoint(r) + "/", "us-east-1"),
    }[part]
    action = r.choice(["GetRole", "CreateRole", "PutRolePolicy", "TagRole", "UntagRole", "ListRoleTags",
                       "UpdateAssumeRolePolicy", "CreateOpenIDConnectProvider", "GetAccountSummary"])
    p = {"Action": action, "Version": "2010-05-08"}
    if action != "GetAccountSummary":
        p["RoleName"] = rand_text(r, 64, IAM_NAME)
    if action in ("CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy"):
        p["PolicyDocument" if action != "CreateRole" else "AssumeRolePolicyDocument"] = policy(r)
    if action == "CreateRole":
        p["Path"] = "/" + rand_text(r, 20, ALNUM) + "/"
        p["Description"] = rand_text(r, 100)
        p["MaxSessionDuration"] = str(r.randint(3600, 43200))
    if action in ("TagRole", "CreateRole", "CreateOpenIDConnectProvider"):
        for i in range(r.randint(1, 5)):
            p[f"Tags.member.{i + 1}.Key"] = rand_text(r, 30)
            p[f"Tags.member.{i + 1}.Value"] = rand_text(r, 60)
    if action == "UntagRole":
        for i in range(r.randint(1, 5)):
            p[f"TagKeys.member.{i + 1}"] = rand_text(r, 30)
    if action == "CreateOpenIDConnectProvider":
        p["Url"] = "https://" + rand_text(r, 30, ALNUM + "./:-")
        p["ClientIDList.member.1"] = "sts.amazonaws.com"
    return dict(method="POST", url=url, region=region, service="iam",
                headers=[["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]],
                body=form_body(r, p))


def sts_request(r):
    region = r.choice(REGIONS)
    url = r.choice([f"https://sts.{region}.{suffix(region)}/", "https://sts.amazonaws.com/", local_endpoint(r) + "/"])
    if url == "https://sts.amazonaws.com/":
        region = "us-east-1"
    action = r.choice(["GetCallerIdentity", "AssumeRoleWithWebIdentity", "AssumeRole"])
    p = {"Action": action, "Version": "2011-06-15"}
    if action != "GetCallerIdentity":
        p["RoleArn"] = f"arn:aws:iam::{r.randint(10**11, 10**12 - 1)}:role/{rand_text(r, 40, IAM_NAME)}"
        p["RoleSessionName"] = rand_text(r, 32, IAM_NAME)
        p["DurationSeconds"] = str(r.randint(900, 43200))
    if action == "AssumeRoleWithWebIdentity":
        p["WebIdentityToken"] = ".".join(rand_text(r, 300, ALNUM + "-_") for _ in range(3))
    return dict(method="POST", url=url, region=region, service="sts",
                headers=[["Content-Type", "application/x-www-form-urlencoded; charset=utf-8"]],
                body=form_body(r, p))


def eks_request(r):
    region = r.choice(REGIONS)
    base = r.choice([f"https://eks.{region}.{suffix(region)}", local_endpoint(r)])
    cluster = rand_text(r, 40, ALNUM + "-_" + (UNICODE + " %+/" if r.random() < 0.3 else ""))
    assoc = "a-" + rand_text(r, 17, string.ascii_lowercase + string.digits)
    op = r.choice(["DescribeCluster", "List", "Create", "Describe", "Update", "Delete"])
    headers, body, query = [], "", []
    if op == "DescribeCluster":
        method, path = "GET", f"/clusters/{enc(cluster)}"
    elif op == "List":
        method, path = "GET", f"/clusters/{enc(cluster)}/pod-identity-associations"
        for k in ("namespace", "serviceAccount", "maxResults", "nextToken"):
            if r.random() < 0.6:
                v = str(r.randint(1, 100)) if k == "maxResults" else rand_text(r, 80)
                query.append(f"{k}={enc(v)}")
        r.shuffle(query)
    elif op in ("Create", "Update"):
        method = "POST"
        path = f"/clusters/{enc(cluster)}/pod-identity-associations" + (f"/{enc(assoc)}" if op == "Update" else "")
        doc = {"roleArn": f"arn:aws:iam::123456789012:role/{rand_text(r, 30, IAM_NAME)}",
               "clientRequestToken": rand_text(r, 36, ALNUM + "-")}
        if op == "Create":
            doc.update(namespace=rand_text(r, 20), serviceAccount=rand_text(r, 20),
                       tags={rand_text(r, 10): rand_text(r, 20) for _ in range(r.randint(0, 3))})
        body = json.dumps(doc, ensure_ascii=r.random() < 0.5)
        headers.append(["Content-Type", "application/json"])
    else:
        method = "GET" if op == "Describe" else "DELETE"
        path = f"/clusters/{enc(cluster)}/pod-identity-associations/{enc(assoc)}"
    if r.random() < 0.2:  # a custom header with runs of spaces and tabs: trimmed, collapsed
        headers.append(["X-Keyless-Test", "  a \t b   " + rand_text(r, 10, ALNUM) + "  "])
    url = base + path + ("?" + "&".join(query) if query else "")
    return dict(method=method, url=url, region=region, service="eks", headers=headers, body=body)


def requests(n, seed):
    r = random.Random(seed)
    out = []
    for i in range(n):
        req = r.choice([iam_request, iam_request, sts_request, eks_request, eks_request])(r)
        req["id"] = i
        req["access_key_id"] = "AKIA" + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(16))
        req["secret_access_key"] = "".join(r.choice(ALNUM + "+/") for _ in range(40))
        req["session_token"] = ("".join(r.choice(ALNUM + "+/=") for _ in range(r.randint(100, 800)))
                                if r.random() < 0.5 else None)
        req["time"] = r.randint(1420070400, 1893456000)  # 2015 .. 2030
        out.append(req)
    return out


def botocore_authorization(req):
    creds = Credentials(req["access_key_id"], req["secret_access_key"], req["session_token"])
    aws_req = AWSRequest(method=req["method"], url=req["url"],
                         headers={k: v for k, v in req["headers"]},
                         data=req["body"].encode("utf-8") if req["body"] else None)
    when = datetime.datetime.fromtimestamp(req["time"], datetime.timezone.utc).replace(tzinfo=None)
    signer = SigV4Auth(creds, req["service"], req["region"])
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
        signer.add_auth(aws_req)
    return aws_req.headers["Authorization"], signer.canonical_request(aws_req)


def keyless_sign(reqs):
    lines = "".join(json.dumps(q, ensure_ascii=False) + "\n" for q in reqs)
    out = subprocess.run([os.path.join(BIN, "itest", "aws_sign")], input=lines.encode("utf-8"),
                         capture_output=True, timeout=120, check=True)
    return [json.loads(x) for x in out.stdout.decode().splitlines()]


def test_authorization_header_equals_botocore_for_randomized_requests():
    reqs = requests(N, SEED)
    ours = keyless_sign(reqs)
    assert len(ours) == N
    kinds = {"iam": 0, "sts": 0, "eks": 0}
    with_token = 0
    mismatches = []
    for req, got in zip(reqs, ours):
        assert got["id"] == req["id"]
        assert "error" not in got, got
        want, cr = botocore_authorization(req)
        kinds[req["service"]] += 1
        with_token += req["session_token"] is not None
        if got["authorization"] != want:
            mismatches.append((req, want, cr, got))
    if mismatches:
        req, want, cr, got = mismatches[0]
        raise AssertionError(
            f"{len(mismatches)}/{N} Authorization headers differ; first: {req['method']} {req['url']}\n"
            f"botocore: {want}\nkeyless:  {got['authorization']}\n"
            f"--- botocore canonical request\n{cr}\n--- keyless canonical request\n{got['canonical_request']}")
    # the mix really covered every shape
    assert min(kinds.values()) >= N // 10, kinds
    assert N // 4 < with_token < 3 * N // 4


def test_a_changed_request_changes_the_signature():
    """The comparison can fail: one byte of body, one query value, the time."""
    base = requests(1, SEED + 1)[0]
    variants = [dict(base, body=base["body"] + "x"), dict(base, time=base["time"] + 1),
                dict(base, url=base["url"].rstrip("/") + "/x"), dict(base, region="eu-west-3")]
    ours = keyless_sign([base] + variants)
    sigs = {o["authorization"] for o in ours}
    assert len(sigs) == len(variants) + 1
    assert ours[0]["authorization"] == botocore_authorization(base)[0]
