"""A real OFREP server on a free loopback port, for tests and the bench."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from turnout.backend.flags.ofrep_server import OfrepApp, ServeOptions, serve
from turnout.backend.flags.reader import FlagReader


@contextlib.asynccontextmanager
async def running(reader: FlagReader, **options: object) -> AsyncIterator[str]:
    """Serve `reader` on 127.0.0.1:<free port>; yields the base URL."""
    bound: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    opts = ServeOptions(**{"port": 0, **options})  # type: ignore[arg-type]
    task = asyncio.create_task(serve(reader, opts, bound.set_result))
    try:
        yield await asyncio.wait_for(asyncio.shield(bound), 30)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Wait until `check()` holds; fail after a generous `timeout` (no fixed sleeps)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s")
        await asyncio.sleep(0.02)


__all__ = ["OfrepApp", "eventually", "running"]
