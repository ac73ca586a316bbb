"""The acceptance drill for the alert rules: a real guard guarding a lab app, scraped by a real
Prometheus that loads deploy/monitoring/turnout-rules.yml. A failing canary is rolled back, the
rollback counter rises in Prometheus, and TurnoutRollback fires there. Releases recorded in the
app's history reach Prometheus through the guard's export of the release records, fire
TurnoutDeployRolledBack, and every release and delivery panel of the dashboard answers with them.

The Prometheus is this test's own (the same binary as the lab's), because the shared lab's
scrape list is fixed when the lab starts and holds the demo services only.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.guard.conftest import APP, Canary, canary, kube, lab, lab_namespace, lab_service  # noqa: F401
from tests.kube.conftest import REPO, get
from tests.ops.test_dashboard import dashboard, promql
from tests.ops.tools import tool
from tests.support.processes import Processes, free_port, wait_for
from turnout.backend.models import Verdict
from turnout.backend.release.model import Release
from turnout.backend.service import ReleaseService

pytestmark = pytest.mark.lab
RULES = REPO / "deploy" / "monitoring" / "turnout-rules.yml"


@pytest.fixture
def guard_port(canary: Canary, tmp_path: Path, processes: Processes) -> int:  # noqa: F811
    """One guard (no election: it leads) on the canary's namespace; the port of its /metrics."""
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"prometheus_url": canary.lab.env["prometheus_url"], "request_timeout": 2,
                                  "guard": {"interval": 1}}))
    log = tmp_path / "guard.log"
    env = {"TURNOUT_CONFIG": str(config), "TURNOUT_STATE_DIR": str(tmp_path / "state")}
    with log.open("wb") as sink:
        process = processes.start(
            [str(REPO / ".venv" / "bin" / "turnout"), "--kubeconfig", canary.lab.kubeconfig,
             "-n", canary.namespace, "guard", APP, "--listen", "127.0.0.1:0", "-o", "json"],
            stdout=subprocess.DEVNULL, stderr=sink, text=False, **env)
    wait_for(lambda: "endpoints on port" in log.read_text(errors="replace") or process.poll() is not None,
             "the guard's endpoints", 120)
    found = re.search(r"endpoints on port (\d+)", log.read_text(errors="replace"))
    assert found, log.read_text(errors="replace")
    return int(found.group(1))


@pytest.fixture
def prometheus(guard_port: int, tmp_path: Path, processes: Processes) -> str:
    """A Prometheus scraping the guard every second and evaluating Turnout's rules every second."""
    binary = tool("prometheus")
    rules = tmp_path / "turnout-rules.yml"
    shutil.copy(RULES, rules)
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{rules}']\n"
        "scrape_configs:\n  - job_name: turnout-guard\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{guard_port}']}}]\n")
    port = free_port()
    with (tmp_path / "prometheus.log").open("wb") as sink:
        processes.start([binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                         f"--web.listen-address=127.0.0.1:{port}"], stdout=sink, stderr=sink, text=False)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _ready(url), "Prometheus ready")
    return url


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def query(url: str, expr: str) -> list[dict]:  # type: ignore[type-arg]
    try:
        body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
    except (httpx.HTTPError, ValueError):  # not listening yet, or still starting (plain text 503)
        return []
    return body["data"]["result"] if body.get("status") == "success" else []  # type: ignore[no-any-return]


def firing(url: str, name: str) -> list[dict]:  # type: ignore[type-arg]
    try:
        alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    except (httpx.HTTPError, ValueError, KeyError):  # not listening yet, or still starting
        return []
    return [a for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"]


def test_a_fire_drill_raises_the_rollback_counter_and_fires_the_rollback_alert(
        canary: Canary, prometheus: str) -> None:  # noqa: F811
    ns = canary.namespace
    wait_for(lambda: query(prometheus, f'turnout_guard_evaluations_total{{namespace="{ns}",app="{APP}"}}'),
             "the guard's evaluations scraped")
    wait_for(lambda: query(prometheus, f'turnout_guard_watched_color{{app="{APP}",color="green"}} == 1'),
             "the canary color exported as watched")
    assert not firing(prometheus, "TurnoutRollback")
    assert not query(prometheus, "turnout_guard_rollbacks_total")
    wait_for(lambda: get(canary.lab, ns, f"service/{APP}")["metadata"]["annotations"].get("turnout.dev/guard")
             == "armed", "the guard armed the app")

    canary.fault("green", health="fail")
    wait_for(lambda: canary.canary_weight == "0", "the guard rolled the canary back")

    wait_for(lambda: query(prometheus, f'turnout_guard_rollbacks_total{{namespace="{ns}",app="{APP}"}} >= 1'),
             "the rollback counted in Prometheus")
    wait_for(lambda: firing(prometheus, "TurnoutRollback"), "TurnoutRollback firing")
    [alert] = firing(prometheus, "TurnoutRollback")
    assert (alert["labels"]["namespace"], alert["labels"]["app"]) == (ns, APP)
    assert alert["annotations"]["runbook_url"] == "docs/runbooks/TurnoutRollback.md"
    assert not firing(prometheus, "TurnoutGuardNoLeader")


def _release(ns: str, outcome: str, finished: datetime) -> Release:
    """A finished release of the drill's app with every time the delivery figures read."""
    started = finished - timedelta(minutes=4)
    failed = outcome != "promoted"
    verdict = Verdict(signal="restarts", color="green", outcome="fail", value=5, threshold=3,
                      source="pods", at=started)
    return Release(id=f"drill-{outcome}", app=APP, namespace=ns, context="lab", version="2", image="img:2",
                   previous_version="1", previous_image="img:1", strategy="canary", steps=(10, 100),
                   by="drill", started_at=started, finished_at=finished, outcome=outcome,  # type: ignore[arg-type]
                   from_color="blue", to_color="green", commit_time=started - timedelta(hours=2),
                   exposed_at=started + timedelta(minutes=1),
                   detected_at=started + timedelta(minutes=2) if failed else None,
                   restored_at=started + timedelta(minutes=2, seconds=20) if failed else None,
                   verdicts=(verdict,) if failed else ())


async def test_recorded_releases_reach_prometheus_and_every_delivery_panel_answers(
        canary: Canary, prometheus: str, lab_service: Callable[..., ReleaseService]) -> None:  # noqa: F811
    ids = f'namespace="{canary.namespace}",app="{APP}"'
    # Every outcome is exported at 0 before the app's first release: its first one is an increase.
    wait_for(lambda: len(query(prometheus, f"turnout_deploys_total{{{ids}}} == 0")) == 4,
             "every outcome scraped at 0")
    assert not firing(prometheus, "TurnoutDeployRolledBack")
    port = lab_service().release_records()
    now = datetime.now(UTC)
    for outcome in ("promoted", "rolled-back"):
        await port.record(_release(canary.namespace, outcome, now))

    wait_for(lambda: query(prometheus, f'turnout_deploys_total{{{ids},outcome="rolled-back"}} == 1'),
             "the rolled-back deploy counted in Prometheus")
    wait_for(lambda: query(prometheus, f'turnout_guard_verdict{{{ids}}}'), "the guard's verdicts exported")
    wait_for(lambda: firing(prometheus, "TurnoutDeployRolledBack"), "TurnoutDeployRolledBack firing")
    [alert] = firing(prometheus, "TurnoutDeployRolledBack")
    assert (alert["labels"]["app"], alert["labels"]["outcome"]) == (APP, "rolled-back")
    assert query(prometheus, f'turnout_deploy_rollbacks_total{{{ids},trigger="restarts"}} == 1')
    for chart in (*dashboard.RELEASE_CHARTS, *dashboard.DELIVERY_CHARTS):
        result = promql(prometheus, chart.expr, APP)
        assert result, f"{chart.title}: no series"
        assert all(series["value"][1] != "NaN" for series in result), (chart.title, result)
    [cfr] = promql(prometheus, dashboard.DELIVERY_CHARTS[1].expr, APP)
    assert float(cfr["value"][1]) == 0.5  # one of the two deploys failed
