"""The ``emr submit`` command: stage the code and one job per table on Amazon EMR, and start them."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from datax_migrate.cli.common import EXIT_OK, add_common_options, add_target_options, exit_codes, print_json
from datax_migrate.errors import ConfigError


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the emr command to ``commands``."""
    emr = commands.add_parser("emr", help="run conversions on Amazon EMR (Serverless job runs or EC2 cluster steps)")
    emr_commands = emr.add_subparsers(dest="emr_command", required=True, metavar="COMMAND")
    submit = emr_commands.add_parser(
        "submit",
        help="stage the code and one job per table, and start them",
        epilog=exit_codes("0 every job run or step started (their own results are EMR's)"),
    )
    submit.add_argument("tables", metavar="TABLES_YAML", help="'tables:' list of source, target[, version, key]")
    submit.add_argument("--staging", metavar="S3_PREFIX", required=True, help="where the code and job specs go")
    where = submit.add_mutually_exclusive_group(required=True)
    where.add_argument("--application-id", metavar="ID", help="EMR Serverless application (Spark, EMR 7.x)")
    where.add_argument("--cluster-id", metavar="ID", help="running EMR-on-EC2 cluster: one step per table")
    submit.add_argument("--role", metavar="ARN", help="execution role of the job runs (EMR Serverless)")
    submit.add_argument("--archive", metavar="S3_URI", help="virtualenv archive with the dependencies (docs/emr.md)")
    submit.add_argument("--no-reconcile", action="store_true", help="convert only; do not reconcile each table")
    add_target_options(submit)
    add_common_options(submit)
    submit.set_defaults(run=run_emr_submit)


def run_emr_submit(args: argparse.Namespace) -> int:
    """Run ``emr submit``: stage the job and start one EMR job run or step per table."""
    from datax_migrate.emr.job import plan_job
    from datax_migrate.emr.submit import stage, submit_serverless, submit_steps

    if args.application_id and not args.role:
        raise ConfigError("--application-id needs --role (the job runs' execution role ARN)")
    spec = plan_job(args.tables, args.config, args.catalog, args.name_map, reconcile=not args.no_reconcile)
    staged = stage(spec, args.staging)
    if args.application_id:
        submitted = submit_serverless(staged, spec, args.application_id, args.role, args.archive)
    else:
        submitted = submit_steps(staged, spec, args.cluster_id, args.archive)
    if args.output == "json":
        print_json(args, {"staged": asdict(staged), "submitted": [asdict(s) for s in submitted]})
    else:
        kind = "job run" if args.application_id else "step"
        for item in submitted:
            print(f"{item.target}: {kind} {item.id}")
        print(f"{len(submitted)} {kind}(s) started; code and specs under {staged.prefix}")
    return EXIT_OK
