"""The acceptance drill for the alert rules: a real guard guarding a lab app, scraped by a real
Prometheus that loads deploy/monitoring/turnout-rules.yml. A failing canary is rolled back, the
rollback counter rises in Prometheus, and TurnoutRollback fires there.

The Prometheus is this test's own (the same binary as the lab's), because the shared lab's
scrape list is fixed when the lab starts and holds the demo services only.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.guard.conftest import APP, Canary, canary, kube, lab, lab_namespace  # noqa: F401
from tests.kube.conftest import REPO, get
from tests.ops.tools import tool
from tests.support.processes import Processes, free_port, wait_for

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
    return f"http://127.0.0.1:{port}"


def query(url: str, expr: str) -> list[dict]:  # type: ignore[type-arg]
    try:
        body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5).json()
    except httpx.HTTPError:
        return []
    return body["data"]["result"] if body.get("status") == "success" else []  # type: ignore[no-any-return]


def firing(url: str, name: str) -> list[dict]:  # type: ignore[type-arg]
    try:
        alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    except httpx.HTTPError:
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
