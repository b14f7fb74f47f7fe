"""The command-line contract: arguments, catalogs from a config file, exit codes and messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import load_catalog

from datax_migrate.cli import main
from datax_migrate.iceberg.read import read_snapshot
from tests.support.delta_builder import DeltaBuilder, field


def three_versions(root: Path) -> DeltaBuilder:
    builder = DeltaBuilder(root)
    data = [pa.table({"id": pa.array([v], pa.int64())}) for v in range(3)]
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(data[0]))
    builder.commit(builder.data_file(data[1]))
    builder.commit(builder.data_file(data[2]))
    for version, hour in enumerate((1, 2, 3)):
        stamp = 1_717_200_000 + hour * 3600  # 2024-06-01, hours 1..3 UTC
        os.utime(builder.log / f"{version:020d}.json", (stamp, stamp))
    return builder


def test_timestamp_selects_the_version_and_json_output(
    tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = three_versions(tmp_path / "t")
    code = main(["convert", str(builder.root), "ns.t", "--timestamp", "2024-06-01T02:30:00Z", "--output", "json"])
    assert code == 0
    captured = capsys.readouterr()
    assert "ns.t: 2/2 Delta files (100 %), 2 rows" in captured.err  # progress, not a terminal
    result = json.loads(captured.out)
    assert result["source"]["delta_version"] == 1
    assert result["status"] == "converted" and result["rows"] == 2
    assert result["commit_time"].startswith("2024-06-01T02:00:00")


def test_bad_timestamp_is_one_line(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = three_versions(tmp_path / "t")
    assert main(["convert", str(builder.root), "ns.t", "--timestamp", "yesterday"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == "datax-migrate: error: --timestamp 'yesterday' is not an ISO-8601 date or time"
    )


def test_catalog_from_config_file(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = three_versions(tmp_path / "t")
    warehouse = tmp_path / "lake-wh"
    warehouse.mkdir()
    properties = {"type": "sql", "uri": f"sqlite:///{tmp_path / 'lake.db'}", "warehouse": warehouse.as_uri()}
    config = tmp_path / "config.yaml"
    config.write_text("catalogs:\n  lake:\n" + "".join(f"    {k}: {v}\n" for k, v in properties.items()))
    assert main(["convert", str(builder.root), "ns.t", "--config", str(config), "--catalog", "lake"]) == 0
    assert "-> lake.ns.t" in capsys.readouterr().out
    assert read_snapshot(load_catalog("lake", **properties).load_table("ns.t")).num_rows == 3

    assert main(["convert", str(builder.root), "ns.t", "--config", str(config), "--catalog", "nope"]) == 2
    assert "catalog 'nope' is not defined (known: lake, local)" in capsys.readouterr().err


def test_debug_shows_the_traceback(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--debug", "convert", str(tmp_path), "ns.t"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().endswith("no _delta_log folder")


def test_target_needs_a_namespace(tmp_path: Path, datax_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    builder = three_versions(tmp_path / "t")
    assert main(["convert", str(builder.root), "justatable"]) == 2
    assert "must be NAMESPACE.TABLE" in capsys.readouterr().err
