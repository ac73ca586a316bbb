"""Actions against a real API server: conditional writes, conflicts, dry run, refusals."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.kube.conftest import REPO, get, kubectl, seed_app, turnout
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
MUTATIONS = [("switch", "shop", "--to", "green"), ("weight", "shop", "40"), ("step", "shop"),
             ("promote", "shop"), ("promote", "shop", "--full"), ("abort", "shop"),
             ("rollback", "shop"), ("scale", "shop", "green", "1"),
             ("set-image", "shop", "green", "registry.local/shop:9.9.9")]


def versions(lab: Lab, ns: str) -> dict[str, str]:
    """resourceVersion of every object of the app."""
    items = get(lab, ns, "deployments,services,ingresses")["items"]
    return {f"{i['kind']}/{i['metadata']['name']}": i["metadata"]["resourceVersion"]
            for i in items}


def canary_weight(lab: Lab, ns: str) -> int:
    return int(get(lab, ns, "ingress/shop-canary")["metadata"]["annotations"][WEIGHT])


def test_weight_step_promote_on_nginx(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    assert turnout(lab, "-n", lab_namespace, "weight", "shop", "30", "--yes").code == 0
    assert canary_weight(lab, lab_namespace) == 30
    assert turnout(lab, "-n", lab_namespace, "step", "shop", "--yes").code == 0
    assert canary_weight(lab, lab_namespace) == 50
    run = turnout(lab, "-n", lab_namespace, "promote", "shop", "--full", "--yes", "-o", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["after"]["live"] == "green"
    selector = "turnout.dev/color"
    assert get(lab, lab_namespace, "service/shop")["spec"]["selector"][selector] == "green"
    assert get(lab, lab_namespace, "service/shop-preview")["spec"]["selector"][selector] == "blue"
    assert canary_weight(lab, lab_namespace) == 0


def test_gateway_weights_sum_to_100(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "gateway")
    assert turnout(lab, "-n", lab_namespace, "weight", "shop", "25", "--yes").code == 0
    refs = get(lab, lab_namespace, "httproute/shop")["spec"]["rules"][0]["backendRefs"]
    assert {r["name"]: r["weight"] for r in refs} == {"shop-blue": 75, "shop-green": 25}


def test_dry_run_persists_nothing(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    before = versions(lab, lab_namespace)
    run = turnout(lab, "-n", lab_namespace, "weight", "shop", "70", "--dry-run", "-o", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["dry_run"] is True
    assert versions(lab, lab_namespace) == before and canary_weight(lab, lab_namespace) == 10


def test_scale_and_set_image(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "none")
    assert turnout(lab, "-n", lab_namespace, "scale", "shop", "green", "1", "--yes").code == 0
    assert get(lab, lab_namespace, "deployment/shop-green")["spec"]["replicas"] == 1
    image = "registry.local/shop:2.0.0"
    run = turnout(lab, "-n", lab_namespace, "set-image", "shop", "green", image, "--yes")
    assert run.code == 0, run.err
    spec = get(lab, lab_namespace, "deployment/shop-green")["spec"]["template"]
    assert spec["spec"]["containers"][0]["image"] == image
    assert spec["metadata"]["labels"]["app.kubernetes.io/version"] == "2.0.0"


def test_two_concurrent_weights_exactly_one_wins(lab: Lab, lab_namespace: str,
                                                tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    gate = tmp_path / "gate"
    env = {"TURNOUT_TEST_PAUSE": f"before-write={gate}"}
    procs = [_spawn(lab, lab_namespace, percent, env) for percent in ("30", "60")]
    _release_when_reached(gate, procs)
    results = [(p.wait(timeout=60), p.stderr.read() if p.stderr else "") for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 5], results
    loser = next(err for code, err in results if code == 5)
    assert "changed by someone else" in loser
    assert canary_weight(lab, lab_namespace) in (30, 60)


def _spawn(lab: Lab, ns: str, percent: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(REPO / ".venv/bin/turnout"), "--kubeconfig", lab.kubeconfig, "-n", ns, "weight",
         "shop", percent, "--yes"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        stdin=subprocess.DEVNULL, env={**os.environ, **env})


def _release_when_reached(gate: Path, procs: list[subprocess.Popen[str]],
                          between: Callable[[], object] = lambda: None) -> None:
    """Wait until every process has read the app and holds before its write, run
    `between`, then let them all write."""
    deadline = time.monotonic() + 60
    while len(list(gate.parent.glob(f"{gate.name}.reached.*"))) < len(procs):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs), \
            [p.stderr.read() if p.stderr and p.poll() is not None else "" for p in procs]
        time.sleep(0.05)
    between()
    gate.touch()


def test_conflict_after_a_kubectl_change_names_the_difference(lab: Lab, lab_namespace: str,
                                                              tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    gate = tmp_path / "gate"
    proc = _spawn(lab, lab_namespace, "30", {"TURNOUT_TEST_PAUSE": f"before-write={gate}"})
    _release_when_reached(gate, [proc], lambda: kubectl(
        lab, "-n", lab_namespace, "annotate", "--overwrite", "ingress/shop-canary", f"{WEIGHT}=20"))
    assert proc.wait(timeout=60) == 5
    err = proc.stderr.read() if proc.stderr else ""
    assert "changed by someone else" in err and "90/10 -> 80/20" in err
    assert canary_weight(lab, lab_namespace) == 20


@pytest.mark.parametrize("how", ["--read-only", "lab-readonly"])
def test_every_mutation_is_refused(lab: Lab, lab_namespace: str, how: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    before = versions(lab, lab_namespace)
    flags: list[str] = ["--read-only"] if how == "--read-only" else ["--context", "lab-readonly"]
    expected = 7 if how == "--read-only" else 6
    for command in MUTATIONS:
        run = turnout(lab, *flags, "-n", lab_namespace, *command, "--yes")
        assert run.code == expected, (command, run.err)
    assert versions(lab, lab_namespace) == before


def test_writes_without_yes_in_a_script_are_refused(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    before: dict[str, Any] = versions(lab, lab_namespace)
    assert turnout(lab, "-n", lab_namespace, "weight", "shop", "40").code == 2
    assert versions(lab, lab_namespace) == before


def test_rbac_preflight_names_what_is_not_allowed_before_writing(lab: Lab,
                                                                 lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    before = versions(lab, lab_namespace)
    run = turnout(lab, "--context", "lab-readonly", "-n", lab_namespace, "promote", "shop",
                  "--full", "--yes")
    assert run.code == 6, run.err
    assert "RBAC preflight" in run.err and "may not patch services" in run.err
    assert "may not create configmaps" in run.err
    assert versions(lab, lab_namespace) == before
