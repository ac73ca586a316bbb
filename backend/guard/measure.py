"""Collect every trigger's verdict for one color: restarts, health, error rate, logs, smoke.

I/O lives here; judging lives in `signals`. What a trigger must remember between
evaluations (failed health checks, unreachable-Prometheus errors, restart counts
seen) is kept by the caller in `Streaks`, one per app and color.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from turnout.backend import signals
from turnout.backend.config import GuardSettings
from turnout.backend.errors import InvalidInput, TurnoutError, Unavailable
from turnout.backend.guard.policy import held, outage_policy
from turnout.backend.guard.ports import (
    PROXY_SCHEME,
    HealthProbe,
    PodLogs,
    SampledMetrics,
    SampleHistory,
    ServiceProxy,
)
from turnout.backend.guard.smoke import load_smoke_tests, run_smoke
from turnout.backend.metrics.promql import duration_seconds
from turnout.backend.models import App, Color, Slot, Verdict
from turnout.backend.ports import ClusterPort, MetricsPort
from turnout.backend.sanitize import inert

if TYPE_CHECKING:  # imported where used: the TUI's first frame need not pay for httpx
    import httpx

RESTART_WINDOW = 300.0
"""Seconds over which restarts count towards a crash loop."""
HEALTH_MEMORY = 20
"""Health results kept per color; only the trailing failure streak matters."""
CANNOT_EVALUATE = "cannot evaluate: "
"""Start of the detail of a verdict the guard could not even measure: the app's configuration
(an endpoint, a PromQL template) or the guard itself is at fault, not the app."""


@dataclass
class Streaks:
    """What one color's triggers remember between evaluations."""

    health: list[bool] = field(default_factory=list)
    prometheus_errors: int = 0
    unreachable_since: datetime | None = None
    """When the metrics source first failed to answer in the current outage (None: it answers)."""
    restarts_seen: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    """Per pod: (unix time, restartCount) as this guard saw it, over the last 5 minutes."""


class Measurer:
    """Reads the world for the guard, through the cluster, Prometheus and HTTP."""

    def __init__(self, cluster: ClusterPort, metrics: MetricsPort | None, settings: GuardSettings, *,
                 timeout: float = 2.0) -> None:
        self.cluster = cluster
        self.metrics = metrics
        self.settings = settings
        self.timeout = timeout
        self.smoke_tests = load_smoke_tests(settings.smoke_tests)
        self.max_age = duration_seconds(settings.window)
        """A sample older than the query window is stale."""

    async def verdicts(self, app: App, color: Color, streaks: Streaks, at: datetime) -> list[Verdict]:
        """Every trigger's verdict for `color` now; a trigger that cannot be measured at all is
        an `error` verdict of its own, never a reason to skip the others."""
        found = [signals.crash_loop(with_seen_restarts(app.slot(color), streaks, at), at,
                                    self.settings.restarts_5m),
                 await _isolated(signals.HEALTH, color, at, self._health(app, color, streaks, at))]
        if self.metrics is not None:
            found.append(await _isolated("error-rate", color, at, self._error_rate(app, color, streaks, at)))
        if isinstance(self.cluster, PodLogs):
            found.append(await _isolated("log-errors", color, at, self._logs(self.cluster, app, color, at)))
        if self.smoke_tests and app.endpoints.get(color):
            found.append(await _isolated("smoke", color, at, self.smoke(app, color, at)))
        return found

    async def first_bad_sample(self, app: App, color: Color) -> Verdict | None:
        """The first error-rate sample over the threshold in the run still going on, with the
        source's own sample time (None when the source keeps no sample times, or cannot say)."""
        if not isinstance(self.metrics, SampleHistory):
            return None
        try:
            found = await self.metrics.bad_run_start(app, color, self.settings.error_rate)
        except TurnoutError:
            return None
        if found is None:
            return None
        at, value = found
        return Verdict(signal="error-rate", color=color, outcome="fail", value=value,
                       threshold=self.settings.error_rate,
                       source=f"error-rate samples of {app.namespace}/{app.name}/{color}", at=at,
                       detail=f"first sample over the threshold: {value:.1%} > "
                              f"{self.settings.error_rate:.1%}")

    async def _health(self, app: App, color: Color, streaks: Streaks, at: datetime) -> Verdict:
        url = app.endpoints.get(color)
        source = f"{url}/health" if url else f"cluster health of {app.name}/{color}"
        streaks.health.append(await self._healthy(app, color, url))
        del streaks.health[:-HEALTH_MEMORY]
        return signals.health_checks(streaks.health, color, at, source, self.settings.health_failures)

    async def _healthy(self, app: App, color: Color, url: str | None) -> bool:
        import httpx

        if url:
            check_endpoint(color, url)
        try:
            if url and url.startswith(PROXY_SCHEME):
                client, prefix = self._proxy(app, url)
                return (await client.get(f"{prefix}/health", timeout=self.timeout)).is_success
            if url:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    return (await client.get(f"{url}/health")).is_success
            if isinstance(self.cluster, HealthProbe):
                return await self.cluster.health(app, color)
        except (httpx.HTTPError, TurnoutError):
            return False
        # No endpoint and no probe: a color with no ready pod cannot be healthy.
        return app.slot(color).ready > 0

    async def _error_rate(self, app: App, color: Color, streaks: Streaks, at: datetime) -> Verdict:
        assert self.metrics is not None
        source = f"error rate of {app.namespace}/{app.name}/{color}"
        try:
            if isinstance(self.metrics, SampledMetrics):
                measured = await self.metrics.sample(app, color)
                streaks.prometheus_errors, streaks.unreachable_since = 0, None
                return signals.prometheus_error_rate(
                    measured, color, at, threshold=self.settings.error_rate,
                    min_requests=self.settings.min_requests, max_age=self.max_age)
            by_color = {m.color: m for m in await self.metrics.golden_signals(app)}
            streaks.prometheus_errors, streaks.unreachable_since = 0, None
            if color not in by_color:
                return signals.no_source("error-rate", color, at, "no metrics for this color")
            return signals.error_rate(by_color[color], at, source, self.settings.error_rate)
        except InvalidInput as err:
            # A query Prometheus rejects is a template to fix: shown as an error, never
            # counted towards the K errors that roll back.
            return msgspec.structs.replace(
                signals.unreachable("error-rate", color, at, source, 0, self.settings.prometheus_errors),
                detail=f"{CANNOT_EVALUATE}query rejected: {err}"[:300])
        except Unavailable:
            streaks.prometheus_errors += 1
            streaks.unreachable_since = streaks.unreachable_since or at
            verdict = signals.unreachable("error-rate", color, at, source, streaks.prometheus_errors,
                                          self.settings.prometheus_errors)
            if verdict.outcome == "fail" and outage_policy(self.settings, app) != "fail":
                verdict = held(verdict, streaks.unreachable_since)
            return verdict

    async def _logs(self, logs: PodLogs, app: App, color: Color, at: datetime) -> Verdict:
        source = f"logs of {app.namespace}/{app.name} {color} pods"
        try:
            lines = await logs.log_lines(app, color, 100)
        except TurnoutError as err:
            return msgspec.structs.replace(
                signals.log_error_rate([], color, at, source), outcome="error",
                detail=f"logs unreadable: {err}"[:300])
        return signals.log_error_rate(lines, color, at, source, pattern=self.settings.log_pattern,
                                      threshold=self.settings.log_errors_per_100)

    async def smoke(self, app: App, color: Color, at: datetime) -> Verdict:
        """Run the smoke requests against `color`'s endpoint."""
        endpoint = app.endpoints.get(color, "")
        check_endpoint(color, endpoint)
        if endpoint.startswith(PROXY_SCHEME):
            try:
                client, prefix = self._proxy(app, endpoint)
            except TurnoutError as err:
                return msgspec.structs.replace(
                    signals.smoke([], color, at, f"smoke tests against {endpoint}"), outcome="error",
                    detail=str(err)[:300])
            return await run_smoke(self.smoke_tests, prefix, color, at, timeout=self.timeout,
                                   client=client, label=endpoint)
        return await run_smoke(self.smoke_tests, endpoint, color, at, timeout=self.timeout)

    def _proxy(self, app: App, endpoint: str) -> tuple[httpx.AsyncClient, str]:
        if not isinstance(self.cluster, ServiceProxy):
            raise InvalidInput(f"{endpoint}: this cluster backend has no service proxy")
        return self.cluster.service_proxy(app, endpoint)


async def _isolated(signal: str, color: Color, at: datetime, pending: Awaitable[Verdict]) -> Verdict:
    """`pending`'s verdict; an exception (a malformed annotation, a bug) becomes an `error` verdict
    of this trigger, so one bad input neither hides the other triggers nor stops the guard."""
    try:
        return await pending
    except Exception as err:  # anything a trigger raises is that trigger's error
        return Verdict(signal=signal, color=color, outcome="error", value=None, threshold=None,
                       source=f"{signal} of {color}", at=at,
                       detail=inert(f"{CANNOT_EVALUATE}{type(err).__name__}: {err}", single_line=True)[:300])


def check_endpoint(color: Color, url: str) -> None:
    """Refuse an endpoint that is not an http(s) or kube:// URL with a host (`InvalidInput`):
    a typo in the annotation must read as a configuration error, not as failed health checks."""
    if url.startswith(PROXY_SCHEME):
        if not url.removeprefix(PROXY_SCHEME).strip("/"):
            raise InvalidInput(f"endpoint of {color} {url!r}: no Service named")
        return
    import httpx

    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as err:
        raise InvalidInput(f"endpoint of {color} {url!r}: {err}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise InvalidInput(f"endpoint of {color} {url!r}: expected http(s)://HOST[:PORT] or kube://SERVICE")


def with_seen_restarts(slot: Slot, streaks: Streaks, at: datetime) -> Slot:
    """`slot` with each pod's 5-minute restarts at least what this guard saw restartCount rise.

    A one-shot read can only estimate recent restarts (from lastState); a guard
    that runs for long remembers each pod's count, so its own window is exact.
    """
    now = at.timestamp()
    pods = []
    for pod in slot.pods:
        seen = streaks.restarts_seen.setdefault(pod.name, deque())
        seen.append((now, pod.restarts))
        while now - seen[0][0] > RESTART_WINDOW:
            seen.popleft()
        rose = pod.restarts - seen[0][1]
        pods.append(msgspec.structs.replace(pod, restarts_5m=max(pod.restarts_5m, rose)))
    for gone in set(streaks.restarts_seen) - {pod.name for pod in slot.pods}:
        del streaks.restarts_seen[gone]
    return msgspec.structs.replace(slot, pods=tuple(pods))
