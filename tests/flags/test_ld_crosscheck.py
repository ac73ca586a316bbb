"""Turnout's reading of LaunchDarkly flags evaluates as LaunchDarkly's own server SDK does,
except for the fallthrough's bucket assignment — or the flag is read-only with a reason."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnout.backend.flags.evaluate import Evaluator
from turnout.backend.flags.ld_mapping import map_environment, variant_names
from turnout.backend.flags.validate import validate_flagset

from . import ld_gen

ldclient = pytest.importorskip("ldclient")
from ldclient import Context, LDClient  # noqa: E402
from ldclient.config import Config  # noqa: E402
from ldclient.integrations import Files  # noqa: E402


def _sdk(tmp_path: Path, flags: list[dict[str, Any]], segments: list[dict[str, Any]]) -> Any:
    data = tmp_path / "ld.json"
    data.write_text(json.dumps({"flags": {f["key"]: ld_gen.sdk_flag(f) for f in flags},
                                "segments": {s["key"]: ld_gen.sdk_segment(s) for s in segments}}))
    config = Config("sdk-test", update_processor_class=Files.new_data_source(paths=[str(data)]),
                    send_events=False, diagnostic_opt_out=True)
    client = LDClient(config=config, start_wait=10)
    assert client.is_initialized()
    return client


def _context(ctx: dict[str, Any]) -> Any:
    builder = Context.builder(ctx["targetingKey"])
    for name, value in ctx.items():
        if name != "targetingKey":
            builder.set(name, value)
    return builder.build()


def test_turnout_evaluates_as_the_launchdarkly_sdk_or_marks_the_flag_read_only(tmp_path: Path) -> None:
    rng = random.Random(4)
    segment_keys = [f"seg-{i}" for i in range(5)]
    segments = [ld_gen.segment(rng, key) for key in segment_keys]
    flags = []
    for index in range(60):
        flags.append(ld_gen.flag(rng, f"flag-{index}", segment_keys, [f["key"] for f in flags]))
    flagset = map_environment(flags, segments, "production")
    client = _sdk(tmp_path, flags, segments)
    ours = Evaluator(flagset)
    editable = [f for f in flags if not flagset.flags[f["key"]].read_only]
    reasons = Counter(r.split(" (")[0] for f in flagset.flags.values() for r in f.read_only.split("; ") if r)
    divergences, kinds = [], Counter()
    for ctx in ld_gen.contexts(rng, 10_000):
        context = _context(ctx)
        for raw in editable:
            key = raw["key"]
            detail = client.variation_detail(key, context, "code-default")
            kinds[detail.reason["kind"]] += 1
            mine = ours.evaluate(key, ctx)
            if detail.reason["kind"] == "FALLTHROUGH" and "rollout" in raw["environments"]["production"][
                    "fallthrough"]:
                same = str(mine.reason) == "SPLIT"  # the bucket assignment differs, by design
            else:
                names = variant_names(raw)
                same = mine.variant == names[detail.variation_index]
            if not same:
                divergences.append((key, ctx, mine.variant, detail.variation_index, detail.reason))
    client.close()
    assert divergences[:5] == []
    assert len(editable) >= 15 and set(kinds) == {"OFF", "TARGET_MATCH", "RULE_MATCH", "FALLTHROUGH"}
    for reason in ("prerequisites", "off serves the code default", "a negated segment clause",
                   "negated clause on", "clause operator", "an experiment rollout", "a rollout bucketed by",
                   "fallthrough weights sum to"):
        assert any(r.startswith(reason) for r in reasons), (reason, reasons)


ld_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 100_001) | st.sampled_from(["in", "x", "key", "rollout"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["on", "offVariation", "fallthrough", "rollout", "variations", "variation", "weight", "targets",
         "values", "rules", "clauses", "op", "attribute", "negate", "prerequisites", "bucketBy"]),
        inner, max_size=4),
    max_leaves=16,
)


@settings(max_examples=300, deadline=None)
@given(env=ld_json, variations=ld_json, segment=ld_json)
def test_a_malformed_flag_never_breaks_the_snapshot(env: Any, variations: Any, segment: Any) -> None:
    good = ld_gen.flag(random.Random(1), "good", [], [])
    bad = {"key": "bad", "kind": "multivariate", "variations": variations,
           "environments": {"production": env}}
    segments = [segment, {"key": "s", "included": ["u"]}] if isinstance(segment, dict) else [{"key": "s"}]
    flagset = validate_flagset(map_environment([bad, good], segments, "production"))
    assert flagset.flags["good"] == map_environment([good], [], "production").flags["good"]
    assert "bad" in flagset.flags
    Evaluator(flagset).evaluate_all({"targetingKey": "u"})
