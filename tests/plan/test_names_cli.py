"""Databricks names on the command line: `names` plans them, `convert --name-map` uses the plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.iceberg.target import SOURCE_NAME
from tests.support.delta_tables import one_row_table


def test_names_writes_the_mapping_convert_reads(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listing = tmp_path / "tables.txt"
    listing.write_text("# from the workspace\nmain.Sales.Orders-2024\n\nmain.sales.customers\n", encoding="utf-8")
    mapping = tmp_path / "names.json"

    assert main(["names", "--from", str(listing), "main.Sales.Refunds", "--out", str(mapping)]) == 0
    out = capsys.readouterr().out
    assert "main.Sales.Orders-2024  ->  sales.orders_2024_" in out
    assert "3 table(s) mapped for Amazon S3 Tables; written to" in out
    entries = {e["source"]: f"{e['namespace']}.{e['table']}" for e in json.loads(mapping.read_text())["entries"]}
    assert entries["main.sales.customers"] == "sales.customers"

    source = one_row_table(tmp_path / "orders")
    code = main(["convert", str(source), "MAIN.sales.`orders-2024`", "--name-map", str(mapping)])
    assert code == 0, capsys.readouterr().err
    target = entries["main.Sales.Orders-2024"]
    assert f"-> local.{target}" in capsys.readouterr().out
    table = Config.load().catalog().load_table(target)
    assert table.properties[SOURCE_NAME] == "main.Sales.Orders-2024"
    assert main(["reconcile", str(source), "main.sales.orders-2024", "--name-map", str(mapping)]) == 0


def test_names_refuses_collisions_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "names.json"
    code = main(["names", "a.b_c.t", "a_b.c.t", "--namespace-from", "catalog_schema", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "a_b_c.t <- a.b_c.t, a_b.c.t" in err and "nothing was written" in err
    assert not out.exists()


def test_a_name_the_target_catalog_refuses_is_stopped_before_any_write(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "aws.yaml"
    arn = "arn:aws:s3tables:us-east-1:111122223333:bucket/lake"
    config.write_text(yaml.safe_dump({"catalogs": {"lake": {"type": "s3tables", "warehouse": arn}}}))
    source = one_row_table(tmp_path / "t")
    code = main(["convert", str(source), "Sales.Orders", "--config", str(config), "--catalog", "lake"])
    assert code == 2
    err = capsys.readouterr().err
    assert "namespace name 'Sales' is not valid in Amazon S3 Tables" in err
    assert "maps to 'sales.orders'" in err


def test_a_table_missing_from_the_mapping_is_refused(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "names.json"
    assert main(["names", "main.sales.orders", "--out", str(mapping)]) == 0
    source = one_row_table(tmp_path / "t")
    assert main(["convert", str(source), "main.sales.refunds", "--name-map", str(mapping)]) == 2
    assert "'main.sales.refunds' is not in the name mapping" in capsys.readouterr().err
    assert main(["convert", str(source), "main.sales.refunds", "--name-map", str(tmp_path / "none.json")]) == 2
    assert f"name mapping {tmp_path / 'none.json'} cannot be read" in capsys.readouterr().err


def test_create_bucket_needs_an_s3tables_catalog(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = one_row_table(tmp_path / "t")
    assert main(["convert", str(source), "ns.t", "--create-bucket"]) == 2
    assert "--create-bucket needs an s3tables catalog" in capsys.readouterr().err
