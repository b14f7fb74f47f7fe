"""SIGTERM that arrives while S3 Tables is committing: the run says whether the commit landed, and
cleans up only when it did not. The catalog is slowed by a real HTTP proxy in front of moto."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from pyiceberg.exceptions import NoSuchTableError

from datax_migrate.catalogs import open_catalog
from tests.support.catalogs import new_bucket
from tests.support.corpus import PARTITIONED, expected_table, source
from tests.support.endpoint_proxy import EndpointProxy, FaultRule, RequestRecord
from tests.support.tables import assert_same_rows

pytestmark = [pytest.mark.aws, pytest.mark.corpus]

COMMIT = "UpdateTableMetadataLocation"


@pytest.mark.parametrize("lands", [True, False], ids=["commit-lands", "commit-fails"])
def test_sigterm_during_the_commit_tells_whether_it_landed(
    lands: bool, corpus: Path, aws_proxy_env: EndpointProxy, tmp_path: Path
) -> None:
    proxy, properties = aws_proxy_env, new_bucket()
    config = tmp_path / "aws.yaml"
    config.write_text(yaml.safe_dump({"catalogs": {"aws": properties}, "default_catalog": "aws"}))
    command = [sys.executable, "-m", "datax_migrate.cli", "convert", source(corpus, PARTITIONED), "sales.orders"]
    process = subprocess.Popen(
        [*command, "--config", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    signalled: list[RequestRecord] = []

    def terminate(record: RequestRecord) -> None:
        if record.operation == COMMIT and not signalled:
            signalled.append(record)
            process.send_signal(signal.SIGTERM)
            time.sleep(1)  # the converter holds the signal while it waits for the catalog's answer

    if lands:  # S3 Tables takes the new metadata; the answer comes after the signal
        proxy.inject(FaultRule("s3tables", COMMIT, kind="after", hook=terminate))
    else:  # every attempt meets a version-token conflict: the commit fails
        proxy.on_request(terminate)
        proxy.inject(FaultRule("s3tables", COMMIT, times=4, status=409, code="ConflictException"))
    out, err = process.communicate(timeout=180)
    proxy.on_request(None)

    assert signalled, err
    fresh = open_catalog("fresh", properties)
    if lands:
        assert process.returncode == 0, err
        table = fresh.load_table("sales.orders")
        assert out.startswith("converted:")
        assert (
            "datax-migrate: terminated during the commit, which had landed: aws.sales.orders holds snapshot "
            f"{table.current_snapshot().snapshot_id}; the conversion is complete"
        ) in err
        assert_same_rows(table.scan().to_arrow(), expected_table(*PARTITIONED))
    else:
        assert process.returncode == 143, err
        assert err.strip().splitlines()[-1] == "datax-migrate: terminated; nothing was committed"
        with pytest.raises(NoSuchTableError):
            fresh.load_table("sales.orders")
        assert proxy.counts("s3tables")["DeleteTable"] == 1  # the reservation was released
