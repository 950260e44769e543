"""Tenant-proof identities end to end (issue #8; review findings in brackets):
the real `keyless controller` (ASan+UBSan build) against the local
kube-apiserver, moto and the STS front. Each test runs its own controller(s),
limited to its namespaces, with the settings the scenario needs."""

import json
import os
import subprocess
import uuid

import botocore.exceptions
import pytest
from kubernetes import client

from conftest import aws_client, token_for, wait_until
from controller_env import Controller, install_crd, keyless_role_name, write_settings
from test_controller import (GROUP, PLURAL, VERSION, cond, crd_api, events_of, get_wi, make_sa, make_wi,
                             reconcile_costs, sa_annotations, wait_cond)

ACCOUNT = os.environ.get("AWS_ACCOUNT_ID", "123456789012")


@pytest.fixture(scope="module", autouse=True)
def crd():
    install_crd()


def start(tmp_path, name, namespaces, env=None, **settings):
    guardrails = settings.pop("guardrails", {})
    guardrails.setdefault("includeNamespaces", list(namespaces))
    path = write_settings(str(tmp_path / f"{name}.yaml"), guardrails=guardrails, **settings)
    return Controller(path, str(tmp_path / f"{name}.log"), env=env)


def stop(ctl):
    assert ctl.stop() == 0, ctl.text()[-4000:]


def kubectl(*args):
    subprocess.run(["kubectl", *args], check=True, capture_output=True)


def delete_wi(ns, name, timeout=60):
    try:
        crd_api().delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, name)
    except client.ApiException as e:
        if e.status != 404:
            raise
    wait_until(lambda: name not in {i["metadata"]["name"] for i in crd_api().list_namespaced_custom_object(
        GROUP, VERSION, ns, PLURAL)["items"]}, timeout, f"{ns}/{name} deleted (finalizer done)")


def role_state(iam, name):
    """Everything about a role keyless could change."""
    r = iam.get_role(RoleName=name)["Role"]
    inline = {p: iam.get_role_policy(RoleName=name, PolicyName=p)["PolicyDocument"]
              for p in iam.list_role_policies(RoleName=name)["PolicyNames"]}
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]]
    return json.dumps({"trust": r["AssumeRolePolicyDocument"], "tags": sorted((t["Key"], t["Value"]) for t in r["Tags"]),
                       "inline": inline, "attached": attached, "max": r["MaxSessionDuration"]}, sort_keys=True)


def role_gone(iam, name):
    try:
        iam.get_role(RoleName=name)
        return False
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"] == "NoSuchEntity"


def force_delete_role(iam, name):
    if role_gone(iam, name):
        return
    for p in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=name, PolicyName=p)
    for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=name, PolicyArn=p["PolicyArn"])
    iam.delete_role(RoleName=name)


def create_namespace(core, name):
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    wait_until(lambda: [s for s in core.list_namespaced_service_account(name).items if s.metadata.name == "default"],
               30, "default SA")


# --- [7] names --------------------------------------------------------------------------------------------------

def test_dashes_do_not_collide(core, tmp_path):
    """team-a/app and team/a-app used to share one role name: the second got RoleNotOwned."""
    base = "t" + uuid.uuid4().hex[:6]
    (ns_a, ns_b) = nss = (base + "-a", base)
    for ns in nss:
        create_namespace(core, ns)
    ctl = start(tmp_path, "dashes", nss)
    try:
        make_sa(core, ns_a, "app")
        make_wi(ns_a, "app", "app")
        make_sa(core, ns_b, "a-app")
        make_wi(ns_b, "a-app", "a-app")
        a = wait_cond(ns_a, "app", "Ready", "True")["status"]
        b = wait_cond(ns_b, "a-app", "Ready", "True")["status"]
        assert a["roleName"] == keyless_role_name(ns_a, "app")
        assert b["roleName"] == keyless_role_name(ns_b, "a-app")
        assert a["roleArn"] != b["roleArn"]
        sts = aws_client("sts")
        assert sts.assume_role_with_web_identity(RoleArn=a["roleArn"], RoleSessionName="sa",
                                                 WebIdentityToken=token_for(core, ns_a, "app"))["Credentials"]
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sts.assume_role_with_web_identity(RoleArn=a["roleArn"], RoleSessionName="sb",
                                              WebIdentityToken=token_for(core, ns_b, "a-app"))
        assert e.value.response["Error"]["Code"] == "AccessDenied"
        delete_wi(ns_a, "app")
        delete_wi(ns_b, "a-app")
        iam = aws_client("iam")
        assert role_gone(iam, a["roleName"]) and role_gone(iam, b["roleName"])
    finally:
        stop(ctl)
        for ns in nss:
            core.delete_namespace(ns)


# --- [1] two clusters named alike --------------------------------------------------------------------------------

def test_same_cluster_name_other_issuer_never_touches_the_other_role(core, namespace, tmp_path):
    """Cluster A and cluster B share clusterName but not their OIDC issuer. B, even handed A's
    recorded role in the status, neither changes nor deletes it."""
    iam = aws_client("iam")
    a = start(tmp_path, "a", [namespace])
    try:
        make_sa(core, namespace, "app")
        make_wi(namespace, "app", "app")
        name_a = wait_cond(namespace, "app", "Ready", "True")["status"]["roleName"]
    finally:
        stop(a)
    before = role_state(iam, name_a)
    other = "https://oidc.cluster-b.invalid/id/BBB"
    name_b = keyless_role_name(namespace, "app", issuer=other)
    assert name_b != name_a
    b = start(tmp_path, "b", [namespace], oidcIssuer=other)
    try:
        def moved():
            o = get_wi(namespace, "app")
            st = o.get("status") or {}
            return o if st.get("roleName") == name_b and not st.get("retiredRoles") and \
                cond(o, "RoleReady").get("status") == "True" else None
        o = wait_until(moved, 60, "B's own role, and A's role let go")
        assert role_state(iam, name_a) == before  # untouched
        trust = json.dumps(iam.get_role(RoleName=name_b)["Role"]["AssumeRolePolicyDocument"])
        assert "oidc.cluster-b.invalid/id/BBB:sub" in trust
        tags = {t["Key"]: t["Value"] for t in iam.get_role(RoleName=name_b)["Role"]["Tags"]}
        assert tags["keyless.dev/issuer"] == "oidc.cluster-b.invalid/id/BBB"
        wait_until(lambda: "RoleNotOwned" in events_of(namespace, "app"), 15, "the RoleNotOwned event")
        assert o["status"]["roleArn"].endswith("/" + name_b)
        delete_wi(namespace, "app")
        assert role_gone(iam, name_b)
        assert role_state(iam, name_a) == before
    finally:
        stop(b)
        force_delete_role(iam, name_a)
        for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
            if p["Arn"].endswith("oidc-provider/oidc.cluster-b.invalid/id/BBB"):
                iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])


# --- [6, 15, 14] service accounts ---------------------------------------------------------------------------------

def test_hand_annotated_service_account_is_not_taken_over(core, apps, namespace, tmp_path):
    theirs = f"arn:aws:iam::{ACCOUNT}:role/payments-prod"
    make_sa(core, namespace, "payments")
    kubectl("-n", namespace, "annotate", "sa", "payments", f"eks.amazonaws.com/role-arn={theirs}")
    labels = {"app": "payments"}
    apps.create_namespaced_deployment(namespace, client.V1Deployment(
        metadata=client.V1ObjectMeta(name="payments"),
        spec=client.V1DeploymentSpec(replicas=1, selector=client.V1LabelSelector(match_labels=labels),
                                     template=client.V1PodTemplateSpec(
                                         metadata=client.V1ObjectMeta(labels=labels),
                                         spec=client.V1PodSpec(service_account_name="payments", containers=[
                                             client.V1Container(name="c", image="example.invalid/p:1")])))))
    ctl = start(tmp_path, "takeover", [namespace])
    try:
        make_wi(namespace, "grab", "payments")
        o = wait_cond(namespace, "grab", "ServiceAccountReady", "False", "ServiceAccountManagedElsewhere")
        msg = cond(o, "ServiceAccountReady")["message"]
        # the local apiserver records no managedFields entry for kubectl annotate on this SA; keyless then
        # counts the annotation as someone else's, and says so
        assert ("kubectl-annotate" in msg or "(no managedFields entry)" in msg), msg
        assert "keyless.dev/allow-takeover=true" in msg, msg
        assert cond(o, "Ready")["status"] == "False"
        # the reconciles after the first report again and write nothing (no PATCH per reconcile)
        key = f"{namespace}/grab"
        wait_until(lambda: len(ctl.reconcile_lines(key)) >= 2, 30, "a second reconcile")
        assert all(c[2] == 0 for c in reconcile_costs(ctl, key)[1:]), reconcile_costs(ctl, key)
        assert sa_annotations(core, namespace, "payments")["eks.amazonaws.com/role-arn"] == theirs
        dep = apps.read_namespaced_deployment("payments", namespace)
        assert "keyless.dev/restarted-for" not in (dep.metadata.annotations or {})
        # the service account's owner opts in: keyless takes it over (and restarts the workload)
        kubectl("-n", namespace, "annotate", "sa", "payments", "keyless.dev/allow-takeover=true")
        st = wait_cond(namespace, "grab", "ServiceAccountReady", "True")["status"]
        assert sa_annotations(core, namespace, "payments")["eks.amazonaws.com/role-arn"] == st["roleArn"]
        wait_until(lambda: (apps.read_namespaced_deployment("payments", namespace).metadata.annotations or {})
                   .get("keyless.dev/restarted-for", "").startswith(st["roleArn"] + " "), 30, "the Deployment restarted")
        wait_until(lambda: "AnnotationTakenOver" in events_of(namespace, "grab"), 15, "the AnnotationTakenOver event")
        delete_wi(namespace, "grab")
    finally:
        stop(ctl)


def test_foreign_audience_annotation_is_reported_not_reapplied(core, namespace, tmp_path):
    make_sa(core, namespace, "app")
    kubectl("-n", namespace, "annotate", "sa", "app", "eks.amazonaws.com/audience=foo")
    ctl = start(tmp_path, "audience-annotation", [namespace])
    try:
        make_wi(namespace, "app", "app")
        o = wait_cond(namespace, "app", "ServiceAccountReady", "False", "AnnotationOwnedElsewhere")
        assert "eks.amazonaws.com/audience" in cond(o, "ServiceAccountReady")["message"]
        assert cond(o, "Ready")["status"] == "False"
        key = f"{namespace}/app"
        wait_until(lambda: len(ctl.reconcile_lines(key)) >= 2, 30, "a second reconcile")
        assert all(c[2] == 0 for c in reconcile_costs(ctl, key)[1:]), reconcile_costs(ctl, key)  # no PATCH each time
        assert sa_annotations(core, namespace, "app")["eks.amazonaws.com/audience"] == "foo"
        # whoever set it removes it: ready
        kubectl("-n", namespace, "annotate", "sa", "app", "eks.amazonaws.com/audience-")
        wait_cond(namespace, "app", "Ready", "True")
        delete_wi(namespace, "app")
    finally:
        stop(ctl)


def test_created_service_account_keeps_its_owner_and_goes_with_the_object(core, namespace, tmp_path):
    ctl = start(tmp_path, "created-sa", [namespace])
    try:
        make_wi(namespace, "app", "made", createServiceAccount=True)
        o = wait_cond(namespace, "app", "Ready", "True")
        uid = o["metadata"]["uid"]
        sa = core.read_namespaced_service_account("made", namespace)
        assert [r.uid for r in sa.metadata.owner_references or []] == [uid]
        # drift: the annotation removed by hand, restored by keyless; the ownerReference survives the apply
        kubectl("-n", namespace, "annotate", "sa", "made", "eks.amazonaws.com/role-arn-")
        wait_until(lambda: sa_annotations(core, namespace, "made").get("eks.amazonaws.com/role-arn")
                   == o["status"]["roleArn"], 30, "the annotation restored")
        sa = core.read_namespaced_service_account("made", namespace)
        assert [r.uid for r in sa.metadata.owner_references or []] == [uid]
        delete_wi(namespace, "app")

        def gone():
            try:
                core.read_namespaced_service_account("made", namespace)
                return False
            except client.ApiException as e:
                return e.status == 404
        wait_until(gone, 30, "the service account keyless created deleted with the object")
    finally:
        stop(ctl)


def test_controller_namespace_is_excluded_by_default(core, namespace, tmp_path):
    ctl = start(tmp_path, "own-ns", [namespace], env={"POD_NAMESPACE": namespace})
    try:
        make_sa(core, namespace, "keyless")
        make_wi(namespace, "grab", "keyless")
        o = wait_cond(namespace, "grab", "Ready", "False", "NamespaceNotAllowed")
        assert "allowControllerNamespace" in cond(o, "Ready")["message"]
        assert "eks.amazonaws.com/role-arn" not in sa_annotations(core, namespace, "keyless")
        delete_wi(namespace, "grab")
    finally:
        stop(ctl)


# --- [9] guardrails as an invariant, [10] moves without orphans ---------------------------------------------------

def test_guardrails_tightened_while_ready_revoke(core, namespace, tmp_path):
    iam = aws_client("iam")
    ctl = start(tmp_path, "before", [namespace])
    try:
        make_sa(core, namespace, "app")
        make_wi(namespace, "app", "app")
        st = wait_cond(namespace, "app", "Ready", "True")["status"]
    finally:
        stop(ctl)
    name = st["roleName"]
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["keyless"]
    tight = start(tmp_path, "tight", [namespace], guardrails={
        "includeNamespaces": [namespace], "deniedActions": ["iam:*", "sts:*", "organizations:*", "*", "s3:*"]})
    try:
        o = wait_cond(namespace, "app", "Ready", "False", "PolicyRejected")
        wait_until(lambda: not iam.list_role_policies(RoleName=name)["PolicyNames"], 30, "the permissions revoked")
        assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust  # trust kept
        assert sa_annotations(core, namespace, "app")["eks.amazonaws.com/role-arn"] == st["roleArn"]
        o = wait_until(lambda: (lambda o: o if "removed the permissions" in cond(o, "RoleReady").get("message", "")
                                else None)(get_wi(namespace, "app")), 30, "the status saying so")
        wait_until(lambda: "PermissionsRevoked" in events_of(namespace, "app"), 15, "the PermissionsRevoked event")
    finally:
        stop(tight)
    ctl = start(tmp_path, "after", [namespace])
    try:
        wait_cond(namespace, "app", "Ready", "True")
        assert iam.list_role_policies(RoleName=name)["PolicyNames"] == ["keyless"]
        delete_wi(namespace, "app")
    finally:
        stop(ctl)


def test_prefix_change_moves_the_identity_without_orphans(core, namespace, tmp_path):
    iam = aws_client("iam")
    ctl = start(tmp_path, "old-prefix", [namespace])
    try:
        make_sa(core, namespace, "app")
        make_wi(namespace, "app", "app")
        old = wait_cond(namespace, "app", "Ready", "True")["status"]
    finally:
        stop(ctl)
    new_name = keyless_role_name(namespace, "app", prefix="moved-")
    ctl = start(tmp_path, "new-prefix", [namespace], roleNamePrefix="moved-")
    try:
        def moved():
            o = get_wi(namespace, "app")
            st = o.get("status") or {}
            return o if st.get("roleName") == new_name and not st.get("retiredRoles") and \
                cond(o, "Ready").get("status") == "True" else None
        st = wait_until(moved, 60, "the identity moved to the new role")["status"]
        assert role_gone(iam, old["roleName"])
        assert not role_gone(iam, new_name)
        assert sa_annotations(core, namespace, "app")["eks.amazonaws.com/role-arn"] == st["roleArn"]
        assert {"RoleRenamed", "RoleDeleted"} <= events_of(namespace, "app")
        delete_wi(namespace, "app")
        assert role_gone(iam, new_name)
        assert "eks.amazonaws.com/role-arn" not in sa_annotations(core, namespace, "app")
    finally:
        stop(ctl)


# --- [5] audiences ------------------------------------------------------------------------------------------------

def provider_client_ids(iam, issuer):
    host = issuer.removeprefix("https://")
    for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        if p["Arn"].endswith("oidc-provider/" + host):
            return iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])["ClientIDList"]
    return []


def test_audiences_are_governed(core, namespace, tmp_path, issuer):
    iam = aws_client("iam")
    k8s = "https://kubernetes.default.svc"
    make_sa(core, namespace, "app")
    # by default only sts.amazonaws.com: the apiserver's own audience would turn every automounted token
    # into a web-identity token for roles that check only :sub
    ctl = start(tmp_path, "default-audiences", [namespace])
    try:
        make_wi(namespace, "wide", "app", audience=k8s)
        o = wait_cond(namespace, "wide", "Ready", "False", "PolicyRejected")
        assert "spec.audience" in cond(o, "Ready")["message"]
        assert k8s not in provider_client_ids(iam, issuer)
        delete_wi(namespace, "wide")
    finally:
        stop(ctl)
    ctl = start(tmp_path, "allowed-audiences", [namespace], guardrails={
        "includeNamespaces": [namespace], "allowedAudiences": ["sts.amazonaws.com", k8s]})
    try:
        make_wi(namespace, "wide", "app", audience=k8s)
        wait_cond(namespace, "wide", "Ready", "True")
        assert k8s in provider_client_ids(iam, issuer)
        assert sa_annotations(core, namespace, "app")["eks.amazonaws.com/audience"] == k8s
        delete_wi(namespace, "wide")
        wait_until(lambda: k8s not in provider_client_ids(iam, issuer), 30, "the audience removed again")
        assert "sts.amazonaws.com" in provider_client_ids(iam, issuer)
    finally:
        stop(ctl)


# --- [11] the OIDC provider's thumbprint is pinned only from a verified chain ------------------------------------

def delete_provider(iam, issuer):
    host = issuer.removeprefix("https://")
    for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        if p["Arn"].endswith("oidc-provider/" + host):
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])


def provider_of(iam, issuer):
    host = issuer.removeprefix("https://")
    for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        if p["Arn"].endswith("oidc-provider/" + host):
            return iam.get_open_id_connect_provider(OpenIDConnectProviderArn=p["Arn"])
    return None


def presented_top_certificate_sha1(issuer):
    """SHA-1 of the last certificate the issuer presents (AWS: 'the top intermediate CA'), by openssl."""
    hostport = issuer.removeprefix("https://").split("/")[0]
    shown = subprocess.run(["openssl", "s_client", "-connect", hostport, "-showcerts"], input=b"",
                           capture_output=True, timeout=20).stdout.decode()
    pems = ["-----BEGIN CERTIFICATE-----" + b.split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n"
            for b in shown.split("-----BEGIN CERTIFICATE-----")[1:]]
    assert pems, shown
    fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha1"], input=pems[-1].encode(),
                        capture_output=True, check=True).stdout.decode()
    return fp.strip().split("=", 1)[1].replace(":", "").lower()


@pytest.mark.parametrize("with_ca", [False, True])
def test_thumbprint_pinned_only_when_the_issuer_verifies(core, namespace, tmp_path, issuer, with_ca):
    iam = aws_client("iam")
    delete_provider(iam, issuer)
    make_sa(core, namespace, "app")
    # without oidcIssuerCA the system store is used, which does not know the local cluster's CA
    ctl = start(tmp_path, f"ca-{with_ca}", [namespace], oidcIssuerCA=os.environ["KEYLESS_CA_FILE"] if with_ca else None)
    try:
        make_wi(namespace, "app", "app")
        wait_cond(namespace, "app", "Ready", "True")
        p = provider_of(iam, issuer)
        assert p is not None
        if with_ca:
            assert p["ThumbprintList"] == [presented_top_certificate_sha1(issuer)]
            assert "NOT pinned" not in ctl.text()
        else:
            assert p["ThumbprintList"] == []
            assert "NOT pinned" in ctl.text()
        delete_wi(namespace, "app")
    finally:
        stop(ctl)


# --- [21] an object name of 253 characters still gets Events (names at most 253) -------------------------------

def test_longest_object_name_gets_events(core, namespace, tmp_path):
    iam = aws_client("iam")
    name = "w" * 240 + "-" + "x" * 12  # 253 characters, the longest a name may be
    make_sa(core, namespace, "app")
    ctl = start(tmp_path, "long-name", [namespace])
    try:
        make_wi(namespace, name, "app")
        st = wait_cond(namespace, name, "Ready", "True")["status"]
        assert iam.get_role(RoleName=st["roleName"])
        wait_until(lambda: "RoleCreated" in events_of(namespace, name), 15, "the RoleCreated event")
        delete_wi(namespace, name)
        assert role_gone(iam, st["roleName"])
    finally:
        stop(ctl)
