"""Converted history kept in S3 Tables: the table's own snapshot expiry switched off, in the open."""

from __future__ import annotations

import json
from typing import Any

from pyiceberg.catalog import Catalog

from datax_migrate.catalogs import S3TABLES, writes_into_table_bucket
from datax_migrate.catalogs.maintenance import PREFIX, configures_snapshots

SNAPSHOTS = "icebergSnapshotManagement"
KEEP_HISTORY: dict[str, Any] = {"type": SNAPSHOTS, "value": {"status": "disabled"}}
"""The PutTableMaintenanceConfiguration arguments that stop S3 Tables expiring a table's snapshots."""
DEFAULT_EXPIRY = "snapshots older than 120 hours expire, all but the newest 1"
"""S3 Tables' own snapshot management, where nothing else is set."""


def keep_history(catalog: Catalog, identifier: str) -> str | None:
    """Stop S3 Tables expiring the snapshots of ``identifier``, a table that holds converted Delta history.

    S3 Tables expires a table's snapshots by itself (by default those older than 120 hours, all
    but the newest one), which would take the Delta versions converted by ``--history`` and
    ``sync`` with them within days. Its snapshot management takes no Iceberg retention setting:
    neither table properties nor branch or tag retention are honoured, and setting either turns
    snapshot management off for the table altogether ("Considerations for snapshot management",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-tables-considerations.html). It
    expires the oldest snapshots first, and its own compaction adds snapshots at times of its
    choosing, so no ``minSnapshotsToKeep`` is sure to cover the history either. So the table's
    snapshot management is disabled (PutTableMaintenanceConfiguration, type
    ``icebergSnapshotManagement``), in the open: the returned note says so, and ``cutover`` lists
    re-enabling it among the steps left. Compaction and the bucket's unreferenced-file removal go
    on. A catalog whose config sets ``s3tables.maintenance.snapshots*`` keeps what it sets.

    Returns:
        What was set (or why nothing could be), for the run's output; ``None`` when the table is
        not in an S3 table bucket.
    """
    properties = catalog.properties
    if properties.get("type") != S3TABLES and not writes_into_table_bucket(properties):
        return None
    if configures_snapshots(properties):
        return (
            f"S3 Tables snapshot management of {identifier} left as catalog {catalog.name!r} sets it "
            f"({PREFIX}snapshots*): the Delta versions of the snapshots it expires can no longer be read"
        )
    from datax_migrate.catalogs.s3tables import table_bucket  # needs boto3: only for table buckets

    bucket = table_bucket(catalog)
    namespace, _, name = identifier.rpartition(".")
    command = (
        f"aws s3tables put-table-maintenance-configuration --table-bucket-arn {bucket.arn} --namespace {namespace} "
        f"--name {name} --type {SNAPSHOTS} --value '{json.dumps(KEEP_HISTORY['value'], separators=(',', ':'))}'"
    )
    try:
        bucket.client.put_table_maintenance_configuration(
            tableBucketARN=bucket.arn, namespace=namespace, name=name, **KEEP_HISTORY
        )
    except Exception as exc:  # noqa: BLE001 - the data is committed; say what is left to do
        reason = " ".join(str(exc).split())
        return (
            f"S3 Tables snapshot management of {identifier} NOT set ({type(exc).__name__}: {reason}): its converted "
            f"history expires by the bucket's rules (default: {DEFAULT_EXPIRY}); keep it with: {command}"
        )
    return (
        f"S3 Tables snapshot management set: snapshot expiry disabled on {identifier}, so every converted Delta "
        "version stays readable; re-enable it after cutover"
    )
