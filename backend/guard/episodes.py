"""What the guard remembers about each app's episodes between evaluations: when an error began,
which pages are open, when the app was re-armed, and the current metrics outage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from turnout.backend import signals
from turnout.backend.guard.alerts import Alerts, Page, incident_key, reading
from turnout.backend.models import App, Verdict

Key = tuple[str, str]
WINDOWED = ("error-rate",)
"""Signals measured over a time window, which can still hold data from before a re-arm."""


@dataclass
class Episodes:
    """Per-app episodes of one guard process."""

    errors: dict[Key, datetime] = field(default_factory=dict)
    """Since when each app has been an `error` (its alert was sent then)."""
    opened: dict[tuple[str, str, str], Page] = field(default_factory=dict)
    """Pages sent and not yet resolved, by (namespace, app, what)."""
    armed_at: dict[Key, datetime] = field(default_factory=dict)
    """When each app was re-armed after a rollback, while its windowed signals may hold older data."""
    clean: dict[Key, set[str]] = field(default_factory=dict)
    """The colors seen with clean windowed signals since the re-arm: later errors are fresh."""
    states: dict[Key, str] = field(default_factory=dict)
    """Each app's guard state when last seen (a re-arm by another process shows as a change)."""
    outage: Page | None = None
    """The page of the current metrics outage, once sent."""

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

    def close(self, app: App) -> list[Page]:
        """The app's open pages, forgotten (the app is healthy)."""
        mine = [k for k in self.opened if k[:2] == (app.namespace, app.name)]
        return [self.opened.pop(k) for k in mine]

    def outage_over(self) -> Page | None:
        """The metrics source answers: the outage's page, if one was sent (to resolve)."""
        page, self.outage = self.outage, None
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
