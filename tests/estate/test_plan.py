"""The estate plan: made from an inventory's verdicts, names as `names` maps them, waves, hand edits re-validated."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from datax_migrate.cli import main
from datax_migrate.estate.plan import COLUMNS, Plan, PlanError, blocker_code, refresh_json
from datax_migrate.estate.planning import PlanOptions, plan_estate
from datax_migrate.findings import Finding, Severity
from datax_migrate.inventory.model import DeltaFacts, Inventory, TableRecord
from datax_migrate.plan.names import S3_TABLES, map_name

GIB = 1 << 30


def delta_table(name: str, size: int | None = 1000, **fields: object) -> TableRecord:
    facts = DeltaFacts(version=3, min_reader_version=1, min_writer_version=2, num_files=2, size_bytes=size)
    values: dict[str, object] = {
        "origin": "unity-catalog",
        "kind": "external",
        "format": "delta",
        "location": f"s3://lake/{name.replace('.', '/')}",
        "delta": facts,
        "strategy": "rewrite",
        "owner": "ann@example.com",
        **fields,
    }
    return TableRecord(name=name, **values)  # type: ignore[arg-type]


def inventory(*tables: TableRecord) -> Inventory:
    return Inventory(created_at="2026-12-01T00:00:00+00:00", sources=("test",), tables=tables)


ESTATE = inventory(
    delta_table("main.sales.orders", size=5 * GIB),
    delta_table("main.Sales.Customers", size=10),
    delta_table("main.finance.ledger-2024", size=200 * GIB),
    delta_table(
        "main.finance.raw_csv",
        format="csv",
        strategy="blocked",
        findings=(
            Finding("not-delta-format", Severity.BLOCKER, "the data is csv,\nnot Delta", "main.finance.raw_csv"),
        ),
    ),
    delta_table("main.finance.v_totals", kind="view", format=None, location=None, delta=None, strategy="recreate-view"),
    delta_table("main.tmp.scratch", size=1),
)


def rows_of(plan_dir: Path) -> list[dict[str, str]]:
    with (plan_dir / "plan.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_plan_from_an_inventory(tmp_path: Path, datax_home: Path) -> None:
    plan = plan_estate(ESTATE, tmp_path / "plan", PlanOptions(exclude=("main.TMP.*",)))

    rows = {row["databricks_name"]: row for row in rows_of(tmp_path / "plan")}
    assert list(rows_of(tmp_path / "plan")[0]) == list(COLUMNS)
    assert set(rows) == {t.name for t in ESTATE.tables} - {"main.tmp.scratch"}
    assert rows["main.sales.orders"]["strategy"] == "convert"
    assert (rows["main.Sales.Customers"]["namespace"], rows["main.Sales.Customers"]["table"]) == ("sales", "customers")
    # the embedded catalog takes the SQL catalog's rules, as `names --catalog local` does
    assert rows["main.finance.ledger-2024"]["table"] == "ledger-2024"
    blocked = rows["main.finance.raw_csv"]
    assert blocked["strategy"] == "skip" and blocked["notes"] == "not-delta-format: the data is csv, not Delta"
    assert blocker_code(blocked["notes"]) == "not-delta-format"
    view = rows["main.finance.v_totals"]
    assert view["strategy"] == "skip" and blocker_code(view["notes"]) is None
    assert rows["main.sales.orders"]["owner"] == "ann@example.com"
    assert {row["wave"] for row in rows.values()} == {"1"}

    document = json.loads((tmp_path / "plan" / "plan.json").read_text())
    digest = hashlib.sha256((tmp_path / "plan" / "plan.csv").read_bytes()).hexdigest()
    assert document["content_sha256"] == plan.content_sha256 == digest
    assert document["naming_rules"] == {"local": "sql"}
    assert Plan.load(tmp_path / "plan") == plan
    assert plan.json_current
    assert [t.line for t in plan.tables] == list(range(2, 2 + len(plan.tables)))


def test_s3_tables_names_are_mapped_as_names_maps_them(tmp_path: Path, datax_home: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "catalogs:\n  tables:\n    type: s3tables\n    warehouse: arn:aws:s3tables:us-east-1:123456789012:bucket/b\n"
    )
    plan_estate(ESTATE, tmp_path / "plan", PlanOptions(config=str(config), catalog="tables"))
    row = next(r for r in rows_of(tmp_path / "plan") if r["databricks_name"] == "main.finance.ledger-2024")
    expected = map_name("main.finance.ledger-2024", S3_TABLES)
    assert (row["catalog"], row["namespace"], row["table"]) == ("tables", expected.namespace, expected.table)
    assert row["table"].startswith("ledger_2024_")
    assert json.loads((tmp_path / "plan" / "plan.json").read_text())["naming_rules"] == {"tables": "s3tables"}


def test_waves(tmp_path: Path, datax_home: Path) -> None:
    def waves(options: PlanOptions) -> dict[str, int]:
        plan = plan_estate(ESTATE, tmp_path / "plan", options)
        return {t.databricks_name: t.wave for t in plan.tables}

    by_count = waves(PlanOptions(waves=3))
    assert sorted(by_count.values()) == [1, 1, 2, 2, 3, 3]
    assert by_count["main.tmp.scratch"] == 1 and by_count["main.finance.ledger-2024"] == 3  # smallest first

    by_size = waves(PlanOptions(wave_by="size"))
    assert by_size["main.Sales.Customers"] == 1 and by_size["main.sales.orders"] == 2
    assert by_size["main.finance.ledger-2024"] == 3 == by_size["main.finance.v_totals"]  # unknown size: last

    by_namespace = waves(PlanOptions(wave_by="namespace"))
    assert by_namespace["main.finance.raw_csv"] == 1 and by_namespace["main.sales.orders"] == 2
    assert by_namespace["main.tmp.scratch"] == 3

    with pytest.raises(Exception, match="not both"):
        plan_estate(ESTATE, tmp_path / "plan", PlanOptions(waves=2, wave_by="size"))


def test_collisions_are_refused_before_anything_is_written(tmp_path: Path, datax_home: Path) -> None:
    estate = inventory(delta_table("main.sales.orders"), delta_table("dev.sales.orders"))
    with pytest.raises(PlanError, match=r"sales\.orders <- dev\.sales\.orders, main\.sales\.orders"):
        plan_estate(estate, tmp_path / "plan")
    assert not (tmp_path / "plan").exists()

    twice = inventory(delta_table("main.sales.orders"), delta_table("main.SALES.orders", origin="storage"))
    with pytest.raises(PlanError, match="more than once"):
        plan_estate(twice, tmp_path / "plan")


def test_exclude_matches_names_unquoted_and_locations(tmp_path: Path, datax_home: Path) -> None:
    estate = inventory(
        delta_table("`raw`.`events`", origin="storage", location="s3://lake/raw/events"),
        delta_table("`raw`.`clicks`", origin="storage", location="s3://lake/raw/clicks"),
        delta_table("main.Sales.orders"),
        delta_table("main.finance.ledger", location="s3://archive/ledger"),
    )
    options = PlanOptions(exclude=("raw.events", "MAIN.sales.*", "s3://archive/*"))
    plan = plan_estate(estate, tmp_path / "plan", options)
    assert [t.databricks_name for t in plan.tables] == ["`raw`.`clicks`"]


def test_a_hand_edited_plan_is_not_overwritten(tmp_path: Path, datax_home: Path) -> None:
    plan_estate(ESTATE, tmp_path / "plan")
    plan_estate(ESTATE, tmp_path / "plan", PlanOptions(waves=2))  # not edited since: planned again
    path = tmp_path / "plan" / "plan.csv"
    edited = path.read_text().replace(",skip,", ",convert,", 1)
    path.write_text(edited)
    with pytest.raises(PlanError, match="was edited since `datax-migrate plan` wrote it; nothing was written"):
        plan_estate(ESTATE, tmp_path / "plan")
    assert path.read_text() == edited

    assert refresh_json(Plan.load(tmp_path / "plan"))  # what `migrate` does with an edited plan.csv
    assert Plan.load(tmp_path / "plan").json_current
    with pytest.raises(PlanError, match="was edited since `datax-migrate plan` wrote it; nothing was written"):
        plan_estate(ESTATE, tmp_path / "plan")
    assert path.read_text() == edited


def test_a_verdict_missing_from_an_older_inventory_is_computed(tmp_path: Path, datax_home: Path) -> None:
    estate = inventory(delta_table("main.raw.events", format="parquet", strategy=None))
    plan = plan_estate(estate, tmp_path / "plan")
    assert plan.tables[0].strategy == "skip" and blocker_code(plan.tables[0].notes) == "not-delta-format"


def test_a_hand_edited_plan_is_validated_again(tmp_path: Path, datax_home: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("catalogs:\n  glue:\n    type: glue\n")
    plan = plan_estate(ESTATE, tmp_path / "plan", PlanOptions(config=str(config), catalog="glue"))
    path = tmp_path / "plan" / "plan.csv"
    rows = list(csv.reader(path.open(newline="", encoding="utf-8")))
    rows[1][5] = "copy"  # line 2: unknown strategy
    rows[2][6] = "two"  # line 3: wave
    rows[3][4] = "Bad Name"  # line 4: invalid in Glue
    rows[4][3:5] = rows[6][3:5]  # line 5 takes line 7's target
    rows[5][8] = "amount=-1"  # line 6: negative tolerance
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    with pytest.raises(PlanError) as refused:
        Plan.load(tmp_path / "plan")
    message = str(refused.value)
    assert "5 bad row(s)" in message
    assert "line 2: strategy 'copy' is not one of convert, history, sync, skip" in message
    assert "line 3: wave 'two'" in message
    assert "line 4: table name 'Bad Name' is not valid in AWS Glue Data Catalog" in message
    assert "lines 5, 7: target glue:" in message
    assert "line 6: tolerance 'amount=-1'" in message
    assert not plan.json_current or plan.content_sha256 != hashlib.sha256(path.read_bytes()).hexdigest()

    rows[1][5], rows[2][6], rows[3][4], rows[5][8] = "history", "2", "good_name", "amount=0.5;fee=0"
    rows[4][3:5] = ["moved", "elsewhere"]
    rows[1][7] = "id;day"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    edited = Plan.load(tmp_path / "plan")
    assert not edited.json_current
    assert edited.tables[0].strategy == "history" and edited.tables[0].key_columns == ("id", "day")
    assert edited.tables[4].tolerances == {"amount": 0.5, "fee": 0.0}
    assert edited.waves == (1, 2)


def test_plan_command(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "inventory.json"
    path.write_text(ESTATE.to_json())
    assert main(["plan", str(path), "--out", str(tmp_path / "p"), "--waves", "2", "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["command"] == "plan" and document["tables"] == 6
    assert document["strategies"] == {"convert": 4, "skip": 2} and document["waves"] == {"1": 3, "2": 3}

    (tmp_path / "p" / "plan.csv").write_text("databricks_name,location\n")
    clash = inventory(delta_table("main.sales.orders"), delta_table("dev.sales.orders"))
    path.write_text(clash.to_json())
    assert main(["plan", str(path), "--out", str(tmp_path / "q")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "would hold more than one table" in err


def test_a_name_map_from_names_settles_collisions(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clash = inventory(delta_table("main.sales.orders"), delta_table("dev.sales.orders"))
    mapping = tmp_path / "names.json"
    arguments = ["names", "main.sales.orders", "dev.sales.orders", "--namespace-from", "catalog_schema"]
    assert main([*arguments, "--out", str(mapping)]) == 0
    plan = plan_estate(clash, tmp_path / "plan", PlanOptions(name_map=str(mapping)))
    assert {t.databricks_name: t.target for t in plan.tables} == {
        "dev.sales.orders": "dev_sales.orders",
        "main.sales.orders": "main_sales.orders",
    }
    with pytest.raises(PlanError, match="'main.finance.ledger' is not in the name mapping"):
        plan_estate(
            inventory(delta_table("main.finance.ledger")), tmp_path / "other", PlanOptions(name_map=str(mapping))
        )
