"""Guard lab fixtures: the seeded `search` app (real demo services scraped by the lab's
Prometheus), restored to its seeded state after every test."""

from __future__ import annotations

import argparse
import json
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tests.kube import conftest as kube_conftest
from tests.kube.conftest import Lab, kubectl
from turnout.backend.cli.connect import connect
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config, GuardSettings
from turnout.backend.service import ReleaseService

lab = kube_conftest.lab
kube = kube_conftest.kube

APP, NS = "search", "search"
SEEDED_WEIGHT = "10"


_ERRORS_INJECTED: set[str] = set()
QUERY_WINDOW = 11.0
"""Seconds for injected errors to leave the guard's 10 s PromQL window."""


def fault(lab: Lab, color: str, **change: Any) -> None:
    """Set the demo service's injected faults for one color of `search`."""
    if change.get("error_rate"):
        _ERRORS_INJECTED.add(color)
    body = json.dumps(change).encode()
    request = urllib.request.Request(f"{lab.demo_url(APP, color)}/admin/fault", data=body,
                                     method="POST")
    with urllib.request.urlopen(request, timeout=5):
        pass


def _restore(lab: Lab) -> None:
    for color in ("blue", "green"):
        fault(lab, color, error_rate=0, latency_ms=0, health="ok")
    kubectl(lab, "-n", NS, "patch", "service", APP, "--type=merge", "-p",
            '{"spec":{"selector":{"turnout.dev/color":"blue"}},'
            '"metadata":{"annotations":{"turnout.dev/guard":"disarmed"}}}')
    kubectl(lab, "-n", NS, "annotate", "--overwrite", "ingress", f"{APP}-canary",
            f"nginx.ingress.kubernetes.io/canary-weight={SEEDED_WEIGHT}")
    if _ERRORS_INJECTED:
        _ERRORS_INJECTED.clear()
        time.sleep(QUERY_WINDOW)  # the next test must not inherit this one's error rate


@pytest.fixture
def search(lab: Lab) -> Any:
    """`search` as seeded (blue live, 10 % canary to green), and again after the test."""
    _restore(lab)
    yield lab
    _restore(lab)


@pytest.fixture
async def lab_service(lab: Lab) -> AsyncIterator[Callable[..., ReleaseService]]:
    """Build release services on the lab (admin context, the lab's Prometheus)."""
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
