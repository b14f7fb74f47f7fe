"""The sign-off ledger: who accepted which reconciliation report, when, and why.

Over 400 lines because the ledger's format, hash chain, signatures and verification are one
specification, read in one place.

The ledger is a JSON-lines file that is only ever appended to. Each entry pins the report by the
SHA-256 of its files and holds in ``previous`` the SHA-256 of the ledger line before it (the UTF-8
bytes without the newline), so :func:`verify` detects an edited report, an edited or deleted
earlier line, and a line inserted between two others. The last line is covered by no later one:
keep its hash (:attr:`VerifyResult.line_sha256`) elsewhere, e.g. in the change ticket, to pin it too.

Anyone who can write the file can rewrite such a chain consistently, so an entry can also be signed
with an Ed25519 private key (:func:`sign_off` with ``key``, see :func:`new_key`): the entry then
holds the SHA-256 fingerprint of the public key (``signer``) and the signature of the line as it
reads without its ``signature`` (which covers ``previous``, so the chain too). :func:`verify` with
``expect_public_key`` checks every entry against a public key pinned elsewhere: an unsigned entry,
an entry signed by another key, or an edited or re-chained one fails. Keys are never written into
the ledger or the reports.

Only a complete report folder is signed off: one whose ``manifest.json`` (written last by
``reconcile``) lists every file with the SHA-256 it still has.

Besides sign-offs, ``cutover`` records its cutover here (:func:`record_cutover`): an entry of kind
``cutover`` pinning the matching report of the final reconcile, under the same chain, signature
and verification rules. A sign-off's line carries no ``kind``, as before.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from enum import Enum
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from datax_migrate.config import datax_home
from datax_migrate.errors import SignoffError
from datax_migrate.reconcile.model import Report
from datax_migrate.reconcile.reports import MANIFEST, REPORT_JSON

LEDGER_NAME = "signoffs.jsonl"
CUTOVER = "cutover"
"""The ``kind`` of a cutover entry."""


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
        signer: SHA-256 fingerprint of the Ed25519 public key that signed the entry; ``None`` if unsigned.
        signature: base64 Ed25519 signature of :meth:`signed_bytes`; ``None`` if unsigned.
        kind: :data:`CUTOVER` for a cutover; ``None`` for a sign-off (the line then has no ``kind``).

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
    signer: str | None = None
    signature: str | None = None
    kind: str | None = None

    def to_line(self) -> bytes:
        """The entry as one ledger line, without the newline."""
        document = asdict(self)
        if document["kind"] is None:
            del document["kind"]
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def signed_bytes(self) -> bytes:
        """What the signature signs: the line with ``signature`` set to ``None``."""
        return replace(self, signature=None).to_line()


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
    UNSIGNED = "unsigned"
    """A public key was expected, and the line is not signed by it."""
    BAD_SIGNATURE = "bad_signature"
    """The line was changed after it was signed, or its signature is not the key's."""


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
    key: Path | None = None,
    again: bool = False,
) -> LedgerEntry:
    """Record that ``by`` accepts the report in ``report_dir``, appending one line to ``ledger``.

    A report already signed off (the same ``report.json``, by SHA-256) is signed again only with
    ``again``: a second sign-off is usually a mistake, and a ledger read by the report's hash
    should not have to choose between two.

    Args:
        report_dir: folder holding ``report.json`` and the other report files.
        by: who signs off.
        note: an optional free-text note.
        accept_differences: why the differences are acceptable; required when the verdict is a mismatch.
        ledger: the ledger file (default :func:`default_ledger`); created with its folder if needed.
        key: a PEM file holding an Ed25519 private key (unencrypted, see :func:`new_key`) that
            signs the entry.
        again: sign off a report the ledger already holds a sign-off of.

    Raises:
        SignoffError: ``by`` is empty; the report folder is incomplete (no ``manifest.json``, or a
            file missing or changed since); the report is unreadable or of another major schema
            version; the verdict is a mismatch and no reason is given; the key is not a readable
            Ed25519 private key; the ledger ends in a partial line; the report is signed off
            already and ``again`` is not given.

    """
    if not by.strip():
        raise SignoffError("say who signs off: --by NAME")
    report_dir = report_dir.resolve()
    signed_report, report = _read_report(report_dir)
    files = complete_files(report_dir)
    private_key = _private_key(key) if key is not None else None
    reason = (accept_differences or "").strip() or None
    if not report.matches and reason is None:
        raise SignoffError(
            f"the report in {report_dir} is a mismatch: to sign it off anyway, say why the differences are "
            'acceptable with --accept-differences "reason"'
        )
    report_sha256 = _sha256(signed_report)

    def entry(content: bytes) -> LedgerEntry:
        earlier = None if again else _earlier_sign_off(content, report_sha256)
        if earlier is not None:
            raise SignoffError(
                f"{report_dir} is signed off already ({describe_sign_off(*earlier, ledger)}); "
                "add --again to sign it off once more"
            )
        return LedgerEntry(
            report_dir=str(report_dir),
            table=report.table,
            verdict=report.verdict,
            delta_version=report.source.version,
            snapshot_id=report.target.snapshot_id,
            report_sha256=report_sha256,
            files=files,
            by=by.strip(),
            at=_now(),
            note=(note or "").strip() or None,
            accepted_differences=reason,
            previous=_previous(content),
        )

    return _append(ledger or default_ledger(), entry, private_key)


def record_cutover(
    report_dir: Path, by: str, note: str, ledger: Path | None = None, key: Path | None = None
) -> LedgerEntry:
    """Record a cutover in ``ledger``: one entry of kind :data:`CUTOVER` pinning the matching report in ``report_dir``.

    Args:
        report_dir: the folder of the final reconcile, which must be a complete report of a match.
        by: who cut over.
        note: what the cutover did (the tag, the versions), kept in the entry.
        ledger: the ledger file (default :func:`default_ledger`).
        key: an Ed25519 private key (PEM) that signs the entry, as for :func:`sign_off`.

    Raises:
        SignoffError: ``by`` is empty; the report folder is incomplete or unreadable; the report is
            not a match; the key or the ledger is unusable.

    """
    if not by.strip():
        raise SignoffError("say who cuts over: --by NAME")
    report_dir = report_dir.resolve()
    signed_report, report = _read_report(report_dir)
    if not report.matches:
        raise SignoffError(f"the report in {report_dir} is a mismatch: a table that differs is not cut over")
    files = complete_files(report_dir)
    private_key = _private_key(key) if key is not None else None

    def entry(content: bytes) -> LedgerEntry:
        return LedgerEntry(
            report_dir=str(report_dir),
            table=report.table,
            verdict=report.verdict,
            delta_version=report.source.version,
            snapshot_id=report.target.snapshot_id,
            report_sha256=_sha256(signed_report),
            files=files,
            by=by.strip(),
            at=_now(),
            note=note,
            accepted_differences=None,
            previous=_previous(content),
            kind=CUTOVER,
        )

    return _append(ledger or default_ledger(), entry, private_key)


def _append(ledger: Path, make: Callable[[bytes], LedgerEntry], private_key: Ed25519PrivateKey | None) -> LedgerEntry:
    """Append the entry ``make`` builds from the ledger's content, under an exclusive lock, signed with ``private_key``.

    Raises:
        SignoffError: the ledger ends in a partial line, or ``make`` refuses.

    """
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with open(ledger, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        content = handle.read()
        if content and not content.endswith(b"\n"):
            raise SignoffError(f"{ledger} ends in a partial line (an interrupted write?): verify it and repair the end")
        entry = make(content)
        if private_key is not None:
            entry = replace(entry, signer=fingerprint(private_key.public_key()))
            signature = private_key.sign(entry.signed_bytes())
            entry = replace(entry, signature=base64.b64encode(signature).decode("ascii"))
        handle.write(entry.to_line() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def _read_report(report_dir: Path) -> tuple[bytes, Report]:
    """The bytes of ``report_dir``'s ``report.json`` and the report they hold.

    Raises:
        SignoffError: there is no report, or it cannot be read.

    """
    report_path = report_dir / REPORT_JSON
    try:
        signed_report = report_path.read_bytes()
        return signed_report, Report.from_json(signed_report.decode("utf-8"))
    except FileNotFoundError:
        raise SignoffError(f"{report_dir} holds no {REPORT_JSON}: give the folder `reconcile` wrote") from None
    except (OSError, ValueError) as exc:
        raise SignoffError(f"cannot read {report_path}: {exc}") from exc


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _previous(content: bytes) -> str | None:
    """SHA-256 of the ledger's last line, the ``previous`` of the next entry; ``None`` for an empty ledger."""
    return _sha256(content[:-1].rsplit(b"\n", 1)[-1]) if content else None


def signed_off_before(report_dir: Path, ledger: Path | None = None) -> tuple[int, LedgerEntry] | None:
    """The first line (1-based) and entry of ``ledger`` signing off the ``report.json`` in ``report_dir``, if any."""
    try:
        content = (ledger or default_ledger()).read_bytes()
        report_sha256 = _file_sha256(report_dir / REPORT_JSON)
    except FileNotFoundError:
        return None
    return _earlier_sign_off(content, report_sha256)


def describe_sign_off(line: int, entry: LedgerEntry, ledger: Path | None = None) -> str:
    """``line 3 of LEDGER: by NAME at TIME``."""
    return f"line {line} of {ledger or default_ledger()}: by {entry.by} at {entry.at}"


def _earlier_sign_off(content: bytes, report_sha256: str) -> tuple[int, LedgerEntry] | None:
    """The first ledger line (1-based) and entry signing off the report of ``report_sha256``, if any."""
    for number, line in enumerate(content.splitlines(), start=1):
        try:
            entry = _parse_entry(line)
        except (ValueError, TypeError, KeyError):
            continue  # verify reports it
        if entry.report_sha256 == report_sha256:
            return number, entry
    return None


def _parse_entry(line: bytes) -> LedgerEntry:
    """The entry a ledger line holds.

    Raises:
        ValueError, TypeError, KeyError: the line is not a ledger entry.

    """
    document = json.loads(line)
    optional = {"signer", "signature", "kind"}
    return LedgerEntry(
        **{f.name: document.get(f.name) if f.name in optional else document[f.name] for f in fields(LedgerEntry)}
    )


def verify(ledger: Path | None = None, expect_public_key: Path | None = None) -> list[VerifyResult]:
    """Check every line of ``ledger`` (default :func:`default_ledger`): the hash chain and the report files.

    Args:
        ledger: the ledger file.
        expect_public_key: a PEM file holding the Ed25519 public key every entry must be signed
            with (pin it apart from the ledger); without it, signatures are not checked.

    Raises:
        SignoffError: the ledger does not exist; the public key is not a readable Ed25519 key.

    """
    public_key = _public_key(expect_public_key) if expect_public_key is not None else None
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
        results.append(_verify_line(number, line, previous, public_key))
        previous = results[-1].line_sha256
    return results


def _verify_line(number: int, line: bytes, previous: str | None, public_key: Ed25519PublicKey | None) -> VerifyResult:
    digest = _sha256(line)
    try:
        entry = _parse_entry(line)
        folder = Path(entry.report_dir)
        signed = {REPORT_JSON: entry.report_sha256, **entry.files}
    except (ValueError, TypeError, KeyError) as exc:
        return VerifyResult(number, VerifyStatus.MALFORMED, f"not a ledger entry ({exc})", None, digest)
    if entry.previous != previous:
        detail = "the line before it was changed, removed or inserted after this line was written"
        return VerifyResult(number, VerifyStatus.CHAIN_BROKEN, detail, entry, digest)
    if public_key is not None:
        problem = _signature_problem(entry, public_key)
        if problem is not None:
            return VerifyResult(number, problem[0], problem[1], entry, digest)
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


def complete_files(report_dir: Path) -> dict[str, str]:
    """SHA-256 of every file of a complete report folder but ``report.json``, ``manifest.json`` included.

    Raises:
        SignoffError: ``report_dir`` has no ``manifest.json`` (an interrupted ``reconcile``, or not
            a report folder), or a file it lists is missing or differs from it.

    """
    try:
        listed = json.loads((report_dir / MANIFEST).read_bytes())["files"]
        if not isinstance(listed, dict) or REPORT_JSON not in listed:
            raise ValueError(f"it does not list {REPORT_JSON}")
    except FileNotFoundError:
        raise SignoffError(
            f"{report_dir} is not a complete report folder (no {MANIFEST}: an interrupted reconcile?); rerun reconcile"
        ) from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise SignoffError(f"{report_dir / MANIFEST} is not a report manifest ({exc})") from exc
    missing = [name for name in listed if not (report_dir / name).is_file()]
    changed = [name for name in listed if name not in missing and _file_sha256(report_dir / name) != listed[name]]
    if missing or changed:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + (
            [f"changed since written: {', '.join(changed)}"] if changed else []
        )
        raise SignoffError(f"{report_dir} is not a complete report folder ({'; '.join(problems)}); rerun reconcile")
    files = {name: str(digest) for name, digest in listed.items() if name != REPORT_JSON}
    return {**files, MANIFEST: _file_sha256(report_dir / MANIFEST)}


def new_key(path: Path) -> str:
    """Write a new Ed25519 private key to ``path`` and its public key to ``path.pub`` (PEM, mode 0600).

    Keep the private key with the person who signs off; pin the public key where the ledger's
    writers cannot change it (e.g. the change ticket or a repository), and give it to
    ``verify``.

    Returns:
        The public key's fingerprint (the ``signer`` of the entries it signs).

    Raises:
        SignoffError: either file exists already.

    """
    private = Ed25519PrivateKey.generate()
    public_path = path.with_name(path.name + ".pub")
    pem_private = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    pem_public = private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    for target in (path, public_path):
        if target.exists():
            raise SignoffError(f"{target} exists already: choose another file name")
    for target, data in ((path, pem_private), (public_path, pem_public)):
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    return fingerprint(private.public_key())


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """``sha256:`` and the hex SHA-256 of the raw 32-byte public key."""
    return "sha256:" + _sha256(public_key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def _private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SignoffError(f"cannot read the key file {path}: {exc.strerror}") from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SignoffError(f"{path} is not an unencrypted PEM private key (make one with signoff --new-key)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SignoffError(f"{path} is not an Ed25519 private key (make one with signoff --new-key)")
    return key


def _public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = load_pem_public_key(path.read_bytes())
    except OSError as exc:
        raise SignoffError(f"cannot read the public key file {path}: {exc.strerror}") from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise SignoffError(f"{path} is not a PEM public key (the .pub file signoff --new-key wrote)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SignoffError(f"{path} is not an Ed25519 public key")
    return key


def _signature_problem(entry: LedgerEntry, public_key: Ed25519PublicKey) -> tuple[VerifyStatus, str] | None:
    if entry.signature is None:
        return VerifyStatus.UNSIGNED, "the entry is not signed"
    if entry.signer != fingerprint(public_key):
        return VerifyStatus.UNSIGNED, f"signed by another key ({entry.signer}), not the expected one"
    try:
        public_key.verify(base64.b64decode(entry.signature, validate=True), entry.signed_bytes())
    except (InvalidSignature, ValueError):
        return VerifyStatus.BAD_SIGNATURE, "the signature does not match the entry: it was changed after signing"
    return None


def _file_sha256(path: Path) -> str:
    return _sha256(path.read_bytes())


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
