"""Split a Delta snapshot into file groups: the unit of work an engine hands to one task.

A file group holds Delta files of one partition, bin-packed up to a target size; each group becomes
one Iceberg data file, so many small Delta files are compacted on the way. The groups of the last
round, when there are fewer of them than workers, are each written as several data files instead, so
that every worker has a share of that round (see :attr:`FileGroup.parts`).
"""

from __future__ import annotations

from dataclasses import dataclass

from datax_migrate.delta.actions import AddFile
from datax_migrate.delta.scan import FileReader

DEFAULT_TARGET_FILE_BYTES = 256 * 1024 * 1024
DEFAULT_SPLIT_MIN_BYTES = 16 * 1024 * 1024
"""A group of the last round is split only from this many bytes of Delta data: each part is worth a file."""


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
    first, so the slowest tasks start early. When the groups do not fill the last round (5 groups on
    2 workers), each group of that round with at least ``split_min_bytes`` gets enough
    :attr:`~FileGroup.parts` to keep every worker busy.
    """
    total = sum(add.size for add in reader.snapshot.files)
    target_file_bytes = max(1, min(target_file_bytes, total // (2 * workers)))
    by_partition: dict[tuple[tuple[str, str], ...], tuple[tuple[tuple[str, object], ...], list[AddFile]]] = {}
    for add in reader.snapshot.files:
        values = tuple(sorted(reader.partition_values(add).items()))
        key = tuple((name, repr(value)) for name, value in values)
        by_partition.setdefault(key, (values, []))[1].append(add)
    bins: list[tuple[tuple[tuple[str, object], ...], list[AddFile]]] = []
    for values, files in by_partition.values():
        current: list[AddFile] = []
        current_bytes = 0
        for add in sorted(files, key=lambda f: f.path):
            if current and current_bytes + add.size > target_file_bytes:
                bins.append((values, current))
                current, current_bytes = [], 0
            current.append(add)
            current_bytes += add.size
        if current:
            bins.append((values, current))
    bins.sort(key=lambda b: -sum(f.size for f in b[1]))
    last_round = len(bins) % workers
    parts = [1] * len(bins)
    for index in range(len(bins) - last_round, len(bins)):
        if sum(f.size for f in bins[index][1]) >= split_min_bytes:
            parts[index] = workers // last_round
    return [FileGroup(index, tuple(files), values, parts[index]) for index, (values, files) in enumerate(bins)]
