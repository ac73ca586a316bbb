"""Traffic planning: absolute targets, weights always summing to 100."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.backend import plans
from turnout.backend.errors import InvalidInput
from turnout.backend.models import Traffic, Weights

MID_CANARY = Traffic(live="blue", weights=Weights(blue=90, green=10), plan=(10, 50, 100))


def test_step_moves_to_the_next_weight_of_the_plan() -> None:
    after = plans.next_step(MID_CANARY)
    assert (after.live, after.weights) == ("blue", Weights(blue=50, green=50))


def test_step_at_the_last_weight_says_promote() -> None:
    final = plans.with_weight(MID_CANARY, 100)
    with pytest.raises(InvalidInput, match="promote"):
        plans.next_step(final)


def test_rollback_mid_canary_restores_the_stable_color() -> None:
    after = plans.rolled_back(MID_CANARY)
    assert (after.live, after.weights) == ("blue", Weights(blue=100, green=0))


def test_rollback_after_a_full_switch_returns_to_the_previous_color() -> None:
    promoted = plans.promoted(MID_CANARY)
    assert promoted.live == "green"
    assert plans.rolled_back(promoted).live == "blue"


@pytest.mark.parametrize("text", ["", "10,5,100", "10,50", "0,100", "a,b", "10,50,150"])
def test_bad_plans_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        plans.parse_plan(text)


def test_a_good_plan_parses() -> None:
    assert plans.parse_plan("10, 50,100") == (10, 50, 100)


@given(st.integers(min_value=-500, max_value=500), st.sampled_from(["blue", "green"]))
def test_any_accepted_weight_sums_to_100(percent: int, live: str) -> None:
    traffic = Traffic(live=live, weights=Weights.all_to(live))  # type: ignore[arg-type]
    if 0 <= percent <= 100:
        after = plans.with_weight(traffic, percent)
        assert after.weights.blue + after.weights.green == 100
        assert after.canary_weight == percent
    else:
        with pytest.raises(InvalidInput):
            plans.with_weight(traffic, percent)


def test_weights_that_do_not_sum_to_100_cannot_exist() -> None:
    with pytest.raises(ValueError):
        Weights(blue=60, green=60)
