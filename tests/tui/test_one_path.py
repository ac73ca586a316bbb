"""The TUI reaches the same backend calls as the CLI: an abort during a deploy stops its
driver, a deploy is analysed with the guard's triggers, panic previews what it turns off."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.widgets import Static

from tests.tui.conftest import eventually, on_top
from turnout.backend.models import Weights
from turnout.backend.release import DeployRequest
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.confirm import ConfirmScreen
from turnout.tui.screens.deploy import DeployScreen
from turnout.tui.screens.slot import SlotScreen

CHECKOUT = DeployRequest(app="checkout", image="registry.demo/checkout:1.5.0", manual=True,
                         analysis=1.0, interval=0.5, steps=(10, 50, 100))
"""A canary that waits at its first step until promoted: a deploy in flight."""


async def _open_checkout(app: TurnoutApp, pilot) -> None:  # type: ignore[no-untyped-def]
    assert await eventually(pilot, lambda: bool(app.apps))  # the rows, before keys move on them
    await pilot.pause()
    await pilot.press("down", "down", "enter")  # payments, search, shop/checkout
    assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen) and app.screen.is_mounted)
    assert isinstance(app.screen, AppScreen) and app.screen.app_name == "checkout"
    screen = app.screen
    assert await eventually(pilot, lambda: screen.selected is not None)  # read in a worker


def _confirm_text(app: TurnoutApp) -> str:
    return "\n".join(str(s.render()) for s in app.screen.query(Static))


async def test_abort_during_a_deploy_stops_its_driver(make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    service = app.service
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_checkout(app, pilot)
        deploy = asyncio.create_task(service.deploy(CHECKOUT))
        for _ in range(2000):
            flow = await service.flow("checkout")
            if flow is not None and flow.status == "paused":
                break
            await pilot.pause(0.05)
        assert flow is not None and flow.status == "paused"
        await pilot.press("a")
        assert await eventually(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                                               and app.screen.is_mounted)
        assert "abort the deploy of 1.5.0 to checkout and restore blue" in _confirm_text(app)
        await pilot.press("tab", "enter")
        release = await asyncio.wait_for(deploy, 120)
        await app.workers.wait_for_complete()
    assert release.outcome == "aborted" and release.reason == "aborted by demo-operator"
    assert await service.flow("checkout") is None
    checkout = await service.app("checkout")
    assert (checkout.traffic.live, checkout.traffic.weights) == ("blue", Weights(blue=100, green=0))


async def test_deploy_from_the_tui_is_analysed_with_the_guards_triggers(
        make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_checkout(app, pilot)
        await pilot.press("D")
        await on_top(pilot, DeployScreen)
        await pilot.press(*"registry.demo/checkout:1.5.0", "enter")
        assert await eventually(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                                               and app.screen.is_mounted)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
    releases = await app.service.history("shop", "checkout")
    newest = releases[-1]
    assert (newest.version, newest.outcome) == ("1.5.0", "promoted")
    # health and restarts are the guard's triggers; the flow's own analysis has neither
    assert {"health", "restarts"} <= {v.signal for v in newest.verdicts}


async def test_panic_names_the_flags_it_turns_off_and_turns_them_off(
        make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    service = app.service
    assert service.flags is not None
    linked = [f.key for f in await service.flags.list() if f.meta.app == "search" and f.on]
    assert linked, "the demo links flags to search"
    async with app.run_test(size=(120, 40)) as pilot:
        assert await eventually(pilot, lambda: bool(app.apps))  # the rows, before keys move on them
        await pilot.pause()
        await pilot.press("down", "enter")
        assert await eventually(pilot, lambda: isinstance(app.screen, AppScreen) and app.screen.is_mounted)
        await pilot.press("exclamation_mark")
        assert await eventually(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                                               and app.screen.is_mounted)
        shown = _confirm_text(app)
        assert all(key in shown for key in linked) and "blue 100% / green 0%" in shown
        await pilot.click("#typed")
        assert await eventually(pilot, lambda: getattr(app.screen.focused, "id", "") == "typed")
        await pilot.press(*"search", "enter")
        await app.workers.wait_for_complete()
    search = await service.app("search")
    assert search.traffic.weights == Weights(blue=100, green=0)
    assert not [f for f in await service.flags.list() if f.key in linked and f.on]
    actions = [(e.action, e.after) for e in service.audit.tail()]
    assert actions[0][0] == "abort"
    assert {("flag-off", key) for key in linked} == {(a, after["flag"]) for a, after in actions[1:]}


def _value_focused(app: TurnoutApp) -> Callable[[], bool]:
    return lambda: isinstance(app.screen, SlotScreen) and getattr(
        app.screen.focused, "id", "") == "value"


async def test_scale_and_set_image_from_the_tui_confirm_the_backends_plan_and_are_audited(
        make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    service = app.service
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_checkout(app, pilot)
        idle = app.screen.selected.traffic.canary  # type: ignore[attr-defined]
        await pilot.press("S")
        assert await eventually(pilot, _value_focused(app))
        await pilot.press("4", "enter")
        assert await eventually(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                                               and app.screen.is_mounted)
        assert f"color      {idle}" in _confirm_text(app)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
        await pilot.press("i")
        assert await eventually(pilot, _value_focused(app))
        await pilot.press(*"registry.demo/checkout:9.9.9", "enter")
        assert await eventually(pilot, lambda: isinstance(app.screen, ConfirmScreen)
                                               and app.screen.is_mounted)
        assert "registry.demo/checkout:9.9.9" in _confirm_text(app)
        await pilot.press("tab", "enter")
        await app.workers.wait_for_complete()
    checkout = await service.app("checkout")
    assert checkout.slot(idle).desired == 4
    assert checkout.slot(idle).image == "registry.demo/checkout:9.9.9"
    actions = [e.action for e in service.audit.tail(10)]
    assert actions[-2:] == [f"scale-{idle}", f"set-image-{idle}"]


async def test_scale_refused_by_the_backend_changes_nothing(
        make_app: Callable[..., TurnoutApp]) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open_checkout(app, pilot)
        idle = app.screen.selected.traffic.canary  # type: ignore[attr-defined]
        before = app.screen.selected.slot(idle).desired  # type: ignore[attr-defined]
        await pilot.press("S")
        assert await eventually(pilot, _value_focused(app))
        await pilot.press(*"5000", "enter")
        await app.workers.wait_for_complete()
        assert await eventually(pilot, lambda: any("replicas 5000" in str(n.message)
                                                   for n in app._notifications))
        assert not isinstance(app.screen, ConfirmScreen)
    assert (await app.service.app("checkout")).slot(idle).desired == before
