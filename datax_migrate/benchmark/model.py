"""The result of a query benchmark: one frozen object that report.json, report.html and report.md render from."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from datax_migrate.errors import DataxError

REPORT_SCHEMA_VERSION = 1
"""Version of report.json's layout; a reader refuses a version it does not know."""

SOURCE, TARGET = "source", "target"
SIDES = (SOURCE, TARGET)


class BenchmarkError(DataxError):
    """A benchmark cannot run: a pairs file, a query folder, a table or an engine is unusable."""


@dataclass(frozen=True)
class Timing:
    """The timed runs of one query on one side, in seconds.

    Attributes:
        runs: Seconds of each timed run, in the order they ran.
        median_s: Median of ``runs``.
        p95_s: 95th percentile of ``runs`` (nearest rank).
        min_s: Fastest run.
        max_s: Slowest run.
    """

    runs: tuple[float, ...]
    median_s: float
    p95_s: float
    min_s: float
    max_s: float

    @classmethod
    def of(cls, runs: Sequence[float]) -> Timing:
        """The statistics of ``runs`` (at least one)."""
        ordered = sorted(runs)
        rank = max(1, math.ceil(0.95 * len(ordered)))
        return cls(
            runs=tuple(runs),
            median_s=statistics.median(ordered),
            p95_s=ordered[rank - 1],
            min_s=ordered[0],
            max_s=ordered[-1],
        )


@dataclass(frozen=True)
class QueryOutcome:
    """One query, run on both sides.

    Attributes:
        name: The query's name (its file name without ``.sql``, or ``q01`` ... for TPC-H).
        ordered: The query orders its result (top-level ``ORDER BY``): rows are compared in order.
        rows: Rows the source side returned.
        answers_equal: Both sides returned the same answer (within the float tolerance).
        difference: What differs, when the answers do not agree.
        source: Timed runs on the Delta source.
        target: Timed runs on the Iceberg target.
        ratio: ``target.median_s / source.median_s`` (below 1: the target is faster).
        reference: Per side, whether the answer equals the reference answer (TPC-H); empty without one.
        reference_difference: What differs from the reference answer, when a side's does not.
    """

    name: str
    ordered: bool
    rows: int
    answers_equal: bool
    difference: str | None
    source: Timing
    target: Timing
    ratio: float
    reference: dict[str, bool] = field(default_factory=dict)
    reference_difference: str | None = None

    @property
    def passed(self) -> bool:
        """The answers agree with each other and with the reference answer, if there is one."""
        return self.answers_equal and all(self.reference.values())


@dataclass(frozen=True)
class TableLayout:
    """How one side of a table pair is stored, so that a difference in speed can be explained.

    Attributes:
        name: The name the queries use.
        side: ``source`` (Delta) or ``target`` (Iceberg).
        location: The Delta table location, or the Iceberg identifier and metadata location.
        version: Delta version, or Iceberg snapshot id, read.
        files: Data files.
        bytes: Bytes of the data files.
        rows: Rows (from the Parquet footers read).
        codecs: Compression codecs found in the footers read.
        row_groups: Row groups in the footers read.
        row_group_rows: Rows per row group: smallest, median, largest.
        row_group_bytes_median: Median compressed bytes of a row group.
        partitioning: Partition columns or transforms.
        sort_order: The recorded sort order (Iceberg), or clustering columns (Delta), ``none`` without.
        footers_read: Parquet footers read for the codec and row-group figures (all files, up to a cap).
    """

    name: str
    side: str
    location: str
    version: int
    files: int
    bytes: int
    rows: int
    codecs: tuple[str, ...]
    row_groups: int
    row_group_rows: tuple[int, int, int]
    row_group_bytes_median: int
    partitioning: str
    sort_order: str
    footers_read: int


@dataclass(frozen=True)
class EngineInfo:
    """The engine both sides ran on, and how it was set up.

    Attributes:
        name: ``duckdb`` or ``spark``.
        version: The engine's version.
        settings: The settings both sides ran with (threads, memory, extensions ...).
        source_reader: How the Delta source is read.
        target_reader: How the Iceberg target is read.
    """

    name: str
    version: str
    settings: dict[str, str]
    source_reader: str
    target_reader: str


@dataclass(frozen=True)
class Machine:
    """The machine the benchmark ran on."""

    cores: int
    memory_bytes: int
    platform: str
    python: str


@dataclass(frozen=True)
class BenchmarkReport:
    """A query benchmark's result.

    Attributes:
        title: What was benchmarked (``TPC-H SF 1 (derived from TPC-H)``, or the pairs file).
        label: A notice every rendering shows (``derived from TPC-H; not an audited TPC result``), or empty.
        started_at: ISO-8601 UTC time the run started.
        engine: The engine and its settings.
        machine: The machine.
        runs: Timed runs per query per side.
        warmup: Untimed warm-up runs per query per side before the timed ones.
        tolerance: How floating-point values are compared.
        queries: Every query, in the order run.
        layouts: Both sides of every table pair.
        geomean_ratio: Geometric mean of the per-query ratios target/source.
        query_seconds: Seconds spent running queries (warm-up and timed runs, both sides).
        wall_seconds: Seconds of the whole run (setup, table facts, queries, answer checks, charts).
        reference: Where the reference answers came from, or empty when there were none.
        notes: Anything a reader needs to read the figures right.
        schema_version: Version of this layout (:data:`REPORT_SCHEMA_VERSION`).
    """

    title: str
    label: str
    started_at: str
    engine: EngineInfo
    machine: Machine
    runs: int
    warmup: int
    tolerance: str
    queries: tuple[QueryOutcome, ...]
    layouts: tuple[TableLayout, ...]
    geomean_ratio: float
    query_seconds: float
    wall_seconds: float
    reference: str = ""
    notes: tuple[str, ...] = ()
    schema_version: int = REPORT_SCHEMA_VERSION

    @property
    def answers_equal(self) -> bool:
        """Every query answered the same on both sides."""
        return all(query.answers_equal for query in self.queries)

    @property
    def reference_equal(self) -> bool | None:
        """Every answer equals its reference answer; ``None`` without reference answers."""
        checked = [ok for query in self.queries for ok in query.reference.values()]
        return all(checked) if checked else None

    @property
    def passed(self) -> bool:
        """The answer checks passed: both sides agree, and agree with the reference where there is one."""
        return all(query.passed for query in self.queries)

    @property
    def harness_seconds(self) -> float:
        """Seconds of the run spent outside the queries."""
        return max(0.0, self.wall_seconds - self.query_seconds)

    @property
    def harness_overhead(self) -> float:
        """The harness's share of the run (0 to 1)."""
        return self.harness_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        """The JSON document of report.json (derived figures included)."""
        document = asdict(self)
        document.update(
            answers_equal=self.answers_equal,
            reference_equal=self.reference_equal,
            passed=self.passed,
            harness_seconds=self.harness_seconds,
            harness_overhead=self.harness_overhead,
        )
        return document

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> BenchmarkReport:
        """Read a report.json document back.

        Raises:
            BenchmarkError: the document has another schema version.
        """
        version = document.get("schema_version")
        if version != REPORT_SCHEMA_VERSION:
            raise BenchmarkError(f"report.json schema version {version!r} is not {REPORT_SCHEMA_VERSION}")
        fields = {name: document[name] for name in cls.__dataclass_fields__ if name in document}
        fields["engine"] = EngineInfo(**document["engine"])
        fields["machine"] = Machine(**document["machine"])
        fields["queries"] = tuple(_query(query) for query in document["queries"])
        fields["layouts"] = tuple(_layout(layout) for layout in document["layouts"])
        fields["notes"] = tuple(document.get("notes", ()))
        return cls(**fields)


def geometric_mean(values: Sequence[float]) -> float:
    """The geometric mean of positive ``values`` (NaN when there are none)."""
    positive = [value for value in values if value > 0]
    if not positive:
        return math.nan
    return math.exp(sum(math.log(value) for value in positive) / len(positive))


def _timing(document: dict[str, Any]) -> Timing:
    return Timing(**{**document, "runs": tuple(document["runs"])})


def _query(document: dict[str, Any]) -> QueryOutcome:
    return QueryOutcome(**{**document, SOURCE: _timing(document[SOURCE]), TARGET: _timing(document[TARGET])})


def _layout(document: dict[str, Any]) -> TableLayout:
    return TableLayout(
        **{**document, "codecs": tuple(document["codecs"]), "row_group_rows": tuple(document["row_group_rows"])}
    )
