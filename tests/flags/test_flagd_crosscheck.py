"""Turnout's variant equals openfeature-flagd-core's on the exported flagd JSON."""

from __future__ import annotations

import random
from typing import Any

import pytest

from turnout.backend.flags.codec import flagset_from_obj
from turnout.backend.flags.evaluate import Evaluator, Reason
from turnout.backend.flags.flagd_export import export_flagd
from turnout.backend.flags.flagd_import import import_flagd

from .shapes import BOOLEAN_ROLLOUT, SEGMENT_ROLLOUT, THREE_WAY_AB, flagset_doc

flagd_core = pytest.importorskip("openfeature.contrib.tools.flagd.core")
from openfeature.evaluation_context import EvaluationContext  # noqa: E402

DOMAINS = ["@example.com", "@corp.io", "@gmail.com", "@example.com.evil.io"]


def _contexts(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    contexts = []
    for _ in range(count):
        key = rng.choice(
            [
                f"user-{rng.randrange(200)}",
                f"u{rng.getrandbits(64):x}",
                "ü-ñ",
                f"long-{rng.getrandbits(200):x}",
            ]
        )
        contexts.append({"targetingKey": key, "email": f"p{rng.randrange(99)}{rng.choice(DOMAINS)}"})
    return contexts


def _flagd_variant(core: Any, key: str, ctx: dict[str, Any]) -> str | None:
    attrs = {k: v for k, v in ctx.items() if k != "targetingKey"}
    context = EvaluationContext(targeting_key=ctx["targetingKey"], attributes=attrs)
    resolve = core.resolve_string_value if key == "pricing-page" else core.resolve_boolean_value
    default: Any = "none" if key == "pricing-page" else False
    variant: str | None = resolve(key, default, context).variant
    return variant


@pytest.mark.parametrize("shape", [BOOLEAN_ROLLOUT, THREE_WAY_AB, SEGMENT_ROLLOUT])
def test_same_variant_as_flagd_for_10000_contexts(shape: dict[str, Any]) -> None:
    flagset = flagset_from_obj(flagset_doc(shape))
    core = flagd_core.FlagdCore()
    core.set_flags(export_flagd(flagset))
    ours = Evaluator(flagset)
    reasons = set()
    for ctx in _contexts(10_000, seed=len(shape["key"])):
        result = ours.evaluate(shape["key"], ctx)
        reasons.add(result.reason)
        assert result.variant == _flagd_variant(core, shape["key"], ctx), ctx
    assert Reason.SPLIT in reasons


def test_segment_shape_exercises_every_branch() -> None:
    ours = Evaluator(flagset_from_obj(flagset_doc(SEGMENT_ROLLOUT)))
    reasons = {ours.evaluate("search-v2", c).reason for c in _contexts(2000, seed=3)}
    assert reasons == {Reason.SPLIT, Reason.TARGETING_MATCH}


def test_killed_flag_is_disabled_in_flagd_too() -> None:
    flagset = flagset_from_obj(flagset_doc({**BOOLEAN_ROLLOUT, "on": False}))
    core = flagd_core.FlagdCore()
    core.set_flags(export_flagd(flagset))
    details = core.resolve_boolean_value("new-checkout", False, EvaluationContext("user-1"))
    assert details.reason == "DISABLED"
    assert Evaluator(flagset).evaluate("new-checkout", {"targetingKey": "user-1"}).variant == "off"


def test_export_import_round_trip_keeps_everything() -> None:
    flagset = flagset_from_obj(flagset_doc(BOOLEAN_ROLLOUT, THREE_WAY_AB, SEGMENT_ROLLOUT))
    assert import_flagd(export_flagd(flagset)) == flagset
