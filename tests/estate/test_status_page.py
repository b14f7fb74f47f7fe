"""status.html in a real browser: headless Chromium renders 10,000 tables a page at a time, filters and searches."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from datax_migrate.estate.status import read_status, write_status_page
from tests.reconcile.reports.test_report_html import png_pixels
from tests.support.estate_ledger import build_estate

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip("no Chromium found (install Debian's chromium, as `make setup` does when root)")
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    plan_dir = tmp_path_factory.mktemp("estate")
    build_estate(plan_dir, 10_000)
    return write_status_page(plan_dir)


def chromium(browser: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def rendered_rows(dom: str) -> list[str]:
    body = dom.split('id="tables"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_ten_thousand_tables_render_a_page_at_a_time(browser: str, page: Path) -> None:
    assert page.stat().st_size < 1_500_000  # compact: about 100 bytes a table
    began = time.monotonic()
    run = chromium(browser, "--window-size=1400,1800", "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    seconds = time.monotonic() - began
    rows = rendered_rows(run.stdout)
    assert len(rows) == 100, run.stderr[-2000:]
    assert "1–100 of 10,000" in run.stdout
    assert seconds < 30  # the browser start included: no freeze on 10,000 tables

    status = read_status(page.parent)
    failed = [r for r in status.tables if r.state == "FAILED" and r.wave == 2]
    run = chromium(browser, "--virtual-time-budget=5000", "--dump-dom", f"{page.as_uri()}#state=FAILED&wave=2")
    rows = rendered_rows(run.stdout)
    assert len(rows) == min(100, len(failed)) and all("s-FAILED" in row for row in rows)
    assert f"1–{len(rows)} of {len(failed)}" in run.stdout
    assert f"lake.{failed[0].target}" in rows[0] and (failed[0].reason or "") in rows[0]

    signed = next(r for r in status.tables if r.state == "SIGNED_OFF")
    run = chromium(browser, "--virtual-time-budget=5000", "--dump-dom", f"{page.as_uri()}#q={signed.target}")
    (row,) = rendered_rows(run.stdout)
    assert f'href="{signed.report_path}/report.html"' in row and ">MATCH<" in row and signed.signed_off_by in row


def test_the_page_as_a_person_sees_it(browser: str, page: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "status.png"
    run = chromium(browser, f"--screenshot={screenshot}", "--window-size=1400,1800", f"{page.as_uri()}#state=FAILED")
    assert screenshot.is_file(), run.stdout + run.stderr
    data = screenshot.read_bytes()
    width, height, pixels = png_pixels(data)
    assert (width, height) == (1400, 1800)
    assert len(data) > 100_000 and len(set(pixels)) > 64  # the cards, the matrix, the table: far from blank
