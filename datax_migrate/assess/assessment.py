"""The assessment of an inventory: findings, strategy and estimate per object, and the totals."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import asdict, dataclass, replace
from functools import cached_property
from typing import Any

from datax_migrate import __version__
from datax_migrate.assess.estimates import (
    MEASURED_THROUGHPUT,
    S3_TABLES_PRICES,
    ConversionThroughput,
    S3TablesPrices,
    TableEstimate,
    Totals,
    estimate_table,
    total,
)
from datax_migrate.assess.rules import (
    BLOCKED,
    RECREATE_VIEW,
    REWRITE,
    STRATEGIES,
    UNKNOWN,
    assess_job,
    assess_table,
    failure_finding,
    notebook_translatability,
)
from datax_migrate.errors import ConfigError
from datax_migrate.findings import Finding, Severity
from datax_migrate.inventory.model import Inventory, TableRecord
from datax_migrate.plan.names import S3_TABLES, map_name, parse_name, plan_names

ASSESSMENT_SCHEMA_VERSION = "datax-assessment/1"
LOCATION = "LOCATION"
"""What stands for each table's own location in a blocker stated once for many tables."""
REPORT_ORDER = (BLOCKED, UNKNOWN, REWRITE, RECREATE_VIEW)
"""The order of the strategy groups in the reports: what needs work first."""


@dataclass(frozen=True)
class TableAssessment:
    """One table's verdict.

    Attributes:
        name: Databricks (or storage-derived) name.
        origin: Where it was found.
        kind: managed, external, view ...
        format: Data format.
        location: Storage location.
        strategy: ``rewrite``, ``recreate-view``, ``blocked`` or ``unknown``.
        target: ``namespace.table`` in S3 Tables, when the name maps.
        estimate: Size and time, when the size is known.
        findings: What was found.
    """

    name: str
    origin: str
    kind: str
    format: str | None
    location: str | None
    strategy: str
    target: str | None
    estimate: TableEstimate | None
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class NotebookAssessment:
    """One notebook's verdict: ``automatic``, ``assisted`` or ``manual`` translation."""

    path: str
    origin: str
    language: str
    cell_count: int
    translatability: str
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class JobAssessment:
    """One job's verdict."""

    job_id: str
    name: str
    task_kinds: tuple[str, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class BlockerGroup:
    """One blocker, stated once for every object it blocks.

    Attributes:
        code: The finding code.
        message: What to do; a table's own location appears as :data:`LOCATION`.
        subjects: The objects it blocks (table names, notebook paths, jobs), in report order.
    """

    code: str
    message: str
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    """Everything ``datax-migrate assess`` decided about one inventory.

    Attributes:
        created_at: When the assessment ran.
        inventory_created_at: When the inventory was crawled.
        sources: What the inventory crawled.
        tables: Per table, sorted by name.
        notebooks: Per notebook.
        jobs: Per job.
        findings: Findings about the whole migration or about objects the crawl could not read.
        totals: Size, time and cost of the tables to rewrite.
        prices: The prices used.
        throughput: The conversion throughput used.
        tool_version: datax-migrate version.
    """

    created_at: str
    inventory_created_at: str
    sources: tuple[str, ...]
    tables: tuple[TableAssessment, ...]
    notebooks: tuple[NotebookAssessment, ...]
    jobs: tuple[JobAssessment, ...]
    findings: tuple[Finding, ...]
    totals: Totals
    prices: S3TablesPrices
    throughput: ConversionThroughput
    tool_version: str = __version__

    def all_findings(self) -> list[Finding]:
        """Every finding, of every object and of the whole migration."""
        found = list(self.findings)
        for group in (self.tables, self.notebooks, self.jobs):
            for item in group:
                found.extend(item.findings)
        return found

    @property
    def blockers(self) -> int:
        """Findings of severity blocker."""
        return sum(f.severity is Severity.BLOCKER for f in self.all_findings())

    def strategy_counts(self) -> dict[str, int]:
        """Tables per strategy, every strategy listed."""
        counts = Counter(table.strategy for table in self.tables)
        return {strategy: counts.get(strategy, 0) for strategy in STRATEGIES}

    @cached_property
    def table_names(self) -> frozenset[str]:
        """The names of the tables assessed."""
        return frozenset(t.name for t in self.tables)

    @property
    def is_empty(self) -> bool:
        """Whether the inventory held nothing to assess: no table, notebook, job or finding."""
        return not (self.tables or self.notebooks or self.jobs or self.findings)

    @cached_property
    def strategy_groups(self) -> list[tuple[str, tuple[TableAssessment, ...]]]:
        """The tables by strategy, blocked first (:data:`REPORT_ORDER`), empty strategies left out."""
        groups = [(s, tuple(t for t in self.tables if t.strategy == s)) for s in REPORT_ORDER]
        return [(strategy, tables) for strategy, tables in groups if tables]

    @cached_property
    def blocker_groups(self) -> list[BlockerGroup]:
        """Every blocker finding, each different blocker once with what it blocks; the most widespread first."""
        subjects: dict[tuple[str, str], list[str]] = {}
        located: list[tuple[tuple[Finding, ...], str | None]] = [
            (t.findings, t.location) for _, tables in self.strategy_groups for t in tables
        ]
        located += [(n.findings, None) for n in self.notebooks] + [(j.findings, None) for j in self.jobs]
        located.append((self.findings, None))
        for findings, location in located:
            for finding in findings:
                if finding.severity is Severity.BLOCKER:
                    message = finding.message.replace(location, LOCATION) if location else finding.message
                    subjects.setdefault((finding.code, message), []).append(finding.subject)
        groups = [BlockerGroup(code, message, tuple(names)) for (code, message), names in subjects.items()]
        return sorted(groups, key=lambda group: (-len(group.subjects), group.code, group.message))

    def code_counts(self) -> list[tuple[str, str, int]]:
        """``(code, severity, count)`` for every finding code, blockers first, then by count."""
        counts = Counter((f.code, f.severity) for f in self.all_findings())
        order = {Severity.BLOCKER: 0, Severity.REVIEW: 1, Severity.INFO: 2}
        ranked = sorted(counts.items(), key=lambda item: (order[item[0][1]], -item[1], item[0][0]))
        return [(code, severity.value, count) for (code, severity), count in ranked]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``assessment.json``)."""

        def findings(items: tuple[Finding, ...]) -> list[dict[str, Any]]:
            return [f.to_dict() for f in items]

        return {
            "schema_version": ASSESSMENT_SCHEMA_VERSION,
            "tool_version": self.tool_version,
            "created_at": self.created_at,
            "inventory_created_at": self.inventory_created_at,
            "sources": list(self.sources),
            "summary": {
                "strategies": self.strategy_counts(),
                "blockers": self.blockers,
                "codes": [{"code": c, "severity": s, "count": n} for c, s, n in self.code_counts()],
                "blocker_groups": [asdict(group) for group in self.blocker_groups],
            },
            "totals": {**asdict(self.totals), "per_month": self.totals.per_month},
            "prices": self.prices.to_dict(),
            "throughput": asdict(self.throughput),
            "tables": [{**asdict(t), "findings": findings(t.findings)} for t in self.tables],
            "notebooks": [{**asdict(n), "findings": findings(n.findings)} for n in self.notebooks],
            "jobs": [{**asdict(j), "findings": findings(j.findings)} for j in self.jobs],
            "findings": findings(self.findings),
        }

    def to_json(self) -> str:
        """``assessment.json``."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def assess(
    inventory: Inventory,
    prices: S3TablesPrices = S3_TABLES_PRICES,
    throughput: ConversionThroughput = MEASURED_THROUGHPUT,
) -> Assessment:
    """Assess every object of ``inventory``."""
    migration_findings = [failure_finding(failure) for failure in inventory.failures]
    tables = []
    estimates = []
    unsized = 0
    for record in inventory.tables:
        strategy, target, findings = table_verdict(record)
        estimate = None
        facts = record.delta
        if facts is not None and facts.size_bytes is not None and facts.num_files is not None:
            estimate = estimate_table(facts.size_bytes, facts.num_files, throughput)
        if strategy == REWRITE:
            if estimate is None:
                unsized += 1
            else:
                estimates.append(estimate)
        tables.append(
            TableAssessment(
                record.name,
                record.origin,
                record.kind,
                record.format,
                record.location,
                strategy,
                target,
                estimate,
                findings,
            )
        )
    migration_findings += _collisions([t.name for t in tables if t.target is not None])
    notebooks = [
        NotebookAssessment(n.path, n.origin, n.language, n.cell_count, notebook_translatability(n), n.findings)
        for n in inventory.notebooks
    ]
    notebook_paths = [n.path for n in inventory.notebooks if n.origin == "workspace"]
    jobs = [
        JobAssessment(j.job_id, j.name, tuple(t.kind for t in j.tasks), assess_job(j, notebook_paths))
        for j in inventory.jobs
    ]
    return Assessment(
        created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        inventory_created_at=inventory.created_at,
        sources=inventory.sources,
        tables=tuple(tables),
        notebooks=tuple(notebooks),
        jobs=tuple(jobs),
        findings=tuple(migration_findings),
        totals=total(estimates, unsized, prices),
        prices=prices,
        throughput=throughput,
    )


def table_verdict(record: TableRecord) -> tuple[str, str | None, tuple[Finding, ...]]:
    """The strategy, S3 Tables name and findings of one table: the rules, then its target name.

    ``datax-migrate inventory`` records these in each table entry; ``assess`` computes them again.
    """
    strategy, findings = assess_table(record)
    target, name_findings = _target_name(record.name)
    return strategy, target, findings + name_findings


def with_verdicts(inventory: Inventory) -> Inventory:
    """``inventory`` with each table's strategy and findings, as inventory.json records them.

    The crawl records facts only; ``datax-migrate inventory`` attaches these so the inventory stands
    on its own (schema ``datax-inventory/2``). ``assess`` computes them again.
    """
    return replace(inventory, tables=tuple(_judged(table) for table in inventory.tables))


def _judged(table: TableRecord) -> TableRecord:
    strategy, _, findings = table_verdict(table)
    return replace(table, strategy=strategy, findings=findings)


def _target_name(name: str) -> tuple[str | None, tuple[Finding, ...]]:
    try:
        target = map_name(name, S3_TABLES)
    except ConfigError as exc:
        return None, (Finding("invalid-name", Severity.BLOCKER, f"the name cannot be mapped: {exc}", name),)
    plain = ".".join(parse_name(name)[-2:]).lower()
    if target.identifier != plain:
        message = f"lands in S3 Tables as {target.identifier} (its name is not valid there as it is)"
        return target.identifier, (
            Finding("target-name-changed", Severity.INFO, message, name, replacement=target.identifier),
        )
    return target.identifier, ()


def _collisions(names: list[str]) -> list[Finding]:
    try:
        plan_names(names, S3_TABLES)
    except ConfigError as exc:
        return [Finding("target-name-collision", Severity.BLOCKER, str(exc), "migration")]
    return []
