"""The release lock (a Lease) and the audit Event, against a real API server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kube.conftest import get, kubectl, seed_app, turnout
from tests.lab.conftest import Lab
from turnout.backend import plans
from turnout.backend.config import Conventions
from turnout.backend.errors import Locked
from turnout.backend.gate import WriteGate
from turnout.backend.kube import KubeCluster, KubeHttp, load_target
from turnout.backend.kube.lock import lease_name, me

pytestmark = pytest.mark.lab


def cluster_for(lab: Lab) -> KubeCluster:
    target = load_target([Path(lab.kubeconfig)], "lab")
    return KubeCluster(KubeHttp(target, WriteGate(), 5.0), target.context, Conventions())


def someone_else_holds(lab: Lab, ns: str) -> None:
    """Another operator's live lock, made with kubectl."""
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": lease_name("shop"), "namespace": ns,
                          "labels": {"app.kubernetes.io/managed-by": "turnout"}},
             "spec": {"holderIdentity": "alice@laptop", "leaseDurationSeconds": 900,
                      "renewTime": _now_micro()}}
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps(lease))


def _now_micro() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def test_a_held_lock_refuses_writes_until_taken_over(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    someone_else_holds(lab, lab_namespace)
    cluster = cluster_for(lab)
    try:
        app = await cluster.get_app("shop", lab_namespace)
        assert app.lock_holder == "alice@laptop"
        with pytest.raises(Locked, match="alice@laptop"):
            await cluster.write_traffic(app, plans.with_weight(app.traffic, 20), dry_run=False)
        with pytest.raises(Locked):
            await cluster.lock("shop", lab_namespace)
        assert await cluster.lock("shop", lab_namespace, force=True) == "alice@laptop"
        app = await cluster.get_app("shop", lab_namespace)
        assert app.lock_holder == me()
        await cluster.write_traffic(app, plans.with_weight(app.traffic, 20), dry_run=False)
        assert await cluster.unlock("shop", lab_namespace) == me()
        assert (await cluster.get_app("shop", lab_namespace)).lock_holder == ""
    finally:
        await cluster.close()


async def test_every_change_is_an_event_naming_the_server_identity(lab: Lab,
                                                                    lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    cluster = cluster_for(lab)
    try:
        app = await cluster.get_app("shop", lab_namespace)
        await cluster.write_traffic(app, plans.with_weight(app.traffic, 30), dry_run=False)
        assert await cluster.identity() not in ("", "unknown")
    finally:
        await cluster.close()
    events = get(lab, lab_namespace, "events")["items"]
    mine = [e for e in events if e["reason"] == "TurnoutTraffic"]
    assert mine and "90/10 -> 70/30" in mine[0]["message"]
    assert mine[0]["involvedObject"]["name"] == "shop"


def test_the_audit_event_carries_who_why_and_the_operation_id_of_the_jsonl_line(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    run = turnout(lab, "-n", lab_namespace, "weight", "shop", "30", "--yes",
                  "--reason", "INC-42: canary too hot", env={"TURNOUT_STATE_DIR": str(tmp_path)})
    assert run.code == 0, run.err
    line = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert line["reason"] == "INC-42: canary too hot" and line["operation_id"]
    events = [e for e in get(lab, lab_namespace, "events")["items"] if e["reason"] == "TurnoutAudit"]
    assert len(events) == 1
    message = events[0]["message"]
    assert "INC-42: canary too hot" in message and line["operation_id"] in message
    assert f"by {line['who']}" in message and line["who"] not in ("", "unknown")
    assert '"green":10' in message and '"green":30' in message

    dry = turnout(lab, "-n", lab_namespace, "weight", "shop", "60", "--yes", "--dry-run",
                  env={"TURNOUT_STATE_DIR": str(tmp_path)})
    assert dry.code == 0, dry.err
    events = [e for e in get(lab, lab_namespace, "events")["items"] if e["reason"] == "TurnoutAudit"]
    assert len(events) == 1  # a dry run is in the local log only
