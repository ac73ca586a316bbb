"""The stages of a deploy, each idempotent: run again after a crash, it converges.

Every write is an absolute target through a `ReleaseService` verb (set_image,
scale, set_weight, switch, abort), skipped when the cluster is already there.
A stage returns the flow to save, or raises `StageFailed` with the outcome and
the verdicts that decided it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec

from turnout.backend import signals
from turnout.backend.models import App, Color, Verdict, other
from turnout.backend.release.analysis import Analysis, cause, judge, readiness
from turnout.backend.release.durations import format_duration
from turnout.backend.release.journal import FlowJournal
from turnout.backend.release.model import Flow, Outcome
from turnout.backend.release.port import ReleasePort
from turnout.backend.service import ReleaseService

Sleep = Callable[[float], Awaitable[None]]
Say = Callable[[Flow, str], None]


class StageFailed(Exception):
    """The stage decided the release must not go on: restore the old color."""

    def __init__(self, flow: Flow, outcome: Outcome, why: str,
                 verdicts: tuple[Verdict, ...] = ()) -> None:
        super().__init__(why)
        self.flow, self.outcome, self.why, self.verdicts = flow, outcome, why, verdicts


def hold_after(window: float) -> float:
    """Seconds of inconclusive verdicts past the window before asking an operator."""
    return max(60.0, 5 * window)


class Stages(msgspec.Struct):
    """Runs one stage of a flow."""

    service: ReleaseService
    port: ReleasePort
    analysis: Analysis
    journal: FlowJournal
    sleep: Sleep
    say: Say

    def now(self) -> datetime:
        return self.service.clock()

    def _elapsed(self, since: datetime) -> float:
        return (self.now() - since).total_seconds()

    async def run(self, flow: Flow) -> Flow:
        """Run the flow's current stage."""
        assert flow.stage is not None
        handlers = {"deploy": self.deploy, "ready": self.ready, "preview": self.preview,
                    "weight": self.weight, "analyse": self.analyse, "pause": self.pause,
                    "promote": self.promote, "monitor": self.monitor, "scale-down": self.scale_down}
        return await handlers[flow.stage.kind](flow)

    def _why(self, flow: Flow, what: str) -> str:
        return f"deploy {flow.id} {flow.version}: {what}" + (f" ({flow.reason})" if flow.reason else "")

    async def _app(self, flow: Flow, *, live_ok: tuple[str, ...] = ()) -> App:
        """The app now; refuse to go on if someone else made another color live."""
        app = await self.service.state(flow.app, flow.namespace)
        if app.traffic.live != flow.old and app.traffic.live not in live_ok:
            raise StageFailed(flow, "failed", f"live color changed to {app.traffic.live} by someone"
                              f" else (expected {flow.old})")
        return app

    async def deploy(self, flow: Flow) -> Flow:
        """The new image into the idle color, at the live color's replica count."""
        app = await self._app(flow)
        ns, why = flow.namespace, self._why(flow, "deploy")
        if app.slot(flow.new).image != flow.image:
            await self.service.set_image(flow.app, flow.new, flow.image, namespace=ns, reason=why)
        if app.slot(flow.new).desired != flow.old_replicas:
            await self.service.scale(flow.app, flow.new, flow.old_replicas, namespace=ns, reason=why)
        return flow

    async def ready(self, flow: Flow) -> Flow:
        """Wait for the rollout; the progress deadline (or a stalled Deployment) fails it."""
        while True:
            flow = await self.journal.pulse(flow)
            app = await self.service.state(flow.app, flow.namespace)
            rollout = await self.port.rollout(app, flow.new)
            if rollout.done:
                return flow
            waited, slot = self._elapsed(flow.stage_started), app.slot(flow.new)
            verdicts = (readiness(slot, self.now()), signals.crash_loop(slot, self.now()))
            # A crash loop will not heal by waiting out the deadline: fail as soon as it shows.
            if rollout.stalled or waited >= flow.deadline or verdicts[1].outcome == "fail":
                what = (f"rollout stalled ({rollout.stalled})" if rollout.stalled else
                        "crash-looping while rolling out" if verdicts[1].outcome == "fail" else
                        f"not ready within {format_duration(flow.deadline)}")
                raise StageFailed(flow, "rolled-back", f"{flow.new} {what} after "
                                  f"{format_duration(waited)}: {rollout.ready}/{rollout.desired} ready,"
                                  f" {rollout.updated} updated; {cause(verdicts)}", verdicts)
            await self.sleep(flow.interval)

    async def preview(self, flow: Flow) -> Flow:
        """Health of the preview color before it takes any traffic."""
        return await self._observe(flow, 0.0, preview=True)

    async def analyse(self, flow: Flow) -> Flow:
        """Verdicts on the canary for the analysis window."""
        return await self._observe(flow, flow.analysis)

    async def monitor(self, flow: Flow) -> Flow:
        """Verdicts on the promoted color for the monitor window."""
        return await self._observe(flow, flow.monitor)

    async def _observe(self, flow: Flow, window: float, *, preview: bool = False) -> Flow:
        """Measure until the window passed with passing verdicts; a fail fails at once."""
        start = self.now()
        while True:
            flow = await self.journal.pulse(flow)
            measure = self.analysis.preview if preview else self.analysis.measure
            app, verdicts = await measure(flow.app, flow.namespace, flow.new)
            self._check_traffic(flow, app, promoted=flow.stage is not None and flow.stage.kind == "monitor")
            flow = msgspec.structs.replace(flow, verdicts=verdicts)
            judged, elapsed = judge(verdicts), self._elapsed(start)
            if judged == "fail":
                flow = msgspec.structs.replace(flow, detected_at=self.now())
                raise StageFailed(flow, "rolled-back", cause(verdicts), verdicts)
            if (judged == "pass" and elapsed >= window) or flow.approved >= flow.at:
                return msgspec.structs.replace(flow, status="running")
            if judged == "wait" and elapsed >= window + hold_after(window) and flow.status == "running":
                flow = await self.journal.save(msgspec.structs.replace(flow, status="paused"))
                self.say(flow, f"verdicts inconclusive for {format_duration(elapsed)} ({cause(verdicts)}):"
                         f" waiting for an operator: turnout promote {flow.app} / turnout abort {flow.app}")
            await self.sleep(flow.interval)

    def _check_traffic(self, flow: Flow, app: App, *, promoted: bool) -> None:
        """While the flow measures, traffic must stay where it put it.

        The guard (or an operator) may have sent traffic back to the old color: going
        on would put it back on the version just judged bad.
        """
        assert flow.stage is not None
        live, weight = (flow.new, 0) if promoted else (flow.old, flow.stage.weight)
        traffic = app.traffic
        if (traffic.live, traffic.canary_weight) == (live, weight):
            return
        now = f"live {traffic.live} with {traffic.canary_weight} % on {traffic.canary}"
        if traffic.live == flow.old and traffic.canary_weight == 0:
            raise StageFailed(flow, "rolled-back", f"traffic was sent back to {flow.old} by someone "
                              f"else (the guard or an operator) at {flow.stage.describe()}")
        raise StageFailed(flow, "failed", f"traffic changed by someone else: {now}, expected live "
                          f"{live} with {weight} % on {other(live)}")

    async def weight(self, flow: Flow) -> Flow:
        """The canary weight of this step (the stable color keeps the rest)."""
        assert flow.stage is not None
        weight = flow.stage.weight
        await self._app(flow)
        flow = await self.journal.save(msgspec.structs.replace(
            flow, exposed_at=flow.exposed_at or self.now()))
        await self.service.set_weight(flow.app, weight, namespace=flow.namespace,
                                      reason=self._why(flow, f"canary {weight} %"))
        return flow

    async def pause(self, flow: Flow) -> Flow:
        """A timed pause, or with --pause manual a wait for `turnout promote APP`."""
        if flow.manual and flow.approved < flow.at:
            flow = await self.journal.save(msgspec.structs.replace(flow, status="paused"))
            self.say(flow, f"paused: turnout promote {flow.app} continues, turnout abort "
                     f"{flow.app} restores {flow.old}")
        while flow.approved < flow.at:
            flow = await self.journal.pulse(flow)
            left = flow.pause - self._elapsed(flow.stage_started)
            if not flow.manual and left <= 0:
                break
            await self.sleep(flow.interval if flow.manual else min(flow.interval, left))
        return msgspec.structs.replace(flow, status="running")

    async def promote(self, flow: Flow) -> Flow:
        """The new color live with all traffic."""
        app = await self._app(flow, live_ok=(flow.new,))
        if app.traffic.live == flow.new and app.traffic.canary_weight == 0:
            return flow
        flow = await self.journal.save(msgspec.structs.replace(
            flow, exposed_at=flow.exposed_at or self.now()))
        await self.service.switch(flow.app, flow.new, namespace=flow.namespace,
                                  reason=self._why(flow, "promote"))
        return flow

    async def scale_down(self, flow: Flow) -> Flow:
        """The old color down to a warm minimum, ready for a fast rollback."""
        app = await self._app(flow, live_ok=(flow.new,))
        self._check_traffic(flow, app, promoted=True)
        if app.slot(flow.old).desired != flow.scale_down_to:
            await self.service.scale(flow.app, flow.old, flow.scale_down_to, namespace=flow.namespace,
                                     reason=self._why(flow, "scale down the old color"))
        return flow

    async def _rolled_out(self, flow: Flow, color: Color) -> None:
        """Wait (up to the progress deadline) until `color` serves at full strength again."""
        start = self.now()
        while self._elapsed(start) < flow.deadline:
            app = await self.service.state(flow.app, flow.namespace)
            if (await self.port.rollout(app, color)).done:
                return
            await self.sleep(flow.interval)

    async def restore(self, flow: Flow) -> Flow:
        """The old color live with all traffic again, the idle color back to its replicas."""
        ns, why = flow.namespace, self._why(flow, f"restore: {flow.cause}")
        app = await self.service.state(flow.app, ns)
        if app.operation is not None:  # a traffic change stopped half way: undo it first
            await self.service.resume_traffic(flow.app, namespace=ns, back=True)
            app = await self.service.state(flow.app, ns)
        if app.slot(flow.old).desired < flow.old_replicas:  # scaled down already: back up first
            await self.service.scale(flow.app, flow.old, flow.old_replicas, namespace=ns,
                                     reason=why, restore=True)
            await self._rolled_out(flow, flow.old)
        if app.traffic.live != flow.old:
            await self.service.switch(flow.app, flow.old, namespace=ns, reason=why)
        elif app.traffic.canary_weight:
            await self.service.abort_traffic(flow.app, namespace=ns, reason=why)
        flow = await self.journal.save(msgspec.structs.replace(
            flow, restored_at=flow.restored_at or self.now()))
        app = await self.service.state(flow.app, ns)
        if app.slot(flow.new).desired != flow.new_prev_replicas:
            await self.service.scale(flow.app, flow.new, flow.new_prev_replicas, namespace=ns,
                                     reason=why, restore=True)
        return flow
