"""Pure parts of the flow: stages from a plan, durations, image versions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.errors import InvalidInput
from turnout.backend.release import format_duration, parse_duration, plan_stages, version_of


def kinds(strategy: str, steps: tuple[int, ...], pause: float = 0, manual: bool = False) -> list[str]:
    stages = plan_stages(strategy, steps, pause=pause, manual=manual)  # type: ignore[arg-type]
    return [f"{s.kind}:{s.weight}" if s.kind in ("weight", "analyse", "pause") else s.kind
            for s in stages]


def test_a_canary_shifts_and_analyses_each_step_before_the_last() -> None:
    assert kinds("canary", (10, 50, 100)) == [
        "deploy", "ready", "preview", "weight:10", "analyse:10", "weight:50", "analyse:50",
        "promote", "monitor", "scale-down"]


def test_pauses_follow_each_analysis_when_asked() -> None:
    assert kinds("canary", (25, 100), manual=True)[3:6] == ["weight:25", "analyse:25", "pause:25"]
    assert kinds("canary", (25, 100), pause=30)[5] == "pause:25"


def test_instant_goes_straight_to_promotion() -> None:
    assert kinds("instant", ()) == ["deploy", "ready", "preview", "promote", "monitor", "scale-down"]


@pytest.mark.parametrize("steps", [(10, 50), (50, 10, 100), (0, 100), ()])
def test_a_bad_plan_is_refused(steps: tuple[int, ...]) -> None:
    with pytest.raises(InvalidInput):
        plan_stages("canary", steps, pause=0, manual=False)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90", 90), ("90s", 90), ("5m", 300), ("1h30m", 5400), ("30d", 2592000), ("1w", 604800),
    ("250ms", 0.25), ("1.5s", 1.5)])
def test_durations_read_as_operators_write_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "soon", "5x", "-3s", "m5"])
def test_a_bad_duration_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**7))
def test_formatting_then_parsing_stays_within_the_shown_precision(seconds: int) -> None:
    shown = format_duration(seconds)
    assert abs(parse_duration(shown) - seconds) < 3600


@pytest.mark.parametrize(("image", "version"), [
    ("registry.example/shop:1.5.0", "1.5.0"), ("localhost:5000/shop:2.0", "2.0"),
    ("localhost:5000/shop", "localhost:5000/shop"),
    ("reg/shop@sha256:0123456789abcdef0123", "0123456789ab")])
def test_the_version_is_the_image_tag(image: str, version: str) -> None:
    assert version_of(image) == version


@given(st.lists(st.integers(min_value=1, max_value=99), unique=True, max_size=6),
       st.booleans())
def test_every_valid_plan_shifts_its_weights_in_order_then_promotes(weights: list[int],
                                                                    manual: bool) -> None:
    steps = (*sorted(weights), 100)
    stages = plan_stages("canary", steps, pause=0, manual=manual)
    assert [s.weight for s in stages if s.kind == "weight"] == sorted(weights)
    assert [s.kind for s in stages][-3:] == ["promote", "monitor", "scale-down"]
    assert sum(s.kind == "pause" for s in stages) == (len(weights) if manual else 0)
