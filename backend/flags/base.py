"""The store verbs written once over a handful of primitives.

Each concrete store (memory, file, Redis) supplies an atomic compare-and-set
of one record plus its history entry (`_cas_flag`), and reads; validation,
version stamping, the audit entry, the kill switch and revert live here so
every store behaves the same.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

import msgspec

from turnout.backend.errors import NotFound, ReadOnly
from turnout.backend.flags.model import Flag, FlagSet, Segment
from turnout.backend.flags.store import (
    HistoryEntry,
    Notice,
    action_of,
    check_version,
    entry_for,
    reverted,
    stamp,
    stamp_segment,
)
from turnout.backend.flags.validate import validate_flag, validate_segment
from turnout.backend.gate import WriteGate


class StoreBase(ABC):
    """Common behaviour of the stores that hold flags themselves."""

    url: str = ""

    def __init__(self, gate: WriteGate, history_cap: int = 50) -> None:
        self.gate = gate
        self.history_cap = history_cap

    # --- primitives ---------------------------------------------------------

    @abstractmethod
    async def snapshot(self) -> FlagSet:
        """The whole flag set in one round trip."""

    @abstractmethod
    async def _read_flag(self, key: str) -> Flag | None: ...

    @abstractmethod
    async def _read_segment(self, key: str) -> Segment | None: ...

    @abstractmethod
    async def _segment_keys(self) -> set[str]: ...

    @abstractmethod
    async def _cas_flag(self, expected: int | None, new: Flag, entry: HistoryEntry) -> Flag | None:
        """Store `new` and `entry` if the stored version is `expected`; else return
        the current record (None on success)."""

    @abstractmethod
    async def _cas_segment(self, expected: int | None, new: Segment) -> Segment | None: ...

    @abstractmethod
    async def history(self, key: str, limit: int = 20) -> list[HistoryEntry]:
        """The flag's latest writes, newest first."""

    @abstractmethod
    def watch(self) -> AsyncIterator[Notice]:
        """Change notices; raises `Unavailable` when cut off."""

    async def close(self) -> None:  # noqa: B027 - stores without connections need nothing
        """Nothing to release by default."""

    # --- verbs --------------------------------------------------------------

    async def list(self) -> list[Flag]:
        """Every flag, sorted by key."""
        flagset = await self.snapshot()
        return [flagset.flags[k] for k in sorted(flagset.flags)]

    async def get(self, key: str) -> Flag:
        """One flag; `NotFound` if absent."""
        flag = await self._read_flag(key)
        if flag is None:
            raise NotFound(f"flag {key!r} not found in {self.url}")
        return flag

    async def get_segment(self, key: str) -> Segment:
        """One segment; `NotFound` if absent."""
        segment = await self._read_segment(key)
        if segment is None:
            raise NotFound(f"segment {key!r} not found in {self.url}")
        return segment

    async def put(self, flag: Flag, *, expected_version: int | None, by: str, reason: str) -> Flag:
        """Compare-and-set write; returns the stored flag (version bumped)."""
        return await self._write(flag, expected_version, by, reason, None)

    async def _write(
        self, flag: Flag, expected: int | None, by: str, reason: str, action: str | None
    ) -> Flag:
        self.gate.check(f"write flag {flag.key!r}")
        # Rules may only name segments that exist; the keys are enough to check that.
        names = await self._segment_keys() if flag.rules else set()
        segments = {k: Segment(key=k) for k in names}
        validate_flag(flag, segments, f"flags.{flag.key}")
        current = await self._read_flag(flag.key)
        check_version(flag.key, current, expected)
        if current is not None and current.read_only and action != "import":
            raise ReadOnly(f"flag {flag.key!r} is read-only in Turnout ({current.read_only}); "
                           "replace it with `turnout flags import`")
        new = stamp(flag, current, by)
        entry = entry_for(current, new, action or action_of(current, new), reason)
        loser = await self._cas_flag(expected, new, entry)
        if loser is not None:
            check_version(flag.key, loser, expected)
        return new

    async def set_enabled(self, key: str, on: bool, *, by: str, reason: str) -> Flag:
        """The kill switch: turn a flag on or off (CAS on the version just read)."""
        current = await self.get(key)
        changed = msgspec.structs.replace(current, on=on)
        return await self._write(changed, current.version, by, reason, "on" if on else "off")

    async def revert(self, key: str, *, by: str, reason: str) -> Flag:
        """Restore the content the latest write replaced."""
        target = reverted(await self.history(key, 1), key)
        current = await self.get(key)
        return await self._write(target, current.version, by, reason, "revert")

    async def put_segment(
        self, segment: Segment, *, expected_version: int | None, by: str, reason: str
    ) -> Segment:
        """Compare-and-set write of a reusable segment."""
        self.gate.check(f"write segment {segment.key!r}")
        validate_segment(segment, f"segments.{segment.key}")
        current = await self._read_segment(segment.key)
        check_version(segment.key, current, expected_version)
        new = stamp_segment(segment, current)
        loser = await self._cas_segment(expected_version, new)
        if loser is not None:
            check_version(segment.key, loser, expected_version)
        return new

    async def import_flagset(self, flagset: FlagSet, *, by: str, reason: str) -> int:
        """Write every segment then every flag of `flagset` over what is there."""
        for segment in flagset.segments.values():
            old = await self._read_segment(segment.key)
            version = None if old is None else old.version
            await self.put_segment(segment, expected_version=version, by=by, reason=reason)
        for flag in flagset.flags.values():
            old_flag = await self._read_flag(flag.key)
            expected = None if old_flag is None else old_flag.version
            await self._write(flag, expected, by, reason, "import")
        return len(flagset.flags)
