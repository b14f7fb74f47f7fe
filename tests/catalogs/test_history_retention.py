"""A table bucket keeps converted history: its table's snapshot expiry is switched off, and the output says so.

moto (5.2.6) does not implement S3 Tables' maintenance API (PutTableMaintenanceConfiguration answers
404), so the endpoint proxy in front of it answers that one operation as S3 Tables does (204, no body)
and the test reads the HTTP request botocore sent; everything else reaches moto.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import botocore.session
import pyarrow as pa
import pytest
from botocore.validate import validate_parameters
from deltalake import write_deltalake
from pyiceberg.catalog import Catalog, load_catalog

from datax_migrate.catalogs import open_catalog
from datax_migrate.catalogs.retention import KEEP_HISTORY, SNAPSHOTS, keep_history
from datax_migrate.catalogs.s3tables import table_bucket
from datax_migrate.convert import convert_table
from tests.support.catalogs import new_bucket
from tests.support.endpoint_proxy import EndpointProxy, FaultRule

OPERATION = "PutTableMaintenanceConfiguration"


def bucket_with_table(tmp_path: Path, **settings: str) -> Catalog:
    catalog = open_catalog("lake", {**new_bucket(), **settings})
    write_deltalake(str(tmp_path / "orders"), pa.table({"id": pa.array([1, 2], pa.int64())}))
    convert_table(str(tmp_path / "orders"), catalog, "sales.orders")
    return catalog


def sent_bodies(catalog: Catalog) -> list[tuple[str, dict[str, Any]]]:
    """The path and JSON body of every PutTableMaintenanceConfiguration request the catalog's client sends."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(request: Any, **_: Any) -> None:
        sent.append((unquote(request.url.split("/", 3)[3]), json.loads(request.body)))

    table_bucket(catalog).client.meta.events.register(f"before-send.s3tables.{OPERATION}", record)
    return sent


@pytest.mark.aws
def test_snapshot_expiry_is_switched_off_and_said(tmp_path: Path, s3tables_proxy_env: EndpointProxy) -> None:
    catalog = bucket_with_table(tmp_path)
    sent = sent_bodies(catalog)
    s3tables_proxy_env.inject(FaultRule("s3tables", OPERATION, status=204, code="Accepted", message=""))

    note = keep_history(catalog, "sales.orders")

    assert note is not None and note.startswith("S3 Tables snapshot management set: snapshot expiry disabled")
    arn = table_bucket(catalog).arn
    assert sent == [(f"tables/{arn}/sales/orders/maintenance/{SNAPSHOTS}", {"value": {"status": "disabled"}})]
    assert s3tables_proxy_env.counts("s3tables")[OPERATION] == 1
    shape = botocore.session.get_session().get_service_model("s3tables").operation_model(OPERATION).input_shape
    validate_parameters({"tableBucketARN": arn, "namespace": "sales", "name": "orders", **KEEP_HISTORY}, shape)


@pytest.mark.aws
def test_a_refused_setting_leaves_the_data_and_says_what_to_run(
    tmp_path: Path, s3tables_proxy_env: EndpointProxy
) -> None:
    catalog = bucket_with_table(tmp_path)
    s3tables_proxy_env.inject(
        FaultRule("s3tables", OPERATION, status=403, code="AccessDeniedException", message="not allowed")
    )

    note = keep_history(catalog, "sales.orders")

    assert note is not None and "snapshot management of sales.orders NOT set" in note
    assert "AccessDeniedException" in note and "default: snapshots older than 120 hours expire" in note
    arn = table_bucket(catalog).arn
    assert note.endswith(
        f"aws s3tables put-table-maintenance-configuration --table-bucket-arn {arn} --namespace sales "
        f'--name orders --type {SNAPSHOTS} --value \'{{"status":"disabled"}}\''
    )
    assert catalog.load_table("sales.orders").current_snapshot() is not None


@pytest.mark.aws
def test_a_catalog_that_sets_snapshot_management_keeps_it(tmp_path: Path, s3tables_proxy_env: EndpointProxy) -> None:
    catalog = open_catalog("lake", {**new_bucket(), "s3tables.maintenance.max-snapshot-age-hours": "720"})
    catalog.create_namespace("sales")  # the create would send the catalog's own settings: not asked here

    note = keep_history(catalog, "sales.orders")

    assert note is not None and "left as catalog 'lake' sets it" in note
    assert s3tables_proxy_env.counts("s3tables").get(OPERATION, 0) == 0


def test_tables_outside_table_buckets_are_left_alone(catalog: Catalog) -> None:
    assert keep_history(catalog, "sales.orders") is None


def test_glues_s3_tables_federation_names_its_table_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    glue = load_catalog(
        "fed", type="glue", **{"glue.id": "111122223333:s3tablescatalog/lake", "glue.region": "eu-west-1"}
    )
    assert table_bucket(glue).arn == "arn:aws:s3tables:eu-west-1:111122223333:bucket/lake"


@pytest.mark.aws
def test_sync_into_a_table_bucket_keeps_its_history_and_notes_it(
    tmp_path: Path, s3tables_proxy_env: EndpointProxy
) -> None:
    from datax_migrate.sync import sync_table

    catalog = open_catalog("lake", new_bucket())
    source = str(tmp_path / "orders")
    write_deltalake(source, pa.table({"id": pa.array([1, 2], pa.int64())}))
    s3tables_proxy_env.inject(FaultRule("s3tables", OPERATION, times=2, status=204, code="Accepted", message=""))

    created = sync_table(source, catalog, "sales.orders")  # a history of one version: the table is created
    write_deltalake(source, pa.table({"id": pa.array([3], pa.int64())}), mode="append")
    synced = sync_table(source, catalog, "sales.orders")
    in_step = sync_table(source, catalog, "sales.orders")

    kept = "S3 Tables snapshot management set: snapshot expiry disabled on sales.orders"
    assert [any(note.startswith(kept) for note in r.notes) for r in (created, synced, in_step)] == [True, True, False]
    assert s3tables_proxy_env.counts("s3tables")[OPERATION] == 2  # nothing written, nothing to keep
