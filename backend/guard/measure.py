"""Collect every trigger's verdict for one color: health, error rate, logs, smoke, restarts.

I/O lives here; judging lives in `signals`. Per-color streaks (failed health
checks, unreachable Prometheus) are kept by the caller in `Streaks`.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import msgspec
import yaml

from turnout.backend import signals
from turnout.backend.config import GuardSettings
from turnout.backend.errors import InvalidInput, TurnoutError
from turnout.backend.models import App, Color, Slot, Verdict
from turnout.backend.sanitize import inert

RESTART_WINDOW = 300.0
"""Seconds over which restarts count towards a crash loop."""


@dataclass
class Streaks:
    """What one color's triggers remember between evaluations."""

    health: list[bool] = field(default_factory=list)
    prometheus_errors: int = 0


def load_smoke_tests(path: str) -> list[dict[str, Any]]:
    """The smoke requests from YAML: name, path, status (200), contains, max_ms."""
    if not path:
        return []
    try:
        tests = yaml.safe_load(Path(path).read_text()) or []
    except (OSError, yaml.YAMLError) as err:
        raise InvalidInput(f"smoke tests {path}: {str(err).splitlines()[0]}") from None
    if not isinstance(tests, list) or not all(isinstance(t, dict) and "path" in t for t in tests):
        raise InvalidInput(f"smoke tests {path}: expected a list of mappings with a path")
    return tests


class Measurer:
    """Reads the world for the guard, through the cluster, Prometheus and HTTP."""

    def __init__(self, cluster: Any, metrics: Any, settings: GuardSettings, *,
                 timeout: float = 2.0) -> None:
        self.cluster = cluster
        self.metrics = metrics
        self.settings = settings
        self.timeout = timeout
        self.smoke_tests = load_smoke_tests(settings.smoke_tests)
        self._restarts: dict[str, deque[tuple[float, int]]] = {}

    async def verdicts(self, app: App, color: Color, streaks: Streaks, at: datetime) -> list[Verdict]:
        """Every trigger's verdict for `color` now."""
        found = [signals.crash_loop(self._with_seen_restarts(app.slot(color), at), at,
                                    self.settings.restarts_5m)]
        found.append(await self._health(app, color, streaks, at))
        found.append(await self._error_rate(app, color, streaks, at))
        logs = await self._logs(app, color, at)
        if logs is not None:
            found.append(logs)
        if self.smoke_tests and app.endpoints.get(color):
            found.append(await self.smoke(app, color, at))
        return found

    def _with_seen_restarts(self, slot: Slot, at: datetime) -> Slot:
        """Count restarts from restartCount as this guard has seen it over 5 minutes.

        A one-shot read can only estimate recent restarts; the guard runs for long
        and remembers each pod's count, so its own window is exact.
        """
        now = at.timestamp()
        pods = []
        for pod in slot.pods:
            seen = self._restarts.setdefault(pod.name, deque())
            seen.append((now, pod.restarts))
            while seen and now - seen[0][0] > RESTART_WINDOW:
                seen.popleft()
            rose = pod.restarts - seen[0][1]
            pods.append(msgspec.structs.replace(pod, restarts_5m=max(pod.restarts_5m, rose)))
        return msgspec.structs.replace(slot, pods=tuple(pods))

    async def _health(self, app: App, color: Color, streaks: Streaks, at: datetime) -> Verdict:
        url = app.endpoints.get(color)
        source = f"{url}/health" if url else f"cluster health of {app.name}/{color}"
        streaks.health.append(await self._healthy(app, color, url))
        del streaks.health[:-20]
        return signals.health_checks(streaks.health, color, at, source, self.settings.health_failures)

    async def _healthy(self, app: App, color: Color, url: str | None) -> bool:
        try:
            if url:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    return (await client.get(f"{url}/health")).status_code < 300
            probe = getattr(self.cluster, "health", None)
            return bool(await probe(app, color)) if probe else app.slot(color).ready > 0
        except (httpx.HTTPError, TurnoutError):
            return False

    async def _error_rate(self, app: App, color: Color, streaks: Streaks, at: datetime) -> Verdict:
        sample = getattr(self.metrics, "sample", None)
        source = f"prometheus error rate of {app.name}/{color}"
        try:
            if sample is not None:
                measured = await sample(app, color)
                streaks.prometheus_errors = 0
                return signals.prometheus_error_rate(
                    measured, color, at, threshold=self.settings.error_rate,
                    min_requests=self.settings.min_requests)
            metrics = {m.color: m for m in await self.metrics.golden_signals(app)}
            streaks.prometheus_errors = 0
            return signals.error_rate(metrics[color], at, f"metrics/{app.name}/{color}",
                                      self.settings.error_rate)
        except TurnoutError:
            streaks.prometheus_errors += 1
            return signals.unreachable("error-rate", color, at, source, streaks.prometheus_errors,
                                       self.settings.prometheus_errors)

    async def _logs(self, app: App, color: Color, at: datetime) -> Verdict | None:
        reader = getattr(self.cluster, "log_lines", None)
        if reader is None:
            return None
        try:
            lines = await reader(app, color, 100)
        except TurnoutError:
            lines = []
        return signals.log_error_rate(lines, color, at, f"logs of {app.name}/{color} pods",
                                      pattern=self.settings.log_pattern,
                                      threshold=self.settings.log_errors_per_100)

    async def smoke(self, app: App, color: Color, at: datetime) -> Verdict:
        """Run the smoke requests against `color`'s endpoint."""
        base = app.endpoints.get(color, "")
        results = [await self._smoke_one(base, test) for test in self.smoke_tests]
        return signals.smoke(results, color, at, f"smoke tests against {base or color}")

    async def _smoke_one(self, base: str, test: dict[str, Any]) -> signals.SmokeResult:
        name = str(test.get("name") or test["path"])
        started = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.get(f"{base}{test['path']}")
        except httpx.HTTPError as err:
            return signals.SmokeResult(name, f"unreachable ({type(err).__name__})", 0.0)
        seconds = time.monotonic() - started
        return signals.SmokeResult(name, _smoke_problem(test, response, seconds), seconds)


def _smoke_problem(test: dict[str, Any], response: httpx.Response, seconds: float) -> str:
    if response.status_code != int(test.get("status", 200)):
        return f"status {response.status_code} != {test.get('status', 200)}"
    if test.get("contains") and str(test["contains"]) not in response.text:
        return f"body lacks {inert(str(test['contains']), single_line=True)!r}"
    if test.get("max_ms") and seconds * 1000 > float(test["max_ms"]):
        return f"{seconds * 1000:.0f} ms > {test['max_ms']} ms"
    return ""
