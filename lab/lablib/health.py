"""Health probes of each lab component, and waiting on them with a clear failure."""

from __future__ import annotations

import json
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from . import LabError
from .kube import Kube, KubeError

Probe = Callable[[], tuple[bool, str]]
"""A health probe: (healthy, one-line detail)."""


def http_get(url: str, cafile: Path | None = None, timeout: float = 2.0) -> tuple[int, str]:
    """GET ``url``; (status, body). With no ``cafile`` an https peer is not verified:
    the controller-manager and scheduler serve self-signed certificates."""
    context = None
    if url.startswith("https"):
        context = ssl.create_default_context(cafile=str(cafile)) if cafile else \
            ssl._create_unverified_context()  # loopback-only self-signed health endpoints
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:
            return resp.status, resp.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (OSError, ValueError) as exc:
        return 0, str(exc)


def http_probe(url: str, expect: str = "", cafile: Path | None = None) -> Probe:
    """Healthy when ``url`` answers 200 (and its body contains ``expect``)."""
    def probe() -> tuple[bool, str]:
        status, body = http_get(url, cafile)
        ok = status == 200 and expect in body
        return ok, f"{url} -> {status or body}"
    return probe


def redis_probe(port: int) -> Probe:
    """Healthy when redis answers PING with PONG."""
    def probe() -> tuple[bool, str]:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                sock.sendall(b"PING\r\n")
                reply = sock.recv(64)
        except OSError as exc:
            return False, f"redis 127.0.0.1:{port}: {exc}"
        return reply.startswith(b"+PONG"), f"redis PING -> {reply!r}"
    return probe


def prometheus_targets_probe(url: str, expected: int) -> Probe:
    """Healthy when Prometheus has scraped all ``expected`` demo targets successfully."""
    def probe() -> tuple[bool, str]:
        status, body = http_get(f"{url}/api/v1/targets?state=active")
        if status != 200:
            return False, f"{url}/api/v1/targets -> {status or body}"
        targets = json.loads(body)["data"]["activeTargets"]
        up = sum(1 for t in targets if t["health"] == "up")
        return up >= expected, f"{up}/{expected} demo targets up"
    return probe


def _ready(conditions: list[dict] | None) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions or [])


def nodes_probe(kube: Kube, expected: int) -> Probe:
    """Healthy when ``expected`` fake nodes report Ready (kwok is heart-beating them)."""
    def probe() -> tuple[bool, str]:
        try:
            items = kube.get("/api/v1/nodes?labelSelector=type%3Dkwok")["items"]
        except (KubeError, OSError) as exc:
            return False, str(exc)
        ready = sum(1 for n in items if _ready(n.get("status", {}).get("conditions")))
        return ready >= expected, f"{ready}/{expected} fake nodes Ready"
    return probe


def pods_probe(kube: Kube, namespaces: list[str], expected: int) -> Probe:
    """Healthy when the seeded apps' pods (``expected`` in all) are Running and Ready."""
    def probe() -> tuple[bool, str]:
        ready = 0
        try:
            for ns in namespaces:
                for pod in kube.get(f"/api/v1/namespaces/{ns}/pods")["items"]:
                    status = pod.get("status", {})
                    ready += status.get("phase") == "Running" and _ready(status.get("conditions"))
        except (KubeError, OSError) as exc:
            return False, str(exc)
        return ready >= expected, f"{ready}/{expected} seeded pods Ready"
    return probe


def kube_probe(kube: Kube, path: str) -> Probe:
    """Healthy when GET ``path`` succeeds."""
    def probe() -> tuple[bool, str]:
        try:
            return kube.exists(path), f"GET {path}"
        except (KubeError, OSError) as exc:
            return False, str(exc)
    return probe


def all_of(*probes: Probe) -> Probe:
    """Healthy when every probe is; the detail of the first that is not, else the last."""
    def probe() -> tuple[bool, str]:
        detail = ""
        for each in probes:
            ok, detail = each()
            if not ok:
                return False, detail
        return True, detail
    return probe


def wait_for(component: str, probe: Probe, log: Path, timeout: float = 120.0,
             alive: Callable[[], bool] = lambda: True) -> float:
    """Poll ``probe`` until healthy; return the seconds waited.

    Raises LabError naming the component and its log when the timeout passes or
    the process behind it dies first.
    """
    start = time.monotonic()
    detail = "no answer yet"
    while time.monotonic() - start < timeout:
        if not alive():
            raise LabError(f"{component} exited during start-up; see {log}")
        ok, detail = probe()
        if ok:
            return time.monotonic() - start
        time.sleep(0.2)
    raise LabError(f"{component} not ready after {timeout:.0f} s ({detail}); see {log}")
