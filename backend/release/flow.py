"""The deploy flow's driver: run the stages in order, restore on failure, record the release.

The flow is journaled before and after every stage, so a process that dies
anywhere leaves a record that `resume` continues from (every stage converges
when run again) and that `abort` restores from.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from turnout.backend.errors import TurnoutError
from turnout.backend.models import Verdict
from turnout.backend.release.analysis import Analysis, Trigger
from turnout.backend.release.journal import AbortRequested, FlowJournal, Superseded, driver_id
from turnout.backend.release.model import Flow, Outcome, Release
from turnout.backend.release.paging import ReleasePager
from turnout.backend.release.port import ReleasePort
from turnout.backend.release.stages import Say, Sleep, StageFailed, Stages
from turnout.backend.service import ReleaseService

if TYPE_CHECKING:
    from turnout.backend.guard.alerts import Alerts

log = logging.getLogger(__name__)


class RestoreIncomplete(TurnoutError):
    """The old color could not be restored; the flow record stays for `turnout resume`."""

    title = "Restore incomplete"
    exit_code = 22


def log_only(flow: Flow, message: str) -> None:
    """The default progress sink: the log."""
    log.info("%s/%s: %s", flow.namespace, flow.app, message)


class Driver:
    """Drives one flow to its end: promoted, rolled back, aborted or failed."""

    def __init__(self, service: ReleaseService, port: ReleasePort, *, sleep: Sleep = asyncio.sleep,
                 say: Say = log_only, triggers: Sequence[Trigger] = (), me: str = "",
                 alerts: Alerts | None = None) -> None:
        self.service = service
        self.port = port
        self.say = say
        self.journal = FlowJournal(port, service.clock, me or driver_id(), renew=self._renew)
        analysis = Analysis(service, triggers)
        self.stages = Stages(service, port, analysis, self.journal, sleep, say)
        self.pager = ReleasePager(service, analysis, alerts, triggers)

    async def run(self, flow: Flow) -> Release:
        """Claim the flow, run what is left of it, and record the release; a deploy that ends
        rolled back or failed is paged and gets an incident report, as a guard rollback does."""
        flow = await self.journal.save(flow)
        try:
            while flow.status != "restoring" and flow.stage is not None:
                flow = await self._step(flow)
            if flow.status == "restoring":
                try:
                    flow = await self.stages.restore(flow)
                except TurnoutError as err:
                    raise RestoreIncomplete(f"{flow.app}: restoring {flow.old} failed: {err}; the deploy "
                                            f"record is kept: run `turnout resume {flow.app}`") from err
        except RestoreIncomplete as err:
            await self.pager.ended(self.journal.latest or flow, "failed", str(err))
            raise
        release = await self._finish(flow)
        if release.outcome in ("rolled-back", "failed"):
            await self.pager.ended(flow, release.outcome, release.reason)
        return release

    async def _renew(self, flow: Flow) -> None:
        await self.port.acquire(await self.service.state(flow.app, flow.namespace))

    async def _step(self, flow: Flow) -> Flow:
        stage = flow.stage
        assert stage is not None
        if flow.abort_requested and stage.kind != "scale-down":
            return await self._restoring(flow, "aborted", f"aborted by {flow.abort_by or 'an operator'}")
        self.say(flow, f"[{flow.at + 1}/{len(flow.stages)}] {stage.describe()}")
        try:
            done = await self.stages.run(flow)
        except AbortRequested as request:
            return await self._restoring(request.flow, "aborted",
                                         f"aborted by {request.flow.abort_by or 'an operator'}")
        except StageFailed as failed:
            return await self._restoring(failed.flow, failed.outcome, failed.why, failed.verdicts)
        except Superseded:
            raise
        except TurnoutError as err:
            return await self._restoring(self.journal.latest or flow, "failed", str(err))
        return await self.journal.save(msgspec.structs.replace(
            done, at=done.at + 1, stage_started=self.service.clock(), status="running"))

    async def _restoring(self, flow: Flow, outcome: Outcome, why: str,
                         verdicts: tuple[Verdict, ...] = ()) -> Flow:
        self.say(flow, f"{outcome}: {why}; restoring {flow.old}")
        restoring = msgspec.structs.replace(
            flow, status="restoring", outcome=outcome, cause=why,
            verdicts=verdicts or flow.verdicts)
        try:
            return await self.journal.save(restoring)
        except Superseded:
            raise
        except TurnoutError as err:  # the cluster is out of reach: nothing can be restored now
            raise RestoreIncomplete(f"{flow.app}: {outcome} ({why}), but the deploy record could not "
                                    f"be updated: {err}; run `turnout resume {flow.app}`") from err

    async def _finish(self, flow: Flow) -> Release:
        release = release_of(flow, self.service.clock())
        await self.port.record(release)
        await self.port.clear_flow(flow)
        try:
            app = await self.service.state(flow.app, flow.namespace)
        except TurnoutError as err:
            log.warning("%s: after the deploy: %s", flow.app, err)
            return release
        if flow.locked:
            await self.port.unlock(app)
        await self.port.note(app, "TurnoutRelease", f"deploy {release.version}: {release.outcome}"
                             + (f": {release.reason}" if release.reason else ""))
        self.say(flow, f"{release.outcome}")
        return release


def release_of(flow: Flow, finished: datetime) -> Release:
    """The history record of a finished flow."""
    stage = flow.stage
    return Release(
        id=flow.id, app=flow.app, namespace=flow.namespace, context=flow.context,
        version=flow.version, image=flow.image, previous_version=flow.old_version,
        previous_image=flow.old_image, strategy=flow.strategy, steps=flow.steps, by=flow.by,
        started_at=flow.started_at, finished_at=finished,
        outcome=flow.outcome or "promoted", reason=flow.cause,
        stage=stage.describe() if stage else "", verdicts=flow.verdicts,
        from_color=flow.old, to_color=flow.new, commit_time=flow.commit_time,
        exposed_at=flow.exposed_at, detected_at=flow.detected_at, restored_at=flow.restored_at)
