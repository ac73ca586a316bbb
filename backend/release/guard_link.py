"""The guard's triggers as the release flow's extra analysis (backend/guard, when installed).

With a metrics source the flow asks the guard's `Measurer` for every trigger
on the new color: health checks (3 consecutive failures), the Prometheus error
rate with its explicit edge cases (low traffic, stale or empty series: never a
pass), error logs, smoke tests, restarts. Without one, only the smoke tests
(whose judgement needs no metrics) are added. The flow keeps its own per-color
streaks, separate from a running guard's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from turnout.backend.config import GuardSettings
from turnout.backend.models import App, Color, Verdict
from turnout.backend.release.analysis import Trigger
from turnout.backend.service import ReleaseService

if TYPE_CHECKING:
    from turnout.backend.guard.alerts import Alerts


class GuardTrigger:
    """One `Trigger` over the guard's measurer."""

    def __init__(self, service: ReleaseService, settings: GuardSettings) -> None:
        from turnout.backend.guard.measure import Measurer, Streaks

        self.service = service
        self.settings = settings
        self.measurer = Measurer(service.cluster, service.metrics, settings)
        self.streaks: dict[Color, Streaks] = {"blue": Streaks(), "green": Streaks()}

    async def __call__(self, app: App, color: Color) -> Sequence[Verdict]:
        now = self.service.clock()
        if self.service.metrics is not None:
            return await self.measurer.verdicts(app, color, self.streaks[color], now)
        if self.measurer.smoke_tests and app.endpoints.get(color):
            return [await self.measurer.smoke(app, color, now)]
        return []


def guard_triggers(service: ReleaseService, settings: GuardSettings) -> tuple[Trigger, ...]:
    """The guard's triggers for a deploy, or none when the guard is not installed."""
    try:
        return (GuardTrigger(service, settings),)
    except ImportError:
        return ()


def release_alerts(triggers: Sequence[Trigger]) -> Alerts:
    """The notifiers (from the environment) and links (from the guard's settings, those the
    triggers were built with) a deploy that ends rolled back or failed pages through."""
    from turnout.backend.guard.alerts import Alerts
    from turnout.backend.notify import from_environment

    settings = next((t.settings for t in triggers if isinstance(t, GuardTrigger)), GuardSettings())
    return Alerts(from_environment(), settings)
