"""The flag port: what every store (Redis, file, memory, LaunchDarkly) offers.

Writes are compare-and-set on the record's `version`: `put(flag,
expected_version=N)` succeeds only if the stored version is still N (None
means "must not exist yet") and stores version N+1. The loser of a race gets
`Conflict` whose `detail` is the current record as JSON. Readers never ask a
store per request: they take a `snapshot()` (one round trip) and `watch()`
for change notices — see `reader.py`.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal, Protocol, runtime_checkable

import msgspec

from turnout.backend.errors import Conflict, InvalidInput, NotFound, Unavailable
from turnout.backend.flags.codec import encode
from turnout.backend.flags.model import Flag, FlagSet, Segment

Action = Literal["create", "update", "on", "off", "revert", "import"]


class HistoryEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One write to a flag, for audit and one-step revert."""

    flag: str
    version: int
    by: str
    at: datetime
    action: str
    reason: str = ""
    before: Flag | None = None
    after: Flag | None = None


class Notice(msgspec.Struct, frozen=True):
    """A change notice: `kind` flag/segment/reset, the key and its new version."""

    kind: str
    key: str
    version: int


@runtime_checkable
class FlagStore(Protocol):
    """A place flags live. Every write passes the store's `WriteGate`."""

    url: str
    """Where the store is, safe to print (no credentials)."""

    async def snapshot(self) -> FlagSet:
        """The whole flag set in one round trip; `Unavailable` if unreachable."""
        ...

    async def list(self) -> builtins.list[Flag]:
        """Every flag, sorted by key."""
        ...

    async def get(self, key: str) -> Flag:
        """One flag; `NotFound` if absent."""
        ...

    async def put(self, flag: Flag, *, expected_version: int | None, by: str, reason: str) -> Flag:
        """Compare-and-set write; returns the stored flag (version bumped)."""
        ...

    async def set_enabled(self, key: str, on: bool, *, by: str, reason: str) -> Flag:
        """The kill switch: turn a flag on or off (CAS on the version just read)."""
        ...

    async def put_segment(
        self, segment: Segment, *, expected_version: int | None, by: str, reason: str
    ) -> Segment:
        """Compare-and-set write of a reusable segment."""
        ...

    async def history(self, key: str, limit: int = 20) -> builtins.list[HistoryEntry]:
        """The flag's latest writes, newest first."""
        ...

    async def revert(self, key: str, *, by: str, reason: str) -> Flag:
        """Undo the latest write to `key` (itself recorded in the history)."""
        ...

    def watch(self) -> AsyncIterator[Notice]:
        """Change notices as they happen; raises `Unavailable` when cut off."""
        ...

    async def close(self) -> None:
        """Release connections and watchers."""
        ...


def now() -> datetime:
    """Timestamps are UTC, to the millisecond."""
    return datetime.now(UTC).replace(microsecond=datetime.now(UTC).microsecond // 1000 * 1000)


def check_version(key: str, current: Flag | Segment | None, expected: int | None) -> None:
    """Raise `Conflict` (carrying the current record) or `NotFound` on a CAS miss."""
    found = None if current is None else current.version
    if found == expected:
        return
    if current is None:
        raise NotFound(f"flag {key!r} does not exist (expected version {expected})")
    if expected is None:
        raise Conflict(f"{key!r} already exists (version {found})", detail=encode(current).decode())
    raise Conflict(
        f"{key!r} changed: version is {found}, expected {expected}; re-read and retry",
        detail=encode(current).decode(),
    )


def stamp(flag: Flag, previous: Flag | None, by: str) -> Flag:
    """The record to store: next version, who and when."""
    version = 1 if previous is None else previous.version + 1
    return msgspec.structs.replace(flag, version=version, updated_by=by, updated_at=now())


def stamp_segment(segment: Segment, previous: Segment | None) -> Segment:
    """The segment to store, with its next version."""
    version = 1 if previous is None else previous.version + 1
    return msgspec.structs.replace(segment, version=version)


def entry_for(before: Flag | None, after: Flag, action: str, reason: str) -> HistoryEntry:
    """The audit record of the write from `before` to `after`."""
    return HistoryEntry(
        flag=after.key,
        version=after.version,
        by=after.updated_by,
        at=after.updated_at or now(),
        action=action,
        reason=reason,
        before=before,
        after=after,
    )


def reverted(entries: list[HistoryEntry], key: str) -> Flag:
    """The content to restore for a one-step revert of `key`."""
    if not entries:
        raise NotFound(f"flag {key!r} has no history to revert")
    before = entries[0].before
    if before is None:
        raise InvalidInput(f"flag {key!r}: the latest write created it; nothing to revert to")
    return before


def _content(flag: Flag) -> Flag:
    return msgspec.structs.replace(flag, version=0, updated_by="", updated_at=None)


def action_of(before: Flag | None, after: Flag) -> str:
    """Name a write for the history: create, on, off or update."""
    if before is None:
        return "create"
    if before.on != after.on and _content(msgspec.structs.replace(before, on=after.on)) == _content(after):
        return "on" if after.on else "off"
    return "update"


class StoreReset(Unavailable):
    """The store lost its data (restart without persistence, flush): never "no flags"."""

    title = "Flag store was reset"
