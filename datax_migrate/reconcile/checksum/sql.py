"""The reconciliation checksum as SQL, so each warehouse can checksum its own side.

Over 400 lines because the checksum specification in two SQL dialects, step by step beside the
Python one; the dialects share most expressions.

:func:`checksum_sql` emits one ``SELECT`` statement, for Spark SQL (Spark 3.5, Databricks) or for
Trino (and Athena engine v3), that computes the checksum of docs/reconcile-checksum.md inside the
warehouse: one row per non-empty bucket with ``bucket``, ``row_count``, ``lane_1`` and ``lane_2``
(the bucket's lane sums modulo 2**32), number for number what the local engine
(:mod:`.encoding`, :mod:`.rowhash`, :mod:`.table`) computes. :func:`table_digest` folds those
rows into the table's :class:`~datax_migrate.reconcile.checksum.table.Checksum`.

How the statement works:

- Each row's word stream (section 3 of the spec) is built as an ``array<bigint>``: the null-mask
  words, then for each non-NULL column its words (a NULL column contributes an empty array).
- MurmurHash3's per-word mixing of ``k`` does not depend on the seed, so it runs once, as three
  ``transform`` passes; the per-word update of ``h`` is a fold (Spark ``aggregate``, Trino
  ``reduce``), run once per seed; the finaliser runs as successive projections, so no expression
  repeats a large sub-expression.
- Every intermediate stays far below 2**63, so neither Spark in ANSI mode nor Trino (both fail on a
  BIGINT overflow) can overflow: words are kept in ``[0, 2**32)``, a 32 x 32-bit product modulo
  2**32 is ``x * lo16(c) + ((x * hi16(c)) & 0xFFFF) * 2**16`` (each product below 2**48), rotations
  shift left by at most 15 bits before masking, and the lane sums add the 16-bit halves of each
  hash separately (exact up to 2**47 rows) before reducing modulo 2**32.

Per kind (section 1):

- Spark computes the IEEE-754 bits of a double arithmetically (exponent from ``log2`` corrected
  with exact powers of two, mantissa by exact scaling), because ``reflect`` is not available on
  Databricks SQL warehouses; Trino uses ``to_ieee754_64``. NaN and ``-0.0`` are canonicalised.
- Spark's ``timestamp_ntz`` words come from the wall-clock fields (``unix_date``, ``hour``,
  ``minute``, ``extract(SECOND ...)``), which do not depend on ``spark.sql.session.timeZone``;
  ``timestamp`` uses ``unix_micros``. Trino has no exact microsecond epoch function
  (``to_unixtime`` is a double), so it takes whole seconds with ``date_diff`` and the remaining
  fraction, below one second, from ``to_unixtime``, where a double is exact to the microsecond.

Spark evaluates higher-order functions (``transform``, ``aggregate``) without code generation, so a
value's words repeat small sub-expressions rather than bind them with one-element ``transform``
calls; only the per-word hashing uses lambdas, and it dominates the cost in Spark (about 30,000 rows
a second for 14 columns on two local cores, some 5x slower than the local engine).

Limits: ``decimal(p, s)`` with ``p > 18`` or a negative scale, and nested columns (struct, array,
map), are refused with a :class:`~datax_migrate.errors.ReconcileError` naming them; compare such
columns with the local engine. The lane sums are exact up to 2**47 rows per bucket.

The Spark SQL is executed in the test suite (``tests/reconcile/checksum/test_sql_on_spark.py``) and agrees
with the local engine. The Trino SQL is executed by DuckDB, transpiled from Trino by sqlglot
(``tests/reconcile/checksum/test_sql_on_duckdb.py``, and over real Delta and Iceberg tables through DuckDB's
``delta_scan`` and ``iceberg_scan`` in ``tests/reconcile/test_reconcile_evidence.py``), and agrees with the
local engine; its arithmetic is also checked for overflow by a small interpreter in
``tests/reconcile/checksum/test_sql.py``. No Trino server runs in our tests.

Users reach this module through ``datax-migrate reconcile --emit-sql spark|trino`` and the
checksum SQL files of every report folder (:mod:`.warehouse_sql`).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Literal

import pyarrow as pa

from datax_migrate.errors import EncodingError, ReconcileError
from datax_migrate.reconcile.checksum.encoding import CANONICAL_NAN_BITS, column_kind
from datax_migrate.reconcile.checksum.rowhash import SEED_1, SEED_2
from datax_migrate.reconcile.checksum.table import Checksum

Dialect = Literal["spark", "trino"]

SPEC_VERSION = "datax-rowhash-1"
_MASK32 = 0xFFFFFFFF
_C1, _C2 = 0xCC9E2D51, 0x1B873593
_F1, _F2 = 0x85EBCA6B, 0xC2B2AE35
_STEP_ADD = 0xE6546B64
_NAN_HIGH = CANONICAL_NAN_BITS >> 32
_INF_HIGH = 0x7FF00000
_SIGN_HIGH = 0x80000000
_QUOTED = re.compile(r"`(?:[^`]|``)*`|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")
_SUPPORTED = frozenset(
    ["boolean", "integer", "date", "timestamp", "timestamp_ntz", "float", "decimal64", "string", "binary", "null"]
)


class _SqlDialect(ABC):
    """The handful of expressions whose spelling differs between Spark SQL and Trino."""

    name: str

    @abstractmethod
    def quote(self, identifier: str) -> str:
        """``identifier`` as a quoted identifier."""

    @abstractmethod
    def lit(self, value: int) -> str:
        """A BIGINT literal."""

    @abstractmethod
    def band(self, a: str, b: str) -> str:
        """Bitwise AND."""

    @abstractmethod
    def bor(self, a: str, b: str) -> str:
        """Bitwise OR."""

    @abstractmethod
    def bxor(self, a: str, b: str) -> str:
        """Bitwise XOR."""

    @abstractmethod
    def shl(self, a: str, bits: int) -> str:
        """Left shift (only used where the result stays below 2**63)."""

    @abstractmethod
    def shr(self, a: str, bits: int) -> str:
        """Right shift (logical in Trino, arithmetic in Spark: callers mask or pass non-negative values)."""

    @abstractmethod
    def mod(self, a: str, m: int) -> str:
        """``a`` modulo ``m`` for a non-negative ``a``."""

    @abstractmethod
    def array(self, items: Sequence[str]) -> str:
        """An ``array<bigint>`` of ``items``."""

    @abstractmethod
    def empty_array(self) -> str:
        """An empty ``array<bigint>``."""

    @abstractmethod
    def size(self, array: str) -> str:
        """The element count of ``array``."""

    @abstractmethod
    def bind(self, value: str, var: str, body: str) -> str:
        """``body`` with ``var`` bound to ``value`` by a lambda (a one-element ``transform``)."""

    @abstractmethod
    def fold(self, array: str, seed: int, state: str, element: str, body: str) -> str:
        """Left fold of ``array`` from ``seed`` with ``body`` over ``state`` and ``element``."""

    @abstractmethod
    def float_words(self, value: str) -> str:
        """An array of the two words of a float column (``value`` is the non-NULL column)."""

    @abstractmethod
    def date_days(self, value: str) -> str:
        """Days since 1970-01-01 of a date, as BIGINT."""

    @abstractmethod
    def timestamp_micros(self, value: str, naive: bool) -> str:
        """Microseconds since the epoch (UTC, or the wall-clock epoch when ``naive``), as BIGINT."""

    @abstractmethod
    def string_words(self, value: str) -> list[str]:
        """UTF-8 length, CRC-32 of the UTF-8 bytes, CRC-32 of the reversed string's UTF-8 bytes."""

    @abstractmethod
    def binary_words(self, value: str) -> list[str]:
        """Byte length, CRC-32, CRC-32 of the lower-case hex text."""

    def transform(self, array: str, var: str, body: str) -> str:
        """``array`` with ``body`` applied to every element ``var``."""
        return f"transform({array}, {var} -> {body})"

    def let(self, value: str, var: str, body: str) -> str:
        """``body`` with ``var`` replaced by ``value``.

        Inlined rather than bound by a lambda: Spark interprets lambdas (no code generation), and
        repeating a small expression costs less than a one-element ``transform`` in either engine.
        """
        if any(var in quoted for quoted in _QUOTED.findall(body)):
            return self.bind(value, var, body)
        return re.sub(rf"\b{var}\b", lambda _: f"({value})", body)

    def int64_words(self, value: str) -> list[str]:
        """The low and high words of a BIGINT ``value`` (two's complement)."""
        return [self.band(value, self.lit(_MASK32)), self.band(self.shr(value, 32), self.lit(_MASK32))]

    def mul32(self, x: str, constant: int) -> str:
        """``x * constant`` modulo 2**32 for ``x`` in ``[0, 2**32)``, from the 16-bit halves of ``constant``."""
        low, high = constant & 0xFFFF, constant >> 16
        high_part = f"({self.band(f'({x} * {self.lit(high)})', self.lit(0xFFFF))} * {self.lit(0x10000)})"
        return self.band(f"(({x} * {self.lit(low)}) + {high_part})", self.lit(_MASK32))

    def rotl32(self, x: str, bits: int) -> str:
        """``x`` rotated left by ``bits`` within 32 bits, for ``x`` in ``[0, 2**32)``."""
        return self.bor(self.band(self.shl(x, bits), self.lit(_MASK32)), self.shr(x, 32 - bits))

    def cast(self, value: str, sql_type: str) -> str:
        """``CAST(value AS sql_type)``."""
        return f"CAST({value} AS {sql_type})"


class _Spark(_SqlDialect):
    name = "spark"

    def quote(self, identifier: str) -> str:
        return "`" + identifier.replace("`", "``") + "`"

    def lit(self, value: int) -> str:
        return f"{value}L"

    def band(self, a: str, b: str) -> str:
        return f"({a} & {b})"

    def bor(self, a: str, b: str) -> str:
        return f"({a} | {b})"

    def bxor(self, a: str, b: str) -> str:
        return f"({a} ^ {b})"

    def shl(self, a: str, bits: int) -> str:
        return f"shiftleft({a}, {bits})"

    def shr(self, a: str, bits: int) -> str:
        return f"shiftright({a}, {bits})"

    def mod(self, a: str, m: int) -> str:
        return f"pmod({a}, {self.lit(m)})"

    def array(self, items: Sequence[str]) -> str:
        return "array(" + ", ".join(items) + ")"

    def empty_array(self) -> str:
        return "CAST(array() AS ARRAY<BIGINT>)"

    def size(self, array: str) -> str:
        return f"CAST(size({array}) AS BIGINT)"

    def bind(self, value: str, var: str, body: str) -> str:
        return f"transform(array({value}), {var} -> {body})[0]"

    def fold(self, array: str, seed: int, state: str, element: str, body: str) -> str:
        return f"aggregate({array}, {self.lit(seed)}, ({state}, {element}) -> {body})"

    def float_words(self, value: str) -> str:
        # The bits of |v| = m * 2**e: e from log2, corrected by one either way with exact powers of
        # two; the mantissa by exact scaling (subnormals scaled by 2**1074 in two exact steps).
        v, a, e, m = "dx_v", "dx_a", "dx_e", "dx_m"
        sign = f"CASE WHEN {v} < 0 THEN {self.lit(_SIGN_HIGH)} ELSE {self.lit(0)} END"
        normal = self.let(
            f"CAST((({a} / pow(2, {e})) - 1) * pow(2, 52) AS BIGINT)",
            m,
            self.array(
                [
                    self.band(m, self.lit(_MASK32)),
                    f"({sign} + (({e} + {self.lit(1023)}) * {self.lit(1 << 20)}) + {self.shr(m, 32)})",
                ]
            ),
        )
        exponent = (
            f"(floor(log2({a})) + CASE WHEN {a} >= pow(2, floor(log2({a})) + 1) THEN 1 "
            f"WHEN {a} < pow(2, floor(log2({a}))) THEN -1 ELSE 0 END)"
        )
        subnormal = self.let(
            f"CAST({a} * pow(2, 537) * pow(2, 537) AS BIGINT)",
            m,
            self.array([self.band(m, self.lit(_MASK32)), f"({sign} + {self.shr(m, 32)})"]),
        )
        finite = self.let(
            f"abs({v})",
            a,
            f"CASE WHEN {a} < pow(2, -1022) THEN {subnormal} ELSE {self.let(exponent, e, normal)} END",
        )
        infinite = self.array([self.lit(0), f"({sign} + {self.lit(_INF_HIGH)})"])
        body = (
            f"CASE WHEN isnan({v}) THEN {self.array([self.lit(0), self.lit(_NAN_HIGH)])} "
            f"WHEN {v} = 0 THEN {self.array([self.lit(0), self.lit(0)])} "
            f"WHEN abs({v}) = CAST('Infinity' AS DOUBLE) THEN {infinite} "
            f"ELSE {finite} END"
        )
        return self.let(self.cast(value, "DOUBLE"), v, body)

    def date_days(self, value: str) -> str:
        return self.cast(f"unix_date({value})", "BIGINT")

    def timestamp_micros(self, value: str, naive: bool) -> str:
        if not naive:
            return f"unix_micros({value})"
        # Wall-clock fields of a TIMESTAMP_NTZ do not depend on the session time zone.
        return (
            f"((unix_date(CAST({value} AS DATE)) * {self.lit(86_400_000_000)}) "
            f"+ (hour({value}) * {self.lit(3_600_000_000)}) + (minute({value}) * {self.lit(60_000_000)}) "
            f"+ CAST(extract(SECOND FROM {value}) * 1000000 AS BIGINT))"
        )

    def string_words(self, value: str) -> list[str]:
        return [
            self.cast(f"octet_length({value})", "BIGINT"),
            f"crc32(CAST({value} AS BINARY))",
            f"crc32(CAST(reverse({value}) AS BINARY))",
        ]

    def binary_words(self, value: str) -> list[str]:
        return [
            self.cast(f"octet_length({value})", "BIGINT"),
            f"crc32({value})",
            f"crc32(CAST(lower(hex({value})) AS BINARY))",
        ]


class _Trino(_SqlDialect):
    name = "trino"

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def lit(self, value: int) -> str:
        return str(value) if value > 0x7FFFFFFF else f"BIGINT '{value}'"

    def band(self, a: str, b: str) -> str:
        return f"bitwise_and({a}, {b})"

    def bor(self, a: str, b: str) -> str:
        return f"bitwise_or({a}, {b})"

    def bxor(self, a: str, b: str) -> str:
        return f"bitwise_xor({a}, {b})"

    def shl(self, a: str, bits: int) -> str:
        return f"bitwise_left_shift({a}, {bits})"

    def shr(self, a: str, bits: int) -> str:
        return f"bitwise_right_shift({a}, {bits})"

    def mod(self, a: str, m: int) -> str:
        return f"mod({a}, {self.lit(m)})"

    def array(self, items: Sequence[str]) -> str:
        return "ARRAY[" + ", ".join(items) + "]"

    def empty_array(self) -> str:
        return "CAST(ARRAY[] AS ARRAY(BIGINT))"

    def size(self, array: str) -> str:
        return f"cardinality({array})"

    def bind(self, value: str, var: str, body: str) -> str:
        return f"transform(ARRAY[{value}], {var} -> {body})[1]"

    def fold(self, array: str, seed: int, state: str, element: str, body: str) -> str:
        return f"reduce({array}, {self.lit(seed)}, ({state}, {element}) -> {body}, {state} -> {state})"

    def float_words(self, value: str) -> str:
        v, bits = "dx_v", "dx_bits"
        ieee = self.let(
            f"from_big_endian_64(to_ieee754_64({v}))",
            bits,
            self.array(self.int64_words(bits)),
        )
        body = (
            f"CASE WHEN is_nan({v}) THEN {self.array([self.lit(0), self.lit(_NAN_HIGH)])} "
            f"WHEN {v} = 0 THEN {self.array([self.lit(0), self.lit(0)])} ELSE {ieee} END"
        )
        return self.let(self.cast(value, "DOUBLE"), v, body)

    def date_days(self, value: str) -> str:
        return f"date_diff('day', DATE '1970-01-01', {value})"

    def timestamp_micros(self, value: str, naive: bool) -> str:
        # Whole seconds exactly with date_diff; the rest (|r| < 1 s) through to_unixtime, whose
        # double is exact to the microsecond that close to the epoch. Any whole S keeps it exact.
        ts, seconds = "dx_ts", "dx_s"
        zoned = f"with_timezone({value}, 'UTC')" if naive else value
        micros = self.let(
            f"date_diff('second', TIMESTAMP '1970-01-01 00:00:00 UTC', {ts})",
            seconds,
            f"(({seconds} * 1000000) "
            f"+ CAST(round(to_unixtime(date_add('second', -{seconds}, {ts})) * 1000000) AS BIGINT))",
        )
        return self.let(zoned, ts, micros)

    def string_words(self, value: str) -> list[str]:
        return [f"length(to_utf8({value}))", f"crc32(to_utf8({value}))", f"crc32(to_utf8(reverse({value})))"]

    def binary_words(self, value: str) -> list[str]:
        return [f"length({value})", f"crc32({value})", f"crc32(to_utf8(lower(to_hex({value}))))"]


_DIALECTS: dict[str, _SqlDialect] = {"spark": _Spark(), "trino": _Trino()}


def checksum_sql(
    table: str,
    schema: pa.Schema,
    columns: Sequence[str],
    keys: Sequence[str],
    buckets: int,
    dialect: Dialect,
) -> str:
    """One SQL statement computing the reconciliation checksum of ``table`` per bucket.

    The statement returns one row per non-empty bucket, ordered by bucket: ``bucket`` (BIGINT),
    ``row_count`` (BIGINT), and ``lane_1``, ``lane_2``: the bucket's sums of the two row-hash lanes
    modulo 2**32 (BIGINT in ``[0, 2**32)``). With ``buckets=1`` the single row is the table
    checksum (:func:`table_digest` turns the rows into a
    :class:`~datax_migrate.reconcile.checksum.table.Checksum`). The figures equal those of
    :class:`~datax_migrate.reconcile.checksum.table.RowHasher` and
    :class:`~datax_migrate.reconcile.checksum.table.BucketChecksums` for the same columns, keys and
    bucket count.

    The Spark SQL needs Spark 3.5 (or Databricks); it does not depend on the session time zone
    or on ANSI mode. The Trino SQL targets Trino and Athena engine v3; our tests run it on
    DuckDB (see the module docstring).

    Args:
        table: the table to read, inserted as given (quote it yourself if it needs quoting).
        schema: Arrow schema of the table; gives each column's kind.
        columns: compared columns, in order (matched case-insensitively against ``schema``).
        keys: key columns; a row's bucket comes from the hash of its keys, or from its own hash
            when there are none.
        buckets: bucket count, a power of two.
        dialect: ``"spark"`` (Spark SQL, Databricks) or ``"trino"`` (Trino, Athena).

    Returns:
        The ``SELECT`` statement, with a comment header and no trailing semicolon.

    Raises:
        ReconcileError: a column is missing, or has a type the SQL generator does not support
            (``decimal(p, s)`` with ``p > 18`` or ``s < 0``, struct, array, map, types without a
            canonical encoding), all of them named at once; ``buckets`` is not a power of two;
            there is no column.
        ValueError: ``dialect`` is not ``"spark"`` or ``"trino"``.

    """
    if dialect not in _DIALECTS:
        raise ValueError(f"dialect must be 'spark' or 'trino', not {dialect!r}")
    if buckets < 1 or buckets & (buckets - 1):
        raise ReconcileError(f"the bucket count must be a power of two, not {buckets}")
    if not columns:
        raise ReconcileError("the checksum needs at least one column")
    sql = _DIALECTS[dialect]
    fields = _fields(schema, [*columns, *keys])
    row_fields = fields[: len(columns)]
    key_fields = fields[len(columns) :]

    streams = {"dx_row": _stream(sql, row_fields)}
    if key_fields:
        streams["dx_key"] = _stream(sql, key_fields)
    lanes = {"dx_lane_1": ("dx_row", SEED_1), "dx_lane_2": ("dx_row", SEED_2)}
    if key_fields:
        lanes["dx_key_1"] = ("dx_key", SEED_1)
    by = "dx_key_1" if key_fields else "dx_lane_1"

    def fmix_step(shift: int, constant: int) -> list[str]:
        return [f"{sql.mul32(sql.bxor(name, sql.shr(name, shift)), constant)} AS {name}" for name in lanes]

    def final(name: str) -> str:
        return sql.bxor(name, sql.shr(name, 16))

    stages = [
        ("dx_words", [f"{stream} AS {name}" for name, stream in streams.items()], table),
        ("dx_mixed", [f"{_mix_words(sql, name)} AS {name}" for name in streams], "dx_words"),
        (
            "dx_folded",
            [
                f"{sql.bxor(_fold(sql, stream, seed), f'({sql.size(stream)} * 4)')} AS {name}"
                for name, (stream, seed) in lanes.items()
            ],
            "dx_mixed",
        ),
        ("dx_fmix_1", fmix_step(16, _F1), "dx_folded"),
        ("dx_fmix_2", fmix_step(13, _F2), "dx_fmix_1"),
        (
            "dx_hashed",
            [
                f"{final('dx_lane_1')} AS dx_lane_1",
                f"{final('dx_lane_2')} AS dx_lane_2",
                f"{sql.band(final(by), sql.lit(buckets - 1))} AS dx_bucket",
            ],
            "dx_fmix_2",
        ),
    ]
    ctes = ",\n".join(
        f"{name} AS (\n  SELECT\n    " + ",\n    ".join(items) + f"\n  FROM {source}\n)"
        for name, items, source in stages
    )
    sums = [
        f"{_lane_sum(sql, 'dx_lane_1')} AS lane_1",
        f"{_lane_sum(sql, 'dx_lane_2')} AS lane_2",
    ]
    header = (
        f"-- {SPEC_VERSION} reconciliation checksum (docs/reconcile-checksum.md), {sql.name} dialect,\n"
        f"-- generated by datax-migrate: {len(columns)} column(s), {len(keys)} key column(s), {buckets} bucket(s).\n"
        "-- One row per non-empty bucket: row count and lane sums modulo 2**32.\n"
    )
    return (
        f"{header}WITH\n{ctes}\nSELECT\n  dx_bucket AS bucket,\n  count(*) AS row_count,\n  "
        + ",\n  ".join(sums)
        + "\nFROM dx_hashed\nGROUP BY dx_bucket\nORDER BY bucket"
    )


def table_digest(rows: Iterable[Sequence[int]]) -> Checksum:
    """The table checksum from the result rows of :func:`checksum_sql`.

    Args:
        rows: ``(bucket, row_count, lane_1, lane_2)`` rows, as the statement returns them (any
            bucket count).

    Returns:
        The :class:`~datax_migrate.reconcile.checksum.table.Checksum`: the row count and the lane sums
        modulo 2**32 as 8 + 8 hex digits, as the local engine reports it.

    """
    count = lane_1 = lane_2 = 0
    for _bucket, row_count, sum_1, sum_2 in rows:
        count += int(row_count)
        lane_1 += int(sum_1)
        lane_2 += int(sum_2)
    return Checksum(rows=count, digest=f"{lane_1 & _MASK32:08x}{lane_2 & _MASK32:08x}")


def _fields(schema: pa.Schema, names: Sequence[str]) -> list[pa.Field]:
    """The schema fields of ``names`` (case-insensitive), refusing every unsupported one at once."""
    lookup = {name.lower(): schema.field(i) for i, name in enumerate(schema.names)}
    missing = [name for name in names if name.lower() not in lookup]
    if missing:
        raise ReconcileError(f"column(s) {missing} not in the schema ({schema.names})")
    fields = [lookup[name.lower()] for name in names]
    refused = []
    for field in dict.fromkeys(fields):
        try:
            kind = column_kind(field.type).name
        except EncodingError:
            kind = "none"
        if kind not in _SUPPORTED or (pa.types.is_decimal(field.type) and field.type.scale < 0):
            refused.append(f"{field.name!r} ({field.type})")
    if refused:
        raise ReconcileError(
            f"column(s) {', '.join(refused)} not supported by the SQL generator (it covers booleans, "
            "integers, dates, timestamps, floats, decimals up to precision 18, strings and binary); "
            "compare them with the local engine, or leave them out of the SQL checksum"
        )
    return fields


def _stream(sql: _SqlDialect, fields: Sequence[pa.Field]) -> str:
    """The word stream of a row over ``fields``: null-mask words, then each non-NULL column's words."""
    masks = []
    for start in range(0, len(fields), 32):
        terms = [
            f"CASE WHEN {sql.quote(field.name)} IS NULL THEN {sql.lit(1 << bit)} ELSE {sql.lit(0)} END"
            for bit, field in enumerate(fields[start : start + 32])
        ]
        masks.append("(" + " + ".join(terms) + ")")
    parts = [sql.array(masks)]
    for field in fields:
        words = _value_words(sql, field)
        if words:
            column = sql.quote(field.name)
            parts.append(f"CASE WHEN {column} IS NULL THEN {sql.empty_array()} ELSE {words} END")
    if len(parts) == 1:
        return parts[0]
    return "concat(\n      " + ",\n      ".join(parts) + "\n    )"


def _value_words(sql: _SqlDialect, field: pa.Field) -> str | None:
    """An array expression of the words of a non-NULL value of ``field`` (``None`` when it has none)."""
    column = sql.quote(field.name)
    kind = column_kind(field.type).name
    if kind == "null":
        return None
    if kind == "boolean":
        return sql.array([f"CASE WHEN {column} THEN {sql.lit(1)} ELSE {sql.lit(0)} END"])
    if kind == "float":
        return sql.float_words(column)
    if kind == "string":
        return sql.array(sql.string_words(column))
    if kind == "binary":
        return sql.array(sql.binary_words(column))
    if kind == "integer":
        return sql.array(sql.int64_words(sql.cast(column, "BIGINT")))
    if kind == "date":
        value = sql.date_days(column)
    elif kind in ("timestamp", "timestamp_ntz"):
        value = sql.timestamp_micros(column, naive=kind == "timestamp_ntz")
    else:  # decimal64
        precision, scale = field.type.precision, field.type.scale
        exact = sql.cast(column, f"DECIMAL({precision}, {scale})")
        if scale:
            exact = f"{exact} * {sql.cast(str(10**scale), f'DECIMAL({scale + 1}, 0)')}"
        value = sql.cast(exact, "BIGINT")
    return sql.let(value, "dx_n", sql.array(sql.int64_words("dx_n")))


def _mix_words(sql: _SqlDialect, stream: str) -> str:
    """MurmurHash3's per-word mixing of ``k`` (seed-independent), one ``transform`` pass per step."""
    mixed = sql.transform(stream, "k", sql.mul32("k", _C1))
    mixed = sql.transform(mixed, "k", sql.rotl32("k", 15))
    return sql.transform(mixed, "k", sql.mul32("k", _C2))


def _fold(sql: _SqlDialect, stream: str, seed: int) -> str:
    """MurmurHash3's per-word update of ``h`` over a mixed stream, before the finaliser."""
    rotated = sql.rotl32(sql.bxor("h", "k"), 13)
    step = sql.band(f"(({rotated} * {sql.lit(5)}) + {sql.lit(_STEP_ADD)})", sql.lit(_MASK32))
    return sql.fold(stream, seed, "h", "k", step)


def _lane_sum(sql: _SqlDialect, lane: str) -> str:
    """The sum of ``lane`` over a group modulo 2**32, from sums of its 16-bit halves (no overflow)."""
    low = f"sum({sql.band(lane, sql.lit(0xFFFF))})"
    high = f"sum({sql.shr(lane, 16)})"
    return sql.mod(f"({low} + ({sql.mod(high, 0x10000)} * {sql.lit(0x10000)}))", 1 << 32)
