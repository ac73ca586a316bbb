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
    charts = [*dashboard.APP_CHARTS, *dashboard.RELEASE_CHARTS, *dashboard.DELIVERY_CHARTS,
              *dashboard.GUARD_CHARTS]
    assert [p["title"] for p in panels] == [c.title for c in charts]
    for panel, chart in zip(panels, charts, strict=True):
        assert [t["expr"] for t in panel["targets"]] == [chart.expr]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["fieldConfig"]["defaults"]["unit"] == chart.unit
    variables = {v["name"]: v for v in rendered()["templating"]["list"]}
    assert variables["app"]["query"] == "label_values(http_requests_total, app)"
    assert [a["name"] for a in rendered()["annotations"]["list"]] == [a[0] for a in dashboard.ANNOTATIONS]


def test_the_delivery_stats_show_the_seeds_targets() -> None:
    stats = {p["title"]: p for p in rendered()["panels"] if p["type"] == "stat"}
    for chart in dashboard.DELIVERY_CHARTS:
        if chart.target is None:
            continue
        steps = stats[chart.title]["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert [step.get("value") for step in steps] == [None, chart.target], chart.title
    assert {c.target for c in dashboard.DELIVERY_CHARTS} >= {0.05, 120, 600}


def promql(lab: Lab | str, expr: str, app: str) -> list[dict]:  # type: ignore[type-arg]
    """Grafana's substitutions done by hand, then an instant query (the lab's Prometheus, or a URL)."""
    query = expr.replace("$app", app).replace("$__rate_interval", "1m")
    url = lab if isinstance(lab, str) else lab.env["prometheus_url"]
    response = httpx.get(f"{url}/api/v1/query", params={"query": query}, timeout=30)
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
    # The lab's Prometheus scrapes no guard, so these can only be checked for validity here; the
    # drill (test_guard_alerts_lab.py) runs the release and delivery panels against a real guard.
    guard = [*dashboard.RELEASE_CHARTS, *dashboard.DELIVERY_CHARTS, *dashboard.GUARD_CHARTS]
    for expr in [c.expr for c in guard] + [a[2] for a in dashboard.ANNOTATIONS]:
        promql(lab, expr, "checkout")
