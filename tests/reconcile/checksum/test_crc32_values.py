"""The CRC-32 kernel of the checksum against zlib, for every length its 8/4/2/1-byte steps handle."""

from __future__ import annotations

import zlib

import numpy as np
import pyarrow as pa
import pytest

from datax_migrate.reconcile.checksum.encoding import column_words

ASCII = "invoice 0123456789 abcdefghijklmnopqrstuvwxyz"
MIXED = "é日本語x€🙂"


def expected_words(values: list[str | None]) -> list[tuple[int, int, int]]:
    """Byte length, CRC-32 and CRC-32 of the reversed code points, by zlib (docs/reconcile-checksum.md)."""
    return [(len(v.encode()), zlib.crc32(v.encode()), zlib.crc32(v[::-1].encode())) for v in values if v is not None]


def texts(alphabet: str, longest: int) -> list[str]:
    """One text of every length ``0 .. longest`` (in code points) drawn from ``alphabet``."""
    rng = np.random.default_rng(len(alphabet))
    return ["".join(rng.choice(list(alphabet), size=length)) for length in range(longest + 1)]


@pytest.mark.parametrize("arrow_type", [pa.string(), pa.large_string()])
@pytest.mark.parametrize("alphabet", [ASCII, MIXED, ASCII + MIXED])
def test_text_crc_matches_zlib_at_every_length(arrow_type: pa.DataType, alphabet: str) -> None:
    values: list[str | None] = [*texts(alphabet, 40), None, "a"]
    array = pa.array(["skipped", *values], arrow_type).slice(1)
    words = column_words(array)
    valid = words.valid if words.valid is not None else np.ones(len(values), dtype=bool)
    found = list(zip(*(part[valid].tolist() for part in words.parts), strict=True))
    assert found == expected_words(values)


def test_ascii_values_next_to_one_that_is_not() -> None:
    values = [*texts(ASCII, 20), "naïve café", *texts(ASCII, 20)]
    words = column_words(pa.array(values))
    assert list(zip(*(part.tolist() for part in words.parts), strict=True)) == expected_words(values)


def test_binary_crc_and_hex_crc_match_zlib() -> None:
    rng = np.random.default_rng(7)
    values = [bytes(rng.integers(0, 256, length).tolist()) for length in range(20)]
    words = column_words(pa.array(values, pa.binary()))
    expected = [(len(v), zlib.crc32(v), zlib.crc32(v.hex().encode())) for v in values]
    assert list(zip(*(part.tolist() for part in words.parts), strict=True)) == expected
