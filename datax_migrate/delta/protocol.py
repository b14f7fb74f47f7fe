"""Which Delta protocol versions and table features this reader understands."""

from __future__ import annotations

from datax_migrate.delta.actions import Protocol
from datax_migrate.errors import UnsupportedFeatureError

#: Reader features whose semantics the reader implements (PROTOCOL.md, "Table Features").
SUPPORTED_READER_FEATURES = frozenset(
    {
        "columnMapping",
        "deletionVectors",
        "timestampNtz",
        "v2Checkpoint",
        "typeWidening",
        "typeWidening-preview",
        "vacuumProtocolCheck",
        # Variant columns are read, then refused (or mapped on request) by the Iceberg type map,
        # which names the column. Shredded ones are reassembled first (datax_migrate.delta.shredding).
        "variantType",
        "variantType-preview",
        "variantShredding",
        "variantShredding-preview",
    }
)

MAX_READER_VERSION = 3

#: Table features that only writers must understand (PROTOCOL.md, "Valid Feature Names in Table
#: Features"); every other feature of a reader-version-3 table may be a reader feature.
WRITER_ONLY_FEATURES = frozenset(
    {
        "appendOnly",
        "invariants",
        "checkConstraints",
        "generatedColumns",
        "changeDataFeed",
        "identityColumns",
        "rowTracking",
        "domainMetadata",
        "icebergCompatV1",
        "icebergCompatV2",
        "clustering",
        "inCommitTimestamp",
        "allowColumnDefaults",
    }
)


def check_readable(protocol: Protocol) -> None:
    """Refuse, by name, a protocol this reader cannot honour.

    Raises:
        UnsupportedFeatureError: the reader version is too new or a reader feature is unknown.

    """
    if protocol.min_reader_version > MAX_READER_VERSION:
        raise UnsupportedFeatureError(
            f"Delta reader version {protocol.min_reader_version} is not supported (up to {MAX_READER_VERSION})"
        )
    if protocol.min_reader_version == 3:
        unknown = sorted(protocol.reader_features - SUPPORTED_READER_FEATURES)
        if unknown:
            raise UnsupportedFeatureError(
                f"unsupported Delta reader feature(s): {', '.join(unknown)}; "
                "the table cannot be read faithfully, nothing was converted"
            )
