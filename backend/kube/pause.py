"""A hold point that only tests enable, to widen races between processes on purpose."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path


async def test_pause(point: str) -> None:
    """Hold at a named point so tests can widen races: `TURNOUT_TEST_PAUSE=point=SECONDS`
    sleeps; `point=PATH` creates `PATH.reached.<pid>` and waits (60 s at most) until
    PATH exists, so a test decides when each process goes on, however loaded the machine."""
    name, _, value = os.environ.get("TURNOUT_TEST_PAUSE", "").partition("=")
    if name != point or not value:
        return
    try:
        await asyncio.sleep(float(value))
        return
    except ValueError:
        pass
    gate = Path(value)
    Path(f"{value}.reached.{os.getpid()}").touch()
    deadline = time.monotonic() + 60
    while not gate.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
