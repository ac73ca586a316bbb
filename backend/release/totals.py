"""Every release an app ever finished, as counts: the truth behind the exported counters.

The release history keeps the latest `HISTORY_CAP` releases; these totals are kept beside it
(the same record, the same conditional write that appends a release), so they keep counting
after the history drops its oldest entries and are the same whichever process reads them.
Each release is added exactly once: appending it and counting it are one write, and a release
already in the history is neither appended nor counted again. An app whose history predates
the totals starts from the releases its history still holds (`fold`).

Pure: no I/O. Durations are seconds; histogram buckets are cumulative, as Prometheus's are.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from turnout.backend.release.model import Outcome, Release

OUTCOMES: tuple[Outcome, ...] = ("promoted", "rolled-back", "aborted", "failed")
DURATION_BUCKETS = (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0)
"""Deploy durations: the seed's target is under 10 minutes (600 s)."""
RESTORE_BUCKETS = (15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
"""Rollback and restore times: the seed's target is a rollback under 2 minutes (120 s)."""
LEAD_BUCKETS = (900.0, 3600.0, 4 * 3600.0, 86400.0, 3 * 86400.0, 7 * 86400.0, 30 * 86400.0)
"""Commit to promotion."""
MANUAL = "operator"
"""The trigger of a rollback no failing verdict explains (an operator's, or traffic moved back)."""


class Histogram(msgspec.Struct, frozen=True, kw_only=True):
    """Observations in cumulative buckets (`le` bounds; +Inf is `count`)."""

    bounds: tuple[float, ...]
    buckets: tuple[int, ...]
    count: int = 0
    sum: float = 0.0

    @classmethod
    def empty(cls, bounds: tuple[float, ...]) -> Histogram:
        return cls(bounds=bounds, buckets=(0,) * len(bounds))

    def observe(self, seconds: float | None) -> Histogram:
        """With one more observation (none when `seconds` is None or negative: not measured)."""
        if seconds is None or seconds < 0:
            return self
        buckets = tuple(n + (seconds <= bound) for n, bound in zip(self.buckets, self.bounds, strict=True))
        return Histogram(bounds=self.bounds, buckets=buckets, count=self.count + 1, sum=self.sum + seconds)


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    """One app's finished releases since its totals began."""

    namespace: str
    app: str
    outcomes: dict[str, int] = {}
    """Releases by outcome (`OUTCOMES`)."""
    rollbacks: dict[str, int] = {}
    """Rolled-back releases by trigger: the failing signals, comma-separated, or `operator`."""
    duration: Histogram = Histogram.empty(DURATION_BUCKETS)
    """Start to finish, every outcome."""
    restore: Histogram = Histogram.empty(RESTORE_BUCKETS)
    """Rolled back or aborted: from the first traffic on the new version to traffic restored."""
    rollback: Histogram = Histogram.empty(RESTORE_BUCKETS)
    """Rolled back: from the failing verdict to traffic restored (how fast Turnout acted)."""
    lead_time: Histogram = Histogram.empty(LEAD_BUCKETS)
    """Promoted releases that recorded a commit time: commit to promotion."""

    def add(self, release: Release) -> Totals:
        """These totals with `release` counted."""
        outcomes = {**self.outcomes, release.outcome: self.outcomes.get(release.outcome, 0) + 1}
        rollbacks = self.rollbacks
        if release.outcome == "rolled-back":
            trigger = trigger_of(release)
            rollbacks = {**rollbacks, trigger: rollbacks.get(trigger, 0) + 1}
        restored = release.outcome in ("rolled-back", "aborted")
        return msgspec.structs.replace(
            self, outcomes=outcomes, rollbacks=rollbacks,
            duration=self.duration.observe(_seconds(release.started_at, release.finished_at)),
            restore=self.restore.observe(_seconds(release.exposed_at, release.restored_at))
            if restored else self.restore,
            rollback=self.rollback.observe(_seconds(release.detected_at, release.restored_at))
            if release.outcome == "rolled-back" else self.rollback,
            lead_time=self.lead_time.observe(_seconds(release.commit_time, release.finished_at))
            if release.outcome == "promoted" else self.lead_time)


def fold(namespace: str, app: str, releases: Iterable[Release]) -> Totals:
    """Totals of `releases` (an app's history, when it has no totals yet)."""
    totals = Totals(namespace=namespace, app=app)
    for release in releases:
        totals = totals.add(release)
    return totals


def trigger_of(release: Release) -> str:
    """The signals whose failure rolled `release` back, sorted and comma-separated."""
    failed = sorted({v.signal for v in release.verdicts if v.outcome == "fail"})
    return ",".join(failed) or MANUAL


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start is not None and end is not None else None
