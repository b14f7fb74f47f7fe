"""The ``translate`` command: Databricks notebooks into Jupyter notebooks for AWS."""

from __future__ import annotations

import argparse
from pathlib import Path

from datax_migrate.cli.common import EXIT_DIFFERENCES, EXIT_OK, add_common_options, exit_codes, print_json
from datax_migrate.errors import ConfigError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the translate command to ``commands``."""
    translate = commands.add_parser(
        "translate",
        help="translate Databricks notebooks into Jupyter notebooks for EMR / SageMaker Unified Studio",
        epilog=exit_codes(
            "0 every notebook translated", "1 some notebook has a finding a person must look at (see the reports)"
        ),
    )
    translate.add_argument(
        "sources", metavar="SRC", nargs="+", help="notebook files, folders, .dbc archives or SOURCE .zip exports"
    )
    translate.add_argument("--out", metavar="DIR", required=True, help="where translated notebooks and reports go")
    translate.add_argument("--name-map", metavar="FILE", help="the migration name map (NameMapping JSON)")
    translate.add_argument(
        "--path-map", metavar="FILE", help='JSON {"prefixes": {"dbfs:/mnt/x": "s3://b/x"}, "tables": {path: name}}'
    )
    translate.add_argument(
        "--inventory",
        metavar="FILE",
        help="inventory.json from `datax-migrate inventory`: Delta reads and writes by a table's location "
        "become reads and writes by its name (mapped through --name-map or the default rule)",
    )
    translate.add_argument("--dialect", choices=["spark", "athena"], default="spark", help="SQL dialect of SQL cells")
    translate.add_argument(
        "--catalog", metavar="NAME", default="s3tablesbucket", help="Spark catalog of the migrated tables on AWS"
    )
    translate.add_argument(
        "--default-catalog", metavar="NAME", default="hive_metastore", help="Databricks catalog of two-level names"
    )
    translate.add_argument(
        "--managed-maintenance", action="store_true", help="the target (S3 Tables) maintains tables: drop VACUUM"
    )
    add_common_options(translate)
    translate.set_defaults(run=run_translate)


def run_translate(args: argparse.Namespace) -> int:
    """Run ``translate``: translate notebooks and write the reports."""
    from datax_migrate.notebooks.context import TranslateOptions
    from datax_migrate.notebooks.limits import NotebookLimits
    from datax_migrate.notebooks.paths import Locations
    from datax_migrate.notebooks.report import run_report
    from datax_migrate.notebooks.translate import translate_tree

    locations = Locations.from_files(
        catalog=args.catalog,
        name_map=Path(args.name_map) if args.name_map else None,
        path_map=Path(args.path_map) if args.path_map else None,
        default_catalog=args.default_catalog,
        inventory=_inventory_tables(Path(args.inventory)) if args.inventory else None,
    )
    options = TranslateOptions(
        locations=locations,
        dialect=args.dialect,
        managed_maintenance=args.managed_maintenance,
        limits=NotebookLimits.from_env(),
    )
    outcomes = translate_tree([Path(s) for s in args.sources], Path(args.out), options)
    summary = run_report(outcomes)
    if args.output == "json":
        # "version" is the package's here; the summary's own format version is its schema_version.
        print_json(args, {"schema_version": summary.pop("version"), **summary})
    else:
        for outcome in summary["outcomes"]:
            print(
                f"{outcome['status']:<12} {outcome['source']}: {outcome['blocker']} blocker, "
                f"{outcome['review']} review, {outcome['info']} info"
            )
        statuses = ", ".join(f"{count} {status}" for status, count in summary["status"].items())
        print(f"{summary['notebooks']} notebook(s): {statuses or 'none found'}; reports in {args.out}")
    return EXIT_OK if all(o.status == "translated" for o in outcomes) else EXIT_DIFFERENCES


def _inventory_tables(path: Path) -> dict[str, str]:
    """Location to table name, for every table of the inventory at ``path`` with a location.

    Raises:
        ConfigError: the file cannot be read or is not an inventory.
    """
    from datax_migrate.errors import InventoryError
    from datax_migrate.inventory.model import Inventory

    try:
        inventory = Inventory.read(path)
    except InventoryError as exc:
        raise ConfigError(str(exc)) from None
    return {t.location: t.name for t in inventory.tables if t.location}
