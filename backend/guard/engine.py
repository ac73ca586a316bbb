"""The rollback guard: watch the color taking new traffic, roll back when a trigger fails.

Safety rules: only a `fail` trips (inconclusive and error pause, never roll back);
the stable color must not be unhealthy itself ("no safe target" otherwise);
after a rollback the app is `tripped` and left alone until an operator re-arms
it; in read-only mode the guard reports what it would do. An alert that did not
roll back is sent once per episode, not every interval.

Isolation: each app is evaluated on its own, with its measurements bounded by
`guard.evaluation_timeout`; whatever goes wrong with one app (its configuration, a
measurement, the guard's own code) is that app's `error` decision, alerted once,
and never stops or delays the others. What a metrics outage and a re-arm mean is the
guard's policy (`policy.py`).
"""

from __future__ import annotations

import asyncio
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
from turnout.backend.guard.acting import Acting, state_store
from turnout.backend.guard.alerts import Alerts, Page, incident_key
from turnout.backend.guard.episodes import Episodes
from turnout.backend.guard.measure import CANNOT_EVALUATE, Measurer, Streaks
from turnout.backend.guard.policy import Outage, Rearms
from turnout.backend.guard.ports import ARMED, DISARMED, TRIPPED, GuardReportStore
from turnout.backend.guard.tape import Tape
from turnout.backend.guard.telemetry import Telemetry
from turnout.backend.models import App, Color, GuardReport, Verdict, other
from turnout.backend.notify import Fanout
from turnout.backend.sanitize import inert

if TYPE_CHECKING:  # the service imports the guard's incident reports
    from turnout.backend.service import ReleaseService

log = logging.getLogger(__name__)
Key = tuple[str, str]
REPORT_REFRESH = 30.0
"""Seconds after which unchanged verdicts are published again (fresh values and time)."""
ERROR, UNKNOWN = "error", "unknown"
GUARD_SIGNAL = "guard"
"""The signal of a verdict about the evaluation itself (the app could not be read or judged)."""


class Evaluation(msgspec.Struct, frozen=True, kw_only=True):
    """One pass over one app: the verdicts and what the guard decided."""

    app: str
    namespace: str
    state: str
    watched: Color | None
    """The color evaluated; None when the app itself could not be read."""
    verdicts: tuple[Verdict, ...]
    decision: str
    """`ok`, `wait` (inconclusive: hold), `unknown` (a measurement source is out: hold),
    `error` (the app's configuration, a measurement or the guard failed for this app),
    `skip` (a trigger failed but the guard is not armed), `rollback`, `no safe target`,
    `would roll back` (read-only), `rollback failed`, `not leader` (this replica lost its
    lease before acting), or `already alerted` (the same episode was reported earlier)."""
    incident: str = ""
    """Path of the Markdown incident report, when this episode has one."""
    since: datetime | None = None
    """For `unknown` and `error`: since when the app has been in that state."""


def watched_color(app: App) -> Color:
    """The color receiving new traffic: the canary mid-rollout, else the live one."""
    return app.traffic.canary if app.traffic.canary_weight > 0 else app.traffic.live


def unsafe_target(verdict: Verdict) -> bool:
    """Whether this verdict of the stable color rules it out as a rollback target.

    A single bad measurement is enough (one failed health check, an error rate over
    the threshold); being unable to measure (an unreachable source) is not.
    """
    return verdict.outcome == "fail" or (verdict.outcome != "error" and signals.is_bad(verdict))


def cannot_evaluate(verdict: Verdict) -> bool:
    """A verdict saying the guard could not measure at all (configuration or guard at fault)."""
    return verdict.outcome == "error" and verdict.detail.startswith(CANNOT_EVALUATE)


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
    may_act: Callable[[], bool] = lambda: True
    """Whether this replica may write now (it holds the leader lease); checked before acting."""
    actor: str = ""
    """This replica's name in audit reasons and reports (its lease identity)."""
    telemetry: Telemetry | None = None

    def __post_init__(self) -> None:
        self.measure = Measurer(self.service.cluster, self.service.metrics, self.settings)
        self.alerts = Alerts(self.notifier, self.settings)
        self.episodes = Episodes()
        self.rearms = Rearms()
        self.outage = Outage(self.alerts, self.settings)
        self.tape = Tape(self.service, lambda: self.may_act(), self.settings.evaluation_timeout)
        """Records the series of armed apps and stores incident recordings (`tape.py`)."""
        self.acting = Acting(self.service, self.settings, self.alerts, self.episodes, self.tape)
        """Rolls back and reports what the guard decided (`acting.py`)."""
        self.guarding = 0
        """How many apps `run` evaluates now."""

    async def arm(self, name: str, namespace: str | None = None) -> App:
        """Arm (or re-arm) the guard on an app; its triggers start from a clean slate."""
        app = await self.service.cluster.get_app(name, namespace)
        await state_store(self.service).set_guard_state(app, ARMED)
        self._forget(app)
        if app.guard == TRIPPED:
            self.rearms.rearmed(app, self.service.clock())
        return app

    async def disarm(self, name: str, namespace: str | None = None) -> App:
        """Disarm the guard on an app: it is evaluated but never acted on."""
        app = await self.service.cluster.get_app(name, namespace)
        await state_store(self.service).set_guard_state(app, DISARMED)
        return app

    async def check(self, name: str, namespace: str | None = None) -> Evaluation:
        """Evaluate every trigger once, act if one failed, and publish the verdicts.

        Never raises for one app's sake: whatever goes wrong is this app's `error` decision."""
        started = time.monotonic()
        try:
            app = await asyncio.wait_for(self.service.cluster.get_app(name, namespace),
                                         self.settings.evaluation_timeout)
        except (TurnoutError, TimeoutError) as err:
            result = _unreadable(name, namespace, self.service.clock(), err)
        else:
            result = await self.check_app(app)
        if self.telemetry is not None:
            self.telemetry.evaluated(result, time.monotonic() - started)
        return result

    async def check_app(self, app: App) -> Evaluation:
        """`check` of an app already read."""
        try:
            result = await self._evaluate(app)
        except Exception as err:  # one app's bug must not stop the guard of every app
            if (app.namespace, app.name) not in self.episodes.errors:  # once per episode
                log.exception("guard on %s/%s failed", app.namespace, app.name)
            result = await self._failed(app, f"{CANNOT_EVALUATE}{type(err).__name__}: {err}")
        await self.tape.evaluated(app, result.verdicts, result.decision)
        await self._publish(app, result)
        return result

    async def check_all(self, targets: list[tuple[str, str | None]]) -> list[Evaluation]:
        """Evaluate (and act on) several apps at once; one result per target, in order."""
        return list(await asyncio.gather(*(self.check(name, namespace) for name, namespace in targets)))

    async def _publish(self, app: App, result: Evaluation) -> None:
        """Share the verdicts through the cluster when they change, and at least every
        `REPORT_REFRESH` seconds so readers see fresh values without a write per interval."""
        if self.service.read_only or not isinstance(self.service.cluster, GuardReportStore) \
                or not self.may_act():
            return
        shape = (result.decision, result.watched, *((v.color, v.signal, v.outcome) for v in result.verdicts))
        key = (app.namespace, app.name)
        last = self.published.get(key)
        if last is not None and last[0] == shape and time.monotonic() - last[1] < REPORT_REFRESH:
            return
        report = GuardReport(at=self.service.clock(), watched=result.watched or watched_color(app),
                             decision=result.decision, verdicts=result.verdicts)
        try:
            await self.service.cluster.publish_guard_report(app, report)
        except TurnoutError as err:
            log.warning("guard report of %s/%s not published: %s", app.namespace, app.name, err)
            return
        self.published[key] = (shape, time.monotonic())

    async def _evaluate(self, app: App) -> Evaluation:
        color, now = watched_color(app), self.service.clock()
        self.rearms.seen_state(app, now)
        streaks = self._streaks(app, color)
        try:
            measured = await asyncio.wait_for(self.measure.verdicts(app, color, streaks, now),
                                              self.settings.evaluation_timeout)
        except TimeoutError:
            return await self._failed(app, f"{CANNOT_EVALUATE}measurements took longer than "
                                           f"{self.settings.evaluation_timeout:g} s")
        verdicts = self.rearms.fresh_only(app, measured, now, self.measure.max_age)
        self._track_bad(app, color, verdicts)
        if self.measure.metrics is not None:
            await self.outage.observe(app, streaks, verdicts)
        failed = tuple(v for v in verdicts if v.outcome == "fail")
        key = (app.namespace, app.name)
        if not failed:
            self.alerted.pop(key, None)
            return await self._calm(app, color, verdicts, streaks)
        self.episodes.errors.pop(key, None)
        if app.guard != ARMED:
            return _evaluation(app, color, verdicts, "skip")
        result = await self._trip(app, color, verdicts, failed, self.alerted.get(key))
        if result.decision not in ("rollback", "already alerted", "not leader"):
            self.alerted[key] = result
        return result

    async def _calm(self, app: App, color: Color, verdicts: tuple[Verdict, ...],
                    streaks: Streaks) -> Evaluation:
        """Nothing failed: `error`, `unknown`, `wait` or `ok` (which resolves open pages)."""
        broken = [v for v in verdicts if cannot_evaluate(v)]
        if broken:
            return await self._failed(app, "; ".join(f"{v.signal}: {v.detail}" for v in broken), verdicts)
        self.episodes.errors.pop((app.namespace, app.name), None)
        if streaks.unreachable_since is not None:
            return _evaluation(app, color, verdicts, UNKNOWN, since=streaks.unreachable_since)
        if any(v.outcome in ("inconclusive", "error") for v in verdicts):
            return _evaluation(app, color, verdicts, "wait")
        await self._resolve(app, color)
        return _evaluation(app, color, verdicts, "ok")

    async def _failed(self, app: App, problem: str, verdicts: tuple[Verdict, ...] = ()) -> Evaluation:
        """The app's `error` decision; the first of an episode is alerted, the rest are not."""
        now = self.service.clock()
        color = watched_color(app)
        key = (app.namespace, app.name)
        since = self.episodes.errors.get(key)
        if since is None:
            self.episodes.errors[key] = since = now
            page = Page(title=inert(f"Turnout: error: {app.namespace}/{app.name} cannot be guarded: "
                                    f"{problem}", single_line=True)[:1000],
                        body=f"The guard cannot evaluate {app.namespace}/{app.name}: {inert(problem)}\n"
                             "Until this is fixed no automatic rollback protects it.\n",
                        severity="warning", key=incident_key(app.context, app.namespace, app.name, ERROR),
                        links=self.alerts.links(app=app.name, namespace=app.namespace, context=app.context))
            self.episodes.opened[(*key, ERROR)] = page
            await self.alerts.send(page)
        mine = verdicts or (Verdict(signal=GUARD_SIGNAL, color=color, outcome="error", value=None,
                                    threshold=None, source="turnout guard", at=now,
                                    detail=inert(problem, single_line=True)[:300]),)
        return _evaluation(app, color, mine, ERROR, since=since)

    async def _resolve(self, app: App, color: Color) -> None:
        """The app is healthy: close every page its episodes opened, with a follow-up."""
        for page in self.episodes.close(app):
            await self.alerts.resolve(page, f"{app.namespace}/{app.name} is healthy again: every trigger "
                                            f"of {color} passed")

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

    async def _first_bad(self, app: App, color: Color, failed: tuple[Verdict, ...],
                         detected: datetime) -> tuple[Verdict, ...]:
        """The first bad measurement of each failed trigger; the error rate's is its first bad
        sample when the source keeps sample times, which precedes the evaluation that saw it
        (whichever trigger failed, that sample is when the color went bad)."""
        found = tuple(self.bad_since.get((app.namespace, app.name, color, v.signal), v) for v in failed)
        try:
            sample = await asyncio.wait_for(self.measure.first_bad_sample(app, color),
                                            self.settings.evaluation_timeout)
        except TimeoutError:
            sample = None
        same = [v.at for v in found if sample is not None and v.signal == sample.signal]
        if sample is None or sample.at > detected or (same and min(same) <= sample.at):
            return found
        return (*(v for v in found if v.signal != sample.signal), sample)

    async def _trip(self, app: App, color: Color, verdicts: tuple[Verdict, ...],
                    failed: tuple[Verdict, ...], previous: Evaluation | None) -> Evaluation:
        """Decide and act; an outcome already reported in this episode is not reported again,
        but the decision is taken afresh each time (a stable color that recovers becomes a target)."""
        detected = self.service.clock()
        try:
            stable = await asyncio.wait_for(self._stable_verdicts(app, other(color), detected),
                                            self.settings.evaluation_timeout)
        except TimeoutError:
            return await self._failed(app, f"{CANNOT_EVALUATE}the stable color's measurements took "
                                           f"longer than {self.settings.evaluation_timeout:g} s")
        first_bad = await self._first_bad(app, color, failed, detected)
        links = dict(self.alerts.links(app=app.name, namespace=app.namespace, context=app.context))
        base = reports.Incident(
            id=f"{detected:%Y%m%dT%H%M%S}-{app.name}-{uuid.uuid4().hex[:6]}", app=app.name,
            namespace=app.namespace, context=app.context, color=color, action="",
            first_bad_at=min(v.at for v in first_bad), detected_at=detected, triggers=failed,
            first_bad=first_bad, stable=stable, by=f"guard {self.actor}".strip(),
            runbook=links.get("runbook", ""), dashboard=links.get("dashboard", ""))
        if any(unsafe_target(v) for v in stable):
            done, decision = msgspec.structs.replace(base, action="none: no safe target"), "no safe target"
        elif self.service.read_only:
            done = msgspec.structs.replace(base, action="would roll back (read-only)")
            decision = "would roll back"
        elif not self.may_act():
            return _evaluation(app, color, verdicts, "not leader")
        else:
            done = await self.acting.roll_back(app, base, self.telemetry)
            decision = "rollback" if done.action == "rollback" else "rollback failed"
        if previous is not None and previous.decision == decision:
            return _evaluation(app, color, verdicts, "already alerted", previous.incident)
        path = await self.acting.report(app, done, decision)
        state = TRIPPED if decision == "rollback" else app.guard
        return _evaluation(msgspec.structs.replace(app, guard=state), color, verdicts, decision, path)

    async def _stable_verdicts(self, app: App, stable: Color, at: datetime) -> tuple[Verdict, ...]:
        """The rollback target's verdicts; none when it is scaled to zero (a rollback scales it
        up and waits for it to be ready before moving traffic)."""
        if app.slot(stable).desired == 0:
            return ()
        return tuple(await self.measure.verdicts(app, stable, self._streaks(app, stable), at))

    async def run(self, names: list[str], namespace: str | None, stop: asyncio.Event,
                  on_result: Callable[[Evaluation], None] | None = None) -> None:
        """Evaluate every app each interval until `stop`; with no `names`, every app found, looked
        up again each interval. Each app runs on its own schedule, so a slow or broken app never
        delays another (`schedule.py`)."""
        from turnout.backend.guard.schedule import guard_apps

        await guard_apps(self, names, namespace, stop, on_result)


def _evaluation(app: App, color: Color, verdicts: tuple[Verdict, ...], decision: str,
                incident: str = "", since: datetime | None = None) -> Evaluation:
    return Evaluation(app=app.name, namespace=app.namespace, state=app.guard, watched=color,
                      verdicts=verdicts, decision=decision, incident=incident, since=since)


def _unreadable(name: str, namespace: str | None, at: datetime, err: BaseException) -> Evaluation:
    problem = str(err) or f"no answer within the evaluation timeout ({type(err).__name__})"
    verdict = Verdict(signal=GUARD_SIGNAL, color="blue", outcome="error", value=None, threshold=None,
                      source="turnout guard", at=at,
                      detail=inert(f"{CANNOT_EVALUATE}app not read: {problem}", single_line=True)[:300])
    return Evaluation(app=name, namespace=namespace or "", state=UNKNOWN, watched=None,
                      verdicts=(verdict,), decision=ERROR, since=at)
