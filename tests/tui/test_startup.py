"""The first frame's shortcuts keep behaviour: the theme set before the first parse is the theme
drawn, the collector held during start runs again, and the front end found without
`importlib.metadata` is the one it would find."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.color import Color

from tests.tui.conftest import eventually
from turnout.backend import startup
from turnout.backend.cli import main
from turnout.backend.cli.front_ends import front_end, parse_entry_points
from turnout.themes import THEMES
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.overview import OverviewScreen


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector as the test found it, whatever the test did to it."""
    was = gc.isenabled()
    yield
    startup.resume()
    gc.unfreeze()
    (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("theme", [t.name for t in THEMES] + ["textual-light", "nord"])
async def test_the_starting_theme_is_the_one_drawn(make_app: Callable[..., TurnoutApp],
                                                   theme: str) -> None:
    """Dark themes skip the watcher's re-parse, light ones take the full switch: both draw the
    theme's own background and domain colours from the first frame."""
    app = make_app(theme=theme)
    async with app.run_test(size=(80, 24)) as pilot:
        assert await eventually(pilot, lambda: isinstance(app.screen, OverviewScreen)
                                and app.screen.is_mounted)
        await pilot.pause()
        chosen = app.get_theme(theme)
        assert app.theme == theme and chosen is not None
        assert app.current_theme.dark == chosen.dark
        assert ("-dark-mode" in app.classes) == chosen.dark
        expected = Color.parse(chosen.to_color_system().generate()["background"])
        assert app.screen.styles.background.rgb == expected.rgb
        assert app.theme_variables["slot-blue"] and app.palette["slot-blue"]


def test_a_command_resumes_the_collector_the_entry_point_held(
        collector: None, capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TURNOUT_STATE_DIR", str(tmp_path))
    startup.hold()
    assert not gc.isenabled()
    assert main(["--demo", "status", "-o", "json"]) == 0
    assert gc.isenabled()
    assert '"search"' in capsys.readouterr().out


def test_resume_leaves_a_collector_it_did_not_pause_alone(collector: None) -> None:
    gc.disable()
    startup.hold()  # already off: not ours to turn back on
    startup.resume()
    assert not gc.isenabled()


async def test_the_tui_resumes_the_collector_once_its_first_frame_is_drawn(
        collector: None, make_app: Callable[..., TurnoutApp]) -> None:
    startup.hold()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert await eventually(pilot, lambda: isinstance(app.screen, OverviewScreen)
                                and app.screen.is_mounted and gc.isenabled())


def test_the_entry_point_file_is_read_as_importlib_metadata_reads_it() -> None:
    from importlib.metadata import distribution

    from turnout.backend.cli.front_ends import _own_entry_points

    text = ("[console_scripts]\nturnout = turnout.backend.startup:main\n\n"
            "; a comment\n[turnout.frontends]\n  serve = turnout.tui.launch:serve  \n"
            "tui=turnout.tui.launch:run [extra]\n# another\n")
    parsed = parse_entry_points(text)
    assert parsed == {"console_scripts": {"turnout": "turnout.backend.startup:main"},
                      "turnout.frontends": {"serve": "turnout.tui.launch:serve",
                                            "tui": "turnout.tui.launch:run [extra]"}}
    # the installed distribution's own file, read both ways
    installed = {(e.group, e.name, e.value) for e in distribution("turnout").entry_points}
    own = _own_entry_points()
    assert own is not None
    assert {(g, n, v) for g, names in own.items() for n, v in names.items()} == installed
    assert {("turnout.frontends", "tui", front_end("tui")[0].value)} <= installed


def test_the_front_end_loads_what_the_entry_point_names() -> None:
    from turnout.tui import launch

    assert front_end("tui")[0].load() is launch.run
    assert front_end("serve")[0].load() is launch.serve
