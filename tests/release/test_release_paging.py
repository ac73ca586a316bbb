"""A deploy that ends rolled back (20) or failed (22) pages and records like the guard: the
local receiver stands in for PagerDuty and Slack; the report, the trigger with its value and
threshold, the runbook and dashboard links; a `resolve` on the same dedup key once healthy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.guard.receiver import Receiver
from tests.release.conftest import Demo, request
from turnout.backend.config import GuardSettings
from turnout.backend.guard import incident as reports
from turnout.backend.release.guard_link import guard_triggers

LINKS = GuardSettings(runbook_url="https://runbooks.example/$namespace/$app",
                      dashboard_url="https://grafana.example/d/apps?var-app=$app")


@pytest.fixture
def receivers(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with Receiver() as pagerduty, Receiver(status=200) as slack:
        monkeypatch.setenv("TURNOUT_PAGERDUTY_ROUTING_KEY", "routing-key")
        monkeypatch.setenv("TURNOUT_PAGERDUTY_URL", pagerduty.url)
        monkeypatch.setenv("TURNOUT_SLACK_WEBHOOK_URL", slack.url)
        yield pagerduty, slack


async def test_a_rolled_back_deploy_pages_with_the_report_and_links_then_resolves(
        demo: Demo, receivers: tuple[Receiver, Receiver]) -> None:
    pagerduty, slack = receivers
    release = await demo.console(triggers=guard_triggers(demo.service, LINKS)).deploy(
        request("registry.demo/checkout:1.5.0-bad"))
    assert release.outcome == "rolled-back"
    trigger, resolve = pagerduty.bodies
    assert trigger["event_action"] == "trigger" and trigger["payload"]["severity"] == "error"
    summary = trigger["payload"]["summary"]
    assert summary.startswith("Turnout: deploy rolled-back: shop/checkout green failed")
    [failing] = [v for v in release.verdicts if v.outcome == "fail"]
    assert f"{failing.signal} {failing.value:.4g} (threshold {failing.threshold:.4g})" in summary
    assert {link["text"]: link["href"] for link in trigger["links"]} == {
        "runbook": "https://runbooks.example/shop/checkout",
        "dashboard": "https://grafana.example/d/apps?var-app=checkout"}
    report = trigger["payload"]["custom_details"]["report"]
    assert "## Timeline" in report and "runbook: https://runbooks.example/shop/checkout" in report
    assert (resolve["event_action"], resolve["dedup_key"]) == ("resolve", trigger["dedup_key"])
    page, follow_up = (b["text"] for b in slack.bodies)
    assert "deploy rolled-back" in page and "https://grafana.example/d/apps?var-app=checkout" in page
    assert follow_up.startswith("*Turnout: resolved: deploy rolled-back") and "healthy again" in follow_up
    folder = demo.service.incidents_folder or reports.incidents_dir()
    written = reports.latest("checkout", "shop", folder)
    assert written is not None and written.action == "rollback" and written.color == "green"
    assert written.runbook == "https://runbooks.example/shop/checkout"
    assert json.loads(Path(folder, f"{written.id}.json").read_text())["by"].startswith(
        "deploy ")


async def test_a_failed_deploy_pages_critical_and_stays_open(
        demo: Demo, receivers: tuple[Receiver, Receiver]) -> None:
    pagerduty, _ = receivers

    async def someone_switches(seconds: float) -> None:
        await demo.tick(seconds)
        sim = demo.cluster.world.apps[("shop", "checkout")]
        if sim.weights.green == 10:
            sim.live = "green"

    console = demo.console()
    console.sleep = someone_switches
    release = await console.deploy(request())
    assert release.outcome == "failed"
    [trigger] = pagerduty.bodies
    assert trigger["payload"]["severity"] == "critical"
    assert "deploy failed" in trigger["payload"]["summary"]


async def test_a_promoted_deploy_pages_no_one(demo: Demo, receivers: tuple[Receiver, Receiver]) -> None:
    pagerduty, slack = receivers
    assert (await demo.console().deploy(request())).outcome == "promoted"
    assert pagerduty.bodies == [] and slack.bodies == []
