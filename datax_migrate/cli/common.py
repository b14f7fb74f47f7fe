"""What every command shares: exit codes, output and target options, JSON output, argument types."""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sys
from typing import TYPE_CHECKING, Any

from datax_migrate import __version__
from datax_migrate.errors import ConfigError

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

    from datax_migrate.plan.names import TargetName

EXIT_OK, EXIT_DIFFERENCES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, as a shell reports a program that a closed pipe stopped (``set -o pipefail``)."""
OWN_PROCESS = False
"""Set by :func:`datax_migrate.cli.run`: the command owns the process (not a caller of ``main``, such as a test)."""


def pause_collector() -> bool:
    """Pause the cyclic garbage collector for a command's start-up, in a process of the command's own.

    Start-up (imports, log replay, opening the catalog) makes objects that live as long as the
    process, and the collector would walk them again and again. Returns whether it paused: pass
    that to :func:`resume_collector` once start-up is over.
    """
    paused = OWN_PROCESS and gc.isenabled()
    if paused:
        gc.disable()
    return paused


def resume_collector(paused: bool) -> None:
    """Start-up is over: leave what it made out of the collector's walks (``gc.freeze``), and collect again."""
    if paused:
        gc.freeze()
        gc.enable()


class Terminated(BaseException):
    """SIGTERM arrived; raised in the main thread so clean-up code runs."""


def positive_float(text: str) -> float:
    """An argument type: a positive, finite number (of seconds)."""
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text}")
    return value


def positive_int(text: str) -> int:
    """An argument type: an integer of 1 or more."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


CONFIG_HELP = (
    "YAML catalog config, ours ('catalogs:') or pyiceberg's .pyiceberg.yaml ('catalog:'); "
    "default: the catalogs pyiceberg finds (.pyiceberg.yaml, PYICEBERG_CATALOG__* variables) and 'local'"
)


def exit_codes(*own: str) -> str:
    """The epilog of a ``--help``: the command's own exit codes, then the ones every command shares."""
    shared = (
        "2 refused or failed (one line on stderr naming the feature, file or value)",
        "130 interrupted (Ctrl-C)",
        "141 standard output closed before everything was written (e.g. | head)",
        "143 terminated (SIGTERM)",
    )
    return f"Exit codes: {', '.join((*own, *shared))}."


def add_common_options(command: argparse.ArgumentParser) -> None:
    """Add what every command takes: ``--output text|json``, and ``--debug`` (also accepted after the command)."""
    command.add_argument(
        "--output",
        choices=["text", "json"],
        default="text",
        help="text for people (default), or one JSON document on stdout whose 'command' and 'version' keys name "
        "the command and the datax-migrate version",
    )
    command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def print_json(args: argparse.Namespace, document: dict[str, Any]) -> None:
    """Print a command's JSON output: ``document`` after the command's name and the package version."""
    subcommands = (getattr(args, "emr_command", None), getattr(args, "emit_command", None))
    command = " ".join(filter(None, (args.command, *subcommands)))
    print(
        json.dumps({"command": command, "version": __version__, **document}, indent=2, default=str, ensure_ascii=False)
    )


def add_target_options(command: argparse.ArgumentParser) -> None:
    """Add ``--config``, ``--catalog`` and ``--name-map``: where the target table is."""
    command.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    command.add_argument(
        "--catalog", metavar="NAME", help="target catalog (default: the config's default, else 'local')"
    )
    command.add_argument(
        "--name-map", metavar="FILE", help="name mapping from `datax-migrate names`: the target is a Databricks name"
    )


def add_commit_times_option(command: argparse.ArgumentParser) -> None:
    """Add ``--commit-times``: how Delta commit times are read."""
    command.add_argument(
        "--commit-times",
        choices=["auto", "mtime", "commit-info"],
        default="auto",
        help="Delta commit times: in-commit timestamps, else commit file times, or commitInfo.timestamp when "
        "the log was evidently copied (auto, the default); force file times (mtime) or commitInfo.timestamp",
    )


def open_target(args: argparse.Namespace) -> tuple[Catalog, TargetName]:
    """The target catalog and table of a convert or reconcile command; names checked before any write."""
    from datax_migrate.plan.target import open_target as resolve

    target = resolve(args.target, args.config, args.catalog, args.name_map, getattr(args, "create_bucket", False))
    if target.created_bucket:
        print(f"created table bucket {target.created_bucket}", file=sys.stderr)
    return target.catalog, target.name


def parse_timestamp(text: str) -> dt.datetime:
    """``--timestamp``: an ISO-8601 date or time, UTC when it names no zone."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--timestamp {text!r} is not an ISO-8601 date or time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
