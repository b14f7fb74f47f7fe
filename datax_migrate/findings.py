"""Findings: what an assessment or a translation noticed, kept as data rather than raised.

Every finding carries a stable kebab-case ``code`` documented in ``docs/reference/findings.md``;
reports group and count by code, and users suppress or accept by code. A crawler or translator
records findings and keeps going; only errors that stop the whole run are exceptions.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

_CODE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Severity(str, Enum):
    """How much a finding stands in the way of the move."""

    BLOCKER = "blocker"
    """Cannot be migrated as is: the object is refused until a person changes something."""
    REVIEW = "review"
    """Migrated, but a person must check or finish something."""
    INFO = "info"
    """Worth knowing; nothing to do."""


@dataclass(frozen=True)
class Finding:
    """One thing noticed about one object (a table, a job, a notebook cell).

    Attributes:
        code: Stable kebab-case identifier, e.g. ``deletion-vectors``.
        severity: How much it blocks the move.
        message: What was found and what a person should do about it.
        subject: The object it is about: a table name, a notebook path, a job id.
        cell: 0-based cell index, for notebook findings.
        line: 1-based line within the cell, for notebook findings.
        original: The text found, where there is one.
        replacement: The text written instead, where the finding records a rewrite.
    """

    code: str
    severity: Severity
    message: str
    subject: str = ""
    cell: int | None = None
    line: int | None = None
    original: str | None = None
    replacement: str | None = None

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ValueError(f"finding code {self.code!r} is not kebab-case")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every field, severity as its string, unset optional fields left out."""
        data = asdict(self)
        data["severity"] = self.severity.value
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_dict` output."""
        return cls(**{**data, "severity": Severity(data["severity"])})
