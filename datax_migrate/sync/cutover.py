"""Cut a table over from Delta to Iceberg: final sync, full reconcile, the ``cutover`` tag, a ledger entry.

    >>> from datax_migrate.sync.cutover import cutover_table
    >>> result = cutover_table("s3://lake/sales", catalog, "finance.sales", report_dir=Path("cutover"), by="ana")

The steps, in order, each only when the one before succeeded:

1. a final :func:`~datax_migrate.sync.table.sync_table` to the latest Delta version;
2. a full reconcile of that version against the snapshot that holds it, its reports written to
   ``report_dir`` (the same reports ``reconcile`` writes);
3. on a match only, and only if the Delta table has not moved on meanwhile: the snapshot is
   tagged ``cutover`` and an entry of kind ``cutover`` pinning the report goes into the sign-off
   ledger (:func:`~datax_migrate.reconcile.signoff.ledger.record_cutover`).

What is left for people (readers and writers pointed at Iceberg, the Delta table kept read-only
for rollback, maintenance re-enabled) comes back as :attr:`CutoverResult.steps`.
"""

from __future__ import annotations

import dataclasses
import getpass
from dataclasses import dataclass
from pathlib import Path

from pyiceberg.catalog import Catalog

from datax_migrate.catalogs.retention import DEFAULT_SNAPSHOT_MANAGEMENT, in_table_bucket, snapshot_management_command
from datax_migrate.convert.engine import Engine
from datax_migrate.delta.commit_times import AUTO
from datax_migrate.delta.table import DeltaTable
from datax_migrate.errors import ConfigError, DataxError
from datax_migrate.reconcile import ReconcileOptions, reconcile_table
from datax_migrate.reconcile.engine import ProgressCallback as ReconcileProgressCallback
from datax_migrate.reconcile.engine import ScanEngine
from datax_migrate.reconcile.model import Report
from datax_migrate.reconcile.reports import write_reports
from datax_migrate.reconcile.signoff.ledger import LedgerEntry, default_ledger, record_cutover
from datax_migrate.sync.table import SyncResult, sync_table

CUTOVER_TAG = "cutover"
"""The tag set on the snapshot a cutover reconciled."""


class CutoverRefused(DataxError):
    """The cutover cannot go ahead: the Delta table moved on during it. Nothing was tagged or recorded."""


@dataclass(frozen=True)
class CutoverResult:
    """What a cutover did.

    Attributes:
        status: ``"cut-over"`` (matched, tagged, recorded) or ``"mismatch"`` (reports written, nothing tagged).
        target: ``namespace.table``.
        catalog: The catalog's name.
        source_location: The Delta table.
        sync: The final sync.
        delta_version: The Delta version compared (the one the final sync reached).
        snapshot_id: The Iceberg snapshot compared, which is tagged on a match.
        verdict: The reconcile verdict (``"match"`` or ``"mismatch"``).
        report: The reconcile report.
        report_dir: Where the reconcile reports are.
        tag: The tag set, or ``None`` on a mismatch.
        moved_tag_from: The snapshot an earlier ``cutover`` tag pointed at, when it was moved.
        ledger: The sign-off ledger the cutover entry went into (``None`` on a mismatch).
        ledger_entry: The entry, or ``None`` on a mismatch.
        steps: What people must still do, in order (empty on a mismatch).
    """

    status: str
    target: str
    catalog: str
    source_location: str
    sync: SyncResult
    delta_version: int
    snapshot_id: int | None
    verdict: str
    report: Report
    report_dir: str
    tag: str | None
    moved_tag_from: int | None
    ledger: str | None
    ledger_entry: LedgerEntry | None
    steps: tuple[str, ...]

    @property
    def matches(self) -> bool:
        """Whether the final reconcile matched (and the table was cut over)."""
        return self.status == "cut-over"


def cutover_table(
    source: str,
    catalog: Catalog,
    identifier: str,
    *,
    report_dir: Path,
    by: str | None = None,
    ledger: Path | None = None,
    key: Path | None = None,
    reconcile_options: ReconcileOptions | None = None,
    engine: Engine | None = None,
    scan_engine: ScanEngine | None = None,
    reconcile_progress: ReconcileProgressCallback | None = None,
    commit_times: str = AUTO,
) -> CutoverResult:
    """Cut ``identifier`` over from its Delta source ``source``: sync, reconcile, tag and record.

    Args:
        source: The Delta table path or URI; its writers should have stopped.
        catalog: The Iceberg catalog.
        identifier: ``namespace.table``.
        report_dir: Where the reconcile reports go.
        by: Who cuts over (default: the login name).
        ledger: The sign-off ledger (default: ``$DATAX_HOME/signoffs.jsonl``).
        key: An Ed25519 private key (PEM) that signs the ledger entry.
        reconcile_options: How to reconcile (keys, tolerances, ...); the version is the synced one.
        engine: Where the final sync writes its files (default: local threads).
        scan_engine: Where the reconcile reads (default: local).
        reconcile_progress: Called as the reconcile reads.
        commit_times: How Delta commit times are read (as for ``sync`` and ``reconcile``).

    Returns:
        The cutover; :attr:`CutoverResult.matches` says whether it happened.

    Raises:
        SyncRefused: the final sync was refused (drift, a truncated log, a replaced source, ...).
        CutoverRefused: the Delta table moved on during the cutover.
        DataxError: the reconcile, the tag or the ledger failed.
    """
    who = (by or "").strip() or _login()  # before anything is written
    synced = sync_table(source, catalog, identifier, engine=engine, commit_times=commit_times)
    options = dataclasses.replace(
        reconcile_options or ReconcileOptions(), version=synced.to_version, commit_times=commit_times
    )
    report = reconcile_table(source, catalog, identifier, options, reconcile_progress, scan_engine)
    write_reports(report, report_dir)
    result = CutoverResult(
        status="mismatch",
        target=identifier,
        catalog=catalog.name,
        source_location=synced.source_location,
        sync=synced,
        delta_version=synced.to_version,
        snapshot_id=report.target.snapshot_id,
        verdict=report.verdict,
        report=report,
        report_dir=str(report_dir.resolve()),
        tag=None,
        moved_tag_from=None,
        ledger=None,
        ledger_entry=None,
        steps=(),
    )
    if not report.matches:
        return result
    latest = DeltaTable(source, commit_times=commit_times).latest_version
    if latest != synced.to_version:
        raise CutoverRefused(
            f"the Delta table {synced.source_location} moved on to version {latest} during the cutover (synced and "
            f"reconciled: version {synced.to_version}); stop its writers, then run cutover again"
        )
    moved_from = _tag(catalog, identifier, report)
    ledger = ledger or default_ledger()
    note = (
        f"cutover: snapshot {report.target.snapshot_id} of {catalog.name}.{identifier} tagged '{CUTOVER_TAG}'; "
        f"Delta version {synced.to_version} of {synced.source_location}"
    )
    entry = record_cutover(report_dir, who, note, ledger, key)
    return dataclasses.replace(
        result,
        status="cut-over",
        tag=CUTOVER_TAG,
        moved_tag_from=moved_from,
        ledger=str(ledger),
        ledger_entry=entry,
        steps=manual_steps(catalog, identifier, result),
    )


def _login() -> str:
    """The login name, who cuts over when no one is named."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        raise ConfigError("say who cuts over: --by NAME (no login name to take)") from None


def _tag(catalog: Catalog, identifier: str, report: Report) -> int | None:
    """Tag the reconciled snapshot :data:`CUTOVER_TAG`; return where an earlier such tag pointed, if elsewhere."""
    snapshot_id = report.target.snapshot_id
    assert snapshot_id is not None, "a matching report names the snapshot it compared"
    table = catalog.load_table(identifier)
    earlier = table.metadata.refs.get(CUTOVER_TAG)
    if earlier is not None and earlier.snapshot_id == snapshot_id:
        return None
    manage = table.manage_snapshots()
    if earlier is not None:
        manage = manage.remove_tag(CUTOVER_TAG)
    manage.create_tag(snapshot_id, CUTOVER_TAG).commit()
    return earlier.snapshot_id if earlier is not None else None


def manual_steps(catalog: Catalog, identifier: str, result: CutoverResult) -> tuple[str, ...]:
    """What people must still do after a cutover of ``identifier`` in ``catalog``, in order."""
    name = f"{catalog.name}.{identifier}"
    holds = f"Delta version {result.delta_version} as snapshot {result.snapshot_id}, tagged '{CUTOVER_TAG}'"
    if in_table_bucket(catalog):
        maintenance = (
            "Re-enable maintenance: history and sync switched S3 Tables snapshot expiry off for this table to keep "
            "the converted versions; turn it back on with the retention you want, e.g. S3 Tables' default: "
            + snapshot_management_command(catalog, identifier, DEFAULT_SNAPSHOT_MANAGEMENT)
            + "."
        )
    else:
        maintenance = (
            "Re-enable maintenance on the Iceberg side where Delta's OPTIMIZE and VACUUM ran: schedule "
            f"CALL {catalog.name}.system.rewrite_data_files, expire_snapshots and remove_orphan_files for "
            f"{identifier} (expire_snapshots keeps the '{CUTOVER_TAG}' snapshot: a tag keeps its snapshot)."
        )
    return (
        f"Point readers at the Iceberg table {name}: it holds {holds} (notebooks, dashboards, queries).",
        f"Point writers at {name}: stop the jobs that write the Delta table, and any `sync --every` loop "
        "(sync refuses the table once Iceberg writers change it).",
        f"Keep the Delta table {result.source_location} read-only for rollback (no writes, no VACUUM): until "
        f"the first Iceberg write, rolling back is pointing readers and writers back at it; its version "
        f"{result.delta_version} equals snapshot {result.snapshot_id}.",
        maintenance,
    )
