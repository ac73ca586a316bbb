"""Notifiers: PagerDuty Events v2 and Slack incoming webhooks, over httpx.

Routing keys and webhook URLs are secrets: they come from the environment, are
sent only in the request, and never appear in a repr, a log line or an error
message (errors name the service and the HTTP status or exception type only).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from turnout.backend.errors import Unavailable

__all__ = ["PAGERDUTY_URL", "Fanout", "PagerDuty", "Slack", "from_environment"]

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES = frozenset({"critical", "error", "warning", "info"})
"""PagerDuty's severities; anything else is sent as `error`."""
SLACK_BODY_LIMIT = 3500
"""Characters of the report in a Slack message; the full report is in the state directory."""


@dataclass(frozen=True)
class PagerDuty:
    """PagerDuty Events API v2: one trigger event per incident, deduplicated by `key`."""

    routing_key: str = field(repr=False)
    url: str = field(default=PAGERDUTY_URL, repr=False)
    timeout: float = 5.0

    async def notify(self, *, title: str, body: str, severity: str, key: str = "",
                     links: Sequence[tuple[str, str]] = ()) -> None:
        """Trigger an alert; the same `key` updates one PagerDuty incident instead of paging again.
        `links` are (text, URL) pairs shown on the incident (runbook, dashboard)."""
        event: dict[str, object] = {
            "routing_key": self.routing_key, "event_action": "trigger",
            "payload": {"summary": title[:1024], "source": "turnout",
                        "severity": severity if severity in SEVERITIES else "error",
                        "timestamp": datetime.now(UTC).isoformat(),
                        "custom_details": {"report": body}}}
        if key:
            event["dedup_key"] = key[:255]
        if links:
            event["links"] = [{"href": url, "text": text} for text, url in links]
        await _post(self.url, event, self.timeout, "PagerDuty")

    async def resolve(self, *, title: str, body: str, key: str) -> None:
        """Resolve the incident `notify` opened with the same `key` (Events v2 `resolve`)."""
        event = {"routing_key": self.routing_key, "event_action": "resolve", "dedup_key": key[:255]}
        await _post(self.url, event, self.timeout, "PagerDuty")


@dataclass(frozen=True)
class Slack:
    """A Slack incoming webhook."""

    webhook_url: str = field(repr=False)
    timeout: float = 5.0

    async def notify(self, *, title: str, body: str, severity: str, key: str = "",
                     links: Sequence[tuple[str, str]] = ()) -> None:
        """Post the title and the report (cut to a readable length) to the channel; the links
        are expected in the body already (a chat shows them as text)."""
        text = body if len(body) <= SLACK_BODY_LIMIT else body[:SLACK_BODY_LIMIT] + "\n…"
        await _post(self.webhook_url, {"text": f"*{title}* ({severity})\n{text}"}, self.timeout,
                    "Slack")

    async def resolve(self, *, title: str, body: str, key: str) -> None:
        """Post the follow-up: the incident `key` is over."""
        text = body if len(body) <= SLACK_BODY_LIMIT else body[:SLACK_BODY_LIMIT] + "\n…"
        await _post(self.webhook_url, {"text": f"*{title}* (resolved)\n{text}"}, self.timeout, "Slack")


async def _post(url: str, payload: object, timeout: float, who: str) -> None:
    import httpx  # here, not at import: the TUI's first frame need not pay for it

    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, json=payload)
    except httpx.HTTPError as err:
        # `from None`: httpx's message and traceback carry the URL, which is the secret.
        raise Unavailable(f"{who} unreachable: {type(err).__name__}") from None
    if not response.is_success:
        raise Unavailable(f"{who} refused the notification: HTTP {response.status_code}")


@dataclass(frozen=True)
class Fanout:
    """Every configured notifier; one failing does not stop the others."""

    notifiers: tuple[PagerDuty | Slack, ...] = ()

    async def notify(self, *, title: str, body: str, severity: str, key: str = "",
                     links: Sequence[tuple[str, str]] = ()) -> list[str]:
        """Send to all; return the one-line problems of those that failed."""
        problems = []
        for notifier in self.notifiers:
            try:
                await notifier.notify(title=title, body=body, severity=severity, key=key, links=links)
            except Unavailable as err:
                problems.append(str(err))
        return problems

    async def resolve(self, *, title: str, body: str, key: str) -> list[str]:
        """Tell every notifier the incident `key` is over; return the problems."""
        problems = []
        for notifier in self.notifiers:
            try:
                await notifier.resolve(title=title, body=body, key=key)
            except Unavailable as err:
                problems.append(str(err))
        return problems


def from_environment() -> Fanout:
    """PagerDuty from TURNOUT_PAGERDUTY_ROUTING_KEY (endpoint: TURNOUT_PAGERDUTY_URL), Slack from
    TURNOUT_SLACK_WEBHOOK_URL."""
    found: list[PagerDuty | Slack] = []
    if key := os.environ.get("TURNOUT_PAGERDUTY_ROUTING_KEY"):
        found.append(PagerDuty(key, os.environ.get("TURNOUT_PAGERDUTY_URL", PAGERDUTY_URL)))
    if hook := os.environ.get("TURNOUT_SLACK_WEBHOOK_URL"):
        found.append(Slack(hook))
    return Fanout(tuple(found))
