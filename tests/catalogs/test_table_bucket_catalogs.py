"""Which Glue and REST catalogs keep their tables in an S3 table bucket: name rules and FileIO agree."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ({"type": "glue", "glue.id": "111122223333:s3tablescatalog/lake"}, True),
        (
            {
                "type": "rest",
                "rest.signing-name": "s3tables",
                "uri": "https://s3tables.us-east-1.amazonaws.com/iceberg",
            },
            True,
        ),
        ({"type": "glue", "glue.id": "111122223333"}, False),
        ({"type": "rest", "rest.signing-name": "glue"}, False),
        ({"type": "sql"}, False),
    ],
)
def test_catalogs_whose_tables_live_in_a_table_bucket(properties: dict[str, str], expected: bool) -> None:
    from datax_migrate.catalogs import writes_into_table_bucket
    from datax_migrate.plan.names import S3_TABLES, rules_for_catalog

    assert writes_into_table_bucket(properties) is expected
    assert (rules_for_catalog(properties) is S3_TABLES) is expected
