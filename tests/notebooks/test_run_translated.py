"""Translated Databricks notebooks run headless on local Spark with the Iceberg runtime against converted tables.

The notebooks in ``runnable/`` are the shapes a workspace holds: a Python report, a SQL-first
maintenance notebook (SOURCE export), a Python ETL notebook with widgets, ``%run`` of a helper and
``dbutils.fs``, a Databricks ``.ipynb`` export with ``%sql`` cells, and a ``.dbc`` archive. The demo
banking lake (Delta, several versions per table) is converted by ``convert_table``, version by
version so that time travel and RESTORE have snapshots to go to; one ``datax-migrate translate``
run translates the whole tree; nbclient runs each notebook in one shared python3 kernel (one Spark
session for the module) with papermill injecting the widget parameters. A test-only first cell
builds the SparkSession whose ``lake`` catalog (Iceberg, Hadoop) holds the converted tables and
moves into the notebook's folder, as Jupyter starts a kernel there.

Every expected number is computed here from the Delta tables with our Delta reader, not by Spark.
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from datax_migrate.cli import main
from datax_migrate.convert import convert_table
from datax_migrate.convert.table import ConvertOptions
from datax_migrate.delta.scan import FileReader
from datax_migrate.delta.table import DeltaTable
from tests.support.spark import JARS

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.xdist_group("spark")]

RUNNABLE = Path(__file__).parent / "runnable"
HISTORY_VERSIONS = 4
"""Delta versions 0..3 are converted one after the other (version 4 adds a column: a new table)."""

HARNESS = """
import os
from pyspark.sql import SparkSession
spark = (
    SparkSession.builder.master("local[2]")
    .config("spark.jars", {jars!r})
    .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
    .config("spark.sql.catalog.lake", "org.apache.iceberg.spark.SparkCatalog")
    .config("spark.sql.catalog.lake.type", "hadoop")
    .config("spark.sql.catalog.lake.warehouse", {warehouse!r})
    .config("spark.sql.session.timeZone", "UTC")
    .config("spark.ui.enabled", "false")
    .config("spark.sql.shuffle.partitions", "2")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
from datax_migrate.compat import dbutils
dbutils.widgets.removeAll()
os.chdir({folder!r})
"""


@dataclass(frozen=True)
class Workspace:
    """The converted lake, the translated tree and the kernel every notebook runs in."""

    root: Path
    delta: Path
    out: Path
    kernel: Any
    jars: str
    closing: tuple[int, ...]
    freezing: tuple[int, ...]


@dataclass(frozen=True)
class Executed:
    """What a notebook printed and the tables it displayed (header, rows as text)."""

    printed: str
    tables: tuple[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]], ...]

    def table(self, *header: str, shown: int = 1) -> list[dict[str, str]]:
        """The rows of the last displayed table with exactly these columns, shown ``shown`` times with the same rows."""
        found = [sorted(rows) for columns, rows in self.tables if columns == header]
        assert len(found) == shown, f"{len(found)} tables with columns {header}; shown: {[c for c, _ in self.tables]}"
        assert all(rows == found[-1] for rows in found)
        return [dict(zip(header, row, strict=True)) for row in found[-1]]

    def value(self, label: str) -> str:
        """What the notebook printed after ``label:``."""
        match = re.search(rf"^{re.escape(label)}: (.*)$", self.printed, flags=re.M)
        assert match, f"nothing printed as {label!r}:\n{self.printed}"
        return match.group(1)


def delta_rows(path: Path, version: int | None = None) -> pa.Table:
    """A Delta table's rows at ``version``, read by our Delta reader."""
    snapshot = DeltaTable(str(path)).snapshot(version)
    reader = FileReader(snapshot)
    return pa.Table.from_batches([b for f in snapshot.files for b in reader.batches(f)], schema=reader.target)


def counts(table: pa.Table, column: str) -> dict[str, int]:
    """Rows per value of ``column``."""
    return {str(row["values"]): row["counts"] for row in pc.value_counts(table[column]).to_pylist()}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    pytest.importorskip("papermill")
    deltalake = pytest.importorskip("deltalake")
    from jupyter_client.manager import KernelManager

    from datax_migrate.demo.lake import build_lake

    if shutil.which("java") is None or not (JARS / "jars.txt").is_file():
        pytest.skip("needs java and the Iceberg Spark jars (make .venv/spark-jars/jars.txt)")
    root = tmp_path_factory.mktemp("workspace")
    delta = root / "delta"
    build_lake(delta)
    ids = list(range(150))
    orders = pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "amount": pa.array([float(i) for i in ids]),
            "country": [["at", "be", "ch"][i % 3] for i in ids],
        }
    )
    deltalake.write_deltalake(delta / "orders", orders.slice(0, 100))
    deltalake.write_deltalake(delta / "orders", orders.slice(100), mode="append")

    (root / "warehouse").mkdir()
    catalog = SqlCatalog("test", uri=f"sqlite:///{root / 'catalog.db'}", warehouse=(root / "warehouse").as_uri())
    versions = {
        "bank.customers": ("customers", [None]),
        "bank.accounts": ("accounts", list(range(HISTORY_VERSIONS))),
        "bank.card_transactions": ("card_transactions", list(range(HISTORY_VERSIONS))),
        "shop.orders": ("orders", [0, 1]),
    }
    for identifier, (folder, history) in versions.items():
        for version in history:
            options = ConvertOptions(replace=True)
            convert_table(str(delta / folder), catalog, identifier, version=version, options=options)
        # A Hadoop catalog finds a table by its folder: vN.metadata.json and version-hint.text.
        metadata = root / "spark-warehouse" / identifier.replace(".", "/") / "metadata"
        metadata.mkdir(parents=True)
        shutil.copyfile(
            catalog.load_table(identifier).metadata_location.removeprefix("file://"), metadata / "v1.metadata.json"
        )
        (metadata / "version-hint.text").write_text("1")

    accounts = delta_rows(delta / "accounts", HISTORY_VERSIONS - 1)
    open_gb = sorted(
        r["account_id"]
        for r in accounts.filter(
            pc.and_(pc.equal(accounts["country"], "GB"), pc.equal(accounts["status"], "open"))
        ).to_pylist()
    )
    closing, freezing = tuple(open_gb[:4]), tuple(open_gb[4:7])
    landing = root / "landing" / "account_status"
    landing.mkdir(parents=True)
    (landing / "status-1.csv").write_text("account_id,status\n" + "".join(f"{i},closed\n" for i in closing))
    (landing / "status-2.csv").write_text("account_id,status\n" + "".join(f"{i},frozen\n" for i in freezing))
    (landing / "_SUCCESS").write_text("")
    path_map = root / "paths.json"
    path_map.write_text(json.dumps({"prefixes": {"dbfs:/mnt/landing": str(root / "landing")}}))

    src = root / "src"
    shutil.copytree(RUNNABLE, src, ignore=shutil.ignore_patterns("dbc"))
    (src / "archive").mkdir()
    with zipfile.ZipFile(src / "archive" / "workspace.dbc", "w") as archive:
        for entry in sorted((RUNNABLE / "dbc").rglob("*.python")):
            archive.write(entry, entry.relative_to(RUNNABLE / "dbc").as_posix())
    out = root / "out"
    code = main(["translate", str(src), "--out", str(out), "--catalog", "lake", "--path-map", str(path_map)])
    assert code == 1  # the CHECK constraint needs a person; everything else translated

    jars = ",".join(line.strip() for line in (JARS / "jars.txt").read_text().splitlines() if line.strip())
    kernel = KernelManager(kernel_name="python3")
    kernel.start_kernel(cwd=str(out))
    try:
        yield Workspace(root, delta, out, kernel, jars, closing, freezing)
    finally:
        kernel.shutdown_kernel(now=True)


def run(workspace: Workspace, notebook: str, parameters: dict[str, str] | None = None) -> Executed:
    """Run a translated notebook in the shared kernel, widget values injected by papermill."""
    import nbformat
    from nbclient import NotebookClient
    from papermill.parameterize import parameterize_notebook

    path = workspace.out / notebook
    document = nbformat.read(path, as_version=4)
    harness = HARNESS.format(
        jars=workspace.jars, warehouse=str(workspace.root / "spark-warehouse"), folder=str(path.parent)
    )
    document.cells.insert(0, nbformat.v4.new_code_cell(harness))
    for cell in document.cells:  # what papermill.execute_notebook prepares before it parameterizes
        cell.metadata.setdefault("tags", [])
    document.metadata["papermill"] = {}
    if parameters:
        document = parameterize_notebook(document, parameters)
    NotebookClient(document, km=workspace.kernel, timeout=600, kernel_name="python3").execute()
    nbformat.write(document, path.with_suffix(".executed.ipynb"))
    printed: list[str] = []
    tables = []
    for cell in document.cells:
        for output in cell.get("outputs", []):
            if output.get("name") == "stdout":
                printed.append(output["text"])
            shown = output.get("data", {}).get("text/html")
            if shown:
                tables.append(_html_table(shown))
    return Executed("".join(printed), tuple(tables))


def _html_table(text: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """Columns and rows of a pandas HTML table (the index column dropped)."""
    rows = [
        tuple(html.unescape(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S))[1:]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", text, flags=re.S)
    ]
    return (rows[0], tuple(rows[1:])) if rows else ((), ())


def findings(workspace: Workspace, notebook: str) -> dict[str, str]:
    """Finding code to severity, from the notebook's translation report."""
    report = json.loads((workspace.out / notebook).with_suffix(".report.json").read_text())
    return {f["code"]: f["severity"] for f in report["findings"]}


def needing_person(workspace: Workspace, notebook: str) -> set[str]:
    return {code for code, severity in findings(workspace, notebook).items() if severity != "info"}


def test_tree_translated_with_its_structure(workspace: Workspace) -> None:
    translated = sorted(p.relative_to(workspace.out).as_posix() for p in workspace.out.rglob("*.ipynb"))
    assert translated == [
        "archive/workspace.dbc/Shared/fraud_checks.ipynb",
        "etl/helpers/fx_rates.ipynb",
        "etl/load_accounts.ipynb",
        "maintenance/card_spend.ipynb",
        "orders_report.ipynb",
        "reports/customer_segments.ipynb",
    ]
    summary = json.loads((workspace.out / "translation-summary.json").read_text())
    assert summary["status"] == {"needs-review": 1, "translated": 5}


def test_python_report_with_merge_and_time_travel(workspace: Workspace) -> None:
    assert needing_person(workspace, "orders_report.ipynb") == set()
    result = run(workspace, "orders_report.ipynb", {"min_amount": "90"})
    assert result.value("big orders") == "60"  # amounts 90..149 at Delta version 1
    assert result.value("after merge") == "70 10"  # ids 0..9 inserted by MERGE INTO
    assert result.value("version 0 rows") == "100"  # VERSION AS OF 0: the snapshot converted from Delta version 0


def test_sql_notebook_maintenance_and_restore(workspace: Workspace) -> None:
    notebook = "maintenance/card_spend.ipynb"
    assert needing_person(workspace, notebook) == {"check-constraint"}
    assert {"optimize", "vacuum", "restore", "describe-history", "time-travel-at-syntax", "sql-widget-bound"} <= set(
        findings(workspace, notebook)
    )
    assert "liquid-clustering" in findings(workspace, notebook)
    result = run(workspace, notebook, {"min_day": "2024-03-15"})

    table = workspace.delta / "card_transactions"
    current = delta_rows(table, HISTORY_VERSIONS - 1)
    settled = current.filter(
        pc.and_(
            pc.equal(current["status"], "settled"),
            pc.greater_equal(current["tx_date"], pa.scalar(dt.date(2024, 3, 15))),
        )
    )
    expected = {
        row["merchant"]: (row["amount_count"], row["amount_sum"])
        for row in settled.group_by("merchant").aggregate([("amount", "count"), ("amount", "sum")]).to_pylist()
    }
    shown = result.table("merchant", "transactions", "spend")
    assert {r["merchant"]: (int(r["transactions"]), decimal.Decimal(r["spend"])) for r in shown} == expected
    rewrite = result.table(
        "rewritten_data_files_count",
        "added_data_files_count",
        "rewritten_bytes_count",
        "failed_data_files_count",
        "removed_delete_files_count",
    )
    assert int(rewrite[0]["rewritten_data_files_count"]) >= 1  # OPTIMIZE ZORDER BY ran as a zorder rewrite
    large = pc.sum(pc.greater_equal(current["amount"], pa.scalar(decimal.Decimal("2000")).cast(current["amount"].type)))
    assert result.table("large_payments") == [{"large_payments": str(large.as_py())}]
    history = result.table(
        "delta_version", "timestamp", "operation", "snapshot_id", "parent_id", "is_current_ancestor", "summary"
    )
    assert sorted(r["delta_version"] for r in history) == [str(v) for v in range(HISTORY_VERSIONS)]
    version_1 = delta_rows(table, 1).num_rows
    assert version_1 != current.num_rows
    assert result.table("rows_v1") == [{"rows_v1": str(version_1)}]
    assert result.table("rows_after_restore") == [{"rows_after_restore": str(version_1)}]


def test_python_etl_with_widgets_run_fs_and_delta_table(workspace: Workspace) -> None:
    notebook = "etl/load_accounts.ipynb"
    assert needing_person(workspace, notebook) == set()
    assert {"magic-run", "path-mapped", "dbutils-fs", "dbutils-widgets", "delta-table-api", "delta-write"} <= set(
        findings(workspace, notebook)
    )
    result = run(workspace, notebook, {"run_date": "2024-03-31", "country": "GB", "mode": "dry-run"})

    accounts = delta_rows(workspace.delta / "accounts", HISTORY_VERSIONS - 1)
    assert result.value("landing files") == "2"
    assert result.value("accounts after status files") == str(accounts.num_rows - len(workspace.closing))
    frozen = counts(accounts, "status")["frozen"]
    assert result.value("frozen") == str(frozen + len(workspace.freezing))
    kept = [
        r
        for r in accounts.to_pylist()
        if r["account_id"] not in workspace.closing + workspace.freezing
        and r["status"] == "open"
        and r["country"] == "GB"
    ]
    balance = sum(r["balance"] for r in kept)
    country, currency, number, shown, in_eur = result.value("open balance").split()
    assert (country, currency, int(number), decimal.Decimal(shown)) == ("GB", "GBP", len(kept), balance)
    assert float(in_eur) == pytest.approx(round(float(balance) * 1.17, 2))  # to_eur from the %run helper
    assert result.value("archived") == "2"
    assert sorted(p.name for p in (workspace.root / "landing" / "archive" / "2024-03-31").iterdir()) == [
        "status-1.csv",
        "status-2.csv",
    ]
    assert result.value("converted versions") == str(list(range(HISTORY_VERSIONS)))
    assert result.value("accounts after restore") == str(accounts.num_rows)  # restoreToVersion(3)


def test_databricks_ipynb_export_with_sql_cells(workspace: Workspace) -> None:
    notebook = "reports/customer_segments.ipynb"
    assert needing_person(workspace, notebook) == set()
    result = run(workspace, notebook)

    customers = delta_rows(workspace.delta / "customers")
    assert {r["segment"]: int(r["customers"]) for r in result.table("segment", "customers")} == counts(
        customers, "segment"
    )
    with_email = counts(customers.filter(pc.is_valid(customers["email"])), "country")
    expected = {c: (n, with_email.get(c, 0)) for c, n in counts(customers, "country").items()}
    shown = result.table("country", "customers", "with_email", shown=2)  # display() in Python, then %sql
    assert {r["country"]: (int(r["customers"]), int(r["with_email"])) for r in shown} == expected
    tiers = counts(customers.filter(pc.is_valid(customers["loyalty_tier"])), "loyalty_tier")
    assert {r["loyalty_tier"]: int(r["customers"]) for r in result.table("loyalty_tier", "customers")} == tiers


def test_dbc_archive_notebook_reads_an_older_version(workspace: Workspace) -> None:
    notebook = "archive/workspace.dbc/Shared/fraud_checks.ipynb"
    assert needing_person(workspace, notebook) == set()
    result = run(workspace, notebook)

    version_1 = delta_rows(workspace.delta / "card_transactions", 1)
    fraud = version_1.filter(pc.equal(version_1["status"], "fraud"))
    assert fraud.num_rows > 0 and delta_rows(workspace.delta / "card_transactions", 2).num_rows < version_1.num_rows
    assert result.table("fraud_v1") == [{"fraud_v1": str(fraud.num_rows)}]
    assert result.value("fraud accounts") == str(len(set(fraud["account_id"].to_pylist())))
