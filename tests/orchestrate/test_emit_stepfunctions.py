"""`datax-migrate emit stepfunctions`: valid ASL (npm asl-validator), accepted and started by moto's Step Functions."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from datax_migrate import __version__
from datax_migrate.cli import main
from datax_migrate.emr.job import JobSpec
from tests.orchestrate.conftest import ROOT

VALIDATOR = ROOT / "tools" / "asl" / "node_modules" / ".bin" / "asl-validator"
ROLE = "arn:aws:iam::123456789012:role/datax-emr"


@pytest.fixture
def validator() -> Path:
    if not VALIDATOR.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{VALIDATOR} is missing: `make test` installs it (npm ci in tools/asl)")
        pytest.skip(f"no asl-validator at {VALIDATOR}: `make {VALIDATOR.relative_to(ROOT)}` installs it")
    return VALIDATOR


def validate(validator: Path, definition: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(validator), "--json-path", str(definition)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow  # node
def test_the_state_machine_passes_the_asl_validator(
    plan_dir: Path, config: Path, tmp_path: Path, validator: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sfn" / "wave-1.asl.json"
    arguments = ["emit", "stepfunctions", str(plan_dir), "--wave", "1", "--out", str(out), "--config", str(config)]
    assert main([*arguments, "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["command"], document["version"]) == ("emit stepfunctions", __version__)
    assert document["input_to_fill"] == [
        "staging",
        "manifest.Bucket",
        "results.Bucket",
        "application_id",
        "execution_role_arn",
        "signoff_topic_arn",
    ]

    checked = validate(validator, out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    definition = json.loads(out.read_text())
    run = definition["States"]["Run tables"]
    assert run["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert run["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    job = run["ItemProcessor"]["States"]["Convert and reconcile"]
    assert job["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
    assert definition["States"]["Await sign-off"]["Resource"].endswith(".waitForTaskToken")

    # the check can fail: a state machine whose map leads nowhere is refused
    run["Next"] = "No such state"
    out.write_text(json.dumps(definition))
    assert validate(validator, out).returncode != 0


@pytest.fixture
def executing_step_functions(aws_env: str) -> Iterator[str]:
    """moto's Step Functions parsing and running state machines (its ASL interpreter), for this test only."""
    configure_moto(aws_env, {"stepfunctions": {"execute_state_machine": True}})
    yield aws_env
    configure_moto(aws_env, {"stepfunctions": {"execute_state_machine": False}})


def configure_moto(endpoint: str, settings: dict[str, dict[str, bool]]) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config",
        data=json.dumps(settings).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status in (200, 201)


@pytest.mark.aws
def test_moto_accepts_the_state_machine_and_its_execution_reads_the_manifest(
    plan_dir: Path, config: Path, tmp_path: Path, executing_step_functions: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = f"staging-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    topic = boto3.client("sns").create_topic(Name=f"signoff-{bucket}")["TopicArn"]
    out = tmp_path / "wave-1.asl.json"
    arguments = ["emit", "stepfunctions", str(plan_dir), "--wave", "1", "--out", str(out), "--config", str(config)]
    arguments += ["--staging", f"s3://{bucket}/waves", "--application-id", "app-1", "--role", ROLE]
    assert main([*arguments, "--signoff-topic", topic, "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["input_to_fill"] == []
    execution_input = json.loads(Path(document["execution_input"]).read_text())
    folder = document["staged"].removeprefix(f"s3://{bucket}/")
    assert execution_input["staging"] == document["staged"]
    assert execution_input["manifest"] == {"Bucket": bucket, "Key": f"{folder}/manifest.json"}

    # what the map reads, and the spec each of its job runs gets, are on S3
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"{folder}/manifest.json")["Body"].read())
    assert [m["target"] for m in manifest] == ["sales.orders", "crm.customers"]
    for item in manifest:
        spec = JobSpec.from_json(s3.get_object(Bucket=bucket, Key=f"{folder}/{item['spec']}")["Body"].read().decode())
        assert [t.target for t in spec.tables] == [item["target"]]

    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name=f"datax-wave-1-{bucket}", definition=out.read_text(), roleArn="arn:aws:iam::123456789012:role/sfn"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps(execution_input))["executionArn"]
    deadline = time.monotonic() + 60
    while sfn.describe_execution(executionArn=execution)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.5)
    events = sfn.get_execution_history(executionArn=execution)["events"]
    kinds = [event["type"] for event in events]
    started = json.loads(events[0]["executionStartedEventDetails"]["input"])
    assert started == execution_input
    assert "MapStateEntered" in kinds and "MapRunStarted" in kinds  # the Distributed Map started over the manifest
    (map_run,) = sfn.list_map_runs(executionArn=execution)["mapRuns"]
    described = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])
    assert described["itemCounts"]["total"] == len(manifest)  # one item per table of the manifest read from S3
    assert described["maxConcurrency"] == 10  # --workers' default
    # (moto does not run EMR Serverless job runs (.sync), so the items go no further here)

    with pytest.raises(sfn.exceptions.InvalidDefinition):  # moto's parser does refuse a broken definition
        broken = json.loads(out.read_text())
        broken["States"]["Run tables"]["Type"] = "Mapp"
        sfn.create_state_machine(name=f"broken-{bucket}", definition=json.dumps(broken), roleArn=ROLE)
