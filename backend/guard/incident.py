"""Incident reports: the timeline of a trip, as Markdown and JSON in the state directory."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import msgspec
import platformdirs

from turnout.backend.models import Color, Verdict
from turnout.backend.sanitize import inert


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    """What happened, when, measured against what."""

    id: str
    app: str
    namespace: str
    context: str
    color: Color
    """The color that failed."""
    action: str
    """`rollback`, `none: no safe target`, `would roll back (read-only)` or `rollback failed: …`."""
    first_bad_at: datetime
    detected_at: datetime
    action_at: datetime | None = None
    restored_at: datetime | None = None
    """When the failed color was seen with no traffic left (None: not restored)."""
    triggers: tuple[Verdict, ...] = ()
    """The failing verdicts at detection."""
    first_bad: tuple[Verdict, ...] = ()
    """The first bad measurement of each failing trigger (before it failed)."""
    stable: tuple[Verdict, ...] = ()
    """The stable color's verdicts when the guard decided whether to roll back into it."""
    flags_killed: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    by: str = ""
    """Who acted: the guard (with its replica's identity) or the deploy flow."""
    runbook: str = ""
    """The configured runbook link for this app, if any."""
    dashboard: str = ""
    """The configured dashboard link for this app, if any."""

    @property
    def seconds_to_detect(self) -> float:
        """From the first bad measurement to detection."""
        return (self.detected_at - self.first_bad_at).total_seconds()

    @property
    def seconds_to_restore(self) -> float | None:
        """From the first bad measurement to traffic restored, if it was."""
        return (self.restored_at - self.first_bad_at).total_seconds() if self.restored_at else None


def incidents_dir() -> Path:
    """`$TURNOUT_STATE_DIR/incidents`, else the platform's user state directory."""
    root = os.environ.get("TURNOUT_STATE_DIR") or platformdirs.user_state_dir("turnout")
    return Path(root) / "incidents"


def markdown(incident: Incident) -> str:
    """The report an operator pastes into the incident channel."""
    lines = [f"# Incident {incident.id}: {_safe(incident.namespace)}/{_safe(incident.app)} "
             f"({_safe(incident.context)})", "",
             f"**{incident.color}** failed; action: **{_safe(incident.action)}**.", "",
             "## Timeline", "", *_timeline(incident), "", "## Measurements", "",
             "| color | signal | verdict | value | threshold | source | detail |",
             "|---|---|---|---|---|---|---|",
             *(_row(v) for v in incident.triggers + incident.stable)]
    if incident.by:
        lines += ["", f"Acted: {_safe(incident.by)}"]
    links = [f"- {text}: {_safe(url)}" for text, url in (("runbook", incident.runbook),
                                                         ("dashboard", incident.dashboard)) if url]
    if links:
        lines += ["", "## Links", "", *links]
    if incident.flags_killed:
        lines += ["", "Flags turned off: " + ", ".join(_safe(k) for k in incident.flags_killed)]
    if incident.notes:
        lines += ["", "## Notes", "", *(f"- {_safe(note)}" for note in incident.notes)]
    return "\n".join(lines) + "\n"


def _timeline(incident: Incident) -> list[str]:
    def at(when: datetime | None) -> str:
        return when.isoformat() if when else "—"

    first = "; ".join(_reading(v) for v in incident.first_bad)
    found = "; ".join(_reading(v) for v in incident.triggers)
    offset = incident.seconds_to_restore
    return [f"- first bad measurement: {at(incident.first_bad_at)}" + (f" — {first}" if first else ""),
            f"- detected: {at(incident.detected_at)} (+{incident.seconds_to_detect:.1f} s) — {found}",
            f"- action: {at(incident.action_at)} — {_safe(incident.action)}",
            f"- traffic restored: {at(incident.restored_at)}"
            + (f" (+{offset:.1f} s after the first bad measurement)" if offset is not None else "")]


def _reading(v: Verdict) -> str:
    return f"{v.signal} {_num(v.value)} vs {_num(v.threshold)} ({_safe(v.detail)})"


def _row(v: Verdict) -> str:
    cells = (v.color, v.signal, v.outcome, _num(v.value), _num(v.threshold), _safe(v.source),
             _safe(v.detail))
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _safe(text: str) -> str:
    return inert(text, single_line=True)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def write(incident: Incident, folder: Path | None = None) -> Path:
    """Write `<id>.json` and `<id>.md` (each replaced whole, never half-written); return the .md."""
    folder = folder or incidents_dir()
    folder.mkdir(parents=True, exist_ok=True)
    _replace(folder / f"{incident.id}.json", msgspec.json.encode(incident))
    path = folder / f"{incident.id}.md"
    _replace(path, markdown(incident).encode())
    return path


def _replace(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.replace(path)


def latest(app: str, namespace: str, folder: Path | None = None, *,
           context: str | None = None) -> Incident | None:
    """The app's newest incident report, if any (ids start with the detection time); with
    `context`, only that cluster's (the demo's `search` is not the lab's)."""
    folder = folder or incidents_dir()
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob(f"*-{app}-*.json"), reverse=True):
        try:
            found = msgspec.json.decode(path.read_bytes(), type=Incident)
        except (OSError, msgspec.DecodeError):
            continue
        if found.namespace == namespace and found.app == app and context in (None, found.context):
            return found
    return None
