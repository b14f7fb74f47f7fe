"""Delta commit times, true even when the log was copied to new storage.

PROTOCOL.md: a commit's time is its in-commit timestamp (``commitInfo.inCommitTimestamp``, the
first action of every commit from the version where the ``inCommitTimestamp`` feature was enabled,
``delta.inCommitTimestampEnablementVersion``), else the commit file's modification time. Copying
a table (DataSync, ``aws s3 sync``, ``cp``) gives every commit file the time of the copy, so a
2023 table reads as written today. ``commitInfo.timestamp`` (the writer's clock when it
committed) survives the copy, and :class:`CommitClock` uses it when the modification times are
evidently not the commit times (see :meth:`CommitClock.copy_evidence` for the rule), or when
asked to (``--commit-times commit-info``).

What is read, so that a log of 100,000 commits stays cheap (the listing gives every modification
time for free; each commit read is one GET):

- whether in-commit timestamps are in force: the newest commit's first action; when it carries
  one, a binary search over the commits for the first that does (in-commit timestamps are
  enabled once and then written by every commit);
- copy detection: ``commitInfo`` of the first and the last commit without an in-commit
  timestamp (two reads);
- the time of one version: that commit's ``commitInfo`` (one read);
- timestamp -> version: with file times, the listing alone; with in-commit timestamps or
  ``commitInfo.timestamp``, a binary search (about log2(commits) reads). In-commit timestamps
  increase strictly by protocol; ``commitInfo.timestamp`` values are taken to increase with the
  version (one writer clock, or clocks in step), which is what Delta writers ensure in practice.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from datax_migrate.errors import ConfigError, DeltaError, VersionNotFoundError

if TYPE_CHECKING:
    from datax_migrate.delta.log import DeltaLog

AUTO, MTIME, COMMIT_INFO = "auto", "mtime", "commit-info"
COMMIT_TIME_MODES = (AUTO, MTIME, COMMIT_INFO)
"""``--commit-times`` choices: detect copies (default), file times, or ``commitInfo.timestamp``."""

IN_COMMIT_TIMESTAMP = "in-commit timestamp"
FILE_MTIME = "commit file modification time"
COMMIT_INFO_TIMESTAMP = "commitInfo.timestamp"
CHECKPOINT_MTIME = "checkpoint file modification time"

COPY_SKEW_MS = 5 * 60 * 1000
"""A commit file may be dated up to this long after its ``commitInfo.timestamp`` (write latency, clock skew)."""
COLLAPSED_MIN_SPAN_MS = 60 * 60 * 1000
COLLAPSED_RATIO = 0.01
"""Copied when ``commitInfo`` spans at least an hour and the file times span under 1 % of that."""


@dataclass(frozen=True)
class CommitTime:
    """When one Delta version was committed, and where that time comes from.

    Attributes:
        ms: milliseconds since the epoch (UTC).
        source: :data:`IN_COMMIT_TIMESTAMP`, :data:`FILE_MTIME`, :data:`COMMIT_INFO_TIMESTAMP` or
            :data:`CHECKPOINT_MTIME` (the commit file was cleaned up).
        note: why ``commitInfo.timestamp`` stands in for the file time; empty otherwise.

    """

    ms: int
    source: str
    note: str = ""


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc).isoformat(timespec="seconds")


class CommitClock:
    """Commit times of one Delta log under one ``--commit-times`` mode; commit reads are cached.

    Example:
        >>> clock = CommitClock(DeltaLog(TableStorage("s3://lake/sales")))
        >>> clock.version_at(1711843200000)
    """

    def __init__(self, log: DeltaLog, mode: str = AUTO) -> None:
        """Read ``log``'s commit times as ``mode`` says (one of :data:`COMMIT_TIME_MODES`)."""
        if mode not in COMMIT_TIME_MODES:
            raise ConfigError(f"--commit-times {mode!r} is not one of {', '.join(COMMIT_TIME_MODES)}")
        self.log, self.mode = log, mode
        self.versions = sorted(log.commits)
        self._infos: dict[int, tuple[dict[str, Any], bool]] = {}

    def time(self, version: int) -> CommitTime:
        """The commit time of ``version``.

        When only a checkpoint of the version is left (its commit file was cleaned up), the
        checkpoint file's modification time stands in.
        """
        if version not in self.log.commits:
            return CommitTime(self.log.checkpoint_mtime_ms(version), CHECKPOINT_MTIME)
        ict = self._in_commit_timestamp(version)
        if ict is not None and self._in_commit_timestamp(self.versions[-1]) is not None:
            return CommitTime(ict, IN_COMMIT_TIMESTAMP)
        if self.uses_commit_info:
            return CommitTime(self._info_timestamp(version), COMMIT_INFO_TIMESTAMP, self.note)
        return CommitTime(self.log.commits[version].mtime_ms, FILE_MTIME)

    def version_at(self, wanted_ms: int) -> int:
        """The latest listed version committed at or before ``wanted_ms``.

        Raises:
            VersionNotFoundError: every listed version is newer (the message names the earliest).

        """
        if not self.versions:
            raise VersionNotFoundError(f"{self.log.storage.uri} lists no commit files to find a time in")
        start = self.ict_start
        split = len(self.versions) if start is None else self.versions.index(start)
        if start is not None and self._ict(start) <= wanted_ms:
            return self._last_at_or_before(self.versions[split:], self._ict, wanted_ms)
        before = self.versions[:split]
        found: int | None = None
        if before and self.uses_commit_info:
            if self._info_timestamp(before[0]) <= wanted_ms:
                found = self._last_at_or_before(before, self._info_timestamp, wanted_ms)
        elif before:
            previous = None
            for version in before:  # file times, made monotonic as Delta does
                stamp = self.log.commits[version].mtime_ms
                previous = stamp if previous is None or stamp > previous else previous + 1
                if previous > wanted_ms:
                    break
                found = version
        if found is None:
            earliest = self.time(self.versions[0])
            raise VersionNotFoundError(
                f"no version of {self.log.storage.uri} at or before {_iso(wanted_ms)} "
                f"(the earliest commit is {_iso(earliest.ms)}, by its {earliest.source})"
            )
        return found

    @cached_property
    def ict_start(self) -> int | None:
        """The first listed version with an in-commit timestamp, when the newest commit has one."""
        if not self.versions or self._in_commit_timestamp(self.versions[-1]) is None:
            return None
        index = bisect.bisect_left(self.versions, True, key=lambda v: self._in_commit_timestamp(v) is not None)
        return self.versions[index]

    @cached_property
    def copy_evidence(self) -> str:
        """Why the commit files' modification times are not their commit times; empty if they are.

        The rule, on the first and the last commit without an in-commit timestamp: a file dated
        more than :data:`COPY_SKEW_MS` after its own ``commitInfo.timestamp`` was written later
        than its commit (copied); or, with ``commitInfo`` spanning at least
        :data:`COLLAPSED_MIN_SPAN_MS`, file times spanning under :data:`COLLAPSED_RATIO` of it
        were collapsed into one copy window. Commits without ``commitInfo.timestamp`` give no
        evidence.
        """
        split = len(self.versions) if self.ict_start is None else self.versions.index(self.ict_start)
        sampled = sorted({self.versions[0], self.versions[split - 1]}) if split else []
        stamps = {v: s for v in sampled if (s := self._info_stamp(v)) is not None}
        for version, stamp in stamps.items():
            mtime = self.log.commits[version].mtime_ms
            if mtime > stamp + COPY_SKEW_MS:
                return (
                    f"commit {version}'s file is dated {_iso(mtime)}, after its commitInfo.timestamp "
                    f"{_iso(stamp)}: the log was copied"
                )
        if len(stamps) == 2:
            first, last = sampled
            info_span = stamps[last] - stamps[first]
            file_span = self.log.commits[last].mtime_ms - self.log.commits[first].mtime_ms
            if info_span >= COLLAPSED_MIN_SPAN_MS and abs(file_span) < info_span * COLLAPSED_RATIO:
                return (
                    f"commits {first}..{last} span {_iso(stamps[first])}..{_iso(stamps[last])} by commitInfo "
                    f"but their files were all dated within {abs(file_span) / 1000:.0f} s: the log was copied"
                )
        return ""

    @property
    def uses_commit_info(self) -> bool:
        """Whether commits without an in-commit timestamp are timed by ``commitInfo.timestamp``."""
        return self.mode == COMMIT_INFO or (self.mode == AUTO and bool(self.copy_evidence))

    @property
    def note(self) -> str:
        """Why ``commitInfo.timestamp`` is used (empty when it is not)."""
        if self.mode == COMMIT_INFO:
            return "commitInfo.timestamp used as asked (--commit-times commit-info)"
        if self.uses_commit_info:
            return f"commitInfo.timestamp used: {self.copy_evidence} (--commit-times mtime to use file times)"
        return ""

    def _commit_info(self, version: int) -> tuple[dict[str, Any], bool]:
        """The commit's ``commitInfo`` (``{}`` if none) and whether it is the first action."""
        if version not in self._infos:
            found: tuple[dict[str, Any], bool] = ({}, False)
            for index, action in enumerate(self.log.commit_actions(self.log.commits[version].name)):
                if (info := action.get("commitInfo")) is not None:
                    found = (info if isinstance(info, dict) else {}, index == 0)
                    break
            self._infos[version] = found
        return self._infos[version]

    def _in_commit_timestamp(self, version: int) -> int | None:
        info, first = self._commit_info(version)
        value = info.get("inCommitTimestamp") if first else None
        return int(value) if value is not None else None

    def _ict(self, version: int) -> int:
        value = self._in_commit_timestamp(version)
        if value is None:
            name = self.log.commits[version].name
            raise DeltaError(f"{name} has no inCommitTimestamp, though a later commit enabled in-commit timestamps")
        return value

    def _info_stamp(self, version: int) -> int | None:
        value = self._commit_info(version)[0].get("timestamp")
        return int(value) if value is not None else None

    def _info_timestamp(self, version: int) -> int:
        value = self._info_stamp(version)
        if value is None:
            name = self.log.commits[version].name
            raise DeltaError(
                f"{name} has no commitInfo.timestamp to take its commit time from "
                "(--commit-times mtime uses file times)"
            )
        return value

    @staticmethod
    def _last_at_or_before(versions: list[int], key: Callable[[int], Any], wanted_ms: int) -> int:
        """Binary search: the last of ``versions`` whose ``key`` is at or before ``wanted_ms`` (the first's is)."""
        return versions[bisect.bisect_right(versions, wanted_ms, key=key) - 1]
