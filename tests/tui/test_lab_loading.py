"""Against the lab: the overview shows the apps while their pods are still being listed,
their health unknown until the last page is in (the pods' list held by a test gate)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.kube.conftest import seed_app
from tests.kube.test_lab_first_list import hold_pages
from tests.lab import conftest as lab_conftest
from tests.lab.conftest import Lab
from tests.tui.conftest import eventually
from turnout.backend.cli.connect import connect
from turnout.backend.cli.context import CliContext
from turnout.backend.config import Config
from turnout.tui.app import TurnoutApp

pytestmark = pytest.mark.lab
lab = lab_conftest.lab
kube = lab_conftest.kube
lab_namespace = lab_conftest.lab_namespace


async def test_the_overview_shows_the_apps_before_their_pods_are_in(
        lab: Lab, lab_namespace: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seed_app(lab, lab_namespace, "shop", "none")  # 3 pods a color
    gate = hold_pages(monkeypatch, tmp_path, page=4)
    args = argparse.Namespace(kubeconfig=lab.kubeconfig, context="lab", read_only=False,
                              namespace=lab_namespace)
    service = connect(CliContext(args=args, config=Config(request_timeout=5.0)))
    app = TurnoutApp(service, Config(refresh_seconds=3600.0))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            def row() -> str:
                table = app.screen.query("#apps")
                return " ".join(str(c) for c in table.first().get_row_at(0)) \
                    if table and table.first().row_count else ""

            # The pods' list waits at the gate after its first page: the app is on screen.
            assert await eventually(pilot, lambda: "shop" in row(), seconds=60)
            (shown,) = app.apps
            assert shown.blue.pods_loading and shown.traffic.live == "blue"
            assert "pass" not in row()  # the restarts are unknown while the pods load

            gate.touch()
            assert await eventually(
                pilot, lambda: bool(app.apps) and not app.apps[0].blue.pods_loading, seconds=60)
            assert len(app.apps[0].blue.pods) == len(app.apps[0].green.pods) == 3
    finally:
        await service.close()
