"""How a release flow waits on the demo: a quarter of real time, advancing the world."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the release flow's stages load when a deploy first runs
    from turnout.backend.demo.cluster import DemoCluster
    from turnout.backend.release.stages import Sleep

DEMO_PACE = 0.25
"""Wall seconds per simulated second while a demo deploy waits (the demo runs 4x fast)."""


def demo_pace(cluster: DemoCluster) -> Sleep:
    """The flow's sleep on the demo: shortened, and ticking the world unless a TUI already
    runs its clock."""
    async def demo_sleep(seconds: float) -> None:
        await asyncio.sleep(seconds * DEMO_PACE)
        if not cluster.ticking:
            cluster.world.tick(seconds)
    return demo_sleep
