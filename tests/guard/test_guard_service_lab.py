"""The guard as a production service, against the lab: a malformed annotation on one app
while another app's fault is rolled back; a private Prometheus stopped (hold, `unknown`, one
notification) and started again (evaluation resumes, the page is resolved); re-arming after
a rollback does not trip on the errors still inside the window."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.guard.conftest import APP, Canary
from tests.guard.receiver import Receiver
from tests.kube.conftest import REPO, get, kubectl, seed_app
from tests.lab.conftest import Lab
from turnout.backend.config import GuardSettings
from turnout.backend.guard import Guard
from turnout.backend.notify import Fanout, PagerDuty
from turnout.backend.service import ReleaseService

pytestmark = pytest.mark.lab
SETTINGS = GuardSettings(interval=1.0)
MALFORMED = '{"blue":"http://[::1","green":"http://[::1"}'
"""The issue's `{"green":"http://[::1"}`, for both colors: `shop` is watched on its live blue."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.2)


async def test_a_malformed_annotation_on_one_app_while_anothers_fault_is_rolled_back(
        canary: Canary, tmp_path: Path) -> None:
    seed_app(canary.lab, canary.namespace, "shop", "service")
    kubectl(canary.lab, "-n", canary.namespace, "annotate", "--overwrite", "service", "shop",
            f"turnout.dev/endpoints={MALFORMED}")
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"prometheus_url": canary.lab.env["prometheus_url"], "request_timeout": 2,
                                  "guard": {"interval": 1}}))
    env = {"TURNOUT_CONFIG": str(config), "TURNOUT_STATE_DIR": str(tmp_path / "state")}
    guard = subprocess.Popen(
        [str(REPO / ".venv" / "bin" / "turnout"), "--kubeconfig", canary.lab.kubeconfig, "-n",
         canary.namespace, "guard", "-o", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, **env})
    try:
        assert guard.stdout is not None
        decisions: dict[str, str] = {}
        while set(decisions) != {APP, "shop"} or decisions[APP] != "ok":  # both guarded first
            item = json.loads(guard.stdout.readline())
            decisions[item["app"]] = item["decision"]
        assert decisions["shop"] == "error"
        canary.fault("green", health="fail")
        while decisions[APP] != "rollback":
            item = json.loads(guard.stdout.readline())
            decisions[item["app"]] = item["decision"]
            assert guard.poll() is None, guard.stderr.read() if guard.stderr else ""
        assert canary.canary_weight == "0" and decisions["shop"] == "error"
    finally:
        guard.terminate()
        _, err = guard.communicate(timeout=30)
    assert guard.returncode == 0 and "Traceback" not in err
    report = get(canary.lab, canary.namespace, "configmap/turnout-guard-shop")["data"]["report"]
    assert json.loads(report)["decision"] == "error"


def test_once_over_the_namespace_prints_every_app_and_exits_33(canary: Canary) -> None:
    from tests.kube.conftest import turnout

    seed_app(canary.lab, canary.namespace, "shop", "service")
    kubectl(canary.lab, "-n", canary.namespace, "annotate", "--overwrite", "service", "shop",
            f"turnout.dev/endpoints={MALFORMED}")
    run = turnout(canary.lab, "-n", canary.namespace, "guard", "--once", "-o", "json")
    items = {item["app"]: item for item in json.loads(run.out)["items"]}
    assert (run.code, set(items)) == (33, {APP, "shop"}), run.err
    assert items["shop"]["decision"] == "error" and items[APP]["decision"] != "error"
    [health] = [v for v in items["shop"]["verdicts"] if v["signal"] == "health"]
    assert health["outcome"] == "error" and "[::1" in health["detail"] and "Traceback" not in run.err


@dataclass
class PrivatePrometheus:
    """A Prometheus of this test's own (never the shared lab's) scraping `search`'s services."""

    lab: Lab
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        targets = ", ".join(f"'{urlsplit(self.lab.demo_url(APP, c)).netloc}'" for c in ("blue", "green"))
        config = self.folder / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                          f"scrape_configs:\n  - job_name: demo\n    static_configs:\n"
                          f"      - targets: [{targets}]\n")
        self.process = subprocess.Popen(
            ["/usr/bin/prometheus", f"--config.file={config}", f"--storage.tsdb.path={self.folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)


@pytest.fixture
def private_prometheus(lab: Lab, tmp_path: Path) -> Iterator[PrivatePrometheus]:
    if not Path("/usr/bin/prometheus").exists():
        pytest.skip("no /usr/bin/prometheus")
    prom = PrivatePrometheus(lab, tmp_path, _free_port())
    prom.start()
    yield prom
    prom.stop()


async def test_prometheus_stopped_holds_shows_unknown_pages_once_and_resumes(
        canary: Canary, lab_service: Callable[..., ReleaseService],
        private_prometheus: PrivatePrometheus) -> None:
    await _wait(private_prometheus.ready, "the private Prometheus ready")
    with Receiver() as pagerduty:
        guard = Guard(lab_service(prometheus_url=private_prometheus.url), SETTINGS,
                      Fanout((PagerDuty("key", pagerduty.url),)))
        await guard.arm(APP, canary.namespace)
        decision = ""
        while decision not in ("ok", "wait"):  # measuring, whatever the first scrapes say
            decision = (await guard.check(APP, canary.namespace)).decision
            await asyncio.sleep(1)
        private_prometheus.stop()
        results = []
        for _ in range(SETTINGS.prometheus_errors + 4):
            results.append(await guard.check(APP, canary.namespace))
            await asyncio.sleep(1)
        assert {r.decision for r in results} == {"unknown"}
        assert len({r.since for r in results}) == 1
        assert canary.canary_weight == "10"
        [page] = pagerduty.bodies
        assert "metrics unreachable" in page["payload"]["summary"]
        private_prometheus.start()
        await _wait(private_prometheus.ready, "the private Prometheus ready again")
        while (result := await guard.check(APP, canary.namespace)).decision == "unknown":
            await asyncio.sleep(1)
        assert result.decision in ("ok", "wait") and canary.canary_weight == "10"
        assert [b["event_action"] for b in pagerduty.bodies] == ["trigger", "resolve"]


async def test_re_arming_after_a_rollback_waits_out_the_stale_window(
        canary: Canary, lab_service: Callable[..., ReleaseService]) -> None:
    service = lab_service()
    guard = Guard(service, GuardSettings(interval=1.0, health_failures=1000, log_errors_per_100=100))
    await guard.arm(APP, canary.namespace)
    canary.fault("green", error_rate=0.5)
    while (await guard.check(APP, canary.namespace)).decision != "rollback":
        await asyncio.sleep(1)
    canary.heal()
    await guard.arm(APP, canary.namespace)
    canary.set_canary_weight(10)
    while (await service.app(APP, canary.namespace)).traffic.weights.green != 10:
        await asyncio.sleep(0.1)
    held = []
    while (result := await guard.check(APP, canary.namespace)).decision != "ok":
        assert result.decision != "rollback", result
        [rate] = [v for v in result.verdicts if v.signal == "error-rate"]
        held.append(rate)
        await asyncio.sleep(1)
    assert any(v.outcome == "inconclusive" and "re-armed" in v.detail and v.value is not None
               and v.threshold is not None and v.value > v.threshold for v in held), held
    assert canary.canary_weight == "10"
