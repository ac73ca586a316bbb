"""Guard speed in the lab: from a fault injected into the canary to detection and to
traffic restored. Several runs; median and worst, beside the product targets."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from turnout.backend.cli.connect import connect
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config, GuardSettings
from turnout.backend.guard.engine import Guard

REPO = Path(__file__).resolve().parents[1]
APP = NS = "search"
RUNS = 3


def _lab() -> dict[str, Any]:
    subprocess.run([sys.executable, str(REPO / "lab" / "labctl.py"), "up"], check=True,
                   stdout=subprocess.DEVNULL)
    return dict(json.loads((REPO / ".lab" / "env.json").read_text()))


def _fault(env: dict[str, Any], color: str, **change: Any) -> None:
    request = urllib.request.Request(f"{env['demo_services'][APP][color]}/admin/fault",
                                     data=json.dumps(change).encode(), method="POST")
    urllib.request.urlopen(request, timeout=5).close()


def _kubectl(env: dict[str, Any], *args: str) -> None:
    subprocess.run(["kubectl", "--kubeconfig", env["kubeconfig"], "-n", NS, *args], check=True,
                   stdout=subprocess.DEVNULL)


def _reset(env: dict[str, Any]) -> None:
    _fault(env, "green", error_rate=0, health="ok")
    _kubectl(env, "annotate", "--overwrite", "ingress", f"{APP}-canary",
             "nginx.ingress.kubernetes.io/canary-weight=10")
    time.sleep(11)  # let earlier errors leave the 10 s query window


async def _one_run(env: dict[str, Any]) -> tuple[float, float]:
    args = argparse.Namespace(kubeconfig=env["kubeconfig"], context="lab")
    config = Config(prometheus_url=env["prometheus_url"], request_timeout=2.0)
    service = connect(CliContext(args=args, config=config))
    guard = Guard(service, GuardSettings(interval=1.0))
    try:
        await guard.arm(APP, NS)
        injected = datetime.now(UTC)
        _fault(env, "green", error_rate=0.5)
        for _ in range(60):
            result = await guard.check(APP, NS)
            if result.decision == "rollback":
                report = json.loads(Path(result.incident).with_suffix(".json").read_text())
                detected = datetime.fromisoformat(report["detected_at"])
                restored = datetime.fromisoformat(report["restored_at"])
                return ((detected - injected).total_seconds(), (restored - injected).total_seconds())
            await asyncio.sleep(1.0)
        raise RuntimeError("the guard never rolled back within 60 s")
    finally:
        await service.close()


def run() -> list[dict[str, Any]]:
    env = _lab()
    detect, restore = [], []
    for _ in range(RUNS):
        _reset(env)
        d, r = asyncio.run(_one_run(env))
        detect.append(d)
        restore.append(r)
    _reset(env)
    return [
        {"name": f"guard: fault -> detection, median of {RUNS}", "value": statistics.median(detect),
         "unit": "s"},
        {"name": "guard: fault -> detection, worst", "value": max(detect), "unit": "s"},
        {"name": "guard: fault -> traffic restored, median", "value": statistics.median(restore),
         "unit": "s"},
        {"name": "guard: fault -> traffic restored, worst", "value": max(restore), "unit": "s"},
        {"name": "peer: target detection (issue)", "value": 10.0, "unit": "s"},
        {"name": "peer: target restore (issue)", "value": 15.0, "unit": "s"},
        {"name": "peer: Flagger default analysis (5 x 1 min checks)", "value": 300.0, "unit": "s"},
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<55} {row['value']:8.2f} {row['unit']}")
