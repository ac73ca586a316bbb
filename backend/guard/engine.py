"""The rollback guard: watch the color taking new traffic, roll back when a trigger fails.

Safety rules: only a `fail` trips (inconclusive and error pause, never roll back);
the stable color must not be unhealthy itself ("no safe target" otherwise);
after a rollback the app is `tripped` and left alone until an operator re-arms
it; in read-only mode the guard reports what it would do. An alert that did not
roll back is sent once per episode, not every interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from turnout.backend import signals
from turnout.backend.config import GuardSettings
from turnout.backend.errors import TurnoutError
from turnout.backend.guard import incident as reports
from turnout.backend.guard.measure import Measurer, Streaks
from turnout.backend.guard.ports import GuardReportStore, GuardStateStore
from turnout.backend.models import App, Color, GuardReport, Verdict, other
from turnout.backend.notify import Fanout

if TYPE_CHECKING:  # the service imports the guard's incident reports
    from turnout.backend.service import ReleaseService

log = logging.getLogger(__name__)
ARMED, TRIPPED, DISARMED = "armed", "tripped", "disarmed"
Key = tuple[str, str]
REPORT_REFRESH = 30.0
"""Seconds after which unchanged verdicts are published again (fresh values and time)."""


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """One pass over one app: the verdicts and what the guard decided."""

    app: str
    namespace: str
    state: str
    watched: Color
    verdicts: tuple[Verdict, ...]
    decision: str
    """`ok`, `wait` (inconclusive or error: hold), `skip` (a trigger failed but the guard is not
    armed), `rollback`, `no safe target`, `would roll back` (read-only), `rollback failed`, or
    `already alerted` (the same episode was reported by an earlier evaluation)."""
    incident: str = ""
    """Path of the Markdown incident report, when this episode has one."""


def watched_color(app: App) -> Color:
    """The color receiving new traffic: the canary mid-rollout, else the live one."""
    return app.traffic.canary if app.traffic.canary_weight > 0 else app.traffic.live


def unsafe_target(verdict: Verdict) -> bool:
    """Whether this verdict of the stable color rules it out as a rollback target.

    A single bad measurement is enough (one failed health check, an error rate over
    the threshold); being unable to measure (an unreachable source) is not.
    """
    return verdict.outcome == "fail" or (verdict.outcome != "error" and signals.is_bad(verdict))


@dataclass
class Guard:
    """Evaluates apps and acts on them through the release service."""

    service: ReleaseService
    settings: GuardSettings
    notifier: Fanout = field(default_factory=Fanout)
    streaks: dict[tuple[str, str, Color], Streaks] = field(default_factory=dict)
    bad_since: dict[tuple[str, str, Color, str], Verdict] = field(default_factory=dict)
    """The first bad measurement of each trigger still bad, by (namespace, app, color, signal)."""
    published: dict[Key, tuple[tuple[object, ...], float]] = field(default_factory=dict)
    """What was last published per app, and when (monotonic)."""
    alerted: dict[Key, Evaluation] = field(default_factory=dict)
    """The outcome reported without a rollback in each app's current episode (a run of failing
    evaluations); cleared when nothing fails."""

    def __post_init__(self) -> None:
        self.measure = Measurer(self.service.cluster, self.service.metrics, self.settings)

    async def arm(self, name: str, namespace: str | None = None) -> App:
        """Arm (or re-arm) the guard on an app; its triggers start from a clean slate."""
        app = await self.service.cluster.get_app(name, namespace)
        await self._store().set_guard_state(app, ARMED)
        self._forget(app)
        return app

    async def disarm(self, name: str, namespace: str | None = None) -> App:
        """Disarm the guard on an app: it is evaluated but never acted on."""
        app = await self.service.cluster.get_app(name, namespace)
        await self._store().set_guard_state(app, DISARMED)
        return app

    async def check(self, name: str, namespace: str | None = None) -> Evaluation:
        """Evaluate every trigger once, act if one failed, and publish the verdicts."""
        app = await self.service.cluster.get_app(name, namespace)
        result = await self._evaluate(app)
        await self._publish(app, result)
        return result

    async def _publish(self, app: App, result: Evaluation) -> None:
        """Share the verdicts through the cluster when they change, and at least every
        `REPORT_REFRESH` seconds so readers see fresh values without a write per interval."""
        if self.service.read_only or not isinstance(self.service.cluster, GuardReportStore):
            return
        shape = (result.decision, result.watched, *((v.color, v.signal, v.outcome) for v in result.verdicts))
        key = (app.namespace, app.name)
        last = self.published.get(key)
        if last is not None and last[0] == shape and time.monotonic() - last[1] < REPORT_REFRESH:
            return
        report = GuardReport(at=self.service.clock(), watched=result.watched, decision=result.decision,
                             verdicts=result.verdicts)
        try:
            await self.service.cluster.publish_guard_report(app, report)
        except TurnoutError as err:
            log.warning("guard report of %s/%s not published: %s", app.namespace, app.name, err)
            return
        self.published[key] = (shape, time.monotonic())

    async def _evaluate(self, app: App) -> Evaluation:
        color, now = watched_color(app), self.service.clock()
        verdicts = tuple(await self.measure.verdicts(app, color, self._streaks(app, color), now))
        self._track_bad(app, color, verdicts)
        failed = tuple(v for v in verdicts if v.outcome == "fail")
        key = (app.namespace, app.name)
        if not failed:
            self.alerted.pop(key, None)
            waiting = any(v.outcome in ("inconclusive", "error") for v in verdicts)
            return _evaluation(app, color, verdicts, "wait" if waiting else "ok")
        if app.guard != ARMED:
            return _evaluation(app, color, verdicts, "skip")
        result = await self._trip(app, color, verdicts, failed, self.alerted.get(key))
        if result.decision not in ("rollback", "already alerted"):
            self.alerted[key] = result
        return result

    def _store(self) -> GuardStateStore:
        if not isinstance(self.service.cluster, GuardStateStore):
            raise TurnoutError("this cluster backend cannot keep the guard's state")
        return self.service.cluster

    def _streaks(self, app: App, color: Color) -> Streaks:
        return self.streaks.setdefault((app.namespace, app.name, color), Streaks())

    def _forget(self, app: App) -> None:
        """Drop what the triggers remember of `app` (re-armed: a new episode)."""
        mine = (app.namespace, app.name)
        for color_key in [k for k in self.streaks if k[:2] == mine]:
            del self.streaks[color_key]
        for signal_key in [k for k in self.bad_since if k[:2] == mine]:
            del self.bad_since[signal_key]
        self.alerted.pop((app.namespace, app.name), None)

    def _track_bad(self, app: App, color: Color, verdicts: tuple[Verdict, ...]) -> None:
        for verdict in verdicts:
            key = (app.namespace, app.name, color, verdict.signal)
            if signals.is_bad(verdict):
                self.bad_since.setdefault(key, verdict)
            else:
                self.bad_since.pop(key, None)

    def _first_bad(self, app: App, color: Color, failed: tuple[Verdict, ...]) -> tuple[Verdict, ...]:
        return tuple(self.bad_since.get((app.namespace, app.name, color, v.signal), v) for v in failed)

    async def _trip(self, app: App, color: Color, verdicts: tuple[Verdict, ...],
                    failed: tuple[Verdict, ...], previous: Evaluation | None) -> Evaluation:
        """Decide and act; an outcome already reported in this episode is not reported again,
        but the decision is taken afresh each time (a stable color that recovers becomes a target)."""
        detected = self.service.clock()
        stable = await self._stable_verdicts(app, other(color), detected)
        first_bad = self._first_bad(app, color, failed)
        base = reports.Incident(
            id=f"{detected:%Y%m%dT%H%M%S}-{app.name}-{uuid.uuid4().hex[:6]}", app=app.name,
            namespace=app.namespace, context=app.context, color=color, action="",
            first_bad_at=min(v.at for v in first_bad), detected_at=detected, triggers=failed,
            first_bad=first_bad, stable=stable)
        if any(unsafe_target(v) for v in stable):
            done, decision = msgspec.structs.replace(base, action="none: no safe target"), "no safe target"
        elif self.service.read_only:
            done = msgspec.structs.replace(base, action="would roll back (read-only)")
            decision = "would roll back"
        else:
            done = await self._roll_back(app, base)
            decision = "rollback" if done.action == "rollback" else "rollback failed"
        if previous is not None and previous.decision == decision:
            return _evaluation(app, color, verdicts, "already alerted", previous.incident)
        path = await self._report(app, done, decision)
        state = TRIPPED if decision == "rollback" else app.guard
        return _evaluation(msgspec.structs.replace(app, guard=state), color, verdicts, decision, path)

    async def _stable_verdicts(self, app: App, stable: Color, at: datetime) -> tuple[Verdict, ...]:
        """The rollback target's verdicts; none when it is scaled to zero (a rollback scales it
        up and waits for it to be ready before moving traffic)."""
        if app.slot(stable).desired == 0:
            return ()
        return tuple(await self.measure.verdicts(app, stable, self._streaks(app, stable), at))

    async def _roll_back(self, app: App, base: reports.Incident) -> reports.Incident:
        started = self.service.clock()
        try:
            await self.service.rollback(app.name, namespace=app.namespace,
                                        reason=f"guard: {', '.join(v.signal for v in base.triggers)} failed")
            after = await self.service.cluster.get_app(app.name, app.namespace)
        except TurnoutError as err:
            return msgspec.structs.replace(base, action=f"rollback failed: {err}", action_at=started)
        restored = self.service.clock() if after.traffic.weights.of(base.color) == 0 else None
        notes = [] if restored else [f"{base.color} still has {after.traffic.weights.of(base.color)} % "
                                     "of traffic after the rollback"]
        killed = await self._kill_flags(app, notes)
        await self._set_state(app, TRIPPED, notes)
        return msgspec.structs.replace(base, action="rollback", action_at=started, restored_at=restored,
                                       flags_killed=killed, notes=tuple(notes))

    async def _kill_flags(self, app: App, notes: list[str]) -> tuple[str, ...]:
        if not self.settings.kill_flags or self.service.flags is None:
            return ()
        try:
            return await self.service.kill_linked_flags(app.name, reason="guard rollback")
        except TurnoutError as err:
            notes.append(f"flags not turned off: {err}")
            return ()

    async def _set_state(self, app: App, state: str, notes: list[str]) -> None:
        try:
            await self._store().set_guard_state(app, state)
        except TurnoutError as err:
            notes.append(f"guard state not recorded in the cluster: {err}")

    async def _report(self, app: App, incident: reports.Incident, decision: str) -> str:
        """Write the report, record the Event, notify; each goes ahead even if another fails."""
        try:
            path = str(reports.write(incident, self.service.incidents_folder))
        except OSError as err:
            log.warning("incident report not written: %s", err)
            path = ""
        summary = (f"{decision}: {app.namespace}/{app.name} {incident.color} failed "
                   f"({'; '.join(f'{v.signal} {v.detail}' for v in incident.triggers)})")
        if not self.service.read_only and isinstance(self.service.cluster, GuardStateStore):
            try:
                await self.service.cluster.record_incident(app, summary[:1000])
            except TurnoutError as err:
                log.warning("incident event not recorded: %s", err)
        problems = await self.notifier.notify(
            title=f"Turnout: {summary}"[:300], body=reports.markdown(incident),
            severity="error" if decision == "rollback" else "critical",
            key=f"turnout/{app.context}/{app.namespace}/{app.name}/{incident.color}")
        for problem in problems:
            log.warning("notification failed: %s", problem)
        return path

    async def run(self, names: list[str], namespace: str | None, stop: asyncio.Event,
                  on_result: Callable[[Evaluation], None] | None = None) -> None:
        """Evaluate every app each interval (a fixed rate, not interval + time spent) until `stop`."""
        while not stop.is_set():
            started = time.monotonic()
            results = await asyncio.gather(*(self._check_logged(name, namespace) for name in names))
            for result in results:
                if result is not None and on_result is not None:
                    on_result(result)
            pause = max(0.0, self.settings.interval - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)

    async def _check_logged(self, name: str, namespace: str | None) -> Evaluation | None:
        try:
            result = await self.check(name, namespace)
        except TurnoutError as err:
            log.warning("guard on %s: %s", name, err)
            return None
        except Exception:  # a bug in one evaluation must not stop the guard of every app
            log.exception("guard on %s failed", name)
            return None
        if result.decision not in ("ok", "wait", "already alerted"):
            log.warning("guard on %s: %s (%s failed)", name, result.decision, result.watched)
        return result


def _evaluation(app: App, color: Color, verdicts: tuple[Verdict, ...], decision: str,
                incident: str = "") -> Evaluation:
    return Evaluation(app=app.name, namespace=app.namespace, state=app.guard, watched=color,
                      verdicts=verdicts, decision=decision, incident=incident)
