"""Generated partition columns -> Iceberg transforms."""

from __future__ import annotations

import json

import pytest
from pyiceberg.transforms import DayTransform, HourTransform, IdentityTransform, MonthTransform, YearTransform

from datax_migrate.delta.schema import parse_schema
from datax_migrate.iceberg.partitioning import plan_partitioning, time_parts


@pytest.mark.parametrize(
    ("expression", "parts"),
    [
        ("YEAR(ts)", {"year"}),
        ("month(`ts`)", {"month"}),
        ("DAYOFMONTH(ts)", {"day"}),
        ("hour(ts)", {"hour"}),
        ("CAST(ts AS DATE)", {"year", "month", "day"}),
        ("to_date(ts)", {"year", "month", "day"}),
        ("date_format(ts, 'yyyy-MM')", {"year", "month"}),
        ("DATE_FORMAT(ts,'yyyy')", {"year"}),
    ],
)
def test_known_expressions(expression: str, parts: set[str]) -> None:
    assert time_parts(expression) == ("ts", parts)


@pytest.mark.parametrize("expression", ["ts + 1", "date_format(ts, 'MM')", "substring(name, 1, 2)", "YEAR(ts) + 1"])
def test_other_expressions_are_not_transforms(expression: str) -> None:
    assert time_parts(expression) is None


def schema_with(generated: dict[str, str]) -> object:
    fields = [{"name": "ts", "type": "timestamp", "nullable": True, "metadata": {}}]
    fields += [{"name": "region", "type": "string", "nullable": True, "metadata": {}}]
    fields += [
        {"name": n, "type": "integer", "nullable": True, "metadata": {"delta.generationExpression": e}}
        for n, e in generated.items()
    ]
    return parse_schema(json.dumps({"type": "struct", "fields": fields}))


@pytest.mark.parametrize(
    ("generated", "transform"),
    [
        ({"y": "YEAR(ts)"}, YearTransform()),
        ({"y": "YEAR(ts)", "m": "MONTH(ts)"}, MonthTransform()),
        ({"y": "YEAR(ts)", "m": "MONTH(ts)", "d": "DAY(ts)"}, DayTransform()),
        ({"y": "YEAR(ts)", "m": "MONTH(ts)", "d": "DAY(ts)", "h": "HOUR(ts)"}, HourTransform()),
        ({"d": "CAST(ts AS DATE)", "h": "HOUR(ts)"}, HourTransform()),
    ],
)
def test_generated_columns_collapse_to_the_finest_transform(generated: dict[str, str], transform: object) -> None:
    plan = plan_partitioning(schema_with(generated), ("region", *generated))
    assert [(p.source, p.transform) for p in plan] == [("region", IdentityTransform()), ("ts", transform)]


def test_month_without_year_stays_identity() -> None:
    plan = plan_partitioning(schema_with({"m": "MONTH(ts)"}), ("m",))
    assert [(p.source, p.transform) for p in plan] == [("m", IdentityTransform())]
