"""An app's Kubernetes Events: the scheduler's and anyone's, matched to the app exactly,
followed by the watch cache, and made inert before they reach a terminal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.kube.conftest import kubectl, seed_app, turnout
from tests.lab.conftest import Lab
from turnout.backend.config import Conventions
from turnout.backend.gate import WriteGate
from turnout.backend.kube import KubeCluster, KubeHttp, load_target

pytestmark = pytest.mark.lab
HOSTILE = "probe failed \x1b]0;pwned\x07 [@click=app.quit] \x1b[2J"


def post_event(lab: Lab, ns: str, name: str, kind: str, obj: str, message: str,
               type_: str = "Warning") -> None:
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": ns},
             "involvedObject": {"apiVersion": "v1", "kind": kind, "name": obj, "namespace": ns},
             "reason": "Unhealthy", "message": message, "type": type_, "count": 3,
             "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2030-01-01T00:00:00Z",
             "source": {"component": "test"}}
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps(event))


def test_events_are_the_apps_own_and_inert(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    seed_app(lab, lab_namespace, "shop-api", "service")  # a name that starts like the other
    post_event(lab, lab_namespace, "hostile", "Service", "shop", HOSTILE)
    post_event(lab, lab_namespace, "other", "Pod", "shop-api-blue-0", "not shop's")
    run = turnout(lab, "-n", lab_namespace, "events", "shop", "--limit", "200", "-o", "json")
    assert run.code == 0, run.err
    events = json.loads(run.out)["events"]
    objects = {e["object"] for e in events}
    assert any(o.startswith("Pod/shop-blue-") for o in objects)  # the real scheduler's
    assert "Service/shop" in objects
    assert not any(o.startswith(("Pod/shop-api", "Deployment/shop-api")) for o in objects)
    hostile = next(e for e in events if e["object"] == "Service/shop")
    assert (hostile["type"], hostile["reason"], hostile["count"]) == ("Warning", "Unhealthy", 3)
    assert "\x1b" not in hostile["message"] and "\x07" not in hostile["message"]
    assert events[-1] == hostile  # newest last
    table = turnout(lab, "-n", lab_namespace, "events", "shop")
    assert table.code == 0 and "Unhealthy" in table.out
    assert "\x1b" not in table.out and "\x07" not in table.out
    missing = turnout(lab, "-n", lab_namespace, "events", "nope")
    assert missing.code == 4 and missing.err.count("\n") == 1


async def test_the_watch_cache_follows_new_events(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "service")
    target = load_target([Path(lab.kubeconfig)], "lab")
    cluster = KubeCluster(KubeHttp(target, WriteGate(), 5.0), target.context, Conventions(),
                          namespace=lab_namespace)
    try:
        changes = cluster.changes()  # starts the watches
        await cluster.informer.wait_synced(30)
        app = await cluster.get_app("shop", lab_namespace)
        before = await cluster.events(app)
        post_event(lab, lab_namespace, "late", "Deployment", "shop-green", "rollout stuck")
        async with asyncio.timeout(60):  # generous: the watch, on a loaded machine
            async for key in changes:
                if key == (lab_namespace, "shop") and cluster.informer.stores["events"].get(
                        (lab_namespace, "late")):
                    break
        after = await cluster.events(app)
        assert after[-1].message == "rollout stuck" and after[-1].object == "Deployment/shop-green"
        assert len(after) > len(before)
    finally:
        await cluster.close()
