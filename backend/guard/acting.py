"""What the guard does once it has decided: roll back (and turn off the app's linked flags),
record its state, and report the incident — the Markdown report, the cluster's Event, the
recording and the page. Each step goes ahead even if another fails, and says so in the
incident's notes; `engine.py` decides, this carries it out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import msgspec

from turnout.backend.config import GuardSettings
from turnout.backend.errors import TurnoutError
from turnout.backend.guard import incident as reports
from turnout.backend.guard.alerts import Alerts
from turnout.backend.guard.episodes import Episodes
from turnout.backend.guard.ports import TRIPPED, GuardStateStore
from turnout.backend.guard.tape import Tape
from turnout.backend.guard.telemetry import Telemetry
from turnout.backend.models import App

if TYPE_CHECKING:  # the service imports the guard's incident reports
    from turnout.backend.service import ReleaseService

log = logging.getLogger(__name__)


def state_store(service: ReleaseService) -> GuardStateStore:
    """The service's cluster as the keeper of the guard's state per app."""
    if not isinstance(service.cluster, GuardStateStore):
        raise TurnoutError("this cluster backend cannot keep the guard's state")
    return service.cluster


class Acting:
    """The guard's hands: the writes and the reports of one guard."""

    def __init__(self, service: ReleaseService, settings: GuardSettings, alerts: Alerts,
                 episodes: Episodes, tape: Tape) -> None:
        self.service = service
        self.settings = settings
        self.alerts = alerts
        self.episodes = episodes
        self.tape = tape

    async def roll_back(self, app: App, base: reports.Incident,
                        telemetry: Telemetry | None) -> reports.Incident:
        """Roll the app back to its stable color, turn off its linked flags (when the settings
        say so) and mark it tripped; the incident with what was done."""
        started = self.service.clock()
        why = ", ".join(v.signal for v in base.triggers)
        try:
            await self.service.rollback(app.name, namespace=app.namespace,
                                        reason=f"{base.by or 'guard'}: {why} failed")
            after = await self.service.cluster.get_app(app.name, app.namespace)
        except TurnoutError as err:
            return msgspec.structs.replace(base, action=f"rollback failed: {err}", action_at=started)
        restored = self.service.clock() if after.traffic.weights.of(base.color) == 0 else None
        notes = [] if restored else [f"{base.color} still has {after.traffic.weights.of(base.color)} % "
                                     "of traffic after the rollback"]
        killed = await self._kill_flags(app, notes)
        await self._set_state(app, TRIPPED, notes)
        incident = msgspec.structs.replace(base, action="rollback", action_at=started, restored_at=restored,
                                           flags_killed=killed, notes=tuple(notes))
        if telemetry is not None:
            telemetry.rolled_back(app, why, incident)
        return incident

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
            await state_store(self.service).set_guard_state(app, state)
        except TurnoutError as err:
            notes.append(f"guard state not recorded in the cluster: {err}")

    async def report(self, app: App, incident: reports.Incident, decision: str) -> str:
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
        await self.tape.opened(app, incident)
        page = self.alerts.incident_page(incident, decision)
        self.episodes.opened[(app.namespace, app.name, incident.color)] = page
        await self.alerts.send(page)
        return path
