"""``benchmark tpch`` at SF 0.01 end to end: generate, write Delta, convert, 22 queries, reference answers."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from datax_migrate.cli import main

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("generator", ["dbgen", "tpchgen-cli"])
def test_tpch_sf001_answers_equal_on_both_sides_and_to_the_reference(
    tmp_path: Path, generator: str, capsys: pytest.CaptureFixture[str]
) -> None:
    began = time.monotonic()

    code = main(
        ["benchmark", "tpch", "--scale", "0.01", "--workdir", str(tmp_path), "--generator", generator,
         "--runs", "1", "--warmup", "0"]
    )  # fmt: skip

    took = time.monotonic() - began
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Derived from TPC-H; not an audited TPC result" in out
    folder = tmp_path / f"sf0.01-{generator}"
    document = json.loads((folder / "report" / "report.json").read_text())
    assert [q["name"] for q in document["queries"]] == [f"q{n:02d}" for n in range(1, 23)]
    assert all(q["answers_equal"] and q["reference"] == {"source": True, "target": True} for q in document["queries"])
    assert document["reference_equal"] is True and document["passed"] is True
    assert document["label"].startswith("Derived from TPC-H")
    assert {t["name"] for t in document["layouts"]} == {
        "customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"
    }  # fmt: skip
    lineitem = {t["side"]: t for t in document["layouts"] if t["name"] == "lineitem"}
    assert lineitem["source"]["rows"] == lineitem["target"]["rows"] == 60_175
    assert "derived from TPC-H" in (folder / "report" / "report.html").read_text()
    assert (folder / "pairs.yaml").is_file() and (folder / "catalogs.yaml").is_file()
    assert took < 120
