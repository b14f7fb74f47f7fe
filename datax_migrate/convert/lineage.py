"""Lineage: which Delta files (path + deletion vector) the rows of each Iceberg data file come from.

A conversion bin-packs several Delta files into one Iceberg file, and table maintenance (compaction)
rewrites several Iceberg files into one, so lineage is a set relation: a *group* is a set of Iceberg
data files holding exactly the rows of a set of Delta files. When a Delta file of a group leaves the
table (removed, or re-added with a new deletion vector), the whole group is rewritten: its Iceberg
files are deleted and its remaining Delta files written anew, one Iceberg file each. History and sync
write one Iceberg file per Delta file, so their groups stay small and a later change stays cheap.

Lineage is stored beside the table metadata as a small gzipped JSON file, named by the table property
:data:`LINEAGE_PROPERTY` and written in the same commit as the snapshots it describes.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyiceberg.io import FileIO

from datax_migrate.convert.changes import FileKey
from datax_migrate.errors import TargetError

LINEAGE_PROPERTY = "datax.sync.lineage"
"""Table property: the lineage file of the table's current state."""
FORMAT = 1


def lineage_file(location: str, run_id: str) -> str:
    """Where the run ``run_id`` writes the lineage of the table at ``location``.

    Not named ``.gz``: Arrow's file systems would compress (and not decompress) it again by that suffix.
    """
    return f"{location}/metadata/datax-lineage-{run_id}.lineage"


@dataclass
class LineageGroup:
    """Iceberg data files that hold exactly the rows of a set of Delta files."""

    iceberg: set[str] = field(default_factory=set)
    delta: set[FileKey] = field(default_factory=set)


class Lineage:
    """The lineage groups of a table's current snapshot."""

    def __init__(self, groups: Iterable[LineageGroup] = ()) -> None:
        """Hold ``groups``."""
        self._groups: dict[int, LineageGroup] = {}
        self._by_delta: dict[FileKey, int] = {}
        self._by_iceberg: dict[str, int] = {}
        self._next = 0
        for group in groups:
            self.add(group.iceberg, group.delta)

    @property
    def groups(self) -> list[LineageGroup]:
        """Every group."""
        return list(self._groups.values())

    def delta_keys(self) -> set[FileKey]:
        """Every Delta file the table's rows come from."""
        return set(self._by_delta)

    def iceberg_paths(self) -> set[str]:
        """Every Iceberg data file of the table."""
        return set(self._by_iceberg)

    def add(self, iceberg: Iterable[str], delta: Iterable[FileKey]) -> None:
        """Add a group: the Iceberg files ``iceberg`` hold the rows of the Delta files ``delta``."""
        group = LineageGroup(set(iceberg), set(delta))
        number = self._next
        self._next += 1
        self._groups[number] = group
        for key in group.delta:
            self._by_delta[key] = number
        for path in group.iceberg:
            self._by_iceberg[path] = number

    def release(self, removed: Iterable[FileKey]) -> tuple[set[str], set[FileKey]]:
        """Drop every group holding a removed Delta file.

        Returns:
            The Iceberg files of those groups (to delete) and their Delta files that were not removed
            (to write anew).

        Raises:
            TargetError: a removed Delta file is not in the lineage (the table does not hold it).

        """
        removed = set(removed)
        numbers: set[int] = set()
        for key in removed:
            if key not in self._by_delta:
                raise TargetError(f"the Iceberg table holds no rows of the removed Delta file {key[0]}")
            numbers.add(self._by_delta[key])
        deleted: set[str] = set()
        kept: set[FileKey] = set()
        for number in numbers:
            group = self._groups.pop(number)
            deleted |= group.iceberg
            kept |= group.delta - removed
            for key in group.delta:
                del self._by_delta[key]
            for path in group.iceberg:
                del self._by_iceberg[path]
        return deleted, kept

    def rewrite(self, deleted: Iterable[str], added: Iterable[str]) -> None:
        """Account for a rewrite without data change (compaction): ``deleted`` Iceberg files became ``added``.

        The groups of the deleted files merge into one group holding the added files and the rest of
        their Iceberg files.

        Raises:
            TargetError: a deleted file is not in the lineage.

        """
        numbers: set[int] = set()
        for path in deleted:
            if path not in self._by_iceberg:
                raise TargetError(f"a rewrite removed {path}, a data file this table's lineage does not hold")
            numbers.add(self._by_iceberg[path])
        iceberg: set[str] = set(added)
        delta: set[FileKey] = set()
        for number in numbers:
            group = self._groups.pop(number)
            iceberg |= group.iceberg
            delta |= group.delta
            for key in group.delta:
                del self._by_delta[key]
            for path in group.iceberg:
                del self._by_iceberg[path]
        self.add(iceberg - set(deleted), delta)

    def to_bytes(self) -> bytes:
        """The lineage as gzipped JSON."""
        document = {
            "format": FORMAT,
            "groups": [
                {"iceberg": sorted(g.iceberg), "delta": sorted([k[0], k[1]] for k in g.delta)}
                for g in self._groups.values()
            ],
        }
        return gzip.compress(json.dumps(document, separators=(",", ":")).encode(), compresslevel=5)

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Lineage:
        """Read lineage written by :meth:`to_bytes`; ``where`` names the file in errors."""
        try:
            document = json.loads(gzip.decompress(data))
            if document.get("format") != FORMAT:
                raise ValueError(f"format {document.get('format')!r} is not {FORMAT}")
            return cls(
                LineageGroup(set(g["iceberg"]), {(str(k[0]), k[1]) for k in g["delta"]}) for g in document["groups"]
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TargetError(f"the lineage file {where} is unreadable: {exc}") from exc

    def write(self, io: FileIO, path: str) -> None:
        """Write the lineage file ``path``."""
        with io.new_output(path).create(overwrite=True) as stream:
            stream.write(self.to_bytes())

    @classmethod
    def read(cls, io: FileIO, path: str) -> Lineage:
        """Read the lineage file ``path``."""
        try:
            with io.new_input(path).open() as stream:
                data = stream.read()
        except (OSError, FileNotFoundError) as exc:
            raise TargetError(f"the lineage file {path} is missing or unreadable: {exc}") from exc
        return cls.from_bytes(data, path)
