"""Notifiers: PagerDuty Events v2 and Slack incoming webhooks, over httpx.

Routing keys and webhook URLs are secrets: they come from the environment, are
sent only in the request, and never appear in a log line or an error message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from turnout.backend.errors import Unavailable

PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"


@dataclass(frozen=True)
class PagerDuty:
    """PagerDuty Events API v2: one trigger event per incident."""

    routing_key: str
    url: str = PAGERDUTY_URL
    timeout: float = 5.0

    async def notify(self, *, title: str, body: str, severity: str) -> None:
        event = {"routing_key": self.routing_key, "event_action": "trigger",
                 "payload": {"summary": title[:1024], "source": "turnout",
                             "severity": severity if severity in SEVERITIES else "error",
                             "custom_details": {"report": body}}}
        await _post(self.url, event, self.timeout, "PagerDuty")


@dataclass(frozen=True)
class Slack:
    """A Slack incoming webhook."""

    webhook_url: str
    timeout: float = 5.0

    async def notify(self, *, title: str, body: str, severity: str) -> None:
        await _post(self.webhook_url, {"text": f"*{title}*\n{body}"}, self.timeout, "Slack")


SEVERITIES = frozenset({"critical", "error", "warning", "info"})


async def _post(url: str, payload: object, timeout: float, who: str) -> None:
    try:
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, json=payload)
    except httpx.HTTPError as err:
        raise Unavailable(f"{who} unreachable: {type(err).__name__}") from None
    if response.status_code >= 300:
        raise Unavailable(f"{who} refused the notification: HTTP {response.status_code}")


@dataclass(frozen=True)
class Fanout:
    """Every configured notifier; one failing does not stop the others."""

    notifiers: tuple[PagerDuty | Slack, ...]

    async def notify(self, *, title: str, body: str, severity: str) -> list[str]:
        """Send to all; return the one-line problems of those that failed."""
        problems = []
        for notifier in self.notifiers:
            try:
                await notifier.notify(title=title, body=body, severity=severity)
            except Unavailable as err:
                problems.append(str(err))
        return problems


def from_environment() -> Fanout:
    """PagerDuty from TURNOUT_PAGERDUTY_ROUTING_KEY (URL: TURNOUT_PAGERDUTY_URL), Slack from
    TURNOUT_SLACK_WEBHOOK_URL."""
    found: list[PagerDuty | Slack] = []
    if key := os.environ.get("TURNOUT_PAGERDUTY_ROUTING_KEY"):
        found.append(PagerDuty(key, os.environ.get("TURNOUT_PAGERDUTY_URL", PAGERDUTY_URL)))
    if hook := os.environ.get("TURNOUT_SLACK_WEBHOOK_URL"):
        found.append(Slack(hook))
    return Fanout(tuple(found))
