"""The guard's in-cluster deployment and the credentials a real cluster hands out.

deploy/guard.yaml is applied to the lab as it is; the guard then runs with its
ServiceAccount's own token — read from a mounted-token folder the way it is in a
pod, and from a kubeconfig `tokenFile` — so the ClusterRole is proved to be
enough for a rollback and no more. Exec credential plugins (what EKS, GKE and
AKS kubeconfigs use) are real programs here that print an ExecCredential.
"""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.kube.conftest import REPO, get, kubectl, seed_app, turnout
from tests.lab.conftest import Lab
from turnout.backend.config import Conventions
from turnout.backend.gate import WriteGate
from turnout.backend.kube import KubeCluster, KubeHttp, in_cluster_target
from turnout.backend.service import ReleaseService

pytestmark = pytest.mark.lab
SA = "system:serviceaccount:turnout-system:turnout-guard"


@pytest.fixture(scope="module")
def guard_account(lab: Lab) -> str:
    """deploy/guard.yaml applied to the lab; a fresh token of its ServiceAccount."""
    kubectl(lab, "apply", "-f", str(REPO / "deploy" / "guard.yaml"))
    return kubectl(lab, "-n", "turnout-system", "create", "token", "turnout-guard",
                   "--duration=1h").strip()


def _lab_cluster(lab: Lab) -> tuple[str, str]:
    """The lab API server's URL and CA (PEM)."""
    config = yaml.safe_load(Path(lab.kubeconfig).read_text())
    cluster = config["clusters"][0]["cluster"]
    return cluster["server"], base64.b64decode(cluster["certificate-authority-data"]).decode()


def _kubeconfig(lab: Lab, path: Path, user: dict[str, object]) -> str:
    server, ca = _lab_cluster(lab)
    (path.parent / "ca.crt").write_text(ca)
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority": "ca.crt"}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": user}]}))
    return str(path)


def test_the_manifest_runs_and_its_role_grants_only_what_a_rollback_needs(
        lab: Lab, guard_account: str) -> None:
    kubectl(lab, "-n", "turnout-system", "wait", "--for=condition=Available", "--timeout=60s",
            "deployment/turnout-guard")
    pod = get(lab, "turnout-system", "pods")["items"][0]
    assert pod["spec"]["serviceAccountName"] == "turnout-guard"

    def can(verb: str, what: str) -> bool:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", lab.kubeconfig, "--context", "lab", "auth", "can-i",
             verb, what, "--as", SA, "-A"], capture_output=True, text=True, timeout=30)
        return done.stdout.strip() == "yes"

    for verb, what in [("patch", "services"), ("patch", "ingresses.networking.k8s.io"),
                       ("patch", "httproutes.gateway.networking.k8s.io"), ("get", "pods/log"),
                       ("create", "leases.coordination.k8s.io"), ("create", "events"),
                       ("patch", "deployments.apps"), ("watch", "pods"), ("get", "services/proxy")]:
        assert can(verb, what), (verb, what)
    for verb, what in [("get", "secrets"), ("create", "pods/exec"), ("create", "deployments.apps"),
                       ("delete", "services")]:
        assert not can(verb, what), (verb, what)


async def test_in_cluster_credentials_roll_back_an_app(
        lab: Lab, lab_namespace: str, guard_account: str, tmp_path: Path) -> None:
    """The pod's view: KUBERNETES_SERVICE_HOST/PORT and the mounted token, CA and namespace."""
    seed_app(lab, lab_namespace, "shop", "service")
    assert turnout(lab, "-n", lab_namespace, "switch", "shop", "--to", "green", "--yes").code == 0
    server, ca = _lab_cluster(lab)
    mount = tmp_path / "serviceaccount"
    mount.mkdir()
    (mount / "token").write_text(guard_account)
    (mount / "ca.crt").write_text(ca)
    (mount / "namespace").write_text("turnout-system")
    url = urlsplit(server)
    target = in_cluster_target(mount, {"KUBERNETES_SERVICE_HOST": str(url.hostname),
                                       "KUBERNETES_SERVICE_PORT": str(url.port)})
    assert target is not None and target.namespace == "turnout-system"
    assert guard_account not in repr(target)
    cluster = KubeCluster(KubeHttp(target, WriteGate(), 10.0), target.context, Conventions())
    service = ReleaseService(cluster)
    try:
        assert await cluster.identity() == SA
        result = await service.rollback("shop", namespace=lab_namespace, reason="in-cluster test")
        assert (result.before.live, result.after.live) == ("green", "blue")
    finally:
        await service.close()
    selector = get(lab, lab_namespace, "service/shop")["spec"]["selector"]
    assert selector["turnout.dev/color"] == "blue"


def test_no_mounted_token_means_not_in_cluster(tmp_path: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    assert in_cluster_target(tmp_path, env) is None
    (tmp_path / "token").write_text("t")
    assert in_cluster_target(tmp_path, {}) is None


def test_guard_once_with_the_accounts_token_file(lab: Lab, lab_namespace: str, guard_account: str,
                                                 tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    (tmp_path / "token").write_text(guard_account + "\n")
    config = _kubeconfig(lab, tmp_path / "config", {"tokenFile": "token"})
    run = turnout(lab, "-n", lab_namespace, "guard", "--disarm", "shop", kubeconfig=config)
    assert run.code == 0, run.err  # the guard-state annotation written with the account's token
    annotations = get(lab, lab_namespace, "service/shop")["metadata"]["annotations"]
    assert "disarmed" in annotations.values()
    run = turnout(lab, "-n", lab_namespace, "guard", "--once", "shop", "-o", "json", kubeconfig=config)
    assert run.code in (0, 32), run.err  # passed, or held on a measurement the lab cannot give
    assert guard_account not in run.out + run.err
    items = json.loads(run.out)["items"]
    assert {v["signal"] for item in items for v in item["verdicts"]} >= {"restarts", "health"}


def _plugin(tmp_path: Path, body: str) -> Path:
    """An exec credential plugin: a Python script printing an ExecCredential."""
    script = tmp_path / "plugin"
    script.write_text(f"#!{sys.executable}\nimport json, os, pathlib, sys\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _admin_token(lab: Lab) -> str:
    config = yaml.safe_load(Path(lab.kubeconfig).read_text())
    return next(u["user"]["token"] for u in config["users"] if u["name"] == "lab")


def test_exec_plugin_token_refreshed_after_a_401(lab: Lab, tmp_path: Path) -> None:
    """The first token the plugin gives is refused; Turnout runs it again once and goes on."""
    calls = tmp_path / "calls"
    plugin = _plugin(tmp_path, f"""
calls = pathlib.Path({str(calls)!r})
n = len(calls.read_text()) if calls.exists() else 0
calls.write_text("x" * (n + 1))
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
assert info["kind"] == "ExecCredential" and info["spec"]["interactive"] is False
token = "expired-token" if n == 0 else os.environ["LAB_TOKEN"]
print(json.dumps({{"apiVersion": info["apiVersion"], "kind": "ExecCredential",
                  "status": {{"token": token}}}}))""")
    config = _kubeconfig(lab, tmp_path / "config", {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
        "env": [{"name": "LAB_TOKEN", "value": _admin_token(lab)}], "interactiveMode": "Never"}})
    run = turnout(lab, "-n", "shop", "status", "checkout", "-o", "json", kubeconfig=config)
    assert run.code == 0, run.err
    assert json.loads(run.out)["name"] == "checkout"
    assert calls.read_text() == "xx"
    assert _admin_token(lab) not in run.out + run.err


def test_a_failing_exec_plugin_is_a_one_line_config_error(lab: Lab, tmp_path: Path) -> None:
    plugin = _plugin(tmp_path, 'print("token expired: run `cloud login`", file=sys.stderr); sys.exit(4)')
    config = _kubeconfig(lab, tmp_path / "config", {"exec": {"command": str(plugin)}})
    run = turnout(lab, "status", kubeconfig=config)
    assert run.code == 3
    assert run.err.strip().splitlines() == [
        "turnout: error: context 'c': credential plugin 'plugin' exited with 4: "
        "token expired: run `cloud login`"]
