"""When the long-running guard evaluates which app: one task per app at a fixed rate (not
interval + time spent), the app list looked up again each interval when no names were given.
A slow, hanging or broken app delays only itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from turnout.backend.errors import TurnoutError

if TYPE_CHECKING:
    from turnout.backend.guard.engine import Evaluation, Guard

log = logging.getLogger(__name__)
Target = tuple[str, str | None]
QUIET = ("ok", "wait", "unknown", "already alerted")
"""Decisions not worth a log line."""


async def guard_apps(guard: Guard, names: list[str], namespace: str | None, stop: asyncio.Event,
                     on_result: Callable[[Evaluation], None] | None = None) -> None:
    """Run one evaluation loop per app until `stop`; start and stop loops as apps come and go."""
    tasks: dict[Target, asyncio.Task[None]] = {}
    try:
        while not stop.is_set():
            targets = await _targets(guard, names, namespace, list(tasks))
            for target in targets:
                if target not in tasks or tasks[target].done():
                    tasks[target] = asyncio.create_task(_app_loop(guard, *target, stop, on_result))
            for gone in set(tasks) - set(targets):
                tasks.pop(gone).cancel()
            guard.guarding = len(tasks)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), guard.settings.interval)
    finally:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)


async def _targets(guard: Guard, names: list[str], namespace: str | None,
                   current: list[Target]) -> list[Target]:
    if names:
        return [(name, namespace) for name in names]
    try:
        found = await guard.service.cluster.list_apps(namespace)
    except TurnoutError as err:
        log.warning("guard: apps not listed: %s", err)
        return current
    return [(app.name, app.namespace) for app in found]


async def _app_loop(guard: Guard, name: str, namespace: str | None, stop: asyncio.Event,
                    on_result: Callable[[Evaluation], None] | None) -> None:
    last = ""
    while not stop.is_set():
        started = time.monotonic()
        result = await guard.check(name, namespace)
        if result.decision != last and result.decision not in QUIET:
            log.warning("guard on %s/%s: %s (%s)", result.namespace, name, result.decision,
                        "; ".join(f"{v.signal} {v.outcome}" for v in result.verdicts
                                  if v.outcome in ("fail", "error")))
        last = result.decision
        if on_result is not None:
            on_result(result)
        pause = max(0.0, guard.settings.interval - (time.monotonic() - started))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
