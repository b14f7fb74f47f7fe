"""A plan's wave staged for an orchestrator: the code, one EMR job spec per table, and a manifest.

Each table becomes the job spec ``emr submit`` builds for it (:class:`~datax_migrate.emr.job.JobSpec`
with one :class:`~datax_migrate.emr.job.TableJob`: convert, then reconcile), run by the same entry
script. Everything lands in one folder, the *staged wave*::

    datax_migrate.zip  entry.py  manifest.json  tables/0000-sales.orders/job.json ...

``manifest.json`` lists the tables (``target``, ``catalog``, ``spec`` relative to the folder). The
folder is ``STAGING/<plan sha256[:12]>-wave-<N>`` when a staging prefix is given (``s3://`` or a
path), else ``PLAN_DIR/orchestrate/<plan sha256[:12]>-wave-<N>`` (copy it to S3, e.g. with
``aws s3 sync``, and give that URI to the DAG or state machine as ``staging``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from datax_migrate.emr.job import JobSpec, TableJob
from datax_migrate.emr.staging import entry_script, package_zip, write_bytes, write_text
from datax_migrate.errors import ConfigError

MANIFEST = "manifest.json"
CODE = "datax_migrate.zip"
ENTRY = "entry.py"
RUNNABLE = ("convert",)
"""Plan strategies an EMR job spec carries out (history and sync are run by ``migrate``)."""


@dataclass(frozen=True)
class StagedTable:
    """One table of a staged wave.

    Attributes:
        catalog: the target catalog's name.
        target: ``namespace.table`` in it.
        source: the Delta table's location.
        spec: the job spec's path relative to the staged folder.

    """

    catalog: str
    target: str
    source: str
    spec: str


@dataclass(frozen=True)
class StagedWave:
    """A wave staged for an orchestrator.

    Attributes:
        plan_dir: the plan folder.
        plan_sha256: the plan's content hash.
        wave: the wave number.
        folder: where the staged files are (``s3://`` URI or local path).
        tables: the tables the orchestrator runs, in plan order.
        skipped: tables of the wave the plan marks ``skip``: ``(catalog.namespace.table, notes)``.
        untolerated: tables (``catalog.namespace.table``) whose plan tolerances the job runs do not apply
            (a job spec carries key columns only: their values must be equal).

    """

    plan_dir: str
    plan_sha256: str
    wave: int
    folder: str
    tables: tuple[StagedTable, ...]
    skipped: tuple[tuple[str, str], ...]
    untolerated: tuple[str, ...] = ()

    @property
    def on_s3(self) -> bool:
        """Whether the staged folder is on S3 already (else it must be copied there)."""
        return self.folder.startswith("s3://")

    @property
    def manifest(self) -> str:
        """The manifest's URI or path."""
        return f"{self.folder}/{MANIFEST}"

    @property
    def name(self) -> str:
        """An identifier-safe name of the wave: ``datax_migrate_<plan hash>_wave_<N>``."""
        return f"datax_migrate_{self.plan_sha256[:12]}_wave_{self.wave}"


def stage_wave(plan_dir: Path, wave: int, config_file: str | None = None, staging: str | None = None) -> StagedWave:
    """Stage wave ``wave`` of the plan in ``plan_dir``: code, entry script, one job spec per table, manifest.

    Args:
        plan_dir: the plan folder (``plan.csv`` is re-validated).
        wave: the wave to stage.
        config_file: the catalog config naming the plan's catalogs (as for ``migrate``).
        staging: an ``s3://`` prefix or a folder to stage under (default: ``PLAN_DIR/orchestrate``).

    Raises:
        ConfigError: the wave has no tables or only skipped ones; a table's strategy is one an EMR
            job does not run (history, sync); a catalog is unknown or carries credentials.

    """
    from datax_migrate.config import Config
    from datax_migrate.estate.plan import Plan, config_rules

    config = Config.load(config_file)
    plan = Plan.load(plan_dir, config_rules(config))
    planned = plan.wave(wave)
    if not planned:
        raise ConfigError(f"wave {wave} has no tables in {plan_dir / 'plan.csv'} (waves: {_listed(plan.waves)})")
    unsupported = [t for t in planned if t.strategy not in (*RUNNABLE, "skip")]
    if unsupported:
        first = unsupported[0]
        raise ConfigError(
            f"plan.csv line {first.line}: {first.catalog}.{first.target} has strategy {first.strategy!r}, which an EMR "
            f"job does not run (it converts the latest version): run wave {wave} with `datax-migrate migrate`, or "
            f"set the strategy of {len(unsupported)} table(s) to convert"
        )
    runnable = [t for t in planned if t.strategy in RUNNABLE]
    if not runnable:
        raise ConfigError(f"wave {wave} has only skipped tables: nothing to orchestrate")
    properties = {name: config.properties(name) for name in sorted({t.catalog for t in runnable})}
    specs = [
        JobSpec(t.catalog, properties[t.catalog], (TableJob(t.location, t.target, None, t.key_columns),))
        for t in runnable
    ]
    root = staging.rstrip("/") if staging else str(plan_dir / "orchestrate")
    folder = f"{root}/{plan.content_sha256[:12]}-wave-{wave}"
    tables = tuple(
        StagedTable(t.catalog, t.target, t.location, f"tables/{index:04d}-{_slug(t.catalog, t.target)}/job.json")
        for index, t in enumerate(runnable)
    )
    write_bytes(f"{folder}/{CODE}", package_zip())
    write_bytes(f"{folder}/{ENTRY}", entry_script())
    for table, spec in zip(tables, specs, strict=True):
        write_text(f"{folder}/{table.spec}", spec.to_json())
    manifest = [{"catalog": t.catalog, "target": t.target, "source": t.source, "spec": t.spec} for t in tables]
    write_text(f"{folder}/{MANIFEST}", json.dumps(manifest, indent=1) + "\n")
    skipped = tuple((f"{t.catalog}.{t.target}", t.notes) for t in planned if t.strategy == "skip")
    untolerated = tuple(f"{t.catalog}.{t.target}" for t in runnable if t.tolerances)
    return StagedWave(str(plan_dir), plan.content_sha256, wave, folder, tables, skipped, untolerated)


def _slug(catalog: str, target: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{catalog}.{target}")[:100]


def _listed(waves: tuple[int, ...]) -> str:
    return ", ".join(map(str, waves)) or "none"
