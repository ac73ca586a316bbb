"""`turnout demo` draws its first screen before loading what that screen does not need: the
Kubernetes client, HTTP, charts, metrics and the guard, the other commands of the command line,
the other screens (README: `make bench` times it; here
only what is imported is checked, never how long it takes)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from textual.widgets import DataTable, Input

from tests.tui.conftest import eventually
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.overview import OverviewScreen

HEAVY = ("kubernetes", "httpx", "plotext", "prometheus_api_client", "prometheus_client", "redis",
         "yaml", "aiohttp", "turnout.backend.kube", "turnout.backend.guard.engine",
         # the other commands of the command line: `turnout demo` parses without them
         "turnout.backend.cli.flags_cmd", "turnout.backend.cli.guard_cmd",
         "turnout.backend.cli.release_cmd", "turnout.backend.cli.kube_cmd",
         "turnout.backend.cli.check_cmd", "turnout.backend.cli.incident_cmd",
         "turnout.backend.cli.commands", "importlib.metadata",
         # the release console and delivery figures, the flag reader: the packages load lazily
         "turnout.backend.release.deploy_console", "turnout.backend.release.dora",
         "turnout.backend.flags.reader",
         # the checklist's rules, the release flow's stages, the overview's footer
         "turnout.backend.checklist", "turnout.backend.release.stages", "textual.widgets._footer",
         "textual.lazy",
         # screens other than the overview, and the confirmations
         "turnout.tui.screens.app_detail", "turnout.tui.screens.flags", "turnout.tui.screens.confirm",
         "turnout.tui.screens.explain", "turnout.tui.screens.slot", "turnout.tui.app_verbs")

# `turnout demo` as the command line runs it (headless driver, no terminal needed): the
# modules loaded when the overview first holds the apps' rows are recorded, then it quits.
PROBE = """
import sys
from turnout.tui.screens.overview import OverviewScreen

shown = OverviewScreen._show
def first_rows(self, apps):
    shown(self, apps)
    if apps and not hasattr(OverviewScreen, "loaded"):
        OverviewScreen.loaded = sorted(m for m in sys.modules if m.startswith(HEAVY))
        self.app.exit()
OverviewScreen._show = first_rows
HEAVY = tuple(sys.argv[1:])
sys.argv = ["turnout", "demo"]
from turnout.backend.cli import main
main()
print("loaded before the first frame:", getattr(OverviewScreen, "loaded", "never drew the apps"))
"""


def test_the_demo_first_frame_loads_no_heavy_module(tmp_path: Path) -> None:
    env = {**os.environ, "TURNOUT_STATE_DIR": str(tmp_path),
           "TEXTUAL_DRIVER": "textual.drivers.headless_driver:HeadlessDriver"}
    done = subprocess.run([sys.executable, "-c", PROBE, *HEAVY], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "loaded before the first frame: []"


async def test_the_filter_box_comes_with_slash_and_filters_the_apps(
        make_app: Callable[..., TurnoutApp]) -> None:
    """The overview's filter is mounted on first use (the first frame does without it)."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        assert await eventually(pilot, lambda: isinstance(app.screen, OverviewScreen)
                                and app.screen.query_one("#apps", DataTable).row_count == 3)
        screen = app.screen
        table = screen.query_one("#apps", DataTable)
        assert not screen.query("#filter")
        await pilot.press("slash")
        assert await eventually(pilot, lambda: bool(screen.query("#filter")))
        box = screen.query_one("#filter", Input)
        assert box.has_focus and box.display
        await pilot.press(*"sea")
        assert await eventually(pilot, lambda: table.row_count == 1)
        assert screen.selected is not None and screen.selected.name == "search"
        await pilot.press("escape")
        assert await eventually(pilot, lambda: table.row_count == 3)
        assert not box.display and table.has_focus
