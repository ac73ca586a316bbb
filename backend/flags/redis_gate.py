"""Read-only mode for Redis, enforced where commands are packed for the wire.

redis-py packs every command — single calls, pipelines, transactions, Lua
scripts, pub/sub — through `Connection.pack_command`, so a connection class
that refuses anything outside a list of read commands makes read-only mode
true for every code path of the Redis store, including ones that forget to
ask the gate themselves.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.connection import Connection, SSLConnection

from turnout.backend.gate import WriteGate

READ_COMMANDS = frozenset(
    {
        b"GET", b"MGET", b"HGET", b"HGETALL", b"HKEYS", b"HMGET", b"LRANGE", b"LLEN",
        b"EXISTS", b"INFO", b"PING", b"ECHO", b"HELLO", b"AUTH", b"SELECT", b"CLIENT",
        b"MULTI", b"EXEC", b"DISCARD", b"WATCH", b"UNWATCH", b"SUBSCRIBE",
        b"UNSUBSCRIBE", b"PSUBSCRIBE", b"PUNSUBSCRIBE",
    }
)  # fmt: skip
"""Commands that never change data; every other command must pass the gate."""


class _GatedMixin:
    """Checks each outgoing command against the write gate before packing it."""

    write_gate: WriteGate

    def pack_command(self, *args: Any) -> list[bytes]:
        head = args[0]
        name = (head.encode() if isinstance(head, str) else head).split(b" ", 1)[0].upper()
        if name not in READ_COMMANDS:
            self.write_gate.check(f"redis {name.decode(errors='replace')}")
        packed: list[bytes] = super().pack_command(*args)  # type: ignore[misc]
        return packed


class GatedConnection(_GatedMixin, Connection):
    """A plain TCP connection behind the write gate."""

    def __init__(self, *, write_gate: WriteGate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.write_gate = write_gate


class GatedSSLConnection(_GatedMixin, SSLConnection):
    """A TLS (`rediss://`) connection behind the write gate."""

    def __init__(self, *, write_gate: WriteGate, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.write_gate = write_gate
