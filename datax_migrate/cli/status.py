"""The ``status`` command: where a plan's run stands, and the control-tower page ``PLAN_DIR/status.html``."""

from __future__ import annotations

import argparse
from pathlib import Path

from datax_migrate.cli.common import EXIT_OK, add_common_options, exit_codes, print_json


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the status command to ``commands``."""
    status = commands.add_parser(
        "status",
        help="counts by state per wave, failures, verdicts, sign-offs, throughput and ETA; writes PLAN_DIR/status.html",
        epilog=exit_codes("0 status shown and status.html written (whatever the tables' states)"),
    )
    status.add_argument("plan_dir", metavar="PLAN_DIR", help="the plan folder `datax-migrate plan` wrote")
    status.add_argument("--wave", metavar="N", type=int, help="only this wave (status.html always shows every wave)")
    add_common_options(status)
    status.set_defaults(run=run_status)


def run_status(args: argparse.Namespace) -> int:
    """Run ``status``: read the ledger, write ``status.html``, print the status of the plan (or of one wave)."""
    from datax_migrate.errors import ConfigError
    from datax_migrate.estate.status import estate_status, read_status, write_status_page
    from datax_migrate.estate.status_render import render_text

    plan_dir = Path(args.plan_dir)
    if not plan_dir.is_dir():
        raise ConfigError(f"{plan_dir} is not a plan folder (make one with `datax-migrate plan`)")
    everything = read_status(plan_dir)
    page = write_status_page(plan_dir, everything)
    status = everything if args.wave is None else estate_status(everything.tables, plan_dir, args.wave)
    if args.wave is not None and not status.tables:
        waves = ", ".join(str(w.wave) for w in everything.waves) or "none"
        raise ConfigError(f"wave {args.wave} has no tables in the ledger of {plan_dir} (waves: {waves})")
    if args.output == "json":
        print_json(args, {**status.to_dict(), "status_page": str(page)})
    else:
        print(render_text(status), end="")
        print(f"control tower: {page}")
    return EXIT_OK
