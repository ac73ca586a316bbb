"""Sticky bucketing, bit-compatible with flagd's `fractional` operator.

openfeature-flagd-core 2.x hashes the canonical CBOR encoding of
`[flagKey, targetingKey]` with MurmurHash3 (x86, 32-bit, seed 0, unsigned)
and picks `bucket = hash * total_weight >> 32`. The CBOR of a two-item array
of text strings is tiny and fixed in shape, so it is built by hand here: the
array head `0x82`, then each string as its text head and UTF-8 bytes. The
flag-key half is computed once per flag at load time; per evaluation only the
user's half is encoded, once per context even in a batch.

That CBOR rule ("cbor", the default) is flagd's fractional v3. Providers built
on the older flagd cores (the Node `@openfeature/flagd-core` 4.0.1 among them)
hash the string `flagKey + targetingKey` instead ("concat"); a flag names the
rule its consumers use in `Flag.bucketing`, and `bucket_by_rule` serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import mmh3

from turnout.backend.flags.jsmurmur import js_murmur3
from turnout.backend.flags.model import Bucketing

TOTAL_WEIGHT = 100
"""Turnout weights always sum to 100, so a bucket is a percentile 0..99."""

RULES: dict[Bucketing, str] = {
    "cbor": "flagd fractional v3: MurmurHash3 of the CBOR of [flagKey, targetingKey]",
    "concat": "legacy flagd: MurmurHash3 of the string flagKey+targetingKey (Node flagd-core 4.0.1)",
}
"""Each bucketing rule and what it hashes, as `explain` names it."""

_digest = mmh3.mmh3_32_uintdigest
_SHORT_HEADS = tuple(bytes([0x60 + n]) for n in range(24))


def text_head(length: int) -> bytes:
    """The CBOR head of a text string (major type 3) of `length` UTF-8 bytes."""
    if length < 24:
        return _SHORT_HEADS[length]
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if length < 1 << (8 * size):
            return bytes([0x60 + info]) + length.to_bytes(size, "big")
    raise ValueError("string too long for CBOR")


def flag_prefix(flag_key: str) -> bytes:
    """CBOR of `[flag_key, ` — the part of the hashed bytes fixed per flag."""
    encoded = flag_key.encode()
    return b"\x82" + text_head(len(encoded)) + encoded


def key_tail(context: Mapping[str, Any]) -> bytes | None:
    """CBOR of the context's targetingKey, or None when it has no usable one.

    flagd refuses to bucket a missing, empty or non-string key; so do we.
    """
    key = context.get("targetingKey")
    if not isinstance(key, str) or not key:
        return None
    encoded = key.encode()
    length = len(encoded)
    return (_SHORT_HEADS[length] if length < 24 else text_head(length)) + encoded


def bucket(prefix: bytes, tail: bytes, total: int = TOTAL_WEIGHT) -> int:
    """The bucket 0..total-1 of the user whose CBOR tail is `tail`."""
    return (_digest(prefix + tail, 0) * total) >> 32


def bucket_of(flag_key: str, targeting_key: str, total: int = TOTAL_WEIGHT) -> int:
    """Convenience for explain and tests: the bucket of one user in one flag."""
    tail = key_tail({"targetingKey": targeting_key})
    if tail is None:
        raise ValueError("targeting key must be a non-empty string")
    return bucket(flag_prefix(flag_key), tail, total)


def concat_bucket(flag_key: str, targeting_key: str, total: int = TOTAL_WEIGHT) -> int:
    """The bucket under the legacy rule: the JS hash of `flag_key + targeting_key`."""
    return (js_murmur3(flag_key + targeting_key) * total) >> 32


def bucket_by_rule(rule: Bucketing, flag_key: str, targeting_key: str, total: int = TOTAL_WEIGHT) -> int:
    """The bucket of one user in one flag under `rule`."""
    if rule == "concat":
        if not targeting_key:
            raise ValueError("targeting key must be a non-empty string")
        return concat_bucket(flag_key, targeting_key, total)
    return bucket_of(flag_key, targeting_key, total)
