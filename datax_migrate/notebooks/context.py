"""What a translation is told (options, name and path maps) and what it gathers while it runs.

Every rule (magics, Python, SQL) reports through one :class:`Recorder` per notebook: findings with
their cell and line, and the facts :func:`~datax_migrate.notebooks.analysis.summarize` reads back
(tables, paths, dbutils calls, widgets, notebooks run). The analysis is the translation with the
output thrown away, so the two cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from datax_migrate.findings import Finding
from datax_migrate.notebooks.codes import CODES
from datax_migrate.notebooks.constants import Constants
from datax_migrate.notebooks.limits import NotebookLimits
from datax_migrate.notebooks.paths import Locations

DIALECTS = ("spark", "athena")
"""SQL dialects translated SQL cells can be written in."""


@dataclass(frozen=True)
class TranslateOptions:
    """How to translate.

    Attributes:
        locations: Name and path maps.
        dialect: ``spark`` (EMR, SageMaker Unified Studio Spark) or ``athena`` (Trino SQL).
        managed_maintenance: The target maintains tables itself (Amazon S3 Tables): VACUUM is
            dropped with a note instead of becoming Iceberg procedures.
        limits: How much of a notebook is parsed (cell size, code per notebook, nesting depth).
    """

    locations: Locations = field(default_factory=Locations)
    dialect: str = "spark"
    managed_maintenance: bool = False
    limits: NotebookLimits = field(default_factory=NotebookLimits)

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(DIALECTS)}, not {self.dialect!r}")


@dataclass
class Recorder:
    """Findings and facts of one notebook, filled in as its cells are translated.

    Attributes:
        subject: The notebook's path, the subject of every finding.
        options: The translation options.
        cell: The index of the cell being translated.
        findings: Everything reported, in order.
        tables: Table names referenced (as written), in first-seen order.
        paths: Databricks paths referenced, in first-seen order.
        dbutils_calls: ``dbutils`` members called (``fs.ls``, ``widgets.get``, ...).
        widgets: Widget name to default value (``None`` when not a literal).
        run_dependencies: Notebooks run or included (``%run``, ``dbutils.notebook.run``).
        magics: Magics used (``sql``, ``md``, ``run``, ...).
        imports: Names translated code needs from ``datax_migrate.compat`` (the setup cell imports them).
        parsed_bytes: Bytes of code parsed so far (bounded by ``options.limits.parse_bytes``).
        constants: The notebook's module-level string constants and widget defaults, to resolve
            table names built at run time.
    """

    subject: str
    options: TranslateOptions
    cell: int = 0
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, None] = field(default_factory=dict)
    paths: dict[str, None] = field(default_factory=dict)
    dbutils_calls: dict[str, None] = field(default_factory=dict)
    widgets: dict[str, str | None] = field(default_factory=dict)
    run_dependencies: dict[str, None] = field(default_factory=dict)
    magics: dict[str, None] = field(default_factory=dict)
    imports: dict[str, None] = field(default_factory=dict)
    parsed_bytes: int = 0
    constants: Constants = field(default_factory=Constants)

    def report(
        self,
        code: str,
        line: int | None = None,
        detail: str = "",
        original: str | None = None,
        replacement: str | None = None,
    ) -> None:
        """Record a finding of the current cell; ``detail`` fills the code's message template."""
        severity, template = CODES[code]
        self.findings.append(
            Finding(
                code=code,
                severity=severity,
                message=template.format(detail=detail),
                subject=self.subject,
                cell=self.cell,
                line=line,
                original=original,
                replacement=replacement,
            )
        )


def table_reference(rec: Recorder, name: str, line: int | None) -> str:
    """Record a table name and return what to write instead (the name itself for one-part names).

    Reports ``table-mapped`` or ``table-not-in-name-map``. A name that is not a valid table name is
    recorded and kept.
    """
    from datax_migrate.errors import ConfigError

    rec.tables.setdefault(name, None)
    try:
        target = rec.options.locations.table(name)
    except ConfigError:
        return name
    if target is None or target.target == name:
        return name
    if target.unmapped:
        rec.report("table-not-in-name-map", line, name, original=name, replacement=target.target)
    else:
        how = (
            "by the default S3 Tables naming rule (no name map given)"
            if target.by_default_rule
            else "through the name map"
        )
        rec.report("table-mapped", line, how, original=name, replacement=target.target)
    return target.target


def path_reference(rec: Recorder, text: str, line: int | None) -> str:
    """Record a Databricks path and return its S3 location, or the path itself when none is mapped.

    Reports ``path-mapped`` or ``path-not-mapped``, and ``dbfs-fuse-path`` for ``/dbfs/`` paths.
    """
    rec.paths.setdefault(text, None)
    if text.startswith("/dbfs/"):
        rec.report("dbfs-fuse-path", line, original=text)
    target = rec.options.locations.path(text)
    if target is None:
        rec.report("path-not-mapped", line, text, original=text)
        return text
    rec.report("path-mapped", line, original=text, replacement=target)
    return target
