"""`turnout deploy` rolled back by a failing smoke test, against the lab (issue 15): the local
receiver stands in for PagerDuty and Slack and gets the trigger with its value and threshold,
the incident report and the runbook and dashboard links; the restored color passes every
check, so a `resolve` with the same dedup key and a Slack follow-up come after."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.guard.receiver import Receiver
from tests.kube.conftest import REPO, get, kubectl
from tests.lab.conftest import Lab
from tests.release.conftest import real_checkout

pytestmark = pytest.mark.lab


def test_a_deploy_rolled_back_by_a_smoke_test_pages_records_and_resolves(
        lab: Lab, lab_namespace: str, tmp_path: Path) -> None:
    ns = lab_namespace
    real_checkout(lab, ns)
    smoke = tmp_path / "smoke.yaml"  # the lab's green serves 1.5.0: this check fails only there
    smoke.write_text(yaml.safe_dump([{"name": "serves 1.4.2", "path": "/health",
                                      "contains": '"version": "1.4.2"'}]))
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"prometheus_url": lab.env["prometheus_url"], "guard": {
        "smoke_tests": str(smoke), "runbook_url": "https://runbooks.example/$namespace/$app",
        "dashboard_url": "https://grafana.example/d/turnout?var-app=$app"}}))
    with Receiver() as pagerduty, Receiver(status=200) as slack:
        env = {**os.environ, "TURNOUT_CONFIG": str(config), "TURNOUT_STATE_DIR": str(tmp_path / "state"),
               "TURNOUT_PAGERDUTY_ROUTING_KEY": "routing-key", "TURNOUT_PAGERDUTY_URL": pagerduty.url,
               "TURNOUT_SLACK_WEBHOOK_URL": slack.url}
        done = subprocess.run(
            [str(REPO / ".venv/bin/turnout"), "--kubeconfig", lab.kubeconfig, "-n", ns, "deploy", "checkout",
             "--image", "registry.local/checkout:1.6.0", "--steps", "10,50,100", "--pause", "0",
             "--interval", "0.5s", "--analysis", "2s", "--yes", "-o", "json"],
            capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL, env=env)
    assert done.returncode == 20, done.stderr
    release = json.loads(done.stdout)
    assert release["stage"] == "check the preview color" and "smoke" in release["reason"]
    trigger, resolve = pagerduty.bodies
    summary = trigger["payload"]["summary"]
    assert summary.startswith(f"Turnout: deploy rolled-back: {ns}/checkout green failed "
                              "(smoke 1 (threshold 0)")
    assert {link["text"]: link["href"] for link in trigger["links"]} == {
        "runbook": f"https://runbooks.example/{ns}/checkout",
        "dashboard": "https://grafana.example/d/turnout?var-app=checkout"}
    report = trigger["payload"]["custom_details"]["report"]
    assert "| green | smoke | fail | 1 | 0 |" in report and "serves 1.4.2" in report
    assert (resolve["event_action"], resolve["dedup_key"]) == ("resolve", trigger["dedup_key"])
    page, follow_up = (body["text"] for body in slack.bodies)
    assert "runbook: https://runbooks.example/" in page and "healthy again on blue" in follow_up
    [written] = (tmp_path / "state" / "incidents").glob("*-checkout-*.md")
    assert written.read_text().startswith("# Incident ") and "Acted: deploy " in written.read_text()
    events = json.loads(kubectl(lab, "-n", ns, "get", "events", "-o", "json"))["items"]
    assert any(e["reason"] == "TurnoutIncident" and "deploy rolled-back" in e["message"] for e in events)
    assert get(lab, ns, "service/checkout")["spec"]["selector"]["turnout.dev/color"] == "blue"
