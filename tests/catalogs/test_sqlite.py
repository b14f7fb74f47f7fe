"""The SQLite catalog without SQLAlchemy: pyiceberg's ``SqlCatalog`` semantics on the same file layout."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import (
    NamespaceAlreadyExistsError,
    NamespaceNotEmptyError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)

from datax_migrate.catalogs import open_catalog
from datax_migrate.catalogs.sqlite import SqliteCatalog, serves
from datax_migrate.config import Config, local_catalog_properties
from datax_migrate.errors import ConfigError

ROWS = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": pa.array(["a", None, "c"])})


def properties(folder: Path, database: str = "catalog.db") -> dict[str, str]:
    return {"type": "sql", "uri": f"sqlite:///{folder / database}", "warehouse": (folder / "wh").as_uri()}


def ours(folder: Path) -> SqliteCatalog:
    catalog = open_catalog("local", properties(folder))
    assert isinstance(catalog, SqliteCatalog)
    return catalog


def theirs(folder: Path) -> SqlCatalog:
    return SqlCatalog("local", **{k: v for k, v in properties(folder).items() if k != "type"})


def test_the_embedded_default_and_sqlite_files_open_without_sqlalchemy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config = Config(catalogs={"local": local_catalog_properties(home)}, home=home)
    assert isinstance(config.catalog(), SqliteCatalog)
    assert serves(properties(tmp_path))
    assert serves({**properties(tmp_path), "uri": "sqlite+pysqlite:////abs/catalog.db"})
    assert not serves({**properties(tmp_path), "uri": "sqlite:///:memory:"})
    assert not serves({**properties(tmp_path), "uri": "postgresql://host/db"})
    assert not serves({**properties(tmp_path), "uri": f"sqlite:///{tmp_path}/c.db?mode=ro"})
    assert not serves({**properties(tmp_path), "uri": "sqlite:///%3Amemory%3A"})
    assert not serves({**properties(tmp_path), "uri": "sqlite:///file:catalog.db"})  # SQLite's URI names
    assert not serves({**properties(tmp_path), "py-catalog-impl": "my.Catalog"})
    assert serves({**properties(tmp_path), "type": "SQL"})  # pyiceberg reads the type in any case
    echo = open_catalog("local", {**properties(tmp_path), "echo": "false"})  # a SQLAlchemy option: pyiceberg's
    assert isinstance(echo, SqlCatalog)


@pytest.mark.parametrize("writer", ["ours", "theirs"])
def test_each_catalog_reads_what_the_other_wrote(tmp_path: Path, writer: str) -> None:
    first, second = (ours, theirs) if writer == "ours" else (theirs, ours)
    catalog = first(tmp_path)
    catalog.create_namespace("sales", {"owner": "finance"})
    catalog.create_namespace(("sales", "eu"))
    table = catalog.create_table("sales.orders", ROWS.schema)
    table.append(ROWS)
    catalog.create_table(("sales", "eu", "refunds"), ROWS.schema)

    other = second(tmp_path)
    assert sorted(other.list_namespaces()) == [("sales",)]
    assert sorted(other.list_namespaces("sales")) == [("sales", "eu")]
    assert other.list_tables("sales") == [("sales", "orders")]
    assert other.load_namespace_properties("sales") == {"owner": "finance"}
    loaded = other.load_table("sales.orders")
    assert loaded.metadata_location == table.metadata_location
    assert loaded.current_snapshot() is not None
    assert loaded.current_snapshot().snapshot_id == table.current_snapshot().snapshot_id  # type: ignore[union-attr]
    loaded.append(ROWS)  # the second catalog commits on top of the first one's metadata
    assert len(first(tmp_path).load_table("sales.orders").metadata.snapshots) == 2


def linear_history(catalog: Catalog, identifier: str) -> list[int]:
    """The table's snapshot ids oldest first, checked to form one chain (no commit lost or forked)."""
    metadata = catalog.load_table(identifier).metadata
    parents = {s.snapshot_id: s.parent_snapshot_id for s in metadata.snapshots}
    chain, current = [], metadata.current_snapshot_id
    while current is not None:
        chain.append(current)
        current = parents[current]
    assert sorted(chain) == sorted(parents)
    return chain[::-1]


def test_a_stale_writer_commits_on_top_of_the_newer_commit(tmp_path: Path) -> None:
    catalog = ours(tmp_path)
    catalog.create_namespace("sales")
    catalog.create_table("sales.orders", ROWS.schema)
    early, late = catalog.load_table("sales.orders"), catalog.load_table("sales.orders")
    late.append(ROWS)
    early.append(ROWS)  # refused as stale, then retried by pyiceberg on the fresh metadata
    assert len(linear_history(catalog, "sales.orders")) == 2
    summary = catalog.load_table("sales.orders").current_snapshot().summary  # type: ignore[union-attr]
    assert summary["total-records"] == "6"


def test_concurrent_writers_never_lose_a_commit(tmp_path: Path) -> None:
    """Writers racing from the same metadata: the conditional swap refuses all but one each round."""
    catalog = ours(tmp_path)
    catalog.create_namespace("sales")
    catalog.create_table("sales.orders", ROWS.schema)
    barrier = threading.Barrier(4)

    def append() -> None:
        stale = ours(tmp_path).load_table("sales.orders")
        barrier.wait()
        stale.append(ROWS)

    threads = [threading.Thread(target=append) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(linear_history(catalog, "sales.orders")) == 4
    final = catalog.load_table("sales.orders")
    assert final.current_snapshot().summary["total-records"] == "12"  # type: ignore[union-attr]
    with sqlite3.connect(tmp_path / "catalog.db") as connection:
        previous = connection.execute("SELECT previous_metadata_location FROM iceberg_tables").fetchone()[0]
    assert previous == final.metadata.metadata_log[-1].metadata_file


def test_names_namespaces_and_refusals(tmp_path: Path) -> None:
    catalog = ours(tmp_path)
    with pytest.raises(NoSuchNamespaceError):
        catalog.create_table("nowhere.t", ROWS.schema)
    catalog.create_namespace(("aXb", "inner"))
    assert not catalog.namespace_exists("a_b")  # "_" is a LIKE wildcard: "aXb.inner" must not match "a_b.%"
    catalog.create_namespace("a_b")
    with pytest.raises(NamespaceAlreadyExistsError):
        catalog.create_namespace("a_b")
    catalog.create_table("a_b.t", ROWS.schema)
    with pytest.raises(TableAlreadyExistsError):
        catalog.create_table("a_b.t", ROWS.schema)
    with pytest.raises(NamespaceNotEmptyError):
        catalog.drop_namespace("a_b")
    catalog.create_namespace("other")
    renamed = catalog.rename_table("a_b.t", "other.u")
    assert renamed.name() == ("other", "u")
    assert catalog.list_tables("a_b") == []
    with pytest.raises(NoSuchTableError):
        catalog.load_table("a_b.t")
    registered = catalog.register_table("a_b.again", renamed.metadata_location)
    assert registered.metadata_location == renamed.metadata_location
    catalog.drop_table("a_b.again")
    with pytest.raises(NoSuchTableError):
        catalog.drop_table("a_b.again")
    catalog.drop_namespace("a_b")
    assert sorted(catalog.list_namespaces()) == [("aXb",), ("other",)]
    summary = catalog.update_namespace_properties("other", removals={"exists"}, updates={"owner": "ops"})
    assert (summary.removed, summary.updated) == (["exists"], ["owner"])
    assert catalog.load_namespace_properties("other") == {"owner": "ops"}


def test_a_file_in_pyiceberg_s_first_layout_keeps_it(tmp_path: Path) -> None:
    """A catalog file without the ``iceberg_type`` column (pyiceberg's v0 layout) is used as it is."""
    with sqlite3.connect(tmp_path / "catalog.db") as connection:
        connection.execute(
            "CREATE TABLE iceberg_tables (catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL,"
            " table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), previous_metadata_location"
            " VARCHAR(1000), PRIMARY KEY (catalog_name, table_namespace, table_name))"
        )
    catalog = ours(tmp_path)
    catalog.create_namespace("sales")
    catalog.create_table("sales.orders", ROWS.schema).append(ROWS)
    assert catalog.list_tables("sales") == [("sales", "orders")]
    with sqlite3.connect(tmp_path / "catalog.db") as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(iceberg_tables)")]
    assert "iceberg_type" not in columns


def test_a_path_with_escaped_characters_is_the_file_sqlalchemy_opens(tmp_path: Path) -> None:
    folder = tmp_path / "with space"
    folder.mkdir()
    escaped = {**properties(folder), "uri": f"sqlite:///{str(folder).replace(' ', '%20')}/catalog.db"}
    catalog = open_catalog("local", escaped)
    catalog.create_namespace("sales")
    assert (folder / "catalog.db").exists()
    assert Catalog.namespace_to_string(theirs(folder).list_namespaces()[0]) == "sales"


def test_a_file_that_is_not_a_database_is_refused_naming_it(tmp_path: Path) -> None:
    (tmp_path / "catalog.db").write_text("not a database, " * 100)
    with pytest.raises(ConfigError, match=r"catalog 'local' cannot be opened: SQLite file .*catalog\.db"):
        open_catalog("local", properties(tmp_path))
    with pytest.raises(ConfigError, match="cannot be opened"):
        open_catalog("local", properties(tmp_path / "no-such-folder"))


def test_a_relative_path_names_the_file_of_the_folder_the_catalog_was_opened_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    monkeypatch.chdir(tmp_path / "one")
    catalog = open_catalog("local", {"type": "sql", "uri": "sqlite:///catalog.db", "warehouse": tmp_path.as_uri()})
    catalog.create_namespace("sales")
    monkeypatch.chdir(tmp_path / "two")
    assert catalog.namespace_exists("sales")
    assert not (tmp_path / "two" / "catalog.db").exists()


def test_namespaces_created_at_once_by_several_writers_leave_one_and_refuse_the_others(tmp_path: Path) -> None:
    ours(tmp_path)  # the catalog tables exist before the race
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def create() -> None:
        catalog = ours(tmp_path)
        barrier.wait()
        try:
            catalog.create_namespace("sales")
            outcomes.append("created")
        except NamespaceAlreadyExistsError:
            outcomes.append("exists")

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["created", "exists", "exists", "exists"]
    assert ours(tmp_path).load_namespace_properties("sales") == {"exists": "true"}


def test_a_table_without_namespace_is_refused_as_pyiceberg_refuses_it(tmp_path: Path) -> None:
    with pytest.raises(NoSuchNamespaceError):
        ours(tmp_path).create_table("orders", ROWS.schema)
