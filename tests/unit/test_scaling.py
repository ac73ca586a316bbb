"""Scaling under an HPA, pure: the color ends where the HPA's bounds allow, and the HPA
gets its own bounds back whenever Turnout no longer needs them moved."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.scaling import BOUNDS_ANNOTATION, Bounds, hpa_patch, parse_bounds, plan


def test_without_an_hpa_the_count_asked_is_set() -> None:
    p = plan("shop", "ns", "green", 1, 3)
    assert (p.replicas, p.hpa, p.moves_hpa) == (1, "", False)
    assert p.line("lab") == "scale ns/shop green in context lab: replicas 3 -> 1"


def test_below_the_minimum_the_color_ends_at_it_and_the_hpa_is_untouched() -> None:
    p = plan("shop", "ns", "blue", 1, 3, hpa="shop-blue", bounds=Bounds(2, 10))
    assert (p.replicas, p.target, p.moves_hpa) == (2, Bounds(2, 10), False)
    assert "held at the HPA's minimum 2 (asked 1)" in p.line("lab")
    assert "keeps its bounds 2..10" in p.line("lab")


def test_above_the_minimum_the_bounds_move_and_say_so() -> None:
    p = plan("shop", "ns", "green", 4, 3, hpa="shop-green", bounds=Bounds(2, 10))
    assert (p.replicas, p.target, p.own, p.moves_hpa) == (4, Bounds(4, 10), Bounds(2, 10), True)
    assert "through horizontalpodautoscaler/shop-green: bounds 2..10 -> 4..10" in p.line("lab")
    patch = hpa_patch(p, "41")
    assert patch == {"metadata": {"resourceVersion": "41", "annotations": {
        BOUNDS_ANNOTATION: "2,10"}}, "spec": {"minReplicas": 4, "maxReplicas": 10}}


def test_scaling_back_gives_the_hpa_its_own_bounds_and_drops_the_annotation() -> None:
    p = plan("shop", "ns", "green", 1, 4, hpa="shop-green", bounds=Bounds(4, 10),
             saved=Bounds(2, 10))
    assert (p.replicas, p.target, p.restores, p.moves_hpa) == (2, Bounds(2, 10), True, True)
    assert hpa_patch(p, "42")["metadata"] == {"resourceVersion": "42",
                                              "annotations": {BOUNDS_ANNOTATION: None}}
    assert "gets its own bounds 2..10 back" in p.line("lab")


def test_more_than_the_maximum_raises_it() -> None:
    p = plan("shop", "ns", "green", 12, 3, hpa="h", bounds=Bounds(2, 10))
    assert (p.replicas, p.target) == (12, Bounds(12, 12))


@given(st.integers(0, 50), st.integers(1, 20), st.integers(0, 30),
       st.booleans(), st.integers(0, 50))
def test_the_plan_never_goes_below_the_hpa_minimum_and_keeps_its_own_bounds(
        asked: int, low: int, extra: int, pinned: bool, before: int) -> None:
    own = Bounds(low, low + extra)
    now = Bounds(max(own.min, 5), max(own.max, 5)) if pinned else own
    p = plan("a", "n", "blue", asked, before, hpa="h", bounds=now,
             saved=own if pinned else None)
    assert p.own == own
    assert p.replicas == max(asked, own.min)
    assert p.target is not None and p.target.min <= p.replicas <= p.target.max
    if asked <= own.min:
        assert p.target == own  # nothing of Turnout's is left on the HPA
    else:
        assert p.target.max >= own.max


@given(st.text(max_size=10))
def test_a_malformed_annotation_is_no_saved_bounds(text: str) -> None:
    found = parse_bounds(text)
    assert found is None or 0 <= found.min <= found.max


def test_a_restore_gives_the_hpa_its_own_bounds_back_above_the_minimum() -> None:
    # A failed deploy had raised green's HPA to 4..10 for the deploy; green goes back to 3.
    p = plan("shop", "ns", "green", 3, 4, hpa="shop-green", bounds=Bounds(4, 10),
             saved=Bounds(2, 10), restore=True)
    assert (p.replicas, p.target, p.restores) == (3, Bounds(2, 10), True)
    assert hpa_patch(p, "7")["metadata"]["annotations"] == {BOUNDS_ANNOTATION: None}
    assert "gets its own bounds 2..10 back" in p.line("lab")


@given(st.integers(0, 50), st.integers(1, 20), st.integers(0, 30), st.booleans())
def test_a_restore_never_leaves_turnouts_bounds_on_the_hpa(
        asked: int, low: int, extra: int, pinned: bool) -> None:
    own = Bounds(low, low + extra)
    now = Bounds(max(own.min, 5), max(own.max, 5)) if pinned else own
    p = plan("a", "n", "blue", asked, 4, hpa="h", bounds=now, saved=own if pinned else None,
             restore=True)
    assert p.target == own and own.min <= p.replicas <= own.max
    assert p.moves_hpa == pinned
