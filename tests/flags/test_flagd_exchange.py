"""flagd exchange: every accepted construct evaluates as flagd-core does; round trips are exact;
what Turnout cannot hold is refused with its JSON path."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.codec import flagset_from_obj, to_builtins
from turnout.backend.flags.evaluate import Evaluator
from turnout.backend.flags.flagd_export import export_flagd
from turnout.backend.flags.flagd_import import import_flagd
from turnout.backend.flags.model import Flag, FlagSet

from . import flagd_gen

flagd_core = pytest.importorskip("openfeature.contrib.tools.flagd.core")
from openfeature.evaluation_context import EvaluationContext  # noqa: E402


def _core(doc: dict[str, Any]) -> Any:
    core = flagd_core.FlagdCore()
    core.set_flags(json.loads(json.dumps(doc)))
    return core


def _flagd(core: Any, key: str, ctx: dict[str, Any]) -> tuple[str | None, str]:
    attrs = {k: v for k, v in ctx.items() if k != "targetingKey"}
    context = EvaluationContext(targeting_key=ctx.get("targetingKey"), attributes=attrs)
    details = core.resolve_string_value(key, "code-default", context)
    return details.variant, str(details.reason)


def test_every_accepted_construct_evaluates_as_flagd_core_over_10000_contexts() -> None:
    rng = random.Random(14)
    doc = flagd_gen.document(rng, flags=10)
    flagset = import_flagd(doc)
    ours = Evaluator(flagset)
    theirs, exported = _core(doc), _core(export_flagd(flagset))
    divergences = []
    reasons = set()
    for number, ctx in enumerate(flagd_gen.contexts(rng, 10_000)):
        for key in doc["flags"]:
            mine = ours.evaluate(key, ctx)
            reasons.add(str(mine.reason))
            variant, reason = _flagd(theirs, key, ctx)
            # Turnout's own export of what it imported, on a share of the contexts.
            again = _flagd(exported, key, ctx) if number % 4 == 0 else (variant, reason)
            if reason == "DISABLED":
                same = str(mine.reason) == "DISABLED" and again[1] == "DISABLED"
            else:
                same = mine.variant == variant == again[0]
            if not same:
                divergences.append((key, ctx, mine.variant, variant, again[0]))
    assert divergences == []
    assert reasons == {"TARGETING_MATCH", "SPLIT", "DEFAULT", "DISABLED", "ERROR"}


def test_the_generated_documents_reach_every_construct() -> None:
    rng = random.Random(14)
    text = json.dumps(flagd_gen.document(rng, flags=10), ensure_ascii=False)
    for construct in ('"or"', '"and"', '"!"', '"$ref"', '"fractional"', '"starts_with"', '"ends_with"',
                      '"if": [{"in": [{"var": "targetingKey"}', "DISABLED"):
        assert construct in text, construct
    assert "ü" in text and "日本" in text
    doc = flagd_gen.document(random.Random(14), flags=10)
    nested = [f for f in doc["flags"].values() if "targeting" in f and '"if"' in json.dumps(
        f["targeting"].get("if", [None])[-1])]
    assert nested, "no nested if in an else branch"


def _doc(targeting: Any, evaluators: dict[str, Any] | None = None) -> dict[str, Any]:
    flag = {"state": "ENABLED", "variants": {"a": "A", "b": "B"}, "defaultVariant": "a",
            "targeting": targeting}
    return {"flags": {"f": flag}, **({"$evaluators": evaluators} if evaluators else {})}


def _variant(flagset: FlagSet, **ctx: Any) -> str | None:
    return Evaluator(flagset).evaluate("f", ctx).variant


def test_or_inside_evaluators_stays_or() -> None:
    starts = {"or": [{"starts_with": [{"var": "email"}, "x"]}, {"starts_with": [{"var": "email"}, "y"]}]}
    flagset = import_flagd(_doc({"if": [{"$ref": "s"}, "b", "a"]}, {"s": starts}))
    assert _variant(flagset, targetingKey="u", email="y@z") == "b"
    assert import_flagd(export_flagd(flagset)) == flagset


def test_a_ref_before_a_key_list_keeps_its_place() -> None:
    doc = _doc({"if": [{"$ref": "s"}, "b", {"in": [{"var": "targetingKey"}, ["u1"]]}, "a", "a"]},
               {"s": {"in": [{"var": "plan"}, ["pro"]]}})
    flagset = import_flagd(doc)
    assert _variant(flagset, targetingKey="u1", plan="pro") == "b"  # the rule comes first
    assert _variant(flagset, targetingKey="u1") == "a"
    assert import_flagd(export_flagd(flagset)) == flagset


def test_a_nested_if_in_the_else_branch_is_a_chain() -> None:
    doc = _doc({"if": [{"in": [{"var": "plan"}, ["pro"]]}, "b",
                       {"if": [{"in": [{"var": "targetingKey"}, ["u1"]]}, "b", "a"]}]})
    flagset = import_flagd(doc)
    assert [_variant(flagset, targetingKey=k, plan=p) for k, p in (("u", "pro"), ("u1", ""), ("u", ""))] == \
        ["b", "b", "a"]


@pytest.mark.parametrize(("targeting", "evaluators", "path"), [
    ({"if": [{"in": [{"var": "plan"}, ["pro"]]}, {"if": [{"in": [{"var": "x"}, ["y"]]}, "a", "b"]}, "a"]},
     None, "flags.f.targeting.if[1]"),
    ({"if": [{"$ref": "s"}, "b"]}, {"s": {"or": [{"in": [{"var": "plan"}, ["pro"]]},
                                                 {"starts_with": [{"var": "email"}, "x"]}]}},
     "$evaluators.s.or"),
    ({"if": [{"!": {"starts_with": [{"var": "email"}, "x"]}}, "b"]}, None, "flags.f.targeting.if[0].!"),
    ({"if": [{"==": [{"var": "plan"}, "pro"]}, "b"]}, None, "flags.f.targeting.if[0]"),
    ({"if": [{"$ref": "nope"}, "b"]}, None, "flags.f.targeting.if[0]"),
    ({"fractional": [{"var": "email"}, ["a", 50], ["b", 50]]}, None, "flags.f.targeting.fractional"),
    ({"fractional": [["a", 1], ["b", 2]]}, None, "flags.f.targeting.fractional"),
    ({"fractional": [["a", "50"], ["b", 50]]}, None, "flags.f.targeting.fractional[0]"),
    ({"if": [{"in": [{"var": "email"}, "example"]}, "b"]}, None, "flags.f.targeting.if[0].in[1]"),
])  # fmt: skip
def test_what_turnout_cannot_hold_is_refused_with_its_path(
    targeting: Any, evaluators: dict[str, Any] | None, path: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        import_flagd(_doc(targeting, evaluators))
    assert caught.value.message.startswith(f"{path}: "), caught.value.message


def test_weights_of_another_total_that_scale_exactly_are_the_same_split() -> None:
    flagset = import_flagd(_doc({"fractional": [["a", 1], ["b", 3]]}))
    assert flagset.flags["f"].rollout == {"a": 25, "b": 75}


# --- round trip over generated Turnout flags --------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
keys = st.from_regex(r"\A[a-z][a-z0-9._-]{0,12}\Z")
variant_names = st.lists(keys, min_size=2, max_size=4, unique=True)
conditions = st.builds(
    lambda attribute, op, values: {"attribute": attribute, "op": op, "values": values},
    st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_-]{0,8}\Z"),
    st.sampled_from(["in", "not_in", "starts_with", "ends_with"]),
    st.lists(text, min_size=1, max_size=3),
)
segments = st.dictionaries(keys, st.fixed_dictionaries(
    {}, optional={"users": st.lists(text, max_size=3, unique=True), "description": text,
                  "conditions": st.lists(conditions, max_size=3), "version": st.integers(0, 9)}),
    max_size=3)


@st.composite
def flagsets(draw: st.DrawFn) -> FlagSet:
    segs = {k: {"key": k, **v} for k, v in draw(segments).items()}
    flags = {}
    for key in draw(st.lists(keys, min_size=1, max_size=3, unique=True)):
        names = draw(variant_names)
        cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(names) - 1, max_size=len(names) - 1)))
        bounds = [0, *cuts, 100]
        rollout = {n: bounds[i + 1] - bounds[i] for i, n in enumerate(names)}
        users = draw(st.lists(text, max_size=4, unique=True))
        flag: dict[str, Any] = {
            "key": key, "kind": "string", "variants": {n: draw(text) for n in names},
            "on": draw(st.booleans()), "off_variant": draw(st.sampled_from(names)),
            "default_variant": draw(st.sampled_from(names)), "description": draw(text),
            "targets": {draw(st.sampled_from(names)): users} if users else {},
            "rules": [{"segment": s, "variant": draw(st.sampled_from(names))}
                      for s in draw(st.lists(st.sampled_from(sorted(segs)), max_size=3))] if segs else [],
            "rollout": rollout if draw(st.booleans()) else {},
            "meta": {"owner": draw(text), "app": draw(text), "tags": draw(st.lists(text, max_size=3))},
            "version": draw(st.integers(0, 50)), "updated_by": draw(text), "read_only": draw(text),
            "updated_at": draw(st.sampled_from([None, datetime(2026, 11, 30, 8, 1, 2, 3000, UTC)])),
        }
        if flag["rollout"] and draw(st.booleans()):
            flag["plan"] = {"stages": [10, 50, 100], "stage": 1, "variant": names[0], "baseline": names[1]}
        flags[key] = flag
    return flagset_from_obj({"segments": segs, "flags": flags})


@settings(max_examples=150, deadline=None)
@given(flagset=flagsets(), reweight=st.integers(0, 100))
def test_export_then_import_is_the_identity(flagset: FlagSet, reweight: int) -> None:
    from turnout.backend.flags.ops import set_weights

    flags = dict(flagset.flags)
    for key, flag in flags.items():  # some flags with a variant in several ranges
        if flag.rollout and reweight % 2:
            names = list(flag.variants)
            weights = {n: 0 for n in names} | {names[-1]: reweight, names[0]: 100 - reweight}
            flags[key] = set_weights(flag, weights)
    flagset = flagset_from_obj(to_builtins(FlagSet(flags=flags, segments=flagset.segments)))
    back = import_flagd(json.loads(json.dumps(export_flagd(flagset))))
    assert back == flagset
    for key, flag in flagset.flags.items():  # orders matter for evaluation, not for ==
        assert list(back.flags[key].rollout.items()) == list(flag.rollout.items())
        assert list(back.flags[key].targets) == list(flag.targets)


def test_the_exported_document_loads_in_flagd_core_with_non_ascii_segments() -> None:
    flagset = flagset_from_obj({
        "segments": {"zh": {"key": "zh", "conditions": [
            {"attribute": "city", "op": "in", "values": ["Zürich", "東京", "a\\b", "$x"]}]}},
        "flags": {"f": {"key": "f", "on": True, "rules": [{"segment": "zh", "variant": "on"}]}}})
    core = _core(export_flagd(flagset))
    details = core.resolve_boolean_value("f", False, EvaluationContext("u", {"city": "東京"}))
    assert details.variant == "on"
    assert isinstance(flagset.flags["f"], Flag)


json_scalar = st.none() | st.booleans() | st.integers(-3, 200) | st.sampled_from(["a", "b", "x", "ü"])
logic = st.recursive(
    json_scalar | st.just({"var": "targetingKey"}) | st.just({"var": "email"}),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["if", "in", "or", "and", "!", "starts_with", "ends_with", "fractional", "$ref",
                         "var", "=="]), inner, min_size=1, max_size=2),
    max_leaves=14,
)


@settings(max_examples=400, deadline=None)
@given(targeting=logic, evaluator=logic, state=json_scalar | st.sampled_from(["ENABLED", "DISABLED"]))
def test_any_document_imports_or_is_refused_with_a_path(targeting: Any, evaluator: Any, state: Any) -> None:
    doc = {"$evaluators": {"s": evaluator}, "flags": {"f": {
        "state": state, "variants": {"a": "A", "b": "B"}, "defaultVariant": "a", "targeting": targeting}}}
    try:
        flagset = import_flagd(doc)
    except InvalidInput as exc:
        assert exc.message.split(":")[0].startswith(("flags.f", "$evaluators.s", "segments.", "flagd"))
        return
    ours = Evaluator(flagset)
    cores = [_core(export_flagd(flagset))]
    if "\\u" not in json.dumps(doc):  # flagd-core's $ref splicing breaks on escapes
        cores.append(_core(doc))
    for ctx in ({"targetingKey": "u", "email": "x"}, {"targetingKey": "a", "email": "b"}, {"email": "ü"},
                {"targetingKey": "x", "email": 7}):
        mine = ours.evaluate("f", ctx)
        for core in cores:
            variant, reason = _flagd(core, "f", ctx)
            assert (str(mine.reason) == "DISABLED") if reason == "DISABLED" else mine.variant == variant, ctx
