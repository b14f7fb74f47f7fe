"""What a reconciliation found: the :class:`Report` every renderer and the sign-off ledger read.

``Report.to_json()`` is the versioned ``report.json`` schema (``schema_version``); a field is only
ever added, never renamed or removed, within a major version.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from typing import Any, TypeVar

REPORT_SCHEMA_VERSION = "1.2"

_T = TypeVar("_T")


class Status(str, Enum):
    """Outcome of one check."""

    PASS = "pass"
    """Both sides agree."""
    EXPECTED = "expected"
    """The sides differ only as the documented Delta -> Iceberg mapping says they must."""
    TOLERATED = "tolerated"
    """The sides differ, within the tolerances the user gave."""
    FAIL = "fail"
    """The sides differ."""
    SKIPPED = "skipped"
    """Not run (the reason is in the check's ``detail``)."""


def iso_utc(milliseconds: int) -> str:
    """A commit time in milliseconds since the epoch as ISO-8601 in UTC (:attr:`Side.commit_timestamp`)."""
    return dt.datetime.fromtimestamp(milliseconds / 1000, tz=dt.timezone.utc).isoformat()


@dataclass(frozen=True)
class Side:
    """Identity of one side of the comparison.

    Attributes:
        kind: ``"delta"`` or ``"iceberg"``.
        location: Delta table URI, or ``catalog:namespace.table`` for Iceberg (no credentials).
        version: Delta version compared (Delta side).
        snapshot_id: Iceberg snapshot compared (Iceberg side).
        commit_timestamp: when that version or snapshot was committed (ISO-8601, UTC).
        rows: rows read from this side.
        current_snapshot_id: the Iceberg table's current snapshot, when it is not the one compared
            (the table has moved on since).
        commit_time_source: where the Delta commit time comes from (in-commit timestamp, commit
            file modification time, ``commitInfo.timestamp``); ``None`` for Iceberg.
        converted_from_version: the Delta version the compared Iceberg snapshot was converted
            from, as its summary records it (``None``: not written by a datax-migrate conversion,
            or the Delta side).

    """

    kind: str
    location: str
    version: int | None = None
    snapshot_id: int | None = None
    commit_timestamp: str | None = None
    rows: int | None = None
    current_snapshot_id: int | None = None
    commit_time_source: str | None = None
    converted_from_version: int | None = None


@dataclass(frozen=True)
class Check:
    """One check with its outcome and the figures behind it.

    Attributes:
        name: ``schema``, ``row_count``, ``aggregates``, ``checksum``, ``row_diff``, ...
        status: outcome.
        summary: one sentence a non-engineer can read.
        detail: the figures (JSON-serialisable), e.g. both counts, per-column aggregates.
        seconds: time the check took.

    """

    name: str
    status: Status
    summary: str
    detail: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class Difference:
    """One difference found by the row diff.

    Attributes:
        kind: ``"cell"`` (same key, different value), ``"source_only"`` or ``"target_only"``
            (a row present on one side), or ``"duplicate_key"``.
        key: key column values of the row (for keyless comparisons: every column).
        column: the differing column for ``"cell"``, else ``None``.
        source: the source value of a ``"cell"`` (``None`` when NULL); for ``"source_only"``
            the row's other columns (column -> value; ``None`` in keyless comparisons, whose key
            is the whole row); for ``"duplicate_key"`` the rows holding the key in the source.
        target: the same for the target side.

    """

    kind: str
    key: dict[str, Any]
    column: str | None = None
    source: Any = None
    target: Any = None


@dataclass(frozen=True)
class ColumnSummary:
    """One column's values in the rows the row diff matched by key, as datacompy's column summary.

    Covers only the rows re-read from the buckets whose checksums differ (the other buckets are
    equal, value for value); see the ``row_diff`` check for which buckets those are.

    Attributes:
        column: the column.
        compared: values compared (rows matched by key in both sides).
        unequal: values that differ beyond the column's tolerance (datacompy's ``# Unequal``).
        null_diff: values NULL on one side only (datacompy's ``# Null Diff``).
        max_abs_diff: largest ``|source - target|`` over the compared numeric values, tolerated
            ones included (datacompy's ``Max Diff``); ``None`` for other columns or when none differ.
        max_rel_diff: largest ``|source - target| / |target|`` (where ``target`` is not 0), the
            relative part of a tolerance; ``None`` as above.

    """

    column: str
    compared: int
    unequal: int
    null_diff: int = 0
    max_abs_diff: Any = None
    max_rel_diff: float | None = None


@dataclass(frozen=True)
class ProofLevel:
    """What a reconciliation compared, and what its verdict does not prove.

    Attributes:
        level: ``"every_row"`` (every row of every common column, by checksum and, where the
            checksums differ, value by value) or ``"narrowed"`` (every row, but only the columns
            chosen with ``--columns`` / ``--exclude``).
        compared: what was compared, one sentence each.
        not_proven: what the verdict does not prove, one sentence each.
        columns_compared: the columns whose values were compared.
        columns_excluded: common columns left out on purpose (``--columns`` / ``--exclude``).

    """

    level: str
    compared: list[str]
    not_proven: list[str]
    columns_compared: list[str]
    columns_excluded: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """Everything a reconciliation found; ``verdict`` is ``"match"`` or ``"mismatch"``.

    Attributes:
        table: the target table name (``namespace.table``).
        source: the Delta side.
        target: the Iceberg side.
        verdict: ``"match"`` when every check passed, was expected or tolerated.
        checks: every check, in the order run.
        differences: the differences found (capped at ``sample_limit``).
        differences_total: how many differences there are in all (may exceed the list).
        keys: key columns used (empty: whole-row comparison).
        tolerances: column -> ``abs:X`` / ``rel:Y`` as given.
        sample_limit: cap on listed differences; ``sample_seed`` makes the choice reproducible.
        sample_seed: seed of the sample choice.
        started_at: ISO-8601 UTC start time.
        seconds: total run time.
        tool_version: datax-migrate version that produced the report.
        warnings: things the reader should know (e.g. target snapshot chosen by fallback).
        proof: what was compared and what the verdict does not prove.
        recompute: the figures the checksum SQL in the report folder returns on each side
            (``row_count``, ``lane_1``, ``lane_2`` and ``digest``), its file names, or why there
            is no SQL (``unavailable``); see docs/reconcile-checksum.md.
        checksum_sql: the checksum SQL files written beside the report, by file name (not part
            of ``report.json``).
        column_summaries: per-column statistics of the rows the row diff matched by key (empty
            when no row diff ran or it had no key columns).

    """

    table: str
    source: Side
    target: Side
    verdict: str
    checks: list[Check]
    differences: list[Difference]
    differences_total: int
    keys: list[str]
    tolerances: dict[str, str]
    sample_limit: int
    sample_seed: int
    started_at: str
    seconds: float
    tool_version: str
    warnings: list[str] = field(default_factory=list)
    proof: ProofLevel | None = None
    recompute: dict[str, Any] = field(default_factory=dict)
    checksum_sql: dict[str, str] = field(default_factory=dict, metadata={"json": False})
    column_summaries: list[ColumnSummary] = field(default_factory=list)

    @property
    def differences_listed(self) -> int:
        """How many differences the report lists (at most :attr:`sample_limit`)."""
        return len(self.differences)

    @property
    def matches(self) -> bool:
        """Whether the verdict is ``"match"``."""
        return self.verdict == "match"

    def to_json(self) -> str:
        """The ``report.json`` document (schema :data:`REPORT_SCHEMA_VERSION`)."""
        document = {"schema_version": REPORT_SCHEMA_VERSION, **asdict(self)}
        for hidden in (f.name for f in fields(self) if f.metadata.get("json") is False):
            del document[hidden]
        return json.dumps(document, indent=2, default=_json_value, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Report:
        """Read a ``report.json`` document of the same major schema version.

        Fields added by a later minor version are ignored. Values JSON cannot hold come back as
        :meth:`to_json` wrote them (bytes as hex, dates as ISO-8601 strings).

        Raises:
            ValueError: not JSON, another major schema version, or a field missing or malformed.

        """
        try:
            document = json.loads(text)
            version = str(document["schema_version"])
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not a report.json document ({exc})") from exc
        major = REPORT_SCHEMA_VERSION.split(".")[0]
        if version.split(".")[0] != major:
            raise ValueError(f"report.json has schema version {version}; this datax-migrate reads {major}.x")
        try:
            return _build(
                cls,
                {
                    **document,
                    "source": _build(Side, document["source"]),
                    "target": _build(Side, document["target"]),
                    "checks": [_build(Check, {**c, "status": Status(c["status"])}) for c in document["checks"]],
                    "differences": [_build(Difference, d) for d in document["differences"]],
                    "proof": _build(ProofLevel, document["proof"]) if document.get("proof") else None,
                    "column_summaries": [_build(ColumnSummary, c) for c in document.get("column_summaries", [])],
                },
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"report.json is malformed ({type(exc).__name__}: {exc})") from exc


def _build(cls: type[_T], document: dict[str, Any]) -> _T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]  # every caller passes a dataclass
    return cls(**{k: v for k, v in document.items() if k in names})


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
