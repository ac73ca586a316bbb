"""Smoke tests: the declarative YAML list, and its requests run against the lab's demo services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.guard.conftest import APP, Canary
from turnout.backend.config import GuardSettings
from turnout.backend.errors import InvalidInput
from turnout.backend.guard import Guard
from turnout.backend.guard.smoke import load_smoke_tests, parse_smoke_tests, run_smoke
from turnout.backend.service import ReleaseService
from turnout.backend.signals import SmokeRequest

NOW = datetime(2026, 11, 26, tzinfo=UTC)
SMOKE_YAML = """\
- name: home answers
  path: /
  contains: '"code": 200'
  max_ms: 1000
- path: /health
- name: unknown page is a 404
  path: /nowhere
  status: 404
"""


def test_the_yaml_list_becomes_typed_requests(tmp_path: Path) -> None:
    path = tmp_path / "smoke.yaml"
    path.write_text(SMOKE_YAML)
    home, health, missing = load_smoke_tests(str(path))
    assert home == SmokeRequest(name="home answers", path="/", contains='"code": 200', max_ms=1000)
    assert (health.label, health.status, missing.status) == ("GET /health", 200, 404)
    assert load_smoke_tests("") == ()


@pytest.mark.parametrize(("raw", "why"), [
    ({"path": "/"}, "expected a list"),
    ([{"name": "no path"}], "path"),
    ([{"path": "/", "status": "two hundred"}], "status"),
    ([{"path": "/", "expect": 200}], "expect"),
])
def test_a_malformed_list_says_what_is_wrong(raw: object, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        parse_smoke_tests(raw)


def test_an_unreadable_file_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="smoke tests"):
        load_smoke_tests(str(tmp_path / "missing.yaml"))
    (tmp_path / "bad.yaml").write_text("- path: [unclosed")
    with pytest.raises(InvalidInput, match="smoke tests"):
        load_smoke_tests(str(tmp_path / "bad.yaml"))


@pytest.mark.lab
async def test_smoke_requests_pass_on_a_healthy_color_and_name_the_failures(canary: Canary) -> None:
    tests = parse_smoke_tests([{"path": "/", "contains": '"code": 200'}, {"path": "/health"},
                               {"name": "missing", "path": "/nowhere", "status": 404}])
    url = canary.lab.demo_url(APP, "green")
    assert (await run_smoke(tests, url, "green", NOW)).outcome == "pass"
    canary.fault("green", health="fail", latency_ms=50)
    slow = parse_smoke_tests([{"path": "/", "max_ms": 20}])
    assert "ms > 20 ms" in (await run_smoke(slow, url, "green", NOW)).detail
    verdict = await run_smoke(tests, url, "green", NOW)
    assert (verdict.outcome, verdict.value) == ("fail", 1.0)
    assert verdict.detail == "GET /health: status 503 != 200" and url in verdict.source


@pytest.mark.lab
async def test_a_failing_smoke_test_rolls_the_canary_back(
        canary: Canary, lab_service: Callable[..., ReleaseService], tmp_path: Path) -> None:
    # A bound a loaded machine's healthy answer stays under, and a latency far beyond it.
    (tmp_path / "smoke.yaml").write_text("- path: /\n  max_ms: 800\n")
    settings = GuardSettings(interval=1.0, smoke_tests=str(tmp_path / "smoke.yaml"))
    guard = Guard(lab_service(), settings)
    await guard.arm(APP, canary.namespace)
    assert (await guard.check(APP, canary.namespace)).decision == "ok"
    canary.fault("green", latency_ms=1200)
    result = await guard.check(APP, canary.namespace)
    [smoke] = [v for v in result.verdicts if v.signal == "smoke"]
    assert (smoke.outcome, result.decision, canary.canary_weight) == ("fail", "rollback", "0")


