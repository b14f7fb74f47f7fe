"""report.html renders in a real browser: headless Chromium takes a screenshot of a match and a mismatch report."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from datax_migrate.reconcile.model import Report
from datax_migrate.reconcile.reports import write_reports
from tests.support.sample_reports import match_report, mismatch_report

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (still filtered) scanlines of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, width, height = 8, b"", 0, 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.parametrize("report", [mismatch_report(), match_report()], ids=["mismatch", "match"])
def test_report_renders_in_chromium(tmp_path: Path, report: Report) -> None:
    browser = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if browser is None:
        pytest.skip("no Chromium found (install Debian's chromium, as `make setup` does when root)")
    write_reports(report, tmp_path)
    screenshot = tmp_path / "report.png"

    run = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={screenshot}",
            "--window-size=1280,1600",
            (tmp_path / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert screenshot.is_file(), run.stdout + run.stderr
    data = screenshot.read_bytes()
    assert len(data) > 50_000  # a blank page is a few KB
    width, height, pixels = png_pixels(data)
    assert (width, height) == (1280, 1600)
    assert len(set(pixels)) > 64  # text, the banner, badges: far from one colour
