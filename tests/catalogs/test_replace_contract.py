"""``--replace`` across a schema and partitioning change on every target catalog (SQL; S3 Tables ``api``
and Glue on the moto server; SQL and Glue without staged creates)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from datax_migrate.convert import ConvertOptions, convert_table
from tests.support.catalogs import OpenCatalog
from tests.support.delta_tables import schema_change_table
from tests.support.iceberg import read_by_field_id
from tests.support.tables import assert_same_rows

pytestmark = pytest.mark.aws


def test_replace_across_a_schema_change(tmp_path: Path, open_target: OpenCatalog) -> None:
    builder, before, after = schema_change_table(tmp_path / "t")
    identifier = f"replace_{uuid.uuid4().hex[:8]}.t"  # Glue databases are account-wide
    first = convert_table(str(builder.root), open_target(), identifier, version=0)
    replaced = convert_table(str(builder.root), open_target(), identifier, options=ConvertOptions(replace=True))

    assert replaced.status == "replaced"
    table = open_target().load_table(identifier)
    assert [s.snapshot_id for s in table.snapshots()] == [first.snapshot_id, replaced.snapshot_id]
    assert len(table.schemas()) == 2 and [f.name for f in table.spec().fields] == ["region"]
    assert_same_rows(read_by_field_id(table, replaced.snapshot_id), after)
    assert_same_rows(read_by_field_id(table, first.snapshot_id), before)
