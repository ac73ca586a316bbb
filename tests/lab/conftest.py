"""Fixtures for tests against the lab: a real kube-apiserver, Redis and Prometheus.

``lab`` reuses a healthy running lab (``python3 lab/labctl.py status``) or starts
one and, in that case only, stops it when the session ends. When the lab cannot
be had (no Go, not root for apt, failed build) the lab tests skip with a
one-line reason; under ``TURNOUT_REQUIRE_LAB=1`` (set by ``.ci/run``) they fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LABCTL = REPO / "lab" / "labctl.py"
LAB_DIR = Path(os.environ.get("TURNOUT_LAB_DIR", REPO / ".lab"))
UP_TIMEOUT = 45 * 60
"""Seconds `labctl up` may take: a cold build of Kubernetes on two cores included."""


@dataclass(frozen=True)
class Lab:
    """The running lab, as described by ``.lab/env.json``."""

    env: dict
    started_here: bool

    @property
    def kubeconfig(self) -> str:
        return self.env["kubeconfig"]

    def demo_url(self, app: str, color: str) -> str:
        """Base URL of one demo-service process."""
        return self.env["demo_services"][app][color]

    def api_client(self, context: str = "lab"):  # -> kubernetes.client.ApiClient
        """A kubernetes client for a kubeconfig context (``lab`` or ``lab-readonly``)."""
        from kubernetes import config

        return config.new_client_from_config(config_file=self.kubeconfig, context=context)


def _labctl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(LABCTL), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def _unavailable(reason: str) -> None:
    """Skip, or fail under TURNOUT_REQUIRE_LAB=1, with a one-line reason."""
    if os.environ.get("TURNOUT_REQUIRE_LAB") == "1":
        pytest.fail(f"lab required (TURNOUT_REQUIRE_LAB=1) but unavailable: {reason}",
                    pytrace=False)
    pytest.skip(f"lab unavailable: {reason}")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "no output").removeprefix("lab: ").removeprefix("unavailable: ")


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The session's lab: reused when already healthy, else started (and then stopped)."""
    started = False
    if _labctl("status").returncode != 0:
        try:
            up = _labctl("up", timeout=UP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _unavailable(f"labctl up did not finish in {UP_TIMEOUT} s")
        if up.returncode != 0:
            _unavailable(_last_line(up.stderr or up.stdout))
        started = True
    env = json.loads((LAB_DIR / "env.json").read_text())
    yield Lab(env, started)
    if started:
        _labctl("down")


@pytest.fixture(scope="session")
def kube(lab: Lab):  # -> kubernetes.client.ApiClient
    """An admin (system:masters) API client, shared by the session."""
    client = lab.api_client("lab")
    yield client
    client.close()


@pytest.fixture
def lab_namespace(kube) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting for it)."""
    from kubernetes import client

    core = client.CoreV1Api(kube)
    name = f"lab-test-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={"lab.turnout.dev/test": "true"})))
    yield name
    core.delete_namespace(name, propagation_policy="Background")
