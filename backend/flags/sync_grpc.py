"""`turnout flags sync --to grpc://HOST:PORT`: flagd's gRPC sync service, pushed from the store.

flagd providers in in-process mode (`resolverType: 'in-process'` with a host and
port) open `flagd.sync.v1.FlagSyncService/SyncFlags`, a server stream, and evaluate
locally from the flag-definition document it carries. Each stream gets the current
document at once and then every changed one the moment the `FlagReader` loads it
(the store's change notices: Redis pub/sub), so a kill switch reaches the
application with no polling on either side. `FetchAllFlags` answers the current
document; the deprecated `GetMetadata` an empty one.

Read-only like the OFREP server: the reader's store is opened behind a read-only gate
and no method writes. Bound to 127.0.0.1 by default; any other address needs a token,
sent as `authorization: Bearer <token>` metadata or as the request's `provider_id`
(the field the protocol names for authentication). While no snapshot has loaded,
streams are refused with UNAVAILABLE rather than served an empty flag set; while the
store is unreachable they keep the last document, as the flagd file does. The
selector is accepted and ignored: one store is one flag set.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from turnout.backend.errors import ConfigError
from turnout.backend.flags.listen import require_token_off_loopback
from turnout.backend.flags.ofrep import not_loaded
from turnout.backend.flags.reader import FlagReader, ReaderState
from turnout.backend.flags.sync import render
from turnout.backend.flags.sync_wire import (
    SERVICE,
    SyncRequest,
    WireError,
    decode_request,
    encode_configuration,
    encode_metadata,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GrpcSyncOptions:
    """Where the sync service listens and the token it asks for."""

    host: str = "127.0.0.1"
    port: int = 8015
    token: str = field(default="", repr=False)

    def check(self) -> None:
        """Refuse to listen beyond loopback without a token (as the OFREP server does)."""
        require_token_off_loopback(self.host, self.token, "flagd sync")


def _decode(data: bytes) -> SyncRequest | None:
    try:
        return decode_request(data)
    except WireError:
        return None


class FlagdSyncService:
    """The three methods over one reader; every open stream follows the same document."""

    def __init__(self, reader: FlagReader, options: GrpcSyncOptions) -> None:
        options.check()
        self.reader = reader
        self.options = options
        self.document: bytes | None = None
        self._next = asyncio.Event()

    def publish(self) -> None:
        """Render the reader's snapshot; wake every stream when it differs from the last."""
        if not_loaded(self.reader) is not None:
            return
        document = render(self.reader.evaluator.flagset)
        if document == self.document:
            return
        self.document = document
        woken, self._next = self._next, asyncio.Event()
        woken.set()

    def _on_reader(self, state: ReaderState, changed: list[str], message: str) -> None:
        if state == ReaderState.READY:
            self.publish()
        else:
            log.warning("flag store %s: %s; sync streams keep the last good flags", state, message)

    def handler(self) -> grpc.GenericRpcHandler:
        """The service's methods, with protobuf (de)serialization by `sync_wire`."""
        same: Callable[[bytes], bytes] = bytes
        return grpc.method_handlers_generic_handler(SERVICE, {
            "SyncFlags": grpc.unary_stream_rpc_method_handler(
                self._sync_flags, request_deserializer=_decode, response_serializer=same),
            "FetchAllFlags": grpc.unary_unary_rpc_method_handler(
                self._fetch_all, request_deserializer=_decode, response_serializer=same),
            "GetMetadata": grpc.unary_unary_rpc_method_handler(
                self._metadata, request_deserializer=_decode, response_serializer=same),
        })

    async def _admit(self, request: SyncRequest | None, context: Any) -> bytes:
        """The document to send, or the call aborted (bad request, no token, nothing loaded)."""
        if request is None:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "malformed request")
        assert request is not None
        if self.options.token and not self._authorized(request, context):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a bearer token is required")
        if self.document is None:
            why = not_loaded(self.reader) or "flag store not loaded"
            await context.abort(grpc.StatusCode.UNAVAILABLE, why)
        assert self.document is not None
        return self.document

    def _authorized(self, request: SyncRequest, context: Any) -> bool:
        token = self.options.token.encode()
        metadata = dict(context.invocation_metadata() or ())
        scheme, _, given = str(metadata.get("authorization", "")).partition(" ")
        by_header = scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)
        return by_header or hmac.compare_digest(request.provider_id.encode(), token)

    async def _sync_flags(self, request: SyncRequest | None, context: Any) -> AsyncIterator[bytes]:
        sent = await self._admit(request, context)
        yield encode_configuration(sent)
        while True:
            woken = self._next
            if self.document is not None and self.document != sent:
                # Only the newest document goes out: a slow reader skips what it missed.
                sent = self.document
                yield encode_configuration(sent)
                continue
            await woken.wait()

    async def _fetch_all(self, request: SyncRequest | None, context: Any) -> bytes:
        return encode_configuration(await self._admit(request, context))

    async def _metadata(self, request: SyncRequest | None, context: Any) -> bytes:
        await self._admit(SyncRequest() if request is None else request, context)
        return encode_metadata()

    async def run(self, ready: Callable[[str], None] | None = None) -> None:
        """Listen until cancelled (the reader must be started); `ready` gets the bound URL."""
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((self.handler(),))
        address = f"[{self.options.host}]" if ":" in self.options.host else self.options.host
        try:
            port = server.add_insecure_port(f"{address}:{self.options.port}")
        except RuntimeError as exc:
            raise ConfigError(f"cannot listen on {address}:{self.options.port}: {exc}") from exc
        self.reader.listeners.append(self._on_reader)
        self.publish()
        await server.start()
        try:
            if ready is not None:
                ready(f"grpc://{address}:{port}")
            await server.wait_for_termination()
        finally:
            self.reader.listeners.remove(self._on_reader)
            # Open streams end UNAVAILABLE/CANCELLED: the providers reconnect elsewhere or later.
            await server.stop(grace=1.0)
