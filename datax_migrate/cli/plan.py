"""The ``plan`` command: an editable estate plan (plan.csv, plan.json) from an inventory."""

from __future__ import annotations

import argparse
from collections import Counter

from datax_migrate.cli.common import CONFIG_HELP, EXIT_OK, add_common_options, exit_codes, positive_int, print_json


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the plan command to ``commands``."""
    plan = commands.add_parser(
        "plan",
        help="plan an estate's migration: plan.csv (strategy, target, wave per table) from inventory.json",
        description="Write PLAN_DIR/plan.csv, one row per inventory table (edit it in a spreadsheet), and "
        "plan.json, its validated form with a content hash. Tables the assessment blocks are planned as skip, "
        "the blocker's code first in the notes. Target names are planned as `datax-migrate names` does; "
        "collisions and invalid names refuse the plan.",
        epilog=exit_codes("0 planned"),
    )
    plan.add_argument("inventory", metavar="INVENTORY.json", help="inventory written by `datax-migrate inventory`")
    plan.add_argument("--out", required=True, metavar="PLAN_DIR", help="folder for plan.csv and plan.json")
    plan.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    plan.add_argument("--catalog", metavar="NAME", help="target catalog (default: the config's default)")
    plan.add_argument(
        "--name-map", metavar="FILE", help="name mapping from `datax-migrate names --out` (default: map as names does)"
    )
    waves = plan.add_mutually_exclusive_group()
    waves.add_argument(
        "--waves", type=positive_int, metavar="N", help="N waves of about equal table count, smallest tables first"
    )
    waves.add_argument(
        "--wave-by",
        choices=["size", "namespace"],
        help="a wave per size class (under 1 GiB, under 100 GiB, larger or unknown) or per target namespace",
    )
    plan.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out tables whose name (any case) or location matches (repeatable)",
    )
    add_common_options(plan)
    plan.set_defaults(run=run_plan_command)


def run_plan_command(args: argparse.Namespace) -> int:
    """Run ``plan``: read the inventory, plan every table, write plan.csv and plan.json."""
    from pathlib import Path

    from datax_migrate.estate.planning import PlanOptions, plan_estate
    from datax_migrate.inventory.model import Inventory

    inventory = Inventory.read(args.inventory)
    options = PlanOptions(
        config=args.config,
        catalog=args.catalog,
        name_map=args.name_map,
        waves=args.waves,
        wave_by=args.wave_by,
        exclude=tuple(args.exclude),
    )
    plan = plan_estate(inventory, Path(args.out), options)
    strategies = Counter(table.strategy for table in plan.tables)
    waves = Counter(table.wave for table in plan.tables)
    if args.output == "json":
        print_json(
            args,
            {
                "plan_dir": str(plan.directory),
                "content_sha256": plan.content_sha256,
                "tables": len(plan.tables),
                "strategies": dict(sorted(strategies.items())),
                "waves": {str(wave): waves[wave] for wave in plan.waves},
            },
        )
        return EXIT_OK
    by_strategy = ", ".join(f"{count} {strategy}" for strategy, count in sorted(strategies.items()))
    by_wave = ", ".join(f"wave {wave}: {waves[wave]}" for wave in plan.waves)
    print(f"planned {len(plan.tables)} table(s) ({by_strategy or 'none'}) in {plan.directory / 'plan.csv'}")
    if by_wave:
        print(f"  {by_wave}")
    return EXIT_OK
