"""A deploy that ends rolled back (exit 20) or failed (22) pages and records as the guard does:
the same incident report (Markdown and JSON), the same incident Event on the app, the same
notifications with the trigger, its value and threshold, and the runbook and dashboard links.
A rollback whose restored color passes every check at once resolves its page with a follow-up
(PagerDuty `resolve` on the same dedup key, a Slack message).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from turnout.backend.errors import TurnoutError
from turnout.backend.release.analysis import Analysis, Trigger, judge
from turnout.backend.release.guard_link import release_alerts
from turnout.backend.release.model import Flow, Outcome
from turnout.backend.service import ReleaseService

if TYPE_CHECKING:  # imported when a deploy ends badly: a status never loads the guard (httpx)
    from turnout.backend.guard import incident as reports
    from turnout.backend.guard.alerts import Alerts

log = logging.getLogger(__name__)


def release_incident(flow: Flow, outcome: Outcome, why: str, now: datetime,
                     links: dict[str, str]) -> reports.Incident:
    """The incident report of a deploy that did not promote."""
    from turnout.backend.guard import incident as reports

    failing = tuple(v for v in flow.verdicts if v.outcome == "fail")
    detected = flow.detected_at or now
    return reports.Incident(
        id=f"{now:%Y%m%dT%H%M%S}-{flow.app}-{uuid.uuid4().hex[:6]}", app=flow.app,
        namespace=flow.namespace, context=flow.context, color=flow.new,
        action="rollback" if outcome == "rolled-back" else f"deploy failed: {why}"[:300],
        first_bad_at=min([detected, *(v.at for v in failing)]), detected_at=detected,
        action_at=detected, restored_at=flow.restored_at, triggers=failing or flow.verdicts,
        first_bad=failing, notes=(f"deploy {flow.id} of {flow.version} ({flow.image}) by {flow.by}: "
                                  f"{outcome}: {why}",),
        by=f"deploy {flow.id} ({flow.driver or flow.by})",
        runbook=links.get("runbook", ""), dashboard=links.get("dashboard", ""))


class ReleasePager:
    """Pages, records and resolves for the deploy flow's driver."""

    def __init__(self, service: ReleaseService, analysis: Analysis, alerts: Alerts | None = None,
                 triggers: Sequence[Trigger] = ()) -> None:
        self.service = service
        self.analysis = analysis
        self._alerts = alerts
        self.triggers = tuple(triggers)

    @property
    def alerts(self) -> Alerts:
        """The notifiers and links, built on first use (the guard's triggers carry the links)."""
        if self._alerts is None:
            self._alerts = release_alerts(self.triggers)
        return self._alerts

    async def ended(self, flow: Flow, outcome: Outcome, why: str) -> str:
        """Record and page a deploy that ended `outcome`; the report's path ('' if unwritten).
        Never raises: the deploy's own outcome and exit code come first."""
        from turnout.backend.guard import incident as reports

        links = dict(self.alerts.links(app=flow.app, namespace=flow.namespace, context=flow.context))
        incident = release_incident(flow, outcome, why, self.service.clock(), links)
        try:
            path = str(reports.write(incident, self.service.incidents_folder))
        except OSError as err:
            log.warning("incident report not written: %s", err)
            path = ""
        page = self.alerts.incident_page(incident, f"deploy {outcome}",
                                         severity="error" if outcome == "rolled-back" else "critical")
        await self._record(flow, page.title)
        await self.alerts.send(page)
        if outcome == "rolled-back" and await self._healthy(flow):
            await self.alerts.resolve(page, f"{flow.namespace}/{flow.app} is healthy again on "
                                            f"{flow.old}: every check passed after the rollback")
        return path

    async def _record(self, flow: Flow, summary: str) -> None:
        from turnout.backend.guard.ports import GuardStateStore

        cluster = self.service.cluster
        if not isinstance(cluster, GuardStateStore):
            return
        try:
            await cluster.record_incident(await cluster.get_app(flow.app, flow.namespace), summary[:1000])
        except TurnoutError as err:
            log.warning("incident event not recorded: %s", err)

    async def _healthy(self, flow: Flow) -> bool:
        """Whether the restored color passes every check now."""
        try:
            _, verdicts = await self.analysis.measure(flow.app, flow.namespace, flow.old)
        except TurnoutError as err:
            log.warning("%s: health after the rollback not measured: %s", flow.app, err)
            return False
        return judge(verdicts) == "pass"
