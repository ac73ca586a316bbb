"""The Redis flag store: CAS writes in Lua, pub/sub change notices, capped history.

Layout under a prefix (default `turnout:flags`): hashes `:flags` and
`:segments` (key -> JSON), `:meta` (`epoch`, a random id set by the first
write), lists `:history:<flag>` and the channel `:changes`.

A write is one Lua script: compare the stored version, store the record,
push the history entry, trim it, publish the notice — atomic on the server,
so a concurrent writer never loses an update. A snapshot is one MULTI round
trip. A missing `epoch` means the data is gone (a restart without
persistence, a FLUSHDB) or was never there: that is `StoreReset`, never an
empty flag set, for readers and writers alike. Every write is refused on the
server (the script checks the epoch) until an operator restores the flags
with `import_flagset` (the epoch is set once every record is in) or
explicitly accepts the empty store with `accept_empty` (audited in `:audit`).
A new store is initialised the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import msgspec
import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from turnout.backend.errors import NotFound, Unavailable
from turnout.backend.flags.base import StoreBase
from turnout.backend.flags.codec import decode_flag, decode_segment, encode
from turnout.backend.flags.model import Flag, FlagSet, Segment
from turnout.backend.flags.redis_gate import GatedConnection, GatedSSLConnection
from turnout.backend.flags.store import HistoryEntry, Notice, StoreReset, now
from turnout.backend.flags.validate import validate_flagset
from turnout.backend.gate import WriteGate

log = logging.getLogger(__name__)

CAS_SCRIPT = """
if ARGV[8] ~= '1' and not redis.call('HGET', KEYS[3], 'epoch') then return {2, ''} end
local current = redis.call('HGET', KEYS[1], ARGV[1])
local version = -1
if current then version = tonumber(cjson.decode(current)['version']) end
if version ~= tonumber(ARGV[2]) then return {0, current or ''} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[4])
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[5]) - 1)
end
redis.call('PUBLISH', ARGV[6], ARGV[7])
return {1, ''}
"""

INIT_SCRIPT = """
if redis.call('HGET', KEYS[1], 'epoch') then return 0 end
redis.call('HSET', KEYS[1], 'epoch', ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[2], 0, 99)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
"""

_CLOSE_SECONDS = 2.0
_REDIS_ERRORS = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def safe_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


class RedisStore(StoreBase):
    """Flags in Redis, for many readers across processes and machines."""

    def __init__(self, url: str, gate: WriteGate, *, timeout: float = 2.0) -> None:
        super().__init__(gate)
        self.url = safe_url(url)
        self.timeout = timeout
        query = parse_qs(urlsplit(url).query)
        self.prefix = query.get("prefix", ["turnout:flags"])[0]
        self.channel = f"{self.prefix}:changes"
        self.epoch: str | None = None
        self.run_id: str | None = None
        tls = url.startswith("rediss://")
        self._redis: aioredis.Redis = aioredis.Redis.from_url(
            url.split("?", 1)[0],
            connection_class=GatedSSLConnection if tls else GatedConnection,
            write_gate=gate,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # One immediate retry reconnects a pooled connection after a server
            # restart; beyond that, fail fast: readers keep their snapshot and
            # writers report Unavailable rather than hang.
            retry=Retry(NoBackoff(), 1),
        )
        self._cas = self._redis.register_script(CAS_SCRIPT)
        self._init = self._redis.register_script(INIT_SCRIPT)
        self._restoring = False
        """True while `import_flagset` restores a reset store: its reads and writes proceed."""

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        try:
            yield
        except _REDIS_ERRORS as exc:
            raise Unavailable(f"{self.url} unreachable while {what}: {exc}") from exc
        except redis_errors.RedisError as exc:
            raise Unavailable(f"{self.url} refused {what}: {exc}") from exc

    @contextlib.asynccontextmanager
    async def _bounded(self, what: str) -> AsyncIterator[None]:
        """One request and its retry, all within the request timeout."""
        try:
            async with asyncio.timeout(self.timeout):
                with self._translated(what):
                    yield
        except TimeoutError as exc:
            raise Unavailable(f"{self.url} unreachable while {what}: no answer within "
                              f"{self.timeout:g}s") from exc

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    async def snapshot(self) -> FlagSet:
        """All flags and segments in one MULTI round trip; checks for a reset."""
        async with self._bounded("loading flags"), self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._key("flags"))
            pipe.hgetall(self._key("segments"))
            pipe.hget(self._key("meta"), "epoch")
            pipe.info("server")
            flags, segments, epoch, info = await pipe.execute()
        self._check_epoch(_text(epoch) if epoch else None, str(info.get("run_id", "")))
        return validate_flagset(
            FlagSet(
                flags={k.decode(): decode_flag(v, f"flags.{k.decode()}") for k, v in flags.items()},
                segments={
                    k.decode(): decode_segment(v, f"segments.{k.decode()}") for k, v in segments.items()
                },
            )
        )

    def _check_epoch(self, epoch: str | None, run_id: str) -> None:
        restarted = self.run_id is not None and run_id != self.run_id
        self.run_id = run_id
        if epoch is None:
            raise self._reset("Redis restarted (run_id changed)" if restarted else "no flag index")
        if self.epoch is not None and epoch != self.epoch:
            log.warning("flag store %s was re-initialised (epoch %s -> %s)", self.url, self.epoch, epoch)
        self.epoch = epoch

    def _reset(self, why: str) -> StoreReset:
        return StoreReset(
            f"flag store {self.url} was reset: {why}, {self._key('meta')} is missing; refusing to "
            "read this as 'no flags' or to write over it. Restore with `turnout flags import FILE`, "
            "or accept the empty store with `turnout flags accept-empty`."
        )

    async def _checked(self, what: str, table: str, command: str, *args: str | int) -> Any:
        """One read of `table`, refused as a reset when the flag index is gone."""
        async with self._bounded(what), self._redis.pipeline(transaction=True) as pipe:
            getattr(pipe, command)(self._key(table), *args)
            pipe.hget(self._key("meta"), "epoch")
            result, epoch = await pipe.execute()
        if epoch is None and not self._restoring:
            raise self._reset("no flag index")
        return result

    async def _read_flag(self, key: str) -> Flag | None:
        raw = await self._checked(f"reading flag {key!r}", "flags", "hget", key)
        return None if raw is None else decode_flag(raw, f"flags.{key}")

    async def _read_segment(self, key: str) -> Segment | None:
        raw = await self._checked(f"reading segment {key!r}", "segments", "hget", key)
        return None if raw is None else decode_segment(raw, f"segments.{key}")

    async def _segment_keys(self) -> set[str]:
        keys = await self._checked("reading segments", "segments", "hkeys")
        return {_text(k) for k in keys}

    async def import_flagset(self, flagset: FlagSet, *, by: str, reason: str) -> int:
        """Write every record of `flagset`, then mark the store whole: this is how a reset
        store is restored. Until the last record is in, readers still see a reset."""
        self.gate.check(f"import flags into {self.url}")
        self._restoring = True
        try:
            count = await super().import_flagset(flagset, by=by, reason=reason)
        finally:
            self._restoring = False
        await self._initialise("import", by, f"{reason} ({count} flags)".strip())
        return count

    async def accept_empty(self, *, by: str, reason: str) -> bool:
        """The operator's explicit "this store is meant to be empty" after a reset (or for a
        new store): writes are allowed again and readers serve what is there. Audited in
        `:audit`. False when the store was not reset (nothing changed)."""
        self.gate.check(f"accept the empty flag store {self.url}")
        accepted = await self._initialise("accept-empty", by, reason)
        if accepted:
            log.info("flag store %s: %s accepted it as it is (%s)", self.url, by, reason)
        return accepted

    async def _initialise(self, action: str, by: str, reason: str) -> bool:
        entry = {"action": action, "by": by, "reason": reason, "at": now().isoformat()}
        args: list[bytes | str] = [secrets.token_hex(8), encode(entry), self.channel,
                                   encode(Notice("reset", action, 0))]
        async with self._bounded(f"marking {self.url} initialised"):
            done = await self._init(keys=[self._key("meta"), self._key("audit")], args=args)
        return bool(done)

    async def audit(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest restores and acceptances of this store, newest first."""
        async with self._bounded("reading the store's audit"):
            raw = await self._redis.lrange(self._key("audit"), 0, limit - 1)
        return [msgspec.json.decode(item) for item in raw]

    async def _eval_cas(
        self,
        table: str,
        key: str,
        expected: int | None,
        record: Any,
        entry: HistoryEntry | None,
        notice: Notice,
    ) -> bytes | None:
        keys = [self._key(table), self._key(f"history:{key}"), self._key("meta")]
        args: list[bytes | str | int] = [
            key, -1 if expected is None else expected, encode(record),
            b"" if entry is None else encode(entry), self.history_cap, self.channel,
            encode(notice), "1" if self._restoring else "0",
        ]  # fmt: skip
        async with self._bounded(f"writing {key!r}"):
            ok, current = await self._cas(keys=keys, args=args)
        if ok == 2:
            raise self._reset("no flag index")
        if ok:
            return None
        if not current:
            raise NotFound(f"{key!r} no longer exists in {self.url} (expected version {expected})")
        return bytes(current)

    async def _cas_flag(self, expected: int | None, new: Flag, entry: HistoryEntry) -> Flag | None:
        notice = Notice("flag", new.key, new.version)
        current = await self._eval_cas("flags", new.key, expected, new, entry, notice)
        return None if current is None else decode_flag(current, f"flags.{new.key}")

    async def _cas_segment(self, expected: int | None, new: Segment) -> Segment | None:
        notice = Notice("segment", new.key, new.version)
        current = await self._eval_cas("segments", new.key, expected, new, None, notice)
        return None if current is None else decode_segment(current, f"segments.{new.key}")

    async def history(self, key: str, limit: int = 20) -> list[HistoryEntry]:
        """The flag's latest writes, newest first."""
        raw = await self._checked(f"reading history of {key!r}", f"history:{key}", "lrange", 0, limit - 1)
        return [msgspec.json.decode(item, type=HistoryEntry) for item in raw]

    async def watch(self) -> AsyncIterator[Notice]:
        """Notices from every writer, and a `subscribed` notice each time the server confirms
        the subscription: at the start, and after redis-py quietly reconnected and subscribed
        again. The reader reloads on it, so no write falls between two subscriptions."""
        pubsub = self._redis.pubsub()
        try:
            with self._translated("subscribing to changes"):
                await pubsub.subscribe(self.channel)
            deadline = asyncio.get_running_loop().time() + self.timeout * 4 + 1
            confirmed = False
            while True:
                with self._translated("waiting for changes"):
                    message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    if not confirmed and asyncio.get_running_loop().time() > deadline:
                        raise Unavailable(f"{self.url} did not confirm the subscription to "
                                          f"{self.channel} within {self.timeout * 4 + 1:g}s")
                elif message["type"] == "subscribe":
                    confirmed = True
                    yield Notice("subscribed", self.channel, 0)
                elif message["type"] == "message":
                    yield msgspec.json.decode(message["data"], type=Notice)
        finally:
            # Bounded: closing must not wait on a connection stuck mid-reconnect.
            with contextlib.suppress(*_REDIS_ERRORS, redis_errors.RedisError, TimeoutError):
                async with asyncio.timeout(_CLOSE_SECONDS):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        """Close the connection pool (bounded, like the watch's own close)."""
        with contextlib.suppress(*_REDIS_ERRORS, redis_errors.RedisError, TimeoutError):
            async with asyncio.timeout(_CLOSE_SECONDS):
                await self._redis.aclose()
