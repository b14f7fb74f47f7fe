"""The staged EMR job runs under spark-submit: the entry script converts and reconciles each table
and writes its results next to its spec (local Spark standing in for the cluster)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from datax_migrate.catalogs import open_catalog
from datax_migrate.emr.job import JobSpec, TableJob
from datax_migrate.emr.submit import stage
from datax_migrate.iceberg.read import read_snapshot
from tests.support.corpus import expected_table
from tests.support.tables import assert_same_rows

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.corpus]

SPARK_SUBMIT = Path(sys.executable).parent / "spark-submit"


def spark_submit(staged_code: str, entry: str, spec: str) -> subprocess.CompletedProcess[str]:
    command = [str(SPARK_SUBMIT), "--master", "local[2]", "--py-files", staged_code, entry, spec]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, check=False)


def test_each_staged_table_converts_reconciles_and_reports(tmp_path: Path, corpus: Path) -> None:
    (tmp_path / "wh").mkdir()
    properties = {"type": "sql", "uri": f"sqlite:///{tmp_path / 'catalog.db'}", "warehouse": (tmp_path / "wh").as_uri()}
    good = str(corpus / "golden" / "dv-partitioned-with-checkpoint" / "delta")
    spec = JobSpec(
        "lake",
        properties,
        (TableJob(good, "sales.orders"), TableJob(str(tmp_path / "no-such-table"), "sales.missing")),
    )
    staged = stage(spec, str(tmp_path / "staging"))

    converted = spark_submit(staged.code, staged.entry, staged.specs[0])
    assert converted.returncode == 0, converted.stderr[-3000:]
    result = json.loads(Path(staged.specs[0]).with_name("results.json").read_text())["tables"][0]
    assert (result["status"], result["verdict"], result["rows"]) == ("converted", "match", 35)
    assert result["checks"]["checksum"] == "pass"
    table = open_catalog("lake", properties).load_table("sales.orders")
    assert_same_rows(read_snapshot(table), expected_table("golden", "dv-partitioned-with-checkpoint"))

    failed = spark_submit(staged.code, staged.entry, staged.specs[1])
    assert failed.returncode == 1
    result = json.loads(Path(staged.specs[1]).with_name("results.json").read_text())["tables"][0]
    assert result["status"] == "failed" and "no-such-table" in result["error"]
