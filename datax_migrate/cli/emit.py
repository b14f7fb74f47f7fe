"""The ``emit`` command: an Airflow DAG or a Step Functions state machine that runs a plan's wave on EMR Serverless."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from datax_migrate.cli.common import CONFIG_HELP, EXIT_OK, add_common_options, exit_codes, positive_int, print_json

if TYPE_CHECKING:
    from datax_migrate.orchestrate.wave import StagedWave


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the emit command (airflow, stepfunctions) to ``commands``."""
    emit = commands.add_parser("emit", help="write an Airflow DAG or a Step Functions state machine that runs a wave")
    kinds = emit.add_subparsers(dest="emit_command", required=True, metavar="ORCHESTRATOR")
    airflow = kinds.add_parser(
        "airflow",
        help="an Airflow DAG: one EMR Serverless job run per table (dynamic task mapping)",
        epilog=exit_codes("0 the DAG and the staged wave were written"),
    )
    airflow.add_argument("--out", metavar="DIR", required=True, help="the folder the DAG file goes to")
    stepfunctions = kinds.add_parser(
        "stepfunctions",
        help="an Amazon States Language state machine: a Distributed Map of EMR Serverless job runs, then sign-off",
        epilog=exit_codes("0 the state machine, its execution input and the staged wave were written"),
    )
    stepfunctions.add_argument("--out", metavar="FILE", required=True, help="the state machine's ASL (JSON) file")
    stepfunctions.add_argument(
        "--signoff-topic", metavar="ARN", help="SNS topic the sign-off request (with its task token) is published to"
    )
    for kind in (airflow, stepfunctions):
        kind.add_argument("plan_dir", metavar="PLAN_DIR", help="the plan folder `datax-migrate plan` wrote")
        kind.add_argument("--wave", metavar="N", type=int, required=True, help="the wave to run")
        kind.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
        kind.add_argument(
            "--staging",
            metavar="S3_PREFIX",
            help="stage the code, job specs and manifest under this prefix "
            "(default: PLAN_DIR/orchestrate, to copy to S3)",
        )
        kind.add_argument("--application-id", metavar="ID", help="EMR Serverless application (else given at run time)")
        kind.add_argument("--role", metavar="ARN", help="execution role of the job runs (else given at run time)")
        kind.add_argument("--archive", metavar="S3_URI", help="virtualenv archive with the dependencies (docs/emr.md)")
        kind.add_argument(
            "--workers", metavar="K", type=positive_int, default=10, help="tables running at a time (default 10)"
        )
        add_common_options(kind)
    airflow.set_defaults(run=run_emit_airflow)
    stepfunctions.set_defaults(run=run_emit_stepfunctions)


def run_emit_airflow(args: argparse.Namespace) -> int:
    """Run ``emit airflow``: stage the wave and write its DAG."""
    from datax_migrate.orchestrate.airflow import write_dag

    wave = _staged(args)
    path = write_dag(wave, Path(args.out), args.application_id, args.role, args.archive, args.workers)
    missing = [
        name
        for name, value in (
            ("staging", wave.on_s3),
            ("application_id", args.application_id),
            ("execution_role_arn", args.role),
        )
        if not value
    ]
    if args.output == "json":
        print_json(args, {"dag": str(path), "dag_id": wave.name, "params_to_give": missing, **_wave_json(wave)})
        return EXIT_OK
    print(f"wrote the DAG {wave.name} to {path}: {len(wave.tables)} table(s) of wave {wave.wave}")
    _print_wave(wave)
    if missing:
        print(f"give these params when triggering it (or set their defaults in the DAG): {', '.join(missing)}")
    return EXIT_OK


def run_emit_stepfunctions(args: argparse.Namespace) -> int:
    """Run ``emit stepfunctions``: stage the wave, write the state machine and its execution input."""
    from datax_migrate.orchestrate.stepfunctions import execution_input, missing_input, write_state_machine

    wave = _staged(args)
    execution = execution_input(wave, None, args.application_id, args.role, args.signoff_topic)
    definition, input_path = write_state_machine(wave, Path(args.out), args.archive, args.workers, execution)
    missing = missing_input(execution)
    if args.output == "json":
        document = {"state_machine": str(definition), "execution_input": str(input_path), "input_to_fill": missing}
        print_json(args, {**document, **_wave_json(wave)})
        return EXIT_OK
    print(
        f"wrote the state machine {definition} and its execution input {input_path}: "
        f"{len(wave.tables)} table(s) of wave {wave.wave}"
    )
    _print_wave(wave)
    if missing:
        print(f"fill in {', '.join(missing)} in {input_path} before starting an execution")
    return EXIT_OK


def _staged(args: argparse.Namespace) -> StagedWave:
    from datax_migrate.orchestrate.wave import stage_wave

    wave = stage_wave(Path(args.plan_dir), args.wave, args.config, args.staging)
    if wave.untolerated:
        print(
            f"warning: the EMR job runs do not apply the plan's tolerances of {', '.join(wave.untolerated)}: "
            "their values must be equal to match (run them with `datax-migrate migrate` to apply tolerances)",
            file=sys.stderr,
        )
    return wave


def _print_wave(wave: StagedWave) -> None:
    where = "" if wave.on_s3 else " (copy this folder to S3, e.g. `aws s3 sync`, and give its URI as staging)"
    print(f"staged the code, {len(wave.tables)} job spec(s) and the manifest in {wave.folder}{where}")
    print(f"manifest: {wave.manifest}")
    for name, notes in wave.skipped:
        print(f"left out (strategy skip): {name}{f': {notes}' if notes else ''}", file=sys.stderr)


def _wave_json(wave: StagedWave) -> dict[str, object]:
    return {
        "wave": wave.wave,
        "staged": wave.folder,
        "manifest": wave.manifest,
        "tables": [asdict(t) for t in wave.tables],
        "skipped": [{"table": name, "notes": notes} for name, notes in wave.skipped],
    }
