"""The bucketing rule is explicit: evaluation, explain, export and import honour it."""

from __future__ import annotations

import json
from typing import Any

import mmh3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.bucketing import bucket_by_rule, bucket_of, concat_bucket
from turnout.backend.flags.codec import flagset_from_obj
from turnout.backend.flags.evaluate import Evaluator, Reason
from turnout.backend.flags.flagd_export import export_flagd
from turnout.backend.flags.flagd_import import import_flagd
from turnout.backend.flags.jsmurmur import js_murmur3

from .shapes import BOOLEAN_ROLLOUT, SEGMENT_ROLLOUT, THREE_WAY_AB, flagset_doc

# imurmurhash 0.1.4 (what Node's @openfeature/flagd-core 4.0.1 hashes with), computed by Node:
# Latin-1, CJK, astral (surrogate pairs) and code units >= 0x8000 in the last partial block,
# which that library skips (a negative int32).
NODE_VECTORS = {
    "": 0,
    "ck": 0xA1EBDA6D,
    "é": 0x44C6D4B2,
    "naïve-ü": 0xA8EE13EF,
    "用户": 0x799D1261,
    "flag😀": 0x31EBF24F,
    "abcd\u9fff": 0x8CE45400,
}


def _ck(rule: str) -> Evaluator:
    doc = flagset_doc({"key": "ck", "on": True, "rollout": {"on": 30, "off": 70}, "bucketing": rule})
    return Evaluator(flagset_from_obj(doc))


def test_the_issue_example_node_and_v3_disagree_and_each_rule_matches_its_side() -> None:
    users = [f"user-{i}" for i in range(4)]
    legacy = [_ck("concat").evaluate("ck", {"targetingKey": u}).variant for u in users]
    v3 = [_ck("cbor").evaluate("ck", {"targetingKey": u}).variant for u in users]
    assert legacy == ["off", "off", "off", "on"]  # what Node flagd-provider 0.16 serves
    assert v3 == ["off", "off", "on", "off"]  # what Python flagd-core 2.x serves


def test_default_rule_is_cbor() -> None:
    flagset = flagset_from_obj(flagset_doc(BOOLEAN_ROLLOUT))
    assert flagset.flags["new-checkout"].bucketing == "cbor"


def test_js_hash_matches_the_node_library_on_fixed_vectors() -> None:
    for text, expected in NODE_VECTORS.items():
        assert js_murmur3(text) == expected, text


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=80))
def test_js_hash_of_ascii_is_murmur3_of_the_bytes(text: str) -> None:
    assert js_murmur3(text) == mmh3.hash(text.encode(), signed=False)


@given(flag=st.text(min_size=1, max_size=30), user=st.text(min_size=1, max_size=30))
def test_bucket_by_rule_picks_the_rule(flag: str, user: str) -> None:
    try:
        user.encode()
        flag.encode()
    except UnicodeEncodeError:
        return
    assert bucket_by_rule("cbor", flag, user) == bucket_of(flag, user)
    assert bucket_by_rule("concat", flag, user) == concat_bucket(flag, user)
    assert 0 <= concat_bucket(flag, user) < 100


def test_concat_split_without_key_is_an_error_with_the_default() -> None:
    result = _ck("concat").evaluate("ck", {"email": "a@b.c"})
    assert result.reason == Reason.ERROR and result.variant == "off"
    assert "targetingKey" in result.error


def test_batch_and_single_agree_under_concat() -> None:
    doc = flagset_doc(
        *({**shape, "bucketing": "concat"} for shape in (BOOLEAN_ROLLOUT, THREE_WAY_AB, SEGMENT_ROLLOUT))
    )
    evaluator = Evaluator(flagset_from_obj(doc))
    for i in range(300):
        ctx = {"targetingKey": f"u-{i}-ß", "email": f"p{i}@example.com" if i % 5 == 0 else "x@y.z"}
        batch = evaluator.evaluate_all(ctx)
        assert batch == [evaluator.evaluate(r.flag, ctx) for r in batch]


def _mixed_doc() -> dict[str, Any]:
    return flagset_doc({**BOOLEAN_ROLLOUT, "bucketing": "concat"}, THREE_WAY_AB, SEGMENT_ROLLOUT)


def test_export_names_the_rule_per_flag_and_for_the_file_when_uniform() -> None:
    mixed = export_flagd(flagset_from_obj(_mixed_doc()))
    assert mixed["flags"]["new-checkout"]["metadata"]["bucketing"] == "concat"
    assert mixed["flags"]["pricing-page"]["metadata"]["bucketing"] == "cbor"
    assert "bucketing" not in mixed.get("metadata", {})
    uniform = export_flagd(flagset_from_obj(flagset_doc({**THREE_WAY_AB, "bucketing": "concat"})))
    assert uniform["metadata"]["bucketing"] == "concat"


def test_import_restores_the_rule_and_reads_the_file_default() -> None:
    flagset = flagset_from_obj(_mixed_doc())
    assert import_flagd(export_flagd(flagset)) == flagset
    doc = export_flagd(flagset_from_obj(flagset_doc(THREE_WAY_AB)))
    del doc["flags"]["pricing-page"]["metadata"]["bucketing"]
    doc["metadata"] = {"bucketing": "concat"}
    assert import_flagd(doc).flags["pricing-page"].bucketing == "concat"
    del doc["metadata"]
    assert import_flagd(doc).flags["pricing-page"].bucketing == "cbor"


def test_import_refuses_an_unknown_rule_with_the_path() -> None:
    doc = export_flagd(flagset_from_obj(flagset_doc(THREE_WAY_AB)))
    doc["flags"]["pricing-page"]["metadata"]["bucketing"] = "sha1"
    with pytest.raises(InvalidInput, match=r"flags\.pricing-page\.bucketing"):
        import_flagd(doc)


def test_explain_names_the_rule_and_its_bucket(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from turnout.backend.cli import main

    path = tmp_path / "flags.json"
    path.write_text(json.dumps(flagset_doc({"key": "ck", "on": True, "rollout": {"on": 30, "off": 70},
                                            "bucketing": "concat"})))
    assert main(["flags", "explain", "ck", "--user", "user-3", "-o", "json",
                 "--flags-url", path.as_uri()]) == 0
    view = json.loads(capsys.readouterr().out)
    assert view["rule"].startswith("concat ")
    assert view["bucket"] == concat_bucket("ck", "user-3") and view["variant"] == "on"


async def test_console_explain_uses_the_flag_rule(tmp_path: Any) -> None:
    from turnout.backend.flags.flag_console import FlagConsole
    from turnout.backend.flags.local import FileStore

    path = tmp_path / "flags.json"
    path.write_text(json.dumps(flagset_doc({"key": "ck", "on": True, "rollout": {"on": 30, "off": 70},
                                            "bucketing": "concat"})))
    console = FlagConsole(FileStore(path, _gate()))
    result, bucket, rule = await console.explain("ck", {"targetingKey": "user-3"})
    assert rule.startswith("concat: ")
    assert bucket == concat_bucket("ck", "user-3") != bucket_of("ck", "user-3")
    assert result.variant == "on"
    with pytest.raises(InvalidInput):
        await console.explain("ck", {"targetingKey": ""})


def _gate() -> Any:
    from turnout.backend.gate import WriteGate

    return WriteGate(read_only=True)


async def test_a_flag_on_the_default_rule_is_stored_without_the_field(tmp_path: Any) -> None:
    """Readers built before the field existed refuse unknown fields: they must still load
    every flag that keeps the default rule."""
    from turnout.backend.flags.codec import decode_flag, encode
    from turnout.backend.flags.local import FileStore
    from turnout.backend.gate import WriteGate

    flagset = flagset_from_obj(_mixed_doc())
    default, legacy = flagset.flags["pricing-page"], flagset.flags["new-checkout"]
    assert "bucketing" not in json.loads(encode(default))
    assert json.loads(encode(legacy))["bucketing"] == "concat"
    assert decode_flag(encode(default), "f") == default and decode_flag(encode(legacy), "f") == legacy
    store = FileStore(tmp_path / "flags.json", WriteGate())
    await store.import_flagset(flagset, by="t", reason="")
    saved = json.loads((tmp_path / "flags.json").read_text())
    assert "bucketing" not in saved["flags"]["pricing-page"]
    assert saved["flags"]["new-checkout"]["bucketing"] == "concat"
    assert (await store.snapshot()).flags["new-checkout"].bucketing == "concat"
