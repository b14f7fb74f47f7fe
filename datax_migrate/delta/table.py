"""Open a Delta table and reconstruct a snapshot at a version or a timestamp."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pyarrow.fs as pafs

from datax_migrate.delta.actions import AddFile, Metadata, Protocol
from datax_migrate.delta.commit_times import AUTO, FILE_MTIME, CommitClock
from datax_migrate.delta.log import DeltaLog
from datax_migrate.delta.protocol import check_readable
from datax_migrate.delta.storage import TableStorage
from datax_migrate.errors import CorruptLogError


@dataclass(frozen=True)
class DeltaSnapshot:
    """A Delta table as of one version: protocol, metadata and the active data files."""

    storage: TableStorage
    version: int
    protocol: Protocol
    metadata: Metadata
    files: tuple[AddFile, ...]
    commit_timestamp_ms: int
    commit_time_source: str = FILE_MTIME
    commit_time_note: str = ""
    domains: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    """Metadata domains in effect (``domainMetadata``): domain name -> configuration string."""

    @property
    def location(self) -> str:
        """Absolute URI of the table."""
        return self.storage.display_uri


class DeltaTable:
    """A Delta table at a location; reads the log once and builds snapshots from it.

    Example:
        >>> snapshot = DeltaTable("s3://bucket/sales").snapshot(version=12)

    """

    def __init__(self, uri: str, filesystem: pafs.FileSystem | None = None, commit_times: str = AUTO) -> None:
        """Open the table at ``uri`` (local path, ``file://`` or ``s3://``).

        ``commit_times`` (``auto``, ``mtime`` or ``commit-info``) says how commit times are read
        for ``timestamp`` and the snapshot's commit time: see
        :class:`~datax_migrate.delta.commit_times.CommitClock`.
        """
        self.storage = TableStorage(uri, filesystem)
        self.log = DeltaLog(self.storage)
        self.clock = CommitClock(self.log, commit_times)

    @property
    def latest_version(self) -> int:
        """Newest version in the log."""
        return self.log.latest_version

    def snapshot(self, version: int | None = None, timestamp: dt.datetime | None = None) -> DeltaSnapshot:
        """Reconstruct the table at ``version``, at ``timestamp`` or (neither given) the latest.

        Raises:
            UnsupportedFeatureError: the protocol needs a reader feature this reader lacks.
            CorruptLogError, MissingFileError, VersionNotFoundError: the log cannot be replayed.

        """
        if timestamp is not None:
            version = self.version_at(timestamp)
        segment = self.log.segment(version)
        state = self.log.replay(segment)
        if state.protocol is None or state.metadata is None:
            missing = "protocol" if state.protocol is None else "metaData"
            raise CorruptLogError(f"version {segment.version} of {self.storage.uri} has no {missing} action")
        check_readable(state.protocol)
        files = tuple(sorted(state.active.values(), key=lambda f: f.path))
        committed = self.clock.time(segment.version)
        return DeltaSnapshot(
            storage=self.storage,
            version=segment.version,
            protocol=state.protocol,
            metadata=state.metadata,
            files=files,
            commit_timestamp_ms=committed.ms,
            commit_time_source=committed.source,
            commit_time_note=committed.note,
            domains=dict(state.domains),
        )

    def version_at(self, timestamp: dt.datetime) -> int:
        """The latest version committed at or before ``timestamp`` (naive means UTC), by the table's clock.

        Raises:
            VersionNotFoundError: every version in the log is newer than ``timestamp``.

        """
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=dt.timezone.utc)
        return self.clock.version_at(int(timestamp.timestamp() * 1000))
