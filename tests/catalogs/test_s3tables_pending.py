"""What a ``kill -9`` during a conversion into S3 Tables (``mode: api``) leaves, and how it goes away.

A real ``datax-migrate convert`` subprocess is killed when its first data file reaches the proxy in
front of moto. Its reserved entry has no metadata: ``ListTables`` lists it, ``GetTable`` returns it
without a metadata location, loading it says there is no such table. ``datax-migrate pending``
lists it as stale (its process ended on this host) and deletes it with ``--purge``; without that,
the next conversion into the same namespace deletes it. A reservation whose process still runs, or
an entry without a datax marker, is kept unless the user says how old is too old.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pyarrow as pa
import pytest
import yaml
from deltalake import write_deltalake
from pyiceberg.exceptions import NoSuchTableError

from datax_migrate import __version__
from datax_migrate.catalogs import open_catalog
from datax_migrate.catalogs.pending import MARKER, Reservation
from datax_migrate.catalogs.s3tables import S3TablesCatalog
from datax_migrate.cli import main
from tests.support.catalogs import new_bucket
from tests.support.endpoint_proxy import EndpointProxy, RequestRecord

pytestmark = pytest.mark.aws


def delta_table(folder: Path, rows: int = 1000) -> str:
    for part in range(2):  # two data files: the kill comes while the first is being uploaded
        ids = pa.array(range(part * rows, (part + 1) * rows), pa.int64())
        write_deltalake(str(folder), pa.table({"id": ids}), mode="append")
    return str(folder)


@pytest.fixture
def bucket(s3tables_proxy_env: EndpointProxy, tmp_path: Path) -> tuple[dict[str, str], Path]:
    properties = new_bucket()
    config = tmp_path / "aws.yaml"
    config.write_text(yaml.safe_dump({"catalogs": {"aws": properties}, "default_catalog": "aws"}))
    return properties, config


def convert_killed_at_first_data_file(proxy: EndpointProxy, source: str, target: str, config: Path) -> None:
    command = [sys.executable, "-m", "datax_migrate.cli", "convert", source, target, "--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())

    def crash(record: RequestRecord) -> None:
        if record.operation == "PutObject" and record.path.endswith(".parquet"):
            process.send_signal(signal.SIGKILL)

    proxy.on_request(crash)
    process.communicate(timeout=120)
    proxy.on_request(None)
    assert process.returncode == -signal.SIGKILL


def listed(properties: dict[str, str]) -> list[str]:
    tables = boto3.client("s3tables").list_tables(tableBucketARN=properties["warehouse"])["tables"]
    return sorted(f"{t['namespace'][0]}.{t['name']}" for t in tables)


def test_a_killed_conversion_leaves_a_listed_entry_that_pending_finds_and_purges(
    bucket: tuple[dict[str, str], Path],
    s3tables_proxy_env: EndpointProxy,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    properties, config = bucket
    convert_killed_at_first_data_file(s3tables_proxy_env, delta_table(tmp_path / "orders"), "sales.orders", config)

    # What readers see of the reserved entry.
    assert listed(properties) == ["sales.orders"]
    entry = boto3.client("s3tables").get_table(tableBucketARN=properties["warehouse"], namespace="sales", name="orders")
    assert "metadataLocation" not in entry
    catalog = open_catalog("aws", properties)
    with pytest.raises(NoSuchTableError, match="no committed metadata"):
        catalog.load_table("sales.orders")
    assert not catalog.table_exists("sales.orders")

    assert main(["pending", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "sales.orders  reserved " in out and "(process ended)  stale: its process (pid " in out
    assert out.endswith("1 entry without metadata, 1 stale; purge them with --purge\n")
    assert listed(properties) == ["sales.orders"]  # listing changes nothing
    assert main(["pending", "--config", str(config), "--output", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["command"], document["version"], document["stale"], document["purged"]) == (
        "pending",
        __version__,
        1,
        None,
    )
    assert [entry["identifier"] for entry in document["entries"]] == ["sales.orders"]
    assert document["entries"][0]["verdict"].startswith("stale: its process (pid ")

    assert main(["pending", "--config", str(config), "--namespace", "sales", "--purge"]) == 0
    assert capsys.readouterr().out.endswith("1 entry without metadata, 1 stale; 1 purged\n")
    assert listed(properties) == []


def test_the_next_conversion_in_the_namespace_purges_a_stale_reservation(
    bucket: tuple[dict[str, str], Path], s3tables_proxy_env: EndpointProxy, tmp_path: Path
) -> None:
    properties, config = bucket
    convert_killed_at_first_data_file(s3tables_proxy_env, delta_table(tmp_path / "orders"), "sales.orders", config)
    assert listed(properties) == ["sales.orders"]

    other = [sys.executable, "-m", "datax_migrate.cli", "convert", delta_table(tmp_path / "refunds"), "sales.refunds"]
    done = subprocess.run([*other, "--config", str(config)], capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert listed(properties) == ["sales.refunds"]
    assert open_catalog("fresh", properties).load_table("sales.refunds").scan().to_arrow().num_rows == 2000


def test_live_and_unmarked_entries_are_kept_unless_old_enough(
    bucket: tuple[dict[str, str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    properties, config = bucket
    catalog = open_catalog("aws", properties)
    assert isinstance(catalog, S3TablesCatalog)
    catalog.create_namespace("sales")
    schema = pa.schema([pa.field("id", pa.int64())])
    catalog.create_table_transaction("sales.live", schema)  # reserved by this (running) process
    boto3.client("s3tables").create_table(
        tableBucketARN=properties["warehouse"], namespace="sales", name="other_tool", format="ICEBERG"
    )
    (live,) = [e for e in catalog.pending_entries("sales") if e.name == "live"]
    assert live.reservation is not None and live.reservation.pid == os.getpid()
    assert live.reservation.host == Reservation.of_this_process().host

    assert catalog.purge_stale("sales") == []
    assert main(["pending", "--config", str(config), "--purge"]) == 0
    out = capsys.readouterr().out
    assert "sales.live  reserved " in out and "(process running)  kept: not shown to be stale" in out
    assert "sales.other_tool  created " in out and "no datax marker" in out
    assert out.endswith("2 entries without metadata, 0 stale; 0 purged\n")
    assert listed(properties) == ["sales.live", "sales.other_tool"]

    time.sleep(1.1)
    assert main(["pending", "--config", str(config), "--older-than", "1", "--purge"]) == 0
    assert "sales.live" in capsys.readouterr().out
    assert listed(properties) == ["sales.other_tool"]
    assert main(["pending", "--config", str(config), "--older-than", "1", "--include-unmarked", "--purge"]) == 0
    assert "purged: no datax marker" in capsys.readouterr().out
    assert listed(properties) == []


def test_pending_refuses_other_catalogs_and_bad_ages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "local.yaml"
    config.write_text(yaml.safe_dump({"catalogs": {"lake": {"type": "sql", "uri": f"sqlite:///{tmp_path}/c.db"}}}))
    assert main(["pending", "--config", str(config), "--catalog", "lake"]) == 2
    assert "not an s3tables catalog in mode api" in capsys.readouterr().err
    assert main(["pending", "--older-than", "soon"]) == 2
    assert "--older-than" in capsys.readouterr().err
    assert main(["pending", "--include-unmarked"]) == 2
    assert "--include-unmarked needs --older-than" in capsys.readouterr().err


def test_the_marker_is_in_the_entry_location(bucket: tuple[dict[str, str], Path]) -> None:
    properties, _ = bucket
    catalog = open_catalog("aws", properties)
    catalog.create_namespace("ns")
    catalog.create_table_transaction("ns.t", pa.schema([pa.field("id", pa.int64())]))
    warehouse = boto3.client("s3tables").get_table_metadata_location(
        tableBucketARN=properties["warehouse"], namespace="ns", name="t"
    )["warehouseLocation"]
    bucket_name, _, prefix = warehouse.removeprefix("s3://").partition("/")
    key = f"{prefix}/{MARKER}".lstrip("/")
    marker = Reservation.from_json(boto3.client("s3").get_object(Bucket=bucket_name, Key=key)["Body"].read())
    assert marker is not None and marker.pid == os.getpid() and marker.process_ended() is False
