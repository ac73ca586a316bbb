"""The HTTP layer: the read-only choke point, timeouts, read retries, error mapping.

Every request to the API server goes through `GatedTransport`, so a mutating
verb cannot leave the process in read-only mode whatever code path sent it.
Reads retry with bounded backoff inside the request timeout; writes never retry
here (a conditional write that failed is re-validated by the caller).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import Any

import httpx
import msgspec

from turnout.backend.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TurnoutError,
    Unavailable,
)
from turnout.backend.gate import WriteGate
from turnout.backend.kube.credentials import BearerAuth
from turnout.backend.kube.kubeconfig import KubeTarget
from turnout.backend.kube.wire import Status

REVIEW_PATHS = ("/selfsubjectreviews", "/selfsubjectaccessreviews")
"""POSTs that only ask the server a question (who am I, may I): allowed when read-only."""

class Gone(TurnoutError):
    """410: the resourceVersion asked for is older than the server keeps; relist."""

    title = "Expired"


class GatedTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport; asks the write gate about every request first."""

    def __init__(self, inner: httpx.AsyncBaseTransport, gate: WriteGate) -> None:
        self.inner = inner
        self.gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not (request.method == "POST" and request.url.path.endswith(REVIEW_PATHS)):
            self.gate.check_http(request.method, str(request.url.copy_with(query=None)))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def error_for(status: int, body: bytes, what: str) -> TurnoutError:
    """The Turnout error for an API server error response."""
    try:
        message = msgspec.json.decode(body, type=Status).message
    except msgspec.DecodeError:
        message = ""
    message = (message or f"HTTP {status}").splitlines()[0][:300]
    kinds: dict[int, type[TurnoutError]] = {
        400: InvalidInput, 401: Forbidden, 403: Forbidden, 404: NotFound, 409: Conflict,
        410: Gone, 422: InvalidInput}
    # Anything else (429, 5xx) is the server struggling: Unavailable, which reads retry.
    cls = kinds.get(status, Unavailable)
    return cls(f"{what}: {message}", detail=f"HTTP {status}")


class KubeHttp:
    """Async requests to one API server as one user."""

    def __init__(self, target: KubeTarget, gate: WriteGate, timeout: float,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        inner = transport or httpx.AsyncHTTPTransport(verify=target.ssl)
        self.timeout = timeout
        self.server = target.server
        auth: httpx.Auth | tuple[str, str] | None = target.auth
        if target.token is not None:
            auth = BearerAuth(target.token)
        self.client = httpx.AsyncClient(
            base_url=target.server, headers={**target.headers, "Accept": "application/json"},
            auth=auth, transport=GatedTransport(inner, gate), timeout=timeout)

    async def get(self, path: str, params: dict[str, str] | None = None) -> bytes:
        """GET with retries on transient failures, all inside one request timeout."""
        deadline = time.monotonic() + self.timeout
        delay = 0.1
        while True:
            try:
                return await self._send("GET", path, params, None, {}, deadline)
            except Unavailable:
                if time.monotonic() + delay >= deadline:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def write(self, method: str, path: str, body: object, *, content_type: str,
                    dry_run: bool = False) -> bytes:
        """One mutating request, never retried; `dry_run` asks the server not to persist."""
        params = {"dryRun": "All"} if dry_run else None
        content = msgspec.json.encode(body)
        headers = {"Content-Type": content_type}
        return await self._send(method, path, params, content, headers,
                                time.monotonic() + self.timeout)

    async def _send(self, method: str, path: str, params: dict[str, str] | None,
                    content: bytes | None, headers: dict[str, str], deadline: float) -> bytes:
        what = f"{method} {path}"
        remaining = max(deadline - time.monotonic(), 0.01)
        try:
            response = await self.client.request(method, path, params=params, content=content,
                                                 headers=headers, timeout=remaining)
        except httpx.TimeoutException as err:
            raise Unavailable(f"{what}: API server {self.server} did not answer within "
                              f"{self.timeout:g}s") from err
        except httpx.TransportError as err:
            raise Unavailable(f"{what}: API server {self.server} unreachable "
                              f"({type(err).__name__})") from err
        if response.status_code >= 400:
            raise error_for(response.status_code, response.content, what)
        return response.content

    async def stream_lines(self, path: str, params: dict[str, str],
                           read_timeout: float) -> AsyncGenerator[bytes, None]:
        """A watch: an empty line once open, then one JSON document per line until it ends."""
        timeout = httpx.Timeout(self.timeout, read=read_timeout)
        what = f"WATCH {path}"
        try:
            async with self.client.stream("GET", path, params=params, timeout=timeout) as resp:
                if resp.status_code >= 400:
                    raise error_for(resp.status_code, await resp.aread(), what)
                yield b""  # the stream is open: the server will replay from the version asked
                async for line in resp.aiter_lines():
                    if line:
                        yield line.encode()
        except httpx.TimeoutException as err:
            raise Unavailable(f"{what}: no event or bookmark within {read_timeout:g}s") from err
        except httpx.TransportError as err:
            raise Unavailable(f"{what}: stream dropped ({type(err).__name__})") from err

    async def close(self) -> None:
        """Close pooled connections."""
        await self.client.aclose()


def decode(data: bytes, type_: Any, what: str) -> Any:
    """Decode a response body; a malformed one is the server's fault, not ours."""
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.DecodeError as err:
        raise Unavailable(f"{what}: unexpected response from the API server: {err}") from err
