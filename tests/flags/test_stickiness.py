"""Sticky edits: users move only where the preview says, in any variant order."""

from __future__ import annotations

from collections import Counter
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from turnout.backend.flags import ops
from turnout.backend.flags.bucketing import bucket_of
from turnout.backend.flags.codec import flagset_from_obj, to_builtins
from turnout.backend.flags.evaluate import Evaluator
from turnout.backend.flags.model import Flag
from turnout.backend.flags.split import layout_of
from turnout.backend.flags.validate import validate_flag

NAMES = ["a", "b", "c", "d", "e"]


@cache
def one_user_per_bucket(flag_key: str) -> tuple[str, ...]:
    """A user key for each bucket 0..99 of `flag_key`: measuring them measures every user."""
    found: dict[int, str] = {}
    index = 0
    while len(found) < 100:
        user = f"user-{index}"
        found.setdefault(bucket_of(flag_key, user), user)
        index += 1
    return tuple(found[b] for b in range(100))


def served(flag: Flag) -> list[str | None]:
    evaluator = Evaluator(flagset_from_obj({"flags": {flag.key: to_builtins(flag)}}))
    return [evaluator.evaluate(flag.key, {"targetingKey": u}).variant for u in one_user_per_bucket(flag.key)]


@st.composite
def weights_over(draw: st.DrawFn, names: list[str]) -> dict[str, int]:
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(names) - 1, max_size=len(names) - 1)))
    bounds = [0, *cuts, 100]
    order = draw(st.permutations(names))
    return {name: bounds[i + 1] - bounds[i] for i, name in enumerate(order)}


@st.composite
def flags_and_edits(draw: st.DrawFn) -> tuple[Flag, list[dict[str, int]]]:
    names = NAMES[: draw(st.integers(2, 5))]
    variants = {n: n for n in draw(st.permutations(names))}
    start = draw(weights_over(names))
    flag = Flag(key=draw(st.sampled_from(["f", "ck", "pricing"])), kind="string", variants=variants,
                on=True, off_variant=names[0], default_variant=names[0], rollout=start)
    edits = draw(st.lists(weights_over(names), min_size=1, max_size=4))
    return validate_flag(flag, None, "t"), edits


def check_edit(before: Flag, weights: dict[str, int]) -> Flag:
    after = validate_flag(ops.set_weights(before, weights), None, "t")
    preview = ops.preview(before, after)
    old, new = served(before), served(after)
    measured = Counter((o, n) for o, n in zip(old, new, strict=True) if o != n)
    assert {(m.source, m.target): m.percent for m in preview.moves} == dict(measured)
    assert preview.users_moved == sum(measured.values())
    had = Counter(old)
    raised = {v for v, w in weights.items() if w > had[v]}
    assert all(n == o for o, n in zip(old, new, strict=True) if o in raised), "a raised variant lost users"
    assert preview.users_moved == sum(max(0, w - had[v]) for v, w in weights.items()), "moved too many"
    assert Counter(new) == Counter({v: w for v, w in weights.items() if w})
    return after


@settings(max_examples=150, deadline=None)
@given(case=flags_and_edits())
def test_every_edit_moves_only_the_users_its_preview_names(case: tuple[Flag, list[dict[str, int]]]) -> None:
    flag, edits = case
    for weights in edits:
        flag = check_edit(flag, weights)


@settings(max_examples=60, deadline=None)
@given(first=st.sampled_from(["on", "off"]), start=st.integers(0, 100), to=st.integers(0, 100))
def test_rollout_percent_is_sticky_in_either_variant_order(first: str, start: int, to: int) -> None:
    weights = {"on": start, "off": 100 - start}
    ordered = {first: weights[first], **weights}
    flag = validate_flag(Flag(key="ck", on=True, rollout=ordered), None, "t")
    after = validate_flag(ops.set_rollout(flag, to), None, "t")
    old, new = served(flag), served(after)
    moved = [(o, n) for o, n in zip(old, new, strict=True) if o != n]
    assert len(moved) == abs(to - start) == ops.preview(flag, after).users_moved
    assert {n for _, n in moved} <= ({"on"} if to > start else {"off"})
    assert after.ranges == ()  # two variants always stay one range each (plain flagd form)


def test_the_reported_case_keeps_every_user_who_had_the_feature() -> None:
    flag = validate_flag(Flag(key="ck", on=True, rollout={"off": 90, "on": 10}), None, "t")
    after = ops.set_rollout(flag, 20)
    old, new = served(flag), served(after)
    assert all(n == "on" for o, n in zip(old, new, strict=True) if o == "on")
    assert ops.preview(flag, after).describe() == "10% of users change variant (10% off → on)"


def test_a_reweight_that_needs_two_ranges_keeps_the_flagd_form_and_evaluates_alike() -> None:
    from turnout.backend.flags.flagd_export import export_flagd
    from turnout.backend.flags.flagd_import import import_flagd

    flag = Flag(key="abn", kind="string", variants={n: n for n in "abcd"}, on=True,
                off_variant="a", default_variant="a", rollout={"a": 25, "b": 25, "c": 25, "d": 25})
    after = validate_flag(ops.set_weights(flag, {"a": 35, "b": 35, "c": 15, "d": 15}), None, "t")
    assert after.ranges and len(layout_of(after)) > 4
    flagset = flagset_from_obj({"flags": {"abn": to_builtins(after)}})
    assert import_flagd(export_flagd(flagset)) == flagset
