"""The runner on Glue and S3 (moto behind a fault-injecting proxy): throttling the clients gave up on is retried."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from datax_migrate.estate import Ledger, run_plan
from datax_migrate.estate.planning import PlanOptions
from datax_migrate.estate.retry import Backoff
from tests.estate.support import id_table, plan_storage
from tests.support.catalogs import catalog_properties
from tests.support.endpoint_proxy import EndpointProxy, FaultRule

pytestmark = pytest.mark.aws
SCHEMA = f"estate_{uuid.uuid4().hex[:8]}"
"""A Glue database of these tests' own (Glue is one catalog per account, shared by every test on moto)."""

RETRY_STRATEGY = "pyarrow.fs.AwsStandardS3RetryStrategy"
PYARROW_ATTEMPTS = 3
"""The attempts of pyarrow's standard S3 retry strategy (:data:`RETRY_STRATEGY`), which the catalogs are set to."""


def test_throttling_beyond_the_clients_retries_is_retried_with_backoff(
    tmp_path: Path, aws_proxy_env: EndpointProxy
) -> None:
    proxy = aws_proxy_env
    properties = {**catalog_properties("glue", tmp_path), "s3.retry-strategy-impl": RETRY_STRATEGY}
    config = tmp_path / "config.yaml"
    config.write_text("catalogs:\n  tables:\n" + "".join(f"    {key}: {value}\n" for key, value in properties.items()))
    id_table(tmp_path / "storage" / SCHEMA / "orders", [1, 2, 3])
    plan = plan_storage(tmp_path / "storage", tmp_path / "plan", config, PlanOptions(catalog="tables"))
    assert plan.naming_rules == {"tables": "glue"}
    # Two tries of the conversion find every attempt of their first data-file upload throttled.
    proxy.inject(FaultRule("s3", "CreateMultipartUpload", times=2 * PYARROW_ATTEMPTS, status=503, code="SlowDown"))

    summary = run_plan(plan.directory, config=config, backoff=Backoff(retries=4, first=0.05))

    assert summary.states == {"MATCHED": 1}, summary.outcomes
    assert proxy.pending_faults() == []
    (outcome,) = summary.outcomes
    assert len(outcome.retried) == 2 and all("SLOW_DOWN" in text or "503" in text for text in outcome.retried)
    with Ledger.open(plan.directory) as ledger:
        record = ledger.record("tables", f"{SCHEMA}.orders")
    assert record is not None and (record.attempts, record.rows, record.verdict) == (1, 3, "match")


def test_a_permanent_failure_is_not_retried(tmp_path: Path, aws_proxy_env: EndpointProxy) -> None:
    proxy = aws_proxy_env
    properties = {**catalog_properties("glue", tmp_path), "s3.retry-strategy-impl": RETRY_STRATEGY}
    config = tmp_path / "config.yaml"
    config.write_text("catalogs:\n  tables:\n" + "".join(f"    {key}: {value}\n" for key, value in properties.items()))
    id_table(tmp_path / "storage" / SCHEMA / "items", [1, 2, 3])
    plan = plan_storage(tmp_path / "storage", tmp_path / "plan", config, PlanOptions(catalog="tables"))
    proxy.inject(FaultRule("s3", "CreateMultipartUpload", times=1, status=403, code="AccessDenied"))

    summary = run_plan(plan.directory, config=config, backoff=Backoff(retries=4, first=0.05))

    (outcome,) = summary.outcomes
    assert outcome.state == "FAILED" and outcome.retried == () and "ACCESS_DENIED" in (outcome.reason or "")
    assert [r.operation for r in proxy.records if r.injected] == ["CreateMultipartUpload"]
