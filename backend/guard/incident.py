"""Incident reports: the timeline of an automatic rollback, as Markdown and JSON."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import msgspec
import platformdirs

from turnout.backend.models import Verdict
from turnout.backend.sanitize import inert


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    """What happened, when, measured against what."""

    id: str
    app: str
    namespace: str
    context: str
    color: str
    """The color that failed."""
    action: str
    """`rollback`, `none: no safe target`, or `would roll back (read-only)`."""
    first_bad_at: datetime
    detected_at: datetime
    action_at: datetime | None = None
    restored_at: datetime | None = None
    triggers: tuple[Verdict, ...] = ()
    stable: tuple[Verdict, ...] = ()
    flags_killed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def seconds_to_detect(self) -> float:
        return (self.detected_at - self.first_bad_at).total_seconds()

    @property
    def seconds_to_restore(self) -> float | None:
        return (self.restored_at - self.first_bad_at).total_seconds() if self.restored_at else None


def incidents_dir() -> Path:
    root = os.environ.get("TURNOUT_STATE_DIR") or platformdirs.user_state_dir("turnout")
    return Path(root) / "incidents"


def markdown(incident: Incident) -> str:
    """The report an operator pastes into the incident channel."""
    rows = [f"| {v.color} | {v.signal} | {v.outcome} | {_num(v.value)} | {_num(v.threshold)} | "
            f"{inert(v.source, single_line=True)} |" for v in incident.triggers + incident.stable]
    timeline = [("first bad measurement", incident.first_bad_at), ("detected", incident.detected_at),
                ("action", incident.action_at), ("traffic restored", incident.restored_at)]
    lines = [f"# Incident {incident.id}: {incident.namespace}/{incident.app} ({incident.context})", "",
             f"**{incident.color}** failed; action: **{incident.action}**.", "", "## Timeline", ""]
    lines += [f"- {what}: {at.isoformat() if at else '—'}" for what, at in timeline]
    lines += ["", "## Measurements", "", "| color | signal | verdict | value | threshold | source |",
              "|---|---|---|---|---|---|", *rows]
    if incident.flags_killed:
        lines += ["", "Flags turned off: " + ", ".join(incident.flags_killed)]
    lines += [f"- {inert(note, single_line=True)}" for note in incident.notes]
    return "\n".join(lines) + "\n"


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def write(incident: Incident, folder: Path | None = None) -> Path:
    """Write `<id>.json` and `<id>.md`; return the Markdown path."""
    folder = folder or incidents_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{incident.id}.json").write_bytes(msgspec.json.encode(incident))
    path = folder / f"{incident.id}.md"
    path.write_text(markdown(incident))
    return path


def latest(app: str, namespace: str, folder: Path | None = None) -> Incident | None:
    """The app's newest incident report, if any (ids sort by time)."""
    folder = folder or incidents_dir()
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob(f"*-{app}-*.json"), reverse=True):
        try:
            found = msgspec.json.decode(path.read_bytes(), type=Incident)
        except (OSError, msgspec.DecodeError):
            continue
        if found.namespace == namespace and found.app == app:
            return found
    return None
