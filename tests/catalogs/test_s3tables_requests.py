"""What a conversion into S3 Tables costs in requests, counted on the server side of the proxy.

A 1M-row table partitioned by country and day (the convert benchmark's rows, one append) goes into
S3 Tables on moto and into the local SQL catalog; the S3 Tables run may send one upload per file
it writes (data files, manifests, manifest list, metadata) plus the catalog calls, and nothing else.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from deltalake import write_deltalake

from benchmarks.tables import PARTITION_BY, append_rows
from datax_migrate.catalogs import open_catalog
from datax_migrate.convert import convert_table
from tests.support.catalogs import catalog_properties
from tests.support.endpoint_proxy import EndpointProxy

pytestmark = [pytest.mark.aws, pytest.mark.slow]

ROWS = 1_000_000
CATALOG_CALLS = {
    "GetNamespace",
    "CreateNamespace",
    "CreateTable",
    "GetTableMetadataLocation",
    "UpdateTableMetadataLocation",
    "ListTables",  # stale reservations in the namespace are looked for before creating
}


def test_one_upload_per_written_file(tmp_path: Path, s3tables_proxy_env: EndpointProxy) -> None:
    source = tmp_path / "delta"
    write_deltalake(str(source), append_rows(0, ROWS), partition_by=PARTITION_BY)
    proxy = s3tables_proxy_env
    properties = catalog_properties("s3tables", tmp_path)

    proxy.reset()
    started = time.perf_counter()
    result = convert_table(str(source), open_catalog("aws", properties), "bench.partitioned_1m")
    s3tables_seconds = time.perf_counter() - started
    counts = Counter(proxy.counts())

    started = time.perf_counter()
    local = convert_table(str(source), open_catalog("local", catalog_properties("sql", tmp_path)), "bench.p1m")
    local_seconds = time.perf_counter() - started

    table = open_catalog("fresh", properties).load_table("bench.partitioned_1m")
    snapshot = table.current_snapshot()
    assert snapshot is not None and result.rows == local.rows == ROWS
    manifests = snapshot.manifests(table.io)
    written = result.data_files + len(manifests) + 1 + 1 + 1 + 1  # + manifest list, metadata, marker, lineage
    uploads = counts["PutObject"]
    catalog_calls = sum(n for op, n in counts.items() if op in CATALOG_CALLS)
    other = {op: n for op, n in counts.items() if op not in CATALOG_CALLS | {"PutObject", "HeadObject"}}
    print(
        f"\n1M rows, {result.data_files} data files: S3 Tables {s3tables_seconds:.2f} s, local {local_seconds:.2f} s; "
        f"requests {dict(counts)}"
    )
    assert uploads == written
    assert catalog_calls <= 8
    assert counts["HeadObject"] <= len(manifests)
    assert other == {}, f"unexpected requests: {other}"
