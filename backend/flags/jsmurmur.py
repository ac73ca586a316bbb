"""MurmurHash3 exactly as the npm package `imurmurhash` 0.1.4 computes it over a JS string.

The Node flagd-core (`@openfeature/flagd-core` 4.0.1) buckets `fractional` by
`new MurmurHash3(flagKey + targetingKey).result()`. That library hashes UTF-16
code units, not UTF-8 bytes: each unit is XORed into the 32-bit block at
8-bit offsets although it may be 16 bits wide, the length is counted in units,
and a final partial block whose value is negative as a JS int32 is skipped.
For ASCII text all of this equals MurmurHash3 (x86, 32-bit, seed 0) over the
bytes, so that case takes `mmh3`; anything else takes the faithful port below.
"""

from __future__ import annotations

import mmh3

_MASK = 0xFFFFFFFF


def _mix_k1(k1: int) -> int:
    k1 = (k1 * 0xCC9E2D51) & _MASK
    k1 = ((k1 << 15) | (k1 >> 17)) & _MASK
    return (k1 * 0x1B873593) & _MASK


def _mix_h1(h1: int, k1: int) -> int:
    h1 ^= _mix_k1(k1)
    h1 = ((h1 << 13) | (h1 >> 19)) & _MASK
    return (h1 * 5 + 0xE6546B64) & _MASK


def _units(text: str) -> list[int]:
    raw = text.encode("utf-16-le", "surrogatepass")
    return [raw[i] | raw[i + 1] << 8 for i in range(0, len(raw), 2)]


def _block(units: list[int], i: int) -> int:
    top = units[i + 3]
    k1 = units[i] ^ (units[i + 1] << 8) ^ (units[i + 2] << 16) ^ ((top & 0xFF) << 24) ^ ((top & 0xFF00) >> 8)
    return k1 & _MASK


def js_murmur3(text: str) -> int:
    """The unsigned 32-bit hash `imurmurhash` gives `text` (seed 0)."""
    if text.isascii():
        return mmh3.mmh3_32_uintdigest(text.encode(), 0)
    units = _units(text)
    length, h1 = len(units), 0
    whole = length - (length & 3)
    for i in range(0, whole, 4):
        h1 = _mix_h1(h1, _block(units, i))
    k1 = 0
    for shift, unit in zip((0, 8, 16), units[whole:], strict=False):
        k1 ^= unit << shift
    k1 &= _MASK
    # JS keeps k1 as a signed int32 and mixes the tail only when it is > 0.
    if 0 < k1 < 0x80000000:
        h1 ^= _mix_k1(k1)
    h1 ^= length
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & _MASK
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & _MASK
    return h1 ^ (h1 >> 16)
