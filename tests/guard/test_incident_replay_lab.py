"""Issue 18's acceptance for incident replay against the lab: a fire drill with the guard armed
(real API server, real Prometheus, the lab's demo services), then the real CLI lists, shows and
replays the incident record the guard kept in the cluster."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime

import pytest

from tests.guard.conftest import APP, Canary
from tests.guard.test_guard_lab import SETTINGS, until
from tests.kube.conftest import kubectl, turnout
from turnout.backend.guard import Guard
from turnout.backend.service import ReleaseService

pytestmark = pytest.mark.lab


async def test_a_fire_drill_replays_the_error_rate_crossing_its_threshold_when_recorded(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    ns = canary.namespace
    guard = Guard(lab_service(), SETTINGS)
    await guard.arm(APP, ns)
    for _ in range(3):  # calm frames before the drill: the recording starts before it
        assert (await guard.check(APP, ns)).decision == "ok"
        await asyncio.sleep(1)
    canary.fault("green", error_rate=0.5)
    await until(guard, canary, "rollback")
    for _ in range(2):  # frames after the action: the weights moved back
        await guard.check(APP, ns)
        await asyncio.sleep(1)

    listed = turnout(canary.lab, "-n", ns, "incident", "list", "-o", "json")
    assert listed.code == 0, listed.err
    [incident] = json.loads(listed.out)
    assert (incident["app"], incident["color"], incident["action"]) == (APP, "green", "rollback")
    names = kubectl(canary.lab, "-n", ns, "get", "configmaps", "-l",
                    "app.kubernetes.io/managed-by=turnout-incident", "-o", "name")
    assert names.split() == [f"configmap/turnout-incident-{incident['id'].lower()}"]

    shown = turnout(canary.lab, "-n", ns, "incident", "show", incident["id"], "-o", "json")
    assert shown.code == 0, shown.err
    frames = json.loads(shown.out)["recording"]["frames"]
    assert frames[0]["blue"] == 90 and frames[-1]["blue"] == 100
    crossing = next(f for f in frames for v in f["verdicts"]
                    if (v["signal"], v["color"]) == ("error-rate", "green")
                    and v["value"] is not None and v["value"] > v["threshold"])
    detected = datetime.fromisoformat(incident["detected_at"])
    assert datetime.fromisoformat(frames[0]["at"]) < datetime.fromisoformat(crossing["at"]) <= detected

    replay = turnout(canary.lab, "-n", ns, "incident", "replay", incident["id"])
    assert replay.code == 0, replay.err
    lines = replay.out.splitlines()
    [crossed] = [line for line in lines if "! green error-rate crossed above its threshold" in line]
    at = datetime.fromisoformat(crossing["at"])
    assert crossed.startswith(f"{at:%H:%M:%S.%f}"[:12])  # at the recorded time
    assert "> 5.00%" in crossed
    order = [next(i for i, line in enumerate(lines) if text in line)
             for text in ("crossed above", "> detected: error-rate", "> action: rollback")]
    assert order == sorted(order)
