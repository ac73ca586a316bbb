"""Apps Turnout did not create, against the lab: a namespace's own conventions (labels,
color values, the live Service's name) find a podinfo-style pair beside the lab's apps,
drive it, and `set-image` adds no label to its template."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.kube.conftest import get, kubectl, turnout
from tests.lab.conftest import Lab
from turnout.backend.config import Conventions
from turnout.backend.gate import WriteGate
from turnout.backend.kube import KubeCluster, KubeHttp, load_target
from turnout.backend.kube.informer import Subscription

pytestmark = pytest.mark.lab


def pair(app: str, label: str, values: dict[str, str], live: str = "") -> list[dict[str, Any]]:
    """Deployments `app-<value>` labelled `app=APP, <label>=<value>` and a live Service
    selecting the first value, as a chart of its own would make them."""
    objects: list[dict[str, Any]] = []
    for value in values.values():
        labels = {"app": app, label: value}
        objects.append({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"{app}-{value}", "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                         {"name": app, "image": f"ghcr.io/stefanprodan/{app}:6.5.{len(value)}"}]}}}})
    first = next(iter(values.values()))
    objects.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": live or app},
                    "spec": {"selector": {"app": app, label: first},
                             "ports": [{"port": 80, "targetPort": 9898}]}})
    return objects


def create(lab: Lab, ns: str, objects: list[dict[str, Any]]) -> None:
    kubectl(lab, "-n", ns, "apply", "-f", "-",
            stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))


def configured(tmp_path: Path, ns: str, fields: dict[str, str]) -> dict[str, str]:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"namespace_conventions": {ns: fields}}))
    return {"TURNOUT_CONFIG": str(path), "TURNOUT_STATE_DIR": str(tmp_path / "state")}


def test_a_podinfo_pair_is_found_beside_the_lab_apps_and_set_image_adds_no_label(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    ns = lab_namespace
    create(lab, ns, pair("podinfo", "version", {"blue": "blue", "green": "green"}))
    env = configured(tmp_path, ns, {"app_label": "app", "color_label": "version"})
    run = turnout(lab, "status", "-A", "-o", "json", env=env)
    assert run.code == 0, run.err
    found = {(i["namespace"], i["name"]): i for i in json.loads(run.out)["items"]}
    assert {(ns, "podinfo"), ("shop", "checkout"), ("search", "search"),
            ("payments", "payments")} <= found.keys()
    assert found[(ns, "podinfo")]["live"] == "blue"
    assert found[(ns, "podinfo")]["colors"]["green"]["image"] == "ghcr.io/stefanprodan/podinfo:6.5.5"

    before = get(lab, ns, "deployment/podinfo-green")
    done = turnout(lab, "-n", ns, "set-image", "podinfo", "green",
                   "ghcr.io/stefanprodan/podinfo:6.6.0", "--yes", env=env)
    assert done.code == 0, done.err
    after = get(lab, ns, "deployment/podinfo-green")
    assert after["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "ghcr.io/stefanprodan/podinfo:6.6.0")
    assert after["spec"]["template"]["metadata"]["labels"] == (
        before["spec"]["template"]["metadata"]["labels"])
    assert after["metadata"]["labels"] == before["metadata"]["labels"]

    # Without its namespace's conventions the pair is no app at all.
    plain = turnout(lab, "-n", ns, "status", "-o", "json",
                    env={"TURNOUT_CONFIG": str(tmp_path / "none.yaml")})
    assert plain.code == 0 and json.loads(plain.out)["items"] == []


def test_stable_and_canary_values_and_a_live_service_name_are_followed_by_writes(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    ns = lab_namespace
    create(lab, ns, pair("api", "track", {"blue": "stable", "green": "canary"}, live="api-live"))
    env = configured(tmp_path, ns, {"app_label": "app", "color_label": "track",
                                    "blue": "stable", "green": "canary",
                                    "live_service": "{app}-live"})
    run = turnout(lab, "-n", ns, "status", "api", "-o", "json", env=env)
    assert run.code == 0, run.err
    assert json.loads(run.out)["live"] == "blue"
    switched = turnout(lab, "-n", ns, "switch", "api", "--to", "green", "--yes", env=env)
    assert switched.code == 0, switched.err
    assert get(lab, ns, "service/api-live")["spec"]["selector"] == {
        "app": "api", "track": "canary"}
    # The audit Event is filed against the live Service by its conventional name, so the
    # app's own events show it.
    audit = [e for e in get(lab, ns, "events")["items"] if e["reason"] == "TurnoutTraffic"]
    assert [e["involvedObject"]["name"] for e in audit] == ["api-live"], audit
    shown = turnout(lab, "-n", ns, "events", "api", "-o", "json", env=env)
    assert shown.code == 0, shown.err
    assert any(e["object"] == "Service/api-live" and e["reason"] == "TurnoutTraffic"
               for e in json.loads(shown.out)["events"])


async def test_a_renamed_live_services_changes_are_keyed_to_its_app(
        lab: Lab, lab_namespace: str) -> None:
    ns = lab_namespace
    create(lab, ns, pair("api", "track", {"blue": "stable", "green": "canary"}, live="api-live"))
    conv = Conventions(app_label="app", color_label="track", blue="stable", green="canary",
                       live_service="{app}-live")
    target = load_target([Path(lab.kubeconfig)], "lab")
    cluster = KubeCluster(KubeHttp(target, WriteGate(), 5.0), target.context, Conventions(),
                          namespace=ns, by_namespace={ns: conv})
    try:
        changes = cluster.changes()
        assert isinstance(changes, Subscription)
        await cluster.informer.wait_synced(30)
        await asyncio.to_thread(kubectl, lab, "-n", ns, "annotate", "service/api-live",
                                "turnout.test/poke=1")
        keys: list[tuple[str, str]] = []
        services = cluster.informer.stores["services"]
        async with asyncio.timeout(60):  # generous: the watch, on a loaded machine
            async for key in changes:
                keys.append(key)
                found = services.get((ns, "api-live"))
                if found is not None and "turnout.test/poke" in found.metadata.annotations:
                    break
        # The store is written before its change is sent: the Service's own is in by now.
        while not changes.queue.empty():
            keys.append(changes.queue.get_nowait())
        assert (ns, "api") in keys and (ns, "api-live") not in keys, keys
    finally:
        await cluster.close()
