"""The workspace crawl: the real databricks-sdk client against a local server speaking the REST API."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config

from datax_migrate.assess import assess
from datax_migrate.cli import main
from datax_migrate.inventory.crawl import crawl
from datax_migrate.inventory.model import Inventory, JobTrigger
from datax_migrate.inventory.sources.workspace import WorkspaceSource
from datax_migrate.inventory.tables import write_parquet
from tests.support.databricks_server import Workspace, serve
from tests.support.delta_builder import DeltaBuilder, field

pytestmark = pytest.mark.databricks

TOKEN = "dapi0123456789abcdef-SECRET"


def _column(name: str, type_: str, position: int) -> dict[str, Any]:
    return {
        "name": name,
        "type_text": type_,
        "type_name": type_.upper(),
        "position": position,
        "nullable": True,
        "type_json": json.dumps({"name": name, "type": type_, "nullable": True, "metadata": {}}),
    }


def _table(name: str, table_type: str, fmt: str | None, location: str | None = None, **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": name,
        "catalog_name": "main",
        "schema_name": "sales",
        "full_name": f"main.sales.{name}",
        "table_type": table_type,
        "owner": "data-team",
        "columns": [_column("id", "long", 0), _column("amount", "double", 1)],
        "properties": {},
    }
    if fmt:
        document["data_source_format"] = fmt
    if location:
        document["storage_location"] = location
    return {**document, **extra}


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    orders = DeltaBuilder(tmp_path / "lake" / "orders")
    orders.commit(
        orders.protocol(),
        orders.metadata([field("id", "long"), field("amount", "double")]),
        orders.data_file(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "amount": [1.0, 2.0, 3.0]})),
    )
    return Workspace(
        token=TOKEN,
        catalogs={
            "main": {
                "sales": [
                    _table("orders", "MANAGED", "DELTA", str(orders.root)),
                    _table(
                        "customers",
                        "EXTERNAL",
                        "DELTA",
                        "s3://no-such-bucket/customers",
                        properties={"delta.enableChangeDataFeed": "true"},
                    ),
                    _table("v_orders", "VIEW", None, view_definition="SELECT * FROM main.sales.orders"),
                    _table("secret", "MANAGED", "DELTA", "s3://no-such-bucket/secret"),
                    _table("raw_csv", "EXTERNAL", "CSV", "s3://landing/raw"),
                ],
                "information_schema": [],
            },
            "system": {"billing": []},
        },
        failing_tables={"main.sales.secret": (403, "PERMISSION_DENIED")},
        throttle_once={"/api/2.1/unity-catalog/tables"},
        notebooks={
            "/Users/ann@example.com/etl/load": (
                "PYTHON",
                "# Databricks notebook source\nspark.table('main.sales.orders')\n",
            ),
            "/Users/ann@example.com/report": (
                "SQL",
                "-- Databricks notebook source\nSELECT * FROM main.sales.orders\n",
            ),
            "/Shared/gone": ("PYTHON", None),
        },
        hive={
            "legacy": {
                "events": {
                    "format": "delta",
                    "location": "dbfs:/user/hive/warehouse/legacy.db/events",
                    "partitionColumns": ["day"],
                    "numFiles": 1200,
                    "sizeInBytes": 2_400_000_000,
                    "properties": {"delta.enableDeletionVectors": "true"},
                    "minReaderVersion": 3,
                    "minWriterVersion": 7,
                    "tableFeatures": ["appendOnly", "deletionVectors", "invariants"],
                },
                "events_v": None,
            }
        },
        jobs=[
            {
                "job_id": 11,
                "creator_user_name": "ann@example.com",
                "settings": {
                    "name": "nightly",
                    "schedule": {"quartz_cron_expression": "0 0 2 * * ?", "timezone_id": "UTC"},
                    "job_clusters": [{"job_cluster_key": "c", "new_cluster": {"spark_version": "15.4.x-scala2.12"}}],
                    "tasks": [
                        {
                            "task_key": "load",
                            "notebook_task": {"notebook_path": "/Repos/etl/load"},
                            "job_cluster_key": "c",
                        },
                        {
                            "task_key": "agg",
                            "spark_jar_task": {"main_class_name": "com.acme.Agg"},
                            "job_cluster_key": "c",
                        },
                    ],
                },
            },
            {
                "job_id": 12,
                "settings": {"name": "dlt", "tasks": [{"task_key": "p", "pipeline_task": {"pipeline_id": "p-1"}}]},
            },
            {"job_id": 13, "settings": {"name": "adhoc", "tasks": []}},
        ],
    )


@pytest.fixture
def url(workspace: Workspace) -> Iterator[str]:
    with serve(workspace) as address:
        yield address


def _client(url: str, token: str = TOKEN) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=url, token=token, retry_timeout_seconds=20))


def test_crawls_unity_catalog_hive_metastore_and_jobs(url: str, workspace: Workspace) -> None:
    source = WorkspaceSource(_client(url), warehouse_id="wh-1", read_logs=True)
    inventory = crawl([source])

    tables = {t.name: t for t in inventory.tables}
    assert sorted(tables) == [
        "hive_metastore.legacy.events",
        "hive_metastore.legacy.events_v",
        "main.sales.customers",
        "main.sales.orders",
        "main.sales.raw_csv",
        "main.sales.v_orders",
    ]
    orders = tables["main.sales.orders"]
    assert (orders.kind, orders.format, orders.owner) == ("managed", "delta", "data-team")
    assert orders.delta is not None and orders.delta.facts_from == "delta-log"
    assert (orders.delta.num_files, orders.delta.row_count) == (1, 3)
    customers = tables["main.sales.customers"]
    assert customers.delta is None and customers.delta_error and "no-such-bucket" in customers.delta_error
    assert tables["main.sales.v_orders"].view_definition == "SELECT * FROM main.sales.orders"
    assert (tables["main.sales.raw_csv"].kind, tables["main.sales.raw_csv"].format) == ("external", "csv")
    events = tables["hive_metastore.legacy.events"]
    assert events.kind == "managed" and events.delta is not None
    assert events.delta.facts_from == "describe-detail"
    assert events.delta.reader_features == ("deletionVectors",)
    assert events.delta.partition_columns == ("day",)
    assert (events.delta.num_files, events.delta.size_bytes) == (1200, 2_400_000_000)
    assert tables["hive_metastore.legacy.events_v"].kind == "view"

    # the table whose GET was refused is a failure; the crawl went on past it
    assert [(f.subject, f.stage) for f in inventory.failures] == [
        ("main.sales.secret", "get-table"),
        ("/Shared/gone", "export-notebook"),
    ]
    assert "does not have SELECT" in inventory.failures[0].reason

    # three pages of tables, the first throttled once and retried by the SDK
    pages = [p for m, p, _ in workspace.requests if p.startswith("/api/2.1/unity-catalog/tables?")]
    assert len(pages) == 4 and sum("page_token" in p for p in pages) == 2
    assert not any("information_schema" in p or "catalog_name=system" in p for _, p, _ in workspace.requests)

    notebooks = {n.path: n for n in inventory.notebooks}
    assert sorted(notebooks) == ["/Users/ann@example.com/etl/load", "/Users/ann@example.com/report"]
    assert notebooks["/Users/ann@example.com/report"].language == "sql"
    assert notebooks["/Users/ann@example.com/etl/load"].tables_referenced == ("main.sales.orders",)

    jobs = {j.job_id: j for j in inventory.jobs}
    assert [(t.kind, t.target, t.spark_version) for t in jobs["11"].tasks] == [
        ("notebook", "/Repos/etl/load", "15.4.x-scala2.12"),
        ("spark_jar", "com.acme.Agg", "15.4.x-scala2.12"),
    ]
    assert jobs["11"].schedule == "0 0 2 * * ?" and jobs["12"].tasks[0].kind == "pipeline"

    assessment = assess(inventory)
    job_codes = {j.job_id: [f.code for f in j.findings] for j in assessment.jobs}
    assert job_codes == {
        "11": ["job-recreate", "job-notebook-missing", "jar-task"],
        "12": ["job-recreate", "pipeline-task"],
        "13": ["job-recreate"],
    }
    strategies = {t.name: t.strategy for t in assessment.tables}
    assert strategies == {
        "hive_metastore.legacy.events": "rewrite",
        "hive_metastore.legacy.events_v": "recreate-view",
        "main.sales.customers": "unknown",
        "main.sales.orders": "rewrite",
        "main.sales.raw_csv": "blocked",
        "main.sales.v_orders": "recreate-view",
    }


def test_parallel_reads_give_the_same_inventory_and_a_slow_table_holds_back_no_other(
    url: str, workspace: Workspace
) -> None:
    orders = "/api/2.1/unity-catalog/tables/main.sales.orders"
    workspace.slow[orders] = 1.0
    one = crawl([WorkspaceSource(_client(url), warehouse_id="wh-1", read_logs=True, workers=1)])
    gets = [path for path in workspace.answered if path.startswith("/api/2.1/unity-catalog/tables/")]
    assert gets[0] == orders  # one at a time: everything waits for the slow table
    workspace.answered.clear()

    four = crawl([WorkspaceSource(_client(url), warehouse_id="wh-1", read_logs=True, workers=4)])

    gets = [path for path in workspace.answered if path.startswith("/api/2.1/unity-catalog/tables/")]
    assert len(gets) == 5 and gets[-1] == orders  # the others, the refused one too, answered meanwhile
    assert replace(four, created_at="") == replace(one, created_at="")
    assert [t.name for t in four.tables][:2] == ["hive_metastore.legacy.events", "hive_metastore.legacy.events_v"]
    assert [(f.subject, f.stage) for f in four.failures] == [
        ("main.sales.secret", "get-table"),
        ("/Shared/gone", "export-notebook"),
    ]


def test_a_bad_token_stops_the_crawl_with_one_message(url: str) -> None:
    from datax_migrate.errors import InventoryError

    with pytest.raises(InventoryError, match="cannot sign in"):
        crawl([WorkspaceSource(_client(url, token="dapi-wrong"))])


def test_the_token_appears_nowhere(
    url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-databrickscfg"))
    caplog.set_level(logging.DEBUG)
    out = tmp_path / "inventory.json"
    code = main(["inventory", "--host", url, "--warehouse", "wh-1", "--out", str(out), "--parquet"])
    assert code == 1  # one table could not be read
    report_dir = tmp_path / "assessment"
    assert main(["assess", str(out), "--report-dir", str(report_dir)]) in (0, 1)
    captured = capsys.readouterr()
    written = [out, *tmp_path.glob("inventory.*.parquet"), *report_dir.iterdir()]
    assert len(written) == 8
    for path in written:
        assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in captured.out + captured.err + caplog.text
    inventory = Inventory.from_json(out.read_text())
    assert inventory.sources == (f"workspace {url}",)
    assert "main.sales.orders" in {t.name for t in inventory.tables}


def test_workspace_profiles_from_databrickscfg(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".databrickscfg").write_text(
        f"[DEFAULT]\nhost = {url}\ntoken = {TOKEN}\n\n[staging]\nhost = {url}\ntoken = {TOKEN}\n"
        f"\n[stale]\nhost = {url}\ntoken = dapi-revoked\n"
    )
    monkeypatch.setenv("HOME", str(home))
    for name in [name for name in os.environ if name.startswith("DATABRICKS_")]:
        monkeypatch.delenv(name)

    for profile in (["--workspace", "staging"], ["--workspace"]):  # a named profile, and DEFAULT
        out = tmp_path / f"{len(profile)}" / "inventory.json"
        assert main(["inventory", *profile, "--workers", "2", "--out", str(out)]) == 1  # one table refused
        inventory = Inventory.from_json(out.read_text())
        assert inventory.sources == (f"workspace {url}",)
        assert {"main.sales.orders", "main.sales.customers"} <= {t.name for t in inventory.tables}
        assert TOKEN not in out.read_text()

    assert main(["inventory", "--workspace", "stale", "--out", str(tmp_path / "x.json")]) == 2
    assert main(["inventory", "--workspace", "missing", "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-2].startswith(f"datax-migrate: error: cannot sign in to {url}")
    assert err[-1].startswith("datax-migrate: error: cannot sign in to Databricks") and "missing" in err[-1]


def test_records_unity_catalog_times_and_describe_table_extended_facts(url: str, workspace: Workspace) -> None:
    orders = workspace.catalogs["main"]["sales"][0]
    orders.update(created_at=1704067200000, created_by="ann@example.com", updated_at=1717243500123, updated_by="bob")
    workspace.hive["legacy"]["raw"] = {
        "format": "parquet",
        "location": "s3://landing/legacy/raw",
        "properties": {"skip.header.line.count": "1", "comment.note": "kept, as is"},
    }
    workspace.hive_extended = {
        "legacy.events": {"Owner": "etl-admin", "Created Time": "Tue Jan 09 10:00:00 UTC 2024"},
        "legacy.events_v": {
            "Owner": "analyst",
            "Created Time": "Wed Feb 14 08:30:05 UTC 2024",
            "View Text": "SELECT id, day\nFROM legacy.events WHERE day > '2024-01-01'",
            "View Original Text": "SELECT id, day FROM events WHERE day > '2024-01-01'",
            "View Query Output Columns": "[id, day]",
        },
        "legacy.raw": {
            "Owner": "loader",
            "Created Time": "Tue Jan 09 02:00:00 PST 2024",
            "Last Access": "Thu Mar 07 12:00:00 UTC 2024",
        },
    }

    inventory = crawl([WorkspaceSource(_client(url), warehouse_id="wh-1")])

    tables = {t.name: t for t in inventory.tables}
    recorded = tables["main.sales.orders"]
    assert (recorded.created_at, recorded.created_by) == ("2024-01-01T00:00:00.000+00:00", "ann@example.com")
    assert (recorded.updated_at, recorded.updated_by) == ("2024-06-01T12:05:00.123+00:00", "bob")
    customers = tables["main.sales.customers"]
    assert (customers.created_at, customers.updated_at, customers.created_by) == (None, None, None)

    events = tables["hive_metastore.legacy.events"]
    assert (events.kind, events.format, events.owner) == ("managed", "delta", "etl-admin")
    assert (events.created_at, events.last_access) == ("2024-01-09T10:00:00.000+00:00", None)
    assert events.location == "dbfs:/user/hive/warehouse/legacy.db/events"
    assert events.properties == {"delta.enableDeletionVectors": "true"}
    assert events.delta is not None and events.delta.facts_from == "describe-detail"
    assert events.delta.num_files == 1200

    view = tables["hive_metastore.legacy.events_v"]
    assert (view.kind, view.format, view.owner, view.location) == ("view", None, "analyst", None)
    assert view.view_definition == "SELECT id, day\nFROM legacy.events WHERE day > '2024-01-01'"
    assert view.created_at == "2024-02-14T08:30:05.000+00:00" and view.delta is None

    raw = tables["hive_metastore.legacy.raw"]
    assert (raw.kind, raw.format, raw.location, raw.owner) == (
        "external",
        "parquet",
        "s3://landing/legacy/raw",
        "loader",
    )
    assert raw.properties == {"comment.note": "kept, as is", "skip.header.line.count": "1"}
    assert raw.created_at == "Tue Jan 09 02:00:00 PST 2024"  # no offset in the zone's abbreviation: kept as printed
    assert raw.last_access == "2024-03-07T12:00:00.000+00:00"

    described = [s for s in workspace.statements if s.startswith("DESCRIBE") and "hive_metastore" in s]
    assert sorted(described) == sorted(
        [
            "DESCRIBE DETAIL hive_metastore.`legacy`.`events`",
            "DESCRIBE TABLE EXTENDED hive_metastore.`legacy`.`events`",
            "DESCRIBE TABLE EXTENDED hive_metastore.`legacy`.`events_v`",
            "DESCRIBE TABLE EXTENDED hive_metastore.`legacy`.`raw`",
        ]
    )  # DESCRIBE DETAIL for the Delta table only
    assert Inventory.from_json(inventory.to_json()) == inventory
    added = ("created_at", "created_by", "updated_at", "updated_by", "last_access")
    document = json.loads(inventory.to_json())
    document["tables"] = [{k: v for k, v in t.items() if k not in added} for t in document["tables"]]
    older = {t.name: t for t in Inventory.from_json(json.dumps(document)).tables}  # written before these fields
    assert older["main.sales.orders"].created_at is None and older["main.sales.orders"].owner == "data-team"


def test_a_table_whose_describe_table_extended_fails_is_a_failure(url: str, workspace: Workspace) -> None:
    workspace.hive["legacy"]["locked"] = {"format": "delta", "location": "s3://x/locked"}
    workspace.refused_statements.add("DESCRIBE TABLE EXTENDED hive_metastore.`legacy`.`locked`")

    inventory = crawl([WorkspaceSource(_client(url), warehouse_id="wh-1")])

    failure = next(f for f in inventory.failures if f.subject == "hive_metastore.legacy.locked")
    assert failure.stage == "describe-table" and "ended FAILED" in failure.reason
    assert "Insufficient privileges" in failure.reason
    assert {"hive_metastore.legacy.events", "hive_metastore.legacy.events_v"} <= {t.name for t in inventory.tables}


def test_records_what_triggers_each_job(url: str, workspace: Workspace, tmp_path: Path) -> None:
    task = [{"task_key": "t", "notebook_task": {"notebook_path": "/Repos/etl/load"}}]
    workspace.jobs += [
        {
            "job_id": 21,
            "settings": {
                "name": "on-files",
                "tasks": task,
                "trigger": {
                    "pause_status": "UNPAUSED",
                    "file_arrival": {"url": "s3://landing/incoming/", "min_time_between_triggers_seconds": 60},
                },
            },
        },
        {
            "job_id": 22,
            "settings": {
                "name": "every-4-hours",
                "tasks": task,
                "trigger": {"pause_status": "PAUSED", "periodic": {"interval": 4, "unit": "HOURS"}},
            },
        },
        {
            "job_id": 23,
            "settings": {
                "name": "on-table-update",
                "tasks": task,
                "trigger": {
                    "table_update": {
                        "table_names": ["main.sales.orders", "main.sales.customers"],
                        "condition": "ALL_UPDATED",
                    }
                },
            },
        },
        {"job_id": 24, "settings": {"name": "streaming", "tasks": task, "continuous": {"pause_status": "UNPAUSED"}}},
        {
            "job_id": 25,
            "settings": {
                "name": "paused-cron",
                "tasks": task,
                "schedule": {
                    "quartz_cron_expression": "0 30 6 * * ?",
                    "timezone_id": "Europe/Paris",
                    "pause_status": "PAUSED",
                },
            },
        },
        {"job_id": 26, "settings": {"name": "after-job", "tasks": task, "trigger": {"job_completion": {"job_id": 11}}}},
    ]

    inventory = crawl([WorkspaceSource(_client(url))])

    triggers = {j.job_id: j.trigger for j in inventory.jobs}
    assert triggers["11"] == JobTrigger("cron", cron="0 0 2 * * ?", timezone="UTC")
    assert triggers["12"] is None and triggers["13"] is None  # run only when started
    assert triggers["21"] == JobTrigger("file-arrival", url="s3://landing/incoming/")
    assert triggers["22"] == JobTrigger("periodic", paused=True, interval=4, unit="HOURS")
    assert triggers["23"] == JobTrigger(
        "table-update", tables=("main.sales.orders", "main.sales.customers"), condition="ALL_UPDATED"
    )
    assert triggers["24"] == JobTrigger("continuous")
    assert triggers["25"] == JobTrigger("cron", paused=True, cron="0 30 6 * * ?", timezone="Europe/Paris")
    assert triggers["26"] == JobTrigger("job-completion")
    assert {j.job_id: j.schedule for j in inventory.jobs if j.schedule} == {"11": "0 0 2 * * ?", "25": "0 30 6 * * ?"}

    assert Inventory.from_json(inventory.to_json()) == inventory
    document = json.loads(inventory.to_json())
    older = {**document, "jobs": [{k: v for k, v in job.items() if k != "trigger"} for job in document["jobs"]]}
    assert all(job.trigger is None for job in Inventory.from_json(json.dumps(older)).jobs)  # written before triggers
    periodic = next(j for j in document["jobs"] if j["job_id"] == "22")
    assert periodic["trigger"] == {
        "kind": "periodic",
        "paused": True,
        "cron": None,
        "timezone": None,
        "url": None,
        "interval": 4,
        "unit": "HOURS",
        "tables": [],
        "condition": None,
    }
    write_parquet(inventory, tmp_path, "inventory")
    rows = pq.read_table(tmp_path / "inventory.jobs.parquet").to_pylist()
    assert json.loads(next(r["trigger"] for r in rows if r["job_id"] == "21"))["url"] == "s3://landing/incoming/"


def _connect(url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, timeout: float) -> WorkspaceSource:
    """A source signed in as ``inventory --host URL --timeout T`` signs in (the token from the environment)."""
    monkeypatch.setenv("DATABRICKS_TOKEN", TOKEN)
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(tmp_path / "no-databrickscfg"))
    return WorkspaceSource.connect(host=url, warehouse_id="wh-1", timeout=timeout)


def test_5xx_answers_are_retried_and_the_crawl_succeeds(
    url: str, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    orders = "/api/2.1/unity-catalog/tables/main.sales.orders"
    workspace.server_errors = {
        orders: [503],
        "/api/2.2/jobs/list": [502, 504],
        "/api/2.0/sql/statements": [500],
        "/api/2.0/workspace/export": [503, 503, 503],
    }

    inventory = crawl([_connect(url, monkeypatch, tmp_path, timeout=60)])

    assert [(f.subject, f.stage) for f in inventory.failures] == [
        ("main.sales.secret", "get-table"),
        ("/Shared/gone", "export-notebook"),
    ]
    assert not any(workspace.server_errors.values())  # every 5xx was answered, then the request again
    assert sum(path == orders for _, path in workspace.received) == 2
    assert sum(path == "/api/2.2/jobs/list" for _, path in workspace.received) == 4  # two pages, the first tried thrice
    assert {"main.sales.orders", "hive_metastore.legacy.events"} <= {t.name for t in inventory.tables}
    assert [j.job_id for j in inventory.jobs] == ["11", "12", "13"]
    assert len(inventory.notebooks) == 2


@pytest.mark.parametrize(
    ("timeout", "attempts", "least", "most"),
    [
        (60.0, 4, 0.5 + 1 + 2, (0.5 + 1 + 2) * 1.25),  # waits of 0.5, 1 and 2 s, each up to a quarter longer
        (4.0, 2, 0.5, 0.5 * 1.25),  # 5xx retries get a quarter of the timeout: the 1 s wait would pass it
    ],
)
def test_a_persistent_500_is_a_recorded_failure_after_bounded_retries(
    url: str,
    workspace: Workspace,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    timeout: float,
    attempts: int,
    least: float,
    most: float,
) -> None:
    orders = "/api/2.1/unity-catalog/tables/main.sales.orders"
    workspace.failing_tables["main.sales.orders"] = (500, "INTERNAL_ERROR")
    workspace.throttle_once.clear()  # a 429 outlasts the SDK's own retry time left by a 4 s timeout
    source = _connect(url, monkeypatch, tmp_path, timeout)

    started = time.monotonic()
    inventory = crawl([source])
    elapsed = time.monotonic() - started

    failure = next(f for f in inventory.failures if f.subject == "main.sales.orders")
    assert failure.stage == "get-table" and "does not have SELECT" in failure.reason
    tries = [at for at, path in workspace.received if path == orders]
    assert len(tries) == attempts
    assert least <= tries[-1] - tries[0] <= most + 1.5  # backoff between tries (and time to answer, on a busy machine)
    assert elapsed < timeout
    assert {"main.sales.customers", "hive_metastore.legacy.events"} <= {t.name for t in inventory.tables}


def test_a_persistent_503_stops_the_crawl_within_the_timeout_whatever_its_retry_after(
    url: str, workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from datax_migrate.errors import InventoryError

    catalogs = "/api/2.1/unity-catalog/catalogs"
    workspace.server_errors[catalogs] = [503] * 100
    workspace.retry_after[catalogs] = "3600"
    source = _connect(url, monkeypatch, tmp_path, timeout=4)

    started = time.monotonic()
    with pytest.raises(InventoryError, match=r"cannot reach the Databricks workspace .* within 4 s .*answered 503"):
        crawl([source])
    elapsed = time.monotonic() - started

    # databricks-sdk retries a 503 itself, sleeping its Retry-After: cut to 4 s, not an hour
    assert 1 <= sum(path == catalogs for _, path in workspace.received) <= 2
    assert elapsed < 4 + 4 + 1.5  # the SDK may begin one last sleep of at most 4 s (+1 s jitter) before its deadline
