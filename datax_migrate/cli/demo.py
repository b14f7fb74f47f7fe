"""The ``demo`` command: build a small banking lake and convert it into the local catalog."""

from __future__ import annotations

import argparse
import sys

from datax_migrate.cli.common import EXIT_DIFFERENCES, EXIT_OK, add_common_options, exit_codes, print_json


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the demo command to ``commands``."""
    demo = commands.add_parser(
        "demo",
        help="build a small banking lake and convert it into the local catalog",
        epilog=exit_codes("0 every demo table matches its Delta source", "1 some table differs (see the report)"),
    )
    demo.add_argument("--workdir", metavar="DIR", default="demo", help="where the demo lake, catalog and report go")
    add_common_options(demo)
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    """Run ``demo``."""
    from datax_migrate.demo import run_demo

    if args.output == "text":
        return EXIT_OK if run_demo(args.workdir) else EXIT_DIFFERENCES
    from contextlib import redirect_stdout
    from pathlib import Path

    with redirect_stdout(sys.stderr):  # the demo's console, so that stdout holds only the JSON
        matches = run_demo(args.workdir)
    workdir = Path(args.workdir).resolve()
    print_json(
        args,
        {
            "matches": matches,
            "workdir": str(workdir),
            "report": str(workdir / "report.md"),
            "reconciliation": str(workdir / "reports"),
        },
    )
    return EXIT_OK if matches else EXIT_DIFFERENCES
