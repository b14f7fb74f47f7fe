"""Deletion vectors: which rows of a data file are deleted (PROTOCOL.md, "Deletion Vector Format").

A deletion vector is a ``RoaringBitmapArray`` (a 64-bit roaring bitmap in the "portable"
serialisation, preceded by a 4-byte magic number), stored inline in the log (Z85 encoded) or in a
file next to the table, framed by a big-endian size and a CRC-32 checksum.
"""

from __future__ import annotations

import struct
import uuid
import zlib

import numpy as np
import numpy.typing as npt
from pyroaring import BitMap64

from datax_migrate.delta.actions import DeletionVectorDescriptor
from datax_migrate.delta.storage import TableStorage
from datax_migrate.errors import CorruptLogError, UnsupportedFeatureError

ROARING_BITMAP_ARRAY_MAGIC = 1681511377
_Z85_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
_Z85_DECODE = {c: i for i, c in enumerate(_Z85_ALPHABET)}


def z85_decode(text: str) -> bytes:
    """Decode Z85 (ZeroMQ RFC 32) text; its length must be a multiple of 5."""
    if len(text) % 5:
        raise CorruptLogError(f"Z85 text of length {len(text)} is not a multiple of 5")
    out = bytearray()
    for start in range(0, len(text), 5):
        value = 0
        for char in text[start : start + 5]:
            try:
                value = value * 85 + _Z85_DECODE[char]
            except KeyError as exc:
                raise CorruptLogError(f"invalid Z85 character {char!r} in deletion vector") from exc
        if value > 0xFFFFFFFF:
            raise CorruptLogError("invalid Z85 block in deletion vector")
        out += struct.pack(">I", value)
    return bytes(out)


def deletion_vector_path(storage: TableStorage, descriptor: DeletionVectorDescriptor) -> str:
    """The file holding an on-disk deletion vector (storage types ``u`` and ``p``)."""
    if descriptor.storage_type == "p":
        return storage.resolve(descriptor.path_or_inline_dv)
    encoded = descriptor.path_or_inline_dv
    prefix, encoded_uuid = encoded[:-20], encoded[-20:]
    file_name = f"deletion_vector_{uuid.UUID(bytes=z85_decode(encoded_uuid))}.bin"
    return storage.resolve(f"{prefix}/{file_name}" if prefix else file_name)


def deleted_rows(storage: TableStorage, descriptor: DeletionVectorDescriptor) -> npt.NDArray[np.uint64]:
    """Row indexes (0-based positions in the data file) marked deleted, sorted ascending.

    Raises:
        CorruptLogError: the vector is malformed, fails its checksum or its cardinality differs
            from the log.
        MissingFileError: the deletion vector file is missing.

    """
    if descriptor.storage_type == "i":
        payload = z85_decode(descriptor.path_or_inline_dv)[: descriptor.size_in_bytes]
        where = "inline deletion vector"
    elif descriptor.storage_type in ("u", "p"):
        path = deletion_vector_path(storage, descriptor)
        where = f"deletion vector {path}"
        offset = descriptor.offset or 0
        framed = storage.read_range(path, offset, descriptor.size_in_bytes + 8)
        (size,) = struct.unpack(">i", framed[:4])
        if size != descriptor.size_in_bytes:
            raise CorruptLogError(f"{where}: size {size} differs from the log's {descriptor.size_in_bytes}")
        payload = framed[4 : 4 + size]
        (expected_crc,) = struct.unpack(">I", framed[4 + size : 8 + size])
        if zlib.crc32(payload) != expected_crc:
            raise CorruptLogError(f"{where}: checksum mismatch")
    else:
        raise UnsupportedFeatureError(f"deletion vector storage type {descriptor.storage_type!r} is unknown")
    rows = decode_roaring_bitmap_array(payload, where)
    if len(rows) != descriptor.cardinality:
        raise CorruptLogError(f"{where}: holds {len(rows)} rows, the log says {descriptor.cardinality}")
    return rows


def decode_roaring_bitmap_array(payload: bytes, where: str = "deletion vector") -> npt.NDArray[np.uint64]:
    """Decode a serialised ``RoaringBitmapArray`` (magic number, then a portable 64-bit bitmap)."""
    if len(payload) < 4:
        raise CorruptLogError(f"{where} is truncated")
    (magic,) = struct.unpack("<i", payload[:4])
    if magic != ROARING_BITMAP_ARRAY_MAGIC:
        raise CorruptLogError(f"{where}: unknown bitmap format (magic {magic})")
    try:
        bitmap = BitMap64.deserialize(payload[4:])
    except (ValueError, OverflowError) as exc:
        raise CorruptLogError(f"{where}: invalid roaring bitmap: {exc}") from exc
    return np.fromiter(bitmap, dtype=np.uint64, count=len(bitmap))
