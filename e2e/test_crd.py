"""The WorkloadIdentity CRD (crds/) against the real kube-apiserver (issue #5).

Installs the CRD (idempotently, once per module), then checks what the API
server makes of it: names, kubectl explain, defaults, the OpenAPI patterns and
CEL rules, pruning of unknown fields, printer columns and the status
subresource. Each invalid case is also given to keyless' own validation
(bin/itest/wi_check, identity/spec.c with ASan+UBSan): both must reject it,
keyless naming the same field, and both must accept the valid ones, so the
CRD and spec.c cannot drift apart unnoticed.
"""

import copy
import json
import os
import re
import subprocess
import uuid

import pytest
from kubernetes import client

from conftest import wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CRD_DIR = os.path.join(ROOT, "crds")
EXAMPLES = os.path.join(ROOT, "examples")
WI_CHECK = os.path.join(ROOT, "bin", "itest", "wi_check")
GROUP, VERSION, PLURAL = "keyless.dev", "v1alpha1", "workloadidentities"
CRD_NAME = f"{PLURAL}.{GROUP}"


def kubectl(*args, check=True, stdin=None):
    out = subprocess.run(["kubectl", *args], capture_output=True, text=True, input=stdin, timeout=120)
    if check:
        assert out.returncode == 0, f"kubectl {' '.join(args)}: {out.stderr}"
    return out


def flat(text):
    """Whitespace-normalized text (kubectl wraps descriptions)."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def crd(kube):
    """The CRD (as a dict, as stored), applied (idempotent) and Established."""
    kubectl("apply", "-f", CRD_DIR)

    def established():
        obj = json.loads(kubectl("get", "crd", CRD_NAME, "-o", "json").stdout)
        conds = {c["type"]: c["status"] for c in obj.get("status", {}).get("conditions", [])}
        return obj if conds.get("Established") == "True" and conds.get("NamesAccepted") == "True" else None

    obj = wait_until(established, 30, "CRD Established")
    # the discovery/OpenAPI side (kubectl explain, short names) lags a little behind
    wait_until(lambda: kubectl("explain", "workloadidentity.spec", check=False).returncode == 0, 30,
               "kubectl explain to know the CRD")
    return obj


def schema(crd):
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


@pytest.fixture(scope="module")
def custom(kube, crd):
    return client.CustomObjectsApi(kube)


def base_spec():
    return {
        "serviceAccountName": "app-sa",
        "permissions": {"statements": [{"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::bucket/*"]}]},
    }


def wi(name, spec, ns="default"):
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "WorkloadIdentity",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def create(custom, ns, body, **kw):
    return custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, body, **kw)


def get(custom, ns, name):
    return custom.get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)


def api_error(fn):
    with pytest.raises(client.ApiException) as exc:
        fn()
    return exc.value.status, json.loads(exc.value.body)


def keyless_check(objs, settings=None):
    """Run keyless' validation on objects; one {"rc":..,"message":..} each."""
    assert os.access(WI_CHECK, os.X_OK), f"{WI_CHECK} missing: run `make itest` (make e2e does)"
    args = [WI_CHECK] + (["--settings", settings] if settings else [])
    lines = "".join(json.dumps(o) + "\n" for o in objs)
    out = subprocess.run(args, input=lines, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    res = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(res) == len(objs)
    return res


def as_stored(obj):
    """What keyless would read: the object with the metadata the server sets."""
    o = copy.deepcopy(obj)
    o["metadata"].setdefault("uid", str(uuid.uuid4()))
    return o


# --- installation, names, explain -------------------------------------------------


def test_crd_is_established_with_its_names(crd):
    spec = crd["spec"]
    assert spec["group"] == GROUP
    assert spec["scope"] == "Namespaced"
    assert spec["names"] == {"kind": "WorkloadIdentity", "listKind": "WorkloadIdentityList", "plural": PLURAL,
                             "singular": "workloadidentity", "shortNames": ["wi"], "categories": ["keyless"]}
    assert [(v["name"], v["served"], v["storage"]) for v in spec["versions"]] == [(VERSION, True, True)]
    assert spec["versions"][0]["subresources"] == {"status": {}}
    # applying again is a no-op (the fixture's apply is idempotent)
    out = kubectl("apply", "-f", CRD_DIR)
    assert "unchanged" in out.stdout


def test_schema_has_no_way_to_name_another_subject(crd):
    spec = schema(crd)["properties"]["spec"]
    assert set(spec["properties"]) == {
        "serviceAccountName", "createServiceAccount", "audience", "stsRegionalEndpoints", "permissions",
        "maxSessionDuration", "restart", "deletionPolicy", "tags",
        "mode", "sessionPolicy", "targetRoleArn", "disableSessionTags",  # EKS Pod Identity (issue 12)
        "accountId"}  # the role's account (issue 12): the settings say which; the sub is still this namespace's
    assert spec["properties"]["accountId"]["pattern"] == "^[0-9]{12}$"
    assert "x-kubernetes-preserve-unknown-fields" not in json.dumps(schema(crd))
    stmt = spec["properties"]["permissions"]["properties"]["statements"]["items"]
    assert set(stmt["properties"]) == {"sid", "effect", "actions", "resources", "conditions"}  # no principal
    stmt = spec["properties"]["sessionPolicy"]["properties"]["statements"]["items"]
    assert set(stmt["properties"]) == {"sid", "effect", "actions", "resources", "conditions"}  # no principal


def test_every_field_has_a_description(crd):
    root = schema(crd)
    missing = []

    def walk(path, s, named=True):
        # named fields and structured entries; a list's or map's scalar
        # entries are described by the field that holds them
        if (named or s.get("type") in ("object", "array")) and not s.get("description", "").strip():
            missing.append(path)
        for k, sub in s.get("properties", {}).items():
            walk(f"{path}.{k}", sub)
        if "items" in s:
            walk(f"{path}[]", s["items"], False)
        if isinstance(s.get("additionalProperties"), dict):
            walk(f"{path}{{}}", s["additionalProperties"], False)

    walk("spec", root["properties"]["spec"])
    walk("status", root["properties"]["status"])
    assert missing == []
    assert "least-privilege" in root["description"]


def test_kubectl_explain_reads_well(crd):
    out = flat(kubectl("explain", "workloadidentity.spec").stdout)
    assert "serviceAccountName <string> -required-" in out
    assert "Name of the ServiceAccount, in this WorkloadIdentity's own namespace" in out
    assert "permissions <Object> -required-" in out
    assert "enum: RolloutRestart, DeletePods, None" in out
    out = flat(kubectl("explain", "wi.spec.permissions.statements").stdout)
    assert "actions <[]string> -required-" in out
    assert "IAM actions as service:Action" in out
    assert "conditions <map[string]map[string][]string>" in out
    out = flat(kubectl("explain", "wi.status.conditions").stdout)
    assert "lastTransitionTime <string> -required-" in out
    assert "enum: True, False, Unknown" in out


# --- defaults ------------------------------------------------------------------------


def test_valid_object_is_accepted_with_defaults(custom, namespace):
    create(custom, namespace, wi("s3-reader", base_spec(), namespace))
    obj = get(custom, namespace, "s3-reader")
    spec = obj["spec"]
    assert spec["audience"] == "sts.amazonaws.com"
    assert spec["stsRegionalEndpoints"] is True
    assert spec["createServiceAccount"] is False
    assert spec["deletionPolicy"] == "Delete"
    assert spec["permissions"]["statements"][0]["effect"] == "Allow"
    # no default: absent means the operator's setting
    assert "restart" not in spec and "maxSessionDuration" not in spec
    assert keyless_check([obj]) == [{"rc": 0}]


def test_explicit_values_are_kept(custom, namespace):
    spec = base_spec()
    spec.update(audience="my-audience", stsRegionalEndpoints=False, createServiceAccount=True,
                deletionPolicy="Retain", restart="None", maxSessionDuration=43200)
    spec["permissions"]["statements"][0]["effect"] = "Deny"
    create(custom, namespace, wi("explicit", spec, namespace))
    got = get(custom, namespace, "explicit")["spec"]
    assert got == spec


# --- the API server and keyless reject the same things -------------------------------


def with_(path, value):
    """base_spec() with one value set at a dotted path (list indexes as numbers)."""
    spec = base_spec()
    keys = path.split(".")
    cur = spec
    for k in keys[:-1]:
        cur = cur[int(k)] if isinstance(cur, list) else cur[k]
    last = keys[-1]
    if value is DELETE:
        del cur[last]
    elif isinstance(cur, list):
        cur[int(last)] = value
    else:
        cur[last] = value
    return spec


DELETE = object()
ST0 = "permissions.statements.0"
STMT = {"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::bucket/*"]}

# (id, spec, apiserver field, apiserver message fragment, keyless message prefix)
INVALID = [
    ("bad-sa-name", with_("serviceAccountName", "Bad_SA"), "spec.serviceAccountName", "should match",
     "spec.serviceAccountName: 'Bad_SA' is not a valid service account name"),
    ("sa-name-too-long", with_("serviceAccountName", "a" * 254), "spec.serviceAccountName", "may not be more than 253",
     "spec.serviceAccountName: "),
    ("action-without-service", with_(ST0 + ".actions", ["s3:GetObject", "iam"]),
     "spec.permissions.statements[0].actions[1]", "should match",
     "spec.permissions.statements[0].actions[1]: 'iam' is not an action"),
    ("action-uppercase-service", with_(ST0 + ".actions", ["S3:GetObject"]),
     "spec.permissions.statements[0].actions[0]", "should match", "spec.permissions.statements[0].actions[0]: "),
    ("action-service-wildcard", with_(ST0 + ".actions", ["*:*"]),
     "spec.permissions.statements[0].actions[0]", "should match", "spec.permissions.statements[0].actions[0]: "),
    ("no-actions", with_(ST0 + ".actions", []), "spec.permissions.statements[0].actions", "at least 1 items",
     "spec.permissions.statements[0].actions: must not be empty"),
    ("bad-resource", with_(ST0 + ".resources", ["my-bucket"]), "spec.permissions.statements[0].resources[0]",
     "should match", "spec.permissions.statements[0].resources[0]: 'my-bucket' is neither"),
    ("resource-bad-partition", with_(ST0 + ".resources", ["arn:aws-eu:s3:::b"]),
     "spec.permissions.statements[0].resources[0]", "should match", "spec.permissions.statements[0].resources[0]: "),
    ("resource-empty-part", with_(ST0 + ".resources", ["arn:aws:s3:::"]),
     "spec.permissions.statements[0].resources[0]", "should match", "spec.permissions.statements[0].resources[0]: "),
    ("effect-lowercase", with_(ST0 + ".effect", "allow"), "spec.permissions.statements[0].effect",
     "Unsupported value", "spec.permissions.statements[0].effect: 'allow' is not Allow or Deny"),
    ("sid-with-dash", with_(ST0 + ".sid", "read-logs"), "spec.permissions.statements[0].sid", "should match",
     "spec.permissions.statements[0].sid: 'read-logs' is not a statement id"),
    ("duplicate-sid", with_("permissions.statements", [dict(STMT, sid="A"), dict(STMT, sid="B"), dict(STMT, sid="A")]),
     "spec.permissions.statements", "sid must be unique among statements",
     "spec.permissions.statements[2].sid: 'A' is already the sid of statements[0]"),
    ("too-many-statements", with_("permissions.statements", [STMT] * 51), "spec.permissions.statements",
     "must have at most 50 items", "spec.permissions.statements: has 51 statements"),
    ("msd-too-low", with_("maxSessionDuration", 3599), "spec.maxSessionDuration", "greater than or equal to 3600",
     "spec.maxSessionDuration: 3599 is not within 3600..43200 seconds"),
    ("msd-too-high", with_("maxSessionDuration", 43201), "spec.maxSessionDuration", "less than or equal to 43200",
     "spec.maxSessionDuration: 43201 is not within 3600..43200 seconds"),
    ("msd-string", with_("maxSessionDuration", "1h"), "spec.maxSessionDuration", "must be of type integer",
     "spec.maxSessionDuration: must be an integer"),
    ("reserved-tag-keyless", with_("tags", {"team": "a", "keyless.dev/cluster": "x"}), "spec.tags",
     "tag keys starting with keyless.dev/ or aws: are reserved",
     "spec.tags[keyless.dev/cluster]: tag keys starting with 'keyless.dev/' or 'aws:' are reserved"),
    ("reserved-tag-aws-any-case", with_("tags", {"AWS:CreatedBy": "x"}), "spec.tags",
     "tag keys starting with keyless.dev/ or aws: are reserved", "spec.tags[AWS:CreatedBy]: tag keys starting with"),
    ("tag-key-charset", with_("tags", {"a!": "x"}), "spec.tags", "tag keys must be 1..128 characters",
     "spec.tags[a!]: tag key must be 1..128 characters"),
    ("tag-value-charset", with_("tags", {"a": "x#y"}), "spec.tags.a", "should match",
     "spec.tags[a]: tag value must be"),
    ("tag-keys-differ-in-case-only", with_("tags", {"Team": "a", "team": "b"}), "spec.tags",
     "tag keys must differ in more than case", "spec.tags[team]: duplicates tag key 'Team'"),
    ("too-many-tags", with_("tags", {f"k{i}": "v" for i in range(41)}), "spec.tags", "must have at most 40 items",
     "spec.tags: has 41 tags; at most 40 are allowed"),
    ("neither-statements-nor-policies", with_("permissions", {}), "spec.permissions",
     "at least one of statements or managedPolicyArns is required",
     "spec.permissions: at least one of statements or managedPolicyArns is required"),
    ("both-lists-empty", with_("permissions", {"statements": [], "managedPolicyArns": []}), "spec.permissions",
     "at least one of statements or managedPolicyArns is required",
     "spec.permissions: at least one of statements or managedPolicyArns is required"),
    ("no-permissions", with_("permissions", DELETE), "spec.permissions", "Required value",
     "spec.permissions: at least one of statements or managedPolicyArns is required"),
    ("no-service-account", with_("serviceAccountName", DELETE), "spec.serviceAccountName", "Required value",
     "spec.serviceAccountName: is required"),
    ("bad-managed-policy", with_("permissions.managedPolicyArns", ["arn:aws:iam::aws:role/Admin"]),
     "spec.permissions.managedPolicyArns[0]", "should match",
     "spec.permissions.managedPolicyArns[0]: 'arn:aws:iam::aws:role/Admin' is not a managed policy ARN"),
    ("duplicate-managed-policy", with_("permissions.managedPolicyArns", ["arn:aws:iam::aws:policy/A"] * 2),
     "spec.permissions.managedPolicyArns[1]", "Duplicate value",
     "spec.permissions.managedPolicyArns[1]: 'arn:aws:iam::aws:policy/A' is already managedPolicyArns[0]"),
    ("conditions-operator-is-a-string", with_(ST0 + ".conditions", {"StringEquals": "aws:SourceVpc=vpc-1"}),
     "spec.permissions.statements[0].conditions.StringEquals", "must be of type object",
     "spec.permissions.statements[0].conditions[StringEquals]: must be an object"),
    ("conditions-free-form-json", with_(ST0 + ".conditions", {"StringEquals": {"aws:SourceVpc": [{"a": 1}]}}),
     "spec.permissions.statements[0].conditions.StringEquals.aws:SourceVpc[0]", "must be of type string",
     "spec.permissions.statements[0].conditions[StringEquals][aws:SourceVpc][0]: must be a string, not an object"),
    ("conditions-is-a-list", with_(ST0 + ".conditions", [{"StringEquals": {"k": ["v"]}}]),
     "spec.permissions.statements[0].conditions", "must be of type object",
     "spec.permissions.statements[0].conditions: must be an object"),
    ("conditions-unknown-operator", with_(ST0 + ".conditions", {"StringEqual": {"k": ["v"]}}),
     "spec.permissions.statements[0].conditions", "condition operators must be IAM's",
     "spec.permissions.statements[0].conditions[StringEqual]: 'StringEqual' is not an IAM condition operator"),
    ("conditions-null-ifexists", with_(ST0 + ".conditions", {"NullIfExists": {"k": ["true"]}}),
     "spec.permissions.statements[0].conditions", "condition operators must be IAM's",
     "spec.permissions.statements[0].conditions[NullIfExists]: 'NullIfExists' is not an IAM condition operator"),
    ("conditions-key-with-space", with_(ST0 + ".conditions", {"StringEquals": {"aws:Source Vpc": ["v"]}}),
     "spec.permissions.statements[0].conditions[StringEquals]", "condition keys must be 1..256 characters",
     "spec.permissions.statements[0].conditions[StringEquals][aws:Source Vpc]: condition key must be"),
    ("conditions-no-values", with_(ST0 + ".conditions", {"StringEquals": {"k": []}}),
     "spec.permissions.statements[0].conditions.StringEquals.k", "at least 1 items",
     "spec.permissions.statements[0].conditions[StringEquals][k]: must not be empty"),
    ("restart-unknown", with_("restart", "Rollout"), "spec.restart", "Unsupported value",
     "spec.restart: 'Rollout' is not RolloutRestart, DeletePods or None"),
    ("deletion-policy-unknown", with_("deletionPolicy", "Orphan"), "spec.deletionPolicy", "Unsupported value",
     "spec.deletionPolicy: 'Orphan' is not Delete or Retain"),
    ("audience-with-space", with_("audience", "sts amazonaws"), "spec.audience", "should match",
     "spec.audience: 'sts amazonaws' is not an audience"),
    # EKS Pod Identity (issue 12)
    ("mode-unknown", with_("mode", "irsa"), "spec.mode", "Unsupported value",
     "spec.mode: 'irsa' is not IRSA, PodIdentity or Auto"),
    ("target-role-not-a-role", with_("targetRoleArn", "arn:aws:iam::aws:policy/x"), "spec.targetRoleArn",
     "should match", "spec.targetRoleArn: 'arn:aws:iam::aws:policy/x' is not a role ARN"),
    ("pod-identity-field-under-irsa", dict(base_spec(), mode="IRSA", disableSessionTags=True), "spec",
     "apply only to EKS Pod Identity", "spec.disableSessionTags: applies only to EKS Pod Identity"),
    ("session-policy-with-session-tags", dict(base_spec(), mode="PodIdentity", sessionPolicy={"statements": [STMT]}),
     "spec", "session tags disabled", "spec.sessionPolicy: EKS applies an association's session policy only"),
    ("session-policy-statement-bad-action", dict(base_spec(), mode="PodIdentity", disableSessionTags=True,
                                                 sessionPolicy={"statements": [dict(STMT, actions=["iam"])]}),
     "spec.sessionPolicy.statements[0].actions[0]", "should match",
     "spec.sessionPolicy.statements[0].actions[0]: 'iam' is not an action"),
]


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_invalid_is_rejected_by_apiserver_and_keyless(custom, case):
    _, spec, field, fragment, keyless_prefix = case
    body = wi("invalid", spec)
    status, err = api_error(lambda: create(custom, "default", body, dry_run="All"))
    assert status == 422, err
    assert err["reason"] == "Invalid"
    causes = err["details"]["causes"]
    assert any(c.get("field") == field and fragment in c.get("message", "") for c in causes), \
        f"no cause at {field} with '{fragment}': {json.dumps(causes, indent=1)}"
    [res] = keyless_check([as_stored(body)])
    assert res["rc"] == -22 and res["reason"] == "InvalidSpec", res
    assert res["message"].startswith(keyless_prefix), res["message"]


# Valid at the edges: both accept, and keyless accepts what the server stores.
VALID = [
    ("all-condition-operator-forms", with_(ST0 + ".conditions", {
        "StringEqualsIgnoreCase": {"aws:PrincipalTag/team": ["Orders"]},
        "ForAllValues:StringLikeIfExists": {"aws:TagKeys": ["team-*"]},
        "ForAnyValue:ArnNotLike": {"aws:SourceArn": ["arn:aws:sns:*:*:x"]},
        "NumericLessThanEquals": {"s3:max-keys": ["10"]},
        "DateGreaterThanIfExists": {"aws:CurrentTime": ["2026-01-01T00:00:00Z"]},
        "Bool": {"aws:SecureTransport": ["true"]}, "BinaryEquals": {"k": ["QQ=="]},
        "IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]}, "NotIpAddressIfExists": {"aws:SourceIp": ["1.2.3.4/32"]},
        "Null": {"aws:TokenIssueTime": ["false"]}})),
    ("resource-wildcards-everywhere", with_(ST0 + ".resources", [
        "*", "arn:aws:execute-api:*:*:abc123/*/GET/*", "arn:aws-cn:s3:::b/key with space",
        "arn:aws-us-gov:dynamodb:us-gov-west-1:12345678901?:table/t", "arn:aws:iam::aws:policy/x",
        "arn:aws:sqs:us-east-1:123456789012:q:x"])),
    ("action-wildcards", with_(ST0 + ".actions", ["*", "s3:Get?bject", "ec2:Describe*", "execute-api:Invoke"])),
    ("deny-everything", with_(ST0, {"effect": "Deny", "actions": ["*"], "resources": ["*"]})),
    ("empty-sid-and-conditions", with_(ST0, dict(STMT, sid="", conditions={}))),
    ("managed-policies-only", with_("permissions", {"managedPolicyArns": [
        "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/team/a/b_c+d=e,f.g@h-i"]})),
    ("limits", dict(with_("permissions.statements", [dict(STMT, sid=f"S{i}") for i in range(50)]),
                    tags={f"k {i}_.:/=+-@": "" for i in range(40)}, maxSessionDuration=3600,
                    serviceAccountName="a" * 253)),
    ("dotted-sa-name", with_("serviceAccountName", "app.v2-sa")),
    ("pod-identity-all-fields", dict(base_spec(), mode="PodIdentity", disableSessionTags=True,
                                     targetRoleArn="arn:aws:iam::210987654321:role/shared/reader",
                                     sessionPolicy={"statements": [STMT]})),
    ("auto-mode", dict(base_spec(), mode="Auto")),
]


@pytest.mark.parametrize("case", VALID, ids=[c[0] for c in VALID])
def test_valid_edge_cases_are_accepted_by_both(custom, case):
    _, spec = case
    stored = create(custom, "default", wi("valid", spec), dry_run="All")
    assert stored["spec"]["audience"] == "sts.amazonaws.com"
    [res] = keyless_check([as_stored(stored)])
    assert res == {"rc": 0}, res


# --- pruning -------------------------------------------------------------------------


def test_unknown_fields_are_pruned(custom, namespace):
    spec = base_spec()
    spec.update(trustPolicy={"Statement": []}, namespace="kube-system", sub="system:serviceaccount:x:y")
    spec["permissions"]["statements"][0]["principal"] = {"AWS": "*"}
    body = wi("pruned", spec, namespace)
    body["extra"] = 1
    create(custom, namespace, body, field_validation="Ignore")
    got = get(custom, namespace, "pruned")
    assert "extra" not in got
    assert set(got["spec"]) == {"serviceAccountName", "permissions", "audience", "stsRegionalEndpoints",
                                "createServiceAccount", "deletionPolicy"}
    assert "principal" not in got["spec"]["permissions"]["statements"][0]
    # kubectl's default (strict field validation) refuses them outright
    status, err = api_error(lambda: create(custom, namespace, dict(body, metadata={"name": "strict"}),
                                           field_validation="Strict"))
    assert status == 400
    assert 'unknown field "spec.trustPolicy"' in err["message"]
    assert 'unknown field "spec.namespace"' in err["message"]


# --- printer columns, short name, category -------------------------------------------


def test_printer_columns_short_name_and_category(custom, namespace):
    create(custom, namespace, wi("cols", base_spec(), namespace))
    out = kubectl("get", "wi", "-n", namespace).stdout.splitlines()
    assert out[0].split() == ["NAME", "SA", "ROLE", "MODE", "READY", "AGE"]
    assert out[1].split()[:2] == ["cols", "app-sa"]
    patch_status(custom, namespace, "cols", {"roleName": "dev-ns-cols", "mode": "PodIdentity", "conditions": [
        condition("Ready", "True", "Reconciled"), condition("RoleReady", "False", "RoleNotOwned")]})
    row = kubectl("get", "workloadidentities", "-n", namespace, "cols", "--no-headers").stdout.split()
    assert row[:5] == ["cols", "app-sa", "dev-ns-cols", "PodIdentity", "True"]
    assert re.fullmatch(r"\d+[smhd]", row[5])
    # by category, by singular name
    assert "workloadidentity.keyless.dev/cols" in kubectl("get", "keyless", "-n", namespace, "-o", "name").stdout
    assert kubectl("get", "workloadidentity", "cols", "-n", namespace, "-o", "name").stdout.strip() == \
        "workloadidentity.keyless.dev/cols"


# --- status subresource --------------------------------------------------------------


def condition(type_, status, reason, message="", generation=1):
    return {"type": type_, "status": status, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": "2026-11-28T17:00:00Z"}


def patch_status(custom, ns, name, status, **extra):
    body = dict(extra, status=status)
    return custom.patch_namespaced_custom_object_status(GROUP, VERSION, ns, PLURAL, name, body)


def test_status_subresource(custom, namespace):
    create(custom, namespace, wi("st", base_spec(), namespace))
    before = get(custom, namespace, "st")
    status = {"roleArn": "arn:aws:iam::123456789012:role/keyless/dev-ns-st", "roleName": "dev-ns-st",
              "oidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/127.0.0.1:6443",
              "serviceAccount": f"{namespace}/app-sa", "observedGeneration": 1, "stalePods": 2,
              "wiredAt": "2026-11-28T17:00:05Z", "conditions": [condition("Ready", "False", "Reconciling")]}
    # through /status: the status is written, a spec change in the same request is ignored
    patch_status(custom, namespace, "st", status, spec={"serviceAccountName": "hijacked"})
    after = get(custom, namespace, "st")
    assert after["status"] == status
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    # through the main resource: the spec changes (generation bumps), the status does not
    custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, "st", {
        "spec": {"serviceAccountName": "other-sa"}, "status": {"roleName": "hijacked"}})
    main = get(custom, namespace, "st")
    assert main["spec"]["serviceAccountName"] == "other-sa"
    assert main["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert main["status"] == status


@pytest.mark.parametrize("status,field,fragment", [
    ({"conditions": [condition("Ready", "Maybe", "X")]}, "status.conditions[0].status", "Unsupported value"),
    ({"conditions": [condition("Ready", "True", "X"), condition("Ready", "False", "Y")]},
     "status.conditions[1]", "Duplicate value"),
    ({"conditions": [condition("Ready", "True", "has space")]}, "status.conditions[0].reason", "should match"),
    ({"stalePods": -1}, "status.stalePods", "greater than or equal to 0"),
    ({"wiredAt": "yesterday"}, "status.wiredAt", "date-time"),
], ids=["condition-status-enum", "condition-types-unique", "condition-reason-shape", "stale-pods-negative",
        "wired-at-date-time"])
def test_status_is_validated(custom, namespace, status, field, fragment):
    create(custom, namespace, wi("sv", base_spec(), namespace))
    code, err = api_error(lambda: patch_status(custom, namespace, "sv", status))
    assert code == 422, err
    assert any(c.get("field") == field and fragment in c.get("message", "") for c in err["details"]["causes"]), \
        json.dumps(err["details"]["causes"], indent=1)


# --- examples -------------------------------------------------------------------------


def test_examples_apply_and_pass_default_guardrails(custom, tmp_path):
    settings = tmp_path / "settings.yaml"
    # default guardrails, plus the tag keys the examples set (tenants may set none by default)
    settings.write_text("clusterName: e2e\npermissionsBoundaryWaived: true\n"
                        "guardrails: {allowedTagKeys: [app, cost-center]}\n")
    kubectl("apply", "-f", EXAMPLES)
    try:
        objs = [get(custom, ns, name) for ns, name in
                [("logging", "s3-reader"), ("production", "app"), ("staging", "app")]]
        assert objs[0]["spec"]["serviceAccountName"] == "s3-reader-sa"
        assert objs[1]["spec"]["serviceAccountName"] == objs[2]["spec"]["serviceAccountName"] == "app-sa"
        assert objs[1]["spec"]["permissions"] != objs[2]["spec"]["permissions"]
        assert objs[2]["spec"]["createServiceAccount"] is True
        assert keyless_check(objs, settings=str(settings)) == [{"rc": 0}] * 3
        # ...and the same guardrails do bite: Resource "*" for an S3 action
        bad = copy.deepcopy(objs[2])
        bad["spec"]["permissions"]["statements"][2]["actions"].append("s3:ListAllMyBuckets")
        [res] = keyless_check([bad], settings=str(settings))
        assert res["reason"] == "PolicyRejected", res
        assert res["message"].startswith('spec.permissions.statements[2].resources[0]: Resource "*" is only allowed')
    finally:
        kubectl("delete", "-f", EXAMPLES, "--wait=true", "--timeout=90s", check=False)
