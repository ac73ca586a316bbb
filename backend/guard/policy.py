"""The guard's policy for measurements it cannot trust yet: a metrics outage and a re-arm.

Outage: an unreachable metrics source is not evidence against an app. Each app's policy
(`guard.outage`, or `guard.app_outage` for that app) is `hold` — the error rate becomes an
`error` verdict, the app `unknown`, nothing rolls back on it — or `fail`, where
`prometheus_errors` unreachable reads in a row fail the error rate. Either way an outage is
notified once (per context, not per app) and followed up when the source answers again.

Re-arm: once an app is re-armed after a rollback (by any process: the state lives in the
cluster), a windowed signal cannot trip on data measured before the re-arm; it is held
inconclusive until its window has passed, or the color was seen clean since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from turnout.backend import signals
from turnout.backend.config import GuardSettings
from turnout.backend.guard.alerts import Alerts, Page, incident_key, reading
from turnout.backend.models import App, Verdict

if TYPE_CHECKING:  # measure.py applies `held`
    from turnout.backend.guard.measure import Streaks

Key = tuple[str, str]
WINDOWED = ("error-rate",)
"""Signals measured over a time window, which can still hold data from before a re-arm."""


def outage_policy(settings: GuardSettings, app: App) -> str:
    """`hold` or `fail`: what a sustained metrics outage means for `app`."""
    return settings.app_outage.get(app.name, settings.outage)


def held(verdict: Verdict, since: datetime) -> Verdict:
    """A failed unreachable-source verdict under the `hold` policy: an `error`, never a `fail`."""
    return msgspec.structs.replace(
        verdict, outcome="error",
        detail=f"{verdict.detail}: holding since {since:%H:%M:%S} (outage policy hold)")


@dataclass
class Rearms:
    """When each app was re-armed after a rollback, while its windowed signals may hold older data."""

    armed_at: dict[Key, datetime] = field(default_factory=dict)
    """When each app was re-armed, until its window has passed."""
    clean: dict[Key, set[str]] = field(default_factory=dict)
    """The colors seen with clean windowed signals since the re-arm: later errors are fresh."""
    states: dict[Key, str] = field(default_factory=dict)
    """Each app's guard state when last seen (a re-arm by another process shows as a change)."""

    def rearmed(self, app: App, now: datetime) -> None:
        """This process re-armed `app` after a rollback."""
        key = (app.namespace, app.name)
        self.armed_at[key], self.states[key] = now, "armed"
        self.clean.pop(key, None)

    def seen_state(self, app: App, now: datetime) -> None:
        """Note `app`'s guard state; armed after having been seen tripped is a re-arm (by any
        process: the state lives in the cluster)."""
        key = (app.namespace, app.name)
        if self.states.get(key) == "tripped" and app.guard == "armed":
            self.armed_at[key] = now
            self.clean.pop(key, None)
        self.states[key] = app.guard

    def fresh_only(self, app: App, verdicts: list[Verdict], now: datetime,
                   window: float) -> tuple[Verdict, ...]:
        """`verdicts`, with a windowed signal that fails within `window` seconds of a re-arm held
        as inconclusive while its window may still hold measurements from before the re-arm:
        until the window has passed, or the color was seen clean since (then errors are new)."""
        key = (app.namespace, app.name)
        armed = self.armed_at.get(key)
        if armed is None:
            return tuple(verdicts)
        age = (now - armed).total_seconds()
        if age >= window:
            del self.armed_at[key]
            self.clean.pop(key, None)
            return tuple(verdicts)
        windowed = [v for v in verdicts if v.signal in WINDOWED]
        clean = self.clean.setdefault(key, set())
        if windowed and not any(signals.is_bad(v) for v in windowed):
            clean.update(v.color for v in windowed)
        return tuple(msgspec.structs.replace(
            v, outcome="inconclusive",
            detail=f"re-armed {age:.0f} s ago: the {window:g} s window still holds data from before; "
                   f"{v.detail}"[:300]) if v in windowed and v.outcome == "fail" and v.color not in clean
            else v for v in verdicts)


@dataclass
class Outage:
    """The current metrics outage of one guard process, and its one notification."""

    alerts: Alerts
    settings: GuardSettings
    page: Page | None = None
    """The page of the current metrics outage, once sent."""

    async def observe(self, app: App, streaks: Streaks, verdicts: tuple[Verdict, ...]) -> None:
        """One notification per metrics outage (when it has lasted `prometheus_errors` reads),
        and its follow-up when the source answers again."""
        if streaks.unreachable_since is None:
            if (over := self._over()) is not None:
                await self.alerts.resolve(over, "the metrics source answers again; evaluation resumed")
            return
        if streaks.prometheus_errors >= self.settings.prometheus_errors and self.page is None:
            rate = next((v for v in verdicts if v.signal == "error-rate"), None)
            self.page = page = outage_page(app, streaks.unreachable_since, rate,
                                           outage_policy(self.settings, app), self.alerts)
            await self.alerts.send(page)

    def _over(self) -> Page | None:
        """The metrics source answers: the outage's page, if one was sent (to resolve)."""
        page, self.page = self.page, None
        return page


def outage_page(app: App, since: datetime, rate: Verdict | None, policy: str, alerts: Alerts) -> Page:
    """The one notification of a metrics outage (per context, not per app)."""
    action = ("holding: no promotion and no rollback on the error rate until it answers"
              if policy != "fail" else "the error rate fails: armed apps with outage policy fail roll back")
    detail = f"\nLast reading ({app.namespace}/{app.name}): {reading(rate)}" if rate else ""
    return Page(title=f"Turnout: metrics unreachable since {since:%Y-%m-%d %H:%M:%S} UTC: {action}",
                body=f"The guard cannot read the error rate (source: {rate.source if rate else 'metrics'}); "
                     f"apps are shown unknown.{detail}\n",
                severity="warning", key=incident_key(app.context, "*", "*", "metrics-outage"),
                links=alerts.links(app=app.name, namespace=app.namespace, context=app.context))
