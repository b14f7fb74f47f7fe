"""EndpointProxy relays boto3 and pyarrow traffic to moto, counts it by operation and injects faults."""

from __future__ import annotations

import dataclasses
import http.client
import io
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
import pyarrow.fs as pafs
import pytest

from tests.support.endpoint_proxy import EndpointProxy, FaultRule, RequestRecord, classify

pytestmark = pytest.mark.aws

PATH_STYLE = botocore.config.Config(
    s3={"addressing_style": "path"}, retries={"mode": "standard", "total_max_attempts": 3}
)
NO_RETRIES = botocore.config.Config(
    s3={"addressing_style": "path"}, retries={"mode": "standard", "total_max_attempts": 1}
)


def _client(service: str, endpoint: str | None = None, config: botocore.config.Config = PATH_STYLE) -> Any:
    return boto3.client(service, endpoint_url=endpoint, config=config)


def _bucket(prefix: str = "proxy") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _pyarrow_fs(proxy: EndpointProxy, **options: Any) -> pafs.S3FileSystem:
    return pafs.S3FileSystem(
        endpoint_override=proxy.endpoint.removeprefix("http://"),
        scheme="http",
        access_key="testing",
        secret_key="testing",
        region="us-east-1",
        **options,
    )


@pytest.fixture
def s3(aws_proxy_env: EndpointProxy) -> Any:
    return _client("s3")


@pytest.fixture
def bucket(s3: Any, aws_proxy_env: EndpointProxy) -> Iterator[str]:
    name = _bucket()
    s3.create_bucket(Bucket=name)
    aws_proxy_env.reset()
    yield name


def test_boto3_s3_requests_are_relayed_and_counted(aws_proxy_env: EndpointProxy, s3: Any) -> None:
    proxy = aws_proxy_env
    name = _bucket()
    s3.create_bucket(Bucket=name)
    s3.head_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="dir/a.txt", Body=b"hello")
    s3.put_object(Bucket=name, Key="dir/b.bin", Body=b"\x00" * (2 * 1024 * 1024))  # large enough for Expect
    assert s3.get_object(Bucket=name, Key="dir/a.txt")["Body"].read() == b"hello"
    assert s3.head_object(Bucket=name, Key="dir/b.bin")["ContentLength"] == 2 * 1024 * 1024
    listed = s3.list_objects_v2(Bucket=name, Prefix="dir/")
    assert [item["Key"] for item in listed["Contents"]] == ["dir/a.txt", "dir/b.bin"]
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        s3.head_object(Bucket=name, Key="dir/missing")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    s3.delete_object(Bucket=name, Key="dir/a.txt")  # 204, then the same keep-alive connection is reused
    s3.delete_objects(Bucket=name, Delete={"Objects": [{"Key": "dir/b.bin"}]})
    assert s3.list_objects_v2(Bucket=name).get("KeyCount") == 0

    assert proxy.counts("s3") == Counter(
        CreateBucket=1,
        HeadBucket=1,
        PutObject=2,
        GetObject=1,
        HeadObject=2,
        ListObjectsV2=2,
        DeleteObject=1,
        DeleteObjects=1,
    )
    assert not any(record.injected for record in proxy.records)
    assert [r.status for r in proxy.records if r.operation == "HeadObject"] == [200, 404]
    assert proxy.counts() == proxy.counts("s3")
    proxy.reset()
    assert proxy.records == []


def test_boto3_multipart_upload_is_counted(aws_proxy_env: EndpointProxy, s3: Any, bucket: str) -> None:
    from boto3.s3.transfer import TransferConfig

    body = bytes(range(256)) * (6 * 1024 * 1024 // 256 + 1)
    transfer = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20, use_threads=False)
    s3.upload_fileobj(io.BytesIO(body), bucket, "big.bin", Config=transfer)
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == body
    assert aws_proxy_env.counts("s3") == Counter(
        CreateMultipartUpload=1, UploadPart=2, CompleteMultipartUpload=1, GetObject=1
    )


def test_pyarrow_uploads_through_the_proxy(aws_proxy_env: EndpointProxy, moto_endpoint: str) -> None:
    proxy = aws_proxy_env
    name = _bucket()
    _client("s3", moto_endpoint).create_bucket(Bucket=name)
    fs = _pyarrow_fs(proxy)
    large = b"0123456789abcdef" * (12 * 2**20 // 16)

    with fs.open_output_stream(f"{name}/small.bin") as stream:
        stream.write(b"x" * 1000)
    # pyarrow opens a multipart upload at open time unless allow_delayed_open=True, even for 1 kB.
    assert proxy.counts("s3") == Counter(CreateMultipartUpload=1, UploadPart=1, CompleteMultipartUpload=1)
    proxy.reset()

    with _pyarrow_fs(proxy, allow_delayed_open=True).open_output_stream(f"{name}/delayed.bin") as stream:
        stream.write(b"y" * 1000)
    assert proxy.counts("s3") == Counter(PutObject=1)
    proxy.reset()

    with fs.open_output_stream(f"{name}/large.bin") as stream:
        stream.write(large)
    # Parts of 10 MiB: 12 MiB is two UploadParts, sent chunked (aws-chunked, Expect: 100-continue).
    assert proxy.counts("s3") == Counter(CreateMultipartUpload=1, UploadPart=2, CompleteMultipartUpload=1)
    proxy.reset()

    with fs.open_input_file(f"{name}/large.bin") as stream:
        assert stream.read() == large
    with fs.open_input_file(f"{name}/small.bin") as stream:
        assert stream.read() == b"x" * 1000
    assert fs.get_file_info(f"{name}/delayed.bin").size == 1000
    assert proxy.counts("s3") == Counter(HeadObject=3, GetObject=2)


def test_pyarrow_retries_injected_faults(aws_proxy_env: EndpointProxy, moto_endpoint: str) -> None:
    proxy = aws_proxy_env
    name = _bucket()
    _client("s3", moto_endpoint).create_bucket(Bucket=name)
    fs = _pyarrow_fs(proxy)
    proxy.inject(FaultRule("s3", "UploadPart", status=503, code="SlowDown"))
    proxy.inject(FaultRule("s3", "GetObject", kind="reset"))
    with fs.open_output_stream(f"{name}/retried.bin") as stream:
        stream.write(b"z" * 1000)
    with fs.open_input_file(f"{name}/retried.bin") as stream:
        assert stream.read() == b"z" * 1000
    assert [(r.operation, r.status, r.injected) for r in proxy.records] == [
        ("CreateMultipartUpload", 200, False),
        ("UploadPart", 503, True),
        ("UploadPart", 200, False),
        ("CompleteMultipartUpload", 200, False),
        ("HeadObject", 200, False),
        ("GetObject", None, True),
        ("GetObject", 206, False),  # pyarrow reads with Range
    ]


def test_s3tables_operations_are_counted_by_name(aws_proxy_env: EndpointProxy, moto_endpoint: str) -> None:
    tables = _client("s3tables")
    bucket_arn = tables.create_table_bucket(name=_bucket("tables"))["arn"]
    tables.create_namespace(tableBucketARN=bucket_arn, namespace=["sales"])
    created = tables.create_table(tableBucketARN=bucket_arn, namespace="sales", name="orders", format="ICEBERG")
    located = tables.get_table_metadata_location(tableBucketARN=bucket_arn, namespace="sales", name="orders")
    assert located["versionToken"] == created["versionToken"]
    warehouse = located["warehouseLocation"]
    tables.update_table_metadata_location(
        tableBucketARN=bucket_arn,
        namespace="sales",
        name="orders",
        versionToken=located["versionToken"],
        metadataLocation=f"{warehouse}/metadata/00001.metadata.json",
    )
    assert tables.get_table(tableBucketARN=bucket_arn, namespace="sales", name="orders")["name"] == "orders"
    assert [t["name"] for t in tables.list_tables(tableBucketARN=bucket_arn)["tables"]] == ["orders"]
    tables.list_namespaces(tableBucketARN=bucket_arn)
    tables.list_table_buckets()

    assert aws_proxy_env.counts("s3tables") == Counter(
        CreateTableBucket=1,
        CreateNamespace=1,
        CreateTable=1,
        GetTableMetadataLocation=1,
        UpdateTableMetadataLocation=1,
        GetTable=1,
        ListTables=1,
        ListNamespaces=1,
        ListTableBuckets=1,
    )
    assert aws_proxy_env.counts("s3") == Counter()


def test_glue_operations_are_counted_by_target(aws_proxy_env: EndpointProxy) -> None:
    glue = _client("glue")
    database = f"db_{uuid.uuid4().hex[:8]}"
    glue.create_database(DatabaseInput={"Name": database})
    assert glue.get_database(Name=database)["Database"]["Name"] == database
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_table(DatabaseName=database, Name="absent")
    assert aws_proxy_env.counts("glue") == Counter(CreateDatabase=1, GetDatabase=1, GetTable=1)


def test_slowdown_on_put_object_is_retried_by_boto3(aws_proxy_env: EndpointProxy, s3: Any, bucket: str) -> None:
    aws_proxy_env.inject(FaultRule("s3", "PutObject", times=1, status=503, code="SlowDown"))
    response = s3.put_object(Bucket=bucket, Key="k", Body=b"payload")
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"payload"
    puts = [(r.status, r.injected) for r in aws_proxy_env.records if r.operation == "PutObject"]
    assert puts == [(503, True), (200, False)]
    assert aws_proxy_env.pending_faults() == []


def test_reset_on_get_object_is_retried_by_boto3(aws_proxy_env: EndpointProxy, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"payload")
    aws_proxy_env.inject(FaultRule("s3", "GetObject", kind="reset"))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"payload"
    gets = [(r.status, r.injected) for r in aws_proxy_env.records if r.operation == "GetObject"]
    assert gets == [(None, True), (200, False)]


def test_reset_surfaces_as_a_connection_error_without_retries(aws_proxy_env: EndpointProxy, bucket: str) -> None:
    aws_proxy_env.inject(FaultRule("s3", "HeadObject", kind="reset"))
    with pytest.raises(botocore.exceptions.ConnectionClosedError) as closed:
        _client("s3", config=NO_RETRIES).head_object(Bucket=bucket, Key="k")
    assert "ConnectionResetError" in repr(closed.value.kwargs["error"])  # a TCP reset, not a clean close


def test_lost_forwards_the_request_and_drops_the_answer(aws_proxy_env: EndpointProxy, bucket: str) -> None:
    aws_proxy_env.inject(FaultRule("s3", "PutObject", kind="lost"))
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        _client("s3", config=NO_RETRIES).put_object(Bucket=bucket, Key="k", Body=b"arrived")
    assert _client("s3").get_object(Bucket=bucket, Key="k")["Body"].read() == b"arrived"
    assert [(r.operation, r.status) for r in aws_proxy_env.records][0] == ("PutObject", 200)


def test_times_is_respected(aws_proxy_env: EndpointProxy, bucket: str) -> None:
    s3 = _client("s3", config=NO_RETRIES)
    aws_proxy_env.inject(FaultRule("s3", "PutObject", times=2, status=503, code="SlowDown", message="slow down"))
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as failure:
            s3.put_object(Bucket=bucket, Key="k", Body=b"1")
        assert failure.value.response["Error"] == {"Code": "SlowDown", "Message": "slow down"}
        assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    s3.head_object(Bucket=bucket, Key="k")
    assert [r.injected for r in aws_proxy_env.records] == [True, True, False, False, False]
    assert aws_proxy_env.counts("s3") == Counter(PutObject=4, HeadObject=1)


def test_rules_match_service_and_operation(aws_proxy_env: EndpointProxy, s3: Any, bucket: str) -> None:
    aws_proxy_env.inject(FaultRule("glue", None, status=400, code="AccessDeniedException"))
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")  # an S3 request does not spend a glue rule
    assert [(rule.service, left) for rule, left in aws_proxy_env.pending_faults()] == [("glue", 1)]
    aws_proxy_env.clear_faults()
    assert aws_proxy_env.pending_faults() == []


def test_json_faults_parse_as_modelled_errors(aws_proxy_env: EndpointProxy) -> None:
    tables = _client("s3tables")
    glue = _client("glue")
    aws_proxy_env.inject(FaultRule("s3tables", "ListTableBuckets", status=409, code="ConflictException"))
    aws_proxy_env.inject(FaultRule("glue", "GetDatabases", status=400, code="EntityNotFoundException"))
    with pytest.raises(tables.exceptions.ConflictException):
        tables.list_table_buckets()
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_databases()
    assert [(r.service, r.operation, r.status) for r in aws_proxy_env.records] == [
        ("s3tables", "ListTableBuckets", 409),
        ("glue", "GetDatabases", 400),
    ]


def test_on_request_hook_runs_before_forwarding(aws_proxy_env: EndpointProxy, s3: Any, bucket: str) -> None:
    seen: list[RequestRecord] = []
    aws_proxy_env.on_request(seen.append)
    s3.put_object(Bucket=bucket, Key="k", Body=b"1")
    aws_proxy_env.on_request(None)
    s3.head_object(Bucket=bucket, Key="k")
    put = RequestRecord("PUT", f"/{bucket}/k", "", "s3", "PutObject", status=None, injected=False)
    assert seen == [dataclasses.replace(put, expect="100-continue")]  # botocore asks before every upload


def test_hook_commits_concurrently_and_causes_a_version_token_conflict(
    aws_proxy_env: EndpointProxy, moto_endpoint: str
) -> None:
    tables = _client("s3tables")
    direct = _client("s3tables", moto_endpoint)
    bucket_arn = tables.create_table_bucket(name=_bucket("tables"))["arn"]
    tables.create_namespace(tableBucketARN=bucket_arn, namespace=["ns"])
    tables.create_table(tableBucketARN=bucket_arn, namespace="ns", name="t", format="ICEBERG")
    table = {"tableBucketARN": bucket_arn, "namespace": "ns", "name": "t"}
    location = tables.get_table_metadata_location(**table)
    warehouse, token = location["warehouseLocation"], location["versionToken"]
    fired = threading.Event()

    def commit_first(record: RequestRecord) -> None:
        if record.operation == "UpdateTableMetadataLocation" and not fired.is_set():
            fired.set()
            direct.update_table_metadata_location(
                **table, versionToken=token, metadataLocation=f"{warehouse}/metadata/winner.metadata.json"
            )

    aws_proxy_env.on_request(commit_first)
    with pytest.raises(tables.exceptions.ConflictException):
        tables.update_table_metadata_location(
            **table, versionToken=token, metadataLocation=f"{warehouse}/metadata/loser.metadata.json"
        )
    assert tables.get_table_metadata_location(**table)["metadataLocation"].endswith("winner.metadata.json")
    updates = [r for r in aws_proxy_env.records if r.operation == "UpdateTableMetadataLocation"]
    assert [(r.status, r.injected) for r in updates] == [(409, False)]


def test_after_hook_runs_once_upstream_has_answered(aws_proxy_env: EndpointProxy, s3: Any, bucket: str) -> None:
    direct = _client("s3", aws_proxy_env.upstream)
    observed: list[tuple[int | None, bytes]] = []

    def check_upstream(record: RequestRecord) -> None:
        observed.append((record.status, direct.get_object(Bucket=bucket, Key="k")["Body"].read()))

    aws_proxy_env.inject(FaultRule("s3", "PutObject", kind="after", hook=check_upstream))
    s3.put_object(Bucket=bucket, Key="k", Body=b"landed")
    assert observed == [(200, b"landed")]
    assert [(r.operation, r.status, r.injected) for r in aws_proxy_env.records] == [("PutObject", 200, True)]


def test_hook_errors_are_raised_on_close(aws_env: str) -> None:
    def failing(record: RequestRecord) -> None:
        raise AssertionError(f"unexpected {record.operation}")

    proxy = EndpointProxy(aws_env, before_forward=failing)
    _client("s3", proxy.endpoint).list_buckets()  # the request itself still goes through
    assert proxy.counts() == Counter(ListBuckets=1)
    with pytest.raises(AssertionError, match="unexpected ListBuckets"):
        proxy.close()


def test_close_stops_serving_open_connections(moto_endpoint: str) -> None:
    with EndpointProxy(moto_endpoint) as proxy:
        connection = http.client.HTTPConnection(proxy.endpoint.removeprefix("http://"), timeout=5)
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Content-Length") is not None
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("GET", "/")
        connection.getresponse()
    connection.close()


def test_fault_rule_validation() -> None:
    with pytest.raises(ValueError, match="kind"):
        FaultRule("s3", kind="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="times"):
        FaultRule("s3", times=0)
    with pytest.raises(ValueError, match="hook"):
        FaultRule("s3", kind="after")


def _auth(service: str) -> dict[str, str]:
    return {
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    }


ARN = "arn%3Aaws%3As3tables%3Aus-east-1%3A123456789012%3Abucket%2Flake"


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", "/buckets", "", _auth("s3tables"), ("s3tables", "ListTableBuckets")),
        ("GET", "/buckets", "", _auth("s3"), ("s3", "ListObjects")),
        ("PUT", "/buckets", "", {}, ("s3tables", "CreateTableBucket")),
        ("PUT", f"/namespaces/{ARN}", "", _auth("s3tables"), ("s3tables", "CreateNamespace")),
        ("PUT", f"/tables/{ARN}/sales", "", _auth("s3tables"), ("s3tables", "CreateTable")),
        ("DELETE", f"/tables/{ARN}/sales/orders", "", _auth("s3tables"), ("s3tables", "DeleteTable")),
        (
            "GET",
            f"/tables/{ARN}/sales/orders/metadata-location",
            "",
            _auth("s3tables"),
            ("s3tables", "GetTableMetadataLocation"),
        ),
        (
            "PUT",
            f"/tables/{ARN}/sales/orders/metadata-location",
            "",
            _auth("s3tables"),
            ("s3tables", "UpdateTableMetadataLocation"),
        ),
        ("GET", "/get-table", f"tableBucketARN={ARN}&namespace=s&name=o", _auth("s3tables"), ("s3tables", "GetTable")),
        ("POST", "/", "", {**_auth("glue"), "X-Amz-Target": "AWSGlue.GetTable"}, ("glue", "GetTable")),
        ("POST", "/", "", {"x-amz-target": "AWSGlue.UpdateTable"}, ("glue", "UpdateTable")),
        ("GET", "/", "", _auth("s3"), ("s3", "ListBuckets")),
        ("PUT", "/b", "", _auth("s3"), ("s3", "CreateBucket")),
        ("HEAD", "/b", "", _auth("s3"), ("s3", "HeadBucket")),
        ("GET", "/b", "list-type=2&prefix=x", _auth("s3"), ("s3", "ListObjectsV2")),
        ("GET", "/b/", "prefix=x", _auth("s3"), ("s3", "ListObjects")),
        ("POST", "/b", "delete", _auth("s3"), ("s3", "DeleteObjects")),
        ("PUT", "/b", "policy", _auth("s3"), ("s3", "PutBucketPolicy")),
        ("DELETE", "/b", "", _auth("s3"), ("s3", "DeleteBucket")),
        ("PUT", "/b/k/x.parquet", "", _auth("s3"), ("s3", "PutObject")),
        ("PUT", "/b/k", "", {**_auth("s3"), "x-amz-copy-source": "/b/j"}, ("s3", "CopyObject")),
        ("GET", "/b/k", "", _auth("s3"), ("s3", "GetObject")),
        ("HEAD", "/b/k", "", _auth("s3"), ("s3", "HeadObject")),
        ("DELETE", "/b/k", "", _auth("s3"), ("s3", "DeleteObject")),
        ("POST", "/b/k", "uploads", _auth("s3"), ("s3", "CreateMultipartUpload")),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", _auth("s3"), ("s3", "UploadPart")),
        ("POST", "/b/k", "uploadId=u", _auth("s3"), ("s3", "CompleteMultipartUpload")),
        ("DELETE", "/b/k", "uploadId=u", _auth("s3"), ("s3", "AbortMultipartUpload")),
        ("GET", "/b/k", "uploadId=u", _auth("s3"), ("s3", "ListParts")),
        ("GET", "/b", "uploads", _auth("s3"), ("s3", "ListMultipartUploads")),
        ("PUT", "/b/k", "tagging", _auth("s3"), ("s3", "PutObjectTagging")),
        ("GET", "/b/k", "X-Amz-Credential=testing%2F20260101%2Fus-east-1%2Fs3%2Faws4_request", {}, ("s3", "GetObject")),
        (
            "POST",
            "/",
            "",
            {**_auth("sts"), "Content-Type": "application/x-www-form-urlencoded"},
            ("sts", "GetCallerIdentity"),
        ),
    ],
)
def test_classify(method: str, path: str, query: str, headers: dict[str, str], expected: tuple[str, str]) -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15" if expected[0] == "sts" else b""
    assert classify(method, path, query, headers, body) == expected
