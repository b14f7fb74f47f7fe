"""The canonical row encoding of the reconciliation checksum, computed on Arrow batches.

Each value becomes a fixed number of 32-bit words, decided by its column's logical kind (so
``int8`` and ``int64``, ``string`` and ``large_string``, dictionary and plain arrays, ``UTC`` and
``+00:00`` encode alike). docs/reconcile-checksum.md is the specification; in short:

============================== ===== =======================================================
kind                           words payload
============================== ===== =======================================================
boolean                        1     0 or 1
integer (any width)            2     the value as int64, low word then high word
date                           2     days since 1970-01-01, as integer
timestamp (time zone)          2     microseconds since the epoch, UTC
timestamp_ntz                  2     microseconds since 1970-01-01T00:00, wall clock
float, double                  2     IEEE-754 bits of the double value; NaN 0x7ff8000000000000,
                                     -0.0 as 0.0
decimal, precision <= 18       2     unscaled value as int64
decimal, precision > 18        4     unscaled value as int128, low word first
string                         3     UTF-8 byte length, CRC-32 of the bytes, CRC-32 of the
                                     UTF-8 bytes of the code points in reverse order
binary                         3     byte length, CRC-32, CRC-32 of the lower-case hex text
struct, list, map              3     as a string: the nested canonical text (see the spec)
============================== ===== =======================================================

NULLs have no words: a row starts with null-mask words that say which columns are NULL.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from datax_migrate.errors import EncodingError
from datax_migrate.reconcile.checksum.rowhash import crc32_values

CANONICAL_NAN_BITS = 0x7FF8000000000000

_EPOCH_DATE = dt.date(1970, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_MICROSECOND = dt.timedelta(microseconds=1)
_WIDE = decimal.Context(prec=100)


@dataclass(frozen=True)
class ColumnKind:
    """How one column is encoded: its kind name and its word count."""

    name: str
    words: int


def column_kind(arrow_type: pa.DataType) -> ColumnKind:
    """The encoding kind of a column of ``arrow_type``.

    Raises:
        EncodingError: the type has no canonical encoding (e.g. ``time64``, ``duration``).

    """
    if pa.types.is_dictionary(arrow_type):
        return column_kind(arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return ColumnKind("boolean", 1)
    if pa.types.is_integer(arrow_type):
        return ColumnKind("integer", 2)
    if pa.types.is_date(arrow_type):
        return ColumnKind("date", 2)
    if pa.types.is_timestamp(arrow_type):
        return ColumnKind("timestamp" if arrow_type.tz else "timestamp_ntz", 2)
    if pa.types.is_floating(arrow_type):
        return ColumnKind("float", 2)
    if pa.types.is_decimal(arrow_type):
        return ColumnKind("decimal64", 2) if arrow_type.precision <= 18 else ColumnKind("decimal128", 4)
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type):
        return ColumnKind("string", 3)
    if _is_binary(arrow_type):
        return ColumnKind("binary", 3)
    if pa.types.is_struct(arrow_type) or pa.types.is_map(arrow_type) or _is_list(arrow_type):
        return ColumnKind("nested", 3)
    if pa.types.is_null(arrow_type):
        return ColumnKind("null", 0)
    raise EncodingError(f"no canonical encoding for columns of type {arrow_type}")


@dataclass(frozen=True)
class ColumnWords:
    """One column of a batch as canonical words, in stream order, for the hash kernels of :mod:`.rowhash`.

    Attributes:
        parts: one array per word or pair of words, each with one value per row: an ``int64`` array
            stands for two words (its low half, then its high half), a ``uint32`` array for one word.
            Values of NULL rows are left as they are (the hash skips them).
        valid: ``False`` where the row is NULL; ``None`` when no row is.
        width: words per non-NULL value.

    """

    parts: tuple[np.ndarray, ...]
    valid: np.ndarray | None
    width: int


def column_words(array: pa.Array) -> ColumnWords:
    """The canonical words of every value of ``array``.

    Raises:
        EncodingError: the type has no canonical encoding.

    """
    kind = column_kind(array.type)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    valid = array.is_valid().to_numpy(zero_copy_only=False) if array.null_count else None
    parts = _WORDS[kind.name](array) if kind.words else ()
    return ColumnWords(parts, valid, kind.words)


def _values(array: pa.Array, dtype: type[np.generic], per_row: int = 1) -> np.ndarray:
    """The fixed-width values buffer of ``array`` as ``dtype``, ``per_row`` items a row, without a copy."""
    buffer = array.buffers()[1]
    if buffer is None:
        return np.zeros(len(array) * per_row, dtype=dtype)
    count = (array.offset + len(array)) * per_row
    return np.frombuffer(buffer, dtype=dtype, count=count)[array.offset * per_row :]


def _int64_values(array: pa.Array) -> np.ndarray:
    """The ``int64`` values of an integer or timestamp array, without a copy where the type allows."""
    if not (pa.types.is_int64(array.type) or pa.types.is_timestamp(array.type)):
        array = array.cast(pa.int64())
    return _values(array, np.int64)


def _boolean(array: pa.Array) -> tuple[np.ndarray, ...]:
    return (array.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint32),)


def _integer(array: pa.Array) -> tuple[np.ndarray, ...]:
    return (_int64_values(array),)


def _date(array: pa.Array) -> tuple[np.ndarray, ...]:
    return (_int64_values(array.cast(pa.date32()).cast(pa.int32())),)


def _timestamp(array: pa.Array) -> tuple[np.ndarray, ...]:
    if array.type.unit != "us":
        array = array.cast(pa.timestamp("us", tz=array.type.tz))
    return (_int64_values(array),)


def _float(array: pa.Array) -> tuple[np.ndarray, ...]:
    if not pa.types.is_float64(array.type):
        array = array.cast(pa.float64())
    values = _values(array, np.float64)
    bits = np.where(values == 0.0, 0.0, values).view(np.int64)  # -0.0 becomes 0.0
    bits[np.isnan(values)] = CANONICAL_NAN_BITS
    return (bits,)


def _decimal(array: pa.Array, words: int) -> tuple[np.ndarray, ...]:
    if array.type.byte_width != 16:
        array = array.cast(pa.decimal128(38, array.type.scale))
    halves = _values(array, np.int64, per_row=2).reshape(-1, 2)
    return tuple(np.ascontiguousarray(halves[:, half]) for half in range(words // 2))


def _variable(array: pa.Array, binary: bool) -> tuple[np.ndarray, ...]:
    if pa.types.is_string_view(array.type) or pa.types.is_binary_view(array.type):
        array = array.cast(pa.large_binary() if binary else pa.large_string())
    elif pa.types.is_fixed_size_binary(array.type):
        array = array.cast(pa.large_binary())
    large = pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type)
    offsets = np.frombuffer(
        array.buffers()[1], dtype=np.int64 if large else np.int32, count=array.offset + len(array) + 1
    )[array.offset :]
    data_buffer = array.buffers()[2]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(1, dtype=np.uint8)
    return crc32_values(offsets, data, binary)


def _nested(array: pa.Array) -> tuple[np.ndarray, ...]:
    encode = _text_encoder(array.type)
    texts = [None if value is None else encode(value) for value in array.to_pylist()]
    return _variable(pa.array(texts, pa.large_string()), binary=False)


_WORDS: dict[str, Callable[[pa.Array], tuple[np.ndarray, ...]]] = {
    "boolean": _boolean,
    "integer": _integer,
    "date": _date,
    "timestamp": _timestamp,
    "timestamp_ntz": _timestamp,
    "float": _float,
    "decimal64": lambda array: _decimal(array, 2),
    "decimal128": lambda array: _decimal(array, 4),
    "string": lambda array: _variable(array, binary=False),
    "binary": lambda array: _variable(array, binary=True),
    "nested": _nested,
}


def _is_binary(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_binary(arrow_type)
        or pa.types.is_large_binary(arrow_type)
        or pa.types.is_binary_view(arrow_type)
        or pa.types.is_fixed_size_binary(arrow_type)
    )


def _is_list(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_list(arrow_type)
        or pa.types.is_large_list(arrow_type)
        or pa.types.is_fixed_size_list(arrow_type)
        or pa.types.is_list_view(arrow_type)
        or pa.types.is_large_list_view(arrow_type)
    )


TextEncoder = Callable[[Any], str]


def canonical_text_encoder(arrow_type: pa.DataType) -> TextEncoder:
    """The canonical text of values of ``arrow_type`` (docs/reconcile-checksum.md, section 2), NULL included.

    Two values get the same text exactly when the checksum encodes them alike (e.g. ``-0.0`` and
    ``0.0``, any two NaNs, an ``int32`` and an ``int64`` of the same value).
    """
    return _text_encoder(arrow_type)


def _text_encoder(arrow_type: pa.DataType) -> TextEncoder:
    """Nested canonical text: NULL is ``N``; any other value is ``<UTF-8 byte length>:<payload>``."""
    payload = _text_payload(arrow_type)

    def encode(value: Any) -> str:
        if value is None:
            return "N"
        text = payload(value)
        return f"{len(text.encode('utf-8'))}:{text}"

    return encode


def _text_payload(arrow_type: pa.DataType) -> TextEncoder:  # noqa: PLR0911 - one branch per kind
    kind = column_kind(arrow_type).name
    if kind == "boolean":
        return lambda v: "1" if v else "0"
    if kind in ("integer", "decimal64", "decimal128"):
        return (lambda v: str(int(v))) if kind == "integer" else lambda v: str(int(v.scaleb(arrow_type.scale, _WIDE)))
    if kind == "date":
        return lambda v: str((v - _EPOCH_DATE).days)
    if kind in ("timestamp", "timestamp_ntz"):
        epoch = _EPOCH_UTC if kind == "timestamp" else _EPOCH
        return lambda v: str((v - epoch) // _MICROSECOND)
    if kind == "float":
        return _float_text
    if kind == "string":
        return str
    if kind == "binary":
        return lambda v: bytes(v).hex()
    if pa.types.is_struct(arrow_type):
        fields = [(field.name, _text_encoder(field.type)) for field in arrow_type]
        return lambda v: "".join(encode(v[name]) for name, encode in fields)
    if pa.types.is_map(arrow_type):
        key, item = _text_encoder(arrow_type.key_type), _text_encoder(arrow_type.item_type)
        return lambda v: "".join(sorted(key(k) + item(i) for k, i in v))
    element = _text_encoder(arrow_type.value_type)
    return lambda v: "".join(element(e) for e in v)


def _float_text(value: float) -> str:
    if value != value:  # NaN
        return str(CANONICAL_NAN_BITS)
    return str(struct.unpack("<q", struct.pack("<d", value + 0.0))[0])
