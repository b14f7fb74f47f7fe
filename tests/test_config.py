"""Catalog configuration through the CLI: our format, pyiceberg's ``.pyiceberg.yaml`` and its environment."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from datax_migrate.cli import main
from tests.support.delta_builder import DeltaBuilder, field


@pytest.fixture
def pyiceberg_free(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No pyiceberg configuration but what a test writes: a fresh home and working folder, no PYICEBERG_*."""
    for name in list(os.environ):
        if name.upper().startswith("PYICEBERG_"):
            monkeypatch.delenv(name)
    home = tmp_path / "user"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("DATAX_HOME", str(tmp_path / "datax"))
    monkeypatch.chdir(tmp_path)
    return home


def delta_table(root: Path) -> Path:
    builder = DeltaBuilder(root)
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64())})
    builder.commit(builder.protocol(), builder.metadata([field("id", "long")]), builder.data_file(data))
    return builder.root


def sql_catalog(tmp_path: Path, name: str) -> dict[str, str]:
    warehouse = tmp_path / f"{name}-wh"
    warehouse.mkdir()
    return {"type": "sql", "uri": f"sqlite:///{tmp_path / name}.db", "warehouse": warehouse.as_uri()}


def rows_in(name: str, properties: dict[str, str], identifier: str) -> int:
    catalog = SqlCatalog(name, **{k: v for k, v in properties.items() if k != "type"})
    return catalog.load_table(identifier).scan().to_arrow().num_rows


def yaml_section(section: str, name: str, properties: dict[str, str]) -> str:
    return f"{section}:\n  {name}:\n" + "".join(f"    {k}: {v}\n" for k, v in properties.items())


def test_pyiceberg_format_config_file(tmp_path: Path, pyiceberg_free: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = delta_table(tmp_path / "orders")
    lake = sql_catalog(tmp_path, "lake")
    config = tmp_path / ".pyiceberg.yaml"
    config.write_text(yaml_section("catalog", "lake", lake) + "default-catalog: lake\n")
    assert main(["convert", str(source), "shop.orders", "--config", str(config)]) == 0
    assert "-> lake.shop.orders" in capsys.readouterr().out
    assert rows_in("lake", lake, "shop.orders") == 3


def test_pyiceberg_catalog_names_are_case_insensitive(
    tmp_path: Path, pyiceberg_free: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = delta_table(tmp_path / "orders")
    lake = sql_catalog(tmp_path, "lake")
    config = tmp_path / ".pyiceberg.yaml"
    config.write_text(yaml_section("catalog", "Prod", lake) + "default-catalog: Prod\n")
    assert main(["convert", str(source), "shop.orders", "--config", str(config)]) == 0
    assert main(["convert", str(source), "shop.other", "--config", str(config), "--catalog", "PROD"]) == 0
    assert rows_in("prod", lake, "shop.orders") == rows_in("prod", lake, "shop.other") == 3


def test_pyiceberg_catalog_called_default_is_the_default(
    tmp_path: Path, pyiceberg_free: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = delta_table(tmp_path / "orders")
    default = sql_catalog(tmp_path, "default")
    config = tmp_path / "pyiceberg.yaml"
    config.write_text(yaml_section("catalog", "default", default))
    assert main(["convert", str(source), "shop.orders", "--config", str(config)]) == 0
    assert "-> default.shop.orders" in capsys.readouterr().out
    assert rows_in("default", default, "shop.orders") == 3


def test_home_pyiceberg_yaml_without_config(
    tmp_path: Path, pyiceberg_free: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = delta_table(tmp_path / "orders")
    lake = sql_catalog(tmp_path, "lake")
    (pyiceberg_free / ".pyiceberg.yaml").write_text(yaml_section("catalog", "lake", lake))
    assert main(["convert", str(source), "shop.orders", "--catalog", "lake"]) == 0
    assert rows_in("lake", lake, "shop.orders") == 3
    assert main(["convert", str(source), "shop.orders"]) == 0  # no default-catalog: the embedded one
    assert "-> local.shop.orders" in capsys.readouterr().out


def test_pyiceberg_home_and_default_catalog_variable(
    tmp_path: Path, pyiceberg_free: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = delta_table(tmp_path / "orders")
    lake = sql_catalog(tmp_path, "lake")
    folder = tmp_path / "pyiceberg-home"
    folder.mkdir()
    (folder / ".pyiceberg.yaml").write_text(yaml_section("catalog", "lake", lake))
    monkeypatch.setenv("PYICEBERG_HOME", str(folder))
    monkeypatch.setenv("PYICEBERG_DEFAULT_CATALOG", "lake")
    assert main(["convert", str(source), "shop.orders"]) == 0
    assert "-> lake.shop.orders" in capsys.readouterr().out
    assert rows_in("lake", lake, "shop.orders") == 3


def test_catalog_from_environment_variables(
    tmp_path: Path, pyiceberg_free: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = delta_table(tmp_path / "orders")
    env = sql_catalog(tmp_path, "env")
    for key, value in env.items():
        monkeypatch.setenv(f"PYICEBERG_CATALOG__ENVLAKE__{key.upper()}", value)
    assert main(["convert", str(source), "shop.orders", "--catalog", "envlake"]) == 0
    assert "-> envlake.shop.orders" in capsys.readouterr().out
    assert rows_in("envlake", env, "shop.orders") == 3


def test_environment_variables_complete_a_pyiceberg_config_file(
    tmp_path: Path, pyiceberg_free: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = delta_table(tmp_path / "orders")
    lake = sql_catalog(tmp_path, "lake")
    config = tmp_path / "lake.yaml"
    config.write_text(yaml_section("catalog", "lake", {"type": "sql", "warehouse": lake["warehouse"]}))
    monkeypatch.setenv("PYICEBERG_CATALOG__LAKE__URI", lake["uri"])
    assert main(["convert", str(source), "shop.orders", "--config", str(config), "--catalog", "lake"]) == 0
    assert rows_in("lake", lake, "shop.orders") == 3


def test_local_stays_available_beside_pyiceberg_catalogs(
    tmp_path: Path, pyiceberg_free: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = delta_table(tmp_path / "orders")
    config = tmp_path / "lake.yaml"
    config.write_text(yaml_section("catalog", "lake", sql_catalog(tmp_path, "lake")))
    assert main(["convert", str(source), "shop.orders", "--config", str(config), "--catalog", "local"]) == 0
    assert "-> local.shop.orders" in capsys.readouterr().out
    assert (tmp_path / "datax" / "catalog.db").is_file()


@pytest.mark.parametrize(
    "text",
    ["", "# nothing yet\n", "catalgos:\n  lake:\n    type: sql\n", "catalogs: {}\n", "catalog:\ndefault-catalog: x\n"],
    ids=["empty", "comment-only", "misnamed-section", "empty-catalogs", "empty-catalog"],
)
def test_config_without_a_catalog_is_refused(
    tmp_path: Path, pyiceberg_free: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    source = delta_table(tmp_path / "orders")
    config = tmp_path / "config.yaml"
    config.write_text(text)
    assert main(["convert", str(source), "shop.orders", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert f"config file {config} defines no catalog" in err
    assert "'catalogs:'" in err and "'catalog:'" in err
    assert not (tmp_path / "datax" / "catalog.db").exists()


def test_undefined_default_catalog_is_refused(
    tmp_path: Path, pyiceberg_free: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = delta_table(tmp_path / "orders")
    config = tmp_path / "config.yaml"
    config.write_text(yaml_section("catalog", "lake", sql_catalog(tmp_path, "lake")) + "default-catalog: prod\n")
    assert main(["convert", str(source), "shop.orders", "--config", str(config)]) == 2
    assert f"default catalog 'prod' is not defined in {config}" in capsys.readouterr().err
