"""In-process stores: memory (the demo) and one JSON/YAML file (single machine).

Both keep the whole document — flags, segments and each flag's capped
history — and replace it as a unit, so a write is atomic by construction.
The file store writes a temp file and renames it over the old one, holds an
advisory lock across read-check-write so two processes cannot both win a
compare-and-set, and notices edits by polling the file's identity.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import msgspec

from turnout.backend.errors import Unavailable
from turnout.backend.flags.base import StoreBase
from turnout.backend.flags.codec import convert, flagset_from_obj, load_json, load_yaml, stored
from turnout.backend.flags.model import Flag, FlagSet, Segment
from turnout.backend.flags.store import HistoryEntry, Notice
from turnout.backend.gate import WriteGate


class Document(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a local store holds."""

    flagset: FlagSet = msgspec.field(default_factory=FlagSet)
    history: dict[str, tuple[HistoryEntry, ...]] = msgspec.field(default_factory=dict)


class LocalStore(StoreBase):
    """A store whose whole document is read and replaced at once."""

    def __init__(self, gate: WriteGate, history_cap: int = 50) -> None:
        super().__init__(gate, history_cap)
        self._listeners: set[asyncio.Queue[Notice]] = set()

    def _load(self) -> Document:
        raise NotImplementedError

    def _save(self, document: Document) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        yield

    async def snapshot(self) -> FlagSet:
        """The whole flag set."""
        return self._load().flagset

    async def _read_flag(self, key: str) -> Flag | None:
        return self._load().flagset.flags.get(key)

    async def _read_segment(self, key: str) -> Segment | None:
        return self._load().flagset.segments.get(key)

    async def _segment_keys(self) -> set[str]:
        return set(self._load().flagset.segments)

    async def history(self, key: str, limit: int = 20) -> list[HistoryEntry]:
        """The flag's latest writes, newest first."""
        return list(self._load().history.get(key, ()))[:limit]

    async def _cas_flag(self, expected: int | None, new: Flag, entry: HistoryEntry) -> Flag | None:
        with self._locked():
            doc = self._load()
            current = doc.flagset.flags.get(new.key)
            if (None if current is None else current.version) != expected:
                return current
            flags = {**doc.flagset.flags, new.key: new}
            entries = ((entry, *doc.history.get(new.key, ())))[: self.history_cap]
            history = {**doc.history, new.key: entries}
            flagset = msgspec.structs.replace(doc.flagset, flags=flags)
            self._save(Document(flagset=flagset, history=history))
        self._notify(Notice("flag", new.key, new.version))
        return None

    async def _cas_segment(self, expected: int | None, new: Segment) -> Segment | None:
        with self._locked():
            doc = self._load()
            current = doc.flagset.segments.get(new.key)
            if (None if current is None else current.version) != expected:
                return current
            segments = {**doc.flagset.segments, new.key: new}
            flagset = msgspec.structs.replace(doc.flagset, segments=segments)
            self._save(Document(flagset=flagset, history=doc.history))
        self._notify(Notice("segment", new.key, new.version))
        return None

    def _notify(self, notice: Notice) -> None:
        for queue in self._listeners:
            queue.put_nowait(notice)

    async def watch(self) -> AsyncIterator[Notice]:
        """Notices of writes made through this store object."""
        queue: asyncio.Queue[Notice] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.discard(queue)


class MemoryStore(LocalStore):
    """Flags in this process only: the demo and tests."""

    def __init__(self, gate: WriteGate | None = None, flagset: FlagSet | None = None) -> None:
        super().__init__(gate or WriteGate())
        self.url = "memory://"
        self._document = Document(flagset=flagset or FlagSet())

    def _load(self) -> Document:
        return self._document

    def _save(self, document: Document) -> None:
        self.gate.check("write memory flag store")
        self._document = document


class FileStore(LocalStore):
    """One JSON or YAML file (by suffix); a missing file is an empty store."""

    def __init__(self, path: Path, gate: WriteGate, poll_seconds: float = 0.25) -> None:
        super().__init__(gate)
        self.path = path
        self.url = f"file://{path}"
        self.poll_seconds = poll_seconds
        self._yaml = path.suffix in (".yaml", ".yml")

    def _load(self) -> Document:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return Document()
        except OSError as exc:
            raise Unavailable(f"cannot read {self.path}: {exc.strerror}") from exc
        what = str(self.path)
        obj = load_yaml(raw, what) if self._yaml else load_json(raw, what)
        history = convert((obj or {}).get("history") or {}, dict[str, tuple[HistoryEntry, ...]], "history")
        return Document(flagset=flagset_from_obj(obj, what), history=history)

    def _save(self, document: Document) -> None:
        self.gate.check(f"write {self.path}")
        data: dict[str, Any] = stored(document.flagset)
        data["history"] = stored(document.history)
        if self._yaml:
            import yaml  # here, not at import: the demo's flags and JSON stores never need it

            text = yaml.safe_dump(data, sort_keys=False)
        else:
            text = msgspec.json.format(msgspec.json.encode(data), indent=2).decode()
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            # mkstemp makes the file 0600: keep the mode the operator gave the store.
            os.fchmod(fd, self._mode())
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _mode(self) -> int:
        """The store file's permission bits, or what a new file gets under the umask."""
        try:
            return stat.S_IMODE(self.path.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            return 0o666 & ~umask

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.path.with_name(f".{self.path.name}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _identity(self) -> tuple[int, int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    async def watch(self) -> AsyncIterator[Notice]:
        """A notice whenever the file is replaced or edited, by anyone."""
        seen = self._identity()
        while True:
            await asyncio.sleep(self.poll_seconds)
            current = self._identity()
            if current != seen:
                seen = current
                yield Notice("file", str(self.path), 0)
