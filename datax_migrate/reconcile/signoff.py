"""The sign-off ledger: who accepted which reconciliation report, when, and why.

The ledger is a JSON-lines file that is only ever appended to. Each entry pins the report by the
SHA-256 of its files and holds in ``previous`` the SHA-256 of the ledger line before it (the UTF-8
bytes without the newline), so :func:`verify` detects an edited report, an edited or deleted
earlier line, and a line inserted between two others. The last line is covered by no later one:
keep its hash (:attr:`VerifyResult.line_sha256`) elsewhere, e.g. in the change ticket, to pin it too.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import asdict, dataclass, fields
from enum import Enum
from pathlib import Path

from datax_migrate.config import datax_home
from datax_migrate.errors import SignoffError
from datax_migrate.reconcile.model import Report
from datax_migrate.reconcile.reports import RENDERERS, REPORT_JSON

LEDGER_NAME = "signoffs.jsonl"


@dataclass(frozen=True)
class LedgerEntry:
    """One sign-off, as one line of the ledger.

    Attributes:
        report_dir: absolute path of the report folder.
        table: the reconciled table (``namespace.table``).
        verdict: the report's verdict, ``"match"`` or ``"mismatch"``.
        delta_version: the Delta version compared.
        snapshot_id: the Iceberg snapshot compared.
        report_sha256: SHA-256 of ``report.json``.
        files: SHA-256 of the other report files present at sign-off, by file name.
        by: who signed off.
        at: when, ISO-8601 UTC.
        note: a free-text note.
        accepted_differences: why the differences of a mismatch are acceptable.
        previous: SHA-256 of the previous ledger line; ``None`` for the first line.

    """

    report_dir: str
    table: str
    verdict: str
    delta_version: int | None
    snapshot_id: int | None
    report_sha256: str
    files: dict[str, str]
    by: str
    at: str
    note: str | None
    accepted_differences: str | None
    previous: str | None

    def to_line(self) -> bytes:
        """The entry as one ledger line, without the newline."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class VerifyStatus(str, Enum):
    """What :func:`verify` found for one ledger line."""

    OK = "ok"
    """The line continues the chain and every report file it pins is unchanged."""
    REPORT_CHANGED = "report_changed"
    """A report file differs from what was signed off."""
    REPORT_MISSING = "report_missing"
    """The report folder or one of its signed-off files is gone."""
    CHAIN_BROKEN = "chain_broken"
    """The line before it was edited, deleted or inserted since this line was written."""
    MALFORMED = "malformed"
    """The line is not a ledger entry."""


@dataclass(frozen=True)
class VerifyResult:
    """The verification of one ledger line.

    Attributes:
        line: 1-based line number in the ledger.
        status: the outcome (the chain is checked first, then the report files).
        detail: what is wrong, naming the files; empty when ``status`` is OK.
        entry: the entry, ``None`` when the line is malformed.
        line_sha256: SHA-256 of the line, which the next line's ``previous`` must equal.

    """

    line: int
    status: VerifyStatus
    detail: str
    entry: LedgerEntry | None
    line_sha256: str

    @property
    def ok(self) -> bool:
        """Whether the line and its report are intact."""
        return self.status is VerifyStatus.OK


def default_ledger() -> Path:
    """The ledger used when none is given: ``$DATAX_HOME/signoffs.jsonl``."""
    return datax_home() / LEDGER_NAME


def sign_off(
    report_dir: Path,
    by: str,
    note: str | None = None,
    accept_differences: str | None = None,
    ledger: Path | None = None,
) -> LedgerEntry:
    """Record that ``by`` accepts the report in ``report_dir``, appending one line to ``ledger``.

    Args:
        report_dir: folder holding ``report.json`` and the other report files.
        by: who signs off.
        note: an optional free-text note.
        accept_differences: why the differences are acceptable; required when the verdict is a mismatch.
        ledger: the ledger file (default :func:`default_ledger`); created with its folder if needed.

    Raises:
        SignoffError: ``by`` is empty; the report is missing, unreadable or of another major schema
            version; the verdict is a mismatch and no reason is given; the ledger ends in a partial line.

    """
    if not by.strip():
        raise SignoffError("say who signs off: --by NAME")
    report_dir = report_dir.resolve()
    report_path = report_dir / REPORT_JSON
    try:
        signed_report = report_path.read_bytes()
        report = Report.from_json(signed_report.decode("utf-8"))
    except FileNotFoundError:
        raise SignoffError(f"{report_dir} holds no {REPORT_JSON}: give the folder `reconcile` wrote") from None
    except (OSError, ValueError) as exc:
        raise SignoffError(f"cannot read {report_path}: {exc}") from exc
    reason = (accept_differences or "").strip() or None
    if not report.matches and reason is None:
        raise SignoffError(
            f"the report in {report_dir} is a mismatch: to sign it off anyway, say why the differences are "
            'acceptable with --accept-differences "reason"'
        )
    files = {
        name: _file_sha256(report_dir / name)
        for name in RENDERERS
        if name != REPORT_JSON and (report_dir / name).is_file()
    }
    ledger = ledger or default_ledger()
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with open(ledger, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        content = handle.read()
        if content and not content.endswith(b"\n"):
            raise SignoffError(f"{ledger} ends in a partial line (an interrupted write?): verify it and repair the end")
        entry = LedgerEntry(
            report_dir=str(report_dir),
            table=report.table,
            verdict=report.verdict,
            delta_version=report.source.version,
            snapshot_id=report.target.snapshot_id,
            report_sha256=_sha256(signed_report),
            files=files,
            by=by.strip(),
            at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            note=(note or "").strip() or None,
            accepted_differences=reason,
            previous=_sha256(content[:-1].rsplit(b"\n", 1)[-1]) if content else None,
        )
        handle.write(entry.to_line() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def verify(ledger: Path | None = None) -> list[VerifyResult]:
    """Check every line of ``ledger`` (default :func:`default_ledger`): the hash chain and the report files.

    Raises:
        SignoffError: the ledger does not exist.

    """
    ledger = ledger or default_ledger()
    try:
        with open(ledger, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH)
            content = handle.read()
    except FileNotFoundError:
        raise SignoffError(f"there is no sign-off ledger at {ledger}") from None
    lines = content.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    results, previous = [], None
    for number, line in enumerate(lines, start=1):
        results.append(_verify_line(number, line, previous))
        previous = results[-1].line_sha256
    return results


def _verify_line(number: int, line: bytes, previous: str | None) -> VerifyResult:
    digest = _sha256(line)
    try:
        document = json.loads(line)
        entry = LedgerEntry(**{f.name: document[f.name] for f in fields(LedgerEntry)})
        folder = Path(entry.report_dir)
        signed = {REPORT_JSON: entry.report_sha256, **entry.files}
    except (ValueError, TypeError, KeyError) as exc:
        return VerifyResult(number, VerifyStatus.MALFORMED, f"not a ledger entry ({exc})", None, digest)
    if entry.previous != previous:
        detail = "the line before it was changed, removed or inserted after this line was written"
        return VerifyResult(number, VerifyStatus.CHAIN_BROKEN, detail, entry, digest)
    missing, changed = [], []
    for name, digest_signed in signed.items():
        path = folder / name
        if not path.is_file():
            missing.append(str(path))
        elif _file_sha256(path) != digest_signed:
            changed.append(str(path))
    if missing:
        return VerifyResult(number, VerifyStatus.REPORT_MISSING, "missing: " + ", ".join(missing), entry, digest)
    if changed:
        return VerifyResult(number, VerifyStatus.REPORT_CHANGED, "changed: " + ", ".join(changed), entry, digest)
    return VerifyResult(number, VerifyStatus.OK, "", entry, digest)


def _file_sha256(path: Path) -> str:
    return _sha256(path.read_bytes())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
