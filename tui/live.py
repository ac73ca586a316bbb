"""The TUI's reads of the cluster: the first read before the first frame, refreshes one at a
time and paced, one reader per context, and the change stream that asks for them.

Workers read and post facts (`AppsRefreshed`, `ContextRefreshed`, `RefreshFailed`); the app's
handlers own the state they carry. Nothing here touches a widget.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING

from turnout.backend.errors import TurnoutError
from turnout.backend.models import App
from turnout.tui.messages import AppsRefreshed, ContextRefreshed, RefreshFailed

if TYPE_CHECKING:
    from turnout.tui.app import TurnoutApp

FIRST_READ_WAIT = 0.25
"""Seconds the first screen waits for the first read of the apps before showing without them."""
REFRESH_PACE = 0.25
"""Seconds at least between the starts of two back-to-back refreshes: under a watch's churn
(100 pod changes a second) refreshes would otherwise run end to end and keep the event loop
from painting and answering keys. A refresh after a quiet spell starts at once."""
RECONNECT_MIN = 0.5
RECONNECT_MAX = 10.0
"""Seconds between attempts to re-open the change stream, doubling up to this."""


class LiveReads:
    """Reads `app.service` (or each of `app.contexts`) for `app`, whose handlers show them."""

    def __init__(self, app: TurnoutApp) -> None:
        self.app = app
        self._pending: bool | None = None
        """None: no refresh in flight; False: one is; True: and another was asked for."""
        self._reading: dict[str, bool] = {}
        """Contexts with a read in flight, and whether another was asked for meanwhile."""
        self._stream: AsyncIterator[tuple[str, str]] | None = None
        """The change stream opened before the first read (see `first`)."""
        self._first_pending: asyncio.Future[tuple[App, ...]] | None = None
        """A first read still running when the overview is first drawn."""
        self.first_landed = asyncio.Event()
        """Set once the first read of the apps has come back, with apps or an error."""

    async def first(self) -> tuple[App, ...] | None:
        """The apps, if the first read lands within `FIRST_READ_WAIT`: the first frame then
        shows them (laid out once) rather than an empty table. A slower read goes on once the
        app is mounted (`first_goes_on`)."""
        app = self.app
        if app.live and app.contexts is None:
            # Opened first: over a watch cache its lists serve this read (the apps as soon as
            # all but the pods are listed, the pods then page by page); nothing is listed twice.
            self._stream = app.service.changes()
        read = asyncio.ensure_future(app.service.apps())
        await asyncio.wait({read}, timeout=FIRST_READ_WAIT)
        if read.done() and read.exception() is None:
            self.first_landed.set()
            return read.result()
        self._first_pending = read
        return None

    def first_goes_on(self) -> None:
        """A first read slower than `FIRST_READ_WAIT` goes on in the refresh worker, which
        shows its apps or says why it failed: never cancelled and made again, since at 10 000
        pods one read takes seconds."""
        read, self._first_pending = self._first_pending, None
        if read is None:
            return
        if self.app.contexts is not None:  # each context is read by a worker of its own
            read.cancel()
            self.first_landed.set()
            self.refresh()
            return
        self._pending = False
        self.app.run_worker(self._refresh(read), group="refresh", exit_on_error=False)

    def refresh(self) -> None:
        """Read every app; the result arrives as `AppsRefreshed` (with several contexts, one
        `ContextRefreshed` per context, each from a worker of its own).

        A refresh asked for while one is in flight runs once that one ends (and at least
        `REFRESH_PACE` after it began), never by cancelling it: under a watch's churn (100 pod
        changes a second) a read cancelled at each change would never finish, and the screen
        would never update.
        """
        contexts = self.app.contexts
        if contexts is not None:
            for name in contexts.names:
                self.refresh_context(name)
            return
        if self._pending is not None:
            self._pending = True
            return
        self._pending = False
        self.app.run_worker(self._refresh(), group="refresh", exit_on_error=False)

    async def _refresh(self, first: Awaitable[tuple[App, ...]] | None = None) -> None:
        service = self.app.service
        try:
            while True:
                began = asyncio.get_running_loop().time()
                try:
                    reading, first = first or service.apps(), None
                    apps = await reading
                except TurnoutError as err:
                    self.app.post_message(RefreshFailed(str(err), err.title))
                else:
                    self.app.post_message(AppsRefreshed(apps, service.clock()))
                finally:
                    self.first_landed.set()
                if not self._pending:
                    return
                # Changes arriving during the pause join this next refresh.
                await asyncio.sleep(max(0.0, began + REFRESH_PACE - asyncio.get_running_loop().time()))
                self._pending = False
        finally:
            self._pending = None

    def refresh_context(self, name: str) -> None:
        """Read one context in a worker of its own: a context that does not answer holds up
        nothing but its own reads. A read asked for while one is in flight is done once that
        one ends (never by cancelling it: a slow context would then never finish a read)."""
        if name in self._reading:
            self._reading[name] = True
            return
        self._reading[name] = False
        self.app.run_worker(self._read_context(name), group=f"context:{name}", exit_on_error=False)

    async def _read_context(self, name: str) -> None:
        contexts = self.app.contexts
        assert contexts is not None
        try:
            while True:
                began = asyncio.get_running_loop().time()
                self.app.post_message(ContextRefreshed(await contexts.read(name)))
                if not self._reading.get(name):
                    return
                await asyncio.sleep(max(0.0, began + REFRESH_PACE - asyncio.get_running_loop().time()))
                self._reading[name] = False
        finally:
            self._reading.pop(name, None)

    def follow(self) -> None:
        """Follow the change stream from now on, once the first read has landed (changes
        queue in the stream opened before it; refreshes asked for before it lands would only
        repeat it)."""
        self.app.run_worker(self._follow(), group="watch", exclusive=True, exit_on_error=False)

    async def _follow(self) -> None:
        """Each change asks for a refresh. A broken stream is retried with backoff for as long
        as the app runs: an API server outage must never end the operator's session."""
        await self.first_landed.wait()
        contexts = self.app.contexts
        if contexts is not None:  # each context's stream reconnects on its own
            async for change in contexts.changes():
                self.refresh_context(change.context)
        backoff = RECONNECT_MIN
        while True:
            try:
                stream, self._stream = self._stream or self.app.service.changes(), None
                async for _ in stream:
                    backoff = RECONNECT_MIN
                    self.refresh()
            except TurnoutError as err:
                self.app.post_message(RefreshFailed(str(err), err.title, reconnecting=True))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX)
