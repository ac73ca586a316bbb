"""What the guard and the deploy flow tell people: a page when something failed, a follow-up
(PagerDuty `resolve` on the same dedup key, a Slack message) once the app is healthy again.

Every message names the app, each trigger with its value and threshold, and the runbook and
dashboard links of the configuration (`guard.runbook_url`, `guard.dashboard_url`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from string import Template
from urllib.parse import quote

from turnout.backend.config import GuardSettings
from turnout.backend.guard import incident as reports
from turnout.backend.models import Verdict
from turnout.backend.notify import Fanout
from turnout.backend.sanitize import inert

log = logging.getLogger(__name__)


def link(template: str, *, app: str, namespace: str, context: str) -> str:
    """A configured link with `$app`, `$namespace`, `$context` filled in (URL-quoted)."""
    if not template:
        return ""
    values = {"app": app, "namespace": namespace, "context": context}
    return Template(template).safe_substitute({k: quote(v, safe="") for k, v in values.items()})


def incident_key(context: str, namespace: str, app: str, what: str) -> str:
    """The dedup key of one app's incident: the page, its updates and its resolve share it."""
    return f"turnout/{context}/{namespace}/{app}/{what}"


def reading(verdict: Verdict) -> str:
    """One trigger as a person reads it: signal, value against threshold, detail."""
    def num(value: float | None) -> str:
        return "—" if value is None else f"{value:.4g}"

    return (f"{verdict.signal} {num(verdict.value)} (threshold {num(verdict.threshold)}): "
            f"{inert(verdict.detail, single_line=True)}")


@dataclass(frozen=True)
class Page:
    """One notification: what the title says, the report, and how to find it again."""

    title: str
    body: str
    severity: str
    key: str
    links: tuple[tuple[str, str], ...] = ()


@dataclass
class Alerts:
    """Sends pages and follow-ups through every configured notifier; failures are logged."""

    notifier: Fanout = field(default_factory=Fanout)
    settings: GuardSettings = field(default_factory=GuardSettings)

    def links(self, *, app: str, namespace: str, context: str) -> tuple[tuple[str, str], ...]:
        """(text, URL) of the runbook and dashboard, those configured."""
        found = (("runbook", link(self.settings.runbook_url, app=app, namespace=namespace, context=context)),
                 ("dashboard", link(self.settings.dashboard_url, app=app, namespace=namespace,
                                    context=context)))
        return tuple((text, url) for text, url in found if url)

    def incident_page(self, incident: reports.Incident, decision: str, severity: str = "") -> Page:
        """The page of an incident report (the guard's or the deploy flow's)."""
        triggers = "; ".join(reading(v) for v in incident.triggers) or incident.action
        title = (f"Turnout: {decision}: {incident.namespace}/{incident.app} {incident.color} failed "
                 f"({triggers})")
        return Page(title=inert(title, single_line=True)[:1000], body=reports.markdown(incident),
                    severity=severity or ("error" if decision == "rollback" else "critical"),
                    key=incident_key(incident.context, incident.namespace, incident.app, incident.color),
                    links=tuple((t, u) for t, u in (("runbook", incident.runbook),
                                                    ("dashboard", incident.dashboard)) if u))

    async def send(self, page: Page) -> None:
        """Page (or update the page with the same key)."""
        problems = await self.notifier.notify(title=page.title, body=_with_links(page),
                                              severity=page.severity, key=page.key, links=page.links)
        for problem in problems:
            log.warning("notification failed: %s", problem)

    async def resolve(self, page: Page, why: str) -> None:
        """Close the page sent with `page.key`, and say why in the chat."""
        title = f"Turnout: resolved: {page.title.removeprefix('Turnout: ')}"[:1000]
        body = f"{inert(why)}\n\nResolves: {page.title}"
        problems = await self.notifier.resolve(title=title, body=_with_links(Page(
            title=title, body=body, severity="info", key=page.key, links=page.links)), key=page.key)
        for problem in problems:
            log.warning("follow-up failed: %s", problem)


def _with_links(page: Page) -> str:
    if not page.links:
        return page.body
    return page.body.rstrip("\n") + "\n\n" + "\n".join(f"{text}: {url}" for text, url in page.links) + "\n"
