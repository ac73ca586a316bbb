"""The guard's incident recorder wired to its service: each evaluation of an armed app (or of
one whose incident is being recorded) becomes a frame, and the open incident's record is
stored in the cluster after each frame (`recording.py` says what a frame holds and the bound).

Recording never changes what the guard decides: a failure to measure the golden signals leaves
their values unknown, a failure to store the record is logged, and the guard goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from turnout.backend.errors import TurnoutError
from turnout.backend.guard.incident import Incident
from turnout.backend.guard.recording import IncidentRecord, IncidentStore, Recorder, frame_of
from turnout.backend.models import App, ColorMetrics, Verdict

if TYPE_CHECKING:
    from turnout.backend.service import ReleaseService

log = logging.getLogger(__name__)


class Tape:
    """Frames from the guard's evaluations; incident records kept in the cluster."""

    def __init__(self, service: ReleaseService, may_act: Callable[[], bool], timeout: float) -> None:
        self.service = service
        self.may_act = may_act
        self.timeout = timeout
        self.recorder = Recorder()

    async def evaluated(self, app: App, verdicts: tuple[Verdict, ...], decision: str) -> None:
        """Record one evaluation (armed apps only: the others cannot have an incident)."""
        if app.guard != "armed" and not self.recorder.recording(app):
            return
        try:
            # At the measurement's time (the verdicts'), not after the action it led to.
            at = max((v.at for v in verdicts), default=self.service.clock())
            frame = frame_of(app, verdicts, decision, at, await self._golden(app))
            await self._store(app, self.recorder.observe(app, frame))
        except Exception:  # a recorder's bug must never stop the guard of the app
            log.exception("recording %s/%s failed", app.namespace, app.name)

    async def opened(self, app: App, incident: Incident) -> None:
        """The guard reported an incident: record it from the frames seen before it."""
        try:
            await self._store(app, self.recorder.opened(app, incident))
        except Exception:
            log.exception("recording incident %s failed", incident.id)

    async def _golden(self, app: App) -> tuple[ColorMetrics, ...]:
        if self.service.metrics is None:
            return ()
        try:
            return await asyncio.wait_for(self.service.metrics.golden_signals(app), self.timeout)
        except (TurnoutError, TimeoutError):
            return ()

    async def _store(self, app: App, record: IncidentRecord | None) -> None:
        cluster = self.service.cluster
        if record is None or self.service.read_only or not isinstance(cluster, IncidentStore) \
                or not self.may_act():
            return
        try:
            self.recorder.stored(await cluster.save_incident(app, record))
        except TurnoutError as err:
            log.warning("incident record %s of %s/%s not stored: %s", record.id, app.namespace,
                        app.name, err)
