"""Deletion-vector decoding: Z85, the 64-bit RoaringBitmapArray, on-disk framing and checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datax_migrate.delta.actions import DeletionVectorDescriptor
from datax_migrate.delta.deletion_vectors import decode_roaring_bitmap_array, deleted_rows, z85_decode
from datax_migrate.delta.storage import TableStorage
from datax_migrate.errors import CorruptLogError, MissingFileError
from tests.support.delta_builder import DeltaBuilder, bitmap_bytes, z85_encode


@given(st.binary(min_size=0, max_size=64).map(lambda b: b + b"\0" * (-len(b) % 4)))
def test_z85_round_trip(data: bytes) -> None:
    assert z85_decode(z85_encode(data)) == data


def test_z85_reference_vector() -> None:
    # The example of the ZeroMQ RFC 32 specification.
    assert z85_decode("HelloWorld") == bytes([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B])


@given(st.lists(st.integers(min_value=0, max_value=2**40), max_size=200))
def test_bitmap_round_trip_beyond_32_bits(rows: list[int]) -> None:
    assert decode_roaring_bitmap_array(bitmap_bytes(rows)).tolist() == sorted(set(rows))


def test_wrong_magic_is_refused() -> None:
    with pytest.raises(CorruptLogError, match="unknown bitmap format"):
        decode_roaring_bitmap_array(b"\x00\x00\x00\x00" + bitmap_bytes([1])[4:])


def descriptor(document: dict) -> DeletionVectorDescriptor:
    parsed = DeletionVectorDescriptor.from_json(document)
    assert parsed is not None
    return parsed


def test_file_checksum_is_verified(tmp_path: Path) -> None:
    builder = DeltaBuilder(tmp_path)
    document = builder.file_dv([3, 2**33])
    storage = TableStorage(str(tmp_path))
    assert deleted_rows(storage, descriptor(document)).tolist() == [3, 2**33]

    (path,) = tmp_path.glob("deletion_vector_*.bin")
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptLogError, match="checksum mismatch"):
        deleted_rows(storage, descriptor(document))
    os.remove(path)
    with pytest.raises(MissingFileError, match="deletion_vector_"):
        deleted_rows(storage, descriptor(document))


def test_relative_path_with_prefix_resolves_into_the_prefix_folder(tmp_path: Path) -> None:
    document = DeltaBuilder(tmp_path).file_dv([9], prefix="ab")
    assert document["pathOrInlineDv"].startswith("ab")
    assert deleted_rows(TableStorage(str(tmp_path)), descriptor(document)).tolist() == [9]
    assert list((tmp_path / "ab").glob("deletion_vector_*.bin"))
