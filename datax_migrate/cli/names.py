"""The ``names`` and ``pending`` commands: the name plan, and S3 Tables entries never committed."""

from __future__ import annotations

import argparse

from datax_migrate.cli.common import CONFIG_HELP, EXIT_OK, add_common_options, exit_codes, print_json
from datax_migrate.errors import ConfigError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the names commands to ``commands``."""
    names = commands.add_parser(
        "names",
        help="map Databricks table names onto a target catalog's names, refusing collisions",
        epilog=exit_codes("0 every name mapped"),
    )
    names.add_argument("sources", metavar="NAME", nargs="*", help="catalog.schema.table or schema.table")
    names.add_argument("--from", dest="from_file", metavar="FILE", help="more names, one per line ('#' comments)")
    names.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    names.add_argument("--catalog", metavar="NAME", help="take the naming rules of this catalog's type")
    names.add_argument(
        "--rules", choices=["glue", "s3tables"], help="naming rules (default: the catalog's, else s3tables)"
    )
    names.add_argument(
        "--namespace-from",
        choices=["schema", "catalog_schema"],
        default="schema",
        help="namespace = the schema (default), or catalog_schema to keep Unity Catalog catalogs apart",
    )
    names.add_argument("--out", metavar="FILE", help="write the mapping as JSON (for convert --name-map)")
    add_common_options(names)
    names.set_defaults(run=run_names)

    pending = commands.add_parser(
        "pending",
        help="list S3 Tables entries reserved by conversions that never committed; --purge the stale ones",
        epilog=exit_codes("0 listed (and with --purge, the stale ones purged)"),
    )
    pending.add_argument("--config", metavar="FILE", help="YAML config with a 'catalogs:' section")
    pending.add_argument("--catalog", metavar="NAME", help="an s3tables catalog (mode: api)")
    pending.add_argument("--namespace", metavar="NS", help="only this namespace (default: the whole table bucket)")
    pending.add_argument(
        "--older-than",
        metavar="AGE",
        help="also count reservations older than AGE (30m, 12h, 2d) as stale, from any host",
    )
    pending.add_argument(
        "--include-unmarked",
        action="store_true",
        help="with --older-than, also entries without a datax marker (another tool's, or cut off before marking)",
    )
    pending.add_argument("--purge", action="store_true", help="delete the stale entries (default: only list)")
    add_common_options(pending)
    pending.set_defaults(run=run_pending)


def run_names(args: argparse.Namespace) -> int:
    """Run ``names``: map Databricks names onto the target catalog's names."""
    from pathlib import Path

    from datax_migrate.config import Config
    from datax_migrate.plan.names import RULES, S3_TABLES, plan_names, rules_for_catalog

    sources = list(args.sources)
    if args.from_file:
        try:
            lines = Path(args.from_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--from {args.from_file} cannot be read: {exc}") from None
        sources += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not sources:
        raise ConfigError("give table names, or --from FILE")
    if args.rules:
        rules = RULES[args.rules]
    elif args.catalog or args.config:
        rules = rules_for_catalog(Config.load(args.config).properties(args.catalog)) or S3_TABLES
    else:
        rules = S3_TABLES
    mapping = plan_names(sources, rules, args.namespace_from)
    if args.out:
        Path(args.out).write_text(mapping.to_json(), encoding="utf-8")
    if args.output == "json":
        entries = [{"source": e.source, "namespace": e.namespace, "table": e.table} for e in mapping.entries]
        print_json(args, {"rules": rules.label, "entries": entries, "out": args.out})
        return EXIT_OK
    width = max(len(entry.source) for entry in mapping.entries)
    for entry in mapping.entries:
        print(f"{entry.source:<{width}}  ->  {entry.identifier}")
    written = f"; written to {args.out}" if args.out else ""
    print(f"{len(mapping.entries)} table(s) mapped for {rules.label}{written}")
    return EXIT_OK


def run_pending(args: argparse.Namespace) -> int:
    """Run ``pending``: list (and purge) S3 Tables entries reserved by conversions that never committed."""
    from datax_migrate.catalogs.pending import parse_duration
    from datax_migrate.catalogs.s3tables import S3TablesCatalog
    from datax_migrate.config import Config

    try:
        older_than = parse_duration(args.older_than) if args.older_than else None
    except ValueError as exc:
        raise ConfigError(f"--older-than: {exc}") from None
    if args.include_unmarked and older_than is None:
        raise ConfigError("--include-unmarked needs --older-than: an unmarked entry is stale only by its age")
    catalog = Config.load(args.config).catalog(args.catalog)
    if not isinstance(catalog, S3TablesCatalog):
        raise ConfigError(
            f"catalog {catalog.name!r} is not an s3tables catalog in mode api: only there does a conversion reserve"
            " an entry without metadata (elsewhere a pending table is an empty table marked datax.conversion-pending,"
            " purged by the rerun)"
        )
    entries = catalog.pending_entries(args.namespace)
    stale = purged = 0
    listed = []
    for entry in entries:
        reason = entry.staleness(older_than, args.include_unmarked)
        verdict = f"stale: {reason}" if reason else "kept: not shown to be stale"
        if reason and args.purge:
            released = catalog.release(entry.identifier)
            verdict = f"purged: {reason}" if released else "kept: committed or deleted meanwhile"
            purged += released
        stale += reason is not None
        listed.append({"identifier": entry.identifier, "description": entry.describe(), "verdict": verdict})
        if args.output == "text":
            print(f"{entry.identifier}  {entry.describe()}  {verdict}")
    if args.output == "json":
        print_json(args, {"entries": listed, "stale": stale, "purged": purged if args.purge else None})
        return EXIT_OK
    done = f"{purged} purged" if args.purge else "purge them with --purge"
    print(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'} without metadata, {stale} stale; {done}")
    return EXIT_OK
