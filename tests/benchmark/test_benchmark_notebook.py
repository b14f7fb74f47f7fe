"""notebooks/benchmark_tables.ipynb runs headless with papermill and shows the charts inline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pytest

from tests.benchmark.conftest import Lake, orders, write_delta

papermill = pytest.importorskip("papermill")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "benchmark_tables.ipynb"


def execute(lake: Lake, pairs: Path, **parameters: object) -> dict:
    executed = lake.root / "out.ipynb"
    try:
        papermill.execute_notebook(
            str(NOTEBOOK),
            str(executed),
            parameters={"pairs": str(pairs), "queries": str(lake.queries), "config": str(lake.config), "runs": 2,
                        "report_dir": str(lake.root / "report"), **parameters},
            kernel_name="python3",
            cwd=str(lake.root),
            progress_bar=False,
        )  # fmt: skip
    finally:
        document = json.loads(executed.read_text()) if executed.exists() else {}
    return document


def outputs(document: dict) -> list[dict]:
    return [output for cell in document["cells"] if cell["cell_type"] == "code" for output in cell["outputs"]]


@pytest.mark.slow
def test_the_notebook_shows_both_charts_inline_and_writes_the_reports(lake: Lake) -> None:
    document = execute(lake, lake.pairs)

    shown = outputs(document)
    svgs = [o["data"]["image/svg+xml"] for o in shown if "image/svg+xml" in o.get("data", {})]
    assert len(svgs) == 2
    assert all("<svg" in "".join(svg) for svg in svgs)
    text = "".join("".join(o.get("text", "")) for o in shown)
    assert "Answers equal: yes" in text
    tables = [o["data"]["text/html"] for o in shown if "text/html" in o.get("data", {})]
    assert any("by_region" in "".join(t) for t in tables)
    assert (lake.root / "report" / "report.html").is_file()


@pytest.mark.slow
def test_a_changed_row_fails_the_notebook_after_the_reports_are_written(lake: Lake) -> None:
    original = orders()
    changed = original.set_column(5, "note", pc.if_else(pc.equal(original["id"], 17), "changed", original["note"]))
    pairs = lake.pairs_with_source("orders", write_delta(lake.root / "delta" / "orders_changed", changed))

    with pytest.raises(papermill.PapermillExecutionError, match="AnswersDiffer"):
        execute(lake, pairs)

    report = json.loads((lake.root / "report" / "report.json").read_text())
    # id 17's note was NULL: count(note) in by_region sees the change, the other queries do not read notes
    verdicts = {q["name"]: q["answers_equal"] for q in report["queries"]}
    assert verdicts == {"by_customer": True, "by_region": False, "regions": True}
    assert report["passed"] is False


def test_help_notebook_lists_every_parameter_with_its_type() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "papermill", "--help-notebook", str(NOTEBOOK)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    listed = dict(re.findall(r"^  (\w+): (.+?) \(default ", result.stdout, re.MULTILINE))
    cell = next(c for c in json.loads(NOTEBOOK.read_text())["cells"] if "parameters" in c["metadata"].get("tags", []))
    assigned = re.findall(r"^(\w+)\s*[:=]", "".join(cell["source"]), re.MULTILINE)
    assert sorted(listed) == sorted(assigned)
    assert listed["tpch_scale"] == "float" and listed["fail_on_difference"] == "bool"
    assert listed["config"] == "Optional[str]"
