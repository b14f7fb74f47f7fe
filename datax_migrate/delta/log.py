"""Delta log replay: from ``_delta_log`` to the set of active files at one version.

Follows delta-io/delta PROTOCOL.md: JSON commits; classic, multi-part and v2 checkpoints (JSON or
Parquet, with sidecars) found by listing the log; add/remove reconciliation keyed by path and
deletion-vector id; the latest protocol and metadata win, and only they must be complete.

``_last_checkpoint`` is only a hint of where to start listing. The whole log is listed anyway, so
the hint is not read: a malformed or stale hint, or one naming a checkpoint that is missing or
incomplete, changes nothing. A checkpoint that is listed but cannot be read (garbage bytes, a
missing sidecar) is skipped when an older complete checkpoint, or the commits from version 0, can
reconstruct the version instead: commits are the source of truth, checkpoints a copy of them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from datax_migrate.delta.actions import AddFile, Metadata, Protocol, RemoveFile
from datax_migrate.delta.commit_times import MTIME, CommitClock
from datax_migrate.delta.storage import ListedFile, TableStorage
from datax_migrate.errors import CorruptLogError, DeltaError, MissingFileError, VersionNotFoundError

_COMMIT = re.compile(r"^(\d{20})\.json$")
_CLASSIC_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint\.parquet$")
_MULTIPART_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$")
_V2_CHECKPOINT = re.compile(r"^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$")

_CHECKPOINT_COLUMNS = ("add", "metaData", "protocol", "domainMetadata", "sidecar")
_ACTION_KINDS = ("add", "remove", "metaData", "protocol", "commitInfo", "domainMetadata")


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
    domains: dict[str, str] = field(default_factory=dict)
    """The configuration of each metadata domain in effect (``domainMetadata`` actions not removed)."""
    _protocol_json: dict[str, Any] | None = field(default=None, repr=False)
    _metadata_json: dict[str, Any] | None = field(default=None, repr=False)

    def apply(self, action: dict[str, Any]) -> None:
        """Apply one action (a parsed log line or checkpoint row).

        protocol and metaData are kept as written until :meth:`finish`: a superseded one may be
        incomplete (Delta Live Tables' first metaData has no schema).

        Raises:
            CorruptLogError: an action is not a JSON object or lacks what it needs.
        """
        for kind in _ACTION_KINDS:
            if action.get(kind) is not None and not isinstance(action[kind], dict):
                raise CorruptLogError(f"malformed {kind} action {str(action[kind])[:200]}: not an object")
        if (add := action.get("add")) is not None:
            parsed = AddFile.from_json(add)
            self.active[parsed.key] = parsed
        elif (remove := action.get("remove")) is not None:
            self.active.pop(RemoveFile.from_json(remove).key, None)
        elif (metadata := action.get("metaData")) is not None:
            self._metadata_json = metadata
        elif (protocol := action.get("protocol")) is not None:
            self._protocol_json = protocol
        elif (commit_info := action.get("commitInfo")) is not None:
            self.commit_info = commit_info
        elif (domain := action.get("domainMetadata")) is not None:
            if not isinstance(domain.get("domain"), str):
                raise CorruptLogError(f"malformed domainMetadata action {str(domain)[:200]}: no domain")
            if domain.get("removed"):
                self.domains.pop(domain["domain"], None)
            else:
                self.domains[domain["domain"]] = str(domain.get("configuration") or "")

    def finish(self) -> ReplayState:
        """Parse the effective protocol and metaData, the only ones that must be complete."""
        if self._protocol_json is not None:
            self.protocol = Protocol.from_json(self._protocol_json)
        if self._metadata_json is not None:
            self.metadata = Metadata.from_json(self._metadata_json)
        return self


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

    def segment(self, version: int | None = None, skip: frozenset[Checkpoint] = frozenset()) -> LogSegment:
        """Choose the files that reconstruct ``version`` (the latest when ``None``).

        The newest complete checkpoint at or before the version, other than those in ``skip``,
        then the commits after it; without one, the commits from version 0.

        Raises:
            VersionNotFoundError: the version is newer than the log or was cleaned up.
            CorruptLogError: a commit the version needs is missing.

        """
        latest = self.latest_version
        target = latest if version is None else version
        if target < 0 or target > latest:
            raise VersionNotFoundError(f"version {target} does not exist (latest is {latest})")
        checkpoints = [c for c in self._complete_checkpoints() if c.version <= target and c not in skip]
        checkpoint = max(checkpoints, key=lambda c: c.version) if checkpoints else None
        start = checkpoint.version + 1 if checkpoint else 0
        commits = []
        for v in range(start, target + 1):
            if v not in self.commits:
                if checkpoint is None and v == 0:
                    raise VersionNotFoundError(
                        f"version {target} cannot be reconstructed: commit 0 and any complete checkpoint "
                        f"before it are gone{self._incomplete_note(target)}"
                    )
                raise CorruptLogError(f"the Delta log has a gap: commit {v:020d}.json is missing")
            commits.append(self.commits[v])
        return LogSegment(target, checkpoint, tuple(commits))

    def replay(self, segment: LogSegment) -> ReplayState:
        """Replay a segment: checkpoint first, then each commit in order.

        A checkpoint that cannot be read is replaced by an older one or by the commits from
        version 0 when the log still holds them.

        Raises:
            CorruptLogError, MissingFileError: the segment cannot be replayed; an unreadable
                checkpoint that nothing can stand in for is named.

        """
        skipped: frozenset[Checkpoint] = frozenset()
        while True:
            state = ReplayState()
            if segment.checkpoint is None:
                break
            try:
                for action in self._checkpoint_actions(segment.checkpoint):
                    state.apply(action)
                break
            except (CorruptLogError, MissingFileError) as exc:
                checkpoint = segment.checkpoint
                skipped |= {checkpoint}
                try:
                    segment = self.segment(segment.version, skipped)
                except DeltaError:
                    named = any(name in str(exc) for name in checkpoint.files)
                    where = "" if named else f"checkpoint {self.storage.log_dir}/{checkpoint.files[0]}: "
                    raise type(exc)(
                        f"{where}{exc}; no older checkpoint or commits from version 0 can stand in for it"
                    ) from exc
        for commit in segment.commits:
            for action in self.commit_actions(commit.name):
                state.apply(action)
        if not segment.commits:
            state.commit_info = None
        return state.finish()

    def commit_actions(self, name: str) -> Iterator[dict[str, Any]]:
        """Parse one JSON commit (or JSON checkpoint) file, line by line."""
        path = f"{self.storage.log_dir}/{name}"
        try:
            text = self.storage.read_bytes(path).decode("utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            raise CorruptLogError(f"{path} is not UTF-8 text: {exc}") from exc
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

    def _incomplete_note(self, target: int) -> str:
        """Name the multi-part checkpoints at or before ``target`` that lack parts, if any."""
        parts: dict[tuple[int, int], set[int]] = {}
        for name in self.listing:
            if (m := _MULTIPART_CHECKPOINT.match(name)) and int(m.group(1)) <= target:
                parts.setdefault((int(m.group(1)), int(m.group(3))), set()).add(int(m.group(2)))
        notes = [
            f"checkpoint {version} lacks part(s) {', '.join(str(p) for p in missing)} of {total}"
            for (version, total), present in sorted(parts.items())
            if (missing := sorted(set(range(1, total + 1)) - present))
        ]
        return f" ({'; '.join(notes)})" if notes else ""

    def _checkpoint_actions(self, checkpoint: Checkpoint) -> Iterator[dict[str, Any]]:
        for name in checkpoint.files:
            path = f"{self.storage.log_dir}/{name}"
            if name.endswith(".json"):
                actions: Iterator[dict[str, Any]] = self.commit_actions(name)
            else:
                actions = self._parquet_actions(path)
            for action in actions:
                if (sidecar := action.get("sidecar")) is not None:
                    if not isinstance(sidecar, dict) or not isinstance(sidecar.get("path"), str):
                        raise CorruptLogError(f"checkpoint file {path} has a sidecar action without a path")
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
                schema = parquet.schema_arrow
                columns = [c for c in _CHECKPOINT_COLUMNS if c in schema.names]
                if not all(pa.types.is_struct(schema.field(c).type) for c in columns):
                    raise CorruptLogError(f"checkpoint file {path} has action columns that are not structs")
                for batch in parquet.iter_batches(columns=columns, batch_size=65536):
                    for column_name in columns:
                        column = batch.column(column_name)
                        if column.null_count == len(column):
                            continue
                        for value in column.to_pylist():
                            if value is not None:
                                yield {column_name: value}
        except (OSError, pa.ArrowException) as exc:
            raise CorruptLogError(f"checkpoint file {path} is not a readable Parquet checkpoint: {exc}") from exc
