"""The reader: evaluates flags from an in-process snapshot kept fresh by notices.

An application never asks the store per request. `FlagReader` loads the
whole flag set once, recompiles it on every change notice, and reloads at the
latest after `ttl` seconds in case a notice was lost. When the store goes
away it keeps serving the last snapshot, marked STALE with since-when, and
retries; a store reset is reported as ERROR while the old snapshot stays in
service — losing Redis must never turn every flag off.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

from turnout.backend.errors import Unavailable
from turnout.backend.flags.evaluate import Context, Evaluation, Evaluator
from turnout.backend.flags.model import FlagSet
from turnout.backend.flags.store import FlagStore, StoreReset, now
from turnout.backend.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class ReaderState(StrEnum):
    """Health of the snapshot a reader serves."""

    NOT_READY = "NOT_READY"
    READY = "READY"
    STALE = "STALE"
    ERROR = "ERROR"


Listener = Callable[[ReaderState, list[str], str], None]
"""Called with the state, the flag keys that changed, and a message."""


class FlagReader:
    """Serves `evaluate`/`is_enabled` from a live snapshot of one store."""

    def __init__(self, store: FlagStore, *, ttl: float = 300.0, retry_seconds: float = 1.0) -> None:
        self.store = store
        self.ttl = ttl
        self.retry_seconds = retry_seconds
        self.evaluator = Evaluator(FlagSet())
        self.state = ReaderState.NOT_READY
        self.stale_since: datetime | None = None
        self.message = ""
        self.listeners: list[Listener] = []
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    # --- the application's calls (sync, no I/O) ------------------------------

    def evaluate(self, key: str, context: Context) -> Evaluation:
        """One flag for one context, from the current snapshot."""
        return self.evaluator.evaluate(key, context)

    def evaluate_all(self, context: Context) -> list[Evaluation]:
        """Every flag for one context."""
        return self.evaluator.evaluate_all(context)

    def is_enabled(self, key: str, context: Context) -> bool:
        """True when the flag resolves to `True` for this context."""
        return self.evaluator.evaluate(key, context).value is True

    # --- lifecycle -----------------------------------------------------------

    async def start(self) -> None:
        """Load the first snapshot (errors are reported, not raised) and follow changes."""
        await self._try_refresh()
        self._task = asyncio.create_task(self._run(), name=f"flag-reader {self.store.url}")

    async def close(self) -> None:
        """Stop following the store."""
        self._closing = True
        await cancel_and_wait(self._task)

    async def refresh(self) -> None:
        """Reload the snapshot now; raises `Unavailable` (or `StoreReset`)."""
        flagset = await self.store.snapshot()
        old = self.evaluator.flagset
        self.evaluator = Evaluator(flagset)
        changed = sorted(
            k for k in flagset.flags.keys() | old.flags.keys() if flagset.flags.get(k) != old.flags.get(k)
        )
        if flagset.segments != old.segments:
            changed = sorted(flagset.flags)
        recovered = self.state != ReaderState.READY
        self._set(ReaderState.READY, "", changed if changed or recovered else None)

    async def _try_refresh(self) -> bool:
        try:
            await self.refresh()
        except StoreReset as exc:
            log.error("%s", exc)
            self._set(ReaderState.ERROR, exc.message, [])
            return False
        except Unavailable as exc:
            self._set(ReaderState.STALE, exc.message, [])
            return False
        return True

    def _set(self, state: ReaderState, message: str, changed: list[str] | None) -> None:
        if state == ReaderState.READY:
            self.stale_since = None
        elif self.stale_since is None:
            self.stale_since = now()
        if changed is None and state == self.state:
            return
        self.state, self.message = state, message
        for listener in self.listeners:
            listener(state, changed or [], message)

    async def _run(self) -> None:
        while not self._closing:
            try:
                await self._follow()
            except Unavailable as exc:
                self._set(ReaderState.STALE, exc.message, [])
            await asyncio.sleep(self.retry_seconds)
            await self._try_refresh()

    async def _follow(self) -> None:
        """Refresh on each notice, or after `ttl` without one."""
        changed = asyncio.Event()

        async def pump() -> None:
            async for _ in self.store.watch():
                changed.set()

        pumping = asyncio.create_task(pump())
        try:
            while True:
                waiter = asyncio.create_task(changed.wait())
                done, _ = await asyncio.wait(
                    {waiter, pumping}, timeout=self.ttl, return_when=asyncio.FIRST_COMPLETED
                )
                waiter.cancel()
                if pumping in done:
                    pumping.result()
                    raise Unavailable(f"change notices from {self.store.url} stopped")
                changed.clear()
                if not await self._try_refresh() and self.state == ReaderState.STALE:
                    raise Unavailable(self.message)
        finally:
            await cancel_and_wait(pumping, patience=2.0)
