"""Stopping background tasks without hanging.

A plain `task.cancel(); await task` hangs forever when the cancellation is
swallowed on the way: a client library that turns a cancel racing its own
read timeout into a `TimeoutError`, which a retry loop then treats as one
more transient failure. Closing a reader or an informer must never hang an
operator's console (or a test run), so cancellation is repeated until the
task ends, and after `patience` seconds the task is abandoned with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None, patience: float = 5.0) -> None:
    """Cancel `tasks` and wait until each has ended, re-cancelling any that swallowed it."""
    pending = {task for task in tasks if task is not None and not task.done()}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while pending:
        for task in pending:
            task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            names = ", ".join(sorted(task.get_name() for task in pending))
            log.warning("abandoning tasks that ignored cancellation: %s", names)
            return
        _, pending = await asyncio.wait(pending, timeout=min(0.5, remaining))
    for ended in tasks:
        if ended is not None and ended.done() and not ended.cancelled():
            with contextlib.suppress(Exception):
                ended.exception()  # retrieved, so asyncio does not log "never retrieved"
