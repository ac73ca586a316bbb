"""TUI at scale: 10 000 pods across the demo apps — first render, refresh frame, memory.

Figures come from the real app under Textual's headless driver; the peer row is
Textual's stock pattern (clear the DataTable and add every row again) on the same data.
"""

from __future__ import annotations

import asyncio
import resource
import time
from typing import Any

from bench_watch import painted
from rich.text import Text
from textual.app import App as TextualApp
from textual.app import ComposeResult
from textual.widgets import DataTable

from turnout.backend.config import Config
from turnout.backend.demo.cluster import DemoCluster
from turnout.backend.demo.metrics import DemoMetrics
from turnout.backend.demo.world import DemoWorld
from turnout.backend.gate import WriteGate
from turnout.backend.service import ReleaseService
from turnout.tui.app import TurnoutApp
from turnout.tui.messages import AppsRefreshed
from turnout.tui.render import pod_row
from turnout.tui.screens.app_detail import AppScreen

PODS = 10_000
SIZE = (120, 40)
FRAMES = 15
"""Refreshes measured: a frame waits for Textual's refresh timer, so a few samples are noisy."""


def _service() -> tuple[ReleaseService, DemoWorld]:
    world = DemoWorld(seed=1, replicas=PODS // 6 + 1)
    cluster = DemoCluster(world, WriteGate(), tick_seconds=10_000)
    return ReleaseService(cluster, DemoMetrics(world), clock=lambda: world.clock), world


async def _turnout_figures() -> list[dict[str, Any]]:
    service, world = _service()
    app = TurnoutApp(service, Config(refresh_seconds=3600), live=False)
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        await painted(app)  # as bench_watch measures the lab's: the row on the screen
        first = time.perf_counter() - started
        opened = time.perf_counter()
        app.push_screen(AppScreen("search", "search"))
        await pilot.pause()
        detail = time.perf_counter() - opened
        frames = []
        for _ in range(FRAMES):
            world.tick(1.0)
            apps = await service.apps()
            t0 = time.perf_counter()
            app.post_message(AppsRefreshed(apps, service.clock()))
            await pilot.pause()
            frames.append(time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frames.sort()
    return [
        {"name": f"tui first render, overview ({PODS} pods)", "value": first, "unit": "s"},
        {"name": f"tui open app detail ({PODS // 3} pods of one app)", "value": detail, "unit": "s"},
        {"name": "tui refresh frame, median", "value": frames[len(frames) // 2], "unit": "s"},
        {"name": "tui refresh frame, worst", "value": frames[-1], "unit": "s"},
        {"name": "tui resident memory, peak", "value": rss, "unit": "MB"},
    ]


class _StockTable(TextualApp[None]):
    def compose(self) -> ComposeResult:
        table: DataTable[Text] = DataTable()
        table.add_columns("STATUS", "READY", "RST 5m", "AGE", "POD")
        yield table


async def _stock_figure() -> dict[str, Any]:
    service, _ = _service()
    slot = (await service.app("search")).blue
    now = service.clock()
    stock = _StockTable()
    async with stock.run_test(size=SIZE) as pilot:
        table = stock.query_one(DataTable)
        t0 = time.perf_counter()
        table.clear()
        for pod in slot.pods:
            table.add_row(*pod_row(pod, now, {}), key=pod.name)
        await pilot.pause()
        elapsed = time.perf_counter() - t0
    return {"name": f"peer: stock DataTable clear+add ({len(slot.pods)} rows)", "value": elapsed,
            "unit": "s"}


def run() -> list[dict[str, Any]]:
    rows = asyncio.run(_turnout_figures())
    rows.append(asyncio.run(_stock_figure()))
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<55} {row['value']:10.4f} {row['unit']}")
