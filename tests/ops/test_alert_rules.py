"""The alert rules: generated from one source, valid, unit-tested with promtool, each with a runbook,
over metric names the guard really exports."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry, generate_latest

from tests.ops.tools import REPO, load_module, promtool
from turnout.backend.demo import build_demo_service
from turnout.backend.flags.local import MemoryStore
from turnout.backend.flags.ofrep_server import OfrepApp, ServeOptions
from turnout.backend.flags.reader import FlagReader
from turnout.backend.gate import WriteGate
from turnout.backend.guard.delivery import DeliveryCollector
from turnout.backend.guard.engine import Evaluation
from turnout.backend.guard.telemetry import Telemetry
from turnout.backend.models import Verdict

MONITORING = REPO / "deploy" / "monitoring"
rules = load_module(MONITORING / "rules.py", "turnout_alert_rules")
TESTS = sorted(MONITORING.glob("*.test.yml"))
"""The 30-day alerts have a file of their own, evaluated hourly (promtool evaluates every step)."""


def test_committed_rule_files_are_current() -> None:
    assert rules.main(["--check"]) == 0, "run `make monitoring`"


def test_prometheus_rule_holds_the_same_group_as_the_plain_file() -> None:
    plain = yaml.safe_load(rules.RULES_FILE.read_text())
    manifest = yaml.safe_load(rules.OPERATOR_FILE.read_text())
    assert manifest["kind"] == "PrometheusRule"
    assert manifest["apiVersion"] == "monitoring.coreos.com/v1"
    assert manifest["spec"]["groups"] == plain["groups"]


def test_promtool_checks_both_files(tmp_path: Path) -> None:
    spec = yaml.safe_load(rules.OPERATOR_FILE.read_text())["spec"]
    extracted = tmp_path / "from-prometheusrule.yml"
    extracted.write_text(yaml.safe_dump(spec))
    for path in (rules.RULES_FILE, extracted):
        done = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"SUCCESS: {len(rules.ALERTS)} rules found" in done.stdout


def test_promtool_unit_tests_pass() -> None:
    assert len(TESTS) == 2, TESTS
    done = subprocess.run([promtool(), "test", "rules", *(p.name for p in TESTS)], cwd=MONITORING,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_is_unit_tested_firing_and_not_firing() -> None:
    cases = [case for path in TESTS for test in yaml.safe_load(path.read_text())["tests"]
             for case in test["alert_rule_test"]]
    for alert in rules.ALERTS:
        mine = [case for case in cases if case["alertname"] == alert.name]
        assert any(case["exp_alerts"] for case in mine), f"{alert.name} never tested firing"
        assert any(not case["exp_alerts"] for case in mine), f"{alert.name} never tested not firing"


def test_every_alert_has_its_runbook() -> None:
    for alert in rules.ALERTS:
        rule = alert.rule(rules.RUNBOOK_BASE)
        url = rule["annotations"]["runbook_url"]  # type: ignore[index]
        runbook = REPO / url
        assert runbook.is_file(), f"{alert.name}: {url} missing"
        text = runbook.read_text()
        assert text.startswith(f"# {alert.name}"), runbook
        for section in ("## What it means", "## What to look at", "## What to do"):
            assert section in text, f"{runbook.name}: no '{section}'"
        assert "turnout " in text, f"{runbook.name} names no turnout command"


async def exported_by_turnout() -> str:
    """Every metric family Turnout exports: the guard's own, the release records it exports
    (read from the demo), and the OFREP server's."""
    delivery = DeliveryCollector()
    await delivery.refresh(build_demo_service(), [], None)
    registry = CollectorRegistry()
    registry.register(delivery)
    reader = FlagReader(MemoryStore(WriteGate()))
    ofrep = OfrepApp(reader, ServeOptions())
    return "".join(text.decode() for text in (Telemetry().exposition(), generate_latest(registry),
                                              generate_latest(ofrep.metrics.registry)))


async def test_rules_use_only_metric_names_turnout_exports() -> None:
    exported = await exported_by_turnout()
    used = {name for alert in rules.ALERTS for name in re.findall(r"turnout_\w+", alert.expr)}
    assert used, "the rules read none of Turnout's metrics"
    for name in used:
        family = name.removesuffix("_total")
        assert f"# HELP {family} " in exported or f"# HELP {name} " in exported, \
            f"{name} is not exported by Turnout"


def test_watched_color_gauge_marks_the_evaluated_color_only() -> None:
    telemetry = Telemetry()
    verdict = Verdict(signal="error_rate", color="green", outcome="pass", value=0.0, threshold=0.01,
                      source="prometheus", at=datetime.now(UTC))
    telemetry.evaluated(Evaluation(app="shop", namespace="web", state="live", watched="green",
                                   verdicts=(verdict,), decision="ok"), 0.01)
    text = telemetry.exposition().decode()
    assert 'turnout_guard_watched_color{app="shop",color="green",namespace="web"} 1.0' in text
    assert 'turnout_guard_watched_color{app="shop",color="blue",namespace="web"} 0.0' in text


def test_an_unreadable_app_marks_no_color() -> None:
    telemetry = Telemetry()
    telemetry.evaluated(Evaluation(app="shop", namespace="web", state="", watched=None, verdicts=(),
                                   decision="error"), 0.01)
    assert 'turnout_guard_watched_color{' not in telemetry.exposition().decode()


def test_service_monitors_select_the_services_whose_metrics_the_rules_read() -> None:
    services = {doc["metadata"]["name"]: doc for path in ("guard.yaml", "flags.yaml")
                for doc in yaml.safe_load_all((REPO / "deploy" / path).read_text())
                if doc and doc["kind"] == "Service"}
    monitors = list(yaml.safe_load_all(rules.MONITORS_FILE.read_text()))
    assert {m["metadata"]["name"] for m in monitors} == set(rules.SCRAPED)
    for monitor in monitors:
        service = services[rules.SCRAPED[monitor["metadata"]["name"]]]
        wanted = monitor["spec"]["selector"]["matchLabels"]
        assert wanted.items() <= service["metadata"]["labels"].items(), monitor["metadata"]["name"]
        ports = {p["name"] for p in service["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
