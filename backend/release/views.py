"""Plain-data views of flows and releases: the JSON schema of the CLI, and what the TUI renders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from turnout.backend.release.durations import format_duration
from turnout.backend.release.model import Flow, Release


def _verdicts(flow_or_release: Flow | Release) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(v) for v in flow_or_release.verdicts]


def flow_view(flow: Flow, now: datetime) -> dict[str, Any]:
    """A flow in flight: where it is, what it saw, what comes next."""
    stage = flow.stage
    return {
        "id": flow.id, "app": flow.app, "namespace": flow.namespace, "version": flow.version,
        "image": flow.image, "strategy": flow.strategy, "steps": list(flow.steps),
        "from": flow.old, "to": flow.new, "status": flow.status,
        "stage": stage.describe() if stage else None, "step": flow.at + 1,
        "of": len(flow.stages), "next": [s.describe() for s in flow.upcoming],
        "in_stage_seconds": round((now - flow.stage_started).total_seconds(), 1),
        "verdicts": _verdicts(flow), "outcome": flow.outcome, "cause": flow.cause or None,
        "abort_requested": flow.abort_requested, "driver": flow.driver,
        "heartbeat": msgspec.to_builtins(flow.heartbeat), "by": flow.by,
        "started_at": msgspec.to_builtins(flow.started_at),
        "scale_down": flow.scale_down or None,
    }


def release_view(release: Release) -> dict[str, Any]:
    """One recorded release with its duration."""
    data: dict[str, Any] = msgspec.to_builtins(release)
    data["duration_seconds"] = round((release.finished_at - release.started_at).total_seconds(), 1)
    return data


def release_line(release: Release) -> str:
    """One line for a terminal: what happened to which version, and why."""
    took = format_duration((release.finished_at - release.started_at).total_seconds())
    head = f"{release.app} {release.version} {release.outcome} in {took}"
    if release.outcome == "promoted":
        return f"{head}: {release.to_color} live with all traffic"
    where = f" at {release.stage}" if release.stage else ""
    return f"{head}{where}: {release.reason}; {release.from_color} live with all traffic"
