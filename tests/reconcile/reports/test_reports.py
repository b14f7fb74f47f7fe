"""The report files: report.json, report.html, report.md and junit.xml, from hand-built reports."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import xml.etree.ElementTree as ET
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from datax_migrate.reconcile.model import Check, Difference, Report, Status
from datax_migrate.reconcile.reports import (
    MANIFEST,
    RENDERERS,
    render_html,
    render_junit,
    render_markdown,
    write_reports,
)
from datax_migrate.reconcile.reports.text import console_summary, format_value, verdict_sentence
from datax_migrate.words import plural
from tests.support.sample_reports import LONG_VALUE, SCRIPT, match_report, mismatch_report

ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
SAMPLED = (
    "1,234 differences found, 7 listed (--sample 7, a reproducible choice with seed 42); the other 1,227 were not "
    "kept: rerun reconcile with --sample 1234 to list them all."
)


def test_write_reports_writes_every_file_and_no_temporary_one(tmp_path: Path) -> None:
    report_dir = tmp_path / "reports" / "finance.sales"
    paths = write_reports(mismatch_report(), report_dir)
    write_reports(match_report(), report_dir)  # over the old files

    assert [p.name for p in paths] == ["report.json", "report.html", "report.md", "junit.xml", MANIFEST]
    assert sorted(p.name for p in report_dir.iterdir()) == sorted([*RENDERERS, MANIFEST])
    assert sorted(p.name for p in report_dir.parent.iterdir()) == ["finance.sales"]
    assert json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["verdict"] == "match"


def test_report_json_holds_the_schema_fields(tmp_path: Path) -> None:
    write_reports(mismatch_report(), tmp_path)
    document = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))

    assert document["schema_version"] == "1.2"
    assert document["verdict"] == "mismatch"
    assert [c["name"] for c in document["checks"]] == ["schema", "row_count", "aggregates", "checksum", "row_diff"]
    assert document["checks"][1]["status"] == "fail"
    assert document["differences"][0] == {
        "kind": "cell",
        "key": {"id": 1, "name": SCRIPT},
        "column": "note",
        "source": SCRIPT,
        "target": "safe",
    }
    assert document["differences"][1]["source"] is None
    assert math.isnan(document["differences"][2]["source"])
    assert document["differences"][3]["source"] == "00ff"
    assert document["source"]["version"] == 7
    assert document["target"]["snapshot_id"] == 4_811_223_344_556_677_889


def test_report_json_reads_back() -> None:
    report = match_report()
    assert Report.from_json(report.to_json()) == report


def test_report_json_of_another_major_version_is_refused() -> None:
    document = json.loads(match_report().to_json())
    document["schema_version"] = "2.0"
    with pytest.raises(ValueError, match="schema version 2.0"):
        Report.from_json(json.dumps(document))


def test_html_escapes_user_data() -> None:
    html = render_html(mismatch_report())

    assert "<script" not in html.lower()
    assert html.count(ESCAPED_SCRIPT) >= 4  # key, value, check summary, warning
    assert '<span class="null">NULL</span>' in html  # a NULL, styled
    assert '<td class="value">NULL</td>' in html  # the string "NULL", plain
    assert "0x00ff" in html
    assert ">NaN<" in html


def test_html_is_self_contained_and_reads_as_a_verdict() -> None:
    html = render_html(mismatch_report())

    assert "<link" not in html and "src=" not in html and "@import" not in html
    assert html.index("MISMATCH") < html.index("What was compared") < html.index("Checks") < html.index("Differences")
    assert "Delta version 7: 3 of 5 checks failed (row_count, checksum, row_diff)" in html
    assert "4811223344556677889" in html
    assert f"<p>{SAMPLED}</p>" in html
    assert "datax-migrate signoff REPORT_DIR --by NAME" in html
    assert "--accept-differences" in html


def test_html_cuts_long_values_and_keeps_them_whole_in_the_title() -> None:
    html = render_html(mismatch_report())
    assert f'title="{LONG_VALUE}"' in html
    assert "…</span>" in html


def test_html_shows_check_figures_as_tables() -> None:
    html = render_html(match_report())

    assert "holds the same 5,000,000 rows as Delta version 7" in html
    assert "No differences were found." in html and "more not shown" not in html
    for header in ("source nulls", "source min", "target sum"):
        assert f'<th scope="col">{header}</th>' in html
    assert '<span class="badge pass">Pass</span>' in html


def test_markdown_escapes_cells_and_notes_the_truncation() -> None:
    markdown = render_markdown(mismatch_report())
    rows = [line for line in markdown.splitlines() if line.startswith("| id=")]

    assert len(rows) == 7
    assert all(line.replace("\\|", "").count("|") == 6 for line in rows)
    assert "name=a\\|b" in rows[1]
    assert "| *NULL* | NULL |" in rows[1]
    assert "<script>" not in markdown
    assert markdown.startswith("# ❌ MISMATCH: finance.sales\n")
    assert f"\n{SAMPLED}\n" in markdown


def test_junit_has_a_case_per_check_and_failures_for_failed_checks() -> None:
    suite = ET.fromstring(render_junit(mismatch_report())).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")

    assert suite.get("name") == "reconcile finance.sales"
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("5", "3", "0")
    assert [c.get("name") for c in cases] == ["schema", "row_count", "aggregates", "checksum", "row_diff"]
    assert {c.get("classname") for c in cases} == {"finance.sales"}
    assert [c.get("name") for c in cases if c.find("failure") is not None] == ["row_count", "checksum", "row_diff"]
    failure = cases[3].find("failure")
    assert failure is not None and failure.get("message") == f"checksums differ in 3 of 64 buckets {SCRIPT}"
    assert float(suite.get("time", "")) == pytest.approx(19.4)
    assert float(cases[4].get("time", "")) == pytest.approx(12.5)


def test_junit_marks_skipped_checks_and_survives_control_characters() -> None:
    extra = Check("extra", Status.FAIL, "bell \x07 and escape \x1b")
    report = dataclasses.replace(match_report(), checks=[*match_report().checks, extra])
    suite = ET.fromstring(render_junit(report)).find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}

    assert cases["row_diff"].find("skipped") is not None
    failure = cases["extra"].find("failure")
    assert failure is not None and failure.get("message") == "bell \ufffd and escape \ufffd"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "NULL"),
        ("NULL", "NULL"),
        (True, "true"),
        (1.5, "1.5"),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
        (b"\x00\xff", "0x00ff"),
        (dt.date(2024, 2, 29), "2024-02-29"),
        ({"a": [1, None]}, '{"a": [1, null]}'),
    ],
)
def test_format_value(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_verdict_sentence_of_an_exact_match() -> None:
    report = match_report()
    report = dataclasses.replace(report, checks=[dataclasses.replace(c, status=Status.PASS) for c in report.checks])
    assert verdict_sentence(report) == "The Iceberg table holds exactly the same 5,000,000 rows as Delta version 7."


CONVERTED_FROM = (
    "Iceberg snapshot 4811223344556677889 was converted from Delta version 6, but Delta version 7 was compared: "
    "differences may be Delta commits between the two versions, not conversion errors."
)


def test_another_converted_version_is_stated_in_the_verdict_banner() -> None:
    report = mismatch_report()
    banner = render_html(report).split("</header>")[0]
    assert CONVERTED_FROM in banner
    assert CONVERTED_FROM in render_markdown(report).split("## Checks")[0]
    assert CONVERTED_FROM in console_summary(report, "r").splitlines()[0]
    for same in (
        match_report(),
        dataclasses.replace(report, target=dataclasses.replace(report.target, converted_from_version=7)),
    ):
        assert "was converted from" not in render_html(same) + render_markdown(same)


def test_rows_on_one_side_show_their_values_and_no_row_on_the_other() -> None:
    report = mismatch_report()
    markdown = render_markdown(report)
    assert "| id=6, name=gone | — | id=6, name=gone | *no row* | Row only in Delta |" in markdown
    assert '<td class="value">id=6, name=gone</td><td class="value"><span class="absent">no row</span></td>' in (
        render_html(report)
    )
    keyed = dataclasses.replace(
        report, differences=[Difference("target_only", {"id": 9}, None, None, {"note": None, "amount": "1.50"})]
    )
    assert "| id=9 | — | *no row* | id=9, note=NULL, amount=1.50 | Row only in Iceberg |" in render_markdown(keyed)
    assert "    target_only id=9 no row -> id=9, note=NULL, amount=1.50" in console_summary(keyed, "r")


def test_column_statistics_render_alike_and_read_back() -> None:
    report = mismatch_report()
    sentence = (
        "Over the 4,096 rows re-read from 2 of 3 differing buckets and matched by key (the other buckets' checksums "
        "are equal): 3 columns with some values unequal, 1 with all values equal; 1,202 values unequal in all."
    )
    markdown, page, console = render_markdown(report), render_html(report), console_summary(report, "r")
    assert sentence in markdown and sentence in unescape(page) and sentence in console
    assert "| amount | 4,096 | 1,200 | 1 | 0.5 | 0.25 |" in markdown
    assert "| region |" not in markdown  # all equal: counted in the sentence, no row
    assert '<td class="name">amount</td><td class="num">4,096</td><td class="num">1,200</td>' in page
    assert "    amount: 1,200 unequal, 1 NULL on one side, max abs diff 0.5, max rel diff 0.25" in console
    assert "    note: 1 unequal, 0 NULL on one side\n" in console
    assert Report.from_json(report.to_json()).column_summaries == report.column_summaries
    assert "Column statistics" not in render_markdown(match_report()) + render_html(match_report())


def test_plural() -> None:
    assert [plural(n, "bucket") for n in (0, 1, 2, 1234)] == ["0 buckets", "1 bucket", "2 buckets", "1,234 buckets"]
    assert plural(1, "row only in Delta", "rows only in Delta") == "1 row only in Delta"
    assert plural(3, "row only in Delta", "rows only in Delta") == "3 rows only in Delta"
