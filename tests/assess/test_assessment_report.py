"""What the assessment reports say and how they read: names, blockers stated once, units, an empty inventory."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pyiceberg.catalog.sql import SqlCatalog
from rich.console import Console

from datax_migrate.assess import assess
from datax_migrate.assess.assessment import LOCATION, Assessment
from datax_migrate.assess.report import EMPTY, estimate_rows, print_console, render_html, render_markdown
from datax_migrate.cli import main
from datax_migrate.inventory.crawl import crawl
from datax_migrate.inventory.model import Inventory, TableRecord
from datax_migrate.inventory.naming import storage_table_name
from datax_migrate.inventory.sources.storage import StorageSource
from tests.support.delta_tables import build

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
LANDING = "s3://company-landing-bucket-eu-west-1/raw/clickstream"
CSV_TABLES = [f"main.raw_landing_zone.clickstream_events_partitioned_by_day_{i:02d}" for i in range(14)]


@pytest.fixture
def lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    build(root / "sales" / "delta")
    build(root / "finance" / "ledger" / "DATA")
    build(root / "crm" / "customers" / "tables" / "delta")
    build(root / "risk" / "exposures", reader_features=["deletionVectors", "futureFeature"])
    return root


def assessment_of(lake: Path) -> Assessment:
    inventory = crawl([StorageSource(str(lake))])
    extra = [
        TableRecord(name, "unity-catalog", "external", "csv", f"{LANDING}/{i:02d}/")
        for i, name in enumerate(CSV_TABLES)
    ]
    extra += [
        TableRecord(f"main.bronze.dump_{i}", "unity-catalog", "external", "parquet", f"s3://dumps/dump_{i}/")
        for i in range(3)
    ]
    return assess(dataclasses.replace(inventory, tables=inventory.tables + tuple(extra)))


def console_text(assessment: Assessment) -> str:
    console = Console(record=True, width=400, file=io.StringIO())
    print_console(assessment, console)
    return console.export_text()


def test_storage_tables_are_named_after_their_folder_not_a_generic_leaf(lake: Path) -> None:
    names = sorted(t.name for t in crawl([StorageSource(str(lake))]).tables)
    assert names == ["`crm`.`customers`", "`finance`.`ledger`", "`lake`.`sales`", "`risk`.`exposures`"]
    assert storage_table_name("bucket/lake", "bucket/lake/delta") == ("bucket", "lake")
    assert storage_table_name("bucket/lake", "bucket/lake/a/b/orders/data") == ("a/b", "orders")
    assert storage_table_name("bucket/lake", "bucket/lake/orders") == ("lake", "orders")


def test_a_storage_name_is_overridden_in_the_name_map(
    lake: Path, tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = tmp_path / "names.json"
    assert main(["names", "`lake`.`sales`", "--out", str(names)]) == 0
    document = json.loads(names.read_text())
    assert [(e["namespace"], e["table"]) for e in document["entries"]] == [("lake", "sales")]
    document["entries"][0].update(namespace="sales", table="orders_history")
    names.write_text(json.dumps(document))
    source = str(lake / "sales" / "delta")
    assert main(["convert", source, "`lake`.`sales`", "--name-map", str(names)]) == 0
    assert "-> local.sales.orders_history" in capsys.readouterr().out
    warehouse = (datax_home / "warehouse").as_uri()
    catalog = SqlCatalog("local", uri=f"sqlite:///{datax_home / 'catalog.db'}", warehouse=warehouse)
    assert catalog.load_table("sales.orders_history").scan().to_arrow().num_rows == 2


def test_html_identifiers_wrap_only_at_separators(lake: Path) -> None:
    html = render_html(assessment_of(lake))
    assert "overflow-wrap: anywhere" not in html and "word-break: normal" in html
    assert (
        "main.<wbr>raw_<wbr>landing_<wbr>zone.<wbr>clickstream_<wbr>events_<wbr>partitioned_<wbr>by_<wbr>day_<wbr>00"
        in html
    )
    assert all(re.search(r"[./_\-:=]$", before) for before in html.split("<wbr>")[:-1])


def test_blockers_are_stated_once_with_the_count_and_the_list(lake: Path) -> None:
    assessment = assessment_of(lake)
    groups = {(g.code, len(g.subjects)): g for g in assessment.blocker_groups}
    csv = groups[("not-delta-format", 14)]
    assert list(csv.subjects) == CSV_TABLES
    parquet = groups[("not-delta-format", 3)]
    assert f"parquet.`{LOCATION}`" in parquet.message and "s3://dumps" not in parquet.message
    assert list(groups)[0] == ("not-delta-format", 14)  # the most widespread first
    html, markdown, console = render_html(assessment), render_markdown(assessment), console_text(assessment)
    for text in (html, markdown, console):
        assert text.count("the data is csv, not Delta") == 1
        assert text.count("plain Parquet files without a") == 1
    assert "<b>14 tables</b>" in html and "14 tables: main.raw\\_landing\\_zone" in markdown
    assert "not-delta-format (14 tables: main.raw_landing_zone.clickstream_events_partitioned_by_day_00, " in console
    assert "and 4 more)" in console  # the console names ten; the reports name every one
    assert html.count('href="#blocker-0"') == 14 and 'id="blocker-0"' in html
    # blocked tables come first, as one group
    strategies = [strategy for strategy, _ in assessment.strategy_groups]
    assert strategies == ["blocked", "rewrite"]
    assert html.index("18 tables: the converter would refuse it") < html.index("3 tables: datax-migrate convert")
    assert markdown.index("### blocked: 18 tables") < markdown.index("### rewrite: 3 tables")


def test_units_are_the_same_in_the_console_and_the_reports(lake: Path) -> None:
    assessment = assessment_of(lake)
    html, markdown, console = render_html(assessment), render_markdown(assessment), console_text(assessment)
    rows = estimate_rows(assessment)
    assert [what for what, _ in rows][1] == "Delta data"
    for what, amount in rows:
        assert f"{what}: {amount}" in console
        assert f"| {what} | {amount} |" in markdown
        assert f'<td class="num">{amount.replace("<", "&lt;")}</td>' in html
    assert re.search(r"\d kB in 3 files", rows[1][1])  # not "0.00 GB" on one side and "1.5 kB" on the other


def test_an_empty_assessment_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = tmp_path / "inventory.json"
    inventory.write_text(Inventory("2026-01-01T00:00:00+00:00", ("storage s3://nothing/",)).to_json())
    assert main(["assess", str(inventory), "--report-dir", str(tmp_path / "r")]) == 0
    assert EMPTY in capsys.readouterr().out
    html = (tmp_path / "r" / "assessment.html").read_text()
    markdown = (tmp_path / "r" / "assessment.md").read_text()
    assert EMPTY in html and "<table" not in html
    assert EMPTY in markdown and "|" not in markdown


BROKEN_WORDS = """
<script>
document.addEventListener("DOMContentLoaded", () => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let previous = null;  // [character, top, block] of the last visible character; <wbr> splits text nodes
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    let block = node.parentElement;
    while (getComputedStyle(block).display === "inline") { block = block.parentElement; }
    for (let i = 0; i < node.length; i++) {
      const character = node.data[i];
      if (/\\s/.test(character)) { previous = null; continue; }
      range.setStart(node, i); range.setEnd(node, i + 1);
      const box = range.getClientRects()[0];
      if (!box) { continue; }
      if (previous && previous[2] === block && /[A-Za-z0-9]/.test(previous[0]) && /[A-Za-z0-9]/.test(character)
          && box.top > previous[1] + 2) {
        broken.push(previous[3] + "|" + node.data.slice(i, i + 12));
      }
      const word = previous && previous[2] === block ? previous[3] : "";
      previous = [character, box.top, block, word.slice(-11) + character];
    }
  }
  document.body.setAttribute("data-broken", JSON.stringify(broken));
});
</script>
"""


def broken_words(browser: str, page: Path, width: int) -> list[str]:
    """The words Chromium breaks across lines when it lays ``page`` out at ``width`` pixels."""
    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--window-size={width},1600",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'data-broken="([^"]*)"', run.stdout)
    assert found, run.stdout[-2000:] + run.stderr[-2000:]
    return list(json.loads(found.group(1).replace("&quot;", '"')))


@pytest.mark.slow
def test_chromium_breaks_no_word_of_the_report(lake: Path, tmp_path: Path) -> None:
    browser = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if browser is None:
        pytest.skip("no Chromium found (install Debian's chromium, as `make setup` does when root)")
    html = render_html(assessment_of(lake)).replace("</head>", BROKEN_WORDS + "</head>")
    page = tmp_path / "page.html"
    page.write_text(html)
    assert broken_words(browser, page, 1200) == []
    assert broken_words(browser, page, 800) == []
    # the check itself: the same page laid out as before (any character may break) shows broken words
    page.write_text(html.replace("</style>", "td { overflow-wrap: anywhere; word-break: break-all; }</style>"))
    assert len(broken_words(browser, page, 800)) > 10
