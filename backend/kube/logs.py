"""Recent log lines of a color's pods, read through the API server (pods/{name}/log).

The guard only counts error lines, but log text is written by whoever runs in the
pod: every line is made inert and cut to a bounded length here, at the boundary,
so no caller can pass it to a terminal raw.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from turnout.backend.errors import NotFound
from turnout.backend.kube.http import KubeHttp
from turnout.backend.models import Pod
from turnout.backend.sanitize import inert

MAX_PODS = 20
"""Pods read per call: a sample is enough for a rate, and a large color must not
turn one guard check into hundreds of requests."""
LINE_CHARS = 2000
"""Characters kept of one line (a rate needs the words, not a megabyte of JSON)."""


def readable(pods: Sequence[Pod]) -> list[Pod]:
    """Pods whose container has started on a node, by name, at most `MAX_PODS`.

    A pending pod has no log yet; the kubelet would answer 400 for it.
    """
    started = [p for p in pods if p.node and p.phase != "Pending"]
    return sorted(started, key=lambda p: p.name)[:MAX_PODS]


async def pod_tail(http: KubeHttp, namespace: str, pod: str, limit: int,
                   container: str = "") -> list[str]:
    """The last `limit` lines of one pod's log (of `container`, which a pod with sidecars
    needs); none when the pod is gone meanwhile."""
    path = f"/api/v1/namespaces/{namespace}/pods/{pod}/log"
    query = {"tailLines": str(limit), "timestamps": "false"}
    if container:
        query["container"] = container
    try:
        body = await http.get(path, query)
    except NotFound:
        return []
    text = body.decode(errors="replace")
    return [inert(line, single_line=True)[:LINE_CHARS] for line in text.splitlines()]


def recent_lines(per_pod: Sequence[Sequence[str]], limit: int) -> list[str]:
    """Up to `limit` lines, the newest of each pod first in turn (each pod's in order).

    Logs read without timestamps cannot be merged by time; taking them in turn
    from every pod's end gives each pod an equal share, and pods with more lines
    fill what quieter ones leave.
    """
    taken = [0] * len(per_pod)
    remaining = max(limit, 0)
    while remaining:
        before = remaining
        for i, lines in enumerate(per_pod):
            if remaining and taken[i] < len(lines):
                taken[i] += 1
                remaining -= 1
        if remaining == before:
            break
    return [line for lines, n in zip(per_pod, taken, strict=True) if n for line in lines[-n:]]


async def color_log_lines(http: KubeHttp, namespace: str, pods: Sequence[Pod],
                          limit: int) -> list[str]:
    """The most recent `limit` lines across `pods`; the first error of any read is raised."""
    if limit <= 0:
        return []
    reads = await asyncio.gather(*(pod_tail(http, namespace, p.name, limit)
                                   for p in readable(pods)), return_exceptions=True)
    for read in reads:
        if isinstance(read, BaseException):
            raise read
    return recent_lines([r for r in reads if not isinstance(r, BaseException)], limit)
