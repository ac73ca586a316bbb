"""The rollback guard: watch the color taking new traffic, roll back when a trigger trips.

Safety rules: only a `fail` trips (inconclusive pauses, never rolls back); the
stable color must itself be healthy to roll back into it ("no safe target"
otherwise); after a rollback the app is `tripped` and stays untouched until an
operator re-arms it; in read-only mode the guard reports what it would do.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from turnout.backend.config import GuardSettings
from turnout.backend.errors import ReadOnly, TurnoutError
from turnout.backend.guard import incident as reports
from turnout.backend.guard.measure import Measurer, Streaks
from turnout.backend.models import App, Color, Verdict, other
from turnout.backend.notify import Fanout
from turnout.backend.service import ReleaseService

log = logging.getLogger(__name__)
ARMED, TRIPPED, DISARMED = "armed", "tripped", "disarmed"


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """One pass over one app: the verdicts and what the guard decided."""

    app: str
    namespace: str
    state: str
    watched: Color
    verdicts: tuple[Verdict, ...]
    decision: str
    """`ok`, `wait` (inconclusive), `rollback`, `no safe target`, `would roll back`, `skip`."""
    incident: str = ""


def watched_color(app: App) -> Color:
    """The color receiving new traffic: the canary mid-rollout, else the live one."""
    return app.traffic.canary if app.traffic.canary_weight > 0 else app.traffic.live


@dataclass
class Guard:
    """Evaluates apps and acts on them through the release service."""

    service: ReleaseService
    settings: GuardSettings
    notifier: Fanout = field(default_factory=lambda: Fanout(()))
    streaks: dict[tuple[str, str, str], Streaks] = field(default_factory=dict)
    first_bad: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.measure = Measurer(self.service.cluster, self.service.metrics, self.settings)

    async def arm(self, name: str, namespace: str | None = None) -> App:
        """Arm (or re-arm) the guard on an app."""
        app = await self.service.cluster.get_app(name, namespace)
        await self.service.cluster.set_guard_state(app, ARMED)  # type: ignore[attr-defined]
        self.first_bad.pop((app.namespace, app.name), None)
        return app

    async def check(self, name: str, namespace: str | None = None) -> Evaluation:
        """Evaluate every trigger once and act if one tripped."""
        app = await self.service.cluster.get_app(name, namespace)
        color, now = watched_color(app), self.service.clock()
        verdicts = await self.measure.verdicts(app, color, self._streaks(app, color), now)
        failed = [v for v in verdicts if v.outcome == "fail"]
        key = (app.namespace, app.name)
        if not failed:
            self.first_bad.pop(key, None)
            waiting = any(v.outcome in ("inconclusive", "error") for v in verdicts)
            return self._evaluation(app, color, verdicts, "wait" if waiting else "ok")
        self.first_bad.setdefault(key, min(v.at for v in failed))
        if app.guard != ARMED:
            return self._evaluation(app, color, verdicts, "skip")
        return await self._trip(app, color, tuple(verdicts), tuple(failed))

    def _streaks(self, app: App, color: Color) -> Streaks:
        return self.streaks.setdefault((app.namespace, app.name, color), Streaks())

    def _evaluation(self, app: App, color: Color, verdicts: list[Verdict] | tuple[Verdict, ...],
                    decision: str, incident: str = "") -> Evaluation:
        return Evaluation(app=app.name, namespace=app.namespace, state=app.guard, watched=color,
                          verdicts=tuple(verdicts), decision=decision, incident=incident)

    async def _trip(self, app: App, color: Color, verdicts: tuple[Verdict, ...],
                    failed: tuple[Verdict, ...]) -> Evaluation:
        detected = self.service.clock()
        stable = other(color)
        stable_verdicts = tuple(await self.measure.verdicts(
            app, stable, self._streaks(app, stable), detected))
        base = reports.Incident(
            id=f"{detected:%Y%m%dT%H%M%S}-{app.name}-{uuid.uuid4().hex[:6]}", app=app.name,
            namespace=app.namespace, context=app.context, color=color, action="",
            first_bad_at=self.first_bad[(app.namespace, app.name)], detected_at=detected,
            triggers=failed, stable=stable_verdicts)
        if any(v.outcome == "fail" for v in stable_verdicts) or (app.slot(stable).desired == 0 and \
                app.traffic.canary_weight == 0):
            done = msgspec.structs.replace(base, action="none: no safe target")
            decision = "no safe target"
        elif self.service.read_only:
            done = msgspec.structs.replace(base, action="would roll back (read-only)")
            decision = "would roll back"
        else:
            done, decision = await self._roll_back(app, base), "rollback"
        path = await self._report(app, done)
        return self._evaluation(app, color, verdicts, decision, str(path))

    async def _roll_back(self, app: App, base: reports.Incident) -> reports.Incident:
        started = self.service.clock()
        notes: list[str] = []
        try:
            await self.service.rollback(app.name, namespace=app.namespace,
                                        reason=f"guard: {base.triggers[0].signal} failed")
        except TurnoutError as err:
            return msgspec.structs.replace(base, action=f"rollback failed: {err}", action_at=started)
        killed: tuple[str, ...] = ()
        if self.settings.kill_flags and self.service.flags is not None:
            try:
                killed = tuple(f.key for f in await self.service.flags.kill_linked(
                    app.name, reason="guard rollback"))
            except TurnoutError as err:
                notes.append(f"flags not turned off: {err}")
        await self._set_state(app, TRIPPED, notes)
        return msgspec.structs.replace(base, action="rollback", action_at=started,
                                       restored_at=self.service.clock(), flags_killed=killed,
                                       notes=tuple(notes))

    async def _set_state(self, app: App, state: str, notes: list[str]) -> None:
        try:
            await self.service.cluster.set_guard_state(app, state)  # type: ignore[attr-defined]
        except (TurnoutError, AttributeError) as err:
            notes.append(f"guard state not recorded in the cluster: {err}")

    async def _report(self, app: App, incident: reports.Incident) -> str:
        path = reports.write(incident)
        summary = (f"{incident.action}: {app.namespace}/{app.name} {incident.color} failed "
                   f"({', '.join(f'{v.signal} {v.detail}' for v in incident.triggers)})")
        recorder = getattr(self.service.cluster, "record_incident", None)
        if recorder is not None:
            try:
                await recorder(app, summary)
            except (TurnoutError, ReadOnly) as err:
                log.warning("incident event not recorded: %s", err)
        severity = "critical" if incident.action != "rollback" else "error"
        for problem in await self.notifier.notify(title=f"Turnout: {summary}"[:300],
                                                  body=reports.markdown(incident), severity=severity):
            log.warning("notification failed: %s", problem)
        return str(path)

    async def run(self, names: list[str], namespace: str | None, stop: asyncio.Event) -> None:
        """Evaluate every app each interval until `stop` is set."""
        while not stop.is_set():
            for name in names:
                try:
                    await self.check(name, namespace)
                except TurnoutError as err:
                    log.warning("guard on %s: %s", name, err)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.interval)
