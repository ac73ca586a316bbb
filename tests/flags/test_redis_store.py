"""The Redis store against a real redis-server: CAS, history, notices, outage, reset."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from turnout.backend.errors import Conflict, ReadOnly, Unavailable
from turnout.backend.flags.codec import convert
from turnout.backend.flags.model import Flag, Segment
from turnout.backend.flags.reader import FlagReader, ReaderState
from turnout.backend.flags.redis_store import RedisStore
from turnout.backend.flags.store import StoreReset
from turnout.backend.gate import WriteGate

from .conftest import RedisServer
from .shapes import BOOLEAN_ROLLOUT

pytestmark = pytest.mark.redis


@pytest.fixture
async def store(redis_server: RedisServer) -> AsyncIterator[RedisStore]:
    store = RedisStore(redis_server.url, WriteGate(), timeout=5)
    assert await store.accept_empty(by="test", reason="a new store")
    yield store
    await store.close()


def _flag(**changes: Any) -> Flag:
    return convert({**BOOLEAN_ROLLOUT, **changes}, Flag, "test")


async def _until(predicate: Any, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_injected_writer_loses_no_update_and_first_gets_conflict(
    store: RedisStore, redis_server: RedisServer
) -> None:
    created = await store.put(_flag(), expected_version=None, by="alice", reason="new")
    read_by_first = await store.get("new-checkout")
    other = RedisStore(redis_server.url, WriteGate())
    second = await other.set_enabled("new-checkout", False, by="bob", reason="incident")
    await other.close()
    with pytest.raises(Conflict) as caught:
        changed = msgspec.structs.replace(read_by_first, rollout={"on": 50, "off": 50})
        await store.put(changed, expected_version=read_by_first.version, by="alice", reason="")
    current = await store.get("new-checkout")
    assert (created.version, second.version, current.version) == (1, 2, 2)
    assert current.on is False and current.rollout == {"on": 25, "off": 75}
    assert msgspec.json.decode(caught.value.detail)["version"] == 2


async def test_history_records_who_why_before_after_and_revert(store: RedisStore) -> None:
    await store.put(_flag(), expected_version=None, by="alice", reason="launch")
    await store.set_enabled("new-checkout", False, by="bob", reason="errors up")
    entries = await store.history("new-checkout")
    assert [(e.action, e.by, e.reason) for e in entries] == [
        ("off", "bob", "errors up"),
        ("create", "alice", "launch"),
    ]
    assert entries[0].before is not None and entries[0].before.on is True
    restored = await store.revert("new-checkout", by="carol", reason="false alarm")
    assert restored.on is True and restored.version == 3


async def test_history_is_capped(store: RedisStore) -> None:
    store.history_cap = 3
    await store.put(_flag(), expected_version=None, by="a", reason="")
    for _ in range(5):
        flag = await store.get("new-checkout")
        await store.set_enabled("new-checkout", not flag.on, by="a", reason="")
    assert len(await store.history("new-checkout", 100)) == 3


async def test_read_only_gate_refuses_at_the_wire(redis_server: RedisServer) -> None:
    writer = RedisStore(redis_server.url, WriteGate())
    await writer.accept_empty(by="test", reason="a new store")
    await writer.put(_flag(), expected_version=None, by="a", reason="")
    reader = RedisStore(redis_server.url, WriteGate(read_only=True, why="--read-only"))
    with pytest.raises(ReadOnly):
        await reader.set_enabled("new-checkout", False, by="a", reason="")
    with pytest.raises(ReadOnly):  # even a raw command that bypasses the store's own check
        await reader._redis.hset("turnout:flags:flags", "x", "{}")
    assert (await reader.get("new-checkout")).on is True
    await writer.close()
    await reader.close()


async def test_reader_follows_notices_then_serves_stale_when_redis_stops(
    store: RedisStore, redis_server: RedisServer
) -> None:
    await store.put(_flag(), expected_version=None, by="a", reason="")
    reader = FlagReader(RedisStore(redis_server.url, WriteGate(), timeout=5), retry_seconds=0.1)
    await reader.start()
    assert reader.state == ReaderState.READY
    await store.put(_flag(rollout={"on": 100, "off": 0}), expected_version=1, by="a", reason="")
    await _until(lambda: reader.is_enabled("new-checkout", {"targetingKey": "u"}))
    redis_server.stop()
    await _until(lambda: reader.state == ReaderState.STALE)
    assert reader.stale_since is not None
    assert reader.is_enabled("new-checkout", {"targetingKey": "u"})
    with pytest.raises(Unavailable):
        await store.set_enabled("new-checkout", False, by="a", reason="")
    redis_server.start()  # comes back empty: a reset, not "all flags off"
    await _until(lambda: reader.state == ReaderState.ERROR)
    assert "reset" in reader.message
    assert reader.is_enabled("new-checkout", {"targetingKey": "u"})
    await reader.close()
    await reader.store.close()


async def test_a_reset_store_refuses_writes_until_restored_and_readers_keep_the_old_flags(
    store: RedisStore, redis_server: RedisServer, tmp_path: Any
) -> None:
    await store.put(_flag(), expected_version=None, by="a", reason="")
    other = _flag(key="other", rollout={"on": 100, "off": 0})
    await store.put(other, expected_version=None, by="a", reason="")
    backup = await store.snapshot()
    reader = FlagReader(RedisStore(redis_server.url, WriteGate(), timeout=5), retry_seconds=0.1)
    await reader.start()
    states: list[ReaderState] = []
    reader.listeners.append(lambda state, changed, message: states.append(state))
    redis_server.stop()
    redis_server.start()  # empty
    await _until(lambda: reader.state == ReaderState.ERROR)
    writer = RedisStore(redis_server.url, WriteGate(), timeout=5)  # a new process: no memory
    with pytest.raises(StoreReset, match="reset"):
        await writer.put(_flag(key="x"), expected_version=None, by="b", reason="")
    for verb in (writer.get("other"), writer.set_enabled("other", False, by="b", reason=""), writer.list()):
        with pytest.raises(StoreReset, match="reset"):
            await verb
    assert await writer._redis.hgetall("turnout:flags:flags") == {}  # nothing was written
    assert reader.state == ReaderState.ERROR and ReaderState.READY not in states
    assert reader.is_enabled("other", {"targetingKey": "u"})  # the old values keep serving
    assert await writer.import_flagset(backup, by="b", reason="restore") == 2
    await _until(lambda: reader.state == ReaderState.READY)
    assert reader.is_enabled("other", {"targetingKey": "u"})
    assert (await writer.audit())[0]["action"] == "import"
    await writer.put(_flag(key="x"), expected_version=None, by="b", reason="")  # writable again
    await reader.close()
    await reader.store.close()
    await writer.close()


async def test_accepting_the_empty_store_is_explicit_and_audited(redis_server: RedisServer) -> None:
    writer = RedisStore(redis_server.url, WriteGate(), timeout=5)
    reader = FlagReader(RedisStore(redis_server.url, WriteGate(), timeout=5), retry_seconds=0.1)
    await reader.start()
    assert reader.state == ReaderState.ERROR  # a store nobody initialised is not "no flags"
    assert await writer.accept_empty(by="carol", reason="INC-7: flags were test-only")
    assert not await writer.accept_empty(by="carol", reason="again")
    await _until(lambda: reader.state == ReaderState.READY)
    [entry] = await writer.audit()
    assert (entry["action"], entry["by"]) == ("accept-empty", "carol")
    assert entry["reason"] == "INC-7: flags were test-only"
    await reader.close()
    await reader.store.close()
    await writer.close()


async def test_snapshot_of_a_reset_store_raises_reset(store: RedisStore, redis_server: RedisServer) -> None:
    await store.put(_flag(), expected_version=None, by="a", reason="")
    assert list((await store.snapshot()).flags) == ["new-checkout"]
    redis_server.stop()
    redis_server.start()
    with pytest.raises(StoreReset, match="run_id changed"):
        await store.snapshot()


async def test_segments_cas_and_rules_must_name_existing_segments(store: RedisStore) -> None:
    segment = Segment(key="beta-testers", users=("u1",))
    await store.put_segment(segment, expected_version=None, by="a", reason="")
    with pytest.raises(Conflict):
        await store.put_segment(segment, expected_version=None, by="a", reason="")
    rules = [{"segment": "beta-testers", "variant": "on"}]
    await store.put(_flag(rules=rules), expected_version=None, by="a", reason="")
    snapshot = await store.snapshot()
    assert snapshot.flags["new-checkout"].rules[0].segment == "beta-testers"


async def test_a_dropped_subscription_loses_no_write(store: RedisStore, redis_server: RedisServer) -> None:
    await store.put(_flag(), expected_version=None, by="a", reason="")
    reader = FlagReader(RedisStore(redis_server.url, WriteGate(), timeout=5), retry_seconds=0.1)
    await reader.start()

    async def listening() -> None:
        for _ in range(1500):  # 30 s: the reader resubscribes late on a loaded machine
            if (await store._redis.pubsub_numsub(store.channel))[0][1]:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the reader never subscribed")

    try:
        for on in (False, True, False):  # the server drops the reader's pub/sub, a write lands
            await listening()
            assert await store._redis.client_kill_filter(_type="pubsub") >= 1
            await store.set_enabled("new-checkout", on, by="a", reason="")
            await _until(lambda on=on: (reader.evaluate("new-checkout", {"targetingKey": "u"}).reason
                                        == "DISABLED") is not on)
    finally:
        await reader.close()
        await reader.store.close()


def test_cli_on_a_reset_store_says_reset_until_accepted(
    redis_server: RedisServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from turnout.backend.cli import main

    monkeypatch.setenv("TURNOUT_FLAGS_URL", redis_server.url)
    writes = (["create", "x", "--yes"], ["off", "x", "--yes"], ["revert", "x", "--yes"])
    for argv in (*writes, ["get", "x"], ["list"], ["history", "x"]):
        assert main(["flags", *argv]) == StoreReset.exit_code
        err = capsys.readouterr().err
        assert "was reset" in err and err.count("\n") == 1, err
    assert main(["flags", "accept-empty", "--reason", "new store"]) == 2  # not confirmed in a script
    assert main(["flags", "accept-empty", "--dry-run", "--reason", "new store"]) == 0
    assert main(["flags", "create", "x", "--yes"]) == StoreReset.exit_code
    assert main(["flags", "accept-empty", "--yes", "--reason", "new store"]) == 0
    assert main(["flags", "create", "x", "--yes"]) == 0
