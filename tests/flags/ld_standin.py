"""A local stand-in for LaunchDarkly's REST API, serving the documented fixtures.

The one place a stand-in is allowed: LaunchDarkly cannot be reached from here.
See tests/fixtures/launchdarkly/README.md for the payload shapes.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent.parent / "fixtures" / "launchdarkly"


class StandIn:
    """Flags in memory, a log of requests, and failures to inject."""

    def __init__(self, token: str) -> None:
        listing = json.loads((FIXTURES / "flags.json").read_text())
        self.flags: dict[str, Any] = {f["key"]: f for f in listing["items"]}
        self.segments: dict[str, Any] = json.loads((FIXTURES / "segments.json").read_text())
        self.token = token
        self.requests: list[dict[str, Any]] = []
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:3] == ["api", "v2", "segments"] and len(parts) == 5 and method == "GET":
            return 200, self.segments
        if parts[:3] != ["api", "v2", "flags"] or len(parts) not in (4, 5):
            return 404, {"code": "not_found", "message": "Unknown resource"}
        if len(parts) == 4 and method == "GET":
            return 200, {"items": list(self.flags.values()), "totalCount": len(self.flags)}
        flag = self.flags.get(parts[4])
        if flag is None:
            return 404, {"code": "not_found", "message": "Unknown flag"}
        if method == "GET":
            return 200, flag
        return self._patch(flag, body)

    def _patch(self, flag: dict[str, Any], body: dict[str, Any]) -> tuple[int, Any]:
        changed = copy.deepcopy(flag)
        for op in body["patch"]:
            keys = op["path"].strip("/").split("/")
            target = changed
            for key in keys[:-1]:
                target = target[key]
            if op["op"] == "test" and target.get(keys[-1]) != op["value"]:
                return 409, {"code": "conflict", "message": "test operation failed"}
            if op["op"] == "replace":
                target[keys[-1]] = op["value"]
        changed["_version"] += 1
        self.flags[flag["key"]] = changed
        return 200, changed

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                url = urlsplit(self.path)
                standin.requests.append({"method": self.command, "path": url.path,
                                         "query": parse_qs(url.query), "body": body,
                                         "headers": dict(self.headers)})  # fmt: skip
                if self.headers.get("Authorization") != standin.token:
                    status, payload, extra = 401, {"message": "Invalid token"}, {}
                elif standin.fail_next:
                    status, extra = standin.fail_next.pop(0)
                    payload = {"message": "try later"}
                else:
                    status, payload = standin.route(self.command, url.path, body)
                    extra = {}
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **extra}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PATCH = _serve

        return Handler
