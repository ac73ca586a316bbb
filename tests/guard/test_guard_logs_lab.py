"""The guard's log trigger against the lab: the canary's pods log what the test arranges
(kwok serves the fake nodes' pod logs), read through `KubeCluster.log_lines`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.guard.conftest import APP, Canary
from tests.guard.test_guard_lab import until
from tests.lab.podlogs import arrange_logs
from turnout.backend.config import GuardSettings
from turnout.backend.guard import Evaluation, Guard
from turnout.backend.models import Verdict
from turnout.backend.service import ReleaseService

pytestmark = pytest.mark.lab
SETTINGS = GuardSettings(interval=1.0)


def log_with_errors(errors: int, total: int) -> list[str]:
    """`total` request lines of which `errors` are ERROR lines, spread through the log."""
    every = total // errors if errors else total + 1
    return [f"ERROR GET /api/items 500 upstream reset (request {i})" if i % every == 0
            and i // every < errors else f"INFO GET /api/items 200 (request {i})"
            for i in range(total)]


def arrange_green(canary: Canary, kube: object, directory: Path, errors: int, total: int) -> None:
    for pod in canary.pods("green"):
        arrange_logs(kube, canary.namespace, pod, log_with_errors(errors, total), directory)


def log_verdict(result: Evaluation) -> Verdict:
    [verdict] = [v for v in result.verdicts if v.signal == "log-errors"]
    return verdict


async def test_more_than_ten_errors_per_100_log_lines_roll_the_canary_back(
        canary: Canary, kube: object, tmp_path: Path,
        lab_service: Callable[..., ReleaseService]) -> None:
    guard = Guard(lab_service(), SETTINGS)
    await guard.arm(APP, canary.namespace)
    first = await guard.check(APP, canary.namespace)
    assert first.decision == "ok" and log_verdict(first).outcome == "pass"
    # 3 pods x 30 lines all fit in the guard's 100-line sample: 18 of 90 is 20 per 100.
    arrange_green(canary, kube, tmp_path, errors=6, total=30)
    result = await until(guard, canary, "rollback", seconds=60)
    logs = log_verdict(result)
    assert (logs.outcome, logs.color, logs.value, logs.threshold) == ("fail", "green", 20.0, 10.0)
    assert canary.canary_weight == "0"
    report = json.loads(Path(result.incident).with_suffix(".json").read_text())
    [trigger] = [t for t in report["triggers"] if t["signal"] == "log-errors"]
    assert (trigger["value"], trigger["threshold"]) == (20.0, 10.0)
    assert trigger["source"] == f"logs of {canary.namespace}/{APP} green pods"
    assert f"| green | log-errors | fail | 20 | 10 | {logs.source} |" in Path(result.incident).read_text()


async def test_ten_errors_per_100_log_lines_do_not_roll_back(
        canary: Canary, kube: object, tmp_path: Path,
        lab_service: Callable[..., ReleaseService]) -> None:
    guard = Guard(lab_service(), SETTINGS)
    await guard.arm(APP, canary.namespace)
    arrange_green(canary, kube, tmp_path, errors=3, total=30)  # 9 of 90: 10 per 100, the threshold
    result = await until(guard, canary, "ok", seconds=15)
    # Until kwok serves the arranged logs rather than the default ones: it learns of them
    # through its watch, late on a loaded machine, so a count of quick checks is no deadline.
    deadline = asyncio.get_running_loop().time() + 60
    while log_verdict(result).value != 10.0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.5)
        result = await until(guard, canary, "ok", seconds=15)
    logs = log_verdict(result)
    assert (logs.outcome, logs.value, logs.threshold) == ("pass", 10.0, 10.0)
    for _ in range(3):
        again = await guard.check(APP, canary.namespace)
        assert again.decision == "ok" and log_verdict(again).outcome == "pass"
    assert canary.canary_weight == "10"
