"""`datax-migrate translate`: folder trees in, notebooks and reports out, exit codes 0/1/2."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

from datax_migrate.cli import main
from datax_migrate.notebooks.codes import CODES

CLEAN = """# Databricks notebook source
orders = spark.table("main.sales.orders")

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT count(*) FROM main.sales.orders
"""


def test_clean_tree_translates_with_exit_0(tmp_path: Path) -> None:
    source = tmp_path / "src" / "etl"
    source.mkdir(parents=True)
    (source / "daily.py").write_text(CLEAN)
    names = tmp_path / "names.json"
    names.write_text(
        json.dumps(
            {
                "version": "datax-name-mapping/1",
                "entries": [{"source": "main.sales.orders", "namespace": "finance", "table": "orders"}],
            }
        )
    )
    out = tmp_path / "out"
    assert main(["translate", str(tmp_path / "src"), "--out", str(out), "--name-map", str(names)]) == 0
    notebook = json.loads((out / "etl" / "daily.ipynb").read_text())
    assert notebook["metadata"]["kernelspec"]["name"] == "pysparkkernel"
    sources = [cell["source"] for cell in notebook["cells"]]
    assert 'orders = spark.table("s3tablesbucket.finance.orders")' in sources
    assert "%%sql\nSELECT COUNT(*) FROM s3tablesbucket.finance.orders" in sources
    report = json.loads((out / "etl" / "daily.report.json").read_text())
    assert {f["code"] for f in report["findings"]} == {"table-mapped", "magic-sql"}
    mapped = {f["message"] for f in report["findings"] if f["code"] == "table-mapped"}
    assert mapped == {"Table name mapped through the name map."}
    assert json.loads((out / "translation-summary.json").read_text())["status"] == {"translated": 1}


def test_without_a_name_map_the_default_rule_maps_and_says_so(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "daily.py").write_text(CLEAN)
    assert main(["translate", str(tmp_path / "src"), "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "daily.report.json").read_text())
    mapped = {(f["message"], f["replacement"]) for f in report["findings"] if f["code"] == "table-mapped"}
    assert mapped == {
        (
            "Table name mapped by the default S3 Tables naming rule (no name map given).",
            "s3tablesbucket.sales.orders",
        )
    }


def test_findings_for_a_person_exit_1_and_hostile_archive_writes_nothing_outside(tmp_path: Path) -> None:
    archive = tmp_path / "src" / "export.dbc"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("../../escape.python", json.dumps({"language": "python", "commands": []}))
        zipped.writestr("ok.python", json.dumps({"language": "python", "commands": [{"command": "import dlt"}]}))
    out = tmp_path / "out"
    assert main(["translate", str(archive.parent), "--out", str(out)]) == 1
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        "out/export.dbc/ok.ipynb",
        "out/export.dbc/ok.report.json",
        "out/export.dbc/ok.report.md",
        "out/translation-summary.json",
        "out/translation-summary.md",
        "src/export.dbc",
    ]
    summary = json.loads((out / "translation-summary.json").read_text())
    assert summary["status"] == {"blocked": 1, "unreadable": 1}
    assert summary["findings"] == {"delta-live-tables": 1, "notebook-unreadable": 1}


def test_missing_source_exits_2(tmp_path: Path) -> None:
    assert main(["translate", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2


def test_every_code_is_documented() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "reference" / "findings.md").read_text()
    section = page.split("## Notebooks (translation)", 1)[1]
    assert set(re.findall(r"^\| `([a-z0-9-]+)` \|", section, flags=re.M)) == set(CODES)


def test_a_source_zip_export_is_translated(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "workspace.zip", "w") as archive:
        archive.writestr("etl/daily.py", CLEAN)
    out = tmp_path / "out"
    assert main(["translate", str(tmp_path / "workspace.zip"), "--out", str(out)]) == 0
    notebook = json.loads((out / "workspace.zip" / "etl" / "daily.ipynb").read_text())
    assert 'orders = spark.table("s3tablesbucket.sales.orders")' in [c["source"] for c in notebook["cells"]]


def test_an_input_without_notebooks_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.py").write_text("def helper():\n    return 1\n")
    (tmp_path / "empty").mkdir()
    errors = []
    for source in ("src", "empty"):
        assert main(["translate", str(tmp_path / source), "--out", str(tmp_path / "out")]) == 2
        errors.append(capsys.readouterr().err.strip())
        assert not (tmp_path / "out" / "translation-summary.json").exists()
    assert all("\n" not in error and "no notebooks in" in error for error in errors)
    assert "1 file(s) not notebooks (e.g. lib.py)" in errors[0]
    assert "no files" in errors[1]


BY_PATH = """# Databricks notebook source
from delta.tables import DeltaTable

orders = spark.read.format("delta").load("/mnt/lake/sales/orders/")
DeltaTable.forPath(spark, "s3a://lake-bucket/sales/customers").toDF().show()
orders.write.format("delta").mode("append").save("dbfs:/mnt/lake/sales/orders")
other = spark.read.format("delta").load("/mnt/lake/unknown")
lake = "s3://lake-bucket"
default_format = spark.read.load("/dbfs/mnt/lake/sales/orders")
again = spark.read.format("delta").load(f"{lake}/sales/customers")

# COMMAND ----------

# MAGIC %sql
# MAGIC SELECT * FROM delta.`s3://lake-bucket/sales/customers/`
"""


def test_inventory_locations_turn_path_reads_and_writes_into_table_names(tmp_path: Path) -> None:
    from datax_migrate.inventory.model import Inventory, TableRecord

    tables = (
        TableRecord("main.sales.orders", "unity-catalog", "external", "delta", location="dbfs:/mnt/lake/sales/orders"),
        TableRecord("main.sales.customers", "unity-catalog", "external", "delta", "s3://lake-bucket/sales/customers/"),
    )
    inventory = tmp_path / "inventory.json"
    inventory.write_text(Inventory("2026-01-01T00:00:00Z", ("workspace x",), tables).to_json())
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "by_path.py").write_text(BY_PATH)
    out = tmp_path / "out"
    assert main(["translate", str(tmp_path / "src"), "--out", str(out), "--inventory", str(inventory)]) == 1
    sources = "\n".join(c["source"] for c in json.loads((out / "by_path.ipynb").read_text())["cells"])
    assert "orders = spark.read.table('s3tablesbucket.sales.orders')" in sources
    assert "DeltaTable.forName(spark, 's3tablesbucket.sales.customers').toDF().show()" in sources
    assert "orders.writeTo('s3tablesbucket.sales.orders').using('iceberg').append()" in sources
    assert "%%sql\nSELECT * FROM s3tablesbucket.sales.customers" in sources
    assert 'other = spark.read.format("delta").load("/mnt/lake/unknown")' in sources  # not in the inventory
    assert "again = spark.read.table('s3tablesbucket.sales.customers')" in sources  # built from a constant
    assert "default_format = spark.read.table('s3tablesbucket.sales.orders')" in sources  # Delta by default
    findings = json.loads((out / "by_path.report.json").read_text())["findings"]
    mapped = sorted(f["message"].split(" (", 1)[0] for f in findings if f["code"] == "location-mapped")
    assert mapped == [
        "Delta location /dbfs/mnt/lake/sales/orders is main.sales.orders",
        "Delta location /mnt/lake/sales/orders/ is main.sales.orders",
        "Delta location dbfs:/mnt/lake/sales/orders is main.sales.orders",
        "Delta location s3://lake-bucket/sales/customers is main.sales.customers",
        "Delta location s3://lake-bucket/sales/customers/ is main.sales.customers",
        "Delta location s3a://lake-bucket/sales/customers is main.sales.customers",
    ]
    needing_person = {f["code"] for f in findings if f["severity"] != "info"}
    assert needing_person == {"delta-path-read", "path-not-mapped"}  # only /mnt/lake/unknown


def test_an_unreadable_inventory_exits_2(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "daily.py").write_text(CLEAN)
    (tmp_path / "inventory.json").write_text("{}")
    arguments = ["translate", str(tmp_path / "src"), "--out", str(tmp_path / "out")]
    assert main([*arguments, "--inventory", str(tmp_path / "inventory.json")]) == 2
