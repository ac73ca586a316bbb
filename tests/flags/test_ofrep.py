"""The OFREP endpoint against a real aiohttp server: shapes, errors, ETag, auth, limits, staleness."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from turnout.backend.errors import ConfigError
from turnout.backend.flags.codec import flagset_from_obj
from turnout.backend.flags.evaluate import Evaluator
from turnout.backend.flags.local import MemoryStore
from turnout.backend.flags.ofrep_server import RateLimiter, ServeOptions
from turnout.backend.flags.reader import FlagReader, ReaderState
from turnout.backend.flags.redis_store import RedisStore
from turnout.backend.gate import WriteGate

from .conftest import RedisServer
from .ofrep_harness import eventually, running
from .shapes import BOOLEAN_ROLLOUT, SEGMENT_ROLLOUT, THREE_WAY_AB, flagset_doc

ONE = "/ofrep/v1/evaluate/flags/"
BULK = "/ofrep/v1/evaluate/flags"


def _flagset() -> Any:
    return flagset_from_obj(flagset_doc(BOOLEAN_ROLLOUT, THREE_WAY_AB, SEGMENT_ROLLOUT))


@pytest.fixture
async def store() -> AsyncIterator[MemoryStore]:
    yield MemoryStore(WriteGate(), _flagset())


@pytest.fixture
async def reader(store: MemoryStore) -> AsyncIterator[FlagReader]:
    flags = FlagReader(store)
    await flags.start()
    yield flags
    await flags.close()


async def test_single_evaluation_has_the_protocol_shape_and_turnouts_answer(reader: FlagReader) -> None:
    ours = Evaluator(_flagset())
    async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
        for user in ("alice", "user-7", "bob@x"):
            ctx = {"targetingKey": user, "email": f"{user}@example.com"}
            response = await http.post(ONE + "search-v2", json={"context": ctx})
            assert response.status_code == 200
            body = response.json()
            expected = ours.evaluate("search-v2", ctx)
            assert body["key"] == "search-v2" and body["value"] is expected.value
            assert body["variant"] == expected.variant and body["reason"] == str(expected.reason)
            assert body["metadata"]["bucketing"] == "cbor" and "stale" not in body["metadata"]


@pytest.mark.parametrize(
    ("path", "payload", "status", "code"),
    [
        (ONE + "nope", b'{"context": {"targetingKey": "a"}}', 404, "FLAG_NOT_FOUND"),
        (ONE + "new-checkout", b'{"context": {', 400, "PARSE_ERROR"),
        (ONE + "new-checkout", b"[1, 2]", 400, "PARSE_ERROR"),
        (ONE + "new-checkout", b'{"context": {"email": "a@b.c"}}', 400, "TARGETING_KEY_MISSING"),
        (ONE + "new-checkout", b'{"context": "alice"}', 400, "INVALID_CONTEXT"),
        (ONE + "new-checkout", b'{"context": {"targetingKey": 7}}', 400, "INVALID_CONTEXT"),
        (ONE + "new-checkout", b'{"context": {"targetingKey": "' + b"x" * (1 << 20) + b'"}}',
         400, "INVALID_CONTEXT"),
        (BULK, b"{nope", 400, "PARSE_ERROR"),
        (BULK, b'{"context": ' + b" " * (1 << 20) + b"{}}", 400, "INVALID_CONTEXT"),
    ],
)
async def test_bad_requests_get_the_protocol_error_and_the_server_keeps_serving(
    reader: FlagReader, path: str, payload: bytes, status: int, code: str
) -> None:
    async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post(path, content=payload, headers={"Content-Type": "application/json"})
        assert response.status_code == status
        body = response.json()
        assert body["errorCode"] == code and body["errorDetails"]
        if path != BULK:
            assert body["key"] == path.rsplit("/", 1)[1]
        after = await http.post(ONE + "pricing-page", json={"context": {"targetingKey": "a"}})
        assert after.status_code == 200 and after.json()["variant"]


async def test_bulk_etag_304_and_a_kill_switch_changes_it(reader: FlagReader, store: MemoryStore) -> None:
    ctx = {"context": {"targetingKey": "user-3"}}
    async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
        first = await http.post(BULK, json=ctx)
        assert first.status_code == 200
        flags = {f["key"]: f for f in first.json()["flags"]}
        assert set(flags) == {"new-checkout", "pricing-page", "search-v2"}
        tag = first.headers["ETag"]
        again = await http.post(BULK, json=ctx, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["ETag"] == tag
        await store.set_enabled("new-checkout", False, by="test", reason="kill")

        async def changed() -> bool:
            response = await http.post(BULK, json=ctx, headers={"If-None-Match": tag})
            return response.status_code == 200

        await eventually(changed)
        killed = await http.post(BULK, json=ctx)
        entry = next(f for f in killed.json()["flags"] if f["key"] == "new-checkout")
        assert entry["reason"] == "DISABLED" and entry["value"] is False
        assert killed.headers["ETag"] != tag


async def test_bulk_reports_a_per_flag_failure_inside_the_list(reader: FlagReader) -> None:
    async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
        response = await http.post(BULK, json={"context": {"email": "a@b.c"}})
    assert response.status_code == 200
    codes = {f["key"]: f.get("errorCode") for f in response.json()["flags"]}
    assert codes["new-checkout"] == "TARGETING_KEY_MISSING"


def test_a_token_is_required_off_loopback() -> None:
    with pytest.raises(ConfigError, match="without a token"):
        ServeOptions(host="0.0.0.0").check()
    ServeOptions(host="0.0.0.0", token="s3cret").check()
    ServeOptions(host="::1").check()


async def test_bearer_token_is_checked_and_probes_stay_open(reader: FlagReader) -> None:
    ctx = {"context": {"targetingKey": "a"}}
    async with running(reader, token="s3cret") as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.post(ONE + "new-checkout", json=ctx)).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert (await http.post(BULK, json=ctx, headers=wrong)).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert (await http.post(ONE + "new-checkout", json=ctx, headers=right)).status_code == 200
        assert (await http.post(BULK, json=ctx, headers={"X-API-Key": "s3cret"})).status_code == 200
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/metrics")).status_code == 200


async def test_rate_limit_answers_429_with_retry_after(reader: FlagReader) -> None:
    ctx = {"context": {"targetingKey": "a"}}
    async with running(reader, rate=0.01, burst=3) as url, httpx.AsyncClient(base_url=url) as http:
        codes = [(await http.post(ONE + "new-checkout", json=ctx)) for _ in range(5)]
        assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
        assert int(codes[3].headers["Retry-After"]) >= 1
        assert (await http.get("/healthz")).status_code == 200


def test_rate_limiter_refills_at_its_rate() -> None:
    limiter = RateLimiter(rate=10, burst=2)
    assert [limiter.wait_for("a", now=0.0) for _ in range(3)][:2] == [0.0, 0.0]
    assert limiter.wait_for("a", now=0.0) > 0
    assert limiter.wait_for("b", now=0.0) == 0.0  # per client
    assert limiter.wait_for("a", now=0.2) == 0.0


async def test_metrics_count_requests_and_evaluations_by_reason(reader: FlagReader) -> None:
    async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
        await http.post(BULK, json={"context": {"targetingKey": "user-42"}})
        await http.post(ONE + "nope", json={})
        text = (await http.get("/metrics")).text
    assert 'turnout_ofrep_evaluations_total{reason="FLAG_NOT_FOUND"} 1.0' in text
    assert 'turnout_ofrep_evaluations_total{reason="TARGETING_MATCH"}' in text
    assert 'turnout_ofrep_requests_total{route="/ofrep/v1/evaluate/flags",status="200"} 1.0' in text
    assert "turnout_ofrep_request_seconds_bucket" in text


@pytest.mark.redis
async def test_unreachable_store_is_flagged_stale_never_a_silent_default(redis_server: RedisServer) -> None:
    writer = RedisStore(redis_server.url, WriteGate())
    await writer.import_flagset(_flagset(), by="test", reason="seed")
    await writer.close()
    # A stopped server refuses at once, so the bound only has to be generous enough that a
    # loaded machine never reads a running server as stale.
    store = RedisStore(redis_server.url, WriteGate(read_only=True), timeout=10)
    reader = FlagReader(store, retry_seconds=0.2)
    await reader.start()
    try:
        async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
            fresh = await http.post(ONE + "pricing-page", json={"context": {"targetingKey": "a"}})
            assert "stale" not in fresh.json()["metadata"]
            redis_server.stop()

            async def stale() -> bool:
                return reader.state == ReaderState.STALE

            await eventually(stale)
            response = await http.post(ONE + "pricing-page", json={"context": {"targetingKey": "a"}})
            assert response.status_code == 200
            meta = response.json()["metadata"]
            assert meta["stale"] is True and meta["storeState"] == "STALE" and meta["staleSince"]
            assert response.json()["variant"] == fresh.json()["variant"]
            bulk = (await http.post(BULK, json={"context": {"targetingKey": "a"}})).json()
            assert all(f["metadata"]["stale"] for f in bulk["flags"])
    finally:
        await reader.close()
        await store.close()


async def test_a_store_never_loaded_answers_500_general_and_health_503() -> None:
    store = RedisStore("redis://127.0.0.1:9/0", WriteGate(read_only=True), timeout=0.2)
    reader = FlagReader(store, retry_seconds=60)
    await reader.start()
    try:
        assert reader.state == ReaderState.STALE  # unreachable from the start: nothing loaded
        async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
            one = await http.post(ONE + "pricing-page", json={"context": {"targetingKey": "a"}})
            assert one.status_code == 500 and one.json()["errorCode"] == "GENERAL"
            bulk = await http.post(BULK, json={})
            assert bulk.status_code == 500 and bulk.json()["errorCode"] == "GENERAL"
            assert (await http.get("/healthz")).status_code == 503
    finally:
        await reader.close()
        await store.close()


def _gauge(text: str, name: str, **labels: str) -> float | None:
    from prometheus_client.parser import text_string_to_metric_families

    return next((s.value for family in text_string_to_metric_families(text) for s in family.samples
                 if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())), None)


async def test_metrics_show_the_store_ready_and_each_flags_version_rising_with_a_write(
        reader: FlagReader, store: MemoryStore) -> None:
    async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
        before = (await http.get("/metrics")).text
        flag = await store.get("pricing-page")
        await store.set_enabled("pricing-page", not flag.on, by="test", reason="metrics")
        await reader.refresh()
        after = (await http.get("/metrics")).text
    assert _gauge(before, "turnout_flag_store_state", store="memory://", state="ready") == 1
    assert _gauge(before, "turnout_flag_store_state", store="memory://", state="stale") == 0
    assert _gauge(before, "turnout_flag_store_unready_since_timestamp_seconds") is None
    assert _gauge(after, "turnout_flag_version", flag="pricing-page") == flag.version + 1
    assert _gauge(after, "turnout_flag_on", flag="pricing-page") == (0 if flag.on else 1)


@pytest.mark.redis
@pytest.mark.parametrize("restart", [False, True], ids=["stale", "reset"])
async def test_metrics_show_a_stale_store_and_a_reset_one(redis_server: RedisServer, restart: bool) -> None:
    writer = RedisStore(redis_server.url, WriteGate())
    await writer.import_flagset(_flagset(), by="test", reason="seed")
    await writer.close()
    store = RedisStore(redis_server.url, WriteGate(read_only=True), timeout=0.5)
    reader = FlagReader(store, retry_seconds=0.2, ttl=0.5)
    await reader.start()
    expected = ReaderState.ERROR if restart else ReaderState.STALE
    try:
        async with running(reader) as url, httpx.AsyncClient(base_url=url) as http:
            redis_server.stop()
            if restart:  # no persistence: the store comes back empty, i.e. reset
                redis_server.start()

            async def seen() -> bool:
                return reader.state == expected

            await eventually(seen)
            text = (await http.get("/metrics")).text
    finally:
        await reader.close()
        await store.close()
    state = expected.value.lower()
    assert _gauge(text, "turnout_flag_store_state", state=state) == 1
    assert _gauge(text, "turnout_flag_store_state", state="ready") == 0
    assert (_gauge(text, "turnout_flag_store_unready_since_timestamp_seconds") or 0) > 0
    assert _gauge(text, "turnout_flag_version", flag="pricing-page") is not None  # the old snapshot
