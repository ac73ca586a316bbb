#!/usr/bin/env python3
"""The lab's demo service: one process per app color, with its own traffic.

Serves ``/`` (a request that obeys the injected faults), ``/health``, ``/ready``,
``/metrics`` (Prometheus text exposition) and ``/admin/fault`` (GET to read,
POST JSON ``{"error_rate": 0.5, "latency_ms": 200, "health": "fail"}`` to set).
A background generator records about ``--rps`` synthetic requests a second so
Prometheus always has a rate to compute, even when nobody calls the service.

Stdlib only, and it binds 127.0.0.1: it is a test fixture, not a server.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds (seconds) of the latency histogram, Prometheus' defaults."""

BASE_LATENCY = (0.004, 0.030)
"""Range of a healthy request's latency in seconds, before injected latency."""


class Fault:
    """The injected faults, shared by the handler and the traffic generator."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.error_rate = 0.0
        self.latency_ms = 0.0
        self.health = "ok"

    def snapshot(self) -> dict[str, object]:
        """The current faults as JSON-ready data."""
        with self.lock:
            return {"error_rate": self.error_rate, "latency_ms": self.latency_ms,
                    "health": self.health}

    def update(self, data: dict[str, object]) -> None:
        """Apply the fields present in ``data``; raise ValueError on bad values."""
        error_rate = float(data.get("error_rate", self.error_rate))
        latency_ms = float(data.get("latency_ms", self.latency_ms))
        health = str(data.get("health", self.health))
        if not 0.0 <= error_rate <= 1.0 or latency_ms < 0 or health not in ("ok", "fail"):
            raise ValueError("error_rate in [0,1], latency_ms >= 0, health ok|fail")
        with self.lock:
            self.error_rate, self.latency_ms, self.health = error_rate, latency_ms, health

    def outcome(self) -> tuple[int, float]:
        """Draw one request's status code and latency (seconds) under the faults."""
        with self.lock:
            failed = random.random() < self.error_rate
            extra = self.latency_ms / 1000.0
        return (500 if failed else 200), random.uniform(*BASE_LATENCY) + extra


class Metrics:
    """Request counter by code and a latency histogram, rendered by hand."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.lock = threading.Lock()
        self.labels = labels
        self.requests: dict[str, int] = {"200": 0, "500": 0}
        self.bucket_counts = [0] * len(BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0

    def observe(self, code: int, seconds: float) -> None:
        """Record one finished request."""
        with self.lock:
            self.requests[str(code)] = self.requests.get(str(code), 0) + 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.bucket_counts[i] += 1
            self.duration_sum += seconds
            self.duration_count += 1

    def _label_text(self, **extra: str) -> str:
        merged = {**self.labels, **extra}
        return ",".join(f'{k}="{v}"' for k, v in sorted(merged.items()))

    def render(self) -> str:
        """Prometheus text exposition format 0.0.4."""
        with self.lock:
            lines = ["# HELP http_requests_total Requests served, by status code.",
                     "# TYPE http_requests_total counter"]
            for code, n in sorted(self.requests.items()):
                lines.append(f"http_requests_total{{{self._label_text(code=code)}}} {n}")
            lines += ["# HELP http_request_duration_seconds Request latency.",
                      "# TYPE http_request_duration_seconds histogram"]
            for bound, n in zip(BUCKETS, self.bucket_counts, strict=True):
                le = self._label_text(le=repr(bound))
                lines.append(f"http_request_duration_seconds_bucket{{{le}}} {n}")
            inf = self._label_text(le="+Inf")
            lines.append(f"http_request_duration_seconds_bucket{{{inf}}} {self.duration_count}")
            plain = self._label_text()
            lines.append(f"http_request_duration_seconds_sum{{{plain}}} {self.duration_sum}")
            lines.append(f"http_request_duration_seconds_count{{{plain}}} {self.duration_count}")
            lines.append(f"demo_build_info{{{plain}}} 1")
        return "\n".join(lines) + "\n"


def generate_traffic(fault: Fault, metrics: Metrics, rps: float, stop: threading.Event) -> None:
    """Record ``rps`` synthetic requests a second until ``stop`` is set.

    The requests are not sent over the socket: only their outcome matters to the
    PromQL under test, and six processes each calling themselves would cost the
    lab's two cores for nothing.
    """
    period = 1.0 / rps
    while not stop.wait(period):
        metrics.observe(*fault.outcome())


def make_handler(fault: Fault, metrics: Metrics, identity: dict[str, str]) -> type:
    """Build the request handler class bound to this process's state."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "turnout-lab-demo/1"

        def log_message(self, format: str, *args: object) -> None:
            """Stay quiet: Prometheus calls every second."""

        def _send(self, code: int, body: object, ctype: str = "application/json") -> None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _healthy(self) -> bool:
            return fault.snapshot()["health"] == "ok"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, metrics.render(), "text/plain; version=0.0.4")
            elif path in ("/health", "/ready"):
                ok = self._healthy()
                self._send(200 if ok else 503, {**identity, "status": "ok" if ok else "fail"})
            elif path == "/admin/fault":
                self._send(200, fault.snapshot())
            elif path == "/":
                self._serve_request()
            else:
                self._send(404, {"error": "not found"})

        def _serve_request(self) -> None:
            code, seconds = fault.outcome()
            time.sleep(seconds)
            metrics.observe(code, seconds)
            self._send(code, {**identity, "code": code})

        def do_POST(self) -> None:
            if self.path.split("?", 1)[0] != "/admin/fault":
                self._send(404, {"error": "not found"})
                return
            try:
                length = int(self.headers.get("Content-Length") or 0)
                fault.update(json.loads(self.rfile.read(length) or b"{}"))
            except (ValueError, TypeError, AttributeError) as exc:
                self._send(400, {"error": str(exc)})
                return
            self._send(200, fault.snapshot())

    return Handler


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", required=True)
    parser.add_argument("--color", required=True, choices=("blue", "green"))
    parser.add_argument("--version", required=True, help="app version label, e.g. 1.4.2")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rps", type=float, default=20.0, help="synthetic requests a second")
    return parser.parse_args()


def main() -> None:
    """Serve until killed."""
    args = parse_args()
    identity = {"app": args.app, "color": args.color, "version": args.version}
    fault, metrics = Fault(), Metrics(identity)
    stop = threading.Event()
    threading.Thread(target=generate_traffic, args=(fault, metrics, args.rps, stop),
                     daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(fault, metrics, identity))
    server.daemon_threads = True
    try:
        server.serve_forever()
    finally:
        stop.set()


if __name__ == "__main__":
    main()
