"""`turnout guard` on the demo: --once for pipelines (JSON, exit codes), --arm/--disarm, the loop."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO

import pytest

from turnout.backend.cli import main
from turnout.backend.cli.context import CliContext
from turnout.backend.cli.guard_cmd import EXIT_FAILED, EXIT_HOLD, EXIT_ROLLED_BACK, evaluation_view, guard
from turnout.backend.config import Config, GuardSettings
from turnout.backend.demo import DemoCluster, build_demo_service
from turnout.backend.guard import Evaluation, Guard
from turnout.backend.models import Verdict
from turnout.backend.service import ReleaseService


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["--demo", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _strict(text: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"{constant} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_once_prints_every_verdict_as_json_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "guard", "--once", "search", "-o", "json")
    [item] = _strict(out)["items"]  # type: ignore[index]
    assert code == 0 and (item["app"], item["watched"], item["decision"]) == ("search", "green", "ok")
    signals = {v["signal"]: v for v in item["verdicts"]}
    assert set(signals) >= {"restarts", "health", "error-rate", "log-errors"}
    assert signals["error-rate"]["threshold"] == 0.05 and signals["error-rate"]["source"]


def test_once_as_a_table_shows_values_against_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "guard", "--once", "checkout", "search")
    header, *rows = out.splitlines()
    assert code == 0 and header.split()[:7] == ["NAMESPACE", "APP", "COLOR", "SIGNAL", "VERDICT", "VALUE",
                                                "THRESHOLD"]
    assert {row.split()[1] for row in rows} == {"checkout", "search"}


def test_arm_and_disarm(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "guard", "--arm", "search")[:2] == (0, "search: armed\n")
    assert run(capsys, "guard", "--disarm", "search")[:2] == (0, "search: disarmed\n")


def test_a_bad_interval_is_invalid_input(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "guard", "--interval", "0", "search")
    assert code == 2 and "--interval" in err


class _Ctx(CliContext):
    """A CLI context over a service the test prepared (a demo mid-incident)."""

    prepared: ReleaseService | None = None

    def service(self) -> ReleaseService:
        assert self.prepared is not None
        return self.prepared


async def _once(service: ReleaseService, settings: GuardSettings | None = None) -> tuple[int, str]:
    args = argparse.Namespace(apps=["search"], once=True, arm=False, disarm=False, interval=None,
                              output="json", namespace=None, all_namespaces=False)
    out = StringIO()
    config = Config(guard=settings or GuardSettings())
    code = await guard(args, _Ctx(args=args, config=config, out=out, prepared=service))
    return code, out.getvalue()


async def _failing(*, armed: bool) -> ReleaseService:
    service = build_demo_service()
    if armed:
        await Guard(service, GuardSettings()).arm("search")
    await service.fire_drill("search")
    assert isinstance(service.cluster, DemoCluster)
    service.cluster.world.tick(10)
    return service


async def test_once_exits_30_when_it_rolled_back() -> None:
    code, out = await _once(await _failing(armed=True))
    assert (code, _strict(out)["items"][0]["decision"]) == (EXIT_ROLLED_BACK, "rollback")  # type: ignore[index]


async def test_once_exits_31_when_a_trigger_failed_and_nothing_was_rolled_back() -> None:
    code, out = await _once(await _failing(armed=False))
    assert (code, _strict(out)["items"][0]["decision"]) == (EXIT_FAILED, "skip")  # type: ignore[index]


async def test_once_exits_32_on_hold() -> None:
    # the command runs the service's one guard, with the settings the service was built with
    settings = GuardSettings(error_rate=1.0, log_errors_per_100=100)
    service = build_demo_service(guard=settings)
    assert isinstance(service.cluster, DemoCluster)
    service.cluster.world.apps[("search", "search")].slots["green"].faulty = True
    code, out = await _once(service, settings)
    item = _strict(out)["items"][0]  # type: ignore[index]
    assert (code, item["decision"]) == (EXIT_HOLD, "wait")
    assert [v["outcome"] for v in item["verdicts"] if v["signal"] == "health"] == ["inconclusive"]


def test_a_non_finite_value_is_null_in_json() -> None:
    nan = Verdict(signal="error-rate", color="green", outcome="inconclusive", value=float("nan"),
                  threshold=0.05, source="q", at=datetime(2026, 1, 1, tzinfo=UTC), detail="NaN")
    view = evaluation_view(Evaluation(app="a", namespace="n", state="armed", watched="green",
                                      verdicts=(nan,), decision="wait"))
    assert view["verdicts"][0]["value"] is None and view["verdicts"][0]["detail"] == "NaN"


def test_the_loop_prints_json_lines_on_change_and_stops_on_sigint() -> None:
    guard_process = subprocess.Popen(
        [sys.executable, "-m", "turnout.backend", "--demo", "guard", "search", "--interval", "0.2",
         "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert guard_process.stdout is not None
        first = _strict(guard_process.stdout.readline())
        guard_process.send_signal(signal.SIGINT)
        _, err = guard_process.communicate(timeout=20)
    finally:
        guard_process.kill()
    assert first["app"] == "search" and first["state"] == "armed"  # type: ignore[index]
    assert guard_process.returncode == 0 and "guarding search (armed) every 0.2 s" in err
