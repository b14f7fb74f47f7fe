"""Delta log replay: from ``_delta_log`` to the set of active files at one version.

Follows delta-io/delta PROTOCOL.md: JSON commits; classic, multi-part and v2 checkpoints (JSON or
Parquet, with sidecars) found through ``_last_checkpoint`` and by listing; add/remove
reconciliation keyed by path and deletion-vector id; the latest protocol and metadata win.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from datax_migrate.delta.actions import AddFile, Metadata, Protocol, RemoveFile
from datax_migrate.delta.commit_times import MTIME, CommitClock
from datax_migrate.delta.storage import ListedFile, TableStorage
from datax_migrate.errors import CorruptLogError, DeltaError, MissingFileError, VersionNotFoundError

_COMMIT = re.compile(r"^(\d{20})\.json$")
_CLASSIC_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint\.parquet$")
_MULTIPART_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$")
_V2_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$")

_CHECKPOINT_COLUMNS = ("add", "metaData", "protocol", "sidecar")


@dataclass(frozen=True)
class Checkpoint:
    """One complete checkpoint: its version and the files (parts) that hold it."""

    version: int
    files: tuple[str, ...]
    kind: str  # "classic", "multi-part" or "v2"


@dataclass(frozen=True)
class LogSegment:
    """The log files needed to reconstruct one version: a checkpoint plus the commits after it."""

    version: int
    checkpoint: Checkpoint | None
    commits: tuple[ListedFile, ...]


@dataclass
class ReplayState:
    """Actions accumulated while replaying a log segment."""

    protocol: Protocol | None = None
    metadata: Metadata | None = None
    active: dict[tuple[str, str | None], AddFile] = field(default_factory=dict)
    commit_info: dict[str, Any] | None = None

    def apply(self, action: dict[str, Any]) -> None:
        """Apply one action (a parsed log line or checkpoint row)."""
        if (add := action.get("add")) is not None:
            parsed = AddFile.from_json(add)
            self.active[parsed.key] = parsed
        elif (remove := action.get("remove")) is not None:
            self.active.pop(RemoveFile.from_json(remove).key, None)
        elif (metadata := action.get("metaData")) is not None:
            self.metadata = Metadata.from_json(metadata)
        elif (protocol := action.get("protocol")) is not None:
            self.protocol = Protocol.from_json(protocol)
        elif (commit_info := action.get("commitInfo")) is not None:
            self.commit_info = commit_info


class DeltaLog:
    """The ``_delta_log`` of one table: lists it once and reconstructs versions from it."""

    def __init__(self, storage: TableStorage) -> None:
        """Read the listing of ``storage``'s log folder."""
        self.storage = storage
        self.listing = {f.name: f for f in storage.list_log()}
        self.commits = {int(m.group(1)): f for name, f in self.listing.items() if (m := _COMMIT.match(name))}
        if not self.commits and not any(".checkpoint." in name for name in self.listing):
            raise DeltaError(f"{storage.uri} is not a Delta table: _delta_log holds no commits")

    @property
    def latest_version(self) -> int:
        """The newest version in the log."""
        candidates = list(self.commits)
        candidates += [c.version for c in self._complete_checkpoints()]
        return max(candidates)

    def segment(self, version: int | None = None) -> LogSegment:
        """Choose the files that reconstruct ``version`` (the latest when ``None``).

        Raises:
            VersionNotFoundError: the version is newer than the log or was cleaned up.
            MissingFileError: ``_last_checkpoint`` names a checkpoint whose files are missing.

        """
        latest = self.latest_version
        target = latest if version is None else version
        if target < 0 or target > latest:
            raise VersionNotFoundError(f"version {target} does not exist (latest is {latest})")
        self._check_last_checkpoint(target)
        checkpoints = [c for c in self._complete_checkpoints() if c.version <= target]
        checkpoint = max(checkpoints, key=lambda c: c.version) if checkpoints else None
        start = checkpoint.version + 1 if checkpoint else 0
        commits = []
        for v in range(start, target + 1):
            if v not in self.commits:
                if checkpoint is None and v == 0:
                    raise VersionNotFoundError(
                        f"version {target} cannot be reconstructed: commit 0 and any checkpoint before it are gone"
                    )
                raise CorruptLogError(f"the Delta log has a gap: commit {v:020d}.json is missing")
            commits.append(self.commits[v])
        return LogSegment(target, checkpoint, tuple(commits))

    def replay(self, segment: LogSegment) -> ReplayState:
        """Replay a segment: checkpoint first, then each commit in order."""
        state = ReplayState()
        if segment.checkpoint is not None:
            for action in self._checkpoint_actions(segment.checkpoint):
                state.apply(action)
            state.commit_info = None
        for commit in segment.commits:
            for action in self.commit_actions(commit.name):
                state.apply(action)
        return state

    def commit_actions(self, name: str) -> Iterator[dict[str, Any]]:
        """Parse one JSON commit (or JSON checkpoint) file, line by line."""
        path = f"{self.storage.log_dir}/{name}"
        text = self.storage.read_bytes(path).decode("utf-8", errors="strict")
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                action = json.loads(line)
            except ValueError as exc:
                raise CorruptLogError(f"{path} line {number} is not valid JSON: {exc}") from exc
            if not isinstance(action, dict):
                raise CorruptLogError(f"{path} line {number} is not a JSON object")
            yield action

    def commit_timestamp(self, version: int, commit_times: str = MTIME) -> int:
        """Commit timestamp (ms) of one version: its in-commit timestamp, else the file's mtime.

        ``commit_times`` picks the rule for commits without an in-commit timestamp (see
        :class:`~datax_migrate.delta.commit_times.CommitClock`; ``"auto"`` detects copied logs).
        When the commit file was cleaned up and only a checkpoint of that version is left, the
        checkpoint's modification time stands in.
        """
        return CommitClock(self, commit_times).time(version).ms

    def checkpoint_mtime_ms(self, version: int) -> int:
        """Modification time (ms) of the first file of the complete checkpoint of ``version``."""
        checkpoint = next(c for c in self._complete_checkpoints() if c.version == version)
        return self.listing[checkpoint.files[0]].mtime_ms

    def _complete_checkpoints(self) -> list[Checkpoint]:
        found: list[Checkpoint] = []
        parts: dict[tuple[int, int], dict[int, str]] = {}
        for name in self.listing:
            if m := _CLASSIC_CHECKPOINT.match(name):
                found.append(Checkpoint(int(m.group(1)), (name,), "classic"))
            elif m := _V2_CHECKPOINT.match(name):
                found.append(Checkpoint(int(m.group(1)), (name,), "v2"))
            elif m := _MULTIPART_CHECKPOINT.match(name):
                key = (int(m.group(1)), int(m.group(3)))
                parts.setdefault(key, {})[int(m.group(2))] = name
        for (version, total), named in parts.items():
            if set(named) == set(range(1, total + 1)):
                files = tuple(named[i] for i in range(1, total + 1))
                found.append(Checkpoint(version, files, "multi-part"))
        return found

    def _check_last_checkpoint(self, target: int) -> None:
        if "_last_checkpoint" not in self.listing:
            return
        raw = self.storage.read_bytes(f"{self.storage.log_dir}/_last_checkpoint")
        try:
            hint = json.loads(raw)
            version = int(hint["version"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptLogError(f"_last_checkpoint is malformed: {exc}") from exc
        if version > target:
            return
        if v2 := hint.get("v2Checkpoint"):
            name = v2.get("path", "")
            if name not in self.listing:
                raise MissingFileError(
                    f"checkpoint file {self.storage.log_dir}/{name} named by _last_checkpoint is missing"
                )
            return
        total = hint.get("parts")
        if total:
            for part in range(1, int(total) + 1):
                name = f"{version:020d}.checkpoint.{part:010d}.{int(total):010d}.parquet"
                if name not in self.listing:
                    raise MissingFileError(
                        f"checkpoint part {self.storage.log_dir}/{name} ({part} of {total}) is missing"
                    )
        elif not any(c.version == version for c in self._complete_checkpoints()):
            name = f"{version:020d}.checkpoint.parquet"
            raise MissingFileError(f"checkpoint {self.storage.log_dir}/{name} named by _last_checkpoint is missing")

    def _checkpoint_actions(self, checkpoint: Checkpoint) -> Iterator[dict[str, Any]]:
        for name in checkpoint.files:
            path = f"{self.storage.log_dir}/{name}"
            if name.endswith(".json"):
                actions: Iterator[dict[str, Any]] = self.commit_actions(name)
            else:
                actions = self._parquet_actions(path)
            for action in actions:
                if (sidecar := action.get("sidecar")) is not None:
                    sidecar_path = self.storage.resolve_sidecar(sidecar["path"])
                    yield from self._parquet_actions(sidecar_path)
                else:
                    yield action

    def _parquet_actions(self, path: str) -> Iterator[dict[str, Any]]:
        if not self.storage.exists(path):
            raise MissingFileError(f"checkpoint file {path} is missing")
        try:
            with self.storage.filesystem.open_input_file(path) as handle:
                parquet = pq.ParquetFile(handle)
                names = set(parquet.schema_arrow.names)
                columns = [c for c in _CHECKPOINT_COLUMNS if c in names]
                for batch in parquet.iter_batches(columns=columns, batch_size=65536):
                    for column_name in columns:
                        column = batch.column(column_name)
                        if column.null_count == len(column):
                            continue
                        for value in column.to_pylist():
                            if value is not None:
                                yield {column_name: value}
        except OSError as exc:
            raise CorruptLogError(f"checkpoint file {path} cannot be read: {exc}") from exc
