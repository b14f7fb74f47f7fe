"""S3 Tables maintenance settings become requests that botocore's service model accepts."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import validate_parameters

from datax_migrate.catalogs.maintenance import maintenance_requests
from datax_migrate.errors import ConfigError

ARN = "arn:aws:s3tables:us-east-1:111122223333:bucket/lake"


def test_settings_become_valid_put_table_maintenance_configuration_calls() -> None:
    requests = maintenance_requests(
        {
            "warehouse": ARN,
            "s3tables.maintenance.target-file-size-mb": "256",
            "s3tables.maintenance.compaction-strategy": "binpack",
            "s3tables.maintenance.snapshots": "enabled",
            "s3tables.maintenance.min-snapshots-to-keep": "5",
            "s3tables.maintenance.max-snapshot-age-hours": "168",
        }
    )
    assert requests == [
        {
            "type": "icebergCompaction",
            "value": {
                "status": "enabled",
                "settings": {"icebergCompaction": {"targetFileSizeMB": 256, "strategy": "binpack"}},
            },
        },
        {
            "type": "icebergSnapshotManagement",
            "value": {
                "status": "enabled",
                "settings": {"icebergSnapshotManagement": {"minSnapshotsToKeep": 5, "maxSnapshotAgeHours": 168}},
            },
        },
    ]
    shape = (
        botocore.session.get_session()
        .get_service_model("s3tables")
        .operation_model("PutTableMaintenanceConfiguration")
        .input_shape
    )
    for request in requests:
        validate_parameters({"tableBucketARN": ARN, "namespace": "sales", "name": "orders", **request}, shape)


def test_no_settings_no_calls_and_a_switch_alone_disables() -> None:
    assert maintenance_requests({"warehouse": ARN}) == []
    assert maintenance_requests({"s3tables.maintenance.compaction": "disabled"}) == [
        {"type": "icebergCompaction", "value": {"status": "disabled"}}
    ]


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({"s3tables.maintenance.compactoin": "enabled"}, "unknown maintenance setting"),
        ({"s3tables.maintenance.snapshots": "on"}, "enabled or disabled"),
        ({"s3tables.maintenance.min-snapshots-to-keep": "five"}, "whole number"),
    ],
)
def test_bad_settings_are_refused_by_name(properties: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        maintenance_requests(properties)
