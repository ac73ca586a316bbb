"""Pod health, pure: from a wire pod (and what the cache saw) to a domain `Pod`.

Restarts in the last five minutes come from restartCount changes the watch
cache observed; a one-shot read estimates them from the restart counts, the pod's
age and the last termination times, and the larger of the two is reported.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from turnout.backend.kube import wire
from turnout.backend.models import Color, Pod

WINDOW = timedelta(minutes=5)
RestartSample = tuple[datetime, int]
"""(when seen, total restartCount of the pod)."""


def total_restarts(pod: wire.Pod) -> int:
    """restartCount summed over the pod's containers."""
    return sum(c.restart_count for c in pod.status.container_statuses)


def estimated_recent_restarts(pod: wire.Pod, now: datetime) -> int:
    """Restarts within the window from one snapshot of the pod.

    A pod younger than the window restarted that often within it. In an older pod, a
    container whose last run ended within the window is still restarting: its restarts
    are spread evenly over the pod's life (at least the one that ended recently).
    """
    started = pod.status.start_time
    if started is not None and now - started <= WINDOW:
        return total_restarts(pod)
    age = (now - started) if started is not None else None
    count = 0
    for c in pod.status.container_statuses:
        ended = c.last_state.terminated.finished_at if c.last_state.terminated else None
        if ended is None or now - ended > WINDOW:
            continue
        share = math.ceil(c.restart_count * (WINDOW / age)) if age else 1
        count += min(c.restart_count, max(share, 1)) if c.restart_count else 1
    return count


def observed_recent_restarts(history: Sequence[RestartSample], now: datetime) -> int:
    """Restarts the cache saw happen within the window (samples oldest first)."""
    if not history:
        return 0
    baseline = history[0][1]
    for seen, count in history:
        if now - seen > WINDOW:
            baseline = count
    return history[-1][1] - baseline


def waiting_reason(pod: wire.Pod) -> str:
    """The first container waiting reason (CrashLoopBackOff, ImagePullBackOff...)."""
    return next((c.state.waiting.reason for c in pod.status.container_statuses
                 if c.state.waiting and c.state.waiting.reason), "")


def started_at(pod: wire.Pod) -> datetime | None:
    """When the pod's latest container started, else when the pod did."""
    running = [c.state.running.started_at for c in pod.status.container_statuses
               if c.state.running and c.state.running.started_at]
    return max(running) if running else pod.status.start_time


def is_ready(pod: wire.Pod) -> bool:
    """The pod's Ready condition; a pod being deleted is never ready."""
    if pod.metadata.deletion_timestamp is not None:
        return False
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def pod_record(pod: wire.Pod, color: Color, now: datetime,
               history: Sequence[RestartSample] = ()) -> Pod:
    """The domain record of one pod."""
    recent = max(estimated_recent_restarts(pod, now), observed_recent_restarts(history, now))
    phase = "Terminating" if pod.metadata.deletion_timestamp else pod.status.phase or "Pending"
    return Pod(name=pod.metadata.name, color=color, phase=phase, ready=is_ready(pod),
               restarts=total_restarts(pod), restarts_5m=recent,
               waiting_reason=waiting_reason(pod), started_at=started_at(pod),
               node=pod.spec.node_name)
