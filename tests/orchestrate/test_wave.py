"""A wave staged for an orchestrator: the job spec `emr submit` builds per table, the code and the manifest."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import yaml

from datax_migrate.cli import main
from datax_migrate.emr.job import JobSpec, TableJob
from datax_migrate.emr.staging import entry_script
from datax_migrate.errors import ConfigError
from datax_migrate.estate.plan import Plan, PlanError
from datax_migrate.orchestrate.stepfunctions import missing_input
from datax_migrate.orchestrate.wave import stage_wave
from tests.orchestrate.conftest import row, write_plan


def test_each_table_of_the_wave_gets_the_job_spec_emr_submit_builds(plan_dir: Path, config: Path) -> None:
    wave = stage_wave(plan_dir, 1, str(config))

    folder = Path(wave.folder)
    assert folder.parent == plan_dir / "orchestrate" and folder.name.endswith("-wave-1")
    assert not wave.on_s3
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [(m["catalog"], m["target"], m["source"]) for m in manifest] == [
        ("lake", "sales.orders", "s3://lake/sales/orders"),
        ("glue", "crm.customers", "s3://lake/crm/customers"),
    ]
    properties = yaml.safe_load(config.read_text())["catalogs"]
    for item, table in zip(manifest, wave.tables, strict=True):
        assert item["spec"] == table.spec
        spec = JobSpec.from_json((folder / item["spec"]).read_text())
        key = ("id", "line") if item["target"] == "sales.orders" else ()
        assert spec == JobSpec(
            item["catalog"], properties[item["catalog"]], (TableJob(item["source"], item["target"], None, key),)
        )
        assert spec.reconcile  # convert, then reconcile: as `emr submit` does
    assert (folder / "entry.py").read_bytes() == entry_script()
    with zipfile.ZipFile(folder / "datax_migrate.zip") as code:
        assert "datax_migrate/emr/entry.py" in code.namelist()
    assert wave.skipped == (("lake.sales.legacy", "DX101: deletion vectors of an unknown kind"),)


def test_a_staging_prefix_holds_the_wave_under_the_plan_hash(plan_dir: Path, config: Path, tmp_path: Path) -> None:
    first = stage_wave(plan_dir, 2, str(config), str(tmp_path / "stage") + "/")
    assert first.folder == f"{tmp_path / 'stage'}/{first.plan_sha256[:12]}-wave-2"
    assert [t.target for t in first.tables] == ["finance.ledger"]
    write_plan(plan_dir, [row("lake", "finance", "ledger", 2), row("lake", "finance", "journal", 2)])
    second = stage_wave(plan_dir, 2, str(config), str(tmp_path / "stage"))
    assert second.folder != first.folder  # an edited plan does not overwrite what an orchestrator may be running
    assert Path(first.folder, "manifest.json").is_file()


@pytest.mark.parametrize("strategy", ["history", "sync"])
def test_strategies_an_emr_job_does_not_run_are_refused_by_line(tmp_path: Path, config: Path, strategy: str) -> None:
    plan = write_plan(tmp_path / "plan", [row("lake", "a", "b", 1), row("lake", "a", "c", 1, strategy=strategy)])
    with pytest.raises(ConfigError, match=rf"plan.csv line 3: lake.a.c has strategy '{strategy}'"):
        stage_wave(plan, 1, str(config))
    assert not (plan / "orchestrate").exists()


def test_empty_and_skipped_waves_are_refused(tmp_path: Path, config: Path) -> None:
    plan = write_plan(tmp_path / "plan", [row("lake", "a", "b", 1, strategy="skip"), row("lake", "a", "c", 3)])
    with pytest.raises(ConfigError, match="wave 1 has only skipped tables"):
        stage_wave(plan, 1, str(config))
    with pytest.raises(ConfigError, match=r"wave 2 has no tables .* \(waves: 1, 3\)"):
        stage_wave(plan, 2, str(config))


def test_a_catalog_with_credentials_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"catalogs": {"lake": {"type": "glue", "s3.secret-access-key": "x"}}}))
    plan = write_plan(tmp_path / "plan", [row("lake", "a", "b", 1)])
    with pytest.raises(ConfigError, match="holds credentials"):
        stage_wave(plan, 1, str(config))


def test_emit_warns_of_the_tolerances_an_emr_job_does_not_apply_and_lists_the_empty_input(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write_plan(tmp_path / "plan", [row("lake", "a", "b", 1, tolerances="amount=0.01"), row("lake", "a", "c", 1)])
    out = tmp_path / "wave-1.asl.json"
    arguments = ["emit", "stepfunctions", str(plan), "--wave", "1", "--out", str(out), "--config", str(config)]
    assert main([*arguments, "--application-id", "app-1", "--role", "arn:aws:iam::1:role/r"]) == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "tolerances of lake.a.b:" in warnings[0] and "lake.a.c" not in warnings[0]
    # staged locally: the manifest's and the results' bucket are not known yet, and the user is told
    assert "fill in staging, manifest.Bucket, results.Bucket, signoff_topic_arn in" in captured.out
    assert missing_input(json.loads(out.with_name("wave-1.asl.input.json").read_text())) == [
        "staging",
        "manifest.Bucket",
        "results.Bucket",
        "signoff_topic_arn",
    ]


def test_names_in_a_catalog_plan_json_does_not_record_follow_the_config(tmp_path: Path, config: Path) -> None:
    plan = write_plan(tmp_path / "plan", [row("lake", "a", "Orders", 1)])  # hand-written: no plan.json
    assert Plan.load(plan).tables  # without the config: the loosest rules (REST)
    with pytest.raises(PlanError, match=r"line 2: table name 'Orders' is not valid in Amazon S3 Tables"):
        stage_wave(plan, 1, str(config))
    assert not (plan / "orchestrate").exists()
