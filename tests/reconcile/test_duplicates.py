"""Repeated keys: found from 64-bit key hashes in the scan, confirmed by counting the key values."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest

from datax_migrate.reconcile.checksum.table import wide
from datax_migrate.reconcile.duplicates import (
    Candidates,
    KeyCounts,
    KeyHashes,
    candidates,
    count_keys,
    key_hasher,
    unique_keys_check,
)
from datax_migrate.reconcile.model import Status
from datax_migrate.reconcile.scan import SideScanner


@pytest.mark.parametrize("rows", [0, 1, 2, 1_000, 150_000])
def test_repeated_hashes_are_those_numpy_counts_more_than_once(rows: int) -> None:
    rng = np.random.default_rng(rows)
    values = rng.integers(0, 2**64 - 1, rows, dtype=np.uint64, endpoint=True)
    if rows >= 1_000:
        values[rng.integers(0, rows, rows // 10)] = values[rng.integers(0, rows, rows // 10)]
        values[:7] = 0  # zero is a hash like any other
    unique, counts = np.unique(values, return_counts=True)
    kept = KeyHashes(capacity=3)  # grows as it goes
    for chunk in np.array_split(values, 5):
        kept.add(chunk)
    found, how_often = kept.repeated()
    assert found.tolist() == unique[counts > 1].tolist()
    assert how_often.tolist() == counts[counts > 1].tolist()
    assert kept.repeated() is kept.repeated()


@pytest.mark.parametrize("shape", ["one value on most rows", "one partition of many values"])
def test_repeated_hashes_of_skewed_hashes(shape: str) -> None:
    rng = np.random.default_rng(5)
    values = rng.integers(0, 2**40, 200_000, dtype=np.uint64)  # top bits all zero: one partition
    if shape == "one value on most rows":
        values = rng.integers(0, 2**64 - 1, 200_000, dtype=np.uint64, endpoint=True)
        values[rng.random(len(values)) < 0.9] = 12345
    else:
        values[:20_000] = values[20_000:40_000]  # repeats inside the one partition
    unique, counts = np.unique(values, return_counts=True)
    kept = KeyHashes()
    kept.add(values)
    found, how_often = kept.repeated()
    assert found.tolist() == unique[counts > 1].tolist()
    assert how_often.tolist() == counts[counts > 1].tolist()


def test_key_hashes_travel_to_the_driver_and_merge() -> None:
    first, second = KeyHashes(), KeyHashes()
    first.add(np.array([5, 9], dtype=np.uint64))
    second.add(np.array([9, 1], dtype=np.uint64))
    first.merge(pickle.loads(pickle.dumps(second)))
    assert first.values().tolist() == [5, 9, 9, 1]
    assert [a.tolist() for a in first.repeated()] == [[9], [2]]


def test_a_table_with_unique_keys_has_no_candidates() -> None:
    table = pa.table({"id": pa.array(np.arange(300_000)), "v": pa.array(np.arange(300_000) % 7)})
    sides = []
    for batches in (table.to_batches(max_chunksize=65_536), table.to_batches(max_chunksize=100_000)):
        scanner = SideScanner(["id", "v"], ["id"], 256, [])
        sides.append(scanner.scan(batches).key_hashes)
    found = candidates(sides[0], sides[1], 20)
    assert len(found.chosen) == 0 and len(found.source[0]) == len(found.target[0]) == 0
    check = unique_keys_check(["id"], found, None, None, 20)
    assert check.status is Status.PASS


def test_keys_are_counted_by_their_canonical_value() -> None:
    batch = pa.record_batch(
        {
            "f": pa.array([float("nan"), float("nan"), -0.0, 0.0, None, None, 1.5], pa.float64()),
            "s": pa.array(["a", "a", "b", "b", None, None, "c"]),
        }
    )
    hashes = key_hasher(["f", "s"]).hash(batch)
    wanted = wide(hashes.lane_1, hashes.lane_2)[:6]
    counted = count_keys([batch.slice(0, 3), batch.slice(3)], ["f", "s"], wanted)
    assert sorted(counted.counts.values()) == [2, 2, 2]  # NaN with NaN, -0.0 with 0.0, NULL with NULL
    assert len(counted.counts) == 3


def test_nested_keys_are_counted_too() -> None:
    batch = pa.record_batch({"k": pa.array([{"a": 1}, {"a": 1}, None, {"a": 2}], pa.struct([("a", pa.int32())]))})
    hashes = key_hasher(["k"]).hash(batch)
    wanted = wide(hashes.lane_1, hashes.lane_2)
    counted = count_keys([batch], ["k"], wanted)
    assert sorted(counted.counts.values()) == [1, 1, 2]
    assert {"a": 1} in [values[0] for values in counted.shown.values()]


def test_a_hash_collision_is_not_reported_as_a_repeated_key() -> None:
    hashes = np.array([42], dtype=np.uint64)
    found = Candidates(source=(hashes, np.array([2])), target=(hashes, np.array([2])), chosen=hashes)
    source, target = KeyCounts(), KeyCounts()
    for counts in (source, target):  # the two rows with hash 42 hold two different keys
        counts.add(("1:1",), (1,), 1)
        counts.add(("1:2",), (2,), 1)
    check = unique_keys_check(["id"], found, source, target, 20)
    assert check.status is Status.PASS and check.detail["duplicates"] == []
    assert check.detail["source"] == {"keys": 1, "rows": 2, "confirmed": 0}


def test_repeated_keys_are_listed_most_rows_first_up_to_the_sample() -> None:
    found = Candidates(
        source=(np.array([1, 2, 3], dtype=np.uint64), np.array([2, 5, 3])),
        target=(np.array([2], dtype=np.uint64), np.array([5])),
        chosen=np.array([1, 2, 3], dtype=np.uint64),
    )
    source, target = KeyCounts(), KeyCounts()
    for key, rows in (("a", 2), ("b", 5), ("c", 3)):
        source.add((key,), (key,), rows)
    target.add(("b",), ("b",), 5)
    target.add(("c",), ("c",), 1)
    check = unique_keys_check(["name"], found, source, target, 2)
    assert check.status is Status.FAIL
    assert check.detail["duplicates"] == [
        {"key": {"name": "b"}, "source_rows": 5, "target_rows": 5},
        {"key": {"name": "c"}, "source_rows": 3, "target_rows": 1},
    ]
    assert check.detail["source"]["confirmed"] == 3 and check.detail["target"]["confirmed"] == 1
    assert check.summary.startswith("the key (name) is not unique: 3 key value(s) on 10 rows in Delta")
