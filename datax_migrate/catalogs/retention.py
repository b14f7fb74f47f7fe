"""Converted history kept in S3 Tables: the table's own snapshot expiry switched off, in the open."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Protocol, TypeVar

from pyiceberg.catalog import Catalog

from datax_migrate.catalogs import S3TABLES, writes_into_table_bucket
from datax_migrate.catalogs.maintenance import PREFIX, configures_snapshots
from datax_migrate.errors import ConfigError

SNAPSHOTS = "icebergSnapshotManagement"
KEEP_HISTORY: dict[str, Any] = {"type": SNAPSHOTS, "value": {"status": "disabled"}}
"""The PutTableMaintenanceConfiguration arguments that stop S3 Tables expiring a table's snapshots."""
DEFAULT_EXPIRY = "snapshots older than 120 hours expire, all but the newest 1"
"""S3 Tables' own snapshot management, where nothing else is set."""
WROTE = ("converted", "synced")
"""The statuses of a history conversion or a sync that added snapshots."""
DEFAULT_SNAPSHOT_MANAGEMENT: dict[str, Any] = {
    "status": "enabled",
    "settings": {SNAPSHOTS: {"minSnapshotsToKeep": 1, "maxSnapshotAgeHours": 120}},
}
"""S3 Tables' default snapshot management, as the value of PutTableMaintenanceConfiguration."""


def in_table_bucket(catalog: Catalog) -> bool:
    """Whether ``catalog``'s tables live in an S3 table bucket (any mode, or Glue's federation)."""
    return catalog.properties.get("type") == S3TABLES or writes_into_table_bucket(catalog.properties)


def snapshot_management_command(catalog: Catalog, identifier: str, value: dict[str, Any]) -> str:
    """The AWS CLI command that sets the snapshot management of ``identifier`` (in a table bucket) to ``value``."""
    from datax_migrate.catalogs.s3tables import table_bucket_arn  # needs boto3: only for table buckets

    namespace, _, name = identifier.rpartition(".")
    return (
        f"aws s3tables put-table-maintenance-configuration --table-bucket-arn {table_bucket_arn(catalog)} "
        f"--namespace {namespace} --name {name} --type {SNAPSHOTS} --value '{json.dumps(value, separators=(',', ':'))}'"
    )


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
    if not in_table_bucket(catalog):
        return None
    if configures_snapshots(catalog.properties):
        return (
            f"S3 Tables snapshot management of {identifier} left as catalog {catalog.name!r} sets it "
            f"({PREFIX}snapshots*): the Delta versions of the snapshots it expires can no longer be read"
        )
    from datax_migrate.catalogs.s3tables import table_bucket  # needs boto3: only for table buckets

    namespace, _, name = identifier.rpartition(".")
    try:
        bucket = table_bucket(catalog)
        bucket.client.put_table_maintenance_configuration(
            tableBucketARN=bucket.arn, namespace=namespace, name=name, **KEEP_HISTORY
        )
    except Exception as exc:  # noqa: BLE001 - the data is committed; say what is left to do
        reason = " ".join(str(exc).split())
        try:
            remedy = "keep it with: " + snapshot_management_command(catalog, identifier, KEEP_HISTORY["value"])
        except ConfigError:
            remedy = f"disable the table's {SNAPSHOTS} (PutTableMaintenanceConfiguration) to keep it"
        return (
            f"S3 Tables snapshot management of {identifier} NOT set ({type(exc).__name__}: {reason}): its converted "
            f"history expires by the bucket's rules (default: {DEFAULT_EXPIRY}); {remedy}"
        )
    return (
        f"S3 Tables snapshot management set: snapshot expiry disabled on {identifier}, so every converted Delta "
        "version stays readable; re-enable it after cutover"
    )


class _Noted(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def notes(self) -> tuple[str, ...]: ...


Noted = TypeVar("Noted", bound=_Noted)


def with_history_kept(result: Noted, catalog: Catalog, identifier: str) -> Noted:
    """``result`` (of a history conversion or a sync, a frozen dataclass) with :func:`keep_history`'s note.

    Only a run that added snapshots (status ``converted`` or ``synced``) sets anything; other
    results come back as they are.
    """
    if result.status not in WROTE:
        return result
    note = keep_history(catalog, identifier)
    return dataclasses.replace(result, notes=(*result.notes, note)) if note else result  # type: ignore[type-var]
