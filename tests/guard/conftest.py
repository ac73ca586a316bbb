"""Guard lab fixtures: a copy of the seeded `search` app in a namespace of its own, whose
endpoints are the lab's real `search` demo services (scraped by the lab's Prometheus)."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.kube import conftest as kube_conftest
from tests.kube.conftest import get, kubectl
from tests.lab.conftest import Lab
from turnout.backend.cli.connect import connect
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config, GuardSettings
from turnout.backend.service import ReleaseService

lab = kube_conftest.lab
kube = kube_conftest.kube
lab_namespace = kube_conftest.lab_namespace

APP = "search"
CLEAN_QUERY = (
    f'sum by (color) (rate(http_requests_total{{app="{APP}",code=~"5.."}}[10s]))'
    f' / sum by (color) (rate(http_requests_total{{app="{APP}"}}[10s]))'
)
"""The error ratio over the guard's default 10 s window, per color."""


@dataclass
class Canary:
    """`search` mid-canary (blue live, 10 % to green) in its own namespace, on the real demo services."""

    lab: Lab
    namespace: str
    errors_injected: bool = False
    pods_changed: list[str] = field(default_factory=list)

    def fault(self, color: str, **change: Any) -> None:
        """Set the demo service's injected faults for one color (error_rate, latency_ms, health)."""
        self.errors_injected |= bool(change.get("error_rate"))
        httpx.post(f"{self.lab.demo_url(APP, color)}/admin/fault", json=change, timeout=5).raise_for_status()

    def heal(self) -> None:
        for color in ("blue", "green"):
            self.fault(color, error_rate=0, latency_ms=0, health="ok")

    @property
    def canary_weight(self) -> str:
        ingress = get(self.lab, self.namespace, f"ingress/{APP}-canary")
        return str(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"])

    def set_canary_weight(self, percent: int) -> None:
        kubectl(self.lab, "-n", self.namespace, "annotate", "--overwrite", "ingress", f"{APP}-canary",
                f"nginx.ingress.kubernetes.io/canary-weight={percent}")

    def pods(self, color: str) -> list[str]:
        return [p["metadata"]["name"] for p in get(self.lab, self.namespace, "pods")["items"]
                if p["metadata"]["labels"].get("turnout.dev/color") == color]


def _seed(lab: Lab, namespace: str) -> None:
    from lablib.seed import DemoApp, app_objects

    endpoints = {color: lab.demo_url(APP, color) for color in ("blue", "green")}
    objs = [o for o in app_objects(DemoApp(APP, namespace, "nginx"), endpoints) if o["kind"] != "Namespace"]
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}))
    kubectl(lab, "-n", namespace, "wait", "--for=condition=Available", "--timeout=90s",
            f"deployment/{APP}-blue", f"deployment/{APP}-green")


@pytest.fixture
def canary(lab: Lab, lab_namespace: str) -> Iterator[Canary]:
    """A fresh `search` canary with healthy demo services, and healthy ones again afterwards."""
    _seed(lab, lab_namespace)
    app = Canary(lab, lab_namespace)
    app.heal()
    yield app
    app.heal()
    if app.errors_injected:  # the next test must not inherit this one's error rate
        _wait_until_clean(lab.env["prometheus_url"])


def _wait_until_clean(prometheus: str, seconds: float = 120.0) -> None:
    """Until Prometheus shows no error in either color's window. A fixed wait of one window
    races a loaded machine, where a late scrape can still carry the injected errors."""
    deadline = time.monotonic() + seconds
    ratios: dict[str, float] = {}
    while time.monotonic() < deadline:
        resp = httpx.get(f"{prometheus}/api/v1/query", params={"query": CLEAN_QUERY}, timeout=10)
        ratios = {r["metric"].get("color", ""): float(r["value"][1])
                  for r in resp.json()["data"]["result"]}
        # NaN is a window without requests: no errors either.
        if ratios.keys() >= {"blue", "green"} and all(not v > 0 for v in ratios.values()):
            return
        time.sleep(0.5)
    raise AssertionError(f"the injected errors never left the window: {ratios}")


@pytest.fixture
async def lab_service(lab: Lab) -> AsyncIterator[Callable[..., ReleaseService]]:
    """Build release services on the lab (admin context, the lab's Prometheus unless told)."""
    built: list[ReleaseService] = []

    def build(prometheus_url: str | None = None, read_only: bool = False) -> ReleaseService:
        args = argparse.Namespace(kubeconfig=lab.kubeconfig, context="lab", read_only=read_only)
        config = Config(prometheus_url=prometheus_url or lab.env["prometheus_url"],
                        request_timeout=2.0, guard=GuardSettings(interval=1.0))
        service = connect(CliContext(args=args, config=config))
        built.append(service)
        return service

    yield build
    for service in built:
        await service.close()
