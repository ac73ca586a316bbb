"""Times as operators read them, shared by the CLI tables and the TUI."""

from __future__ import annotations

from datetime import datetime, timedelta


def age(since: datetime | None, now: datetime) -> str:
    """kubectl-style age: 45s, 12m, 3h, 2d; `-` when unknown."""
    if since is None:
        return "-"
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def age_changes_at(since: datetime | None, now: datetime) -> datetime:
    """The first moment after `now` at which `age(since, ...)` reads differently, so a view
    of many ages redraws only when one of them would change."""
    if since is None:
        return datetime.max.replace(tzinfo=now.tzinfo)
    seconds = max(0, int((now - since).total_seconds()))
    size = next((s for s in (86400, 3600, 60) if seconds >= s), 1)
    return since + timedelta(seconds=(seconds // size + 1) * size)
