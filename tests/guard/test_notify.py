"""PagerDuty Events v2 and Slack webhooks, against a local HTTP receiver standing in for both.

Routing keys and webhook URLs are secrets: no error message or repr may carry them.
"""

from __future__ import annotations

import pytest

from tests.guard.receiver import Receiver
from tests.support.processes import refused_port
from turnout.backend.errors import Unavailable
from turnout.backend.notify import Fanout, PagerDuty, Slack, from_environment

SECRET = "R0UT1NGKEY-secret"


async def test_pagerduty_gets_an_events_v2_trigger() -> None:
    with Receiver() as pagerduty:
        await PagerDuty(SECRET, pagerduty.url).notify(title="Turnout: rollback", body="# report",
                                                      severity="error", key="turnout/lab/ns/app/green")
    [event] = pagerduty.bodies
    assert (event["routing_key"], event["event_action"]) == (SECRET, "trigger")
    assert event["dedup_key"] == "turnout/lab/ns/app/green"
    payload = event["payload"]
    assert (payload["summary"], payload["source"], payload["severity"]) == ("Turnout: rollback", "turnout",
                                                                            "error")
    assert payload["custom_details"]["report"] == "# report" and payload["timestamp"]


async def test_an_unknown_severity_is_sent_as_error() -> None:
    with Receiver() as pagerduty:
        await PagerDuty(SECRET, pagerduty.url).notify(title="t", body="b", severity="sev1")
    assert pagerduty.bodies[0]["payload"]["severity"] == "error"
    assert "dedup_key" not in pagerduty.bodies[0]


async def test_slack_gets_the_title_and_a_readable_cut_of_the_report() -> None:
    with Receiver(status=200) as slack:
        await Slack(slack.url).notify(title="Turnout: no safe target", body="x" * 10_000,
                                      severity="critical")
    text = slack.bodies[0]["text"]
    assert text.startswith("*Turnout: no safe target* (critical)\n") and len(text) < 4000


async def test_a_refusal_is_unavailable_and_names_no_secret() -> None:
    with Receiver(status=400) as receiver:
        hook = f"{receiver.url}/{SECRET}"
        with pytest.raises(Unavailable) as refused:
            await Slack(hook).notify(title="t", body="b", severity="error")
    assert "HTTP 400" in str(refused.value) and SECRET not in str(refused.value)


async def test_an_unreachable_service_names_no_secret_even_in_the_cause() -> None:
    dead = f"http://127.0.0.1:{refused_port()}/{SECRET}"
    with pytest.raises(Unavailable) as failed:
        await PagerDuty(SECRET, dead, timeout=1).notify(title="t", body="b", severity="error")
    assert SECRET not in str(failed.value) and failed.value.__cause__ is None
    assert failed.value.__suppress_context__


def test_secrets_stay_out_of_reprs() -> None:
    assert SECRET not in repr(PagerDuty(SECRET, f"https://events/{SECRET}"))
    assert SECRET not in repr(Slack(f"https://hooks.slack.com/services/{SECRET}"))


async def test_one_failing_notifier_does_not_stop_the_others() -> None:
    with Receiver(status=500) as broken, Receiver(status=200) as slack:
        problems = await Fanout((PagerDuty(SECRET, broken.url), Slack(slack.url))).notify(
            title="t", body="b", severity="error")
    assert problems == ["PagerDuty refused the notification: HTTP 500"]
    assert len(slack.bodies) == 1


def test_notifiers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert from_environment().notifiers == ()
    monkeypatch.setenv("TURNOUT_PAGERDUTY_ROUTING_KEY", SECRET)
    monkeypatch.setenv("TURNOUT_PAGERDUTY_URL", "http://127.0.0.1:1/enqueue")
    monkeypatch.setenv("TURNOUT_SLACK_WEBHOOK_URL", "http://127.0.0.1:1/hook")
    pagerduty, slack = from_environment().notifiers
    assert isinstance(pagerduty, PagerDuty) and pagerduty.url == "http://127.0.0.1:1/enqueue"
    assert isinstance(slack, Slack) and slack.webhook_url == "http://127.0.0.1:1/hook"


async def test_pagerduty_resolves_with_the_same_dedup_key_and_carries_links() -> None:
    with Receiver() as pagerduty:
        notifier = PagerDuty(SECRET, pagerduty.url)
        await notifier.notify(title="t", body="b", severity="error", key="turnout/k",
                              links=(("runbook", "https://runbooks/search"),))
        await notifier.resolve(title="resolved", body="healthy", key="turnout/k")
    trigger, resolve = pagerduty.bodies
    assert trigger["links"] == [{"href": "https://runbooks/search", "text": "runbook"}]
    assert (resolve["event_action"], resolve["dedup_key"], resolve["routing_key"]) == \
        ("resolve", "turnout/k", SECRET)


async def test_slack_gets_a_follow_up_when_resolved() -> None:
    with Receiver(status=200) as slack:
        await Slack(slack.url).resolve(title="Turnout: resolved: x", body="healthy again", key="k")
    assert slack.bodies[0]["text"].startswith("*Turnout: resolved: x* (resolved)\nhealthy again")
