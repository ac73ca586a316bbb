"""Health checks and smoke tests through the API server's service proxy (`kube://SERVICE`):
the guard reaches an app it has no network route to, with the API server's credentials.

The API server proxies only to pod IPs, and never to loopback: the probed server listens on
this machine's own non-loopback address, which is given to a pod on a node nobody manages
(so nothing rewrites its status), behind a selector-less Service and its Endpoints.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.kube.conftest import kubectl, seed_app
from tests.lab.conftest import Lab
from turnout.backend.cli.connect import connect
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config, GuardSettings
from turnout.backend.guard import Guard

pytestmark = pytest.mark.lab


def _host_address() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("203.0.113.1", 9))  # no packet is sent: this picks the outgoing address
        address: str = probe.getsockname()[0]
    return address


class Probed:
    """A tiny HTTP server whose /health answers `status`."""

    def __init__(self, address: str) -> None:
        self.status = 200
        self.paths: list[str] = []
        probed = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                probed.paths.append(self.path)
                code = probed.status if self.path == "/health" else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"down")

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def probed() -> Iterator[Probed]:
    address = _host_address()
    if address.startswith("127.") or address == "0.0.0.0":
        pytest.skip("this machine has no non-loopback address for the API server to proxy to")
    server = Probed(address)
    yield server
    server.server.shutdown()
    server.server.server_close()


async def test_health_and_smoke_through_the_service_proxy(lab: Lab, lab_namespace: str,
                                                          probed: Probed, tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "service")
    address, port = probed.server.server_address[:2]
    meta = {"name": "shop-probe", "namespace": lab_namespace}
    node = f"probe-{lab_namespace}"
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": node}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
         "spec": {"nodeName": node, "containers": [{"name": "probe", "image": "probe"}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": meta,
         "spec": {"ports": [{"name": "http", "port": 80, "targetPort": port}]}}]}))
    kubectl(lab, "-n", lab_namespace, "patch", "pod", "shop-probe", "--subresource=status",
            "--type=merge", "-p", json.dumps({"status": {"podIP": address, "podIPs": [{"ip": address}]}}))
    target = {"kind": "Pod", "name": "shop-probe", "namespace": lab_namespace}
    kubectl(lab, "apply", "-f", "-", stdin=json.dumps(
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": meta,
         "subsets": [{"addresses": [{"ip": address, "targetRef": target}],
                      "ports": [{"name": "http", "port": port}]}]}))
    endpoints = json.dumps({"blue": "kube://shop-probe:http", "green": "kube://shop-probe:http"})
    kubectl(lab, "-n", lab_namespace, "annotate", "--overwrite", "service", "shop",
            f"turnout.dev/endpoints={endpoints}")
    smoke = tmp_path / "smoke.yaml"
    smoke.write_text("- {path: /ready, contains: ok}\n")
    args = argparse.Namespace(kubeconfig=lab.kubeconfig, context="lab", read_only=False)
    settings = GuardSettings(interval=0.5, health_failures=3, smoke_tests=str(smoke))
    service = connect(CliContext(args=args, config=Config(request_timeout=3.0, guard=settings)))
    guard = Guard(service, settings)
    try:
        def health_of(result: object) -> tuple[str, str]:
            verdict = next(v for v in result.verdicts if v.signal == "health")  # type: ignore[attr-defined]
            return verdict.outcome, verdict.source

        first = await guard.check("shop", lab_namespace)
        assert health_of(first) == ("pass", "kube://shop-probe:http/health")
        smoke_verdict = next(v for v in first.verdicts if v.signal == "smoke")
        assert smoke_verdict.outcome == "pass", smoke_verdict
        assert "/health" in probed.paths and "/ready" in probed.paths

        probed.status = 503
        outcomes = [health_of(await guard.check("shop", lab_namespace))[0] for _ in range(3)]
        assert outcomes == ["inconclusive", "inconclusive", "fail"]
    finally:
        await service.close()
        kubectl(lab, "delete", "node", node, "--wait=false")


async def test_a_service_reference_that_could_leave_the_proxy_path_is_refused() -> None:
    from turnout.backend.config import Conventions
    from turnout.backend.demo import build_demo_service
    from turnout.backend.errors import InvalidInput
    from turnout.backend.gate import WriteGate
    from turnout.backend.kube import KubeCluster, KubeHttp, KubeTarget

    app = await build_demo_service().app("checkout")
    target = KubeTarget(context="c", server="http://127.0.0.1:1", namespace="shop", ssl=False)
    cluster = KubeCluster(KubeHttp(target, WriteGate(), 1.0), "c", Conventions())
    try:
        for bad in ("../secrets", "shop/../../x", "shop:http/x", "Shop", "shop?x=1", ""):
            with pytest.raises(InvalidInput, match="expected kube://SERVICE"):
                cluster.service_proxy(app, f"kube://{bad}")
        _, prefix = cluster.service_proxy(app, "kube://shop-probe:http")
        assert prefix == "/api/v1/namespaces/shop/services/shop-probe:http/proxy"
    finally:
        await cluster.close()
