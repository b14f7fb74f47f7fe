"""S3 Tables under faults, through a request-counting proxy in front of moto: throttling, connection
resets, a version-token conflict, and ``kill -9`` in the middle of a conversion."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

from datax_migrate.catalogs import open_catalog
from datax_migrate.convert import ConvertOptions, convert_table
from datax_migrate.errors import TargetError
from datax_migrate.iceberg.read import read_snapshot
from tests.support.catalogs import new_bucket
from tests.support.corpus import PARTITIONED, expected_table, source
from tests.support.endpoint_proxy import EndpointProxy, FaultRule, RequestRecord
from tests.support.tables import assert_same_rows

pytestmark = [pytest.mark.aws, pytest.mark.corpus]


def test_throttling_and_resets_are_retried(corpus: Path, s3tables_proxy_env: EndpointProxy) -> None:
    proxy, properties = s3tables_proxy_env, new_bucket()
    proxy.inject(FaultRule("s3", "PutObject", times=3))
    proxy.inject(FaultRule("s3", "PutObject", times=1, kind="reset"))
    proxy.inject(FaultRule("s3tables", "GetTableMetadataLocation", 2, 429, "TooManyRequestsException"))
    proxy.inject(FaultRule("s3tables", "UpdateTableMetadataLocation", 1, 503, "ServiceUnavailable"))

    result = convert_table(source(corpus, PARTITIONED), open_catalog("aws", properties), "sales.orders")

    assert result.status == "converted"
    assert proxy.pending_faults() == []
    injected = [r.operation for r in proxy.records if r.injected]
    expected = ["PutObject"] * 4 + ["GetTableMetadataLocation"] * 2 + ["UpdateTableMetadataLocation"]
    assert sorted(injected) == sorted(expected)
    table = open_catalog("fresh", properties).load_table("sales.orders")
    assert_same_rows(read_snapshot(table), expected_table(*PARTITIONED))


def test_a_commit_whose_answer_is_lost_is_recognised_as_landed_when_retried(
    corpus: Path, s3tables_proxy_env: EndpointProxy
) -> None:
    proxy, properties = s3tables_proxy_env, new_bucket()
    proxy.inject(FaultRule("s3tables", "UpdateTableMetadataLocation", times=1, kind="lost"))

    result = convert_table(source(corpus, PARTITIONED), open_catalog("aws", properties), "sales.orders")

    assert result.status == "converted" and proxy.pending_faults() == []
    updates = [r for r in proxy.records if r.operation == "UpdateTableMetadataLocation"]
    assert [r.status for r in updates] == [200, 409]  # it landed; the retry with the old token conflicts with it
    table = open_catalog("fresh", properties).load_table("sales.orders")
    assert len(table.history()) == 1
    assert_same_rows(read_snapshot(table), expected_table(*PARTITIONED))


EVENTS = ("dat", "basic_append")


@dataclass(frozen=True)
class Race:
    """An S3 Tables table converted from version 0, a second writer that bypasses the proxy, and
    a way to run that writer the moment our next commit request reaches the proxy."""

    proxy: EndpointProxy
    properties: dict[str, str]
    other: Catalog

    def before_our_commit(self, competing: Callable[[Table], None]) -> list[RequestRecord]:
        """Run ``competing`` on the other writer's fresh copy of the table before our next commit."""
        fired: list[RequestRecord] = []

        def hook(record: RequestRecord) -> None:
            if record.operation == "UpdateTableMetadataLocation" and not fired:
                fired.append(record)
                competing(self.other.load_table("sales.events"))

        self.proxy.reset()
        self.proxy.on_request(hook)
        return fired


@pytest.fixture
def race(corpus: Path, s3tables_proxy_env: EndpointProxy, moto_endpoint: str) -> Race:
    properties = new_bucket()
    convert_table(source(corpus, EVENTS), open_catalog("aws", properties), "sales.events", version=0)
    return Race(s3tables_proxy_env, properties, _direct_catalog(properties, moto_endpoint))


def test_a_concurrent_metadata_change_is_retried_on_the_refreshed_table(corpus: Path, race: Race) -> None:
    fired = race.before_our_commit(lambda t: t.transaction().set_properties(owner="team-b").commit_transaction())
    replace = ConvertOptions(replace=True)
    result = convert_table(
        source(corpus, EVENTS), open_catalog("aws", race.properties), "sales.events", options=replace
    )

    assert fired and result.status == "replaced"
    updates = [r for r in race.proxy.records if r.operation == "UpdateTableMetadataLocation"]
    assert [r.status for r in updates] == [409, 200]  # the stale token lost, the retry on the refreshed table won
    table = open_catalog("fresh", race.properties).load_table("sales.events")
    assert table.properties["owner"] == "team-b"
    assert_same_rows(read_snapshot(table), expected_table(*EVENTS))


def test_a_concurrent_snapshot_fails_the_commit_and_leaves_the_table_as_the_other_writer_left_it(
    corpus: Path, race: Race
) -> None:
    fired = race.before_our_commit(lambda t: t.append(read_snapshot(t)))
    replace = ConvertOptions(replace=True)
    with pytest.raises(TargetError, match="commit to .*sales.events failed"):
        convert_table(source(corpus, EVENTS), open_catalog("aws", race.properties), "sales.events", options=replace)

    assert fired
    theirs = race.other.load_table("sales.events")
    table = open_catalog("fresh", race.properties).load_table("sales.events")
    assert table.metadata_location == theirs.metadata_location
    assert read_snapshot(table).num_rows == 2 * expected_table(*EVENTS, "v0").num_rows


@pytest.mark.parametrize("when", ["first data file", "metadata file"])
def test_kill_9_leaves_no_table_and_the_rerun_succeeds(
    when: str, corpus: Path, s3tables_proxy_env: EndpointProxy, tmp_path: Path
) -> None:
    proxy, properties = s3tables_proxy_env, new_bucket()
    config = tmp_path / "aws.yaml"
    config.write_text(yaml.safe_dump({"catalogs": {"aws": properties}, "default_catalog": "aws"}))
    command = [sys.executable, "-m", "datax_migrate.cli", "convert", source(corpus, PARTITIONED), "sales.orders"]
    command += ["--config", str(config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy())

    def crash(record: RequestRecord) -> None:
        is_metadata = record.operation == "PutObject" and record.path.endswith(".metadata.json")
        is_data = record.operation == "PutObject" and record.path.endswith(".parquet")
        if (when == "metadata file" and is_metadata) or (when == "first data file" and is_data):
            process.send_signal(signal.SIGKILL)

    proxy.on_request(crash)
    process.communicate(timeout=120)
    proxy.on_request(None)
    assert process.returncode == -signal.SIGKILL

    fresh = open_catalog("fresh", properties)
    with pytest.raises(NoSuchTableError):
        fresh.load_table("sales.orders")
    rerun = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy(), check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert_same_rows(read_snapshot(fresh.load_table("sales.orders")), expected_table(*PARTITIONED))


def _direct_catalog(properties: dict[str, str], moto_endpoint: str) -> Catalog:
    """A second writer that talks to moto directly, not through the proxy."""
    return open_catalog("other", {**properties, "s3tables.endpoint": moto_endpoint, "s3.endpoint": moto_endpoint})
