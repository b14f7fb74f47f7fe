"""Large files upload into S3 Tables: no request carries ``Expect: 100-continue``, which S3 Tables refuses.

The proxy in front of moto answers any request with that header as S3 Tables does (400
``S3TablesUnsupportedHeader``, apache/iceberg-python#3363). pyarrow's S3 filesystem sends it on every
upload, so it is refused there; the FileIO of the S3 Tables catalog writes a ~300 MB stream as a
multipart upload the proxy accepts, holding a bounded amount in memory, and a conversion of a Delta
table with a ~100 MB data file lands whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.fs as pafs
import pytest
from deltalake import write_deltalake

from datax_migrate.catalogs import open_catalog
from datax_migrate.catalogs.fileio import PART_BYTES, PARTS_IN_FLIGHT
from datax_migrate.convert import ConversionSource, convert_table
from tests.support.catalogs import new_bucket
from tests.support.endpoint_proxy import EndpointProxy

pytestmark = [pytest.mark.aws, pytest.mark.slow]

MB = 2**20
STREAM_BYTES = 300 * MB
CHUNK = MB


def _table_location(namespace: str = "big", name: str = "blobs") -> tuple[dict[str, str], str]:
    """A fresh table bucket with one table entry; its properties and the table's warehouse location."""
    client = boto3.client("s3tables")
    arn = new_bucket()["warehouse"]
    client.create_namespace(tableBucketARN=arn, namespace=[namespace])
    client.create_table(tableBucketARN=arn, namespace=namespace, name=name, format="ICEBERG")
    located = client.get_table_metadata_location(tableBucketARN=arn, namespace=namespace, name=name)
    return {"type": "s3tables", "mode": "api", "warehouse": arn}, located["warehouseLocation"].rstrip("/")


def test_the_proxy_refuses_pyarrow_uploads_as_s3_tables_does(s3tables_proxy_env: EndpointProxy) -> None:
    _, location = _table_location()
    bucket_and_key = location.removeprefix("s3://") + "/data/pyarrow.bin"
    filesystem = pafs.S3FileSystem(
        endpoint_override=s3tables_proxy_env.endpoint, region="us-east-1", allow_delayed_open=True
    )
    s3tables_proxy_env.reset()
    with pytest.raises(OSError, match="S3TablesUnsupportedHeader"):
        with filesystem.open_output_stream(bucket_and_key) as stream:
            stream.write(b"x" * 1000)
    assert [(r.operation, r.expect, r.status) for r in s3tables_proxy_env.records] == [
        ("PutObject", "100-continue", 400)
    ]


def test_a_300_mb_stream_uploads_in_parts_without_expect_and_bounded_memory(
    s3tables_proxy_env: EndpointProxy, tmp_path: Path
) -> None:
    properties, location = _table_location()
    path = f"{location}/data/large.bin"
    # The write runs in its own process, so that its peak memory is the upload's, not the test session's.
    script = textwrap.dedent(
        f"""
        import hashlib, json, os, resource, sys
        from datax_migrate.catalogs import open_catalog
        io = open_catalog("aws", {properties!r})._load_file_io(location={path!r})
        digest = hashlib.sha256()
        output = io.new_output({path!r})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        with output.create() as stream:
            for _ in range({STREAM_BYTES // CHUNK}):
                chunk = os.urandom({CHUNK})
                digest.update(chunk)
                stream.write(chunk)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(json.dumps({{"sha256": digest.hexdigest(), "growth": peak - before}}))
        """
    )
    s3tables_proxy_env.reset()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy(), check=False
    )
    assert done.returncode == 0, done.stderr
    written = json.loads(done.stdout)
    records = s3tables_proxy_env.records
    parts = -(-STREAM_BYTES // PART_BYTES)
    assert Counter(r.operation for r in records) == Counter(
        CreateMultipartUpload=1, UploadPart=parts, CompleteMultipartUpload=1
    )
    assert all(r.expect is None and r.status == 200 for r in records), [r for r in records if r.status != 200]
    print(f"\n300 MB stream: {len(records)} requests, peak RSS growth {written['growth'] / MB:.0f} MB")
    bound = (PARTS_IN_FLIGHT + 3) * PART_BYTES  # the parts in flight, the one filling, a copy being cut
    assert written["growth"] < bound, f"peak RSS grew by {written['growth'] / MB:.0f} MB for a 300 MB stream"

    s3 = boto3.client("s3")
    bucket, key = path.removeprefix("s3://").split("/", 1)
    digest = hashlib.sha256()
    for chunk in s3.get_object(Bucket=bucket, Key=key)["Body"].iter_chunks(8 * MB):
        digest.update(chunk)
    assert digest.hexdigest() == written["sha256"]


def test_a_failed_part_aborts_the_upload_and_leaves_no_object(s3tables_proxy_env: EndpointProxy) -> None:
    from tests.support.endpoint_proxy import FaultRule

    properties, location = _table_location()
    path = f"{location}/data/failed.bin"
    io = open_catalog("aws", properties)._load_file_io(location=path)
    s3tables_proxy_env.inject(FaultRule("s3", "UploadPart", times=100, status=400, code="InvalidRequest"))
    with pytest.raises(OSError, match="upload_part .* failed"):
        with io.new_output(path).create() as stream:
            for _ in range(3 * PART_BYTES // MB):
                stream.write(os.urandom(MB))
            stream.close()
    counts = s3tables_proxy_env.counts("s3")
    assert counts["AbortMultipartUpload"] == 1 and counts["CompleteMultipartUpload"] == 0
    bucket, key = path.removeprefix("s3://").split("/", 1)
    with pytest.raises(boto3.client("s3").exceptions.ClientError):
        boto3.client("s3").head_object(Bucket=bucket, Key=key)


def test_a_delta_table_with_a_100_mb_data_file_converts_into_s3_tables(
    s3tables_proxy_env: EndpointProxy, tmp_path: Path
) -> None:
    rows = 100
    blobs = [os.urandom(MB) for _ in range(rows)]
    source = tmp_path / "delta"
    write_deltalake(str(source), pa.table({"id": pa.array(range(rows), pa.int64()), "blob": pa.array(blobs)}))
    properties = new_bucket()
    s3tables_proxy_env.reset()

    one_file = ConversionSource.open(str(source), workers=1)  # two workers would write it in two parts
    result = convert_table(one_file, open_catalog("aws", properties), "big.blobs")

    assert result.status == "converted" and result.rows == rows
    records = s3tables_proxy_env.records
    assert all(r.expect is None and not r.injected for r in records)
    assert Counter(r.operation for r in records)["UploadPart"] >= 100 * MB // PART_BYTES
    table = open_catalog("fresh", properties).load_table("big.blobs")
    (task,) = table.scan().plan_files()
    assert task.file.file_size_in_bytes > 100 * MB
    read = table.scan().to_arrow().sort_by("id")
    assert read.column("blob").to_pylist() == blobs
