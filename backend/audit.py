"""The audit trail: one JSON line per mutation in the XDG state directory."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import msgspec
import platformdirs

from turnout.backend.models import AuditEntry


def default_audit_path() -> Path:
    """`$TURNOUT_STATE_DIR/audit.jsonl`, or the XDG state directory's."""
    root = os.environ.get("TURNOUT_STATE_DIR") or platformdirs.user_state_dir("turnout")
    return Path(root) / "audit.jsonl"


def os_user() -> str:
    """The operating-system user running Turnout."""
    try:
        return getpass.getuser()
    except OSError:
        return f"uid:{os.getuid()}"


class AuditLog:
    """Appends `AuditEntry` records; an entry never holds credentials by construction."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_audit_path()

    def record(self, entry: AuditEntry) -> None:
        """Append one entry as a JSON line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as out:
            out.write(msgspec.json.encode(entry) + b"\n")

    def tail(self, limit: int = 50) -> tuple[AuditEntry, ...]:
        """The last `limit` entries, oldest first."""
        if not self.path.exists():
            return ()
        lines = self.path.read_bytes().splitlines()[-limit:]
        return tuple(msgspec.json.decode(line, type=AuditEntry) for line in lines if line)
