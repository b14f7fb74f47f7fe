"""Parsing of serialised Delta partition values, per type."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from datax_migrate.delta.partitions import HIVE_DEFAULT_PARTITION, parse_partition_value
from datax_migrate.delta.schema import DecimalType, PrimitiveType
from datax_migrate.errors import CorruptLogError

UTC = dt.timezone.utc


@pytest.mark.parametrize("raw", [None, "", HIVE_DEFAULT_PARTITION])
@pytest.mark.parametrize("kind", ["string", "integer", "date", "timestamp", "binary", "boolean"])
def test_null_forms(raw: str | None, kind: str) -> None:
    assert parse_partition_value(raw, PrimitiveType(kind)) is None


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_long_round_trip(value: int) -> None:
    assert parse_partition_value(str(value), PrimitiveType("long")) == value


@pytest.mark.parametrize(("kind", "raw"), [("byte", "128"), ("short", "-32769"), ("integer", "2147483648")])
def test_integer_out_of_range(kind: str, raw: str) -> None:
    with pytest.raises(CorruptLogError, match=f"not a valid {kind}"):
        parse_partition_value(raw, PrimitiveType(kind), "c")


@given(st.decimals(min_value=-(10**15), max_value=10**15, places=3, allow_nan=False, allow_infinity=False))
def test_decimal_round_trip(value: decimal.Decimal) -> None:
    parsed = parse_partition_value(str(value), DecimalType(20, 3))
    assert parsed == value and parsed.as_tuple().exponent == -3


def test_decimal_with_too_many_places_is_refused() -> None:
    with pytest.raises(CorruptLogError, match="more than 2 digits after the point"):
        parse_partition_value("1.234", DecimalType(10, 2), "amount")


@given(st.dates())
def test_date_round_trip(value: dt.date) -> None:
    assert parse_partition_value(value.isoformat(), PrimitiveType("date")) == value


@given(st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)))
def test_timestamp_forms(value: dt.datetime) -> None:
    spaced = value.isoformat(sep=" ")
    assert parse_partition_value(spaced, PrimitiveType("timestamp_ntz")) == value
    assert parse_partition_value(spaced, PrimitiveType("timestamp")) == value.replace(tzinfo=UTC)
    assert parse_partition_value(value.isoformat() + "Z", PrimitiveType("timestamp")) == value.replace(tzinfo=UTC)


def test_timestamp_with_offset_is_normalised_to_utc() -> None:
    parsed = parse_partition_value("2024-01-01T02:00:00+02:00", PrimitiveType("timestamp"))
    assert parsed == dt.datetime(2024, 1, 1, tzinfo=UTC)


def test_ntz_with_zone_is_refused() -> None:
    with pytest.raises(CorruptLogError, match="carries a time zone"):
        parse_partition_value("2024-01-01T00:00:00Z", PrimitiveType("timestamp_ntz"))


@given(st.text())
def test_strings_are_taken_verbatim(value: str) -> None:
    expected = None if value in ("", HIVE_DEFAULT_PARTITION) else value
    assert parse_partition_value(value, PrimitiveType("string")) == expected


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("FALSE", False)])
def test_boolean(raw: str, expected: bool) -> None:
    assert parse_partition_value(raw, PrimitiveType("boolean")) is expected


def test_boolean_garbage_is_refused() -> None:
    with pytest.raises(CorruptLogError, match="partition value 'yes' of column 'flag'"):
        parse_partition_value("yes", PrimitiveType("boolean"), "flag")


def test_binary_is_utf8_of_the_text() -> None:
    assert parse_partition_value("\u0001\u00ff", PrimitiveType("binary")) == b"\x01\xc3\xbf"
