"""A Deployment write races the Deployment controller's own status writes, against the lab.

`scale` and `set-image` are conditional on the resourceVersion they read. The controller
rewrites a Deployment's status as its pods come and go, which moves the resourceVersion
without changing anything the operator saw. The verb holds just before its write while
status is written (through the status subresource, as the controller does): it must go on
and succeed. A change of the spec at the same point must still stop it, writing nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kube.conftest import get, kubectl, seed_app
from tests.kube.test_lab_guarded import held
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab


def write_status(lab: Lab, ns: str, name: str) -> None:
    """A status-only write: the resourceVersion moves, the generation does not."""
    before = get(lab, ns, f"deployment/{name}")["metadata"]
    condition = {"type": "TurnoutTestProbe", "status": "True", "reason": "StatusOnly"}
    kubectl(lab, "-n", ns, "patch", f"deployment/{name}", "--subresource=status", "--type=merge",
            "-p", json.dumps({"status": {"conditions": [condition]}}))
    after = get(lab, ns, f"deployment/{name}")["metadata"]
    assert after["resourceVersion"] != before["resourceVersion"]
    assert after["generation"] == before["generation"]


def test_a_status_write_before_the_write_does_not_fail_the_verb(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    ns = lab_namespace
    seed_app(lab, ns, "shop", "nginx")
    done = held(lab, ns, ("scale", "shop", "green", "2"), "before-write", tmp_path / "gate",
                lambda: write_status(lab, ns, "shop-green"))
    assert done.returncode == 0, done.stderr
    assert get(lab, ns, "deployment/shop-green")["spec"]["replicas"] == 2


def test_a_spec_change_before_the_write_still_stops_it(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    ns = lab_namespace
    seed_app(lab, ns, "shop", "nginx")
    replicas = get(lab, ns, "deployment/shop-green")["spec"]["replicas"]

    def change_spec() -> None:
        kubectl(lab, "-n", ns, "patch", "deployment/shop-green", "--type=merge", "-p", json.dumps(
            {"spec": {"template": {"metadata": {"annotations": {"test.turnout.dev/x": "1"}}}}}))

    done = held(lab, ns, ("scale", "shop", "green", str(replicas + 1)), "before-write",
                tmp_path / "gate", change_spec)
    assert done.returncode == 5, (done.returncode, done.stderr)
    assert "changed by someone else" in done.stderr
    assert get(lab, ns, "deployment/shop-green")["spec"]["replicas"] == replicas
