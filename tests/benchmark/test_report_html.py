"""report.html renders in a real browser: headless Chromium takes a screenshot of a passing and a failing report."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from datax_migrate.benchmark.model import BenchmarkReport, Timing
from datax_migrate.benchmark.reports import write_reports
from tests.benchmark.test_model import sample_report
from tests.reconcile.reports.test_report_html import BROWSERS, png_pixels

pytestmark = pytest.mark.slow


def twenty_two_queries(equal: bool) -> BenchmarkReport:
    report = sample_report(equal=True)
    (outcome,) = report.queries
    queries = tuple(
        replace(
            outcome,
            name=f"q{n:02d}",
            source=Timing.of([0.1 * n, 0.11 * n]),
            target=Timing.of([0.09 * n * (1.3 if n % 5 == 0 else 1), 0.1 * n]),
            ratio=(0.095 * n * (1.3 if n % 5 == 0 else 1)) / (0.105 * n),
            answers_equal=equal or n != 7,
            difference=None if equal or n != 7 else "row 1 differs: source (1,), target (2,)",
        )
        for n in range(1, 23)
    )
    return replace(report, queries=queries)


@pytest.mark.parametrize("equal", [True, False], ids=["pass", "fail"])
def test_report_renders_in_chromium(tmp_path: Path, equal: bool) -> None:
    browser = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if browser is None:
        pytest.skip("no Chromium found (install Debian's chromium, as `make setup` does when root)")
    write_reports(twenty_two_queries(equal), tmp_path)
    screenshot = tmp_path / "report.png"

    run = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--screenshot={screenshot}",
         "--window-size=1280,1600", (tmp_path / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip

    assert screenshot.is_file(), run.stdout + run.stderr
    data = screenshot.read_bytes()
    assert len(data) > 50_000  # a blank page is a few KB
    width, height, pixels = png_pixels(data)
    assert (width, height) == (1280, 1600)
    assert len(set(pixels)) > 64
    html = (tmp_path / "report.html").read_text()
    assert html.count("<svg") == 2 and "<script" not in html
    assert ("PASS" if equal else "FAIL") in html
