"""Make an estate plan from an inventory: a strategy, a target name and a wave for every table.

The strategy comes from the assessment verdict each inventory table carries (computed again when an
older inventory carries none): a table the converter accepts (``rewrite``) is planned as ``convert``;
blocked, unknown and views as ``skip``, with the blocking finding's code first in the notes. Target
names are planned as ``datax-migrate names`` plans them (the target catalog's rules, or a name mapping
file), and collisions or invalid names refuse the whole plan before anything is written.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from datax_migrate.assess.assessment import table_verdict
from datax_migrate.assess.rules import RECREATE_VIEW, REWRITE
from datax_migrate.config import Config
from datax_migrate.errors import ConfigError
from datax_migrate.estate.plan import (
    CONVERT,
    NAMING_RULES,
    PLAN_CSV,
    SKIP,
    Plan,
    PlanError,
    PlannedTable,
    planned_sha256,
    source_key,
    write_plan,
)
from datax_migrate.findings import Finding, Severity
from datax_migrate.inventory.model import Inventory, TableRecord
from datax_migrate.plan.names import (
    NameMapping,
    NameRules,
    TargetName,
    check_identifier,
    parse_name,
    plan_names,
    rules_for_catalog,
)

WAVE_BY = ("size", "namespace")
SIZE_CLASSES = (1 << 30, 100 << 30)
"""Upper bounds (bytes) of the size waves of ``--wave-by size``: under 1 GiB, under 100 GiB, the rest."""


@dataclass(frozen=True)
class PlanOptions:
    """How to plan.

    Attributes:
        config: The YAML catalog config (default: the catalogs pyiceberg finds and ``local``).
        catalog: Target catalog's name (default: the config's default).
        name_map: A name mapping file written by ``datax-migrate names --out``.
        waves: Split the tables, smallest first, into this many waves of about equal count.
        wave_by: ``size`` (under 1 GiB, under 100 GiB, the rest) or ``namespace`` (one wave each).
        exclude: Glob patterns; a table whose name (any case) or location matches one is left out.
    """

    config: str | None = None
    catalog: str | None = None
    name_map: str | None = None
    waves: int | None = None
    wave_by: str | None = None
    exclude: tuple[str, ...] = ()


def plan_estate(inventory: Inventory, out: Path, options: PlanOptions | None = None) -> Plan:
    """Plan every table of ``inventory`` and write ``out/plan.csv`` and ``out/plan.json``.

    Raises:
        PlanError: two inventory tables share a name, a name cannot be mapped, two tables would
            land on one target, or ``out`` holds a ``plan.csv`` edited since it was written (people's
            edits are not overwritten); nothing is written.
        ConfigError: the config, catalog, name mapping or wave options are invalid.
    """
    options = options or PlanOptions()
    if options.waves is not None and options.wave_by is not None:
        raise ConfigError("give --waves N or --wave-by, not both")
    if options.waves is not None and options.waves < 1:
        raise ConfigError(f"--waves must be 1 or more, not {options.waves}")
    if options.wave_by is not None and options.wave_by not in WAVE_BY:
        raise ConfigError(f"--wave-by must be one of {', '.join(WAVE_BY)}, not {options.wave_by!r}")
    config = Config.load(options.config)
    catalog = options.catalog or config.default_catalog
    rules = rules_for_catalog(config.properties(catalog))
    records = [record for record in inventory.tables if not _excluded(record, options.exclude)]
    _refuse_repeated(records)
    targets = _targets(records, rules, options.name_map)
    rows = [_planned(record, targets[record.name], catalog) for record in records]
    waves = _waves(rows, records, options)
    planned = sorted(
        (replace(row, wave=wave) for row, wave in zip(rows, waves, strict=True)),
        key=lambda row: (row.wave, row.namespace, row.table),
    )
    rules_key = next(key for key, value in NAMING_RULES.items() if value == rules)
    _refuse_overwriting_edits(out)
    return write_plan(out, planned, {catalog: rules_key})


def _refuse_overwriting_edits(out: Path) -> None:
    """Refuse to replace a ``plan.csv`` that people edited since ``plan`` wrote it."""
    if not (out / PLAN_CSV).exists():
        return
    try:
        current = hashlib.sha256((out / PLAN_CSV).read_bytes()).hexdigest() == planned_sha256(out)
    except OSError:
        current = False
    if not current:
        raise PlanError(
            f"{out / PLAN_CSV} was edited since `datax-migrate plan` wrote it; nothing was written: move it away to"
            " plan again, or plan into another folder"
        )


def _excluded(record: TableRecord, patterns: Sequence[str]) -> bool:
    """Whether a pattern matches the table's name (as written or unquoted, any case) or its location."""
    if not patterns:
        return False
    names = {record.name.lower()}
    try:
        names.add(".".join(parse_name(record.name)).lower())
    except ConfigError:  # refused with its reason when the plan maps the names
        pass
    return any(
        any(fnmatch.fnmatchcase(name, pattern.lower()) for name in names)
        or (record.location and fnmatch.fnmatchcase(record.location, pattern))
        for pattern in patterns
    )


def _refuse_repeated(records: list[TableRecord]) -> None:
    seen: dict[tuple[str, ...], list[TableRecord]] = defaultdict(list)
    for record in records:
        try:
            key = source_key(record.name)
        except ConfigError as exc:
            raise PlanError(f"{exc}; leave it out with --exclude or rename it") from None
        seen[key].append(record)
    repeated = [group for group in seen.values() if len(group) > 1]
    if repeated:
        listed = "; ".join(
            f"{group[0].name} ({', '.join(f'{r.origin} {r.location or r.kind}' for r in group)})" for group in repeated
        )
        raise PlanError(
            f"the inventory lists {len(repeated)} table(s) more than once: {listed}; leave copies out with --exclude"
        )


def _targets(records: list[TableRecord], rules: NameRules, name_map: str | None) -> dict[str, TargetName]:
    """The target of every record, by its name: from the name mapping file, else planned as ``names`` does."""
    try:
        if name_map:
            mapping = NameMapping.load(name_map)
            targets = {record.name: mapping.target_for(record.name) for record in records}
            for target in targets.values():
                check_identifier(target.identifier, rules)
            return targets
        mapping = plan_names([record.name for record in records], rules)
    except ConfigError as exc:
        raise PlanError(f"target names: {exc}") from None
    return {record.name: mapping.target_for(record.name) for record in records}


def _planned(record: TableRecord, target: TargetName, catalog: str) -> PlannedTable:
    strategy, findings = record.strategy, record.findings
    if strategy is None:
        strategy, _, findings = table_verdict(record)
    if strategy == REWRITE:
        reviews = [f.code for f in findings if f.severity is Severity.REVIEW]
        plan_strategy, notes = CONVERT, f"review: {', '.join(reviews)}" if reviews else ""
    elif strategy == RECREATE_VIEW:
        plan_strategy, notes = SKIP, "a view: create it on the target from its translated SQL"
    else:
        plan_strategy, notes = SKIP, _blocker_note(findings, strategy)
    return PlannedTable(
        line=0,
        databricks_name=record.name,
        location=record.location or "",
        catalog=catalog,
        namespace=target.namespace,
        table=target.table,
        strategy=plan_strategy,
        wave=1,
        key_columns=(),
        tolerances={},
        owner=record.owner or "",
        notes=notes,
    )


def _blocker_note(findings: Sequence[Finding], strategy: str) -> str:
    ranked = sorted(findings, key=lambda f: f.severity is not Severity.BLOCKER)
    if not ranked:
        return f"assessment-{strategy}: the assessment found no way to convert it"
    first = ranked[0]
    return " ".join(f"{first.code}: {first.message}".split())


def _waves(rows: list[PlannedTable], records: list[TableRecord], options: PlanOptions) -> list[int]:
    sizes = [record.delta.size_bytes if record.delta else None for record in records]
    if options.wave_by == "namespace":
        numbers = {namespace: n for n, namespace in enumerate(sorted({row.namespace for row in rows}), start=1)}
        return [numbers[row.namespace] for row in rows]
    if options.wave_by == "size":
        classes = [_size_class(size) for size in sizes]
        compact = {size_class: n for n, size_class in enumerate(sorted(set(classes)), start=1)}
        return [compact[size_class] for size_class in classes]
    count = options.waves or 1
    order = sorted(range(len(rows)), key=lambda i: (sizes[i] is None, sizes[i] or 0, rows[i].target))
    waves = [1] * len(rows)
    for position, index in enumerate(order):
        waves[index] = position * count // max(len(rows), 1) + 1
    return waves


def _size_class(size: int | None) -> int:
    if size is None:
        return len(SIZE_CLASSES)
    return next((n for n, bound in enumerate(SIZE_CLASSES) if size < bound), len(SIZE_CLASSES))
