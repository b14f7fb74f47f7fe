"""Write Delta tables action by action, for tests that need log shapes no writer library produces
(deletion vectors in every storage type, column mapping by id, type widening, unknown features).

Data files are real Parquet written by pyarrow; the log is JSON per PROTOCOL.md.
"""

from __future__ import annotations

import json
import struct
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyroaring import BitMap64

_Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
DV_MAGIC = 1681511377


def z85_encode(data: bytes) -> str:
    """Z85-encode ``data`` (padded with zero bytes to a multiple of 4)."""
    data = data + b"\0" * (-len(data) % 4)
    out = []
    for i in range(0, len(data), 4):
        (value,) = struct.unpack(">I", data[i : i + 4])
        chunk = []
        for _ in range(5):
            value, rem = divmod(value, 85)
            chunk.append(_Z85[rem])
        out.append("".join(reversed(chunk)))
    return "".join(out)


def bitmap_bytes(rows: list[int]) -> bytes:
    """A serialised RoaringBitmapArray holding ``rows``."""
    return struct.pack("<i", DV_MAGIC) + BitMap64(rows).serialize()


def field(name: str, type_: Any, nullable: bool = True, **metadata: Any) -> dict[str, Any]:
    """A Delta schema field."""
    return {"name": name, "type": type_, "nullable": nullable, "metadata": metadata}


class DeltaBuilder:
    """Builds one Delta table under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.log = self.root / "_delta_log"
        self.log.mkdir(parents=True, exist_ok=True)
        self.version = -1
        self.actions: list[dict[str, Any]] = []

    def metadata(
        self,
        fields: list[dict[str, Any]],
        partition_columns: list[str] | None = None,
        configuration: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        schema = {"type": "struct", "fields": fields}
        return {
            "metaData": {
                "id": "test-table",
                "format": {"provider": "parquet", "options": {}},
                "schemaString": json.dumps(schema),
                "partitionColumns": partition_columns or [],
                "configuration": configuration or {},
                "createdTime": 1700000000000,
            }
        }

    @staticmethod
    def protocol(reader: int = 1, writer: int = 2, reader_features: list[str] | None = None) -> dict[str, Any]:
        action: dict[str, Any] = {"minReaderVersion": reader, "minWriterVersion": writer}
        if reader >= 3:
            action["readerFeatures"] = reader_features or []
            action["writerFeatures"] = reader_features or []
        return {"protocol": action}

    def data_file(
        self,
        table: pa.Table,
        partition_values: dict[str, str | None] | None = None,
        folder: str = "",
        deletion_vector: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Write ``table`` as a Parquet data file and return its add action."""
        name = f"part-{uuid.uuid4()}.snappy.parquet"
        relative = f"{folder}/{name}" if folder else name
        target = self.root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, target)
        add: dict[str, Any] = {
            "path": relative,
            "partitionValues": partition_values or {},
            "size": target.stat().st_size,
            "modificationTime": 1700000000000,
            "dataChange": True,
            "stats": json.dumps({"numRecords": table.num_rows}),
        }
        if deletion_vector:
            add["deletionVector"] = deletion_vector
        return {"add": add}

    @staticmethod
    def remove(add_action: dict[str, Any]) -> dict[str, Any]:
        add = add_action["add"]
        remove = {"path": add["path"], "deletionTimestamp": 1700000000001, "dataChange": True}
        if "deletionVector" in add:
            remove["deletionVector"] = add["deletionVector"]
        return {"remove": remove}

    @staticmethod
    def with_deletion_vector(add_action: dict[str, Any], descriptor: dict[str, Any]) -> dict[str, Any]:
        return {"add": {**add_action["add"], "deletionVector": descriptor}}

    @staticmethod
    def inline_dv(rows: list[int]) -> dict[str, Any]:
        payload = bitmap_bytes(rows)
        return {
            "storageType": "i",
            "pathOrInlineDv": z85_encode(payload),
            "sizeInBytes": len(payload),
            "cardinality": len(rows),
        }

    def file_dv(self, rows: list[int], prefix: str = "", absolute: bool = False) -> dict[str, Any]:
        """Write a deletion-vector file (``u`` storage, or ``p`` with ``absolute``)."""
        dv_id = uuid.uuid4()
        name = f"deletion_vector_{dv_id}.bin"
        target = self.root / prefix / name if prefix else self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        payload = bitmap_bytes(rows)
        framed = b"\x01" + struct.pack(">i", len(payload)) + payload + struct.pack(">I", zlib.crc32(payload))
        target.write_bytes(framed)
        if absolute:
            return {
                "storageType": "p",
                "pathOrInlineDv": target.as_uri(),
                "offset": 1,
                "sizeInBytes": len(payload),
                "cardinality": len(rows),
            }
        return {
            "storageType": "u",
            "pathOrInlineDv": prefix + z85_encode(dv_id.bytes),
            "offset": 1,
            "sizeInBytes": len(payload),
            "cardinality": len(rows),
        }

    def commit(
        self, *actions: dict[str, Any], in_commit_timestamp: int | None = None, timestamp: int | None = None
    ) -> int:
        """Write the next commit; returns its version.

        ``commitInfo.timestamp`` is ``timestamp`` (ms), by default now, as a writer records it.
        """
        self.version += 1
        stamp = int(time.time() * 1000) if timestamp is None else timestamp
        info: dict[str, Any] = {"commitInfo": {"timestamp": stamp, "operation": "WRITE"}}
        if in_commit_timestamp is not None:
            info["commitInfo"]["inCommitTimestamp"] = in_commit_timestamp
        lines = [json.dumps(info)] + [json.dumps(a) for a in actions]
        (self.log / f"{self.version:020d}.json").write_text("\n".join(lines) + "\n")
        self.actions.extend(actions)
        return self.version

    def state(self) -> list[dict[str, Any]]:
        """The table's state after the last commit, replayed naively: protocol, metaData, live adds."""
        protocol: dict[str, Any] = {}
        metadata: dict[str, Any] = {}
        adds: dict[str, dict[str, Any]] = {}
        for action in self.actions:
            if "protocol" in action:
                protocol = action
            elif "metaData" in action:
                metadata = action
            elif "add" in action:
                adds[action["add"]["path"]] = action
            elif "remove" in action:
                adds.pop(action["remove"]["path"], None)
        return [protocol, metadata, *adds.values()]

    def checkpoint(self, kind: str = "classic", parts: int = 2, sidecar: bool = False) -> list[str]:
        """Write a checkpoint of the last version (``classic``, ``multi-part`` or ``v2``); returns its file names.

        A ``v2`` checkpoint with ``sidecar`` keeps its adds in one sidecar file (listed second).
        Deletion vectors are not carried (the checkpoint schema here has no ``deletionVector``).
        """
        rows = self.state()
        if kind == "v2":
            name = f"{self.version:020d}.checkpoint.{uuid.uuid4()}.json"
            names = [name]
            if sidecar:
                (self.log / "_sidecars").mkdir(exist_ok=True)
                sidecar_name = f"{uuid.uuid4()}.parquet"
                pq.write_table(_checkpoint_table(rows[2:]), self.log / "_sidecars" / sidecar_name)
                size = (self.log / "_sidecars" / sidecar_name).stat().st_size
                rows = [*rows[:2], {"sidecar": {"path": sidecar_name, "sizeInBytes": size, "modificationTime": 0}}]
                names.append(f"_sidecars/{sidecar_name}")
            lines = [json.dumps(a) for a in rows] + [json.dumps({"checkpointMetadata": {"version": self.version}})]
            (self.log / name).write_text("\n".join(lines) + "\n")
            return names
        if kind == "classic":
            names = [f"{self.version:020d}.checkpoint.parquet"]
        else:
            names = [f"{self.version:020d}.checkpoint.{i:010d}.{parts:010d}.parquet" for i in range(1, parts + 1)]
        for index, name in enumerate(names):
            pq.write_table(_checkpoint_table(rows[index :: len(names)]), self.log / name)
        return names

    def last_checkpoint(self, text: str) -> None:
        """Write ``_last_checkpoint`` as given (it may be malformed on purpose)."""
        (self.log / "_last_checkpoint").write_text(text)


_STRINGS = pa.list_(pa.string())
_STRING_MAP = pa.map_(pa.string(), pa.string())
CHECKPOINT_SCHEMA = pa.schema(
    [
        (
            "protocol",
            pa.struct(
                [
                    ("minReaderVersion", pa.int32()),
                    ("minWriterVersion", pa.int32()),
                    ("readerFeatures", _STRINGS),
                    ("writerFeatures", _STRINGS),
                ]
            ),
        ),
        (
            "metaData",
            pa.struct(
                [
                    ("id", pa.string()),
                    ("format", pa.struct([("provider", pa.string()), ("options", _STRING_MAP)])),
                    ("schemaString", pa.string()),
                    ("partitionColumns", _STRINGS),
                    ("configuration", _STRING_MAP),
                    ("createdTime", pa.int64()),
                ]
            ),
        ),
        (
            "add",
            pa.struct(
                [
                    ("path", pa.string()),
                    ("partitionValues", _STRING_MAP),
                    ("size", pa.int64()),
                    ("modificationTime", pa.int64()),
                    ("dataChange", pa.bool_()),
                    ("stats", pa.string()),
                ]
            ),
        ),
    ]
)


def _checkpoint_table(actions: list[dict[str, Any]]) -> pa.Table:
    """Checkpoint rows (one action per row) in a Parquet-writable schema; maps as key/value pairs."""

    def row(action: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = dict.fromkeys(CHECKPOINT_SCHEMA.names)
        for kind, body in action.items():
            body = dict(body)
            for key in ("partitionValues", "configuration"):
                if key in body:
                    body[key] = list((body[key] or {}).items())
            if "format" in body:
                body["format"] = {**body["format"], "options": list(body["format"].get("options", {}).items())}
            out[kind] = body
        return out

    return pa.Table.from_pylist([row(a) for a in actions], schema=CHECKPOINT_SCHEMA)
