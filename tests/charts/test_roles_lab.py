"""The turnout-operator and turnout-viewer ClusterRoles against the lab, as ServiceAccounts
bound to them in one namespace: every CLI verb works as operator, every write is refused as
viewer (exit 6, nothing changed) while every read works, and the RBAC preflight greys the
viewer's actions out."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.charts.charts import TURNOUT_CHART, run_helm, value_set, values_file
from tests.charts.test_chart_lab import install
from tests.kube.conftest import get, kubectl, turnout
from tests.lab.conftest import Lab
from turnout.backend.cli.connect import connect
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config

pytestmark = pytest.mark.lab
EXIT_FORBIDDEN = 6

READS = [("status", "shop"), ("events", "shop"), ("history", "shop"), ("pod", "shop")]
WRITES = [  # in an order each succeeds in as operator, from 10 % to green
    ("weight", "shop", "30"), ("step", "shop"), ("promote", "shop"), ("abort", "shop"),
    ("lock", "shop"), ("unlock", "shop"), ("scale", "shop", "green", "2"),
    ("set-image", "shop", "green", "registry.local/shop:1.6.0"),
    ("switch", "shop", "--to", "green"), ("rollback", "shop"),
    ("deploy", "shop", "--image", "registry.local/shop:1.7.0", "--strategy", "instant",
     "--analysis", "1s", "--monitor", "1s", "--interval", "0.5s"),
]


@pytest.fixture(scope="module")
def roles(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The turnout chart's roles (no guard) installed once; an upgrade when already there."""
    home = tmp_path_factory.mktemp("helm")
    values = {"guard": {"enabled": False}}
    run_helm("upgrade", "--install", "turnout-roles", str(TURNOUT_CHART), "--namespace", "default",
             "--kubeconfig", lab.kubeconfig, "--kube-context", "lab",
             "--values", str(values_file(values, home)), home=home)


def as_account(lab: Lab, namespace: str, role: str, folder: Path) -> str:
    """A ServiceAccount bound to ClusterRole turnout-ROLE in `namespace`; its kubeconfig."""
    kubectl(lab, "-n", namespace, "create", "serviceaccount", role)
    kubectl(lab, "-n", namespace, "create", "rolebinding", role, f"--clusterrole=turnout-{role}",
            f"--serviceaccount={namespace}:{role}")
    token = kubectl(lab, "-n", namespace, "create", "token", role, "--duration=1h").strip()
    lab_config: dict[str, Any] = yaml.safe_load(Path(lab.kubeconfig).read_text())
    context = next(c for c in lab_config["contexts"] if c["name"] == "lab")["context"]
    cluster = next(c for c in lab_config["clusters"] if c["name"] == context["cluster"])
    config = {"apiVersion": "v1", "kind": "Config", "current-context": role,
              "clusters": [cluster], "users": [{"name": role, "user": {"token": token}}],
              "contexts": [{"name": role, "context": {"cluster": cluster["name"], "user": role,
                                                      "namespace": namespace}}]}
    path = folder / f"{role}.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.fixture
def app(lab: Lab, restricted_namespace: str, tmp_path: Path) -> str:
    """`shop` from the chart: nginx at 10 %, one replica per color, no HPA."""
    install(lab, restricted_namespace, {**value_set("nginx", tls=True, hpa=False), "replicas": 1},
            tmp_path)
    return restricted_namespace


def objects_now(lab: Lab, ns: str) -> str:
    """What a write would change: the app's Services, Ingresses, Deployments, Leases and
    ConfigMaps (resourceVersions included)."""
    return json.dumps([get(lab, ns, kind)["items"] for kind in
                       ("services", "ingresses", "deployments", "leases", "configmaps")],
                      sort_keys=True)


def test_every_verb_works_as_operator(lab: Lab, roles: None, app: str, tmp_path: Path) -> None:
    config = as_account(lab, app, "operator", tmp_path)
    for verb in READS:
        done = turnout(lab, *verb, "-n", app, kubeconfig=config)
        assert done.code == 0, f"{verb}: {done.err}"
    for verb in WRITES:
        done = turnout(lab, *verb, "-n", app, "--yes", kubeconfig=config)
        assert done.code == 0, f"{verb}: {done.err}"
    live = get(lab, app, "service/shop")["spec"]["selector"]["turnout.dev/color"]
    (container,) = get(lab, app, f"deployment/shop-{live}")["spec"]["template"]["spec"][
        "containers"]
    assert container["image"] == "registry.local/shop:1.7.0"


def test_every_write_is_refused_as_viewer_and_every_read_works(
        lab: Lab, roles: None, app: str, tmp_path: Path) -> None:
    """Each write is tried as viewer, then made as admin, so that every refused write had
    real work to do (an abort at 100/0 or an unlock without a lock would write nothing)."""
    config = as_account(lab, app, "viewer", tmp_path)
    for verb in READS:
        done = turnout(lab, *verb, "-n", app, kubeconfig=config)
        assert done.code == 0, f"{verb}: {done.err}"
    for verb in WRITES:
        before = objects_now(lab, app)
        done = turnout(lab, *verb, "-n", app, "--yes", kubeconfig=config)
        assert done.code == EXIT_FORBIDDEN, f"{verb}: exit {done.code} {done.err}"
        assert "forbidden" in done.err.lower() or "may not" in done.err, f"{verb}: {done.err}"
        assert objects_now(lab, app) == before, f"{verb} changed something"
        made = turnout(lab, *verb, "-n", app, "--yes")
        assert made.code == 0, f"{verb} as admin: {made.err}"


async def test_the_preflight_greys_out_the_viewers_actions_only(
        lab: Lab, roles: None, app: str, tmp_path: Path) -> None:
    blockers = {}
    for role in ("operator", "viewer"):
        args = argparse.Namespace(kubeconfig=as_account(lab, app, role, tmp_path), context=role,
                                  read_only=False, namespace=app)
        service = connect(CliContext(args=args, config=Config(request_timeout=5.0)))
        try:
            blockers[role] = await service.write_blocker(await service.app("shop", app))
        finally:
            await service.close()
    assert blockers["operator"] == ""
    assert "may not patch services" in blockers["viewer"]
    assert "may not patch ingresses" in blockers["viewer"]


def test_the_operator_cannot_reach_beyond_turnouts_verbs(lab: Lab, roles: None, app: str,
                                                         tmp_path: Path) -> None:
    config = as_account(lab, app, "operator", tmp_path)
    for verb, what in (("get", "secrets"), ("create", "deployments"), ("delete", "services"),
                       ("create", "rolebindings")):
        done = subprocess.run(["kubectl", "--kubeconfig", config, "auth", "can-i", verb, what],
                              capture_output=True, text=True, timeout=30)
        assert done.stdout.strip() == "no", f"{verb} {what}: {done.stdout}"
