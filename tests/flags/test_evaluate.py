"""Evaluation order, reasons and validation messages."""

from __future__ import annotations

import pytest

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.bucketing import bucket_of
from turnout.backend.flags.codec import decode_flagset, flagset_from_obj
from turnout.backend.flags.evaluate import Evaluator, Reason

from .shapes import SEGMENT_ROLLOUT, THREE_WAY_AB, flagset_doc


@pytest.fixture
def evaluator() -> Evaluator:
    return Evaluator(flagset_from_obj(flagset_doc(SEGMENT_ROLLOUT, THREE_WAY_AB)))


def test_individual_target_wins_over_segment(evaluator: Evaluator) -> None:
    result = evaluator.evaluate("search-v2", {"targetingKey": "user-13", "email": "x@example.com"})
    assert (result.variant, result.reason) == ("off", Reason.TARGETING_MATCH)


def test_segment_by_user_list_and_by_email_domain(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("search-v2", {"targetingKey": "user-42"}).variant == "on"
    by_mail = evaluator.evaluate("search-v2", {"targetingKey": "zed", "email": "zed@example.com"})
    assert (by_mail.variant, by_mail.reason) == ("on", Reason.TARGETING_MATCH)


def test_split_reports_the_bucket(evaluator: Evaluator) -> None:
    result = evaluator.evaluate("pricing-page", {"targetingKey": "alice"})
    assert result.reason == Reason.SPLIT
    assert result.bucket == bucket_of("pricing-page", "alice")
    expected = "control" if result.bucket < 34 else "blue" if result.bucket < 67 else "green"
    assert result.variant == expected


def test_off_flag_serves_off_variant() -> None:
    flagset = flagset_from_obj(flagset_doc({**THREE_WAY_AB, "on": False}))
    result = Evaluator(flagset).evaluate("pricing-page", {"targetingKey": "alice"})
    assert (result.value, result.reason) == ("old", Reason.DISABLED)


def test_missing_targeting_key_is_an_error_with_default(evaluator: Evaluator) -> None:
    result = evaluator.evaluate("pricing-page", {"email": "a@b.c"})
    assert (result.variant, result.reason) == ("control", Reason.ERROR)
    assert "targetingKey" in result.error


def test_unknown_flag_and_unhashable_context_do_not_raise(evaluator: Evaluator) -> None:
    assert evaluator.evaluate("nope", {}).reason == Reason.ERROR
    assert not evaluator.is_enabled("nope", {})
    weird = {"targetingKey": ["list"], "email": ["x"]}
    assert evaluator.evaluate("search-v2", weird).reason == Reason.ERROR


def test_batch_equals_single_evaluations(evaluator: Evaluator) -> None:
    ctx = {"targetingKey": "bob", "email": "bob@corp.io"}
    assert evaluator.evaluate_all(ctx) == [
        evaluator.evaluate("search-v2", ctx),
        evaluator.evaluate("pricing-page", ctx),
    ]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"rollout": {"on": 10, "off": 80}}, "flags.f.rollout: weights must sum to 100, got 90"),
        ({"rollout": {"on": -10, "off": 110}}, "flags.f.rollout: weight of 'on' must be"),
        ({"rollout": {"maybe": 100}}, "flags.f.rollout: unknown variant 'maybe'"),
        ({"targets": {"on": ["a", "a"]}}, "flags.f.targets: duplicate user 'a'"),
        ({"rules": [{"segment": "ghosts", "variant": "on"}]}, "flags.f.rules[0].segment: unknown"),
        ({"default_variant": "x"}, "flags.f.default_variant: unknown variant 'x'"),
        ({"plan": {"stages": [50, 25]}}, "flags.f.plan.stages: stages must rise"),
        ({"kind": "integer"}, "flags.f.variants.on: value True is not a integer"),
        ({"rollout": {"on": "ten"}}, "flags.f.rollout[...]: Expected `int`, got `str`"),
    ],
)
def test_bad_definitions_name_the_field(patch: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        flagset_from_obj({"flags": {"f": {"key": "f", **patch}}})
    assert caught.value.message.startswith(message)


def test_duplicate_json_keys_and_malformed_json_are_refused() -> None:
    with pytest.raises(InvalidInput, match="duplicate key 'f'"):
        decode_flagset('{"flags": {"f": {"key": "f"}, "f": {"key": "f"}}}')
    with pytest.raises(InvalidInput, match="malformed JSON"):
        decode_flagset('{"flags": ')
