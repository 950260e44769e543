"""Drive bin/itest/aws_call (keyless's AWS client, ASan+UBSan build) from the
e2e tests: one process per AwsCall, one JSON line per step (see the driver's
header comment for the protocol). The process environment decides the
client's configuration exactly as it would for keyless itself.
"""

import json
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("KEYLESS_BIN", os.path.join(ROOT, "bin"))
AWS_CALL = os.path.join(BIN, "itest", "aws_call")

# Variables that select credentials; tests start from none of them.
CRED_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
             "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
             "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_PROFILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT"]


def make_env(set_=None, unset=(), clean_credentials=False):
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
    env["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"
    if clean_credentials:
        for k in CRED_VARS:
            env.pop(k, None)
        env["AWS_CONFIG_FILE"] = "/nonexistent/config"
        env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials"
        env["AWS_EC2_METADATA_DISABLED"] = "true"
    for k in unset:
        env.pop(k, None)
    env.update(set_ or {})
    return env


class AwsCall:
    """An aws_call process; .hello is its first line, .call() runs one step."""

    def __init__(self, set_=None, unset=(), clean_credentials=False):
        self.proc = subprocess.Popen([AWS_CALL], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=make_env(set_, unset, clean_credentials))
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise AssertionError(f"aws_call died at start (exit {self.proc.returncode}): {self.proc.stderr.read()}")
        self.hello = json.loads(line)

    def call(self, op, **args):
        self.proc.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(10)
            raise AssertionError(f"aws_call died during {op} (exit {self.proc.returncode}): "
                                 f"{self.proc.stderr.read()}")
        return json.loads(line)

    def ok(self, op, **args):
        out = self.call(op, **args)
        assert out["rc"] == 0, out
        return out["result"]

    def close(self):
        self.proc.stdin.close()
        rc = self.proc.wait(60)
        err = self.proc.stderr.read()
        assert rc == 0, f"aws_call exited {rc} (sanitizers?): {err[-4000:]}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.close()
        else:
            self.proc.kill()
            self.proc.wait()


def start_failing(set_=None, unset=(), clean_credentials=False):
    """Run aws_call expecting aws_client_new to fail; return its fatal line."""
    p = subprocess.run([AWS_CALL], input="", capture_output=True, text=True, timeout=60,
                       env=make_env(set_, unset, clean_credentials))
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    return json.loads(p.stdout.splitlines()[0])
