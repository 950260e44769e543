#!/usr/bin/env python3
"""pod_identity_agent: a stand-in for AWS's EKS Pod Identity Agent, on loopback.

AWS's agent (github.com/aws/eks-pod-identity-agent, a DaemonSet on every
node) cannot be built here: its eksauth SDK module is refused by the Go module
proxy. This stand-in follows its protocol (v0.1.37's source, read only, in
../shared/upstream) for what keyless' tests need:

    GET /v1/credentials
        Authorization: <the pod's service account token>
    The AWS SDKs send it so when AWS_CONTAINER_CREDENTIALS_FULL_URI points
    here: they read the file AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (the
    projected token with audience pods.eks.amazonaws.com that the pod
    identity webhook mounts) and send its content as that header.

What it does, as the agent does
    - the Host the pod called must be one the agent serves: 169.254.170.23
      or fd00:ec2::23 (the link-local addresses the agent binds on a node and
      the webhook injects), plus here the loopback address it listens on
      (nothing can bind the link-local addresses here); any other: 403
      "Access Denied. Called agent through invalid address ...";
    - the token: missing or empty: 400 "Service account token cannot be
      empty"; not a JWT: 400 "Service account token cannot be parsed: ...";
      expired or not yet valid (exp/nbf/iat, unverified: EKS Auth verifies):
      400 "Service account token failed basic claim validations: ...";
    - calls EKS Auth AssumeRoleForPodIdentity(clusterName, token) with
      botocore's eks-auth client, signed with the node's credentials
      (POD_IDENTITY_AGENT_AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY: the node
      role), at --endpoint (here the STS front, hack/standins/sts_front.py);
    - answers 200 application/json {"AccessKeyId", "SecretAccessKey",
      "Token", "AccountId" (from the assumed role's ARN), "Expiration"
      (RFC 3339)}, the shape botocore's ContainerProvider and the other SDKs
      read;
    - an EKS Auth error is answered with EKS Auth's own HTTP status (the
      agent passes the SDK's response status on: 400 for AccessDenied,
      InvalidToken, ExpiredToken, InvalidParameter; 404 for
      ResourceNotFound, e.g. a service account without association) and the
      body "[<request id>]: (<code>): <message>, fault: client|server";
      anything else (EKS Auth unreachable, a malformed answer): 500.
    - GET /healthz answers 200 "ok" (the agent's probe port serves
      /healthz and /readyz; here on the same port).

Not modelled: the agent's credential cache (it keeps credentials per token
up to --max-credential-retention-before-renewal, 3 h, and refreshes them at
--max-service-qps), its metrics and probe ports, IPv6, the eks-pod-identity-
agent init container's link-local routes, the request rate limiter.

Usage
    python pod_identity_agent.py --listen 127.0.0.1:PORT --cluster-name NAME \\
        --endpoint http://127.0.0.1:FRONTPORT --region us-east-1 [--log-file path]
    Tokens, secrets and Authorization headers are never logged.
"""

import argparse
import datetime
import json
import logging
import os
import sys
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import boto3
import jwt
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

import serving  # next to this file

AGENT_HOSTS = ("169.254.170.23", "fd00:ec2::23")
CLOCK_SKEW = 0  # the agent's JWT validator allows no leeway

log = logging.getLogger("pod-identity-agent")


class AgentError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


def request_host(host_header):
    """The host part of a Host header (no port, no IPv6 brackets)."""
    host = host_header or ""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def check_token(token):
    if not token:
        raise AgentError(400, "Service account token cannot be empty")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as e:
        raise AgentError(400, f"Service account token cannot be parsed: {e}")
    now = time.time()
    for name, bad in (("exp", lambda v: now >= v), ("nbf", lambda v: now + CLOCK_SKEW < v),
                      ("iat", lambda v: now + CLOCK_SKEW < v)):
        v = claims.get(name)
        if v is None:
            continue
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            raise AgentError(400, f"Service account token failed basic claim validations: invalid {name}")
        if bad(v):
            what = {"exp": "token is expired", "nbf": "token is not valid yet",
                    "iat": "token used before issued"}[name]
            raise AgentError(400, f"Service account token failed basic claim validations: {what}")


class Agent:
    def __init__(self, cluster_name, endpoint, region, listen_host):
        key = os.environ.get("POD_IDENTITY_AGENT_AWS_ACCESS_KEY_ID")
        secret = os.environ.get("POD_IDENTITY_AGENT_AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            sys.exit("pod-identity-agent: POD_IDENTITY_AGENT_AWS_ACCESS_KEY_ID/_SECRET_ACCESS_KEY not set")
        self.cluster_name = cluster_name
        self.hosts = set(AGENT_HOSTS) | {listen_host}
        # the agent's HTTP client gives EKS Auth 1 s; here the front calls moto
        # several times per request on a shared machine, so more
        self.eks_auth = boto3.session.Session().client(
            "eks-auth", endpoint_url=endpoint, region_name=region, aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(retries={"total_max_attempts": 2}, connect_timeout=2, read_timeout=20))

    def credentials(self, host_header, token):
        host = request_host(host_header)
        if host not in self.hosts:
            raise AgentError(403, f"Access Denied. Called agent through invalid address, please use either "
                                  f"{sorted(self.hosts)} address not {host}")
        check_token(token)
        try:
            out = self.eks_auth.assume_role_for_pod_identity(clusterName=self.cluster_name, token=token)
        except ClientError as e:
            err, meta = e.response.get("Error", {}), e.response.get("ResponseMetadata", {})
            fault = "server" if meta.get("HTTPStatusCode", 500) >= 500 else "client"
            raise AgentError(meta.get("HTTPStatusCode") or 500,
                             f"[{meta.get('RequestId', '')}]: ({err.get('Code')}): {err.get('Message')}, "
                             f"fault: {fault}")
        except BotoCoreError as e:
            raise AgentError(500, f"unable to fetch credentials from EKS Auth: {e}")
        try:
            c, arn = out["credentials"], out["assumedRoleUser"]["arn"]
            return {"AccessKeyId": c["accessKeyId"], "SecretAccessKey": c["secretAccessKey"],
                    "Token": c["sessionToken"], "AccountId": arn.split(":")[4],
                    "Expiration": c["expiration"].astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}, out
        except (KeyError, IndexError, AttributeError):
            raise AgentError(500, "invalid response from server: credentials or assumed role empty")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    agent: Agent = None  # set in main()

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/healthz":
            return self.reply(200, "text/plain", b"ok\n")
        if path != "/v1/credentials":
            return self.reply(404, "text/plain", b"404 page not found\n")
        try:
            creds, out = self.agent.credentials(self.headers.get("Host"), self.headers.get("Authorization", ""))
            log.info("credentials for %s/%s: %s (association %s)", out["subject"]["namespace"],
                     out["subject"]["serviceAccount"], out["assumedRoleUser"]["arn"],
                     out["podIdentityAssociation"]["associationId"])
            self.reply(200, "application/json", json.dumps(creds).encode())
        except AgentError as e:
            log.info("error fetching credentials: %d %s", e.status, e.message)
            self.reply(e.status, "text/plain; charset=utf-8", (e.message + "\n").encode())
        except Exception as e:  # no traceback: it could hold the token
            log.error("internal error of type %s", type(e).__name__)
            self.reply(500, "text/plain; charset=utf-8", b"internal error\n")

    def reply(self, status, ctype, body):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main(argv=None):
    ap = argparse.ArgumentParser(description="EKS Pod Identity Agent stand-in")
    ap.add_argument("--listen", required=True, help="127.0.0.1:PORT")
    ap.add_argument("--cluster-name", required=True)
    ap.add_argument("--endpoint", required=True, help="EKS Auth endpoint (the STS front's URL)")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--log-file")
    args = ap.parse_args(argv)
    host, port = serving.listen_address(ap, args.listen)
    serving.setup_logging(args.log_file)
    Handler.agent = Agent(args.cluster_name, args.endpoint, args.region, host)
    return serving.serve("pod-identity-agent", Handler, host, port, log, f"cluster {args.cluster_name}, EKS Auth {args.endpoint}")


if __name__ == "__main__":
    sys.exit(main())
