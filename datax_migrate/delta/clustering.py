"""The clustering columns of a Delta table with liquid clustering (PROTOCOL.md, "Clustered Table").

A table is clustered when its protocol's writer features hold ``clustering``; the columns are the
``clusteringColumns`` of the ``delta.clustering`` metadata domain, by physical name under column
mapping. The protocol's example writes each column as a string; Delta Spark writes each as a list
of name parts (a path into nested structs). Both are read.

Z-order columns are not here: ``OPTIMIZE ... ZORDER BY`` records them only in the ``commitInfo`` of
that commit, which is not part of the table state (checkpoints and log clean-up drop it).
"""

from __future__ import annotations

import json
from typing import Any

from datax_migrate.delta.schema import StructType
from datax_migrate.delta.table import DeltaSnapshot
from datax_migrate.errors import CorruptLogError

CLUSTERING_FEATURE = "clustering"
CLUSTERING_DOMAIN = "delta.clustering"


def clustering_columns(snapshot: DeltaSnapshot) -> tuple[str, ...]:
    """The logical names of ``snapshot``'s clustering columns in order (nested ones dotted); ``()`` if none.

    Raises:
        CorruptLogError: the clustering domain is malformed or names a column the schema lacks.

    """
    if CLUSTERING_FEATURE not in snapshot.protocol.writer_features:
        return ()
    configuration = snapshot.domains.get(CLUSTERING_DOMAIN)
    if not configuration:
        return ()
    try:
        columns = json.loads(configuration)["clusteringColumns"]
        if not isinstance(columns, list):
            raise TypeError("clusteringColumns is not a list")
        return tuple(_logical_name(snapshot.metadata.schema, _parts(column)) for column in columns)
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptLogError(f"malformed {CLUSTERING_DOMAIN} domain metadata {configuration[:200]!r}: {exc}") from exc


def _parts(column: Any) -> list[str]:
    if isinstance(column, str):
        return [column]
    if isinstance(column, list) and column and all(isinstance(part, str) for part in column):
        return column
    raise TypeError(f"clustering column {column!r} is neither a name nor a list of name parts")


def _logical_name(schema: StructType, physical: list[str]) -> str:
    """The dotted logical name of the column at the ``physical`` path of physical names."""
    names = []
    struct: object = schema
    for part in physical:
        if not isinstance(struct, StructType):
            raise KeyError(f"clustering column {'.'.join(physical)!r} is not in the table schema")
        found = next((f for f in struct.fields if f.physical_name == part), None)
        if found is None:
            raise KeyError(f"clustering column {'.'.join(physical)!r} is not in the table schema")
        names.append(found.name)
        struct = found.type
    return ".".join(names)
