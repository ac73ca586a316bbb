"""Property tests: bucketing, monotonic rollouts, validation of random input."""

from __future__ import annotations

from typing import Any

import mmh3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.bucketing import bucket_of
from turnout.backend.flags.codec import flagset_from_obj
from turnout.backend.flags.evaluate import Evaluator, Reason

cbor2 = pytest.importorskip("cbor2")

safe_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@given(flag_key=safe_text, user=safe_text, total=st.integers(1, 10_000))
def test_bucket_matches_reference_cbor_encoding(flag_key: str, user: str, total: int) -> None:
    reference = mmh3.hash(cbor2.dumps([flag_key, user], canonical=True), signed=False)
    assert bucket_of(flag_key, user, total) == (reference * total) >> 32


def _rollout_flagset(percent: int) -> Evaluator:
    doc = {"flags": {"f": {"key": "f", "on": True, "rollout": {"on": percent, "off": 100 - percent}}}}
    return Evaluator(flagset_from_obj(doc))


@settings(max_examples=50)
@given(
    low=st.integers(0, 100),
    high=st.integers(0, 100),
    users=st.lists(safe_text, min_size=1, max_size=50),
)
def test_raising_rollout_only_adds_users(low: int, high: int, users: list[str]) -> None:
    low, high = sorted((low, high))
    before, after = _rollout_flagset(low), _rollout_flagset(high)
    for user in users:
        ctx = {"targetingKey": user}
        if before.is_enabled("f", ctx):
            assert after.is_enabled("f", ctx)


def test_rollout_share_is_close_to_the_percentage() -> None:
    evaluator = _rollout_flagset(25)
    enabled = sum(evaluator.is_enabled("f", {"targetingKey": f"user-{i}"}) for i in range(20_000))
    assert 0.23 < enabled / 20_000 < 0.27


json_scalars = st.none() | st.booleans() | st.integers(-5, 120) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
flag_fields = st.fixed_dictionaries(
    {"key": st.just("f")},
    optional={
        "kind": st.sampled_from(["boolean", "string", "integer", "weird"]),
        "variants": st.dictionaries(st.sampled_from(["on", "off", "a", ""]), json_scalars),
        "on": json_scalars,
        "default_variant": st.sampled_from(["on", "off", "a", "zz"]),
        "off_variant": st.sampled_from(["on", "off", "a", "zz"]),
        "rollout": st.dictionaries(st.sampled_from(["on", "off", "a"]), st.integers(-10, 110)),
        "targets": st.dictionaries(st.sampled_from(["on", "off"]), st.lists(st.sampled_from("xyz"))),
        "rules": st.lists(st.fixed_dictionaries({"segment": st.text(max_size=3), "variant": json_scalars})),
        "plan": json_values,
        "bogus": json_values,
    },
)


@settings(max_examples=300)
@given(fields=flag_fields, user=safe_text)
def test_random_definitions_are_refused_cleanly_or_evaluate(fields: dict[str, Any], user: str) -> None:
    try:
        flagset = flagset_from_obj({"flags": {"f": fields}})
    except InvalidInput as exc:
        assert exc.message.split(":")[0].startswith(("flags.f", "flags document"))
        return
    flag = flagset.flags["f"]
    assert sum(flag.rollout.values()) in (0, 100)
    result = Evaluator(flagset).evaluate("f", {"targetingKey": user})
    assert result.variant in flag.variants
    assert result.reason != Reason.ERROR
