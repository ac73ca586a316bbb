"""The long-running guard's HTTP endpoints: `/healthz`, `/readyz` and `/metrics`.

Served on the guard's own event loop (asyncio streams), so a loop that hangs stops
answering and the liveness probe fails, as it should. Only GET; nothing is read
from the request beyond its first line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from turnout.backend.errors import InvalidInput

log = logging.getLogger(__name__)
Probe = Callable[[], tuple[bool, str]]
"""Answers (ok, reason)."""


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `:PORT` or `PORT` (all interfaces when the host is empty)."""
    host, _, port = text.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise InvalidInput(f"--listen {text!r}: expected HOST:PORT or :PORT") from None
    if not 0 <= number <= 65535:
        raise InvalidInput(f"--listen {text!r}: port out of range")
    return host.strip("[]") or "0.0.0.0", number


@dataclass
class Endpoints:
    """The probes and the metrics exposition, served over plain HTTP."""

    live: Probe
    ready: Probe
    metrics: Callable[[], bytes]
    server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen; the port actually bound (for port 0)."""
        self.server = await asyncio.start_server(self._serve, host, port)
        bound: int = self.server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 2)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            method, _, rest = line.decode("latin-1").partition(" ")
            path = rest.partition(" ")[0].partition("?")[0]
            status, kind, body = self._answer(method, path)
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}\r\n"
                         "Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, UnicodeDecodeError) as err:
            log.debug("guard endpoint request dropped: %s", err)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _answer(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"only GET\n"
        if path == "/metrics":
            return "200 OK", "text/plain; version=0.0.4; charset=utf-8", self.metrics()
        probe = {"/healthz": self.live, "/livez": self.live, "/readyz": self.ready}.get(path)
        if probe is None:
            return "404 Not Found", "text/plain", b"not found\n"
        ok, reason = probe()
        return ("200 OK" if ok else "503 Service Unavailable"), "text/plain", f"{reason}\n".encode()
