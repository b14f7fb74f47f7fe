"""Run sources into one inventory, resumably.

While it runs, every record is appended to a checkpoint file (JSON lines) as soon as it is found. A
crawl that is interrupted (Ctrl-C, a lost connection, a killed process) and started again with the
same sources reads the checkpoint and skips what it already holds; objects that failed are tried
again. When the crawl completes the caller writes the inventory and removes the checkpoint. The crawl
records facts only; ``datax-migrate inventory`` has the assessment attach its verdicts
(:func:`datax_migrate.assess.assessment.with_verdicts`) before writing inventory.json.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from datax_migrate import __version__
from datax_migrate.errors import InventoryError
from datax_migrate.inventory.model import (
    CrawlFailure,
    Inventory,
    JobRecord,
    NotebookRecord,
    Record,
    TableRecord,
    record_from_dict,
    record_key,
    record_to_dict,
)
from datax_migrate.inventory.sources.base import Source

CHECKPOINT_VERSION = "datax-inventory-checkpoint/2"


@dataclass(frozen=True)
class CrawlCounts:
    """How much a crawl has found so far (for progress display)."""

    tables: int = 0
    notebooks: int = 0
    jobs: int = 0
    failures: int = 0
    resumed: int = 0

    def add(self, record: Record) -> CrawlCounts:
        """These counts with ``record`` counted."""
        return CrawlCounts(
            self.tables + isinstance(record, TableRecord),
            self.notebooks + isinstance(record, NotebookRecord),
            self.jobs + isinstance(record, JobRecord),
            self.failures + isinstance(record, CrawlFailure),
            self.resumed,
        )

    @property
    def total(self) -> int:
        """Records found, failures included."""
        return self.tables + self.notebooks + self.jobs + self.failures


def crawl(
    sources: Sequence[Source],
    checkpoint: Path | None = None,
    progress: Callable[[CrawlCounts], None] | None = None,
) -> Inventory:
    """Crawl every source in turn and return the inventory.

    Args:
        sources: What to crawl.
        checkpoint: JSON-lines file that records progress; an existing one from the same sources
            is resumed from.
        progress: Called after each record with the running counts.

    Raises:
        InventoryError: a source cannot be crawled at all, or the checkpoint belongs to other sources.
    """
    descriptions = tuple(source.description for source in sources)
    records = _resume(checkpoint, descriptions) if checkpoint else []
    known = {record_key(record) for record in records}  # also read by sources' worker threads: set ops are atomic
    counts = CrawlCounts(resumed=len(records))
    for record in records:
        counts = counts.add(record)
    writer = _open_checkpoint(checkpoint, descriptions, records) if checkpoint else None
    try:
        for source in sources:
            for record in source.crawl(known.__contains__):
                records.append(record)
                counts = counts.add(record)
                if not isinstance(record, CrawlFailure):
                    known.add(record_key(record))
                if writer is not None:
                    writer.write(_line(record))
                    writer.flush()
                if progress is not None:
                    progress(counts)
    finally:
        if writer is not None:
            writer.close()
    created_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return Inventory.from_records(records, created_at, descriptions, __version__)


def _resume(checkpoint: Path, descriptions: tuple[str, ...]) -> list[Record]:
    """Records of an earlier run of the same crawl (failures left out, so they are tried again)."""
    if not checkpoint.exists():
        return []
    lines = checkpoint.read_text(encoding="utf-8").splitlines()
    header = _parse(lines[0], checkpoint, 1) if lines else {}
    if header.get("checkpoint") != CHECKPOINT_VERSION:
        raise InventoryError(f"{checkpoint} is not an inventory checkpoint; remove it or choose another --out")
    if tuple(header.get("sources", ())) != descriptions:
        raise InventoryError(
            f"{checkpoint} belongs to a crawl of other sources ({'; '.join(header.get('sources', ()))}); "
            "rerun with those sources to resume it, or remove it to start afresh"
        )
    records: list[Record] = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = record_from_dict(_parse(line, checkpoint, number))
        except InventoryError:
            if number == len(lines):  # the last line of a killed run may be cut short
                break
            raise
        except (TypeError, KeyError) as exc:
            raise InventoryError(f"{checkpoint} line {number} is not a record: {exc}") from exc
        if not isinstance(record, CrawlFailure):
            records.append(record)
    return records


def _open_checkpoint(checkpoint: Path, descriptions: tuple[str, ...], resumed: list[Record]) -> TextIO:
    """Start the checkpoint afresh with the resumed records (dropping a line cut short), open for appending."""
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    header = json.dumps({"checkpoint": CHECKPOINT_VERSION, "sources": list(descriptions)}) + "\n"
    checkpoint.write_text(header + "".join(_line(record) for record in resumed), encoding="utf-8")
    return checkpoint.open("a", encoding="utf-8")


def _line(record: Record) -> str:
    return json.dumps(record_to_dict(record), sort_keys=True, ensure_ascii=False) + "\n"


def _parse(line: str, checkpoint: Path, number: int) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise InventoryError(f"{checkpoint} line {number} is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InventoryError(f"{checkpoint} line {number} is not a JSON object")
    return value
