"""The OpenFeature provider over the Redis store: resolution and provider events."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent

from turnout.backend.flags.codec import convert
from turnout.backend.flags.model import Flag
from turnout.backend.flags.openfeature_provider import TurnoutProvider
from turnout.backend.flags.reader import FlagReader
from turnout.backend.flags.redis_store import RedisStore
from turnout.backend.gate import WriteGate

from .conftest import RedisServer
from .shapes import BOOLEAN_ROLLOUT, THREE_WAY_AB

pytestmark = pytest.mark.redis


@pytest.fixture
async def provider(redis_server: RedisServer) -> AsyncIterator[tuple[TurnoutProvider, list[Any]]]:
    writer = RedisStore(redis_server.url, WriteGate())
    await writer.accept_empty(by="t", reason="a new store")
    for shape in (BOOLEAN_ROLLOUT, THREE_WAY_AB):
        await writer.put(convert(shape, Flag, "t"), expected_version=None, by="t", reason="")
    await writer.close()
    reader = FlagReader(RedisStore(redis_server.url, WriteGate(), timeout=5), retry_seconds=0.1)
    provider = TurnoutProvider(reader)
    events: list[Any] = []
    provider.emit = lambda event, details: events.append((event, details))  # type: ignore[method-assign]
    await reader.start()
    yield provider, events
    await reader.close()
    await reader.store.close()


async def test_resolves_with_variant_reason_and_bucket(
    provider: tuple[TurnoutProvider, list[Any]],
) -> None:
    of, _ = provider
    details = of.resolve_string_details("pricing-page", "fallback", EvaluationContext("alice"))
    assert details.reason == "SPLIT" and details.variant in ("control", "blue", "green")
    assert 0 <= details.flag_metadata["bucket"] < 100
    missing = of.resolve_boolean_details("nope", True, EvaluationContext("alice"))
    assert (missing.value, missing.error_code) == (True, "FLAG_NOT_FOUND")
    mismatch = of.resolve_integer_details("pricing-page", 7, EvaluationContext("alice"))
    assert (mismatch.value, mismatch.error_code) == (7, "TYPE_MISMATCH")
    no_key = of.resolve_boolean_details("new-checkout", True, EvaluationContext())
    assert (no_key.value, no_key.error_code) == (True, "TARGETING_KEY_MISSING")


async def test_events_ready_changed_stale_error(
    provider: tuple[TurnoutProvider, list[Any]], redis_server: RedisServer
) -> None:
    of, events = provider
    assert events[0][0] == ProviderEvent.PROVIDER_READY
    writer = RedisStore(redis_server.url, WriteGate())
    await writer.set_enabled("new-checkout", False, by="t", reason="kill")
    await writer.close()
    await _wait_for(events, ProviderEvent.PROVIDER_CONFIGURATION_CHANGED)
    changed = [d for e, d in events if e == ProviderEvent.PROVIDER_CONFIGURATION_CHANGED]
    assert changed[-1].flags_changed == ["new-checkout"]
    redis_server.stop()
    await _wait_for(events, ProviderEvent.PROVIDER_STALE)
    assert of.resolve_boolean_details("new-checkout", True, EvaluationContext("a")).value is False
    redis_server.start()
    await _wait_for(events, ProviderEvent.PROVIDER_ERROR)


async def _wait_for(events: list[Any], kind: ProviderEvent) -> None:
    for _ in range(1500):  # 30 s: the reader's retries run late on a loaded machine
        if any(event == kind for event, _ in events):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind} in {[e for e, _ in events]}")


async def test_stale_is_emitted_once_per_outage_however_often_the_reader_retries(
    provider: tuple[TurnoutProvider, list[Any]], redis_server: RedisServer
) -> None:
    of, events = provider
    retries: list[str] = []
    of.reader.listeners.append(lambda state, changed, message: retries.append(state))
    redis_server.stop()
    for _ in range(1500):  # the reader reports each failed retry; wait for several
        if retries.count("STALE") >= 4:
            break
        await asyncio.sleep(0.02)
    assert retries.count("STALE") >= 4
    assert [e for e, _ in events].count(ProviderEvent.PROVIDER_STALE) == 1
