"""What `reconcile` tells its reader: the console and every report file state the same figures.

Real Delta tables converted by the CLI; the reports are read as a user reads them.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from datax_migrate.cli import main
from tests.support.reconcile import accounts, converted


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, dict[str, Any], str, str]:
    """Exit code, console, report.json, report.md and the text of report.html of one reconcile."""
    report_dir = Path(args[args.index("--report-dir") + 1])
    capsys.readouterr()
    code = main(["reconcile", *args])
    console = capsys.readouterr().out
    page = html.unescape(re.sub(r"<[^>]+>", "", (report_dir / "report.html").read_text(encoding="utf-8")))
    return (
        code,
        console,
        json.loads((report_dir / "report.json").read_text(encoding="utf-8")),
        (report_dir / "report.md").read_text(encoding="utf-8"),
        page,
    )


def console_differences(console: str) -> list[str]:
    """The difference lines of the console summary: ``cell id=1 note: a -> b``."""
    return [line.strip() for line in console.splitlines() if re.match(r"\s+(cell|source_only|target_only) ", line)]


def test_a_sample_of_five_of_45_differences_reads_the_same_everywhere(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = converted(tmp_path / "accounts", accounts(2_000))
    DeltaTable(source).update(updates={"note": "'edited'"}, predicate="id >= 1000 and id < 1045")
    args = [str(source), "bank.accounts", "--key", "id", "--version", "2"]

    code, console, report, markdown, page = run(capsys, *args, "--sample", "5", "--report-dir", str(tmp_path / "r"))

    assert code == 1
    assert (report["differences_total"], len(report["differences"]), report["sample_limit"]) == (45, 5, 5)
    stated = (
        "45 differences found, 5 listed (--sample 5, a reproducible choice with seed 42); the other 40 were not "
        "kept: rerun reconcile with --sample 45 to list them all."
    )
    for text in (console, markdown, page):
        assert stated in text
        assert "more differences" not in text and "more not shown" not in text
    listed = [f"cell id={d['key']['id']} note: {d['source']} -> {d['target']}" for d in report["differences"]]
    assert console_differences(console) == listed  # the console lists what the report lists, no more
    for difference in report["differences"]:
        assert f"id={difference['key']['id']}" in markdown and f"id={difference['key']['id']}" in page

    code, console, report, markdown, page = run(capsys, *args, "--report-dir", str(tmp_path / "d"))
    assert (report["differences_total"], len(report["differences"])) == (45, 20)
    assert "45 differences found, 20 listed (--sample 20" in console
    assert len(console_differences(console)) == 10
    assert "Shown here: the first 10 of the 20 listed; report.html and report.json list all 20." in console
    assert markdown.count("| Different value |") == 20 and page.count("Different value") == 20


def test_a_snapshot_converted_from_another_version_is_named_in_the_verdict_banner(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = converted(tmp_path / "accounts", accounts(300))
    DeltaTable(source).update(updates={"note": "'edited'"}, predicate="id = 12")

    code, console, report, markdown, _ = run(capsys, str(source), "bank.accounts", "--report-dir", str(tmp_path / "r"))

    assert code == 1
    assert (report["source"]["version"], report["target"]["converted_from_version"]) == (2, 1)
    banner = (
        f"Iceberg snapshot {report['target']['snapshot_id']} was converted from Delta version 1, but Delta version 2 "
        "was compared: differences may be Delta commits between the two versions, not conversion errors."
    )
    assert banner in console.splitlines()[0]
    assert banner in markdown.split("## Checks")[0]
    header = (tmp_path / "r" / "report.html").read_text(encoding="utf-8").split("</header>")[0]
    assert banner in header

    code, console, report, markdown, _ = run(
        capsys, str(source), "bank.accounts", "--version", "1", "--report-dir", str(tmp_path / "same")
    )
    assert code == 0 and report["target"]["converted_from_version"] == 1
    assert "was converted from" not in console + markdown


def test_per_column_statistics_count_unequal_values_and_the_largest_differences(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = accounts(1_000)
    source = converted(tmp_path / "accounts", table)
    DeltaTable(source).update(updates={"rate": "rate * 2", "note": "'edited'"}, predicate="id >= 200 and id < 240")
    edited = [i for i in range(200, 240) if i % 97 != 5]  # id 5 mod 97 was deleted before the conversion
    rates = table.column("rate").to_pylist()
    notes = table.column("note").to_pylist()
    args = [str(source), "bank.accounts", "--key", "id"]

    code, console, report, markdown, page = run(capsys, *args, "--report-dir", str(tmp_path / "r"))

    assert code == 1
    summaries = {s["column"]: s for s in report["column_summaries"]}
    assert list(summaries) == ["branch", "balance", "rate", "note"]
    rows = report["target"]["rows"]
    assert {s["compared"] for s in summaries.values()} == {rows}  # one bucket: every row re-read and matched
    assert summaries["rate"]["unequal"] == len(edited) and summaries["rate"]["null_diff"] == 0
    assert summaries["rate"]["max_abs_diff"] == pytest.approx(max(rates[i] for i in edited))
    assert summaries["rate"]["max_rel_diff"] == pytest.approx(1.0)  # doubled: |2x - x| / |x|
    assert summaries["note"]["unequal"] == len(edited)
    assert summaries["note"]["null_diff"] == sum(notes[i] is None for i in edited)
    assert summaries["note"]["max_abs_diff"] is None  # not a number
    assert summaries["balance"] == {
        "column": "balance",
        "compared": rows,
        "unequal": 0,
        "null_diff": 0,
        "max_abs_diff": 0,
        "max_rel_diff": 0.0,
    }
    covered = (
        f"Over the {rows:,} rows re-read from the differing bucket and matched by key (the other buckets' checksums "
        f"are equal): 2 columns with some values unequal, 2 with all values equal; {2 * len(edited)} values unequal "
        "in all."
    )
    for text in (console, markdown, page):
        assert covered in text
    assert f"| rate | {rows:,} | {len(edited)} | 0 | " in markdown and "| balance |" not in markdown
    assert f"rate: {len(edited)} unequal, 0 NULL on one side, max abs diff " in console

    code, _, report, _, _ = run(capsys, *args, "--tolerance", "rate=rel:1", "--report-dir", str(tmp_path / "t"))
    rate = next(s for s in report["column_summaries"] if s["column"] == "rate")
    assert rate["unequal"] == 0 and rate["max_rel_diff"] == pytest.approx(1.0)  # tolerated, yet shown, as datacompy

    code, console, report, _, _ = run(capsys, str(source), "bank.accounts", "--report-dir", str(tmp_path / "k"))
    assert report["column_summaries"] == []
    assert "Per-column statistics need key columns (--key)" in console


def test_rows_on_one_side_only_show_their_values(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = converted(tmp_path / "accounts", accounts(300))
    DeltaTable(source).delete("id = 7")
    row = accounts(300).slice(7, 1).to_pylist()[0]
    shown = f"id=7, branch={row['branch']}, balance={row['balance']}, rate={row['rate']!r}, note=note 7"

    code, console, report, markdown, page = run(
        capsys, str(source), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r")
    )

    assert code == 1
    (difference,) = report["differences"]
    assert difference["kind"] == "target_only" and difference["key"] == {"id": 7}
    assert difference["target"] == {
        "branch": row["branch"],
        "balance": str(row["balance"]),
        "rate": row["rate"],
        "note": "note 7",
    }
    assert f"| id=7 | — | *no row* | {shown} | Row only in Iceberg |" in markdown
    assert f"no row{shown}Row only in Iceberg" in page.replace("\n", "").replace("  ", "")
    assert f"target_only id=7 no row -> {shown}" in console

    code, console, report, markdown, _ = run(capsys, str(source), "bank.accounts", "--report-dir", str(tmp_path / "w"))
    assert report["differences"][0]["key"]["id"] == 7  # whole-row comparison: the key is the row
    assert f"| *no row* | {shown} | Row only in Iceberg |" in markdown


def test_documented_type_equivalents_pass_the_schema_check_and_say_so(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = pa.table(
        {
            "id": pa.array(range(50), pa.int32()),
            "at": pa.array([1_700_000_000_000_000 + i for i in range(50)], pa.timestamp("us", tz="UTC")),
            "name": [f"n{i}" for i in range(50)],
        }
    )
    write_deltalake(tmp_path / "t", table)
    assert main(["convert", str(tmp_path / "t"), "bank.events"]) == 0

    code, console, report, markdown, _ = run(
        capsys, str(tmp_path / "t"), "bank.events", "--key", "id", "--report-dir", str(tmp_path / "r")
    )

    assert code == 0
    schema = next(c for c in report["checks"] if c["name"] == "schema")
    assert schema["status"] == "pass"
    columns = {c["column"]: c for c in schema["detail"]["columns"]}
    assert (columns["id"]["delta_type"], columns["id"]["iceberg_type"], columns["id"]["status"]) == (
        "integer",
        "int",
        "pass",
    )
    assert columns["id"]["note"] == "the same type: Iceberg's name for Delta integer (docs/type-mapping.md)"
    assert "note" not in columns["name"]
    said = (
        "3 columns with the same names, types and nullability (integer = int, timestamp = timestamptz: the same "
        "types under Iceberg's names, docs/type-mapping.md); same partitioning"
    )
    assert schema["summary"] == said and said in console and said in markdown

    write_deltalake(
        tmp_path / "b", pa.table({"id": pa.array(range(5), pa.int64()), "b": pa.array(range(5), pa.int8())})
    )
    assert main(["convert", str(tmp_path / "b"), "bank.bytes"]) == 0
    code, _, report, _, _ = run(capsys, str(tmp_path / "b"), "bank.bytes", "--report-dir", str(tmp_path / "b-r"))
    schema = next(c for c in report["checks"] if c["name"] == "schema")
    assert code == 0 and schema["status"] == "expected"  # byte -> int widens the values: not the same type
    assert next(c for c in schema["detail"]["columns"] if c["column"] == "b")["delta_type"] == "byte"


def test_counts_are_worded_in_the_singular_and_the_plural(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = converted(tmp_path / "accounts", accounts(300))
    DeltaTable(source).update(updates={"note": "'edited'"}, predicate="id = 12")
    DeltaTable(source).delete("id = 13")

    code, console, report, markdown, page = run(
        capsys, str(source), "bank.accounts", "--key", "id", "--report-dir", str(tmp_path / "r")
    )

    summaries = {c["name"]: c["summary"] for c in report["checks"]}
    assert summaries["checksum"].endswith("in 1 of 1 bucket")
    assert summaries["row_diff"] == "differences found: 1 differing value, 1 row only in Iceberg"
    assert "2 differences found, all 2 listed." in console
    assert f"Over the {report['source']['rows']:,} rows re-read from the differing bucket" in console
    assert "1 column with some values unequal, 3 with all values equal; 1 value unequal in all." in console
    for text in (console, markdown, page):
        assert not re.search(r"\b1 (buckets|columns|rows|cells|differences|values)\b", text), text
        assert not re.search(r"\ball 1 \w+s\b", text) and " cell," not in text and "(s)" not in text

    code, console, report, _, _ = run(
        capsys, str(source), "bank.accounts", "--key", "id", "--version", "1", "--report-dir", str(tmp_path / "m")
    )
    checksum = next(c for c in report["checks"] if c["name"] == "checksum")["summary"]
    assert code == 0 and checksum.endswith("on both sides, the single bucket equal")
