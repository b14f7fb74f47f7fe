"""The runner on the Spark engines: convert and reconcile tasks in local Spark, tables two at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datax_migrate.estate import Ledger, run_plan
from tests.estate.conftest import edit_plan
from tests.estate.support import lake_catalog

pytestmark = pytest.mark.spark


def test_a_wave_on_spark(spark: Any, estate: dict[str, Path]) -> None:
    edit_plan(estate["plan"], "ledger", key_columns="id")  # id 7 twice: the unique-key check fails
    summary = run_plan(estate["plan"], config=estate["config"], engine="spark", workers=2)
    assert summary.states == {"MATCHED": 2, "MISMATCHED": 1}
    with Ledger.open(estate["plan"]) as ledger:
        records = {r.target: r for r in ledger.records()}
    assert (records["sales.orders"].rows, records["sales.refunds"].rows) == (3, 2)
    for target in records:
        assert len(lake_catalog(estate["config"]).load_table(target).snapshots()) == 1
