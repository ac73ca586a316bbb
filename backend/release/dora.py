"""Delivery figures from the release history, pure: the four DORA keys plus two of Turnout's.

Definitions (README: "Deploying a release"):
- deployment frequency: promoted releases per day over the window;
- lead time: commit time to promotion, for releases that recorded a commit time;
- change failure rate: (rolled back + aborted) / (promoted + rolled back + aborted);
  "failed" (Turnout could not carry the flow out) is not a verdict on the change;
- time to restore: from the first traffic on the new version to traffic restored;
- rollback time: from the failing verdict to traffic restored (how fast Turnout acted);
- success rate: promoted / every finished release.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import msgspec

from turnout.backend.release.model import Release


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """A duration across releases, in seconds."""

    count: int
    median: float | None
    p90: float | None
    mean: float | None


class Dora(msgspec.Struct, frozen=True, kw_only=True):
    """Delivery figures over one window."""

    since: datetime
    until: datetime
    days: float
    app: str | None
    namespace: str | None
    releases: int
    outcomes: dict[str, int]
    deployment_frequency_per_day: float
    lead_time: Figure
    change_failure_rate: float | None
    time_to_restore: Figure
    rollback_time: Figure
    success_rate: float | None


def figure(values: Sequence[float]) -> Figure:
    """Median, 90th percentile and mean of `values` (None when empty)."""
    if not values:
        return Figure(count=0, median=None, p90=None, mean=None)
    ordered = sorted(values)
    p90 = statistics.quantiles(ordered, n=10, method="inclusive")[-1] if len(ordered) > 1 else ordered[0]
    return Figure(count=len(ordered), median=statistics.median(ordered), p90=p90,
                  mean=statistics.fmean(ordered))


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start is not None and end is not None else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def dora(releases: Sequence[Release], *, since: datetime, until: datetime,
         app: str | None = None, namespace: str | None = None) -> Dora:
    """The figures of the releases that finished within [since, until]."""
    window = [r for r in releases if since <= r.finished_at <= until
              and app in (None, r.app) and namespace in (None, r.namespace)]
    counts = Counter(r.outcome for r in window)
    promoted = [r for r in window if r.outcome == "promoted"]
    failures = counts["rolled-back"] + counts["aborted"]
    restored = [r for r in window if r.outcome in ("rolled-back", "aborted")]
    days = max((until - since).total_seconds() / 86400, 1 / 24)
    lead = [_seconds(r.commit_time, r.finished_at) for r in promoted]
    restore = [_seconds(r.exposed_at, r.restored_at) for r in restored]
    rollback = [_seconds(r.detected_at, r.restored_at) for r in restored if r.outcome == "rolled-back"]
    return Dora(
        since=since, until=until, days=days, app=app, namespace=namespace, releases=len(window),
        outcomes={k: counts[k] for k in ("promoted", "rolled-back", "aborted", "failed")},
        deployment_frequency_per_day=len(promoted) / days,
        lead_time=figure([s for s in lead if s is not None and s >= 0]),
        change_failure_rate=_ratio(failures, len(promoted) + failures),
        time_to_restore=figure([s for s in restore if s is not None]),
        rollback_time=figure([s for s in rollback if s is not None]),
        success_rate=_ratio(len(promoted), len(window)))
