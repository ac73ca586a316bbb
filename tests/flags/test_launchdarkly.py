"""The LaunchDarkly store against the local REST stand-in."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest

from turnout.backend.errors import Conflict, InvalidInput, ReadOnly, Unavailable
from turnout.backend.flags import ops
from turnout.backend.flags.evaluate import Evaluator
from turnout.backend.flags.launchdarkly import LaunchDarklyStore
from turnout.backend.flags.urls import open_store
from turnout.backend.gate import WriteGate

from .ld_standin import StandIn

TOKEN = "api-secret-token-123"


@pytest.fixture
def standin() -> Iterator[StandIn]:
    server = StandIn(TOKEN)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def store(standin: StandIn) -> AsyncIterator[LaunchDarklyStore]:
    store = LaunchDarklyStore("shop", "production", TOKEN, WriteGate(), base_url=standin.base_url)
    yield store
    await store.close()


async def test_lists_flags_with_targets_and_rollouts(store: LaunchDarklyStore) -> None:
    flags = {f.key: f for f in await store.list()}
    checkout = flags["new-checkout"]
    assert (checkout.on, checkout.rollout, checkout.version) == (True, {"on": 25, "off": 75}, 7)
    assert checkout.targets == {"on": ("qa-1", "qa-2")}
    pricing = flags["pricing-page"]
    assert (pricing.on, pricing.kind) == (False, "string")
    # Its rule without clauses serves everyone: mapped as the fallthrough, and loud about it.
    assert pricing.default_variant == "blue"
    assert pricing.read_only == "a rule without clauses serves everyone"
    assert checkout.read_only == ""


async def test_segment_rules_and_their_segments_are_mapped(store: LaunchDarklyStore) -> None:
    flagset = await store.snapshot()
    checkout = flagset.flags["new-checkout"]
    assert [(r.segment, r.variant) for r in checkout.rules] == [
        ("beta-testers", "on"), ("internal-team", "on"), ("new-checkout.ld-rule-2", "off")]
    country = flagset.segments["new-checkout.ld-rule-2"].conditions
    assert [(c.attribute, c.op, c.values) for c in country] == [("country", "in", ("NZ",))]
    beta, internal = flagset.segments["beta-testers"], flagset.segments["internal-team"]
    assert (beta.users, beta.version) == (("alice", "bob"), 3)
    assert [(c.attribute, c.op, c.values) for c in internal.conditions] == [
        ("email", "ends_with", ("@example.com",))]
    complex_ = flagset.segments["complex"]
    assert complex_.users == ("carol",) and complex_.conditions == ()
    assert complex_.description == "in LaunchDarkly only: segment 'complex': excluded users"
    evaluator = Evaluator(flagset)
    bob = evaluator.evaluate("new-checkout", {"targetingKey": "bob"})
    staff = evaluator.evaluate("new-checkout", {"targetingKey": "x", "email": "x@example.com"})
    assert (bob.variant, bob.reason) == ("on", "TARGETING_MATCH")
    assert (staff.variant, staff.reason) == ("on", "TARGETING_MATCH")
    kiwi = evaluator.evaluate("new-checkout", {"targetingKey": "x", "country": "NZ"})
    assert (kiwi.variant, kiwi.reason) == ("off", "TARGETING_MATCH")


async def test_a_read_only_flag_refuses_every_write(store: LaunchDarklyStore, standin: StandIn) -> None:
    with pytest.raises(ReadOnly, match=r"read-only in Turnout \(a rule without clauses"):
        await store.set_enabled("pricing-page", True, by="a", reason="")
    assert "PATCH" not in {r["method"] for r in standin.requests}


async def test_a_malformed_flag_never_breaks_the_others(store: LaunchDarklyStore, standin: StandIn) -> None:
    broken = {**standin.flags["new-checkout"], "key": "broken"}
    env = broken["environments"]["production"]
    broken["environments"] = {"production": {**env, "fallthrough": {"rollout": {"variations": [
        {"variation": 0, "weight": 60000}, {"variation": 7, "weight": 60000}]}}}}
    standin.flags["broken"] = broken
    standin.flags["odd-weights"] = {**standin.flags["new-checkout"], "key": "odd-weights"}
    standin.flags["odd-weights"]["environments"] = {"production": {**env, "fallthrough": {"rollout": {
        "variations": [{"variation": 0, "weight": 60000}, {"variation": 1, "weight": 60000}]}}}}
    flags = (await store.snapshot()).flags
    assert flags["new-checkout"].read_only == "" and flags["new-checkout"].rollout == {"on": 25, "off": 75}
    assert flags["broken"].read_only.startswith("cannot be read: the rollout names no variation")
    assert flags["odd-weights"].read_only == "fallthrough weights sum to 120000, not 100000"
    assert flags["odd-weights"].rollout == {"on": 60, "off": 40}  # as LaunchDarkly serves them


async def test_a_toggle_keeps_the_mapped_rules(store: LaunchDarklyStore, standin: StandIn) -> None:
    flag = (await store.snapshot()).flags["new-checkout"]
    await store.put(msgspec.structs.replace(flag, on=False), expected_version=flag.version,
                    by="a", reason="r")
    assert [p["path"] for p in standin.requests[-1]["body"]["patch"]] == [
        "/_version", "/environments/production/on"]


async def test_kill_switch_sends_version_test_and_comment(store: LaunchDarklyStore, standin: StandIn) -> None:
    flag = await store.set_enabled("new-checkout", False, by="alice", reason="errors up")
    assert (flag.on, flag.version) == (False, 8)
    patch = standin.requests[-1]
    assert patch["method"] == "PATCH" and patch["headers"]["Authorization"] == TOKEN
    assert patch["body"]["patch"][0] == {"op": "test", "path": "/_version", "value": 7}
    assert patch["body"]["patch"][1]["path"] == "/environments/production/on"
    assert "errors up" in patch["body"]["comment"] and "alice" in patch["body"]["comment"]


async def test_rollout_change_writes_thousandths(store: LaunchDarklyStore, standin: StandIn) -> None:
    current = await store.get("new-checkout")
    await store.put(ops.set_rollout(current, 50), expected_version=7, by="a", reason="stage 3")
    weights = standin.flags["new-checkout"]["environments"]["production"]["fallthrough"]
    assert weights == {"rollout": {"variations": [{"variation": 0, "weight": 50000},
                                                  {"variation": 1, "weight": 50000}]}}  # fmt: skip


async def test_stale_version_is_a_conflict(store: LaunchDarklyStore) -> None:
    current = await store.get("new-checkout")
    with pytest.raises(Conflict):
        await store.put(ops.set_rollout(current, 50), expected_version=6, by="a", reason="")


async def test_unsupported_edits_are_refused_before_sending(
    store: LaunchDarklyStore, standin: StandIn
) -> None:
    current = await store.get("new-checkout")
    with pytest.raises(InvalidInput, match="edit targets in LaunchDarkly"):
        await store.put(ops.target_user(current, "bob", "on"), expected_version=7, by="a", reason="")
    assert all(r["method"] == "GET" for r in standin.requests)


async def test_429_and_5xx_are_retried_honouring_retry_after(
    store: LaunchDarklyStore, standin: StandIn
) -> None:
    standin.fail_next = [(429, {"Retry-After": "0"}), (503, {})]
    store.max_delay = 0.01
    assert (await store.get("new-checkout")).key == "new-checkout"
    assert len([r for r in standin.requests if "/flags/" in r["path"]]) == 3
    standin.fail_next = [(500, {})] * 4
    with pytest.raises(Unavailable):
        await store.get("new-checkout")


async def test_read_only_gate_stops_the_patch(standin: StandIn) -> None:
    store = LaunchDarklyStore(
        "shop", "production", TOKEN, WriteGate(read_only=True), base_url=standin.base_url
    )
    with pytest.raises(ReadOnly):
        await store.set_enabled("new-checkout", False, by="a", reason="")
    assert "PATCH" not in {r["method"] for r in standin.requests}
    await store.close()


async def test_token_comes_from_env_and_is_never_in_errors_or_logs(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("LD_API_KEY", "wrong-" + TOKEN)
    monkeypatch.setenv("LD_BASE_URL", standin.base_url)
    store = open_store("launchdarkly://shop/production", WriteGate())
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Exception) as caught:
        await store.get("new-checkout")
    assert TOKEN not in str(caught.value) and TOKEN not in caplog.text
    assert caught.value.exit_code == 6  # Forbidden
    await store.close()


def test_read_only_and_its_reason_in_list_get_and_json(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from turnout.backend.cli import main

    monkeypatch.setenv("LD_API_KEY", TOKEN)
    monkeypatch.setenv("LD_BASE_URL", standin.base_url)
    url = ["--flags-url", "launchdarkly://shop/production"]
    assert main(["flags", "list", *url]) == 0
    table = capsys.readouterr().out
    assert [line.split()[:3] for line in table.splitlines()[1:]] == [
        ["new-checkout", "on", "on=25,off=75"], ["pricing-page", "OFF", "(read-only)"]]
    assert main(["flags", "get", "pricing-page", *url, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["read_only"] == "a rule without clauses serves everyone"
    assert main(["flags", "off", "pricing-page", *url]) == ReadOnly.exit_code
    assert "read-only in Turnout" in capsys.readouterr().err
