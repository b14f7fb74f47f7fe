"""Every target catalog takes a converted table's sort order, on create and across a replace, with sorted files."""

from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pyiceberg.table import Table

from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.iceberg.read import read_snapshot
from tests.support.catalogs import OpenCatalog
from tests.support.delta_tables import schema_change_table
from tests.support.tables import assert_same_rows

pytestmark = pytest.mark.aws


def sorted_by(table: Table) -> list[str]:
    """The sort columns, after checking every data file of the current snapshot is in their order."""
    order = table.sort_order()
    columns = [table.schema().find_column_name(f.source_id) for f in order.fields]
    for task in table.scan().plan_files():
        with table.io.new_input(task.file.file_path).open() as stream:
            rows = pq.read_table(stream).select(columns).to_pylist()
        keys = [tuple((row[c] is not None, row[c]) for c in columns) for row in rows]
        assert keys == sorted(keys) and task.file.sort_order_id == order.order_id
    return [c or "" for c in columns]


def test_sort_order_on_create_and_across_a_replace(tmp_path: Path, open_target: OpenCatalog) -> None:
    builder, before, after = schema_change_table(tmp_path / "t")
    identifier = f"sorted_{uuid.uuid4().hex[:8]}.t"  # Glue databases are account-wide
    convert_table(str(builder.root), open_target(), identifier, version=0, options=ConvertOptions(sort_by=("name",)))
    table = open_target().load_table(identifier)
    assert sorted_by(table) == ["name"]
    assert_same_rows(read_snapshot(table), before)

    replace = ConvertOptions(replace=True, sort_by=("amount", "id"))
    assert convert_table(str(builder.root), open_target(), identifier, options=replace).status == "replaced"
    table = open_target().load_table(identifier)
    assert sorted_by(table) == ["amount", "id"]
    assert_same_rows(read_snapshot(table), after)
