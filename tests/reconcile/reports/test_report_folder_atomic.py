"""An interrupted reconcile leaves no report folder that ``signoff`` accepts (issue: hostile testing).

A new report folder is written under a temporary name and renamed into place; an existing one
loses its ``manifest.json`` first and gets it back last. ``signoff`` refuses a folder without a
manifest, or whose files are missing or differ from it, with exit 2 and one line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from datax_migrate import files
from datax_migrate.cli import main
from datax_migrate.reconcile.reports import MANIFEST, write_reports
from tests.support.reconcile import accounts, converted
from tests.support.sample_reports import match_report

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def complete(tmp_path: Path) -> Path:
    write_reports(match_report(), tmp_path / "complete")
    return tmp_path / "complete"


def signoff(folder: Path, ledger: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["signoff", str(folder), "--by", "ann", "--ledger", str(ledger)])
    return code, capsys.readouterr().err


def test_the_manifest_lists_every_file_with_its_sha256(complete: Path) -> None:
    files = json.loads((complete / MANIFEST).read_text(encoding="utf-8"))["files"]
    assert sorted(files) == sorted(p.name for p in complete.iterdir() if p.name != MANIFEST)
    assert sorted(p.name for p in complete.parent.iterdir()) == ["complete"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda folder: (folder / MANIFEST).unlink(), "no manifest.json: an interrupted reconcile?"),
        (lambda folder: (folder / "report.md").unlink(), "missing report.md"),
        (lambda folder: (folder / "junit.xml").write_text("<half", encoding="utf-8"), "changed since written"),
        (lambda folder: (folder / MANIFEST).write_text('{"files": [', encoding="utf-8"), "not a report manifest"),
    ],
)
def test_signoff_refuses_an_incomplete_folder_with_one_line(
    complete: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Path], object],
    message: str,
) -> None:
    damage(complete)
    ledger = tmp_path / "signoffs.jsonl"
    code, err = signoff(complete, ledger, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert message in err and str(complete) in err
    assert not ledger.exists()


def test_rewriting_a_folder_removes_the_manifest_first(complete: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What a kill between the first and the last file of a rewrite leaves: old and new files, no manifest.
    real, seen = files.write_atomically, []

    def spy(path: Path, text: str) -> None:
        seen.append((path.name, (complete / MANIFEST).exists()))
        real(path, text)

    monkeypatch.setattr(files, "write_atomically", spy)
    write_reports(match_report(), complete)
    assert seen[-1][0] == MANIFEST
    assert not any(present for _, present in seen)
    assert sorted(p.name for p in complete.parent.iterdir()) == ["complete"]


def test_a_rewrite_drops_the_checksum_sql_the_new_report_has_none_of(tmp_path: Path) -> None:
    folder = tmp_path / "r"
    write_reports(replace(match_report(), checksum_sql={"checksum-source.spark.sql": "SELECT 1"}), folder)
    assert (folder / "checksum-source.spark.sql").exists()
    (folder / "notes.txt").write_text("the user's own file")
    write_reports(match_report(), folder)
    assert not (folder / "checksum-source.spark.sql").exists()
    assert (folder / "notes.txt").exists()
    assert "checksum-source.spark.sql" not in json.loads((folder / MANIFEST).read_text())["files"]


def _reconcile_killed(source: Path, report_dir: Path, when: Callable[[], bool], env: dict[str, str]) -> None:
    """Run ``reconcile`` in a child process and SIGKILL it as soon as ``when()`` holds (or at its end)."""
    command = [sys.executable, "-m", "datax_migrate.cli", "reconcile", str(source), "bank.accounts"]
    child = subprocess.Popen(
        [*command, "--report-dir", str(report_dir)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while child.poll() is None and not when() and time.monotonic() < deadline:
        time.sleep(0.0005)
    child.send_signal(signal.SIGKILL)
    child.wait()


@pytest.mark.slow
def test_a_reconcile_killed_while_writing_leaves_nothing_signoff_accepts(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = converted(tmp_path / "accounts", accounts(2000))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATAX_HOME": str(datax_home)}
    parent = tmp_path / "reports"
    parent.mkdir()
    report_dir = parent / "r"
    ledger = tmp_path / "signoffs.jsonl"

    # A new folder: killed as soon as its temporary folder appears, i.e. mid-write.
    _reconcile_killed(source, report_dir, lambda: any(parent.iterdir()), env)
    leftovers = list(parent.iterdir())
    assert leftovers, "the child ended before writing: the kill came too late to test anything"
    for folder in leftovers:
        if folder == report_dir:  # the rename was quicker than the kill: then it is whole
            assert signoff(folder, ledger, capsys)[0] == 0
        else:
            assert folder.name.startswith(".r.") and signoff(folder, ledger, capsys)[0] == 2
        shutil.rmtree(folder)

    # An existing folder: killed as soon as its manifest is gone, i.e. mid-rewrite.
    write_reports(match_report(), report_dir)
    _reconcile_killed(source, report_dir, lambda: not (report_dir / MANIFEST).exists(), env)
    code, err = signoff(report_dir, ledger, capsys)
    if (report_dir / MANIFEST).exists():  # the manifest came back before the kill: the folder is whole
        assert code == 0
    else:
        assert code == 2 and "no manifest.json" in err
