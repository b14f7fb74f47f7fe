"""Small real estates for the runner's tests: Delta tables, an inventory of them, a plan and a catalog config."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog import Catalog

from datax_migrate.config import Config
from datax_migrate.estate.plan import Plan
from datax_migrate.estate.planning import PlanOptions, plan_estate
from datax_migrate.inventory.crawl import crawl
from datax_migrate.inventory.sources.storage import StorageSource
from tests.support.delta_builder import DeltaBuilder, field

CORPUS_CASES = (
    ("dat", "basic_append"),
    ("dat", "basic_partitioned"),
    ("golden", "basic-decimal-table"),
    ("golden", "data-reader-primitives"),
    ("dat", "multi_partitioned"),
)
"""Small corpus tables that convert and reconcile in well under a second each."""


def write_config(root: Path) -> Path:
    """A config whose default catalog ``lake`` is a SQL catalog under ``root``."""
    path = root / "config.yaml"
    path.write_text(
        "catalogs:\n  lake:\n    type: sql\n    uri: sqlite:///lake/catalog.db\n    warehouse: lake/warehouse\n"
        "default_catalog: lake\n"
    )
    return path


def lake_catalog(config: Path) -> Catalog:
    """The ``lake`` catalog of ``config``."""
    return Config.load(config).catalog("lake")


def id_table(root: Path, ids: list[int]) -> Path:
    """A one-column Delta table (``id bigint``) holding ``ids``."""
    builder = DeltaBuilder(root)
    builder.commit(
        builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(pa.table({"id": ids}))
    )
    return root


def corpus_copies(corpus: Path, storage: Path, count: int) -> list[Path]:
    """``count`` copies of small corpus tables under ``storage/<schema>/<table>``, five schemas."""
    copies = []
    for n in range(count):
        kind, case = CORPUS_CASES[n % len(CORPUS_CASES)]
        destination = storage / f"schema{n % 5}" / f"t{n:04d}_{case.replace('-', '_')}"
        shutil.copytree(corpus / kind / case / "delta", destination)
        copies.append(destination)
    return copies


def plan_storage(storage: Path, plan_dir: Path, config: Path, options: PlanOptions | None = None) -> Plan:
    """Inventory the Delta tables under ``storage`` (as ``inventory --storage`` does) and plan them."""
    from datax_migrate.assess.assessment import with_verdicts

    inventory = with_verdicts(crawl([StorageSource(str(storage))], checkpoint=None))
    base = options or PlanOptions()
    return plan_estate(inventory, plan_dir, PlanOptions(**{**base.__dict__, "config": str(config)}))
