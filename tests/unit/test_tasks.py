"""Stopping background tasks: a swallowed cancellation must not hang a close."""

from __future__ import annotations

import asyncio
import logging

import pytest

from turnout.backend.tasks import cancel_and_wait


async def _swallows_first_cancel(log: list[str]) -> None:
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        # What a client library does when a cancel races its own read timeout.
        log.append("swallowed")
    await asyncio.sleep(3600)


async def _ignores_cancel_until(release: asyncio.Event) -> None:
    while not release.is_set():
        try:
            await release.wait()
        except asyncio.CancelledError:
            continue


async def test_a_swallowed_cancel_is_repeated_until_the_task_ends() -> None:
    log: list[str] = []
    task = asyncio.create_task(_swallows_first_cancel(log))
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task), timeout=30)
    assert task.cancelled() and log == ["swallowed"]


async def test_a_task_that_never_ends_is_abandoned_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()
    task = asyncio.create_task(_ignores_cancel_until(release), name="stubborn")
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with caplog.at_level(logging.WARNING):
        await cancel_and_wait(task, patience=0.3)
    assert 0.25 < loop.time() - started < 30  # waited its patience, and not forever
    assert "stubborn" in caplog.text and not task.done()
    release.set()
    await asyncio.wait_for(task, timeout=30)


async def test_finished_and_missing_tasks_are_fine() -> None:
    async def fails() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await cancel_and_wait(task, None)
    assert isinstance(task.exception(), RuntimeError)
