"""Compiled kernels of the reconciliation checksum: CRC-32 of byte values and MurmurHash3 of word rows.

Both are standard functions, so the SQL that Spark or Trino run (see :mod:`.sql`) computes the same
numbers with their built-in ``crc32`` and bit operations:

- :func:`crc32_values`: zlib's CRC-32 (IEEE 802.3) of each value of a string or binary array, and
  of a second form of it (the code points in reverse order for strings, the lower-case hex text for
  binary), so a variable-length value gets 64 bits of check.
- :func:`murmur_rows`: MurmurHash3_x86_32 of each row's little-endian word stream, under two seeds
  (two 32-bit lanes, a 64-bit row hash).

The kernels release the GIL, so the two sides of a reconciliation hash on both cores at once.
Compiled code is cached next to this module (numba ``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

SEED_1 = 0x9747B28C
SEED_2 = 0x5BD1E995
_M32 = np.uint64(0xFFFFFFFF)
_C1 = np.uint64(0xCC9E2D51)
_C2 = np.uint64(0x1B873593)


def _crc_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint64)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else (c >> 1)
        table[n] = c
    return table


_CRC_TABLE = _crc_table()
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).copy()


@njit(nogil=True, cache=True, inline="always")
def _crc_byte(crc: np.uint64, byte: np.uint8, table: np.ndarray) -> np.uint64:
    return table[(crc ^ byte) & 0xFF] ^ (crc >> np.uint64(8))


@njit(nogil=True, cache=True)
def _crc32_kernel(
    offsets: np.ndarray, data: np.ndarray, binary: bool, table: np.ndarray, hexdigits: np.ndarray
) -> tuple:  # type: ignore[type-arg]
    n = offsets.shape[0] - 1
    lengths = np.empty(n, dtype=np.uint32)
    plain = np.empty(n, dtype=np.uint32)
    second = np.empty(n, dtype=np.uint32)
    for row in range(n):
        start, end = offsets[row], offsets[row + 1]
        lengths[row] = np.uint32(end - start)
        forward = _M32
        backward = _M32
        high = 0
        if binary:
            for i in range(start, end):
                forward = _crc_byte(forward, data[i], table)
                backward = _crc_byte(backward, hexdigits[data[i] >> 4], table)
                backward = _crc_byte(backward, hexdigits[data[i] & 15], table)
        else:
            # Two independent CRC chains interleaved; the reverse one assumes ASCII, where the
            # code points in reverse order are the bytes in reverse order.
            for k in range(end - start):
                forward = _crc_byte(forward, data[start + k], table)
                byte = data[end - 1 - k]
                high |= byte
                backward = _crc_byte(backward, byte, table)
            if high & 0x80:
                backward = _M32
                stop = end
                while stop > start:
                    first = stop - 1
                    while first > start and (data[first] & 0xC0) == 0x80:
                        first -= 1
                    for i in range(first, stop):
                        backward = _crc_byte(backward, data[i], table)
                    stop = first
        plain[row] = np.uint32(forward ^ _M32)
        second[row] = np.uint32(backward ^ _M32)
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
    return _crc32_kernel(offsets, data, binary, _CRC_TABLE, _HEX)  # type: ignore[no-any-return]


@njit(nogil=True, cache=True, inline="always")
def _rotl(x: np.uint64, r: int) -> np.uint64:
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & _M32


@njit(nogil=True, cache=True, inline="always")
def _mix(h: np.uint64, k: np.uint64) -> np.uint64:
    k = (_rotl((k * _C1) & _M32, 15) * _C2) & _M32
    return (_rotl(h ^ k, 13) * np.uint64(5) + np.uint64(0xE6546B64)) & _M32


@njit(nogil=True, cache=True, inline="always")
def _finish(h: np.uint64, length: int) -> np.uint64:
    h ^= np.uint64(length)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & _M32
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & _M32
    return h ^ (h >> np.uint64(16))


@njit(nogil=True, cache=True, inline="always")
def _stream_hashes(
    words: np.ndarray,
    nulls: np.ndarray,
    row: int,
    columns: np.ndarray,
    starts: np.ndarray,
    widths: np.ndarray,
) -> tuple:  # type: ignore[type-arg]
    h1, h2 = np.uint64(SEED_1), np.uint64(SEED_2)
    count = 0
    n = columns.shape[0]
    for m in range((n + 31) // 32):
        mask = np.uint64(0)
        for j in range(m * 32, min(n, m * 32 + 32)):
            if nulls[row, columns[j]]:
                mask |= np.uint64(1) << np.uint64(j - m * 32)
        h1, h2 = _mix(h1, mask), _mix(h2, mask)
        count += 1
    for j in range(n):
        column = columns[j]
        if nulls[row, column]:
            continue
        for w in range(starts[column], starts[column] + widths[column]):
            k = np.uint64(words[row, w])
            h1, h2 = _mix(h1, k), _mix(h2, k)
            count += 1
    return _finish(h1, count * 4), _finish(h2, count * 4)


@njit(nogil=True, cache=True)
def _murmur_kernel(
    words: np.ndarray, nulls: np.ndarray, starts: np.ndarray, widths: np.ndarray, keys: np.ndarray
) -> tuple:  # type: ignore[type-arg]
    rows, columns = nulls.shape
    every = np.arange(columns)
    out_1 = np.empty(rows, dtype=np.uint32)
    out_2 = np.empty(rows, dtype=np.uint32)
    out_key = np.empty(rows, dtype=np.uint32)
    for row in range(rows):
        h1, h2 = _stream_hashes(words, nulls, row, every, starts, widths)
        out_1[row], out_2[row] = np.uint32(h1), np.uint32(h2)
        if keys.shape[0]:
            out_key[row] = np.uint32(_stream_hashes(words, nulls, row, keys, starts, widths)[0])
        else:
            out_key[row] = out_1[row]
    return out_1, out_2, out_key


def murmur_rows(
    words: np.ndarray, nulls: np.ndarray, starts: np.ndarray, widths: np.ndarray, keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MurmurHash3_x86_32 of every row's word stream under :data:`SEED_1` and :data:`SEED_2`.

    A row's stream is its null-mask words (bit ``i % 32`` of word ``i // 32`` set when column ``i``
    is NULL), then the words of each non-NULL column in order. The key hash is the same over the
    ``keys`` columns only.

    Args:
        words: ``uint32`` matrix (rows x words); column ``c`` owns ``words[:, starts[c]:starts[c] +
            widths[c]]`` (ignored where the column is NULL).
        nulls: ``bool`` matrix (rows x columns).
        starts: first word of each column.
        widths: word count of each column.
        keys: indexes of the key columns (empty: the key hash is lane 1).

    Returns:
        Lane 1, lane 2 and the key hash (lane 1 seed) of each row, as ``uint32`` arrays.

    """
    return _murmur_kernel(words, nulls, starts, widths, keys)  # type: ignore[no-any-return]
