"""Compiled kernels of the reconciliation checksum: CRC-32 of byte values and MurmurHash3 of word streams.

Both are standard functions, so the SQL that Spark or Trino run (see :mod:`.sql`) computes the same
numbers with their built-in ``crc32`` and bit operations:

- :func:`crc32_values`: zlib's CRC-32 (IEEE 802.3) of each value of a string or binary array, and
  of a second form of it (the code points in reverse order for strings, the lower-case hex text for
  binary), so a variable-length value gets 64 bits of check.
- :func:`absorb_words`, :func:`absorb_pairs` and :func:`finish`: MurmurHash3_x86_32 of every row's
  little-endian word stream under two seeds (two 32-bit lanes, a 64-bit row hash), computed one
  column at a time for all rows of a batch: each row keeps its running state in ``h1``/``h2``, so
  the loops run over contiguous arrays and compile to vector instructions.
- :func:`bucket_sums`: per-bucket row counts and lane sums.

The kernels release the GIL, so the two sides of a reconciliation hash on both cores at once.
Compiled code is cached next to this module (numba ``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

SEED_1 = 0x9747B28C
SEED_2 = 0x5BD1E995
_U32 = np.uint32
_M32 = np.uint64(0xFFFFFFFF)


def _crc_tables() -> np.ndarray:
    """The CRC-32 table and its seven slicing-by-8 successors, flat: entry ``256 * k + n`` advances ``k`` more bytes."""
    tables = np.zeros((8, 256), dtype=np.uint32)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else (c >> 1)
        tables[0, n] = c
    for k in range(1, 8):
        for n in range(256):
            previous = int(tables[k - 1, n])
            tables[k, n] = (previous >> 8) ^ int(tables[0, previous & 0xFF])
    return tables.ravel()


_CRC_TABLES = _crc_tables()
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).copy()
_U64 = np.uint64


@njit(nogil=True, cache=True, inline="always")
def _byte_at(data: np.ndarray, i: np.uint64, k: int, backward: bool) -> np.uint32:
    """Byte ``k`` of a run read forward from ``i``, or backward from just before ``i``."""
    return _U32(data[(i - _U64(k + 1)) if backward else (i + _U64(k))])


@njit(nogil=True, cache=True, inline="always")
def _entry(t: np.ndarray, k: int, byte: np.uint32) -> np.uint32:
    """Table ``k`` at ``byte`` (unsigned indexes: the compiled loads carry no negative-index fix-up)."""
    return t[_U64(256 * k) + _U64(byte)]


@njit(nogil=True, cache=True, inline="always")
def _mixed(crc: np.uint32, data: np.ndarray, i: np.uint64, k: int, backward: bool) -> np.uint32:
    """Byte ``k`` of the run (see :func:`_byte_at`) XOR byte ``k`` of ``crc`` (``k`` < 4)."""
    return (_byte_at(data, i, k, backward) ^ (crc >> _U32(8 * k))) & _U32(0xFF)


@njit(nogil=True, cache=True, inline="always")
def _crc_eight(crc: np.uint32, data: np.ndarray, i: np.uint64, backward: bool, t: np.ndarray) -> np.uint32:
    """``crc`` advanced by eight bytes at once (slicing-by-8), read as :func:`_byte_at` does."""
    return (
        _entry(t, 7, _mixed(crc, data, i, 0, backward))
        ^ _entry(t, 6, _mixed(crc, data, i, 1, backward))
        ^ _entry(t, 5, _mixed(crc, data, i, 2, backward))
        ^ _entry(t, 4, _mixed(crc, data, i, 3, backward))
        ^ _entry(t, 3, _byte_at(data, i, 4, backward))
        ^ _entry(t, 2, _byte_at(data, i, 5, backward))
        ^ _entry(t, 1, _byte_at(data, i, 6, backward))
        ^ _entry(t, 0, _byte_at(data, i, 7, backward))
    )


@njit(nogil=True, cache=True, inline="always")
def _crc_four(crc: np.uint32, data: np.ndarray, i: np.uint64, backward: bool, t: np.ndarray) -> np.uint32:
    """``crc`` advanced by four bytes at once (slicing-by-4)."""
    return (
        _entry(t, 3, _mixed(crc, data, i, 0, backward))
        ^ _entry(t, 2, _mixed(crc, data, i, 1, backward))
        ^ _entry(t, 1, _mixed(crc, data, i, 2, backward))
        ^ _entry(t, 0, _mixed(crc, data, i, 3, backward))
    )


@njit(nogil=True, cache=True, inline="always")
def _crc_two(crc: np.uint32, data: np.ndarray, i: np.uint64, backward: bool, t: np.ndarray) -> np.uint32:
    """``crc`` advanced by two bytes at once."""
    return (
        (crc >> _U32(16))
        ^ _entry(t, 1, _mixed(crc, data, i, 0, backward))
        ^ _entry(t, 0, _mixed(crc, data, i, 1, backward))
    )


@njit(nogil=True, cache=True, inline="always")
def _crc_byte(crc: np.uint32, byte: np.uint32, t: np.ndarray) -> np.uint32:
    return t[_U64((crc ^ byte) & _U32(0xFF))] ^ (crc >> _U32(8))


@njit(nogil=True, cache=True, inline="always")
def _crc_one(crc: np.uint32, data: np.ndarray, i: np.uint64, backward: bool, t: np.ndarray) -> np.uint32:
    """``crc`` advanced by one byte."""
    return _crc_byte(crc, _byte_at(data, i, 0, backward), t)


@njit(nogil=True, cache=True)
def _any_high_byte(data: np.ndarray, start: np.uint64, end: np.uint64) -> bool:
    """Whether a byte of ``data[start:end]`` is not ASCII."""
    seen = np.uint8(0)
    for i in range(start, end):
        seen |= data[i]
    return bool(seen >= 0x80)


@njit(nogil=True, cache=True)
def _crc32_text(offsets: np.ndarray, data: np.ndarray, t: np.ndarray) -> tuple:  # type: ignore[type-arg]
    n = offsets.shape[0] - 1
    lengths = np.empty(n, dtype=np.uint32)
    plain = np.empty(n, dtype=np.uint32)
    second = np.empty(n, dtype=np.uint32)
    full = _U32(0xFFFFFFFF)
    for row in range(n):
        start, end = _U64(offsets[row]), _U64(offsets[row + 1])
        lengths[row] = _U32(end - start)
        # Two independent CRC chains side by side, eight bytes at a time, then the last 0 to 7
        # bytes as four, two and one; the reverse chain reads the bytes backward, which for ASCII
        # is the code points in reverse order.
        forward, backward = full, full
        i, j = start, end
        while i + _U64(8) <= end:
            forward, backward = _crc_eight(forward, data, i, False, t), _crc_eight(backward, data, j, True, t)
            i += _U64(8)
            j -= _U64(8)
        if end - i >= _U64(4):
            forward, backward = _crc_four(forward, data, i, False, t), _crc_four(backward, data, j, True, t)
            i += _U64(4)
            j -= _U64(4)
        if end - i >= _U64(2):
            forward, backward = _crc_two(forward, data, i, False, t), _crc_two(backward, data, j, True, t)
            i += _U64(2)
            j -= _U64(2)
        if i < end:
            forward, backward = _crc_one(forward, data, i, False, t), _crc_one(backward, data, j, True, t)
        plain[row] = forward ^ full
        second[row] = backward ^ full
    # Values that are not all ASCII get their reverse form again, code point by code point (the
    # whole buffer is checked at once first, as text is mostly ASCII).
    if n > 0 and _any_high_byte(data, _U64(offsets[0]), _U64(offsets[n])):
        for row in range(n):
            start, end = _U64(offsets[row]), _U64(offsets[row + 1])
            if _any_high_byte(data, start, end):
                second[row] = _crc_code_points_reversed(data, start, end, t) ^ full
    return lengths, plain, second


@njit(nogil=True, cache=True)
def _crc_code_points_reversed(data: np.ndarray, start: np.uint64, end: np.uint64, t: np.ndarray) -> np.uint32:
    """The running CRC of the UTF-8 bytes ``data[start:end]`` with their code points in reverse order."""
    crc = _U32(0xFFFFFFFF)
    stop = end
    while stop > start:
        first = stop - _U64(1)
        while first > start and (data[first] & 0xC0) == 0x80:
            first -= _U64(1)
        for k in range(first, stop):
            crc = _crc_byte(crc, _U32(data[k]), t)
        stop = first
    return crc


@njit(nogil=True, cache=True)
def _crc32_binary(offsets: np.ndarray, data: np.ndarray, t: np.ndarray, hexdigits: np.ndarray) -> tuple:  # type: ignore[type-arg]
    n = offsets.shape[0] - 1
    lengths = np.empty(n, dtype=np.uint32)
    plain = np.empty(n, dtype=np.uint32)
    second = np.empty(n, dtype=np.uint32)
    full = _U32(0xFFFFFFFF)
    for row in range(n):
        start, end = _U64(offsets[row]), _U64(offsets[row + 1])
        lengths[row] = _U32(end - start)
        forward, backward = full, full
        for i in range(start, end):
            byte = _U32(data[i])
            forward = _crc_byte(forward, byte, t)
            backward = _crc_byte(backward, _U32(hexdigits[byte >> _U32(4)]), t)
            backward = _crc_byte(backward, _U32(hexdigits[byte & _U32(15)]), t)
        plain[row] = forward ^ full
        second[row] = backward ^ full
    return lengths, plain, second


def crc32_values(offsets: np.ndarray, data: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Byte length, CRC-32 and CRC-32 of the second form of every value (see the module docstring).

    Args:
        offsets: Arrow offsets of the values (``n + 1`` integers, already sliced to the array).
        data: the values' bytes as ``uint8``.
        binary: ``True`` for binary values (second form: lower-case hex), ``False`` for UTF-8 text
            (second form: code points reversed).

    Returns:
        Three ``uint32`` arrays of ``n`` values.

    """
    if binary:
        return _crc32_binary(offsets, data, _CRC_TABLES, _HEX)  # type: ignore[no-any-return]
    return _crc32_text(offsets, data, _CRC_TABLES)  # type: ignore[no-any-return]


@njit(nogil=True, cache=True, inline="always")
def _rotl(x: np.uint32, r: int) -> np.uint32:
    return _U32((x << _U32(r)) | (x >> _U32(32 - r)))


@njit(nogil=True, cache=True, inline="always")
def _mix(h: np.uint32, k: np.uint32) -> np.uint32:
    k = _rotl(_U32(k * _U32(0xCC9E2D51)), 15)
    k = _U32(k * _U32(0x1B873593))
    h = _rotl(_U32(h ^ k), 13)
    return _U32(_U32(h * _U32(5)) + _U32(0xE6546B64))


@njit(nogil=True, cache=True)
def _absorb_words(h1: np.ndarray, h2: np.ndarray, words: np.ndarray, valid: np.ndarray, has_nulls: bool) -> None:
    if has_nulls:
        for i in range(h1.shape[0]):
            k = words[i]
            a, b = _mix(h1[i], k), _mix(h2[i], k)
            keep = valid[i]
            h1[i] = a if keep else h1[i]
            h2[i] = b if keep else h2[i]
    else:
        for i in range(h1.shape[0]):
            k = words[i]
            h1[i] = _mix(h1[i], k)
            h2[i] = _mix(h2[i], k)


@njit(nogil=True, cache=True)
def _absorb_pairs(h1: np.ndarray, h2: np.ndarray, values: np.ndarray, valid: np.ndarray, has_nulls: bool) -> None:
    if has_nulls:
        for i in range(h1.shape[0]):
            v = values[i]
            low, high = _U32(v & 0xFFFFFFFF), _U32((v >> 32) & 0xFFFFFFFF)
            a, b = _mix(_mix(h1[i], low), high), _mix(_mix(h2[i], low), high)
            keep = valid[i]
            h1[i] = a if keep else h1[i]
            h2[i] = b if keep else h2[i]
    else:
        for i in range(h1.shape[0]):
            v = values[i]
            low, high = _U32(v & 0xFFFFFFFF), _U32((v >> 32) & 0xFFFFFFFF)
            h1[i] = _mix(_mix(h1[i], low), high)
            h2[i] = _mix(_mix(h2[i], low), high)


_NO_NULLS = np.ones(1, dtype=np.bool_)


def absorb_words(h1: np.ndarray, h2: np.ndarray, words: np.ndarray, valid: np.ndarray | None) -> None:
    """Feed one word per row to both lanes' running hashes, skipping rows where ``valid`` is ``False``.

    Args:
        h1: lane 1 state of every row (``uint32``, updated in place).
        h2: lane 2 state of every row (``uint32``, updated in place).
        words: ``uint32`` word of every row (contiguous).
        valid: ``bool`` per row, or ``None`` when every row takes the word.

    """
    _absorb_words(h1, h2, words, _NO_NULLS if valid is None else valid, valid is not None)


def absorb_pairs(h1: np.ndarray, h2: np.ndarray, values: np.ndarray, valid: np.ndarray | None) -> None:
    """Feed two words per row, the low and then the high half of each ``int64`` of ``values``.

    Same arguments as :func:`absorb_words`, with ``values`` an ``int64`` array.
    """
    _absorb_pairs(h1, h2, values, _NO_NULLS if valid is None else valid, valid is not None)


@njit(nogil=True, cache=True)
def _finish(h: np.ndarray, count: np.ndarray) -> None:
    for i in range(h.shape[0]):
        x = h[i] ^ _U32(count[i] * _U32(4))
        x ^= x >> _U32(16)
        x = _U32(x * _U32(0x85EBCA6B))
        x ^= x >> _U32(13)
        x = _U32(x * _U32(0xC2B2AE35))
        h[i] = x ^ (x >> _U32(16))


def finish(h: np.ndarray, count: np.ndarray) -> None:
    """MurmurHash3's finalisation of every row's state ``h`` (in place); ``count`` is each row's word count."""
    _finish(h, count)


@njit(nogil=True, cache=True)
def _null_bits(mask: np.ndarray, count: np.ndarray, valid: np.ndarray, bit: int, width: int) -> None:
    flag, words = _U32(1) << _U32(bit), _U32(width)
    for i in range(mask.shape[0]):
        null = not valid[i]
        mask[i] |= flag if null else _U32(0)
        count[i] -= words if null else _U32(0)


def null_bits(mask: np.ndarray, count: np.ndarray, valid: np.ndarray, bit: int, width: int) -> None:
    """Where ``valid`` is ``False``: set ``bit`` of the row's null-mask word and take ``width`` off its word count."""
    _null_bits(mask, count, valid, bit, width)


@njit(nogil=True, cache=True)
def _widen(lane_1: np.ndarray, lane_2: np.ndarray, out: np.ndarray) -> None:
    for i in range(out.shape[0]):
        out[i] = np.uint64(lane_1[i]) | (np.uint64(lane_2[i]) << np.uint64(32))


def widen(lane_1: np.ndarray, lane_2: np.ndarray, out: np.ndarray) -> None:
    """Two 32-bit hash lanes as one 64-bit hash into ``out`` (``uint64``, lane 1 in the low half)."""
    _widen(lane_1, lane_2, out)


@njit(nogil=True, cache=True)
def _bucket_sums(
    rows: np.ndarray, sums: np.ndarray, bucket: np.ndarray, lane_1: np.ndarray, lane_2: np.ndarray
) -> None:
    for i in range(bucket.shape[0]):
        b = bucket[i]
        rows[b] += 1
        sums[0, b] += np.int64(lane_1[i])
        sums[1, b] += np.int64(lane_2[i])


def bucket_sums(rows: np.ndarray, sums: np.ndarray, bucket: np.ndarray, lane_1: np.ndarray, lane_2: np.ndarray) -> None:
    """Add each row to its bucket: one to ``rows[bucket]``, its lanes to ``sums[0 or 1, bucket]`` (in place, exact)."""
    _bucket_sums(rows, sums, bucket, lane_1, lane_2)
