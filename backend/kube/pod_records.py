"""Domain `Pod` records kept between reads, so an unchanged pod costs a dict lookup.

A refresh reads every pod of the watch cache; at 10 000 pods under churn, rebuilding each
record on every refresh is most of the frame. A record depends on the wire pod (named by
its uid and resourceVersion), its color and, only for a pod that restarted or whose
container ended recently, on the clock and the restart history: those are computed afresh
on every read, every other record is reused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from turnout.backend.kube import wire
from turnout.backend.kube.health import RestartSample, pod_record, total_restarts
from turnout.backend.models import Color, Pod

Key = tuple[str, Color]


def timeless(pod: wire.Pod, history: Sequence[RestartSample]) -> bool:
    """Whether `pod_record` of this pod is the same at any clock: no restart seen or
    counted, no container that ended (so both restart estimates are 0 whatever `now`)."""
    if len(history) > 1 or total_restarts(pod):
        return False
    return all(c.last_state.terminated is None for c in pod.status.container_statuses)


class PodRecords:
    """A cache of `Pod` records by (uid, color), each valid for one resourceVersion.

    Records of pods no longer read are dropped once as many reads were made since the last
    sweep as records are kept: a read of part of the pods (one namespace) does not empty it.
    """

    def __init__(self) -> None:
        self._kept: dict[Key, tuple[str, Pod]] = {}
        self._read: set[Key] = set()
        self._reads = 0

    def record(self, pod: wire.Pod, color: Color, now: datetime,
               history: Sequence[RestartSample]) -> Pod:
        """`pod_record(pod, color, now, history)`, reused when nothing it reads changed."""
        meta = pod.metadata
        key = (meta.uid, color)
        found = self._kept.get(key)
        # A kept record is of a timeless pod; the history grows only as restartCount does,
        # which changes the resourceVersion, so one sample is still all there is.
        if found is not None and found[0] == meta.resource_version and len(history) <= 1:
            self._read.add(key)
            self._reads += 1
            return found[1]
        record = pod_record(pod, color, now, history)
        if meta.uid and meta.resource_version and timeless(pod, history):
            self._kept[key] = (meta.resource_version, record)
            self._read.add(key)
            self._reads += 1
        return record

    def sweep(self) -> None:
        """End one read: forget the records of pods not read since the last sweep."""
        if self._reads >= len(self._kept):
            if len(self._read) < len(self._kept):
                self._kept = {k: v for k, v in self._kept.items() if k in self._read}
            self._read, self._reads = set(), 0
