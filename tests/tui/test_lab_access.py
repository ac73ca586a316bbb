"""Against the lab: what this operator may not do is greyed out, with the reason, before any
confirmation — another operator's lock, and RBAC (the lab's read-only user)."""

from __future__ import annotations

import argparse

import pytest
from textual.widgets._toast import Toast

from tests.kube.conftest import seed_app
from tests.kube.test_lab_lock import someone_else_holds
from tests.lab import conftest as lab_conftest
from tests.lab.conftest import Lab
from tests.tui.conftest import eventually
from turnout.backend.cli.connect import connect
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config
from turnout.backend.service import ReleaseService
from turnout.tui.app import TurnoutApp
from turnout.tui.screens.app_detail import AppScreen
from turnout.tui.screens.confirm import ConfirmScreen
from turnout.tui.screens.rollback import RollbackScreen

pytestmark = pytest.mark.lab
lab = lab_conftest.lab
kube = lab_conftest.kube
lab_namespace = lab_conftest.lab_namespace


def _service(lab: Lab, namespace: str, context: str = "lab") -> ReleaseService:
    args = argparse.Namespace(kubeconfig=lab.kubeconfig, context=context, read_only=False,
                              namespace=namespace)
    return connect(CliContext(args=args, config=Config(request_timeout=5.0)))


async def _shown_blocker(lab: Lab, namespace: str, context: str) -> tuple[str, bool, str]:
    """Open the app screen of `shop`; return its traffic panel, whether `b` asked anything,
    and what the refused key said."""
    service = _service(lab, namespace, context)
    app = TurnoutApp(service, Config(refresh_seconds=0.5))
    try:
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await eventually(pilot, lambda: bool(app.apps), seconds=60)
            app.push_screen(AppScreen("shop", namespace))
            screen = app.screen
            assert isinstance(screen, AppScreen)
            # The lab answers the access review late on a loaded machine.
            await eventually(pilot, lambda: screen.is_mounted and bool(screen.blocked)
                             and "actions unavailable" in str(screen.query_one("#traffic").render()),
                             seconds=60)
            shown = str(screen.query_one("#traffic").render())
            await pilot.press("b")
            await pilot.pause(0.3)
            asked = isinstance(app.screen, ConfirmScreen | RollbackScreen)
            def said() -> str:
                return "\n".join(str(toast.render()) for toast in app.screen.query(Toast))

            # The refusal's own toast: an earlier one (a refresh's) would end the wait too soon.
            await eventually(pilot, lambda: "Refused on" in said(), seconds=60)
            refusal = said()
    finally:
        await service.close()
    return shown, asked, refusal


async def test_another_operators_lock_greys_the_actions_out(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    someone_else_holds(lab, lab_namespace)
    shown, asked, said = await _shown_blocker(lab, lab_namespace, "lab")
    assert "actions unavailable: locked by alice@laptop" in shown
    assert not asked
    assert f"Refused on {lab_namespace}/shop: locked by alice@laptop" in said


async def test_rbac_greys_the_actions_out_with_what_is_missing(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    shown, asked, said = await _shown_blocker(lab, lab_namespace, "lab-readonly")
    assert "actions unavailable: may not patch services" in shown
    assert "may not patch ingresses" in shown
    assert not asked
    assert f"Refused on {lab_namespace}/shop: may not patch services" in said


async def test_the_overview_greys_out_a_locked_app_under_the_cursor(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    someone_else_holds(lab, lab_namespace)
    service = _service(lab, lab_namespace)
    app = TurnoutApp(service, Config(refresh_seconds=0.5))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await eventually(pilot, lambda: bool(app.apps and getattr(app.screen, "blocked", "")),
                             seconds=60)
            shown = str(app.screen.query_one("#blocked").render())
            assert f"actions unavailable on {lab_namespace}/shop: locked by alice@laptop" in shown
            await pilot.press("a")
            await pilot.pause(0.3)
            assert not isinstance(app.screen, ConfirmScreen)
    finally:
        await service.close()


async def test_an_operator_who_may_act_is_offered_the_action(lab: Lab, lab_namespace: str) -> None:
    seed_app(lab, lab_namespace, "shop", "nginx")
    service = _service(lab, lab_namespace)
    try:
        app = await service.app("shop", lab_namespace)
        assert await service.write_blocker(app) == ""
    finally:
        await service.close()
