"""`turnout watch` prints an app again only when what it shows of it changed."""

from __future__ import annotations

import io
import json

import msgspec

from turnout.backend.cli.output import AppStream
from turnout.backend.demo import build_demo_service
from turnout.backend.models import Weights


async def test_only_changed_apps_are_printed_again_under_the_first_header() -> None:
    service = build_demo_service(tick_seconds=10_000)
    apps = await service.apps()
    out = io.StringIO()
    stream = AppStream("table", out)
    stream.show(apps)
    first = out.getvalue().splitlines()
    assert first[0].startswith("NAMESPACE") and len(first) == 1 + len(apps)
    stream.show(apps)  # an event that changed nothing shown
    assert out.getvalue().splitlines() == first
    search = next(a for a in apps if a.name == "search")
    moved = msgspec.structs.replace(search, traffic=msgspec.structs.replace(
        search.traffic, weights=Weights(blue=50, green=50)))
    stream.show([moved])
    added = out.getvalue().splitlines()[len(first):]
    assert len(added) == 1 and "50/50" in added[0]
    assert added[0].index("50/50") == first[0].index("WEIGHTS"), "rows stay under their header"


async def test_json_prints_one_object_per_change() -> None:
    service = build_demo_service(tick_seconds=10_000)
    apps = await service.apps()
    out = io.StringIO()
    stream = AppStream("json", out)
    stream.show(apps)
    stream.show(apps)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(apps)
    assert {json.loads(line)["name"] for line in lines} == {a.name for a in apps}
