"""Split a Delta snapshot into file groups: the unit of work an engine hands to one task.

A file group holds Delta files of one partition, bin-packed up to a target size; each group becomes
one Iceberg data file, so many small Delta files are compacted on the way. Large groups are planned
to fill the last round of workers: a partition is packed into more groups where its files allow, else
the groups of a short last round are each written as several data files (see :attr:`FileGroup.parts`).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from datax_migrate.delta.actions import AddFile
from datax_migrate.delta.scan import FileReader

DEFAULT_TARGET_FILE_BYTES = 256 * 1024 * 1024
DEFAULT_SPLIT_MIN_BYTES = 16 * 1024 * 1024
"""Groups are balanced over the workers only from this many bytes of Delta data (packed into more
groups, or written in parts of at least half of it): smaller ones are not worth a file more."""


@dataclass(frozen=True)
class FileGroup:
    """Delta files that end up in one Iceberg data file (or ``parts`` of them).

    Attributes:
        index: Position in the plan; names the data file.
        files: The Delta files, read in this order.
        partition_values: The partition's values, by Delta column name.
        parts: The rows are written as this many data files of about equal rows, encoded side by
            side, when they fit in one row group (else as one file): set on the groups of a last
            round that would leave workers idle.
    """

    index: int
    files: tuple[AddFile, ...]
    partition_values: tuple[tuple[str, object], ...]
    parts: int = 1

    @property
    def size_bytes(self) -> int:
        """Bytes of Delta data in the group."""
        return sum(f.size for f in self.files)


def plan_file_groups(
    reader: FileReader,
    target_file_bytes: int = DEFAULT_TARGET_FILE_BYTES,
    workers: int = 2,
    split_min_bytes: int = DEFAULT_SPLIT_MIN_BYTES,
) -> list[FileGroup]:
    """Group the snapshot's files by partition, then bin-pack each partition by size.

    A group holds at most ``target_file_bytes``, and at most a share of the table small enough that
    every one of ``workers`` gets at least two groups when the files allow it. Groups come largest
    first, so the slowest tasks start early. Groups of at least ``split_min_bytes`` are made to fill
    the last round of ``workers``: a partition is packed into more, evenly filled groups where its
    files allow (20 equal files on 2 workers: 6 groups, not 5); where they do not (5 equal files),
    each group of the last round gets enough :attr:`~FileGroup.parts` to keep every worker busy.
    """
    total = sum(add.size for add in reader.snapshot.files)
    target_file_bytes = max(1, min(target_file_bytes, total // (2 * workers)))
    by_partition: dict[tuple[tuple[str, str], ...], tuple[tuple[tuple[str, object], ...], list[AddFile]]] = {}
    for add in reader.snapshot.files:
        values = tuple(sorted(reader.partition_values(add).items()))
        key = tuple((name, repr(value)) for name, value in values)
        by_partition.setdefault(key, (values, []))[1].append(add)
    packed = [
        (values, _pack(sorted(files, key=lambda f: f.path), target_file_bytes))
        for values, files in by_partition.values()
    ]
    for _ in range((-sum(len(groups) for _, groups in packed)) % workers):
        if not _pack_one_more(packed, target_file_bytes, split_min_bytes):
            break
    bins = [(values, files) for values, groups in packed for files in groups]
    bins.sort(key=lambda b: -_bytes(b[1]))
    short_round = len(bins) % workers  # groups in a last round that leaves workers idle (0: it is full)
    parts = [1] * len(bins)
    for index in range(len(bins) - short_round, len(bins)):
        size = _bytes(bins[index][1])
        if size >= split_min_bytes:  # each part keeps at least half of split_min_bytes
            parts[index] = max(1, min(workers // short_round, size // max(1, split_min_bytes // 2)))
    return [FileGroup(index, tuple(files), values, parts[index]) for index, (values, files) in enumerate(bins)]


def last_round_start(groups: int, workers: int) -> int:
    """Position of the first group of the last round when ``groups`` groups run on ``workers`` in plan order."""
    return max(0, groups - (groups % workers or workers))


def _bytes(files: list[AddFile]) -> int:
    return sum(f.size for f in files)


def _pack(files: list[AddFile], target_file_bytes: int) -> list[list[AddFile]]:
    """``files`` in order, a new group whenever the next file would pass ``target_file_bytes``."""
    groups: list[list[AddFile]] = []
    current: list[AddFile] = []
    current_bytes = 0
    for add in files:
        if current and current_bytes + add.size > target_file_bytes:
            groups.append(current)
            current, current_bytes = [], 0
        current.append(add)
        current_bytes += add.size
    if current:
        groups.append(current)
    return groups


def _pack_one_more(
    packed: list[tuple[tuple[tuple[str, object], ...], list[list[AddFile]]]],
    target_file_bytes: int,
    split_min_bytes: int,
) -> bool:
    """Pack the partition with the fullest groups into one group more, evenly; ``False`` if none can be.

    The files are dealt largest first to the emptiest group (each group then read in path order); a
    partition qualifies when it has a file to spare, its groups would keep ``split_min_bytes`` on
    average, and no group would pass ``target_file_bytes``.
    """
    by_fullness = sorted(range(len(packed)), key=lambda i: -_bytes(_flat(packed[i][1])) / len(packed[i][1]))
    for index in by_fullness:
        values, groups = packed[index]
        files = _flat(groups)
        count = len(groups) + 1
        if count > len(files) or _bytes(files) // count < split_min_bytes:
            continue
        dealt: list[list[AddFile]] = [[] for _ in range(count)]
        filled = [(0, number) for number in range(count)]  # a heap of (bytes, group)
        for add in sorted(files, key=lambda f: (-f.size, f.path)):
            size, number = heapq.heappop(filled)
            dealt[number].append(add)
            heapq.heappush(filled, (size + add.size, number))
        if max(size for size, _ in filled) > target_file_bytes:
            continue
        packed[index] = (values, [sorted(group, key=lambda f: f.path) for group in dealt])
        return True
    return False


def _flat(groups: list[list[AddFile]]) -> list[AddFile]:
    return [add for group in groups for add in group]
