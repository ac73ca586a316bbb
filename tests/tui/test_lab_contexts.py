"""Against two real API servers: the overview lists both contexts side by side; stopping one
marks it unavailable while the other's apps stay live (its changes keep arriving)."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static
from textual.widgets._toast import Toast

from tests.kube.conftest import kubectl
from tests.kube.test_lab_contexts import BACKUP, both, labctl_second, second
from tests.lab import conftest as lab_conftest
from tests.lab.conftest import Lab
from tests.tui.conftest import eventually
from turnout.backend.assembly import Options, build_contexts
from turnout.backend.config import Config
from turnout.backend.models import App
from turnout.tui.app import TurnoutApp

pytestmark = pytest.mark.lab
lab = lab_conftest.lab
kube = lab_conftest.kube
lab_namespace = lab_conftest.lab_namespace
__all__ = ["both", "second"]


def state_of(app: TurnoutApp, context: str) -> str:
    return next((c.state for c in app.context_states if c.context == context), "")


def shop(app: TurnoutApp, context: str) -> App | None:
    return next((a for a in app.apps if (a.context, a.name) == (context, "shop")), None)


async def test_a_stopped_api_server_is_unavailable_while_the_others_apps_stay_live(
        second: Lab, both: str) -> None:
    view = build_contexts(Config(request_timeout=3.0),
                          Options(kubeconfig=second.kubeconfig, namespace=both), ["lab", BACKUP])
    app = TurnoutApp(view.primary(), Config(refresh_seconds=1.0), contexts=view)
    try:
        async with app.run_test(size=(160, 40), notifications=True) as pilot:
            assert await eventually(pilot, lambda: bool(shop(app, "lab") and shop(app, BACKUP)),
                                    60)
            table = app.screen.query_one("#apps", DataTable)
            assert [str(c.label) for c in table.columns.values()][:2] == ["CONTEXT", "APP"]
            assert await eventually(pilot, lambda: table.row_count == 2)  # the rows follow the apps

            def line() -> str:
                return str(app.screen.query_one("#contexts", Static).render())

            assert await eventually(pilot, lambda: "lab ● live" in line() and f"{BACKUP} ● live" in line())

            table.move_cursor(row=[str(k.value) for k in table.rows].index(f"{BACKUP}/{both}/shop"))
            await pilot.press("s")
            def said() -> str:
                return "\n".join(str(t.render()) for t in app.screen.query(Toast))

            # Its own toast, not any (a refresh's would end the wait too soon); generous: a
            # loaded machine.
            assert await eventually(pilot, lambda: f"is in context {BACKUP}" in said(), 60), said()

            labctl_second("down")
            assert await eventually(pilot, lambda: state_of(app, BACKUP) == "unavailable", 60)
            assert shop(app, "lab") is not None and state_of(app, "lab") == "live"
            assert await eventually(pilot, lambda: f"{BACKUP} ⊘ unavailable" in line()
                                    and "lab ● live" in line())

            kubectl(second, "-n", both, "scale", "deployment/shop-green", "--replicas=2")
            assert await eventually(
                pilot, lambda: getattr(shop(app, "lab"), "green", None) is not None
                and shop(app, "lab").green.desired == 2, 60)  # type: ignore[union-attr]
            assert state_of(app, BACKUP) == "unavailable"
    finally:
        await view.close()
        labctl_second("up")
