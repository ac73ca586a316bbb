"""Guard speed in the lab: from a fault injected into the canary color to detection and to
traffic restored, with the guard running as `turnout guard` does (default 2 s interval).

Each run: a copy of `search` mid-canary (10 % to green) in a namespace of its own, on the
lab's real `search` demo services; 50 % errors injected into green; the guard's incident
report gives detection and restore times. Several runs; median and worst, beside the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from turnout.backend.cli.connect import connect
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config, GuardSettings
from turnout.backend.guard import Evaluation, Guard

REPO = Path(__file__).resolve().parents[1]
APP = "search"
RUNS = 7
SETTINGS = GuardSettings()
"""The defaults an operator gets: every 2 s, 5 % over a 10 s window."""
PHASES = random.Random(6)
"""Seeded: the same phases each `make bench`, so runs compare."""
QUIET = 11.0
"""Seconds for earlier errors to leave the 10 s query window between runs."""


def _lab() -> dict[str, Any]:
    labctl = [sys.executable, str(REPO / "lab" / "labctl.py")]
    if subprocess.run([*labctl, "status"], capture_output=True).returncode != 0:
        subprocess.run([*labctl, "up"], check=True, stdout=subprocess.DEVNULL)
    return dict(json.loads((Path(os.environ.get("TURNOUT_LAB_DIR", REPO / ".lab")) / "env.json").read_text()))


def _kubectl(env: dict[str, Any], *args: str, stdin: str | None = None) -> None:
    subprocess.run(["kubectl", "--kubeconfig", env["kubeconfig"], "--context", "lab", *args],
                   input=stdin, text=True, check=True, stdout=subprocess.DEVNULL)


def _fault(env: dict[str, Any], color: str, **change: Any) -> None:
    httpx.post(f"{env['demo_services'][APP][color]}/admin/fault", json=change, timeout=5).raise_for_status()


def _seed(env: dict[str, Any], namespace: str) -> None:
    sys.path.insert(0, str(REPO / "lab"))
    from lablib.seed import DemoApp, app_objects

    endpoints = {color: env["demo_services"][APP][color] for color in ("blue", "green")}
    objs = app_objects(DemoApp(APP, namespace, "nginx"), endpoints)
    _kubectl(env, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))
    _kubectl(env, "-n", namespace, "wait", "--for=condition=Available", "--timeout=90s",
             f"deployment/{APP}-blue", f"deployment/{APP}-green")


def _reset(env: dict[str, Any], namespace: str) -> None:
    _fault(env, "green", error_rate=0, health="ok", latency_ms=0)
    _kubectl(env, "-n", namespace, "annotate", "--overwrite", "ingress", f"{APP}-canary",
             "nginx.ingress.kubernetes.io/canary-weight=10")
    time.sleep(QUIET)


async def _one_run(env: dict[str, Any], namespace: str) -> tuple[float, float]:
    args = argparse.Namespace(kubeconfig=env["kubeconfig"], context="lab")
    service = connect(CliContext(args=args, config=Config(prometheus_url=env["prometheus_url"],
                                                          request_timeout=2.0)))
    guard, stop, tripped = Guard(service, SETTINGS), asyncio.Event(), []

    def on_result(result: Evaluation) -> None:
        if result.decision == "rollback":
            tripped.append(result)
            stop.set()

    try:
        await guard.arm(APP, namespace)
        loop = asyncio.create_task(guard.run([APP], namespace, stop, on_result))
        # The fault lands at a random phase of the guard's rhythm, as a real one would.
        await asyncio.sleep(SETTINGS.interval * (1 + PHASES.random()))
        injected = datetime.now(UTC)
        _fault(env, "green", error_rate=0.5)
        await asyncio.wait_for(loop, 60)
    finally:
        await service.close()
    report = json.loads(Path(tripped[0].incident).with_suffix(".json").read_text())
    detected, restored = (datetime.fromisoformat(report[k]) for k in ("detected_at", "restored_at"))
    return (detected - injected).total_seconds(), (restored - injected).total_seconds()


def run() -> list[dict[str, Any]]:
    env = _lab()
    namespace = f"bench-guard-{uuid.uuid4().hex[:6]}"
    detect, restore = [], []
    try:
        _seed(env, namespace)
        for _ in range(RUNS):
            _reset(env, namespace)
            found = asyncio.run(_one_run(env, namespace))
            detect.append(found[0])
            restore.append(found[1])
    finally:
        _fault(env, "green", error_rate=0, health="ok", latency_ms=0)
        _kubectl(env, "delete", "namespace", namespace, "--wait=false")
    return _rows(detect, restore)


def _rows(detect: list[float], restore: list[float]) -> list[dict[str, Any]]:
    every = f"{len(detect)} runs, guard every {SETTINGS.interval:g} s"
    return [
        {"name": f"guard: fault -> detection, median ({every})", "value": statistics.median(detect),
         "unit": "s"},
        {"name": "guard: fault -> detection, worst", "value": max(detect), "unit": "s"},
        {"name": "guard: fault -> traffic restored, median", "value": statistics.median(restore),
         "unit": "s"},
        {"name": "guard: fault -> traffic restored, worst", "value": max(restore), "unit": "s"},
        {"name": "target: detection (issue 6)", "value": 10.0, "unit": "s"},
        {"name": "target: traffic restored (issue 6)", "value": 15.0, "unit": "s"},
        {"name": "peer: Flagger default analysis (interval 1 m x threshold 5)", "value": 300.0, "unit": "s"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<60} {row['value']:8.2f} {row['unit']}")
