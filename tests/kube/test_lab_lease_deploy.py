"""What `status` and the writes know about coordination, against the lab: a release lock
written by another tool (the Lease by name, without Turnout's labels), and a deploy in
flight with its stage, driver and start."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.kube.conftest import REPO, get, kubectl, seed_app, turnout
from tests.lab.conftest import Lab

pytestmark = pytest.mark.lab
WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"


def test_a_lease_without_turnouts_labels_still_locks(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    seed_app(lab, ns, "shop", "nginx")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": "turnout-lock-shop", "namespace": ns},
             "spec": {"holderIdentity": "gitops@elsewhere", "leaseDurationSeconds": 900,
                      "acquireTime": now, "renewTime": now}}
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps(lease))
    run = turnout(lab, "-n", ns, "weight", "shop", "20", "--yes")
    assert run.code == 9 and "gitops@elsewhere" in run.err, run.err
    assert get(lab, ns, "ingress/shop-canary")["metadata"]["annotations"][WEIGHT] == "10"
    shown = json.loads(turnout(lab, "-n", ns, "status", "shop", "-o", "json").out)
    assert shown["lock_holder"] == "gitops@elsewhere"


def _status(lab: Lab, ns: str) -> dict[str, Any]:
    run = turnout(lab, "-n", ns, "status", "shop", "-o", "json")
    assert run.code == 0, run.err
    return json.loads(run.out)  # type: ignore[no-any-return]


def test_status_shows_a_deploy_in_flight(lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    seed_app(lab, ns, "shop", "nginx")
    kubectl(lab, "-n", ns, "annotate", "--overwrite", "ingress/shop-canary", f"{WEIGHT}=0")
    proc = subprocess.Popen(
        [str(REPO / ".venv/bin/turnout"), "--kubeconfig", lab.kubeconfig, "-n", ns, "deploy",
         "shop", "--image", "registry.local/shop:1.6.0", "--steps", "10,100", "--pause",
         "manual", "--analysis", "1s", "--interval", "0.5s", "--yes"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ))
    try:
        deadline = time.monotonic() + 90
        shown = _status(lab, ns)
        while (shown["operation"] or {}).get("stage") != "pause 10%":
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, shown["operation"]
            time.sleep(0.5)
            shown = _status(lab, ns)
        op = shown["operation"]
        assert op["kind"] == "deploy" and op["status"] == "paused"
        assert op["by"].rsplit(":", 1)[1] == str(proc.pid)
        assert op["started_at"] and op["stage_since"]
        table = turnout(lab, "-n", ns, "status", "shop").out
        assert "deploy pause 10%" in table and "since" in table
    finally:
        turnout(lab, "-n", ns, "abort", "shop", "--yes")
        proc.communicate(timeout=60)
    assert _status(lab, ns)["operation"] is None
