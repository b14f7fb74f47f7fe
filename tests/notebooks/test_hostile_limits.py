"""Hostile notebooks and archives: `translate` and `inventory --export` stay under 1 GB and 60 s each.

Every attack runs the real command in a child process whose peak RSS (``os.wait4``) and wall time
are measured; the run ends with exit 0, 1 or 2, a finding naming the limit or one error line,
never a crash.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from datax_migrate.notebooks.limits import ENVIRONMENT, NotebookLimits

ROOT = Path(__file__).resolve().parents[2]
PEAK_BYTES = 1024**3
SECONDS = 60.0
HEADER = "# Databricks notebook source\n"
SEPARATOR = "\n# COMMAND ----------\n"

pytestmark = pytest.mark.slow  # each test runs the command in a child process and measures it


@dataclass(frozen=True)
class Run:
    """One finished command: exit code, output, peak resident memory and wall time."""

    code: int
    stdout: str
    stderr: str
    peak_bytes: int
    seconds: float


LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as peak:
    peak.write(str(usage.ru_maxrss * 1024))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs the command and writes its peak RSS. Linux counts a child's peak from the memory of the
process it was forked from, so the command is forked from this small launcher, not from pytest."""


def run_cli(*args: str, env: dict[str, str] | None = None) -> Run:
    """Run ``datax-migrate`` in a child process; its own peak RSS (``os.wait4``) and wall time."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with tempfile.TemporaryDirectory() as scratch:
        peak = Path(scratch) / "peak"
        started = time.monotonic()
        finished = subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(peak), sys.executable, "-m", "datax_migrate.cli", *args],
            capture_output=True,
            text=True,
            env=environment,
            timeout=300,
        )
        seconds = time.monotonic() - started
        return Run(finished.returncode, finished.stdout, finished.stderr, int(peak.read_text()), seconds)


def assert_bounded(run: Run) -> None:
    """Exit 0/1/2 without a traceback, under 1 GB peak RSS and 60 s (the figures are printed for -s)."""
    print(f"exit {run.code}, peak RSS {run.peak_bytes / 1024**2:.0f} MiB, {run.seconds:.1f} s")
    assert run.code in (0, 1, 2), run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    if run.code == 2:
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.peak_bytes < PEAK_BYTES, f"peak RSS {run.peak_bytes / 1024**2:.0f} MiB"
    assert run.seconds < SECONDS, f"{run.seconds:.1f} s"


def python_cell(size: int) -> str:
    """Realistic PySpark lines up to ``size`` bytes."""
    line = 'df = spark.table("main.sales.orders").filter("amount > 1")  # keep the big orders\n'
    return line * (size // len(line))


def source_notebook(path: Path, *cells: str) -> Path:
    """Write a SOURCE notebook of ``cells``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as file:
        file.write(HEADER)
        file.write(SEPARATOR.join(cells))
    return path


def translate(tmp_path: Path, source: Path, env: dict[str, str] | None = None) -> tuple[Run, dict]:
    """Translate ``source`` into ``tmp_path/out``; the run and the run summary."""
    out = tmp_path / "out"
    run = run_cli("translate", str(source), "--out", str(out), "--output", "json", env=env)
    assert_bounded(run)
    return run, json.loads((out / "translation-summary.json").read_text())


def report_of(tmp_path: Path, name: str) -> dict:
    return json.loads((tmp_path / "out" / f"{name}.report.json").read_text())


@pytest.mark.parametrize("megabytes", [2, 8])
def test_a_big_python_cell_is_kept_as_is_with_a_finding_naming_the_limit(tmp_path: Path, megabytes: int) -> None:
    cell = python_cell(megabytes * 1024 * 1024)
    source = source_notebook(tmp_path / "src" / "big.py", 'spark.table("main.sales.orders")', cell)
    run, summary = translate(tmp_path, source)
    assert run.code == 1
    assert summary["outcomes"][0]["status"] == "needs-review"
    report = report_of(tmp_path, "big")
    over = [f for f in report["findings"] if f["code"] == "cell-over-limit"]
    assert [f["cell"] for f in over] == [1]
    assert ENVIRONMENT["cell_bytes"] in over[0]["message"] and "262,144-byte cell limit" in over[0]["message"]
    cells = json.loads((tmp_path / "out" / "big.ipynb").read_text())["cells"]
    assert cells[-1]["source"] == cell.strip("\n")  # kept verbatim
    assert "s3tablesbucket.sales.orders" in cells[-2]["source"]  # the small cell is translated
    inventory = tmp_path / "inventory.json"
    assert_bounded(run_cli("inventory", "--export", str(source.parent), "--out", str(inventory)))
    (record,) = json.loads(inventory.read_text())["notebooks"]
    assert [f["code"] for f in record["findings"]] == ["cell-over-limit"]  # the summary keeps review and blocker


def test_a_61_mb_cell_under_the_old_entry_limit_is_refused_by_size(tmp_path: Path) -> None:
    source = source_notebook(tmp_path / "src" / "huge.py", python_cell(61 * 1024 * 1024))
    run, summary = translate(tmp_path, source)
    assert run.code == 1
    assert summary["status"] == {"unreadable": 1} and summary["findings"] == {"notebook-over-limit": 1}
    archive = tmp_path / "src2" / "huge.dbc"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("huge.python", json.dumps({"commands": [{"command": python_cell(61 * 1024 * 1024)}]}))
    run = run_cli("inventory", "--export", str(archive.parent), "--out", str(tmp_path / "inventory.json"))
    assert_bounded(run)
    failures = json.loads((tmp_path / "inventory.json").read_text())["failures"]
    assert [f["subject"] for f in failures] == ["huge.dbc/huge.py"]
    assert ENVIRONMENT["file_bytes"] in failures[0]["reason"]


def understated_entry(archive: Path, name: str, real: bytes, repeat: int, claimed: int) -> None:
    """A one-entry zip whose headers claim ``claimed`` bytes over ``real * repeat`` deflated bytes."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    with archive.open("wb") as file:
        encoded = name.encode()
        header_at = file.tell()
        file.write(b"\0" * (30 + len(encoded)))
        compressed = 0
        for _ in range(repeat):
            chunk = compressor.compress(real)
            compressed += len(chunk)
            file.write(chunk)
        tail = compressor.flush()
        compressed += len(tail)
        file.write(tail)
        crc = zlib.crc32(real[:claimed])
        fields = (20, 0, 8, 0, 0x21, crc, compressed, claimed, len(encoded), 0)
        central_at = file.tell()
        file.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, header_at) + encoded)
        central_size = file.tell() - central_at
        file.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, central_size, central_at, 0))
        file.seek(header_at)
        file.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + encoded)


@pytest.mark.parametrize("repeat", [64, pytest.param(1024, marks=pytest.mark.slow)], ids=["64MiB", "1GiB"])
def test_a_zip_entry_understating_its_size_a_million_fold_is_read_no_further_than_the_header(
    tmp_path: Path, repeat: int
) -> None:
    archive = tmp_path / "src" / "bomb.dbc"
    archive.parent.mkdir()
    real = b'{"commands": [' + b" " * (1024 * 1024 - 14)
    understated_entry(archive, "bomb.python", real, repeat, claimed=repeat * len(real) // 1_000_000)
    assert zipfile.ZipFile(archive).getinfo("bomb.python").file_size * 1_000_000 <= repeat * len(real)
    run, summary = translate(tmp_path, archive.parent)
    assert run.code == 1
    assert summary["status"] == {"unreadable": 1}
    report = json.loads((tmp_path / "out" / "translation-summary.json").read_text())
    assert report["outcomes"][0]["source"] == "bomb.dbc/bomb.py"


def test_an_entry_over_the_limit_is_counted_as_decompressed_not_as_its_header_says(tmp_path: Path) -> None:
    archive = tmp_path / "src" / "liar.dbc"
    archive.parent.mkdir()
    real = b" " * (1024 * 1024)
    understated_entry(archive, "liar.python", real, 4, claimed=4 * len(real))
    small = {ENVIRONMENT["file_bytes"]: str(1024 * 1024)}
    run, summary = translate(tmp_path, archive.parent, env=small)
    assert summary["findings"] == {"notebook-over-limit": 1}
    outcome = json.loads((tmp_path / "out" / "translation-summary.json").read_text())
    assert outcome["outcomes"][0]["status"] == "unreadable"


def test_bzip2_entries_are_not_decompressed(tmp_path: Path) -> None:
    archive = tmp_path / "src" / "bz.dbc"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_BZIP2) as zipped:
        zipped.writestr("a.python", json.dumps({"commands": [{"command": "x = 1"}]}))
    run, summary = translate(tmp_path, archive.parent)
    assert summary["findings"] == {"notebook-unreadable": 1}


HOSTILE_PYTHON = {
    "parentheses": "x = " + "(" * 100_000 + "1" + ")" * 100_000,
    "and-chain": "x = 1" + " and 1" * 40_000,
    "lambdas": "x = " + "lambda: " * 3_000 + "1",
    "subscripts": "x = a" + "[1]" * 3_000,
    "string-run": "x = ('a'" + " 'a'" * 40_000 + ")",
    "unary": "x = " + "-" * 100_000 + "1",
    "calls": "x = f" + "()" * 50_000,
}


def test_deeply_nested_python_and_sql_are_kept_with_a_finding(tmp_path: Path) -> None:
    for name, cell in HOSTILE_PYTHON.items():
        source_notebook(tmp_path / "src" / f"{name}.py", cell, 'spark.table("main.sales.orders")')
    sql = tmp_path / "src" / "nested.sql"
    sql.write_text("-- Databricks notebook source\nSELECT " + "(" * 5_000 + "1" + ")" * 5_000 + "\n")
    run, summary = translate(tmp_path, tmp_path / "src")
    assert run.code == 1
    assert summary["status"] == {"needs-review": len(HOSTILE_PYTHON) + 1}
    for name in HOSTILE_PYTHON:
        first, *rest = report_of(tmp_path, name)["findings"]
        assert first["cell"] == 0
        assert ("nested deeper than 150 levels" in first["message"]) or (
            first["code"] == "python-parse-error" and "parentheses" in first["message"]
        ), first
        assert [(f["cell"], f["code"]) for f in rest] == [(1, "table-mapped")]  # the next cell is translated
    assert "cell-over-limit" in {f["code"] for f in report_of(tmp_path, "nested")["findings"]}


def test_realistic_nesting_under_the_limit_is_still_translated(tmp_path: Path) -> None:
    chain = 'df = spark.table("main.sales.orders")' + "".join(f'.withColumn("c{i}", lit({i}))' for i in range(60))
    source = source_notebook(tmp_path / "src" / "chain.py", chain)
    run, _ = translate(tmp_path, source)
    findings = report_of(tmp_path, "chain")["findings"]
    assert [f["code"] for f in findings] == ["table-mapped"]


def test_the_parse_budget_keeps_later_cells_as_they_are(tmp_path: Path) -> None:
    cells = [f'spark.table("main.sales.t{i}")' for i in range(5)]
    source = source_notebook(tmp_path / "src" / "budget.py", *cells)
    budget = {ENVIRONMENT["parse_bytes"]: str(3 * len(cells[0]))}
    run, _ = translate(tmp_path, source, env=budget)
    findings = report_of(tmp_path, "budget")["findings"]
    assert [f["cell"] for f in findings if f["code"] == "table-mapped"] == [0, 1, 2]
    over = [f for f in findings if f["code"] == "cell-over-limit"]
    assert [f["cell"] for f in over] == [3, 4]
    assert ENVIRONMENT["parse_bytes"] in over[0]["message"]


def test_too_many_cells_is_refused_and_the_run_goes_on(tmp_path: Path) -> None:
    source_notebook(tmp_path / "src" / "many.py", *["x = 1"] * (NotebookLimits().cells + 1))
    source_notebook(tmp_path / "src" / "small.py", "x = 1")
    run, summary = translate(tmp_path, tmp_path / "src")
    assert summary["status"] == {"translated": 1, "unreadable": 1}
    assert summary["findings"] == {"notebook-over-limit": 1}


def test_a_bad_limit_variable_is_one_error_line(tmp_path: Path) -> None:
    source = source_notebook(tmp_path / "src" / "a.py", "x = 1")
    run = run_cli("translate", str(source), "--out", str(tmp_path / "out"), env={ENVIRONMENT["cells"]: "lots"})
    assert run.code == 2
    expected = f"datax-migrate: error: {ENVIRONMENT['cells']}='lots': expected a positive whole number"
    assert run.stderr.strip().splitlines() == [expected]


def test_a_json_bomb_at_the_size_limit_stays_bounded(tmp_path: Path) -> None:
    path = tmp_path / "src" / "bomb.ipynb"
    path.parent.mkdir()
    item = "{},"
    count = (NotebookLimits().file_bytes - 20) // len(item)
    path.write_text('{"cells": [' + item * (count - 1) + "{}]}")
    run, summary = translate(tmp_path, path.parent)
    assert summary["status"] == {"translated": 1}  # a million empty objects are no cells


def test_a_notebook_at_every_default_limit_translates_within_bounds(tmp_path: Path) -> None:
    cell = python_cell(NotebookLimits().cell_bytes - 1024)
    count = NotebookLimits().parse_bytes // len(cell) + 1
    source = source_notebook(tmp_path / "src" / "full.py", *[cell] * count)
    run, _ = translate(tmp_path, source)
    findings = report_of(tmp_path, "full")["findings"]
    assert {f["cell"] for f in findings if f["code"] == "cell-over-limit"} == {count - 1}
    assert sum(f["code"] == "table-mapped" for f in findings) > 5_000


def test_an_archive_with_too_long_a_list_of_entries_is_not_opened(tmp_path: Path) -> None:
    archive = tmp_path / "src" / "many.dbc"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zipped:
        for number in range(100):
            zipped.writestr(f"n/{number}.python", json.dumps({"commands": [{"command": "x = 1"}]}))
    small = {ENVIRONMENT["archive_directory_bytes"]: "1000"}
    run, summary = translate(tmp_path, archive.parent, env=small)
    assert summary["findings"] == {"notebook-over-limit": 1}
    assert summary["outcomes"][0]["source"] == "many.dbc"
    run, summary = translate(tmp_path, archive.parent)  # the default limit holds 100 entries
    assert summary["status"] == {"translated": 100}


def test_a_million_empty_entries_stay_bounded(tmp_path: Path) -> None:
    archive = tmp_path / "src" / "million.dbc"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zipped:
        for number in range(1_000_000):
            zipped.writestr(f"{number}.python", b"")
    run, summary = translate(tmp_path, archive.parent)
    assert summary["findings"] == {"notebook-over-limit": 1}


def test_damaged_ipynb_and_dbc_documents_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "ints.ipynb").write_text('{"cells": [{"cell_type": "code", "source": [1, 2]}]}')
    (source / "meta.ipynb").write_text('{"cells": [{"cell_type": "code", "source": "x = 1"}], "metadata": [1]}')
    (source / "kernel.ipynb").write_text('{"cells": [], "metadata": {"kernelspec": []}}')
    with zipfile.ZipFile(source / "odd.dbc", "w") as zipped:
        commands = [{"command": "x = 1", "position": "first"}, {"command": "y = 2", "position": 1e400}]
        zipped.writestr("odd.python", json.dumps({"language": None, "commands": commands}))
    run, summary = translate(tmp_path, source)
    statuses = {o["source"]: o["status"] for o in summary["outcomes"]}
    assert statuses == {
        "ints.ipynb": "unreadable",
        "kernel.ipynb": "translated",
        "meta.ipynb": "translated",
        "odd.dbc/odd.py": "translated",
    }


def test_pipes_named_like_notebooks_are_not_opened(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pipe.dbc", "pipe.ipynb", "pipe.py"):
        os.mkfifo(source / name)
    source_notebook(source / "real.py", "x = 1")
    run, summary = translate(tmp_path, source)
    assert {o["source"]: o["status"] for o in summary["outcomes"]} == {
        "pipe.dbc": "unreadable",
        "pipe.ipynb": "unreadable",
        "pipe.py": "unreadable",
        "real.py": "translated",
    }
