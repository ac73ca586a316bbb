"""The verbs' pure planning: one name per verb, the target it plans, the slot changes and
their refusals, the confirmation lines."""

from __future__ import annotations

import pytest

from turnout.backend.demo import build_demo_service
from turnout.backend.errors import InvalidInput
from turnout.backend.models import App
from turnout.backend.verbs import (
    TRAFFIC_VERBS,
    confirmation,
    outcome,
    plan_slot,
    planner,
    slot_confirmation,
)


async def _app(name: str = "checkout") -> App:
    service = build_demo_service()
    try:
        return await service.state(name)
    finally:
        await service.close()


async def test_every_traffic_verb_plans_a_complete_target() -> None:
    app = await _app()
    for verb in TRAFFIC_VERBS:
        target = planner(verb, app, percent=30, to="green")(app.traffic)
        assert target.weights.blue + target.weights.green == 100, verb


async def test_a_verb_without_its_parameter_or_an_unknown_one_is_refused() -> None:
    app = await _app()
    for verb, kw in (("weight", {}), ("switch", {}), ("teleport", {})):
        with pytest.raises(InvalidInput):
            planner(verb, app, **kw)


async def test_the_preview_and_the_confirmation_say_where_and_what() -> None:
    app = await _app()
    result = outcome(app, "switch", planner("switch", app, to="green")(app.traffic), dry_run=True)
    line = confirmation(result, "demo")
    assert line.startswith(f"switch {app.namespace}/{app.name} in context demo: live ")
    assert result.changed is (app.traffic.live != "green" or app.traffic.weights.green != 100)


async def test_slot_changes_are_planned_and_bad_input_refused() -> None:
    app = await _app()
    change = plan_slot(app, "scale", "green", 3)
    assert (change.action, change.field, change.before, change.after) == (
        "scale-green", "replicas", app.green.desired, 3)
    assert slot_confirmation(change, "demo").endswith(f"replicas {app.green.desired} -> 3")
    image = plan_slot(app, "set-image", "blue", "registry.local/shop:2")
    assert (image.action, image.before) == ("set-image-blue", app.blue.image)
    for verb, color, value in (("scale", "green", 1001), ("scale", "red", 1),
                               ("set-image", "blue", "has space"), ("set-image", "blue", ""),
                               ("resize", "blue", 1)):
        with pytest.raises(InvalidInput):
            plan_slot(app, verb, color, value)
