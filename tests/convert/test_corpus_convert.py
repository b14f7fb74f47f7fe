"""Every table of the Delta corpus converts, and the Iceberg table equals the expected contents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyiceberg.catalog import Catalog

from datax_migrate.cli import main
from datax_migrate.config import Config
from datax_migrate.convert import convert_table
from datax_migrate.iceberg.read import read_snapshot
from datax_migrate.iceberg.target import SOURCE_LOCATION, SOURCE_VERSION
from datax_migrate.reconcile import reconcile_table
from tests.support.corpus import CASES, DAT, ROOT, expected_table
from tests.support.tables import assert_same_rows

pytestmark = pytest.mark.corpus

DAT_VERSIONS = (
    [
        (name, int(v.name[1:]))
        for name in DAT
        for v in sorted((ROOT / "dat" / name / "expected").iterdir())
        if v.name.startswith("v")
    ]
    if ROOT
    else []
)


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}/{n}" for k, n in CASES])
def test_case_converts_to_expected_contents(kind: str, name: str, corpus: Path, catalog: Catalog) -> None:
    source = corpus / kind / name / "delta"
    identifier = f"corpus.{name.replace('-', '_')}"
    result = convert_table(str(source), catalog, identifier)
    assert result.status == "converted"

    table = catalog.load_table(identifier)
    expected = expected_table(kind, name)
    assert_same_rows(read_snapshot(table), expected)

    summary = table.current_snapshot().summary
    assert summary[SOURCE_LOCATION] == source.resolve().as_uri()
    assert summary[SOURCE_VERSION] == str(result.source.delta_version)
    assert table.properties[SOURCE_VERSION] == str(result.source.delta_version)


@pytest.mark.parametrize(("name", "version"), DAT_VERSIONS, ids=[f"{n}@v{v}" for n, v in DAT_VERSIONS])
def test_dat_case_at_each_version_via_cli(
    name: str, version: int, corpus: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = corpus / "dat" / name / "delta"
    target = f"dat.{name}_v{version}"
    assert main(["convert", str(source), target, "--version", str(version), "--output", "json"]) == 0
    reported = json.loads(capsys.readouterr().out)
    assert reported["source"]["delta_version"] == version

    table = Config.load().catalog().load_table(target)
    assert_same_rows(read_snapshot(table), expected_table("dat", name, f"v{version}"))


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[f"{k}/{n}" for k, n in CASES])
def test_case_reconciles_as_a_match_after_conversion(kind: str, name: str, corpus: Path, catalog: Catalog) -> None:
    source = corpus / kind / name / "delta"
    identifier = f"corpus.{name.replace('-', '_')}"
    assert convert_table(str(source), catalog, identifier).status == "converted"
    report = reconcile_table(str(source), catalog, identifier)
    assert report.verdict == "match", [(c.name, c.status.value, c.summary) for c in report.checks]
    # The corpus was copied here, so its commits may be timed by commitInfo (and say so); nothing else.
    assert [w for w in report.warnings if not w.startswith("Delta commit time: commitInfo.timestamp used")] == []
