"""`turnout flags sync --to grpc://`: flagd's sync service, checked with a Python gRPC client
whose messages come from the protobuf runtime, and Turnout's hand encoding against it."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.processes import Processes, refused_port
from turnout.backend.cli import main
from turnout.backend.flags.codec import flagset_from_obj
from turnout.backend.flags.flagd_import import import_flagd
from turnout.backend.flags.redis_store import RedisStore
from turnout.backend.flags.sync import grpc_address
from turnout.backend.flags.sync_wire import (
    SyncRequest,
    WireError,
    decode_request,
    encode_configuration,
    encode_metadata,
)
from turnout.backend.gate import WriteGate

from . import flagd_sync_pb as pb
from .conftest import RedisServer
from .shapes import BOOLEAN_ROLLOUT, SEGMENT_ROLLOUT, THREE_WAY_AB, flagset_doc

SERVICE = "/flagd.sync.v1.FlagSyncService/"
WAIT = 120  # seconds any one call may take; a bound for a hung server, never a measurement


# --- the wire format against the protobuf runtime --------------------------------------------


@given(st.binary(max_size=4096))
def test_the_configuration_encoding_is_what_protobuf_reads(document: bytes) -> None:
    text = document.decode(errors="replace").encode()
    for message in (pb.SyncFlagsResponse, pb.FetchAllFlagsResponse):
        parsed = message.FromString(encode_configuration(text))
        assert parsed.flag_configuration == text.decode()
    sync = pb.SyncFlagsResponse.FromString(encode_configuration(text))
    assert not sync.HasField("sync_context")


@given(st.text(max_size=300), st.text(max_size=300))
def test_requests_from_protobuf_decode_to_their_fields(provider_id: str, selector: str) -> None:
    for message in (pb.SyncFlagsRequest, pb.FetchAllFlagsRequest):
        data = message(provider_id=provider_id, selector=selector).SerializeToString()
        assert decode_request(data) == SyncRequest(provider_id, selector)


@given(st.binary(max_size=200))
def test_any_bytes_decode_or_are_refused_as_malformed(data: bytes) -> None:
    try:
        decoded = decode_request(data)
    except WireError:
        return
    assert isinstance(decoded, SyncRequest)


def test_unknown_request_fields_are_skipped_and_metadata_is_an_empty_struct() -> None:
    request = pb.SyncFlagsRequest(provider_id="app", selector="s").SerializeToString()
    extra = b"\x18\x96\x01" + b"\x25\x00\x00\x00\x00" + b"\x29" + bytes(8) + b"\x3a\x02hi"  # fields 3..7
    assert decode_request(extra + request) == SyncRequest("app", "s")
    metadata = pb.GetMetadataResponse.FromString(encode_metadata())
    assert metadata.HasField("metadata") and not metadata.metadata.fields
    with pytest.raises(WireError):
        decode_request(b"\x12\x05ab")  # a string field longer than the message


def test_grpc_targets_parse_and_anything_else_is_refused() -> None:
    assert grpc_address("grpc://127.0.0.1:8015") == ("127.0.0.1", 8015)
    assert grpc_address("grpc://[::1]:0") == ("::1", 0)
    for bad in ("grpc://127.0.0.1", "grpc://:80", "grpc://h:99999", "grpc://h:1/x", "grpcs://h:1"):
        with pytest.raises(Exception, match="grpc://HOST:PORT"):
            grpc_address(bad)


# --- the service, as its own process -------------------------------------------------------


class SyncClient:
    """A Python gRPC client of the sync service (protobuf runtime messages)."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.insecure_channel(address)

    def stream(self, provider_id: str = "", metadata: tuple[tuple[str, str], ...] = ()) -> Any:
        call = self.channel.unary_stream(SERVICE + "SyncFlags",
                                         request_serializer=pb.SyncFlagsRequest.SerializeToString,
                                         response_deserializer=pb.SyncFlagsResponse.FromString)
        return call(pb.SyncFlagsRequest(provider_id=provider_id), metadata=metadata, timeout=WAIT)

    def fetch_all(self, metadata: tuple[tuple[str, str], ...] = ()) -> Any:
        call = self.channel.unary_unary(SERVICE + "FetchAllFlags",
                                        request_serializer=pb.FetchAllFlagsRequest.SerializeToString,
                                        response_deserializer=pb.FetchAllFlagsResponse.FromString)
        return call(pb.FetchAllFlagsRequest(), metadata=metadata, timeout=WAIT)

    def metadata(self) -> Any:
        call = self.channel.unary_unary(SERVICE + "GetMetadata",
                                        request_serializer=pb.GetMetadataRequest.SerializeToString,
                                        response_deserializer=pb.GetMetadataResponse.FromString)
        return call(pb.GetMetadataRequest(), timeout=WAIT)


@pytest.fixture
def client_for() -> Iterator[Any]:
    clients: list[SyncClient] = []

    def make(address: str) -> SyncClient:
        clients.append(SyncClient(address))
        return clients[-1]

    yield make
    for client in clients:
        client.channel.close()


def _seeded(tmp_path: Path) -> Path:
    path = tmp_path / "store.json"
    path.write_text(json.dumps(flagset_doc(BOOLEAN_ROLLOUT, THREE_WAY_AB, SEGMENT_ROLLOUT)))
    return path


def _serve(processes: Processes, store_url: str, *extra: str, **env: str) -> tuple[Any, str]:
    process, url = processes.listening(["flags", "sync", "--flags-url", store_url,
                                        "--to", "grpc://127.0.0.1:0", *extra], "grpc://127.0.0.1:", **env)
    return process, url.removeprefix("grpc://")


def _state(response: Any, key: str) -> str:
    return str(json.loads(response.flag_configuration)["flags"][key]["state"])


def test_the_stream_starts_with_the_store_and_pushes_the_kill_switch(
    tmp_path: Path, processes: Processes, client_for: Any
) -> None:
    store = _seeded(tmp_path)
    process, address = _serve(processes, store.as_uri())
    client = client_for(address)
    stream = client.stream()
    first = next(stream)
    seeded = flagset_from_obj(json.loads(store.read_text()))
    assert import_flagd(json.loads(first.flag_configuration)) == seeded
    assert client.fetch_all().flag_configuration == first.flag_configuration
    assert client.metadata().HasField("metadata")
    raw = client.channel.unary_unary(SERVICE + "FetchAllFlags")  # bytes in, bytes out
    with pytest.raises(grpc.RpcError) as malformed:
        raw(b"\x12\x05ab", timeout=WAIT)  # a string field longer than the message
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert main(["flags", "off", "new-checkout", "--flags-url", store.as_uri(), "--yes"]) == 0
    pushed = next(stream)  # the next message on the open stream: nothing was asked for
    assert _state(first, "new-checkout") == "ENABLED" and _state(pushed, "new-checkout") == "DISABLED"
    assert client.fetch_all().flag_configuration == pushed.flag_configuration
    process.send_signal(signal.SIGINT)
    with pytest.raises(grpc.RpcError) as ended:  # an open stream ends with an error: providers reconnect
        next(stream)
    assert ended.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert process.wait(timeout=WAIT) == 0


def test_redis_change_notices_drive_the_stream(
    redis_server: RedisServer, tmp_path: Path, processes: Processes, client_for: Any
) -> None:
    async def seed() -> None:
        redis = RedisStore(redis_server.url, WriteGate())
        try:
            await redis.import_flagset(flagset_from_obj(flagset_doc(BOOLEAN_ROLLOUT)), by="t", reason="seed")
        finally:
            await redis.close()

    asyncio.run(seed())
    _, address = _serve(processes, redis_server.url)
    stream = client_for(address).stream()
    assert _state(next(stream), "new-checkout") == "ENABLED"
    for turn in ("off", "on", "off"):
        assert main(["flags", turn, "new-checkout", "--flags-url", redis_server.url, "--yes"]) == 0
        assert _state(next(stream), "new-checkout") == ("DISABLED" if turn == "off" else "ENABLED")
    stream.cancel()


def test_a_token_is_asked_for_and_never_printed(
    tmp_path: Path, processes: Processes, client_for: Any
) -> None:
    store = _seeded(tmp_path)
    secret = tmp_path / "token"
    secret.write_text("sync-7c1e\n")
    process, address = _serve(processes, store.as_uri(), "--token-file", str(secret))
    client = client_for(address)
    with pytest.raises(grpc.RpcError) as refused:
        next(client.stream())
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.RpcError) as wrong:
        client.fetch_all(metadata=(("authorization", "Bearer nope"),))
    assert wrong.value.code() == grpc.StatusCode.UNAUTHENTICATED
    by_header = client.stream(metadata=(("authorization", "Bearer sync-7c1e"),))
    by_provider_id = client.stream(provider_id="sync-7c1e")
    assert next(by_header).flag_configuration == next(by_provider_id).flag_configuration
    by_header.cancel()
    by_provider_id.cancel()
    process.terminate()
    out, err = process.communicate(timeout=WAIT)
    assert "sync-7c1e" not in out + err


def test_nothing_is_served_before_the_store_has_loaded(processes: Processes, client_for: Any) -> None:
    unreachable = f"redis://127.0.0.1:{refused_port()}/0"
    _, address = _serve(processes, unreachable)
    client = client_for(address)
    for call in (lambda: next(client.stream()), client.fetch_all):
        with pytest.raises(grpc.RpcError) as refused:
            call()
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "not loaded" in str(refused.value.details())


def test_bad_targets_and_public_addresses_without_a_token_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TURNOUT_OFREP_TOKEN", raising=False)
    store = _seeded(tmp_path).as_uri()
    assert main(["flags", "sync", "--flags-url", store, "--to", "grpc://0.0.0.0:0"]) != 0
    assert "without a token" in capsys.readouterr().err
    assert main(["flags", "sync", "--flags-url", store, "--to", "grpc://127.0.0.1"]) != 0
    assert "grpc://HOST:PORT" in capsys.readouterr().err
    assert main(["flags", "sync", "--flags-url", store, "--to", "grpc://127.0.0.1:0", "--once"]) != 0
    assert "--once" in capsys.readouterr().err
