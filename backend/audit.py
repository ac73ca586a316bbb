"""The audit trail: one JSON line per mutation in the XDG state directory."""

from __future__ import annotations

import getpass
import logging
import os
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import msgspec
import platformdirs

from turnout.backend.errors import TurnoutError
from turnout.backend.models import App, AuditEntry
from turnout.backend.ports import AuditEvents, ClusterPort

log = logging.getLogger(__name__)


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


class Auditor:
    """Who is acting, and the record of every write made on their behalf: a line in the
    `AuditLog` and, where the cluster keeps one (`AuditEvents`), an Event on the app."""

    def __init__(self, log_: AuditLog, cluster: ClusterPort, identity: str,
                 clock: Callable[[], datetime]) -> None:
        self.log = log_
        self.cluster = cluster
        self.identity = identity or os_user()
        self._resolved = bool(identity)
        self.clock = clock

    async def who(self) -> str:
        """The acting identity: the API server's view of us where it can tell, else ours."""
        if not self._resolved:
            self._resolved = True
            ask = getattr(self.cluster, "identity", None)
            if ask is not None:
                try:
                    self.identity = await ask() or self.identity
                except TurnoutError as err:
                    log.warning("identity unknown to the server (%s); auditing as %s", err,
                                self.identity)
        return self.identity

    async def app_write(self, app: App, action: str, before: dict[str, object],
                        after: dict[str, object], *, reason: str, dry_run: bool) -> AuditEntry:
        """Record a write to `app` (a dry run too, marked; only a real one becomes an Event)."""
        entry = await self._entry(app.context, app.namespace, app.name, action, before, after,
                                  reason, dry_run)
        if not dry_run and isinstance(self.cluster, AuditEvents):
            await self.cluster.record_audit(app, entry)
        return entry

    async def store_write(self, app: str, action: str, before: dict[str, object],
                          after: dict[str, object], *, reason: str) -> AuditEntry:
        """Record a write to a store beside the cluster (a flag's), in this context."""
        return await self._entry(self.cluster.context, "", app, action, before, after, reason,
                                 False)

    async def _entry(self, context: str, namespace: str, app: str, action: str,
                     before: dict[str, object], after: dict[str, object], reason: str,
                     dry_run: bool) -> AuditEntry:
        entry = AuditEntry(at=self.clock(), who=await self.who(), os_user=os_user(),
                           context=context, namespace=namespace, app=app, action=action,
                           before=before, after=after, reason=reason,
                           operation_id=uuid.uuid4().hex[:12], dry_run=dry_run)
        try:
            self.log.record(entry)
        except OSError as err:
            log.error("audit log %s not writable: %s", self.log.path, err)
        return entry
