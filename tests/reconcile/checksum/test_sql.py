"""The SQL checksum generator: refusals, quoting, overflow bounds, and the SQL interpreted offline.

No Trino server runs in the test suite, so a small interpreter below evaluates the generated
statements (both dialects) over Arrow rows with the documented semantics of the functions they use:
BIGINT arithmetic fails on overflow (Trino, Spark in ANSI mode), INTEGER arithmetic fails beyond 32
bits, and a left shift that would lose bits fails too (Trino and Spark wrap silently; the generator
must never rely on that). Its figures must equal the local engine's, bucket by bucket. Spark runs
the Spark SQL for real in test_sql_on_spark.py, DuckDB the Trino SQL in test_sql_on_duckdb.py.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from datax_migrate.errors import ReconcileError
from datax_migrate.reconcile.checksum.sql import checksum_sql, table_digest
from datax_migrate.reconcile.checksum.table import BucketChecksums, Checksum, RowHasher
from tests.support.checksum_sample import (
    EPOCH_UTC,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    Figures,
    local_figures,
    supported_table,
)

# -- a small interpreter of the generated SQL ---------------------------------------------------


class Int32(int):
    """A value of SQL type INTEGER (literals that fit in 32 bits, some functions' results)."""


def checked(value: int, narrow: bool = False) -> int:
    low, high = (INT32_MIN, INT32_MAX) if narrow else (INT64_MIN, INT64_MAX)
    if not low <= value <= high:
        raise OverflowError(f"{'INTEGER' if narrow else 'BIGINT'} overflow: {value}")
    return Int32(value) if narrow else int(value)


def arithmetic(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int) and op in "+-*&|^":
        result = {"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[op]
        return checked(result, isinstance(a, Int32) and isinstance(b, Int32))
    if op == "/":
        return float(a) / float(b)
    if isinstance(a, decimal.Decimal) or isinstance(b, decimal.Decimal):
        a, b = decimal.Decimal(a), decimal.Decimal(b)
        return {"+": a + b, "-": a - b, "*": a * b}[op]
    return {"+": a + b, "-": a - b, "*": a * b}[op]


def compare(op: str, a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def shift_left(value: int, bits: int) -> int:
    narrow = isinstance(value, Int32)
    result = value << bits
    checked(result, narrow)  # the generator must never depend on bits shifted out
    return Int32(result) if narrow else int(result)


def logical_shift_right(value: int, bits: int) -> int:
    if isinstance(value, Int32):
        return Int32((value & 0xFFFFFFFF) >> bits)
    return checked((value & 0xFFFFFFFFFFFFFFFF) >> bits)


def java_round(value: float) -> float:
    return math.copysign(math.floor(abs(value) + 0.5), value)


def java_pow(base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf


def epoch_micros(value: dt.datetime) -> int:
    epoch = EPOCH_UTC if value.tzinfo else dt.datetime(1970, 1, 1)
    return (value - epoch) // dt.timedelta(microseconds=1)


def trino_date_diff(unit: str, start: Any, end: Any) -> int:
    if unit == "day":
        return (end - start).days
    assert unit == "second" and start.tzinfo and end.tzinfo
    millis = (epoch_micros(end) // 1000) - (epoch_micros(start) // 1000)  # Joda: truncated toward zero
    return java_remainder_quotient(millis, 1000)[0]


def java_remainder_quotient(a: int, m: int) -> tuple[int, int]:
    quotient = abs(a) // abs(m) * (1 if (a >= 0) == (m >= 0) else -1)
    return quotient, a - quotient * m


def trino_to_unixtime(value: dt.datetime) -> float:
    micros = epoch_micros(value)
    millis, picos = micros // 1000, (micros % 1000) * 1_000_000
    return millis * 1.0 / 1000 + picos * 1.0 / 1_000_000_000_000


def cast(value: Any, sql_type: str, dialect: str) -> Any:
    if value is None:
        return None
    sql_type = sql_type.upper()
    if sql_type.startswith("ARRAY"):
        assert value == []
        return []
    if sql_type == "BIGINT":
        if isinstance(value, float):
            if math.isnan(value) or math.isinf(value):
                raise ValueError(f"cannot cast {value} to BIGINT")
            return checked(int(java_round(value)) if dialect == "trino" else int(value))
        if isinstance(value, decimal.Decimal):
            assert value == value.to_integral_value(), value
        return checked(int(value))
    if sql_type == "DOUBLE":
        return float(value)
    if sql_type == "BINARY":
        return value.encode("utf-8")
    if sql_type == "DATE":
        return value.date()
    precision, scale = (int(n) for n in re.findall(r"\d+", sql_type))
    exact = decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-scale))
    assert len(exact.as_tuple().digits) <= precision, (value, sql_type)
    return exact


def function_table(dialect: str) -> dict[str, Callable[..., Any]]:
    common: dict[str, Callable[..., Any]] = {
        "concat": lambda *arrays: [word for array in arrays for word in array],
        "transform": lambda array, f: [f(x) for x in array],
        "crc32": lambda data: zlib.crc32(data),
        "reverse": lambda text: text[::-1],
        "lower": lambda text: text.lower(),
    }
    if dialect == "spark":
        return common | {
            "array": lambda *items: list(items),
            "aggregate": lambda array, zero, merge: _fold(array, zero, merge),
            "size": lambda array: Int32(len(array)),
            "shiftleft": shift_left,
            "shiftright": lambda value, bits: value >> bits,
            "pmod": lambda a, m: checked(a % m),
            "octet_length": lambda v: Int32(len(v.encode("utf-8") if isinstance(v, str) else v)),
            "hex": lambda data: data.hex().upper(),
            "unix_date": lambda day: Int32((day - dt.date(1970, 1, 1)).days),
            "unix_micros": lambda ts: checked(epoch_micros(ts)),
            "hour": lambda ts: Int32(ts.hour),
            "minute": lambda ts: Int32(ts.minute),
            "isnan": math.isnan,
            "abs": abs,
            "pow": java_pow,
            "log2": lambda x: math.log(x) / math.log(2),  # Spark: StrictMath.log(x) / StrictMath.log(2)
            "floor": lambda x: checked(math.floor(x)),
        }
    return common | {
        "reduce": lambda array, state, step, finish: finish(_fold(array, state, step)),
        "cardinality": lambda array: len(array),
        "bitwise_and": lambda a, b: checked(a & b),
        "bitwise_or": lambda a, b: checked(a | b),
        "bitwise_xor": lambda a, b: checked(a ^ b),
        "bitwise_left_shift": shift_left,
        "bitwise_right_shift": logical_shift_right,
        "mod": lambda a, m: checked(java_remainder_quotient(a, m)[1]),
        "length": lambda data: len(data),
        "to_utf8": lambda text: text.encode("utf-8"),
        "to_hex": lambda data: data.hex().upper(),
        "is_nan": math.isnan,
        "to_ieee754_64": lambda x: struct.pack(">d", x),
        "from_big_endian_64": lambda data: struct.unpack(">q", data)[0],
        "date_diff": trino_date_diff,
        "date_add": lambda unit, n, ts: ts + dt.timedelta(seconds=n) if unit == "second" else None,
        "to_unixtime": trino_to_unixtime,
        "round": java_round,
        "with_timezone": lambda ts, zone: ts.replace(tzinfo=dt.timezone.utc) if zone == "UTC" else None,
    }


def _fold(array: list[int], state: int, step: Callable[[int, int], int]) -> int:
    for element in array:
        state = step(state, element)
    return state


TOKEN = re.compile(
    r"""\s+|--[^\n]*
    |(?P<num>\d+(?:\.\d+)?L?)
    |(?P<str>'(?:[^']|'')*')
    |(?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`)
    |(?P<id>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<op>->|<=|>=|<>|[-+*/%=<>(),\[\].&|^])""",
    re.VERBOSE,
)
BINARY = {"OR": 1, "AND": 2, "=": 4, "<>": 4, "<": 4, ">": 4, "<=": 4, ">=": 4, "|": 5, "^": 6, "&": 7}
BINARY |= {"+": 8, "-": 8, "*": 9, "/": 9}
Env = dict[str, Any]
Node = Callable[[Env], Any]


class SqlSubset:
    """Parses and runs the subset of Spark SQL / Trino SQL that checksum_sql emits."""

    def __init__(self, sql: str, dialect: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(sql):
            match = TOKEN.match(sql, position)
            assert match, f"cannot tokenise {sql[position : position + 40]!r}"
            position = match.end()
            if match.lastgroup:
                self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
        self.tokens.append(("end", ""))
        self.pos = 0
        self.dialect = dialect
        self.functions = function_table(dialect)

    # tokens
    def peek(self, offset: int = 0) -> tuple[str, str]:
        return self.tokens[self.pos + offset]

    def word(self, offset: int = 0) -> str:
        kind, text = self.peek(offset)
        return text.upper() if kind == "id" else text

    def take(self, expected: str | None = None) -> str:
        kind, text = self.tokens[self.pos]
        if expected is not None:
            assert (text.upper() if kind == "id" else text) == expected, f"expected {expected}, got {text!r}"
        self.pos += 1
        return text

    # statements
    def run(self, tables: dict[str, list[Env]]) -> list[Env]:
        self.take("WITH")
        while True:
            name = self.take()
            self.take("AS")
            self.take("(")
            tables[name] = self.select(tables)
            self.take(")")
            if self.word() != ",":
                break
            self.take(",")
        result = self.select(tables)
        assert self.peek()[0] == "end"
        return result

    def select(self, tables: dict[str, list[Env]]) -> list[Env]:
        self.take("SELECT")
        items: list[tuple[str, Node]] = []
        while True:
            node = self.expr()
            self.take("AS")
            items.append((self.take(), node))
            if self.word() != ",":
                break
            self.take(",")
        self.take("FROM")
        source = self.take()
        while self.word() == ".":
            source += self.take(".") + self.take()
        rows = tables[source]
        if self.word() == "GROUP":
            self.take("GROUP")
            self.take("BY")
            key = self.expr()
            groups: dict[Any, list[Env]] = {}
            for row in rows:
                groups.setdefault(key(row), []).append(row)
            result = [
                {name: node({**group[0], "__group__": group}) for name, node in items} for group in groups.values()
            ]
        else:
            result = [{name: node(row) for name, node in items} for row in rows]
        if self.word() == "ORDER":
            self.take("ORDER")
            self.take("BY")
            order = self.take()
            result.sort(key=lambda row: row[order])
        return result

    # expressions
    def expr(self, min_precedence: int = 0) -> Node:
        left = self.prefix()
        while True:
            op = self.word()
            if op == "IS" and min_precedence <= 4:
                self.take("IS")
                negate = self.word() == "NOT"
                if negate:
                    self.take("NOT")
                self.take("NULL")
                left = (lambda f, n: lambda env: (f(env) is None) != n)(left, negate)
                continue
            precedence = BINARY.get(op)
            if precedence is None or precedence < min_precedence:
                return left
            self.take()
            right = self.expr(precedence + 1)
            left = self.binary(op, left, right)

    @staticmethod
    def binary(op: str, left: Node, right: Node) -> Node:
        if op == "AND":
            return lambda env: bool(left(env)) and bool(right(env))
        if op == "OR":
            return lambda env: bool(left(env)) or bool(right(env))
        if op in ("=", "<>", "<", ">", "<=", ">="):
            return lambda env: compare(op, left(env), right(env))
        return lambda env: arithmetic(op, left(env), right(env))

    def prefix(self) -> Node:
        node = self.primary()
        while self.word() == "[":
            self.take("[")
            index = self.expr()
            self.take("]")
            base = 1 if self.dialect == "trino" else 0
            node = (lambda f, i, b: lambda env: f(env)[i(env) - b])(node, index, base)
        return node

    def primary(self) -> Node:  # noqa: C901 - one branch per construct
        kind, text = self.peek()
        upper = self.word()
        if text == "-":
            self.take()
            operand = self.prefix()
            return lambda env: arithmetic("-", 0, operand(env))
        if text == "(":
            if (
                self.peek(1)[0] == "id"
                and self.peek(2)[1] == ","
                and self.peek(4)[1] == ")"
                and self.peek(5)[1] == "->"
            ):
                self.take("(")
                first = self.take()
                self.take(",")
                second = self.take()
                self.take(")")
                return self.lambda_body([first, second])
            self.take("(")
            inner = self.expr()
            self.take(")")
            return inner
        if kind == "id" and self.peek(1)[1] == "->":
            return self.lambda_body([self.take()])
        if kind == "num":
            self.take()
            value = int(text.rstrip("L"))
            literal = value if text.endswith("L") or value > INT32_MAX else Int32(value)
            return lambda env: literal
        if kind == "str":
            self.take()
            string = text[1:-1].replace("''", "'")
            return lambda env: string
        if kind == "qid":
            self.take()
            name = text[1:-1].replace(text[0] * 2, text[0])
            return lambda env: env[name]
        if upper in ("DATE", "TIMESTAMP", "BIGINT") and self.peek(1)[0] == "str":
            self.take()
            string = self.take()[1:-1]
            typed: Any = {
                "DATE": lambda: dt.date.fromisoformat(string),
                "TIMESTAMP": lambda: dt.datetime.fromisoformat(string.replace(" UTC", "+00:00")),
                "BIGINT": lambda: int(string),
            }[upper]()
            return lambda env: typed
        if upper == "CASE":
            return self.case()
        if upper == "CAST":
            self.take()
            self.take("(")
            value = self.expr()
            self.take("AS")
            type_tokens = []
            depth = 0
            while depth or self.word() != ")":
                depth += {"(": 1, ")": -1}.get(self.word(), 0)
                type_tokens.append(self.take())
            self.take(")")
            sql_type, dialect = "".join(type_tokens), self.dialect
            return lambda env: cast(value(env), sql_type, dialect)
        if upper == "ARRAY" and self.peek(1)[1] == "[":
            self.take()
            self.take("[")
            items = self.arguments("]")
            return lambda env: [item(env) for item in items]
        if upper == "EXTRACT":
            self.take()
            self.take("(")
            self.take("SECOND")
            self.take("FROM")
            value = self.expr()
            self.take(")")
            return lambda env: decimal.Decimal(value(env).second) + decimal.Decimal(value(env).microsecond).scaleb(-6)
        if kind == "id" and self.peek(1)[1] == "(":
            return self.call()
        assert kind == "id", f"unexpected {text!r}"
        self.take()
        return lambda env: env[text] if text in env else env[text.lower()]

    def arguments(self, closing: str) -> list[Node]:
        items: list[Node] = []
        while self.word() != closing:
            items.append(self.expr())
            if self.word() == ",":
                self.take(",")
        self.take(closing)
        return items

    def lambda_body(self, params: list[str]) -> Node:
        self.take("->")
        body = self.expr()
        return lambda env: lambda *values: body({**env, **dict(zip(params, values, strict=True))})

    def case(self) -> Node:
        self.take("CASE")
        branches: list[tuple[Node, Node]] = []
        otherwise: Node = lambda env: None  # noqa: E731
        while self.word() == "WHEN":
            self.take("WHEN")
            condition = self.expr()
            self.take("THEN")
            branches.append((condition, self.expr()))
        if self.word() == "ELSE":
            self.take("ELSE")
            otherwise = self.expr()
        self.take("END")

        def evaluate(env: Env) -> Any:
            for condition, value in branches:
                if condition(env):
                    return value(env)
            return otherwise(env)

        return evaluate

    def call(self) -> Node:
        name = self.take().lower()
        self.take("(")
        if name == "count":
            self.take("*")
            self.take(")")
            return lambda env: len(env["__group__"])
        args = self.arguments(")")
        if name == "sum":
            (arg,) = args

            def total(env: Env) -> int:
                running = 0
                for row in env["__group__"]:
                    running = checked(running + arg(row))
                return running

            return total
        function = self.functions[name]

        def apply(env: Env) -> Any:
            values = [arg(env) for arg in args]
            if any(value is None for value in values):
                return None
            return function(*values)

        return apply


def run_sql(sql: str, dialect: str, table: pa.Table, name: str = "sample") -> Figures:
    rows = SqlSubset(sql, dialect).run({name: table.to_pylist()})
    return [(row["bucket"], row["row_count"], row["lane_1"], row["lane_2"]) for row in rows]


# -- tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["trino", "spark"])
@pytest.mark.parametrize(("keys", "buckets"), [([], 1), (["i64", "with space"], 16), ([], 16), (["Day"], 4)])
def test_interpreted_sql_equals_the_local_engine(dialect: str, keys: list[str], buckets: int) -> None:
    table = supported_table(300, 3, odd_names=True)
    sql = checksum_sql("sample", table.schema, table.column_names, keys, buckets, dialect)  # type: ignore[arg-type]
    figures = run_sql(sql, dialect, table)
    assert figures == local_figures(table, keys, buckets)
    assert all(0 <= lane < 2**32 for _, _, *lanes in figures for lane in lanes)


def test_columns_are_matched_case_insensitively_and_in_the_given_order() -> None:
    table = supported_table(50, 4)
    columns = ["S", "i64", "NTZ", "f64"]
    sql = checksum_sql("cat.db.t", table.schema, columns, ["I64"], 8, "trino")
    expected = local_figures(table.select(["s", "i64", "ntz", "f64"]), ["i64"], 8)
    assert run_sql(sql, "trino", table, "cat.db.t") == expected


def test_more_than_32_columns_take_several_null_mask_words() -> None:
    table = pa.table(
        {f"c{i}": pa.array([None if (i + r) % 3 == 0 else r * i for r in range(20)], pa.int32()) for i in range(70)}
    )
    for dialect in ("trino", "spark"):
        sql = checksum_sql("t", table.schema, table.column_names, [], 2, dialect)  # type: ignore[arg-type]
        assert run_sql(sql, dialect, table, "t") == local_figures(table, [], 2)


def test_all_null_and_null_typed_columns() -> None:
    table = pa.table(
        {"n": pa.nulls(4), "x": pa.array([None, 1, None, 2], pa.int64()), "s": pa.array([None] * 4, pa.string())}
    )
    for dialect in ("trino", "spark"):
        sql = checksum_sql("t", table.schema, table.column_names, ["x"], 4, dialect)  # type: ignore[arg-type]
        assert run_sql(sql, dialect, table, "t") == local_figures(table, ["x"], 4)


def test_table_digest_is_the_local_table_checksum() -> None:
    table = supported_table(200, 9)
    sql = checksum_sql("sample", table.schema, table.column_names, ["s"], 32, "trino")
    hasher, sums = RowHasher(table.column_names, [], 1), BucketChecksums(1)
    sums.add(hasher.hash(table.combine_chunks().to_batches()[0]))
    assert table_digest(run_sql(sql, "trino", table)) == sums.total()
    assert table_digest([]) == Checksum(rows=0, digest="0" * 16)


@pytest.mark.parametrize("dialect", ["spark", "trino"])
def test_unsupported_columns_are_refused_by_name(dialect: str) -> None:
    schema = pa.schema(
        [
            ("id", pa.int64()),
            ("amount", pa.decimal128(38, 10)),
            ("address", pa.struct([("city", pa.string())])),
            ("tags", pa.list_(pa.string())),
            ("at", pa.time64("us")),
        ]
    )
    with pytest.raises(ReconcileError) as refused:
        checksum_sql("t", schema, ["id", "amount", "address"], [], 1, dialect)  # type: ignore[arg-type]
    message = str(refused.value)
    assert "'amount' (decimal128(38, 10))" in message and "'address'" in message and "'tags'" not in message
    assert "not supported by the SQL generator" in message and "local engine" in message
    with pytest.raises(ReconcileError, match=r"'at' \(time64\[us\]\)"):
        checksum_sql("t", schema, ["id", "at"], [], 1, dialect)  # type: ignore[arg-type]
    with pytest.raises(ReconcileError, match="'tags'"):
        checksum_sql("t", schema, ["id"], ["tags"], 2, dialect)  # type: ignore[arg-type]
    assert checksum_sql("t", schema, ["id"], [], 1, dialect)  # type: ignore[arg-type]


def test_bad_arguments() -> None:
    schema = pa.schema([("id", pa.int64())])
    with pytest.raises(ReconcileError, match="power of two"):
        checksum_sql("t", schema, ["id"], [], 12, "spark")
    with pytest.raises(ReconcileError, match="'nope'"):
        checksum_sql("t", schema, ["id", "nope"], [], 1, "spark")
    with pytest.raises(ReconcileError, match="at least one column"):
        checksum_sql("t", schema, [], [], 1, "trino")
    with pytest.raises(ValueError, match="dialect"):
        checksum_sql("t", schema, ["id"], [], 1, "postgres")  # type: ignore[arg-type]


def test_odd_column_names_are_quoted() -> None:
    table = supported_table(5, 1, odd_names=True)
    spark = checksum_sql("t", table.schema, table.column_names, ["select"], 2, "spark")
    trino = checksum_sql("t", table.schema, table.column_names, ["select"], 2, "trino")
    for quoted in ["`select`", "`with space`", "`back``tick`", '`dou"ble`', "`Day`"]:
        assert quoted in spark
    for quoted in ['"select"', '"with space"', '"back`tick"', '"dou""ble"', '"Day"']:
        assert quoted in trino
    # Outside quoted names, nothing of the data columns leaks into the SQL text.
    for sql, quote in ((spark, "`"), (trino, '"')):
        unquoted = re.sub(rf"{quote}(?:[^{quote}]|{quote}{quote})*{quote}", "", sql)
        assert "with space" not in unquoted


@pytest.mark.parametrize("dialect", ["spark", "trino"])
def test_every_literal_product_stays_far_below_2_63(dialect: str) -> None:
    """Variables are words (< 2**32), day counts, seconds or small exponents: their multipliers are bounded."""
    table = supported_table(5, 1)
    sql = checksum_sql("t", table.schema, table.column_names, ["i64"], 16, dialect)  # type: ignore[arg-type]
    factors = [int(n) for n in re.findall(r"\*\s*(?:BIGINT ')?(\d+)'?L?\b", sql)]
    assert factors
    known = {1_000_000, 60_000_000, 3_600_000_000, 86_400_000_000, 1 << 20}
    assert all(f <= 0x10000 or f in known for f in factors), sorted(set(factors))
    # The products modulo 2**32 use 16-bit halves of the MurmurHash3 constants.
    for constant in (0xCC9E2D51, 0x1B873593, 0x85EBCA6B, 0xC2B2AE35):
        assert str(constant) not in sql
        assert str(constant & 0xFFFF) in sql and str(constant >> 16) in sql


def test_the_interpreter_catches_overflow() -> None:
    with pytest.raises(OverflowError):
        run_sql(
            "WITH x AS (SELECT (k * 4294967296) * 4294967296 AS y FROM t) SELECT y AS bucket, y AS row_count,"
            " y AS lane_1, y AS lane_2 FROM x",
            "trino",
            pa.table({"k": [3]}),
            "t",
        )
    with pytest.raises(OverflowError):
        SqlSubset("WITH x AS (SELECT shiftleft(k, 40) AS y FROM t) SELECT y AS y FROM x", "spark").run(
            {"t": [{"k": 1 << 30}]}
        )
