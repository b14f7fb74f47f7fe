"""The reassembly of shredded variants against Apache's conformance files (parquet-testing, shredded_variant).

Each case is a Parquet file written by Iceberg's shredding writer and the variant it must read as
(metadata and value bytes). The folder is not part of the project: point
``DATAX_PARQUET_TESTING`` at a checkout of apache/parquet-testing; without it the test skips.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from datax_migrate.delta.shredding import is_shredded, unshred_variant_column
from datax_migrate.delta.variant import variant_to_json
from datax_migrate.errors import CorruptLogError, UnsupportedFeatureError
from tests.support.variant_encoder import describe

pytestmark = pytest.mark.corpus


@pytest.fixture
def cases() -> tuple[Path, list[dict[str, Any]]]:
    root = Path(os.environ.get("DATAX_PARQUET_TESTING", "/nonexistent")) / "shredded_variant"
    if not (root / "cases.json").is_file():
        pytest.skip("apache/parquet-testing not found: set DATAX_PARQUET_TESTING")
    return root, [c for c in json.loads((root / "cases.json").read_text()) if "parquet_file" in c]


def split(data: bytes) -> tuple[bytes, bytes]:
    """A ``.variant.bin`` file: the metadata, then the value."""
    size = ((data[0] >> 6) & 0x03) + 1
    count = int.from_bytes(data[1 : 1 + size], "little")
    offsets = 1 + size
    last = int.from_bytes(data[offsets + count * size : offsets + (count + 1) * size], "little")
    end = offsets + (count + 1) * size + last
    return data[:end], data[end:]


def test_every_valid_case_reads_as_its_variant_and_every_invalid_one_is_refused(
    cases: tuple[Path, list[dict[str, Any]]],
) -> None:
    root, listed = cases
    checked = refused = 0
    for case in listed:
        column = pq.read_table(root / case["parquet_file"])["var"].combine_chunks()
        if "error_message" in case:
            with pytest.raises((CorruptLogError, UnsupportedFeatureError)):
                unshred_variant_column(column)
            refused += 1
            continue
        try:
            rows = (unshred_variant_column(column) if is_shredded(column) else column).to_pylist()
        except CorruptLogError:
            # files the spec calls invalid, where a reader may refuse or read the shredded value
            assert "INVALID" in case["parquet_file"], case["case_number"]
            refused += 1
            continue
        for row, name in zip(rows, case.get("variant_files") or [case["variant_file"]], strict=True):
            if name is None:
                assert row is None, case["case_number"]
                continue
            metadata, value = split((root / name).read_bytes())
            assert describe(row["value"], row["metadata"]) == describe(value, metadata), case["case_number"]
            assert variant_to_json(row["value"], row["metadata"]) == variant_to_json(value, metadata)
        checked += 1
    assert checked > 100 and refused > 0
