"""A Step Functions state machine that runs a plan's wave on EMR Serverless (``datax-migrate emit stepfunctions``).

Amazon States Language, three states:

1. ``Run tables``: a Distributed Map over the staged wave's ``manifest.json`` on S3 (``ItemReader``);
   each item is one EMR Serverless job run (``emr-serverless:startJobRun.sync``) of the job spec
   ``emr submit`` builds for that table (convert, then reconcile), retried on throttling. A table
   that fails becomes a result with its error (``Table failed``) and the others go on; the
   per-table results go to S3 (``ResultWriter``), and each job run writes ``results.json`` beside
   its spec.
2. ``Await sign-off``: the execution pauses on a task token published to an SNS topic until a
   person fills the run ledger (``datax-migrate migrate PLAN_DIR --wave N``: each table the job runs
   converted comes back ``unchanged`` and is reconciled there), signs the wave off
   (``datax-migrate signoff --plan PLAN_DIR --wave N``) and sends the token back
   (``aws stepfunctions send-task-success``), or refuses it (``send-task-failure``).
3. ``Signed off``: the end.

The definition holds nothing of the environment: the execution input names the staged folder, the
manifest, the application, the role and the topic (:func:`execution_input`), so one state machine
serves any account.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datax_migrate import __version__
from datax_migrate.emr.submit import spark_submit_options
from datax_migrate.orchestrate.wave import CODE, ENTRY, MANIFEST, StagedWave

JOB_RUN = "arn:aws:states:::emr-serverless:startJobRun.sync"
SIGN_OFF = "arn:aws:states:::sns:publish.waitForTaskToken"
SIGN_OFF_DAYS = 30
"""How long the execution waits for the sign-off before it times out."""
RETRIED = ["EMRServerless.ThrottlingException", "EMRServerless.InternalServerException", "States.Timeout"]


def state_machine(wave: StagedWave, archive: str | None = None, workers: int = 10) -> dict[str, Any]:
    """The ASL definition running ``wave``.

    Args:
        wave: the staged wave.
        archive: the virtualenv archive the job runs use (docs/emr.md), or ``None``.
        workers: how many tables run at a time (the map's ``MaxConcurrency``).

    """
    submit_options = " ".join(spark_submit_options(f"{{}}/{CODE}", archive))
    job_run = {
        "Type": "Task",
        "Comment": "convert the table, reconcile it and write results.json beside its job spec",
        "Resource": JOB_RUN,
        "Parameters": {
            "ApplicationId.$": "$.application_id",
            "ExecutionRoleArn.$": "$.execution_role_arn",
            "Name.$": "States.Format('datax-migrate {}.{}', $.catalog, $.target)",
            "ClientToken.$": "States.UUID()",
            "JobDriver": {
                "SparkSubmit": {
                    "EntryPoint.$": f"States.Format('{{}}/{ENTRY}', $.staging)",
                    "EntryPointArguments.$": "States.Array(States.Format('{}/{}', $.staging, $.spec))",
                    "SparkSubmitParameters.$": f"States.Format('{_escaped(submit_options)}', $.staging)",
                }
            },
            "ConfigurationOverrides": {
                "MonitoringConfiguration": {
                    "S3MonitoringConfiguration": {"LogUri.$": "States.Format('{}/logs/', $.staging)"}
                }
            },
        },
        "Retry": [{"ErrorEquals": RETRIED, "IntervalSeconds": 30, "MaxAttempts": 5, "BackoffRate": 2.0}],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Table failed"}],
        "ResultPath": "$.job_run",
        "End": True,
    }
    failed = {
        "Type": "Pass",
        "Comment": "a failed table is a result, not the end of the wave: the others go on",
        "Parameters": {"catalog.$": "$.catalog", "target.$": "$.target", "spec.$": "$.spec", "error.$": "$.error"},
        "End": True,
    }
    return {
        "Comment": (
            f"datax-migrate {__version__}: wave {wave.wave} of the plan {wave.plan_dir} (plan.csv sha256 "
            f"{wave.plan_sha256}), {len(wave.tables)} tables on EMR Serverless, then a pause for sign-off"
        ),
        "StartAt": "Run tables",
        "States": {
            "Run tables": {
                "Type": "Map",
                "Comment": "one EMR Serverless job run per table of the manifest",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket.$": "$.manifest.Bucket", "Key.$": "$.manifest.Key"},
                },
                "ItemSelector": {
                    "catalog.$": "$$.Map.Item.Value.catalog",
                    "target.$": "$$.Map.Item.Value.target",
                    "spec.$": "$$.Map.Item.Value.spec",
                    "staging.$": "$.staging",
                    "application_id.$": "$.application_id",
                    "execution_role_arn.$": "$.execution_role_arn",
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Convert and reconcile",
                    "States": {"Convert and reconcile": job_run, "Table failed": failed},
                },
                "MaxConcurrency": workers,
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket.$": "$.results.Bucket", "Prefix.$": "$.results.Prefix"},
                },
                "ResultPath": "$.run",
                "Next": "Await sign-off",
            },
            "Await sign-off": {
                "Type": "Task",
                "Comment": "sign the wave off with datax-migrate signoff, then send this task token back",
                "Resource": SIGN_OFF,
                "Parameters": {
                    "TopicArn.$": "$.signoff_topic_arn",
                    "Subject": f"datax-migrate: wave {wave.wave} awaits sign-off",
                    "Message": {
                        "wave": wave.wave,
                        "plan": wave.plan_dir,
                        "results.$": "$.run.ResultWriterDetails",
                        "first": (
                            f"datax-migrate migrate {wave.plan_dir} --wave {wave.wave} --config FILE (the ledger:"
                            " each converted table comes back unchanged and is reconciled)"
                        ),
                        "sign_off": f"datax-migrate signoff --plan {wave.plan_dir} --wave {wave.wave} --by NAME",
                        "then": "aws stepfunctions send-task-success --task-token TOKEN --task-output '{}'",
                        "task_token.$": "$$.Task.Token",
                    },
                },
                "TimeoutSeconds": SIGN_OFF_DAYS * 86400,
                "ResultPath": "$.sign_off",
                "Next": "Signed off",
            },
            "Signed off": {"Type": "Succeed"},
        },
    }


def execution_input(
    wave: StagedWave,
    staging: str | None = None,
    application_id: str | None = None,
    role_arn: str | None = None,
    signoff_topic_arn: str | None = None,
) -> dict[str, Any]:
    """The input of an execution: where the staged wave is on S3, the application, role and topic.

    Args:
        wave: the staged wave.
        staging: the ``s3://`` URI of the staged folder (default: where it was staged, if on S3).
        application_id: the EMR Serverless application.
        role_arn: the execution role of the job runs.
        signoff_topic_arn: the SNS topic the sign-off request (with its task token) goes to.

    """
    folder = (staging or (wave.folder if wave.on_s3 else "")).rstrip("/")
    bucket, _, prefix = folder.removeprefix("s3://").partition("/") if folder.startswith("s3://") else ("", "", "")
    key_prefix = f"{prefix}/" if prefix else ""
    return {
        "staging": folder,
        "manifest": {"Bucket": bucket, "Key": f"{key_prefix}{MANIFEST}"},
        "results": {"Bucket": bucket, "Prefix": f"{key_prefix}results"},
        "application_id": application_id or "",
        "execution_role_arn": role_arn or "",
        "signoff_topic_arn": signoff_topic_arn or "",
    }


def missing_input(document: dict[str, Any]) -> list[str]:
    """The fields of an execution input still empty (``manifest.Bucket`` inside one): fill them in before starting."""
    missing = []
    for name, value in document.items():
        if isinstance(value, dict):
            missing += [f"{name}.{inner}" for inner, field in value.items() if field == ""]
        elif value == "":
            missing.append(name)
    return missing


def write_state_machine(
    wave: StagedWave, out: Path, archive: str | None = None, workers: int = 10, execution: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write the definition to ``out`` and the execution input beside it (``<out stem>.input.json``).

    Args:
        wave: the staged wave.
        out: the definition's file.
        archive: as for :func:`state_machine`.
        workers: as for :func:`state_machine`.
        execution: the execution input (default: :func:`execution_input` of ``wave``).

    """
    from datax_migrate.files import write_atomically

    out.parent.mkdir(parents=True, exist_ok=True)
    input_path = out.with_name(f"{out.stem}.input.json")
    write_atomically(out, json.dumps(state_machine(wave, archive, workers), indent=2) + "\n")
    write_atomically(input_path, json.dumps(execution or execution_input(wave), indent=2) + "\n")
    return out, input_path


def _escaped(template: str) -> str:
    """``template`` with the characters States.Format treats specially escaped, but its ``{}`` kept."""
    escaped = template.replace("\\", "\\\\").replace("'", "\\'")
    return escaped.replace("{", "\\{").replace("}", "\\}").replace("\\{\\}", "{}")
