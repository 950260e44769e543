"""The Argo CD health check (health.lua) on the sample objects of health_test.yaml, run by a
Lua 5.1 interpreter (Debian's lua5.1, from hack/deps; Argo CD runs gopher-lua, a Lua 5.1)."""

import os
import shutil
import subprocess

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = shutil.which("lua5.1")


def lua_literal(v):
    """A Python value (from YAML/JSON) as a Lua table constructor."""
    if v is None:
        return "nil"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        out = []
        for b in v.encode():
            c = chr(b)
            out.append(c if 32 <= b < 127 and c not in '"\\' else f"\\{b:03d}")
        return '"' + "".join(out) + '"'
    if isinstance(v, list):
        return "{" + ", ".join(lua_literal(x) for x in v) + "}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"[{lua_literal(k)}] = {lua_literal(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def health(obj):
    """(status, message) of health.lua for obj, as Argo CD calls it: `obj` is a global."""
    assert LUA, "lua5.1 is missing: run hack/deps"
    script = (f"obj = {lua_literal(obj)}\n"
              f"local hs = dofile({lua_literal(os.path.join(HERE, 'health.lua'))})\n"
              "io.write(hs.status, '\\n', hs.message or '')\n")
    r = subprocess.run([LUA, "-"], input=script, capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    status, _, message = r.stdout.partition("\n")
    return status, message


def cases():
    with open(os.path.join(HERE, "health_test.yaml")) as f:
        return yaml.safe_load(f)["tests"]


@pytest.mark.parametrize("case", cases(), ids=lambda c: os.path.basename(c["inputPath"]).removesuffix(".yaml"))
def test_health(case):
    with open(os.path.join(HERE, case["inputPath"])) as f:
        obj = yaml.safe_load(f)
    assert health(obj) == (case["healthStatus"]["status"], case["healthStatus"]["message"])


def test_every_ready_reason_keyless_sets_has_a_health():
    """Every reason keyless gives Ready=False maps to Progressing or Degraded, never an error."""
    reasons = ["InvalidSpec", "PolicyRejected", "NamespaceNotAllowed", "ServiceAccountConflict", "RoleNotOwned",
               "RoleOwnedByEarlierObject", "ServiceAccountManagedElsewhere", "AnnotationOwnedElsewhere",
               "ServiceAccountNotFound", "OIDCProviderMissing", "AudienceNotRegistered", "PolicyTooLarge",
               "AWSAccessDenied", "AWSError", "KubernetesError", "ManualRestartRequired", "InjectionMissing",
               "StalePods", "RestartInProgress", "EvictionBlocked", "AWSThrottled", "AWSUnavailable"]
    progressing = {"RestartInProgress", "EvictionBlocked", "AWSThrottled", "AWSUnavailable"}
    for reason in reasons:
        obj = {"metadata": {"generation": 4}, "status": {"observedGeneration": 4, "conditions": [
            {"type": "Ready", "status": "False", "reason": reason, "message": "m", "observedGeneration": 4}]}}
        assert health(obj) == ("Progressing" if reason in progressing else "Degraded", f"{reason}: m"), reason


def test_strings_survive_the_literal():
    obj = {"metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "False", "reason": "InvalidSpec", "message": 'a "q" \\ é\nx',
         "observedGeneration": 1}]}}
    assert health(obj) == ("Degraded", 'InvalidSpec: a "q" \\ é\nx')
