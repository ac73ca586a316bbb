"""The protobuf messages of flagd's sync protocol (`flagd.sync.v1`), encoded by hand.

The service's messages carry nothing but strings (and an optional `Struct` Turnout
never sends), so the few bytes of protobuf wire format they need are written here
rather than generated: no protobuf runtime, no generated code to keep in step.
From https://github.com/open-feature/flagd-schemas `protobuf/flagd/sync/v1/sync.proto`:

    message SyncFlagsRequest      { string provider_id = 1; string selector = 2; }
    message SyncFlagsResponse     { string flag_configuration = 1; optional Struct sync_context = 2; }
    message FetchAllFlagsRequest  { string provider_id = 1; string selector = 2; }
    message FetchAllFlagsResponse { string flag_configuration = 1; }
    message GetMetadataRequest    { }
    message GetMetadataResponse   { reserved 1; Struct metadata = 2; }

The tests compare every encoding with the protobuf runtime's own.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE = "flagd.sync.v1.FlagSyncService"
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


class WireError(ValueError):
    """A request that is not a well-formed protobuf message."""


@dataclass(frozen=True)
class SyncRequest:
    """`SyncFlagsRequest` and `FetchAllFlagsRequest` (the same fields)."""

    provider_id: str = ""
    selector: str = ""


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise WireError("truncated or overlong varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | _LEN) + _varint(len(payload)) + payload


def encode_configuration(document: bytes) -> bytes:
    """`SyncFlagsResponse` or `FetchAllFlagsResponse` holding the flagd JSON (UTF-8 bytes)."""
    return _field(1, document)


def encode_metadata() -> bytes:
    """`GetMetadataResponse` with an empty `metadata` Struct (there is no sync context to give)."""
    return _field(2, b"")


def decode_request(data: bytes) -> SyncRequest:
    """A `SyncFlagsRequest`/`FetchAllFlagsRequest`; unknown fields are skipped, as protobuf does."""
    strings: dict[int, str] = {}
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, kind = key >> 3, key & 7
        if kind == _VARINT:
            _, at = _read_varint(data, at)
        elif kind in (_I64, _I32):
            at += 8 if kind == _I64 else 4
        elif kind == _LEN:
            size, at = _read_varint(data, at)
            if at + size > len(data):
                raise WireError("field longer than the message")
            if number in (1, 2):
                try:
                    strings[number] = data[at:at + size].decode()
                except UnicodeDecodeError as exc:
                    raise WireError("a string field is not UTF-8") from exc
            at += size
        else:
            raise WireError(f"unsupported wire type {kind}")
    if at > len(data):
        raise WireError("truncated message")
    return SyncRequest(provider_id=strings.get(1, ""), selector=strings.get(2, ""))
