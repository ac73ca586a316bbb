"""`turnout flags sync`: keep a flagd flag-definition file current from the store.

For applications that evaluate in-process with a flagd provider reading an
offline file (a sidecar sharing it through an emptyDir). A `FlagReader`
follows the store; every snapshot it loads is exported and, when the JSON
differs from what the file holds, written beside the target and renamed over
it: a reader of the file sees the old document or the new one, never half.
While the store is unreachable the file keeps the last good document, and the
sync says so on stderr rather than write anything it did not read.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from turnout.backend.errors import ConfigError
from turnout.backend.flags.flagd_export import export_flagd
from turnout.backend.flags.model import FlagSet
from turnout.backend.flags.reader import FlagReader, ReaderState

log = logging.getLogger(__name__)


_EXPECTED = "expected file:///absolute/path/flags.json or grpc://HOST:PORT"


def target_path(url: str) -> Path:
    """The file a `file:///path/flags.json` target names."""
    parts = urlsplit(url)
    if parts.scheme != "file" or not parts.path or parts.netloc not in ("", "localhost"):
        raise ConfigError(f"--to {url!r}: {_EXPECTED}")
    return Path(unquote(parts.path))


def grpc_address(url: str) -> tuple[str, int]:
    """The (host, port) a `grpc://HOST:PORT` target listens on (port 0: any free port)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "grpc" or not parts.hostname or port is None or parts.path not in ("", "/") \
            or parts.query or parts.username:
        raise ConfigError(f"--to {url!r}: {_EXPECTED}")
    return parts.hostname, port


def render(flagset: FlagSet) -> bytes:
    """The flagd document, byte-stable for the same flag set (so unchanged means unwritten)."""
    return (json.dumps(export_flagd(flagset), indent=2, sort_keys=True) + "\n").encode()


def replace_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file in `path`'s folder, flush it to disk, rename it over `path`."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class FlagdFileSync:
    """Writes the reader's snapshot to `path` each time it changes."""

    def __init__(self, reader: FlagReader, path: Path) -> None:
        self.reader = reader
        self.path = path
        self.writes = 0
        self.changed = asyncio.Event()
        self._last: bytes | None = path.read_bytes() if path.exists() else None

    def write_now(self) -> bool:
        """Export the current snapshot; True when the file was replaced."""
        data = render(self.reader.evaluator.flagset)
        if data == self._last:
            return False
        replace_atomically(self.path, data)
        self._last = data
        self.writes += 1
        return True

    def _on_reader(self, state: ReaderState, changed: list[str], message: str) -> None:
        if state == ReaderState.READY:
            self.changed.set()
        else:
            log.warning("flag store %s: %s; %s keeps the last good flags", state, message, self.path)

    async def run(self) -> None:
        """Follow the reader until cancelled (the reader must be started)."""
        self.reader.listeners.append(self._on_reader)
        try:
            if self.reader.state == ReaderState.READY:
                self.write_now()
            while True:
                await self.changed.wait()
                self.changed.clear()
                self.write_now()
        finally:
            self.reader.listeners.remove(self._on_reader)
