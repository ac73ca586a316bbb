"""`turnout flags serve`: the OFREP endpoint over a live `FlagReader`, with aiohttp.

Read-only by construction: the reader's store is opened behind a read-only
`WriteGate` and no route writes. Bound to 127.0.0.1 by default; any other
address requires a bearer token (from the environment or a Secret file, never
the command line, never logged). Each client address has a token-bucket rate
limit (429 with `Retry-After`), bodies are capped (a larger one is refused
unread with 400 INVALID_CONTEXT), and `/healthz` and Prometheus `/metrics`
(requests, latency, evaluations by reason, and the flag store's state as the
reader sees it: ready, stale since when, or reset; each flag's version and
whether it is on) are open for probes and scrapers.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from turnout.backend.errors import ConfigError
from turnout.backend.flags import ofrep
from turnout.backend.flags.listen import require_token_off_loopback
from turnout.backend.flags.reader import FlagReader, ReaderState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_JSON = "application/json"
_OPEN_PATHS = ("/healthz", "/metrics")


@dataclass(frozen=True)
class ServeOptions:
    """How the endpoint listens and what it accepts."""

    host: str = "127.0.0.1"
    port: int = 8016
    token: str = field(default="", repr=False)
    max_body: int = 64 * 1024
    rate: float = 1000.0
    """Requests per second per client address (the bucket refills at this rate)."""
    burst: int = 2000

    def check(self) -> None:
        """Refuse to listen beyond loopback without a token."""
        require_token_off_loopback(self.host, self.token, "OFREP")
        if self.max_body < 1 or self.rate <= 0 or self.burst < 1:
            raise ConfigError("--max-body, --rate and --burst must be positive")


class RateLimiter:
    """A token bucket per client address; the least recently seen are forgotten."""

    def __init__(self, rate: float, burst: int, clients: int = 10_000) -> None:
        self.rate, self.burst, self.clients = rate, burst, clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait_for(self, client: str, now: float | None = None) -> float:
        """0 when `client` may go now (one token taken), else seconds until it may."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        self._buckets[client] = (max(tokens - 1, 0.0) if tokens >= 1 else tokens, now)
        if len(self._buckets) > self.clients:
            self._buckets.popitem(last=False)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate


class Metrics:
    """The endpoint's Prometheus figures, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("turnout_ofrep_requests", "OFREP requests by route and status",
                                ("route", "status"), registry=self.registry)
        self.latency = Histogram("turnout_ofrep_request_seconds", "OFREP request latency by route",
                                 ("route",), registry=self.registry,
                                 buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5))
        self.evaluations = Counter("turnout_ofrep_evaluations", "flag evaluations by reason or error code",
                                   ("reason",), registry=self.registry)


class StoreState(Collector):
    """The reader's view of its store, read at each scrape: the state (`error` is a reset store:
    the old snapshot is served and writes are refused until the flags are restored), since when
    it is not ready, and per flag its version (the store adds one per write, so `changes()` over
    it counts flag changes whatever process made them) and whether it is on."""

    def __init__(self, reader: FlagReader) -> None:
        self.reader = reader

    def collect(self) -> Iterator[Metric]:
        store = self.reader.store.url
        state = GaugeMetricFamily("turnout_flag_store_state", "1 for the flag store's state as served "
                                  "(ready, stale, error: reset, not_ready)", labels=["store", "state"])
        for each in ReaderState:
            state.add_metric([store, each.value.lower()], 1 if self.reader.state == each else 0)
        yield state
        if self.reader.stale_since is not None:
            since = GaugeMetricFamily("turnout_flag_store_unready_since_timestamp_seconds",
                                      "Unix time since which the snapshot served is not fresh",
                                      labels=["store"])
            since.add_metric([store], self.reader.stale_since.timestamp())
            yield since
        version = GaugeMetricFamily("turnout_flag_version", "Each flag's version: one more per write",
                                    labels=["store", "flag"])
        on = GaugeMetricFamily("turnout_flag_on", "1 while the flag is on", labels=["store", "flag"])
        for key, flag in sorted(self.reader.evaluator.flagset.flags.items()):
            version.add_metric([store, key], flag.version)
            on.add_metric([store, key], 1 if flag.on else 0)
        yield from (version, on)


class OfrepApp:
    """The aiohttp application: routes, auth, limits and metrics around `ofrep`."""

    def __init__(self, reader: FlagReader, options: ServeOptions) -> None:
        options.check()
        self.reader = reader
        self.options = options
        self.metrics = Metrics()
        self.metrics.registry.register(StoreState(reader))
        self.limiter = RateLimiter(options.rate, options.burst)
        self.app = web.Application(client_max_size=options.max_body,
                                   middlewares=[self._guard])
        self.app.router.add_post("/ofrep/v1/evaluate/flags/{key}", self._one)
        self.app.router.add_post("/ofrep/v1/evaluate/flags", self._bulk)
        self.app.router.add_get("/healthz", self._healthz)
        self.app.router.add_get("/metrics", self._metrics)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "?"
        started = time.perf_counter()
        response = await self._checked(request, handler)
        self.metrics.requests.labels(route, str(response.status)).inc()
        self.metrics.latency.labels(route).observe(time.perf_counter() - started)
        return response

    async def _checked(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in _OPEN_PATHS:
            return await handler(request)
        # Limited before the token is checked, so guessing tokens costs the guesser too.
        wait = self.limiter.wait_for(request.remote or "?")
        if wait > 0:
            return _json(429, {"errorDetails": "rate limit reached"}, {"Retry-After": str(math.ceil(wait))})
        if self.options.token and not self._authorized(request):
            return _json(401, {"errorDetails": "a bearer token is required"},
                         {"WWW-Authenticate": 'Bearer realm="turnout-ofrep"'})
        try:
            return await handler(request)
        except web.HTTPException as exc:
            return _json(exc.status, {"errorDetails": exc.reason})

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            given = request.headers.get("X-API-Key", "")
        return hmac.compare_digest(given.strip().encode(), self.options.token.encode())

    async def _body(self, request: web.Request) -> bytes | None:
        length = request.content_length
        if length is not None and length > self.options.max_body:
            return None
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            return None

    def _too_large(self) -> str:
        return f"request body larger than {self.options.max_body} bytes"

    async def _one(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        body = await self._body(request)
        if body is None:
            answer = ofrep.Answer(400, {"key": key, "errorCode": ofrep.INVALID_CONTEXT,
                                        "errorDetails": self._too_large()})
        else:
            answer = ofrep.evaluate_one(self.reader, key, body)
        self._count(answer)
        return _json(answer.status, answer.encoded(), answer.headers, close=body is None)

    async def _bulk(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if body is None:
            failure = {"errorCode": ofrep.INVALID_CONTEXT, "errorDetails": self._too_large()}
            return _json(400, failure, close=True)
        answer, payload = ofrep.evaluate_bulk(self.reader, body, request.headers.get("If-None-Match"))
        self._count(answer)
        if answer.status == 304:
            return web.Response(status=304, headers=answer.headers)
        return _json(answer.status, payload, answer.headers)

    def _count(self, answer: ofrep.Answer) -> None:
        for reason in ofrep.reasons_of(answer):
            self.metrics.evaluations.labels(reason).inc()

    async def _healthz(self, request: web.Request) -> web.Response:
        state = self.reader.state
        body = {"status": str(state), "store": self.reader.store.url, "message": self.reader.message}
        return _json(503 if ofrep.not_loaded(self.reader) else 200, body)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=generate_latest(self.metrics.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})


def _json(status: int, body: object, headers: dict[str, str] | None = None, *,
          close: bool = False) -> web.Response:
    payload = body if isinstance(body, bytes) else ofrep.Answer(status, body).encoded()
    response = web.Response(status=status, body=payload, content_type=_JSON, headers=headers)
    if close:
        # The unread remainder of an oversized body must not be parsed as the next request.
        response.force_close()
    return response


async def serve(reader: FlagReader, options: ServeOptions,
                ready: Callable[[str], None] | None = None) -> None:
    """Serve until cancelled; `ready` gets the listening URL once bound."""
    endpoint = OfrepApp(reader, options)
    runner = web.AppRunner(endpoint.app, access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, options.host, options.port)
        await site.start()
        if ready is not None:
            ready(_url(runner, options))
        await _forever()
    finally:
        await runner.cleanup()


def _url(runner: web.AppRunner, options: ServeOptions) -> str:
    addresses = runner.addresses
    port = addresses[0][1] if addresses else options.port
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{host}:{port}"


async def _forever() -> None:
    await asyncio.Event().wait()
