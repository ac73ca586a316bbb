"""The Grafana dashboard: built with grafana-foundation-sdk, committed current, and every panel's
query answered by the lab's Prometheus."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.lab.conftest import Lab
from tests.ops.tools import REPO, load_module

pytest.importorskip("grafana_foundation_sdk")
dashboard = load_module(REPO / "deploy" / "monitoring" / "dashboard.py", "turnout_dashboard")
LAB_APPS = ("checkout", "payments", "search")


def rendered() -> dict:  # type: ignore[type-arg]
    return json.loads(dashboard.render())  # type: ignore[no-any-return]


def test_committed_dashboard_is_current() -> None:
    assert dashboard.main(["--check"]) == 0, "run `make monitoring`"


def test_every_chart_is_a_panel_with_its_query() -> None:
    panels = [p for p in rendered()["panels"] if p["type"] != "row"]
    charts = [*dashboard.APP_CHARTS, *dashboard.GUARD_CHARTS]
    assert [p["title"] for p in panels] == [c.title for c in charts]
    for panel, chart in zip(panels, charts, strict=True):
        assert [t["expr"] for t in panel["targets"]] == [chart.expr]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["fieldConfig"]["defaults"]["unit"] == chart.unit
    variables = {v["name"]: v for v in rendered()["templating"]["list"]}
    assert variables["app"]["query"] == "label_values(http_requests_total, app)"
    assert [a["name"] for a in rendered()["annotations"]["list"]] == [a[0] for a in dashboard.ANNOTATIONS]


def promql(lab: Lab, expr: str, app: str) -> list[dict]:  # type: ignore[type-arg]
    """Grafana's substitutions done by hand, then an instant query."""
    query = expr.replace("$app", app).replace("$__rate_interval", "1m")
    response = httpx.get(f"{lab.env['prometheus_url']}/api/v1/query", params={"query": query}, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success", body
    return body["data"]["result"]  # type: ignore[no-any-return]


@pytest.mark.lab
@pytest.mark.parametrize("chart", dashboard.APP_CHARTS, ids=lambda c: c.title)
def test_each_app_panel_returns_both_colors_of_every_lab_app(lab: Lab, chart) -> None:  # type: ignore[no-untyped-def]
    for app in LAB_APPS:
        result = promql(lab, chart.expr, app)
        assert {series["metric"].get("color") for series in result} == {"blue", "green"}, (app, result)
        assert all(series["value"][1] != "NaN" for series in result), (app, result)


@pytest.mark.lab
def test_the_guard_panels_and_annotations_are_valid_promql(lab: Lab) -> None:
    # The lab's Prometheus scrapes no guard, so these can only be checked for validity here.
    for expr in [c.expr for c in dashboard.GUARD_CHARTS] + [a[2] for a in dashboard.ANNOTATIONS]:
        promql(lab, expr, "checkout")
