"""Paths in a config file are absolute or relative to the file, never to the working folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import load_catalog

from datax_migrate.cli import main
from datax_migrate.config import Config, relative_to_file
from datax_migrate.errors import ConfigError
from datax_migrate.iceberg.read import read_snapshot
from tests.support.delta_builder import DeltaBuilder, field

PROJECT_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "local.yaml"


def test_the_project_config_works_from_another_working_folder(
    tmp_path: Path, datax_home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    (project / "configs").mkdir(parents=True)
    config = project / "configs" / "local.yaml"
    shutil.copy(PROJECT_CONFIG, config)
    builder = DeltaBuilder(tmp_path / "lake" / "orders")
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(data))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    relative = "../project/configs/local.yaml"  # --config itself is a path from the working folder, as usual
    assert main(["convert", str(builder.root), "sales.orders", "--config", relative, "--catalog", "lake"]) == 0
    assert "-> lake.sales.orders" in capsys.readouterr().out

    lake = project / ".datax" / "lake"
    properties = {"type": "sql", "uri": f"sqlite:///{lake / 'catalog.db'}", "warehouse": (lake / "warehouse").as_uri()}
    assert Config.load(config).properties("lake") == properties
    table = load_catalog("lake", **properties).load_table("sales.orders")
    assert table.location().startswith((lake / "warehouse").as_uri())
    assert read_snapshot(table).num_rows == 3
    assert list(elsewhere.iterdir()) == []  # nothing was written relative to the working folder

    reports = tmp_path / "reports"
    arguments = ["reconcile", str(builder.root), "sales.orders", "--config", str(config), "--catalog", "lake"]
    assert main([*arguments, "--report-dir", str(reports)]) == 0


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        ({"uri": "sqlite:///catalog.db"}, {"uri": "sqlite:////cfg/catalog.db"}),
        ({"uri": "sqlite+pysqlite:///../x/c.db?mode=rwc"}, {"uri": "sqlite+pysqlite:////x/c.db?mode=rwc"}),
        ({"uri": "sqlite:////abs/c.db"}, {"uri": "sqlite:////abs/c.db"}),
        ({"uri": "sqlite:///:memory:"}, {"uri": "sqlite:///:memory:"}),
        ({"uri": "postgresql+psycopg2://u@h/db"}, {"uri": "postgresql+psycopg2://u@h/db"}),
        ({"warehouse": "wh"}, {"warehouse": "file:///cfg/wh"}),
        ({"warehouse": "./a/../wh"}, {"warehouse": "file:///cfg/wh"}),
        ({"warehouse": "file:///abs/wh"}, {"warehouse": "file:///abs/wh"}),
        ({"warehouse": "s3://bucket/wh"}, {"warehouse": "s3://bucket/wh"}),
    ],
)
def test_sql_catalog_paths_are_relative_to_the_config_folder(given: dict[str, str], resolved: dict[str, str]) -> None:
    assert relative_to_file({"type": "sql", **given}, Path("/cfg"), "c.yaml") == {"type": "sql", **resolved}


def test_other_catalog_types_and_hosts_in_file_uris() -> None:
    rest = {"type": "rest", "uri": "https://glue.us-east-1.amazonaws.com/iceberg", "warehouse": "123:s3tablescatalog/b"}
    assert relative_to_file(rest, Path("/cfg"), "c.yaml") == rest
    assert relative_to_file({"type": "rest", "warehouse": "named"}, Path("/cfg"), "c.yaml")["warehouse"] == "named"
    with pytest.raises(ConfigError, match=r"warehouse 'file://wh' in c.yaml names a host: write file:///absolute"):
        relative_to_file({"type": "sql", "warehouse": "file://wh"}, Path("/cfg"), "c.yaml")
